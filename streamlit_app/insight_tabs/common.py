"""What every Insights tab shares: who reads in which language, the scope picker of the per-scope
marts, the one table helper every tab's tables go through, and the comments behind a chart."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd
import streamlit as st

from cxlake.access.roles import Principal, Scope
from streamlit_app import labels, widgets
from streamlit_app.data_access.comments import COMMENTS_SHOWN

PAGE = "insights"
# The comment tables' own columns, dropped or replaced before they are shown.
COUNT_COLUMN = "count_comments"
WORST_TOUCHPOINTS = "worst_touchpoints"


@dataclass(frozen=True)
class Tab:
    """What a tab draws with: the page's language, its words (shared and the tabs') and the user."""

    language: str
    text: Mapping[str, str]
    principal: Principal

    @property
    def scope(self) -> Scope:
        return self.principal.scope

    def too_few(self, n: object) -> str:
        """``n = 4, too few``: what stands where a small sample's figure would."""
        return labels.too_few(n, self.language)


def no_mart(tab: Tab, mart: str) -> None:
    st.info(tab.text["no_mart"].format(mart=f"`marts.{mart}`"))


def scope_words(tab: Tab, option: str, names: Mapping[str, str]) -> str:
    """``chain:chain``, ``region:R01``, ``store:S001`` as the picker shows them."""
    level, _, scope_id = option.partition(":")
    if level == "chain":
        return tab.text["chain"]
    name = labels.store_label(names.get(option, scope_id))
    return tab.text[f"{level}_option"].format(name=name, id=scope_id)


def pick_scope(tab: Tab, scopes: pd.DataFrame, label: str, key: str) -> tuple[str, str, str]:
    """A picker over the scopes a mart has rows for (``scope_level``, ``scope_id``, ``name``),
    starting on the user's own level: a store manager's store, a regional manager's region, the
    chain for everyone else. Returns the picked level, scope id and the words naming it."""
    options = [
        f"{level}:{scope_id}"
        for level, scope_id in zip(scopes["scope_level"], scopes["scope_id"], strict=True)
    ]
    names = dict(zip(options, scopes["name"], strict=True))
    own_level = {"all": "chain", "region": "region", "store": "store"}[tab.scope.kind]
    own = next((i for i, option in enumerate(options) if option.partition(":")[0] == own_level), 0)
    picked = st.selectbox(
        label, options, index=own, format_func=lambda option: scope_words(tab, option, names), key=key
    )
    level, _, scope_id = picked.partition(":")
    return level, scope_id, scope_words(tab, picked, names)


def table(
    tab: Tab, frame: pd.DataFrame, file_stem: str | None = None, headers: Mapping[str, str] | None = None
) -> None:
    """Every table of the tabs: its headers the page's ``col_<column>`` words where it has them,
    then ``headers``, then the labels module's; CSV and Excel downloads (audited at the click) when
    ``file_stem`` is given, with the same headers as the screen."""
    own = {column: tab.text[f"col_{column}"] for column in frame.columns if f"col_{column}" in tab.text}
    widgets.show_table(frame, file_stem, PAGE if file_stem else None, {**own, **(headers or {})})


def blank_below_n(
    tab: Tab, frame: pd.DataFrame, measures: list[str], n_column: str, reportable: pd.Series
) -> pd.DataFrame:
    """``frame`` with its ``measures`` left empty on the rows that are not ``reportable`` and a
    ``note`` saying "n = 4, too few" there: a figure below the minimum n is never shown."""
    hidden = pd.Series(~reportable.astype(bool).to_numpy(), index=frame.index)
    shown = frame.copy()
    shown[measures] = shown[measures].astype(float).mask(hidden, axis=0)
    shown["note"] = [tab.too_few(n) if h else "" for n, h in zip(shown[n_column], hidden, strict=True)]
    return shown


def show_comments(tab: Tab, comments: pd.DataFrame | None, note: str, file_stem: str) -> None:
    """The comments behind a chart (already the user's stores' and masked as their role needs,
    from :mod:`streamlit_app.data_access.comments`): what they are, how many, and the newest as a
    table with its downloads. Captions only: the tab's own sentences and notes stay what they were."""
    st.caption(note)
    if tab.scope.kind != "all":
        st.caption(tab.text["comments_own_stores"])
    st.caption(tab.text["comments_masked"])  # every role: contacts show only where customers are called
    if comments is None or comments.empty:
        st.caption(tab.text["no_comments"])
        return
    st.caption(tab.text["comments_count"].format(n=int(comments[COUNT_COLUMN].iloc[0]), limit=COMMENTS_SHOWN))
    shown = comments.drop(columns=[COUNT_COLUMN]).assign(
        store_name=comments["store_name"].map(labels.store_label)
    )
    worst = f"{WORST_TOUCHPOINTS}_{tab.language}"
    if worst in shown.columns:
        named = shown[worst]
        shown = shown.drop(columns=[f"{WORST_TOUCHPOINTS}_en", f"{WORST_TOUCHPOINTS}_zh"])
        shown.insert(shown.columns.get_loc("worst_csat") + 1, WORST_TOUCHPOINTS, named)
    table(tab, shown, file_stem)
