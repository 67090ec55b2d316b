"""The Insights page's peak-and-end questions: marts.mart_peak_end per scope and stage.

The door already holds only the user's rows (the chain's, their regions' and their stores'); the
conditions below only pick among them. Each question returns None when the serving copy was
published before the mart, so the page can say so.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from cxlake.access.roles import Scope
from cxlake.insights.peak_end import JOURNEY, MART_COLUMNS
from streamlit_app.data_access import core
from streamlit_app.data_access.core import CACHE_TTL_SECONDS

MART = "mart_peak_end"
SCOPE_LEVELS = ("chain", "region", "store")


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def peak_end_scopes(scope: Scope) -> pd.DataFrame | None:
    """The scopes of marts.mart_peak_end the user may pick: scope_level, scope_id, name (the
    region's or store's), chain first, then regions, then stores. None without the mart."""
    if not core.mart_published(MART):
        return None
    return core.frame(
        scope,
        "select distinct p.scope_level, p.scope_id,"
        " coalesce(r.region_name, s.store_name, p.scope_id) as name"
        " from marts.mart_peak_end as p"
        " left join (select distinct region_id, region_name from marts.dim_store) as r"
        "   on p.scope_level = 'region' and r.region_id = p.scope_id"
        " left join marts.dim_store as s on p.scope_level = 'store' and s.store_id = p.scope_id"
        " order by case p.scope_level when 'chain' then 0 when 'region' then 1 else 2 end, p.scope_id",
        [],
    )


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def peak_end_stages(scope: Scope, scope_level: str, scope_id: str) -> pd.DataFrame | None:
    """One scope's rows of marts.mart_peak_end, the whole journey first, then the stages in journey
    order, with the stage's and the lowest / last touchpoints' names (the code itself when the
    journey map has no name: the whole journey). Empty when the scope is not the user's. None
    without the mart."""
    if scope_level not in SCOPE_LEVELS:
        raise ValueError(f"scope_level must be one of {SCOPE_LEVELS}, got {scope_level!r}")
    if not core.mart_published(MART):
        return None
    columns = ", ".join(f"p.{column}" for column in MART_COLUMNS)
    return core.frame(
        scope,
        f"select {columns},"
        " coalesce(g.stage_name_en, p.stage) as stage_name_en,"
        " coalesce(g.stage_name_zh, p.stage) as stage_name_zh,"
        " coalesce(lo.touchpoint_name_en, p.lowest_touchpoint) as lowest_name_en,"
        " coalesce(lo.touchpoint_name_zh, p.lowest_touchpoint) as lowest_name_zh,"
        " coalesce(la.touchpoint_name_en, p.last_touchpoint) as last_name_en,"
        " coalesce(la.touchpoint_name_zh, p.last_touchpoint) as last_name_zh"
        " from marts.mart_peak_end as p"
        " left join (select distinct stage_id, stage_name_en, stage_name_zh, stage_order"
        "   from marts.dim_touchpoint) as g on g.stage_id = p.stage"
        " left join marts.dim_touchpoint as lo on lo.touchpoint_id = p.lowest_touchpoint"
        " left join marts.dim_touchpoint as la on la.touchpoint_id = p.last_touchpoint"
        " where p.scope_level = ? and p.scope_id = ?"
        " order by p.stage <> ?, g.stage_order, p.stage",
        [scope_level, scope_id, JOURNEY],
    )
