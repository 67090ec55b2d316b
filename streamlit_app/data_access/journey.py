"""The Journey page's questions: experience along the journey map, beside the operations measured
at each touchpoint, and the invitation funnel."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from cxlake.access.roles import Scope
from cxlake.contracts import OPERATIONAL_MEASURES
from cxlake.contracts import POS_EVENT_FLAGS as POS_EVENT_MEASURES
from cxlake.invitations import RULES as INVITATION_RULES
from cxlake.metrics import nps_from_counts, settings
from streamlit_app.data_access import core
from streamlit_app.data_access.core import CACHE_TTL_SECONDS, Filters

# --- Journey: experience along the journey map, beside operations ---------------------------------
# marts.fct_journeys has one csat_<touchpoint_id> column per journey-map touchpoint. UNPIVOT over
# COLUMNS('^csat_') turns them into rows with constant SQL, so a touchpoint added to the map is read
# with no code edit; marts.dim_touchpoint says which touchpoints and stages exist and in what order.
# Dates here are journey (purchase) days: the ratings belong to the purchase they rate.

# Operational measures the X+O view can put beside a touchpoint (cxlake.contracts, the list the
# journey map may name and the mart sums): a column group of marts.fct_touchpoint_daily (count_<m>,
# sum_<m>, sum_squares_<m>; the orders of the touchpoint's channels per day x store x channel) and
# how it rolls up: the mean of a quantity over the orders, or the share of orders with a flag. Both
# are sums over the mart's rows, so every sidebar filter is a sum; medians are not offered because
# the medians of days do not add up to the median of a period. POS_EVENT_MEASURES: the POS events a
# touchpoint may list (dim_touchpoint.pos_events, comma-joined) and the flag that measures each.
TOUCHPOINT_DAILY = "marts.fct_touchpoint_daily"


def _journey_ratings(scope: Scope, filters: Filters) -> tuple[str, list[object]]:
    """CTEs ``journeys`` (in scope and filters) and ``ratings`` (one row per countable CSAT answer)."""
    where, params = core.scoped_filters(scope, filters, "journey_date")
    return (
        f"with journeys as (select * from marts.fct_journeys where {where}),"
        " ratings as (select journey_id, store_id, nps_category,"
        " substr(touchpoint_column, length('csat_') + 1) as touchpoint_id, csat"
        " from (unpivot (select journey_id, store_id, nps_category, columns('^csat_') from journeys"
        " where is_countable_response) on columns('^csat_') into name touchpoint_column value csat))",
        params,
    )


def _configured_measures(operational_metric: object, pos_events: object) -> tuple[str, ...]:
    """The journey map's operational metric, then its POS events' flags, as known measures only."""
    events = pos_events.split(",") if isinstance(pos_events, str) else []
    candidates = [operational_metric, *(POS_EVENT_MEASURES.get(event.strip()) for event in events)]
    return tuple(dict.fromkeys(m for m in candidates if isinstance(m, str) and m in OPERATIONAL_MEASURES))


def _with_top2_share(frame: pd.DataFrame) -> pd.DataFrame:
    """Top-2-box share from the counts (missing, not 0, where nothing was rated)."""
    rated = frame["n"] > 0
    return frame.assign(top2_share=(frame["top_box"] / frame["n"].where(rated)).astype("float64"))


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def journey_touchpoints(scope: Scope, filters: Filters) -> pd.DataFrame:
    """One row per touchpoint of marts.dim_touchpoint in journey order: its stage, ``measures`` (the
    operational measures the journey map pairs with it) and CSAT counts n, top_box, mean_csat,
    top2_share (0..1)."""
    ratings, params = _journey_ratings(scope, filters)
    touchpoints = core.frame(
        scope,
        f"{ratings}, counts as (select touchpoint_id, count(*) as n,"
        " count(*) filter (where csat >= ?) as top_box, avg(csat) as mean_csat"
        " from ratings group by touchpoint_id)"
        " select t.touchpoint_id, t.touchpoint_name_zh, t.touchpoint_name_en, t.stage_id,"
        " t.stage_name_zh, t.stage_name_en, t.stage_order, t.touchpoint_order,"
        " t.operational_metric, t.pos_events,"
        " coalesce(c.n, 0) as n, coalesce(c.top_box, 0) as top_box, c.mean_csat"
        " from marts.dim_touchpoint as t left join counts as c on c.touchpoint_id = t.touchpoint_id"
        " order by t.stage_order, t.touchpoint_order",
        [*params, settings().csat_top_box_min],
    )
    measures = [
        _configured_measures(metric, events)
        for metric, events in zip(touchpoints["operational_metric"], touchpoints["pos_events"], strict=True)
    ]
    return _with_top2_share(touchpoints.drop(columns=["operational_metric", "pos_events"])).assign(
        measures=measures
    )


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def journey_stages(scope: Scope, filters: Filters) -> pd.DataFrame:
    """One row per stage with touchpoints, in journey order: ratings and mean_csat over its
    touchpoints (the emotion curve), and NPS counts with interval of the journeys that rated it.

    Every survey rates touchpoints of several stages, so the NPS of "journeys that rated the stage"
    barely differs between stages. What tells stages apart is the loyalty a stage costs when it
    disappoints: the same counts are split into journeys satisfied with every touchpoint of the
    stage they rated (top-2-box) and journeys that were not (columns ``*_satisfied`` and
    ``*_unsatisfied``: promoters, passives, detractors, n, nps, ci_low, ci_high).
    """
    ratings, params = _journey_ratings(scope, filters)
    stages = core.frame(
        scope,
        f"{ratings}, staged as (select t.stage_id, r.journey_id, r.nps_category, r.csat"
        " from ratings as r join marts.dim_touchpoint as t on t.touchpoint_id = r.touchpoint_id),"
        " experience as (select stage_id, count(*) as ratings, avg(csat) as mean_csat"
        " from staged group by stage_id),"
        " respondents as (select stage_id, journey_id, any_value(nps_category) as nps_category,"
        " bool_and(csat >= ?) as satisfied from staged group by stage_id, journey_id),"
        f" recommend as (select stage_id, {core.NPS_COUNTS},"
        f" {_nps_counts_where('satisfied', '_satisfied')},"
        f" {_nps_counts_where('not satisfied', '_unsatisfied')}"
        " from respondents group by stage_id),"
        " stages as (select stage_id, any_value(stage_name_zh) as stage_name_zh,"
        " any_value(stage_name_en) as stage_name_en, min(stage_order) as stage_order"
        " from marts.dim_touchpoint group by stage_id)"
        " select s.stage_id, s.stage_name_zh, s.stage_name_en, s.stage_order,"
        " coalesce(e.ratings, 0) as ratings, e.mean_csat, n.* exclude (stage_id)"
        " from stages as s left join experience as e on e.stage_id = s.stage_id"
        " left join recommend as n on n.stage_id = s.stage_id order by s.stage_order",
        [*params, settings().csat_top_box_min],
    )
    for suffix in ("", "_satisfied", "_unsatisfied"):
        counts = [f"{kind}{suffix}" for kind in ("promoters", "passives", "detractors")]
        stages[counts] = stages[counts].fillna(0).astype("int64")
        results = [nps_from_counts(*map(int, row)) for row in stages[counts].itertuples(index=False)]
        stages[f"n{suffix}"] = [r.n for r in results]
        stages[f"nps{suffix}"] = [r.nps for r in results]
        stages[f"ci_low{suffix}"] = [r.ci_low for r in results]
        stages[f"ci_high{suffix}"] = [r.ci_high for r in results]
    return stages


_NPS_CATEGORIES = (("promoter", "promoters"), ("passive", "passives"), ("detractor", "detractors"))


def _nps_counts_where(condition: str, suffix: str) -> str:
    """Promoter / passive / detractor counts of the rows meeting a constant SQL condition."""
    return ", ".join(
        f"count(*) filter (where nps_category = '{category}' and {condition}) as {plural}{suffix}"
        for category, plural in (
            ("promoter", "promoters"),
            ("passive", "passives"),
            ("detractor", "detractors"),
        )
    )


def _checked(measure: str) -> str:
    """The measure, once known to be allow-listed: its name becomes a column name, never user text."""
    if measure not in OPERATIONAL_MEASURES:
        raise ValueError(f"measure must be one of {tuple(OPERATIONAL_MEASURES)}, got {measure!r}")
    return measure


def _has_operations() -> bool:
    """False on a serving copy published before fct_touchpoint_daily carried the order sums: the
    page then shows no operations until the next run publishes them."""
    return "count_orders" in core.columns_of("marts", "fct_touchpoint_daily")


def _operations_where(scope: Scope, filters: Filters) -> tuple[str, list[object]]:
    """The filters over the mart's order rows (order day = journey day; rows of ratings only, with
    no order, left out, so a touchpoint or store appears where it had orders, as on fct_journeys)."""
    where, params = core.scoped_filters(scope, filters, "date_day")
    return f"{where} and count_orders > 0", params


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def touchpoint_operations(scope: Scope, filters: Filters) -> pd.DataFrame:
    """One row per touchpoint with orders in scope (index touchpoint_id), one column per operational
    measure: the mean, or the share for a flag, over the orders in the touchpoint's channels."""
    if not _has_operations():
        return pd.DataFrame(columns=list(OPERATIONAL_MEASURES), index=pd.Index([], name="touchpoint_id"))
    where, params = _operations_where(scope, filters)
    sums = ", ".join(f"sum(count_{m}) as count_{m}, sum(sum_{m}) as sum_{m}" for m in OPERATIONAL_MEASURES)
    sums_frame = core.frame(
        scope,
        f"select touchpoint_id, {sums} from {TOUCHPOINT_DAILY} where {where} group by touchpoint_id",
        params,
    ).set_index("touchpoint_id")
    return pd.DataFrame(
        {m: _ratio(sums_frame[f"sum_{m}"], sums_frame[f"count_{m}"]) for m in OPERATIONAL_MEASURES},
        index=sums_frame.index,
    )


