"""The Insights page's questions: key drivers, Kano, the churn watch list and experience value."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd
import streamlit as st

from cxlake.access.roles import Scope
from cxlake.access.serving_door import Reader
from cxlake.insights.drivers import MART_COLUMNS as DRIVER_MART_COLUMNS
from cxlake.insights.kano import MART_COLUMNS as KANO_MART_COLUMNS
from streamlit_app.data_access import core
from streamlit_app.data_access.core import CACHE_TTL_SECONDS

# -- insights
# The insight models' marts (issue 15): key drivers per chain / region / store, Kano verdicts on the
# chain's features, the churn watch list and the money of experience. Each question returns None
# when the serving copy was published before its mart, so the page can say so. The door already
# holds only the user's rows (key drivers and money: the chain's, their regions' and their stores';
# Kano: everyone's; churn: by store); the conditions below only pick among them.
INSIGHT_SCOPE_LEVELS = ("chain", "region", "store")
WATCH_LIST_COLUMNS = (
    "watch_list_rank", "store_id", "store_name", "customer_id", "customer_name", "phone",
    "member_tier", "churn_probability", "value_at_risk", "expected_spend_horizon",
    "days_since_last_purchase", "last_nps_score", "open_cases", "reason_1", "reason_2", "reason_3",
)  # fmt: skip
EXPERIENCE_VALUE_COLUMNS = (
    "scope_level", "scope_id", "nps_category", "window_days", "last_transaction_date", "count_members",
    "is_reportable", "avg_spend", "avg_spend_ci_low", "avg_spend_ci_high", "avg_visits",
    "avg_visits_ci_low", "avg_visits_ci_high", "repeat_rate", "repeat_rate_ci_low", "repeat_rate_ci_high",
)  # fmt: skip


@dataclass(frozen=True)
class DataSpan:
    """What the money mart's window is measured against: the transaction days in the user's scope."""

    first_day: date | None
    last_day: date | None


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def key_driver_scopes(scope: Scope) -> pd.DataFrame | None:
    """The scopes of marts.mart_key_drivers the user may pick: scope_level, scope_id, name (the
    region's or store's), chain first, then regions, then stores. None without the mart."""
    if not core.mart_published("mart_key_drivers"):
        return None
    return core.frame(
        scope,
        "select distinct k.scope_level, k.scope_id,"
        " coalesce(r.region_name, s.store_name, k.scope_id) as name"
        " from marts.mart_key_drivers as k"
        " left join (select distinct region_id, region_name from marts.dim_store) as r"
        "   on k.scope_level = 'region' and r.region_id = k.scope_id"
        " left join marts.dim_store as s on k.scope_level = 'store' and s.store_id = k.scope_id"
        " order by case k.scope_level when 'chain' then 0 when 'region' then 1 else 2 end, k.scope_id",
        [],
    )


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def key_drivers(scope: Scope, scope_level: str, scope_id: str) -> pd.DataFrame | None:
    """One scope's rows of marts.mart_key_drivers with the touchpoint's names (``driver`` itself
    when it is no touchpoint), most important first; rows marked not enough responses last. Empty
    when the scope is not the user's. None without the mart."""
    if scope_level not in INSIGHT_SCOPE_LEVELS:
        raise ValueError(f"scope_level must be one of {INSIGHT_SCOPE_LEVELS}, got {scope_level!r}")
    if not core.mart_published("mart_key_drivers"):
        return None
    columns = ", ".join(f"k.{column}" for column in DRIVER_MART_COLUMNS)
    return core.frame(
        scope,
        f"select {columns}, coalesce(t.touchpoint_name_en, k.driver) as driver_name_en,"
        " coalesce(t.touchpoint_name_zh, k.driver) as driver_name_zh"
        " from marts.mart_key_drivers as k"
        " left join marts.dim_touchpoint as t on t.touchpoint_id = k.driver"
        " where k.scope_level = ? and k.scope_id = ?"
        " order by k.relative_weight desc nulls last, k.driver",
        [scope_level, scope_id],
    )


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def kano_features(scope: Scope) -> pd.DataFrame | None:
    """marts.mart_kano, one row per feature (its category as ``kano_category``, so it is not read
    as an NPS category), reportable features first, most Better first. None without the mart."""
    if not core.mart_published("mart_kano"):
        return None
    columns = ", ".join(
        "category as kano_category" if column == "category" else column for column in KANO_MART_COLUMNS
    )
    return core.frame(
        scope,
        f"select {columns} from marts.mart_kano order by is_reportable desc, better desc nulls last, feature",
        [],
    )


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def churn_watch_list(
    scope: Scope, sees_pii: bool, store_id: str | None = None, language: str = "en"
) -> pd.DataFrame | None:
    """marts.mart_churn_risk's watch-listed members in scope (of ``store_id`` when given) with their
    store's name and their name and phone from marts.dim_customer (masked by the door unless
    ``sees_pii``), most value at risk first, the reasons in ``language`` (a copy published before
    the mart had Chinese reasons gives the English ones). None without the mart."""
    if not core.mart_published("mart_churn_risk"):
        return None
    store_sql = "true" if store_id is None else "c.store_id = ?"
    suffix = (
        "_zh" if language == "zh" and "reason_1_zh" in core.columns_of("marts", "mart_churn_risk") else ""
    )
    reasons = ", ".join(f"c.reason_{k}{suffix} as reason_{k}" for k in (1, 2, 3))
    return core.frame(
        Reader(scope, sees_pii, follow_up=True),
        "select c.watch_list_rank, c.store_id, s.store_name, c.customer_id, d.customer_name, d.phone,"
        " c.member_tier, c.churn_probability, c.value_at_risk, c.expected_spend_horizon,"
        f" c.days_since_last_purchase, c.last_nps_score, c.open_cases, {reasons}"
        " from marts.mart_churn_risk as c"
        " left join marts.dim_customer as d on d.customer_id = c.customer_id"
        " left join marts.dim_store as s on s.store_id = c.store_id"
        f" where c.is_watch_listed and {store_sql}"
        " order by c.value_at_risk desc, c.store_id, c.customer_id",
        [] if store_id is None else [store_id],
    )[list(WATCH_LIST_COLUMNS)]


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def experience_value(scope: Scope) -> pd.DataFrame | None:
    """marts.mart_experience_value, every scope the door shows the user (the chain, their regions
    and stores; the Money tab picks one): chain first, then regions, then stores, promoters,
    passives, detractors in that order. None without the mart."""
    if not core.mart_published("mart_experience_value"):
        return None
    return core.frame(
        scope,
        f"select {', '.join(EXPERIENCE_VALUE_COLUMNS)} from marts.mart_experience_value"
        " order by case scope_level when 'chain' then 0 when 'region' then 1 else 2 end, scope_id,"
        " case nps_category when 'promoter' then 0 when 'passive' then 1 else 2 end",
        [],
    )


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def transaction_span(scope: Scope) -> DataSpan:
    """The first and last transaction day in scope: what an empty money mart's window did not fit."""
    ((first_day, last_day),) = core.rows(
        scope, "select min(transaction_date), max(transaction_date) from marts.fct_transactions", []
    )
    return DataSpan(first_day, last_day)
