"""The Money tab's questions (Insights page): which scopes have figures, each scope's money
(marts.mart_experience_money) and what one more CSAT point brings (marts.mart_csat_revenue_effect).

Each returns None when the serving copy was published before its mart, so the page can say so.
The door already holds only the user's rows (the chain's, their regions' and their stores'); the
conditions below only pick among them.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from cxlake.access.roles import Scope
from cxlake.insights.money import EFFECT_COLUMNS, MONEY_COLUMNS
from streamlit_app.data_access import core
from streamlit_app.data_access.core import CACHE_TTL_SECONDS

MONEY_SCOPE_LEVELS = ("chain", "region", "store")


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def money_scopes(scope: Scope) -> pd.DataFrame | None:
    """The scopes of marts.mart_experience_money the user may pick: scope_level, scope_id, name
    (the region's or store's), chain first, then regions, then stores. None without the mart."""
    if not core.mart_published("mart_experience_money"):
        return None
    return core.frame(
        scope,
        "select m.scope_level, m.scope_id, coalesce(r.region_name, s.store_name, m.scope_id) as name"
        " from marts.mart_experience_money as m"
        " left join (select distinct region_id, region_name from marts.dim_store) as r"
        "   on m.scope_level = 'region' and r.region_id = m.scope_id"
        " left join marts.dim_store as s on m.scope_level = 'store' and s.store_id = m.scope_id"
        " order by case m.scope_level when 'chain' then 0 when 'region' then 1 else 2 end, m.scope_id",
        [],
    )


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def experience_money(scope: Scope, scope_level: str, scope_id: str) -> pd.DataFrame | None:
    """One scope's row of marts.mart_experience_money (empty when the scope is not the user's or
    has no row). None without the mart."""
    if scope_level not in MONEY_SCOPE_LEVELS:
        raise ValueError(f"scope_level must be one of {MONEY_SCOPE_LEVELS}, got {scope_level!r}")
    if not core.mart_published("mart_experience_money"):
        return None
    return core.frame(
        scope,
        f"select {', '.join(MONEY_COLUMNS)} from marts.mart_experience_money"
        " where scope_level = ? and scope_id = ?",
        [scope_level, scope_id],
    )


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def csat_revenue_effect(scope: Scope) -> pd.DataFrame | None:
    """marts.mart_csat_revenue_effect for the chain with the touchpoint's names (the id itself when
    it is no touchpoint): reportable rows first, most revenue per member first. None without the
    mart."""
    if not core.mart_published("mart_csat_revenue_effect"):
        return None
    columns = ", ".join(f"e.{column}" for column in EFFECT_COLUMNS)
    return core.frame(
        scope,
        f"select {columns}, coalesce(t.touchpoint_name_en, e.touchpoint) as touchpoint_name_en,"
        " coalesce(t.touchpoint_name_zh, e.touchpoint) as touchpoint_name_zh"
        " from marts.mart_csat_revenue_effect as e"
        " left join marts.dim_touchpoint as t on t.touchpoint_id = e.touchpoint"
        " where e.scope_level = 'chain'"
        " order by e.is_reportable desc, e.effect_per_member desc nulls last, e.touchpoint",
        [],
    )
