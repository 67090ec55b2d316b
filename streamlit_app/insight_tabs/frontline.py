"""The Frontline tab: a manager's staff, to thank and coach (marts.mart_frontline_staff).

Per staff member of the picked store, in roster order (never a ranking): the CSAT of the orders they
served with its interval (below the reportable n only the n), praise and complaint counts and an
integrity note; for the picked one, the CSAT of every touchpoint and the comments that name them,
which are the comments behind their figures (marts.fct_staff_mentions, masked by the door for roles
without PII rights). The door holds only the user's stores' staff.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from cxlake.metrics import settings as metric_settings
from streamlit_app import labels
from streamlit_app.data_access import frontline as frontline_access
from streamlit_app.insight_tabs.common import Tab, no_mart, table

KEY_FRONTLINE_STORE = "insights_frontline_store"
KEY_FRONTLINE_STAFF = "insights_frontline_staff"
# The tab's tables' columns -> the words heading them.
HEADERS = {
    "staff_name": "fl_staff_name", "staff_id": "fl_staff_id", "role": "fl_role",
    "staff_csat": "fl_staff_csat", "n": "fl_n", "praise": "fl_praise", "complaints": "fl_complaints",
    "integrity": "fl_integrity", "touchpoint": "fl_touchpoint", "csat": "fl_csat", "top2": "fl_top2",
    "responded_at": "fl_when", "channel": "fl_channel", "mention": "fl_mention", "comment": "fl_comment",
}  # fmt: skip
# The touchpoint a staff member answers for most directly: their row in the staff table.
STAFF_TOUCHPOINT = "staff"


def csat_words(tab: Tab, row: pd.Series) -> str:
    """A staff member's CSAT with its interval, or only its n when there are too few answers."""
    if not row["is_reportable"] or pd.isna(row["csat_mean"]):
        return tab.too_few(row["n_ratings"])
    return tab.text["csat_with_ci"].format(mean=row["csat_mean"], low=row["ci_low"], high=row["ci_high"])


def show(tab: Tab) -> None:
    """The picked store's staff, then one staff member's CSAT per touchpoint and the comments naming them."""
    stores = frontline_access.frontline_stores(tab.scope)
    if stores is None:
        no_mart(tab, "mart_frontline_staff")
        return
    if stores.empty:
        st.info(tab.text["no_frontline_rows"])
        return
    names = dict(zip(stores["store_id"], stores["store_name"], strict=True))
    store_id = st.selectbox(
        tab.text["frontline_store"],
        list(names),
        format_func=lambda store: f"{labels.store_label(names[store])} ({store})",
        key=KEY_FRONTLINE_STORE,
    )
    rows = frontline_access.frontline_staff(tab.scope, tab.principal.sees_pii, store_id)
    st.caption(tab.text["frontline_note"].format(min=metric_settings().min_responses))
    st.subheader(
        tab.text["frontline_staff_title"].format(store=labels.store_label(names[store_id])), anchor=False
    )
    own = rows[rows["touchpoint_id"] == STAFF_TOUCHPOINT]
    staff = pd.DataFrame(
        {
            "staff_name": own["staff_name"],
            "staff_id": own["staff_id"],
            "role": own["staff_role"],
            "staff_csat": [csat_words(tab, row) for _, row in own.iterrows()],
            "n": own["n_ratings"],
            "praise": own["praise_mentions"],
            "complaints": own["complaint_mentions"],
            "integrity": [tab.text["fl_suspect"] if flag else "" for flag in own["has_suspect_answers"]],
        }
    )
    headers = {column: tab.text[key] for column, key in HEADERS.items()}
    table(tab, staff, f"insights_frontline_{store_id}", headers)
    picked = st.selectbox(
        tab.text["frontline_pick"],
        list(own["staff_id"]),
        format_func=lambda staff_id: f"{own.set_index('staff_id').at[staff_id, 'staff_name']} ({staff_id})",
        key=KEY_FRONTLINE_STAFF,
    )
    if picked is None:
        return
    theirs = rows[rows["staff_id"] == picked]
    name = str(theirs["staff_name"].iloc[0])
    st.subheader(tab.text["frontline_touchpoints_title"].format(name=name), anchor=False)
    touchpoints = pd.DataFrame(
        {
            "touchpoint": theirs[f"touchpoint_name_{tab.language}"].fillna(theirs["touchpoint_id"]),
            "csat": [csat_words(tab, row) for _, row in theirs.iterrows()],
            "n": theirs["n_ratings"],
            "top2": [
                "" if pd.isna(share) or not ok else round(share * 100, 1)
                for share, ok in zip(theirs["top2_share"], theirs["is_reportable"], strict=True)
            ],
        }
    )
    table(tab, touchpoints, None, headers)
    st.subheader(tab.text["frontline_comments_title"].format(name=name), anchor=False)
    mentions = frontline_access.staff_mentions(tab.scope, tab.principal.sees_pii, picked)
    if mentions is None or mentions.empty:
        st.info(tab.text["no_mentions"].format(name=name))
        return
    shown = pd.DataFrame(
        {
            "responded_at": mentions["responded_at"],
            "mention": [tab.text[f"mention_{word}"] for word in mentions["mention_sentiment"]],
            "comment": mentions["comment"],
            "channel": mentions["channel"],
        }
    )
    table(tab, shown, f"insights_frontline_comments_{picked}", headers)