def _ratio(total: pd.Series, n: pd.Series) -> pd.Series:
    """Sum over count as float, missing where nothing was counted."""
    return (total.astype("float64") / n.astype("float64").where(n > 0)).astype("float64")


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def experience_vs_operations(
    scope: Scope, filters: Filters, touchpoint_id: str, measure: str
) -> pd.DataFrame:
    """The X+O view: one row per store with orders in scope in the touchpoint's channels, the
    touchpoint's CSAT counts from the journeys (n, top_box, mean_csat, top2_share) beside the
    operational measure from marts.fct_touchpoint_daily: operational_n, operational_value (mean,
    or share of a flag) and, for a quantity, operational_sd (sample standard deviation)."""
    measure = _checked(measure)
    columns = ["store_id", "store_name", "n", "top_box", "mean_csat", "operational_n", "operational_value"]
    quantity = OPERATIONAL_MEASURES[measure] == "mean"  # a quantity has a spread, a flag's share none
    columns += ["operational_sd"] if quantity else []
    if not _has_operations():
        return _with_top2_share(pd.DataFrame(columns=columns).astype({"n": "int64", "top_box": "int64"}))
    ratings, params = _journey_ratings(scope, filters)
    operations_where, operations_params = _operations_where(scope, filters)
    squares = f", sum(sum_squares_{measure}) as operational_sum_squares" if quantity else ""
    stores = core.frame(
        scope,
        f"{ratings}, experience as (select store_id, count(*) as n,"
        " count(*) filter (where csat >= ?) as top_box, avg(csat) as mean_csat"
        " from ratings where touchpoint_id = ? group by store_id),"
        f" operations as (select store_id, sum(count_{measure}) as operational_n,"
        f" sum(sum_{measure}) as operational_sum{squares}"
        f" from {TOUCHPOINT_DAILY} where {operations_where} and touchpoint_id = ? group by store_id)"
        " select o.*, s.store_name, coalesce(e.n, 0) as n, coalesce(e.top_box, 0) as top_box, e.mean_csat"
        " from operations as o join marts.dim_store as s on s.store_id = o.store_id"
        " left join experience as e on e.store_id = o.store_id order by o.store_id",
        [*params, settings().csat_top_box_min, touchpoint_id, *operations_params, touchpoint_id],
    )
    n = stores["operational_n"].astype("float64")
    stores = stores.assign(
        operational_n=stores["operational_n"].astype("int64"),
        operational_value=_ratio(stores["operational_sum"], stores["operational_n"]),
    )
    if quantity:
        total = stores["operational_sum"].astype("float64")
        sum_squares = stores["operational_sum_squares"].astype("float64")
        variance = ((sum_squares - total * total / n.where(n > 0)) / (n - 1).where(n > 1)).clip(lower=0.0)
        stores = stores.assign(operational_sd=variance.pow(0.5))
    return _with_top2_share(stores[columns])


# The invitation funnel's steps in order (marts.mart_invitation_funnel's count_<step> columns):
# transactions considered, eligible, invited, suppressed by each contact-frequency rule, answered.
INVITATION_STEPS = (
    "transactions", "eligible", "invited", *(f"suppressed_{rule}" for rule in INVITATION_RULES), "responses",
)  # fmt: skip


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def invitation_funnel(scope: Scope, filters: Filters) -> pd.DataFrame:
    """One row per step of :data:`INVITATION_STEPS` (step, count) over the purchase days, stores and
    channels in scope; no rows when the serving copy predates the funnel mart."""
    if not core.columns_of("marts", "mart_invitation_funnel"):
        return pd.DataFrame({"step": pd.Series(dtype="string"), "count": pd.Series(dtype="int64")})
    where, params = core.scoped_filters(scope, filters, "date_day")
    sums = ", ".join(f"coalesce(sum(count_{step}), 0) as {step}" for step in INVITATION_STEPS)
    ((*counts,),) = core.rows(scope, f"select {sums} from marts.mart_invitation_funnel where {where}", params)
    return pd.DataFrame({"step": list(INVITATION_STEPS), "count": [int(c) for c in counts]})
