"""The Overview page's questions: headline NPS / CSAT / CES, their changes against earlier periods,
the splits of a change, targets, the trend and the score distribution. NPS and CES sum
marts.fct_nps_daily, CSAT marts.fct_csat_daily, so every sidebar filter is a sum of mart rows."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Literal

import pandas as pd
import streamlit as st

from cxlake.access.roles import Scope
from cxlake.metrics import MeanSummary, NpsResult, nps_category, nps_from_counts
from cxlake.targets import load_targets
from streamlit_app.data_access import core
from streamlit_app.data_access.core import (
    CACHE_TTL_SECONDS,
    CSAT_DAILY,
    NPS_DAILY,
    TREND_GRAINS,
    Filters,
    filter_options,
    previous_period,
)


def nps_summary(scope: Scope, filters: Filters) -> NpsResult:
    """NPS with its interval from the promoter / passive / detractor counts in scope (counted with
    the period's other headline counts, :func:`headline_counts`)."""
    return headline_counts(scope, filters).nps


# -- period changes: what the headline tiles compare the picked period with -----------------------
# The tiles compare the picked period with the one of equal length just before it and with the same
# days a year earlier, each only when the responses in view reach back over the whole of it (a
# half-covered period would compare different weeks). A comparison period's counts come from the
# very functions that count the picked period (nps_summary, csat_by_touchpoint, ces_summary), so it
# cannot be scoped or filtered differently; changes, tests and the mix / rate split are
# cxlake.metrics' (the page passes these counts to it).
COMPARISONS = ("previous", "last_year")
# The CSAT frame's columns (top2_share is added in pandas).
CSAT_COLUMNS = (
    "touchpoint_id", "touchpoint_name_zh", "touchpoint_name_en", "stage_name_zh", "stage_name_en",
    "n", "top_box", "mean_csat",
)  # fmt: skip
CHANGE_SEGMENTS = ("channel", "store", "member_tier")
NON_MEMBER = "non_member"  # fct_nps_daily.member_tier of answers without a member behind them
_SEGMENT_SQL = {"channel": "coalesce(channel, 'unknown')", "store": "store_id", "member_tier": "member_tier"}


@dataclass(frozen=True)
class HeadlineCounts:
    """One period's counts behind the headline tiles: NPS, CES and CSAT per touchpoint (the frame of
    :func:`csat_by_touchpoint`: touchpoint_id, names, n, top_box, top2_share, mean_csat)."""

    period: Filters
    nps: NpsResult
    ces: MeanSummary
    csat: pd.DataFrame


@dataclass(frozen=True)
class ViewTargets:
    """The targets of what a view shows (metric -> target) and whose they are."""

    level: Literal["chain", "region", "store"]
    entity_id: str | None
    targets: dict[str, float]


def same_period_last_year(filters: Filters) -> Filters | None:
    """The filters' days one year earlier (29 February -> 28th). None unless both dates are set, or
    for a period of a year or more (the year before would overlap it)."""
    if filters.date_from is None or filters.date_to is None:
        return None
    if filters.date_to - filters.date_from >= timedelta(days=365):
        return None
    return replace(
        filters, date_from=_year_earlier(filters.date_from), date_to=_year_earlier(filters.date_to)
    )


def _year_earlier(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def ces_summary(scope: Scope, filters: Filters) -> MeanSummary:
    """n, mean and sample variance of the countable CES answers on the configured scale (answers off
    it ignored, as dbt's ``in_scale`` does), what a Welch test of two periods needs (counted with the
    period's other headline counts, :func:`headline_counts`)."""
    return headline_counts(scope, filters).ces


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def headline_counts(scope: Scope, filters: Filters) -> HeadlineCounts:
    """The counts of every headline tile for the filters' period, in one statement: NPS and CES
    summed from marts.fct_nps_daily, CSAT per touchpoint from marts.fct_csat_daily (the frame of
    :func:`csat_by_touchpoint`). The page's NPS, CES and CSAT and every comparison period's read
    this one function, so a comparison cannot be scoped or filtered differently."""
    where, params = core.daily_where(scope, filters)
    counts = core.frame(
        scope,
        f"with answers as (select {core.NPS_SUMS},"
        " coalesce(sum(count_ces), 0)::bigint as ces_n, sum(sum_ces) as ces_total,"
        f" sum(sum_squares_ces) as ces_squares from {NPS_DAILY} where {where}),"
        " ratings as ("
        " select touchpoint_id, sum(count_ratings)::bigint as n, sum(count_top_box)::bigint as top_box,"
        " sum(sum_csat)::double / nullif(sum(count_ratings), 0) as mean_csat"
        f" from {CSAT_DAILY} where {where} group by touchpoint_id),"
        " touchpoints as (select t.touchpoint_id, t.touchpoint_name_zh, t.touchpoint_name_en,"
        " t.stage_name_zh, t.stage_name_en, t.stage_order, t.touchpoint_order,"
        " coalesce(r.n, 0) as n, coalesce(r.top_box, 0) as top_box, r.mean_csat"
        " from marts.dim_touchpoint as t left join ratings as r on r.touchpoint_id = t.touchpoint_id)"
        # one row per touchpoint, each with the period's NPS and CES; one row without a touchpoint
        # when the journey map has none, so the NPS and CES are still there
        " select a.*, t.* exclude (stage_order, touchpoint_order) from answers as a"
        " left join touchpoints as t on true order by t.stage_order, t.touchpoint_order",
        [*params, *params],
    )
    first = counts.iloc[0]
    nps = nps_from_counts(int(first["promoters"]), int(first["passives"]), int(first["detractors"]))
    n, total, squares = int(first["ces_n"]), first["ces_total"], first["ces_squares"]
    mean = total / n if n else None
    variance = (squares - total * total / n) / (n - 1) if n > 1 else None
    ces = MeanSummary(n, mean, None if variance is None else max(variance, 0.0))
    csat = counts.loc[counts["touchpoint_id"].notna(), list(CSAT_COLUMNS)].reset_index(drop=True)
    rated = csat["n"] > 0
    csat["top2_share"] = (csat["top_box"] / csat["n"].where(rated)).astype("float64")
    return HeadlineCounts(filters, nps, ces, csat)


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def headline_comparisons(scope: Scope, filters: Filters) -> dict[str, HeadlineCounts]:
    """Comparison (a name in :data:`COMPARISONS`) -> its period's headline counts, only for periods
    with an answer that the answers in scope and in the region / store / channel filters cover from
    their first day. Empty unless both dates are set."""
    periods = {"previous": previous_period(filters), "last_year": same_period_last_year(filters)}
    where, params = core.daily_where(scope, replace(filters, date_from=None, date_to=None))
    ((first_day,),) = core.rows(scope, f"select min(date_day) from {NPS_DAILY} where {where}", params)
    compared = {}
    for kind, period in periods.items():
        if period is None or first_day is None or first_day > period.date_from:
            continue
        counts = headline_counts(scope, period)
        if counts.nps.n or counts.ces.n or counts.csat["n"].sum():
            compared[kind] = counts
    return compared


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def nps_segment_counts(scope: Scope, filters: Filters, segment: str) -> pd.DataFrame:
    """One row per segment with NPS answers: segment, promoters, passives, detractors. A segment is
    a channel, a store id or a member tier (:data:`NON_MEMBER` for answers without a member), the
    input of :func:`cxlake.metrics.nps_shift_share`."""
    if segment not in CHANGE_SEGMENTS:
        raise ValueError(f"segment must be one of {CHANGE_SEGMENTS}, got {segment!r}")
    where, params = core.daily_where(scope, filters)
    return core.frame(
        scope,
        f"select {_SEGMENT_SQL[segment]} as segment, {core.NPS_SUMS} from {NPS_DAILY}"
        f" where {where} and count_responses > 0 group by segment order by segment",
        params,
    )


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def view_targets(scope: Scope, filters: Filters) -> ViewTargets:
    """The targets of the stores in view (scope, then region / store filters): one store's own, the
    region's when they share one region, else the chain's (cxlake/config/targets.yaml)."""
    store_regions = filter_options(scope).store_regions
    stores = [
        store
        for store, region in store_regions.items()
        if (not filters.store_ids or store in filters.store_ids)
        and (not filters.region_ids or region in filters.region_ids)
    ]
    regions = {store_regions[store] for store in stores}
    targets = load_targets()
    if len(stores) == 1:
        (store,) = stores
        return ViewTargets("store", store, targets.for_store(store, store_regions[store]))
    if len(regions) == 1:
        (region,) = regions
        return ViewTargets("region", region, targets.for_region(region))
    return ViewTargets("chain", None, targets.for_chain())


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def nps_trend(scope: Scope, filters: Filters, grain: str = "week") -> pd.DataFrame:
    """One row per period: counts, n, nps, ci_low, ci_high (periods without responses are absent)."""
    if grain not in TREND_GRAINS:
        raise ValueError(f"grain must be one of {TREND_GRAINS}, got {grain!r}")
    where, params = core.daily_where(scope, filters)
    trend = core.frame(
        scope,
        f"select cast(date_trunc(?, date_day) as date) as period, {core.NPS_SUMS}"
        f" from {NPS_DAILY} where {where} and count_responses > 0 group by period order by period",
        [grain, *params],
    )
    results = [
        nps_from_counts(int(p), int(pa), int(d))
        for p, pa, d in zip(trend["promoters"], trend["passives"], trend["detractors"], strict=True)
    ]
    return trend.assign(
        n=[r.n for r in results],
        nps=[r.nps for r in results],
        ci_low=[r.ci_low for r in results],
        ci_high=[r.ci_high for r in results],
    )


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def score_distribution(scope: Scope, filters: Filters) -> pd.DataFrame:
    """Eleven rows, scores 0..10 (zero-filled): score, responses, category."""
    where, params = core.where(scope, filters)
    counts = dict(
        core.rows(
            scope,
            "select nps_score, count(*) from marts.fct_survey_responses"
            f" where {where} and nps_score between 0 and 10 group by nps_score",
            params,
        )
    )
    scores = range(11)
    return pd.DataFrame(
        {
            "score": list(scores),
            "responses": [int(counts.get(score, 0)) for score in scores],
            "category": [nps_category(score) for score in scores],
        }
    )


def csat_by_touchpoint(scope: Scope, filters: Filters) -> pd.DataFrame:
    """One row per touchpoint in journey order: names, n, top_box, top2_share (0..1), mean_csat,
    summed from marts.fct_csat_daily (countable responses' ratings on the scale; counted with the
    period's other headline counts, :func:`headline_counts`).

    Touchpoints without ratings in scope keep their row (n = 0, share and mean missing), so the
    journey reads the same for every user.
    """
    return headline_counts(scope, filters).csat
