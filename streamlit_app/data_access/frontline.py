"""The Frontline tab's questions: each staff member's CSAT and the comments that name them.

Both marts carry store_id and region_id, so the user's door already holds only their stores' staff
(a store manager's own store) and masks names for roles without PII rights; the conditions below
only pick a store or a staff member among them. Each question returns None when the serving copy
was published before the frontline marts, so the page can say so.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from cxlake.access.roles import Scope
from cxlake.access.serving_door import Reader
from streamlit_app.data_access import core
from streamlit_app.data_access.core import CACHE_TTL_SECONDS

MENTION_COLUMNS = ("responded_at", "channel", "mention_sentiment", "comment", "response_key")
# A page never shows more of one person's comments than this, newest first.
MENTIONS_SHOWN = 200


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def frontline_staff(scope: Scope, sees_pii: bool, store_id: str) -> pd.DataFrame | None:
    """marts.mart_frontline_staff's rows of ``store_id``'s staff (if in scope) with the touchpoint
    names, in roster order (staff id) and journey order: never by score, so the table
    is no ranking. None without the mart."""
    if not core.mart_published("mart_frontline_staff"):
        return None
    return core.frame(
        Reader(scope, sees_pii),
        "select f.staff_id, f.staff_name, f.staff_role, f.store_id, s.store_name, f.touchpoint_id,"
        " t.touchpoint_name_en, t.touchpoint_name_zh, f.n_ratings, f.is_reportable, f.csat_mean,"
        " f.ci_low, f.ci_high, f.top2_share, f.n_suspect_ratings, f.has_suspect_answers,"
        " f.praise_mentions, f.complaint_mentions"
        " from marts.mart_frontline_staff as f"
        " left join marts.dim_store as s on s.store_id = f.store_id"
        " left join marts.dim_touchpoint as t on t.touchpoint_id = f.touchpoint_id"
        " where f.store_id = ?"
        " order by f.staff_id, t.stage_order, t.touchpoint_order, f.touchpoint_id",
        [store_id],
    )


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def frontline_stores(scope: Scope) -> pd.DataFrame | None:
    """The stores in scope that have staff in marts.mart_frontline_staff (store_id, store_name).
    None without the mart."""
    if not core.mart_published("mart_frontline_staff"):
        return None
    return core.frame(
        scope,
        "select distinct f.store_id, coalesce(s.store_name, f.store_id) as store_name"
        " from marts.mart_frontline_staff as f left join marts.dim_store as s on s.store_id = f.store_id"
        " order by f.store_id",
        [],
    )


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def staff_mentions(scope: Scope, sees_pii: bool, staff_id: str) -> pd.DataFrame | None:
    """The comments naming ``staff_id`` (if in scope), newest first, at most MENTIONS_SHOWN, the
    comment masked as the role needs. None without marts.fct_staff_mentions."""
    if not core.mart_published("fct_staff_mentions"):
        return None
    return core.frame(
        Reader(scope, sees_pii),
        f"select {', '.join(MENTION_COLUMNS)} from marts.fct_staff_mentions where staff_id = ?"
        " order by responded_at desc, response_key limit ?",
        [staff_id, MENTIONS_SHOWN],
    )
