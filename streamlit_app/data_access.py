"""The explorer's only way to the data: read-only queries on the published serving copy.

Every page goes through this module, and this module reads only through the user's door to the
serving copy (:mod:`cxlake.access.serving_door`): views that hold the rows of the user's scope,
personal data masked unless their role needs it. So no question here can leave the scope out or
show a phone number it should not; the conditions below are the user's filters, not their rights.
Values are always bound as parameters; the SQL text is built only from constant column names.
SQL only counts; NPS and its interval come from :mod:`cxlake.metrics`,
so a page can never roll up or band a score differently from the marts.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Literal

import duckdb
import pandas as pd
import streamlit as st

from cxlake import quarantine
from cxlake.access import pii
from cxlake.access.roles import PII_COLUMNS, Principal, Scope
from cxlake.access.serving_door import Door, Reader, ServingCopyMissing, open_door
from cxlake.alerts.cases import ACTIVE_STATUSES, Case, CaseError, CaseEvent, CaseStore, owner_for
from cxlake.alerts.clock import daily_digest
from cxlake.alerts.config import load_alert_config
from cxlake.alerts.outbox import notifications
from cxlake.app_state import AppState
from cxlake.insights.drivers import MART_COLUMNS as DRIVER_MART_COLUMNS
from cxlake.insights.kano import MART_COLUMNS as KANO_MART_COLUMNS
from cxlake.integrity import MART_STAFF_COLUMNS, MART_STORE_COLUMNS
from cxlake.invitations import RULES as INVITATION_RULES
from cxlake.metrics import MeanSummary, NpsResult, nps_category, nps_from_counts, settings
from cxlake.paths import cxlake_paths
from cxlake.targets import load_targets
from cxlake.text.keywords import PeriodCounts, textrank_keywords

# Cached answers are dropped as soon as a run publishes a new serving copy (see
# forget_answers_of_a_replaced_copy, called by every page); the hour only bounds the memory held by
# selections nobody repeats.
CACHE_TTL_SECONDS = 3600
TREND_GRAINS = ("day", "week", "month")
_NPS_COUNTS = """
    count(*) filter (where nps_category = 'promoter') as promoters,
    count(*) filter (where nps_category = 'passive') as passives,
    count(*) filter (where nps_category = 'detractor') as detractors"""
# NPS and CES roll-ups read marts.fct_nps_daily (day x store x channel x member tier x suspect mark,
# countable responses only): every sidebar filter and every split of a change is a sum of its rows.
NPS_DAILY = "marts.fct_nps_daily"
# The same rows for every store of the chain, those outside the reader's scope without their store's
# identity (cxlake.access.serving_door): what places a store among its peers.
PEER_NPS_DAILY = "peers.fct_nps_daily"
# CSAT per touchpoint reads marts.fct_csat_daily (day x store x channel x touchpoint x suspect mark,
# countable responses' ratings only), the same filters as NPS_DAILY.
CSAT_DAILY = "marts.fct_csat_daily"
_NPS_SUMS = """
    coalesce(sum(promoters), 0)::bigint as promoters,
    coalesce(sum(passives), 0)::bigint as passives,
    coalesce(sum(detractors), 0)::bigint as detractors"""


@dataclass(frozen=True)
class Filters:
    """What the user picked in the sidebar; an empty tuple or None means "no restriction"."""

    date_from: date | None = None
    date_to: date | None = None
    region_ids: tuple[str, ...] = ()
    store_ids: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()


@dataclass(frozen=True)
class FilterOptions:
    """The values the sidebar offers, already limited to the user's scope."""

    date_min: date | None
    date_max: date | None
    regions: dict[str, str]
    stores: dict[str, str]
    store_regions: dict[str, str]
    channels: tuple[str, ...]


@dataclass(frozen=True)
class _OpenDoor:
    door: Door
    path: Path
    signature: tuple[int, int]


def serving_path() -> Path:
    """Where the published copy lives (``$CXLAKE_HOME`` is read now, not at import)."""
    return cxlake_paths().serving


def serving_copy_exists() -> bool:
    return serving_path().is_file()


def _file_signature(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_ino, stat.st_mtime_ns


def _is_current(opened: _OpenDoor) -> bool:
    """False once the pipeline has renamed a new copy into place, so the door is rebuilt."""
    try:
        return _file_signature(opened.path) == opened.signature
    except FileNotFoundError:
        return False


# One door per kind of reader (scope, and PII rights) is kept open, for as long as the serving copy
# it shows; the least recently used beyond this many are closed. Each door's DuckDB is bounded, so
# the memory the explorer takes grows with the readers at once, not with what they ask.
DOORS_KEPT = 32
DOOR_CONFIG = {"memory_limit": "2GiB", "threads": 2}


@st.cache_resource(validate=_is_current, show_spinner=False, max_entries=DOORS_KEPT)
def _open_door(path: str, reader: Reader) -> _OpenDoor:
    # The signature is taken before opening: a rename in between only causes one extra reopen.
    signature = _file_signature(Path(path))
    return _OpenDoor(open_door(Path(path), reader, config=DOOR_CONFIG), Path(path), signature)


_seen_copies: dict[Path, tuple[int, int] | None] = {}
_seen_copies_lock = threading.Lock()


def forget_answers_of_a_replaced_copy() -> None:
    """Drop every cached answer once the serving copy at ``$CXLAKE_HOME`` was replaced since this
    process last looked (one ``stat`` per page run). So answers stay cached as long as the data
    they came from, not for a guessed time-to-live, and a new publish shows on the next click."""
    path = serving_path()
    try:
        signature: tuple[int, int] | None = _file_signature(path)
    except FileNotFoundError:
        signature = None
    with _seen_copies_lock:
        if path in _seen_copies and _seen_copies[path] != signature:
            st.cache_data.clear()
        _seen_copies[path] = signature


def _door(who: Scope | Reader) -> Door:
    """The door of ``who`` (a scope reads without PII rights) to the serving copy of ``$CXLAKE_HOME``."""
    path = serving_path()
    if not path.is_file():
        raise ServingCopyMissing(f"no serving copy at {path}")
    return _open_door(str(path), who if isinstance(who, Reader) else Reader(who)).door


@contextmanager
def _cursor(who: Scope | Reader) -> Iterator[duckdb.DuckDBPyConnection]:
    """A cursor per query: one DuckDB connection must not be used by two sessions' threads at once."""
    with _door(who).connection.cursor() as cursor:
        yield cursor


# Reads what relations the serving copy has (a copy published by an older version lacks some): a
# reader who may see no row, so asking about columns never opens a door to anyone's data.
_NOBODY = Reader(Scope("store", ()))


def _where(scope: Scope, filters: Filters, countable: bool = True) -> tuple[str, list[object]]:
    """Countable (or, for the steward, non-countable) rows AND the user's scope AND the filters."""
    where, params = _scoped_filters(scope, filters, "response_date")
    return f"{'is_countable' if countable else 'not is_countable'} and {where}", params


def _daily_where(scope: Scope, filters: Filters, without_suspect: bool = False) -> tuple[str, list[object]]:
    """The user's scope AND the filters over the daily marts (marts.fct_nps_daily, marts.fct_csat_daily:
    already countable responses only);
    ``without_suspect`` leaves out the rows of responses the integrity asset marked suspect."""
    where, params = _scoped_filters(scope, filters, "date_day")
    return (f"{where} and not is_suspect" if without_suspect else where), params


def _scoped_filters(
    scope: Scope, filters: Filters, date_column: Literal["response_date", "journey_date", "date_day"]
) -> tuple[str, list[object]]:
    """The sidebar filters, dates applied to ``date_column`` (the scope is the door's: ``scope`` is
    only checked to be one)."""
    _check_scope(scope)
    conditions = ["true"]
    params: list[object] = []
    if filters.date_from is not None:
        conditions.append(f"{date_column} >= ?")
        params.append(filters.date_from)
    if filters.date_to is not None:
        conditions.append(f"{date_column} <= ?")
        params.append(filters.date_to)
    for column, values in (
        ("region_id", filters.region_ids),
        ("store_id", filters.store_ids),
        ("channel", filters.channels),
    ):
        if values:
            conditions.append(f"list_contains(?::varchar[], {column})")
            params.append(list(values))
    return " and ".join(conditions), params


def _check_scope(scope: Scope) -> None:
    if not isinstance(scope, Scope):
        raise TypeError(f"a Scope is required, got {type(scope).__name__}")


def _frame(who: Scope | Reader, sql: str, params: list[object]) -> pd.DataFrame:
    with _cursor(who) as cursor:
        return cursor.execute(sql, params).df()


def _rows(who: Scope | Reader, sql: str, params: list[object]) -> list[tuple]:
    with _cursor(who) as cursor:
        return cursor.execute(sql, params).fetchall()


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def filter_options(scope: Scope) -> FilterOptions:
    """Date bounds (of survey responses and of our reviews, so the Voice page can reach every
    review), regions, stores and channels the user may pick from."""
    _check_scope(scope)
    days = f"select date_day as day from {NPS_DAILY}"
    if _columns_of("marts", "fct_reviews"):  # a serving copy published before the review marts has none
        days += " union all select posted_date from marts.fct_reviews where not is_competitor"
    ((date_min, date_max),) = _rows(scope, f"select min(day), max(day) from ({days})", [])
    stores = _rows(
        scope,
        "select store_id, store_name, region_id, region_name from marts.dim_store"
        " order by region_id, store_id",
        [],
    )
    channels = _rows(
        scope, f"select distinct channel from {NPS_DAILY} where channel is not null order by channel", []
    )
    return FilterOptions(
        date_min=date_min,
        date_max=date_max,
        regions={region_id: region_name for _, _, region_id, region_name in stores},
        stores={store_id: store_name for store_id, store_name, _, _ in stores},
        store_regions={store_id: region_id for store_id, _, region_id, _ in stores},
        channels=tuple(channel for (channel,) in channels),
    )


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def nps_summary(scope: Scope, filters: Filters) -> NpsResult:
    """NPS with its interval from the promoter / passive / detractor counts in scope."""
    where, params = _daily_where(scope, filters)
    sql = f"select {_NPS_SUMS} from {NPS_DAILY} where {where}"
    ((promoters, passives, detractors),) = _rows(scope, sql, params)
    return nps_from_counts(promoters, passives, detractors)


# -- period changes: what the headline tiles compare the picked period with -----------------------
# The tiles compare the picked period with the one of equal length just before it and with the same
# days a year earlier, each only when the responses in view reach back over the whole of it (a
# half-covered period would compare different weeks). A comparison period's counts come from the
# very functions that count the picked period (nps_summary, csat_by_touchpoint, ces_summary), so it
# cannot be scoped or filtered differently; changes, tests and the mix / rate split are
# cxlake.metrics' (the page passes these counts to it).
COMPARISONS = ("previous", "last_year")
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


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def ces_summary(scope: Scope, filters: Filters) -> MeanSummary:
    """n, mean and sample variance of the countable CES answers on the configured scale (answers off
    it ignored, as dbt's ``in_scale`` does), what a Welch test of two periods needs."""
    where, params = _daily_where(scope, filters)
    ((n, total, squares),) = _rows(
        scope,
        "select coalesce(sum(count_ces), 0), sum(sum_ces), sum(sum_squares_ces)"
        f" from {NPS_DAILY} where {where}",
        params,
    )
    n = int(n)
    mean = total / n if n else None
    variance = (squares - total * total / n) / (n - 1) if n > 1 else None
    return MeanSummary(n, mean, None if variance is None else max(variance, 0.0))


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def headline_counts(scope: Scope, filters: Filters) -> HeadlineCounts:
    """The counts of every headline tile for the filters' period."""
    return HeadlineCounts(
        filters, nps_summary(scope, filters), ces_summary(scope, filters), csat_by_touchpoint(scope, filters)
    )


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def headline_comparisons(scope: Scope, filters: Filters) -> dict[str, HeadlineCounts]:
    """Comparison (a name in :data:`COMPARISONS`) -> its period's headline counts, only for periods
    with an answer that the answers in scope and in the region / store / channel filters cover from
    their first day. Empty unless both dates are set."""
    periods = {"previous": previous_period(filters), "last_year": same_period_last_year(filters)}
    where, params = _daily_where(scope, replace(filters, date_from=None, date_to=None))
    ((first_day,),) = _rows(scope, f"select min(date_day) from {NPS_DAILY} where {where}", params)
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
    where, params = _daily_where(scope, filters)
    return _frame(
        scope,
        f"select {_SEGMENT_SQL[segment]} as segment, {_NPS_SUMS} from {NPS_DAILY}"
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
    where, params = _daily_where(scope, filters)
    trend = _frame(
        scope,
        f"select cast(date_trunc(?, date_day) as date) as period, {_NPS_SUMS}"
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
    where, params = _where(scope, filters)
    counts = dict(
        _rows(
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


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def csat_by_touchpoint(scope: Scope, filters: Filters) -> pd.DataFrame:
    """One row per touchpoint in journey order: names, n, top_box, top2_share (0..1), mean_csat,
    summed from marts.fct_csat_daily (countable responses' ratings on the scale).

    Touchpoints without ratings in scope keep their row (n = 0, share and mean missing), so the
    journey reads the same for every user.
    """
    where, params = _daily_where(scope, filters)
    csat = _frame(
        scope,
        "with ratings as ("
        " select touchpoint_id, sum(count_ratings)::bigint as n, sum(count_top_box)::bigint as top_box,"
        " sum(sum_csat)::double / nullif(sum(count_ratings), 0) as mean_csat"
        f" from {CSAT_DAILY} where {where} group by touchpoint_id)"
        " select t.touchpoint_id, t.touchpoint_name_zh, t.touchpoint_name_en,"
        " t.stage_name_zh, t.stage_name_en,"
        " coalesce(r.n, 0) as n, coalesce(r.top_box, 0) as top_box, r.mean_csat"
        " from marts.dim_touchpoint as t left join ratings as r on r.touchpoint_id = t.touchpoint_id"
        " order by t.stage_order, t.touchpoint_order",
        params,
    )
    rated = csat["n"] > 0
    csat["top2_share"] = (csat["top_box"] / csat["n"].where(rated)).astype("float64")
    return csat


# --- Journey: experience along the journey map, beside operations ---------------------------------
# marts.fct_journeys has one csat_<touchpoint_id> column per journey-map touchpoint. UNPIVOT over
# COLUMNS('^csat_') turns them into rows with constant SQL, so a touchpoint added to the map is read
# with no code edit; marts.dim_touchpoint says which touchpoints and stages exist and in what order.
# Dates here are journey (purchase) days: the ratings belong to the purchase they rate.

# Operational measures the X+O view can put beside a touchpoint: a fct_journeys column and how it
# rolls up over journeys (the median of a quantity, or the share of journeys with a flag).
OPERATIONAL_MEASURES: dict[str, Literal["median", "share"]] = {
    "wait_minutes": "median",
    "amount": "median",
    "is_refunded": "share",
    "is_remake": "share",
}
# POS events a touchpoint may list in the journey map (dim_touchpoint.pos_events, comma-joined) and
# the fct_journeys flag that measures each.
POS_EVENT_MEASURES = {"refund": "is_refunded", "remake": "is_remake"}


def _journey_ratings(scope: Scope, filters: Filters) -> tuple[str, list[object]]:
    """CTEs ``journeys`` (in scope and filters) and ``ratings`` (one row per countable CSAT answer)."""
    where, params = _scoped_filters(scope, filters, "journey_date")
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
    touchpoints = _frame(
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
    stages = _frame(
        scope,
        f"{ratings}, staged as (select t.stage_id, r.journey_id, r.nps_category, r.csat"
        " from ratings as r join marts.dim_touchpoint as t on t.touchpoint_id = r.touchpoint_id),"
        " experience as (select stage_id, count(*) as ratings, avg(csat) as mean_csat"
        " from staged group by stage_id),"
        " respondents as (select stage_id, journey_id, any_value(nps_category) as nps_category,"
        " bool_and(csat >= ?) as satisfied from staged group by stage_id, journey_id),"
        f" recommend as (select stage_id, {_NPS_COUNTS},"
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


def _measure_sql(measure: str) -> tuple[str, str, str]:
    """(n, value, p90) aggregates of an allow-listed measure; the column name is never user text."""
    if measure not in OPERATIONAL_MEASURES:
        raise ValueError(f"measure must be one of {tuple(OPERATIONAL_MEASURES)}, got {measure!r}")
    if OPERATIONAL_MEASURES[measure] == "share":
        return f"count({measure})", f"avg(cast({measure} as integer))", "cast(null as double)"
    return f"count({measure})", f"median({measure})", f"quantile_cont({measure}, 0.9)"


# A touchpoint's operations are those of the journeys in the channels where it exists (the delivery
# touchpoint's wait is the delivery orders' wait); a touchpoint without channels applies to all.
_IN_TOUCHPOINT_CHANNELS = (
    "(t.channels is null or list_contains(string_split(t.channels, ','), journeys.channel))"
)


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def touchpoint_operations(scope: Scope, filters: Filters) -> pd.DataFrame:
    """One row per touchpoint (index touchpoint_id), one column per operational measure (median, or
    share for a flag) over the journeys in scope in the touchpoint's channels."""
    where, params = _scoped_filters(scope, filters, "journey_date")
    values = ", ".join(f"{_measure_sql(measure)[1]} as {measure}" for measure in OPERATIONAL_MEASURES)
    # The channel lists unnested into (touchpoint, channel) rows make an equi-join (a hash join), not
    # a list test per touchpoint and journey: half the time on a medium demo, same rows.
    operations = _frame(
        scope,
        f"with journeys as (select * from marts.fct_journeys where {where}),"
        " channels as (select distinct touchpoint_id, unnest(string_split(channels, ',')) as channel"
        " from marts.dim_touchpoint where channels is not null),"
        " touchpoint_journeys as (select c.touchpoint_id, j.* from channels as c"
        " join journeys as j on j.channel = c.channel"
        " union all select t.touchpoint_id, j.* from marts.dim_touchpoint as t cross join journeys as j"
        " where t.channels is null)"
        f" select touchpoint_id, {values} from touchpoint_journeys group by touchpoint_id",
        params,
    )
    return operations.set_index("touchpoint_id").astype("float64")


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def experience_vs_operations(
    scope: Scope, filters: Filters, touchpoint_id: str, measure: str
) -> pd.DataFrame:
    """The X+O view: one row per store with journeys in scope (in the touchpoint's channels), the
    touchpoint's CSAT counts (n, top_box,
    mean_csat, top2_share) beside the operational measure (operational_n, _value, _p90)."""
    count_sql, value_sql, p90_sql = _measure_sql(measure)
    ratings, params = _journey_ratings(scope, filters)
    stores = _frame(
        scope,
        f"{ratings}, experience as (select store_id, count(*) as n,"
        " count(*) filter (where csat >= ?) as top_box, avg(csat) as mean_csat"
        " from ratings where touchpoint_id = ? group by store_id),"
        f" operations as (select journeys.store_id, {count_sql} as operational_n,"
        f" {value_sql} as operational_value, {p90_sql} as operational_p90"
        f" from journeys join marts.dim_touchpoint as t on t.touchpoint_id = ? and {_IN_TOUCHPOINT_CHANNELS}"
        " group by journeys.store_id)"
        " select o.store_id, s.store_name, coalesce(e.n, 0) as n, coalesce(e.top_box, 0) as top_box,"
        " e.mean_csat, o.operational_n, o.operational_value, o.operational_p90"
        " from operations as o join marts.dim_store as s on s.store_id = o.store_id"
        " left join experience as e on e.store_id = o.store_id order by o.store_id",
        [*params, settings().csat_top_box_min, touchpoint_id, touchpoint_id],
    )
    return _with_top2_share(stores)


# The invitation funnel's steps in order (marts.mart_invitation_funnel's count_<step> columns):
# transactions considered, eligible, invited, suppressed by each contact-frequency rule, answered.
INVITATION_STEPS = (
    "transactions", "eligible", "invited", *(f"suppressed_{rule}" for rule in INVITATION_RULES), "responses",
)  # fmt: skip


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def invitation_funnel(scope: Scope, filters: Filters) -> pd.DataFrame:
    """One row per step of :data:`INVITATION_STEPS` (step, count) over the purchase days, stores and
    channels in scope; no rows when the serving copy predates the funnel mart."""
    if not _columns_of("marts", "mart_invitation_funnel"):
        return pd.DataFrame({"step": pd.Series(dtype="string"), "count": pd.Series(dtype="int64")})
    where, params = _scoped_filters(scope, filters, "date_day")
    sums = ", ".join(f"coalesce(sum(count_{step}), 0) as {step}" for step in INVITATION_STEPS)
    ((*counts,),) = _rows(scope, f"select {sums} from marts.mart_invitation_funnel where {where}", params)
    return pd.DataFrame({"step": list(INVITATION_STEPS), "count": [int(c) for c in counts]})


# --- Data quality: the steward's questions --------------------------------------------------------
# Quality results and quarantined rows are raw, unscoped data (a bad row's store_id is itself suspect),
# so only the "all" scope reads them: a narrower door shows no quarantined row and of dq only which
# days were delivered and held back (data_gaps), and these questions answer it with no rows.


def mart_columns(scope: Scope) -> dict[str, list[str]]:
    """Mart name -> columns, as the SQL box shows them (its schema browser): the user's door already
    lists them, so a page run opens no sandbox to learn them."""
    return _door(scope).tables("marts")


def _reads_quality_results(scope: Scope) -> bool:
    _check_scope(scope)
    return scope.kind == "all"


def _columns_of(schema: str, table: str) -> set[str]:
    """The relation's columns, empty when the serving copy does not have it (yet)."""
    return set(_door(_NOBODY).columns(schema, table))


def _day_bounds(date_from: date | None, date_to: date | None) -> tuple[str, list[object]]:
    return (
        "(?::date is null or partition_date >= ?::date) and (?::date is null or partition_date <= ?::date)",
        [date_from, date_from, date_to, date_to],
    )


def _with_dates(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """DuckDB dates arrive as timestamps; tables for people show them as dates."""
    return frame.assign(**{column: frame[column].dt.date}) if not frame.empty else frame


def _latest_runs(days: str) -> str:
    """Each raw table's latest validation per partition day (a re-run supersedes the earlier result)."""
    return (
        f"select * from dq.validation_runs where {days} qualify row_number() over"
        " (partition by raw_table, partition_date order by validated_at desc, run_id desc) = 1"
    )


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def validation_grid(scope: Scope, date_from: date | None = None, date_to: date | None = None) -> pd.DataFrame:
    """One row per source x partition day, from each raw table's latest validation of that day.

    status is ``blocked`` (the gate stopped the load), ``failed`` (some expectation failed, bad rows
    quarantined) or ``passed``; counts are summed over the source's raw tables.
    """
    columns = ["source", "partition_date", "status", "rows_in", "rows_loaded", "rows_quarantined"]
    if not _reads_quality_results(scope) or not _columns_of("dq", "validation_runs"):
        return pd.DataFrame(columns=columns)
    days, day_params = _day_bounds(date_from, date_to)
    grid = _frame(
        scope,
        f"with latest as ({_latest_runs(days)})"
        " select source, partition_date,"
        " case when bool_or(blocked) then 'blocked' when bool_and(success) then 'passed' else 'failed' end"
        " as status, sum(rows_in) as rows_in, sum(rows_loaded) as rows_loaded,"
        " sum(rows_quarantined) as rows_quarantined"
        " from latest group by source, partition_date order by partition_date, source",
        day_params,
    )
    return _with_dates(grid[columns], "partition_date")


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def failing_expectations(
    scope: Scope, date_from: date | None = None, date_to: date | None = None, *, sees_pii: bool = False
) -> pd.DataFrame:
    """Failed expectations of each raw table's latest validation per day, worst first, with samples.

    The samples are failing values as delivered (a malformed phone, an e-mail): masked as free text
    unless ``sees_pii``.
    """
    columns = [
        "partition_date", "source", "raw_table", "expectation", "level", "severity",
        "unexpected_count", "sample_values", "blocked", "block_reason",
    ]  # fmt: skip
    readable = _reads_quality_results(scope)
    published = _columns_of("dq", "validation_runs") and _columns_of("dq", "expectation_results")
    if not readable or not published:
        return pd.DataFrame(columns=columns)
    days, day_params = _day_bounds(date_from, date_to)
    failing = _frame(
        Reader(scope, sees_pii),
        f"with latest as ({_latest_runs(days)})"
        " select r.partition_date, r.source, r.raw_table, r.expectation, r.level, r.severity,"
        " r.unexpected_count, r.sample_values,"
        " l.blocked, l.block_reason"
        " from dq.expectation_results as r join latest as l"
        " on l.run_id = r.run_id and l.raw_table = r.raw_table and l.partition_date = r.partition_date"
        " where not r.success"
        " order by r.partition_date desc, r.severity, r.unexpected_count desc, r.raw_table, r.expectation",
        day_params,
    )
    return _with_dates(failing[columns], "partition_date")


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def quarantine_volume(
    scope: Scope, date_from: date | None = None, date_to: date | None = None
) -> pd.DataFrame:
    """Rows quarantined per partition day and source, from the load audit."""
    columns = ["partition_date", "source", "rows_in", "rows_quarantined"]
    if not _reads_quality_results(scope) or not _columns_of("dq", "load_audit"):
        return pd.DataFrame(columns=columns)
    days, day_params = _day_bounds(date_from, date_to)
    volume = _frame(
        scope,
        "select partition_date, source, sum(rows_in) as rows_in, sum(rows_quarantined) as rows_quarantined"
        f" from dq.load_audit where {days}"
        " group by partition_date, source order by partition_date, source",
        day_params,
    )
    return _with_dates(volume, "partition_date")


# Sources that deliver every day (the ingestion holds their volume to the band of the trailing days,
# assets.ingestion.assets.VOLUME_CHECKED): a day without their files is a gap. Reference data comes
# only when the roster changes, CRM and reviews only when something changed or was posted.
DAILY_SOURCES = ("pos", "survey_invitations", "qualtrics", "wjx")
DATA_GAP_COLUMNS = ["source", "partition_date", "gap"]


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def data_gaps(scope: Scope, date_from: date | None = None, date_to: date | None = None) -> pd.DataFrame:
    """Days whose numbers lack a source: one row per source and day, ``gap`` ``held_back`` (the
    latest validation of one of its raw tables blocked the day) or ``missing`` (a daily source
    delivered nothing that day, inside the range of days anything was delivered).

    Every scope gets them: they name sources and days, never a store's rows, and a store manager's
    numbers lack those days as much as anyone's (the door shows every reader these columns of dq).
    """
    _check_scope(scope)
    if not _columns_of("dq", "validation_runs") or not _columns_of("dq", "load_audit"):
        return pd.DataFrame(columns=DATA_GAP_COLUMNS)
    days, day_params = _day_bounds(date_from, date_to)
    gaps = _frame(
        scope,
        "with held as (select distinct source, partition_date from (select * from dq.validation_runs"
        " qualify row_number() over (partition by source, raw_table, partition_date"
        " order by validated_at desc, run_id desc) = 1) where blocked),"
        " delivered as (select distinct source, partition_date from dq.load_audit),"
        " bounds as (select min(partition_date) as first_day, max(partition_date) as last_day"
        " from dq.load_audit),"
        " calendar as (select cast(unnest(generate_series(first_day, last_day, interval 1 day)) as date)"
        " as partition_date from bounds where first_day is not null),"
        " missing as (select s.source, c.partition_date from unnest(?::varchar[]) as s(source)"
        " cross join calendar as c"
        " except select source, partition_date from delivered"
        " except select source, partition_date from held),"
        " gaps as (select source, partition_date, 'held_back' as gap from held"
        " union all select source, partition_date, 'missing' from missing)"
        f" select * from gaps where {days} order by source, partition_date",
        [list(DAILY_SOURCES), *day_params],
    )
    return _with_dates(gaps[DATA_GAP_COLUMNS], "partition_date")


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def non_countable_responses(scope: Scope, filters: Filters) -> pd.DataFrame:
    """Survey responses left out of every metric, with why (test, preview, duplicate, speeder...)."""
    columns = [
        "response_date", "survey_id", "response_id", "source_system", "store_id", "status",
        "exclusion_reason",
    ]  # fmt: skip
    if "exclusion_reason" not in _columns_of("marts", "fct_survey_responses"):
        return pd.DataFrame(columns=columns)
    where, params = _where(scope, filters, countable=False)
    excluded = _frame(
        scope,
        f"select {', '.join(columns)} from marts.fct_survey_responses where {where}"
        " order by response_date desc, survey_id, response_id",
        params,
    )
    return _with_dates(excluded, "response_date")


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def quarantine_tables(scope: Scope) -> tuple[str, ...]:
    """The quarantine tables the serving copy has (allow-listed, in a fixed order); none outside "all"."""
    if not _reads_quality_results(scope):
        return ()
    return quarantine.present_tables(_door(scope))


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def quarantined_rows(scope: Scope, table: str, *, sees_pii: bool = False) -> pd.DataFrame:
    """A table's quarantined rows as delivered with file, line and failed expectations, masked unless
    ``sees_pii`` (names, phones, e-mails, and contact details in every other text column: the door's).

    ``table`` must be on the allow-list in :mod:`cxlake.quarantine`; anything else raises.
    """
    quarantine.checked_table(table)
    if table not in quarantine_tables(scope):
        return pd.DataFrame(columns=list(quarantine.LINEAGE_COLUMNS))
    return quarantine.quarantined_rows(_door(Reader(scope, sees_pii)), table)


# --- Leaderboard and feedback: stores compared, customers heard ------------------------------------


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def store_leaderboard(scope: Scope, filters: Filters, without_suspect: bool = False) -> pd.DataFrame:
    """One row per store in scope and in the region / store filters with countable NPS answers:
    store_id, store_name, region_name, promoters, passives, detractors, n, nps, ci_low, ci_high,
    too_few, tier, best_rank, worst_rank, ranked_stores; with marts.mart_integrity_store published
    also is_flagged and integrity_reasons.

    Each store is placed among all the chain's stores of the same period and channels (see
    :func:`interval_places`), whoever asks, so a tier means the same on every user's page and a
    store manager's one row is never "rank 1 of 1". A store with fewer than ``min_responses``
    answers is ``too_few``: no tier and no place (its NPS is noise), listed after the placed ones.
    ``without_suspect`` leaves out the responses the integrity asset marked ``is_suspect``, every
    store's, so the places are recomputed too; it needs that column in the serving copy.
    """
    features = integrity_features()
    if without_suspect and not features.suspect_switch:
        raise ValueError("without_suspect needs marts.fct_nps_daily.is_suspect in the serving copy")
    peers_sql, peers_params = _peer_condition(filters, without_suspect)
    view_sql, view_params = _view_condition(filters)
    flag_columns = flag_join = ""
    if features.marks:
        flag_columns = (
            ", coalesce(i.is_flagged, false) as is_flagged,"
            " case when i.is_flagged then i.reasons end as integrity_reasons"
        )
        flag_join = f" left join marts.{INTEGRITY_MART} as i on i.store_id = c.store_id and c.in_view"
    # The peers' rows come without their store's identity (the door's peers.fct_nps_daily): only
    # the user's own stores carry a store_id, and names and integrity marks are joined to those.
    stores = _frame(
        scope,
        "with counts as (select coalesce(store_id, peer_key) as store_id,"
        f" bool_or(store_id is not null and {view_sql}) as in_view, {_NPS_SUMS}"
        f" from {PEER_NPS_DAILY} where {peers_sql} and count_responses > 0 group by all)"
        " select c.store_id, c.in_view, s.store_name, s.region_name,"
        f" c.promoters, c.passives, c.detractors{flag_columns}"
        " from counts as c left join marts.dim_store as s on s.store_id = c.store_id and c.in_view"
        + flag_join,
        [*view_params, *peers_params],
    )
    stores = _with_nps(stores)
    too_few = stores["n"] < settings().min_responses
    placed = stores.assign(too_few=too_few).join(
        interval_places(stores.loc[~too_few, "ci_low"], stores.loc[~too_few, "ci_high"])
    )
    mine = placed[placed["in_view"]].drop(columns="in_view")
    return (
        mine.assign(
            tier=mine["tier"].astype("object").where(mine["tier"].notna(), None),
            ranked_stores=pd.Series(int((~too_few).sum()), index=mine.index, dtype="int64"),
            tier_order=mine["tier"].map({tier: order for order, tier in enumerate(TIERS)}),
        )
        .sort_values(
            ["too_few", "tier_order", "nps", "store_id"],
            ascending=[True, True, False, True],
            na_position="last",
            ignore_index=True,
        )
        .drop(columns="tier_order")
    )


# -- peers and tiers -------------------------------------------------------------------------------
# Every user compares their stores with the same peers: all the chain's stores in the period and
# channels picked. The peer set is computed here from every store, and only the user's own rows and
# aggregates (the chain's, their region's) leave this module, so a store manager learns their place
# and their region's score without learning any other store's name or number.
TIERS = ("top", "middle", "bottom")
INTEGRITY_MART = "mart_integrity_store"


@dataclass(frozen=True)
class IntegrityFeatures:
    """What the serving copy holds of the integrity asset (a copy published before it holds none)."""

    marks: bool  # marts.mart_integrity_store: flagged stores and their reasons
    suspect_switch: bool  # the marks and marts.fct_nps_daily.is_suspect: NPS without suspect responses


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def integrity_features() -> IntegrityFeatures:
    marks = {"store_id", "is_flagged", "reasons"} <= _columns_of("marts", INTEGRITY_MART)
    # Without the asset's verdicts every response reads "not suspect": a switch would change nothing.
    return IntegrityFeatures(
        marks=marks, suspect_switch=marks and "is_suspect" in _columns_of("marts", "fct_nps_daily")
    )


def _peer_condition(filters: Filters, without_suspect: bool) -> tuple[str, list[object]]:
    """Every store's countable answers in the filters' period and channels: who a store is compared
    with. The scope and the region / store filters choose what is shown, not who the peers are."""
    return _daily_where(Scope.everything(), replace(filters, region_ids=(), store_ids=()), without_suspect)


def _view_condition(filters: Filters) -> tuple[str, list[object]]:
    """The rows the user picked: the region / store filters (the door gives only their scope's)."""
    return _scoped_filters(
        Scope.everything(), Filters(region_ids=filters.region_ids, store_ids=filters.store_ids), "date_day"
    )


def _with_nps(counts: pd.DataFrame) -> pd.DataFrame:
    """``counts`` (promoters, passives, detractors per row) with n, nps, ci_low, ci_high from
    :func:`cxlake.metrics.nps_from_counts`, the one place NPS is computed."""
    results = [
        nps_from_counts(int(p), int(pa), int(d))
        for p, pa, d in zip(counts["promoters"], counts["passives"], counts["detractors"], strict=True)
    ]
    return counts.assign(
        n=pd.Series([r.n for r in results], index=counts.index, dtype="int64"),
        nps=pd.Series([r.nps for r in results], index=counts.index, dtype="float64"),
        ci_low=pd.Series([r.ci_low for r in results], index=counts.index, dtype="float64"),
        ci_high=pd.Series([r.ci_high for r in results], index=counts.index, dtype="float64"),
    )


def interval_places(ci_low: pd.Series, ci_high: pd.Series) -> pd.DataFrame:
    """Where each of N stores could rank given the 95% intervals, and its tier (same index).

    best_rank is 1 + the number of stores whose whole interval lies above this store's, worst_rank
    N - the number whose whole interval lies below: the ranks the data cannot tell apart. tier is
    ``top`` when no store is separably better (best_rank 1: "not distinguishable from the best"),
    ``bottom`` when none is separably worse and some is separably better, ``middle`` otherwise.
    With fewer than two stores there is nothing to compare and no tier.

    Why non-overlap and not the order of the NPS values: two stores whose intervals overlap may
    swap places with the next month's customers, so the order says nothing about them. The test is
    conservative (intervals that overlap a little can still differ at the 5% level), so it errs
    towards "not distinguishable", the safe side for a ranking people are judged by.
    """
    low = ci_low.to_numpy(dtype="float64")
    high = ci_high.to_numpy(dtype="float64")
    count = len(low)
    best = 1 + (low[None, :] > high[:, None]).sum(axis=1)
    worst = count - (high[None, :] < low[:, None]).sum(axis=1)
    tiers = [
        None if count < 2 else "top" if b == 1 else "bottom" if w == count else "middle"
        for b, w in zip(best, worst, strict=True)
    ]
    return pd.DataFrame(
        {
            "tier": pd.Series(tiers, index=ci_low.index, dtype="object"),
            "best_rank": pd.Series(best, index=ci_low.index, dtype="Int64"),
            "worst_rank": pd.Series(worst, index=ci_low.index, dtype="Int64"),
        }
    )


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def peer_benchmarks(scope: Scope, filters: Filters, without_suspect: bool = False) -> pd.DataFrame:
    """The aggregates a user compares their stores with: for a region or store scope one row per
    region of the scope (the whole region, every store of it), then the chain's row. Columns level
    (``region`` / ``chain``), region_id, region_name, promoters, passives, detractors, n, nps,
    ci_low, ci_high, too_few. Sums over every store, in the period and channels picked, and nothing
    per store, so a store manager sees their region and chain without another store's identity."""
    if without_suspect and not integrity_features().suspect_switch:
        raise ValueError("without_suspect needs marts.fct_nps_daily.is_suspect in the serving copy")
    peers_sql, peers_params = _peer_condition(filters, without_suspect)
    benchmarks = _frame(
        scope,
        f"with answers as (select * from {PEER_NPS_DAILY} where {peers_sql}),"
        " regions as (select distinct region_id, region_name from marts.dim_store where ?)"
        f" select 'region' as level, g.region_id, g.region_name, {_NPS_SUMS}"
        " from regions as g left join answers as a on a.region_id = g.region_id"
        " group by g.region_id, g.region_name"
        f" union all select 'chain', null, null, {_NPS_SUMS} from answers"
        " order by level desc, region_id",
        [*peers_params, scope.kind != "all"],
    )
    benchmarks = _with_nps(benchmarks)
    return benchmarks.assign(too_few=benchmarks["n"] < settings().min_responses)


# The feedback list's columns; the three PII columns and the comment (phones and e-mails written in
# it) go through roles' masking, so a user who may not see personal data gets them masked by DuckDB
# and the unmasked values never reach pandas.
FEEDBACK_COLUMNS = (
    "responded_at", "store", "store_id", "channel", "nps_score", "nps_category", "comment",
    "customer_name", "phone", "email",
)  # fmt: skip


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def recent_feedback(
    scope: Scope, filters: Filters, sees_pii: bool, limit: int = 500, detractors_only: bool = False
) -> pd.DataFrame:
    """The newest ``limit`` countable responses in scope (``FEEDBACK_COLUMNS``), with the customer
    behind each (through their transaction), masked unless ``sees_pii``; detractors only if asked."""
    where, params = _where(scope, filters)
    if detractors_only:
        where += " and nps_category = 'detractor'"
    pii = ", ".join(PII_COLUMNS)
    feedback = _frame(
        Reader(scope, sees_pii),
        f"with responses as (select * from marts.fct_survey_responses where {where}"
        " order by responded_at desc, response_key limit ?),"
        f" customers as (select t.transaction_id, {pii} from marts.fct_transactions as t"
        " join marts.dim_customer as c on c.customer_id = t.customer_id"
        " where t.transaction_id in (select transaction_id from responses))"
        " select r.responded_at, coalesce(s.store_name, r.store_id) as store, r.store_id, r.channel,"
        " r.nps_score, r.nps_category, r.comment, u.customer_name, u.phone, u.email"
        " from responses as r left join marts.dim_store as s on s.store_id = r.store_id"
        " left join customers as u on u.transaction_id = r.transaction_id"
        " order by r.responded_at desc, r.response_key",
        [*params, limit],
    )
    return feedback[list(FEEDBACK_COLUMNS)]


# --- Voice of customer: online reviews, ours and competitors' -------------------------------------
# Our reviews carry store_id / region_id and are scoped like every other row. A competitor's review
# has no store: a narrow scope (or a region / store filter) sees competitors only in the cities of
# its stores, so a store manager compares their store with the shops next door; "all" sees them all.
# The channel filter does not apply (a review has no sales channel). Dates are posted_date.
# mart_competitor_benchmark is not read here: its rows are whole cities and all time, so it cannot
# honour a store scope or the date filter; the benchmark is counted from the review rows instead.

REVIEW_MARTS = ("fct_reviews", "fct_review_aspects", "fct_review_keywords")
# Keyword counts per posted day x store x keyword, our stores only: the cloud and trending sum them.
REVIEW_KEYWORDS = "marts.fct_review_keywords"
REVIEW_SENTIMENTS = ("positive", "negative")
# The drill-down's columns: what was said, where, with which stars and what the model read in it.
REVIEW_COLUMNS = (
    "posted_at", "platform", "shop_name", "rating", "sentiment_label", "sentiment_score",
    "rating_disagrees", "content", "review_key",
)  # fmt: skip


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def review_marts_published(scope: Scope) -> bool:
    """Whether the serving copy has the review marts yet (the page says so instead of failing)."""
    _check_scope(scope)
    return all(_columns_of("marts", table) for table in REVIEW_MARTS)


def _store_conditions(filters: Filters) -> tuple[str, list[object]]:
    """The region / store filters, on a relation with store_id and region_id."""
    conditions, params = ["true"], []
    for column, values in (("region_id", filters.region_ids), ("store_id", filters.store_ids)):
        if values:
            conditions.append(f"list_contains(?::varchar[], {column})")
            params.append(list(values))
    return " and ".join(conditions), params


def _review_where(scope: Scope, filters: Filters) -> tuple[str, list[object]]:
    """Reviews in the period and the region / store filters: ours of the stores picked, competitors
    in the cities of the stores picked (the door already shows a narrow scope only its stores' and
    the competitors in their cities).

    For any relation with is_competitor, store_id, region_id, city and posted_date.
    """
    _check_scope(scope)
    ours, params = _store_conditions(filters)
    if not filters.region_ids and not filters.store_ids:
        competitors = "is_competitor"
    else:
        cities, city_params = _store_conditions(filters)
        competitors = f"is_competitor and city in (select city from marts.dim_store where {cities})"
        params += city_params
    conditions = [f"((not is_competitor and {ours}) or ({competitors}))"]
    for bound, operator in ((filters.date_from, ">="), (filters.date_to, "<=")):
        if bound is not None:
            conditions.append(f"posted_date {operator} ?")
            params.append(bound)
    return " and ".join(conditions), params


def _our_reviews(scope: Scope, filters: Filters) -> tuple[str, list[object]]:
    """A CTE ``reviews``: our own reviews in scope and period (the cloud, charts and metric)."""
    where, params = _review_where(scope, filters)
    return f"with reviews as (select * from marts.fct_reviews where not is_competitor and {where})", params


def _keyword_counts(filters: Filters) -> tuple[str, list[object]]:
    """A CTE ``keyword_counts``: per keyword, our reviews in the period and the region / store
    filters that name it (count_reviews) and the negative ones among them (count_negative), summed
    from marts.fct_review_keywords (posted day x store x keyword, our stores only)."""
    where, params = _store_conditions(filters)
    for bound, operator in ((filters.date_from, ">="), (filters.date_to, "<=")):
        if bound is not None:
            where += f" and posted_date {operator} ?"
            params.append(bound)
    return (
        "with keyword_counts as (select keyword, sum(count_reviews)::bigint as count_reviews,"
        " sum(count_negative)::bigint as count_negative"
        f" from {REVIEW_KEYWORDS} where {where} group by keyword)",
        params,
    )


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def review_keywords(scope: Scope, filters: Filters, limit: int = 60) -> pd.DataFrame:
    """The ``limit`` keywords in most of our reviews in scope: keyword, count_reviews (reviews that
    name it), count_negative, negative_share (0..1); most reviews first, then by keyword."""
    _check_scope(scope)
    counts, params = _keyword_counts(filters)
    return _frame(
        scope,
        f"{counts} select keyword, count_reviews, count_negative,"
        " count_negative / count_reviews as negative_share"
        " from keyword_counts order by count_reviews desc, keyword limit ?",
        [*params, limit],
    )


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def review_keyword_counts(scope: Scope, filters: Filters) -> PeriodCounts:
    """Our reviews in scope and period with a written (scored) text, and how many of them name each
    keyword (every keyword, no limit): the input of :func:`cxlake.text.keywords.trending`. Only a
    written text has keywords, so the keyword counts of marts.fct_review_keywords are of those
    reviews; their number comes from marts.fct_reviews."""
    reviews, params = _our_reviews(scope, filters)
    ((total,),) = _rows(
        scope, f"{reviews} select count(*) from reviews where sentiment_score is not null", params
    )
    counts, params = _keyword_counts(filters)
    rows = _rows(scope, f"{counts} select keyword, count_reviews from keyword_counts", params)
    return PeriodCounts(int(total), {keyword: int(count) for keyword, count in sorted(rows)})


def previous_period(filters: Filters) -> Filters | None:
    """The same filters over the period of equal length just before theirs; None unless both dates are set."""
    if filters.date_from is None or filters.date_to is None:
        return None
    days = filters.date_to - filters.date_from + timedelta(days=1)
    return replace(filters, date_from=filters.date_from - days, date_to=filters.date_from - timedelta(days=1))


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def comparison_period(scope: Scope, filters: Filters) -> Filters | None:
    """What a trend compares the filters' period with: the period of equal length ending on the
    last day before it on which our reviews in scope (and the region / store filters) have a
    written text, which is the period just before when that one has reviews. None when no such
    review is older than the period (nothing to compare with) or the dates are not both set."""
    before = previous_period(filters)
    if before is None:
        return None
    reviews, params = _our_reviews(scope, replace(filters, date_from=None, date_to=before.date_to))
    ((last_day,),) = _rows(
        scope, f"{reviews} select max(posted_date) from reviews where sentiment_score is not null", params
    )
    if last_day is None:
        return None
    shift = before.date_to - last_day
    return replace(before, date_from=before.date_from - shift, date_to=last_day)


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def review_sentiment_by_platform(scope: Scope, filters: Filters) -> pd.DataFrame:
    """Our reviews per platform and sentiment: platform, sentiment_label, count_reviews."""
    reviews, params = _our_reviews(scope, filters)
    return _frame(
        scope,
        f"{reviews} select platform, sentiment_label, count(*) as count_reviews from reviews"
        " group by platform, sentiment_label order by platform, sentiment_label",
        params,
    )


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def review_sentiment_trend(scope: Scope, filters: Filters) -> pd.DataFrame:
    """One row per week (Monday) and side: week_start, is_competitor, count_reviews, count_negative,
    negative_share (0..1), our reviews beside the competitors' the user may see."""
    where, params = _review_where(scope, filters)
    trend = _frame(
        scope,
        "select cast(date_trunc('week', posted_date) as date) as week_start, is_competitor,"
        " count(*) as count_reviews,"
        " count(*) filter (where sentiment_label = 'negative') as count_negative,"
        " count_negative / count(*) as negative_share"
        f" from marts.fct_reviews where {where}"
        " group by week_start, is_competitor order by week_start, is_competitor",
        params,
    )
    return _with_dates(trend, "week_start")


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def rating_disagreement(scope: Scope, filters: Filters) -> tuple[int, int, int]:
    """(our reviews whose stars disagree with their text, our reviews whose stars and text both take
    a side, all our reviews) in scope and period: a 3-star review, or one without text or rating,
    neither agrees nor disagrees, so it is left out of the share's denominator."""
    reviews, params = _our_reviews(scope, filters)
    ((disagreeing, comparable, total),) = _rows(
        scope,
        f"{reviews} select count(*) filter (where rating_disagrees), count(rating_disagrees), count(*)"
        " from reviews",
        params,
    )
    return int(disagreeing), int(comparable), int(total)


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def review_central_words(scope: Scope, filters: Filters, top_k: int = 12, reviews: int = 2_000) -> list[str]:
    """TextRank's ``top_k`` central words of our newest ``reviews`` reviews in scope and period
    (cached: the graph takes a moment, and every widget click reruns the page)."""
    where, params = _our_reviews(scope, filters)
    rows = _rows(
        scope,
        f"{where} select content from reviews where trim(coalesce(content, '')) <> ''"
        " order by posted_at desc, review_key limit ?",
        [*params, reviews],
    )
    return textrank_keywords([content for (content,) in rows], top_k)


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def negative_keywords_by_touchpoint(scope: Scope, filters: Filters, per_touchpoint: int = 5) -> pd.DataFrame:
    """The keywords of our reviews that are negative about a touchpoint, the ``per_touchpoint`` most
    frequent of each: touchpoint_id, its names, keyword, count_reviews, rank (1 = most; ties by
    keyword). Touchpoints in journey order; touchpoints without negative reviews are absent."""
    reviews, params = _our_reviews(scope, filters)
    return _frame(
        scope,
        f"{reviews}, negative as (select distinct a.touchpoint_id, r.review_key, r.keywords"
        " from marts.fct_review_aspects as a join reviews as r on r.review_key = a.review_key"
        " where a.aspect_sentiment = 'negative'),"
        " words as (select distinct touchpoint_id, review_key,"
        " unnest(string_split(keywords, ' ')) as keyword from negative),"
        " counts as (select touchpoint_id, keyword, count(*) as count_reviews from words"
        " where keyword <> '' group by touchpoint_id, keyword),"
        " ranked as (select *, row_number() over (partition by touchpoint_id"
        " order by count_reviews desc, keyword) as rank from counts)"
        " select t.touchpoint_id, t.touchpoint_name_zh, t.touchpoint_name_en, k.keyword, k.count_reviews,"
        " k.rank from ranked as k join marts.dim_touchpoint as t on t.touchpoint_id = k.touchpoint_id"
        " where k.rank <= ? order by t.stage_order, t.touchpoint_order, k.rank",
        [*params, per_touchpoint],
    )


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def review_benchmark(scope: Scope, filters: Filters) -> pd.DataFrame:
    """Our brand beside each competitor the user may see, overall and per touchpoint.

    One row per brand and aspect ('overall' first, then touchpoints in journey order): brand,
    is_competitor, aspect, touchpoint names (missing for 'overall'), count_reviews, avg_rating,
    positive_share and negative_share (0..1; 'overall' from the review's sentiment, a touchpoint
    from the aspect's, where 'neutral' counts in neither share).
    """
    where, params = _review_where(scope, filters)
    return _frame(
        scope,
        f"with reviews as (select * from marts.fct_reviews where {where}),"
        " overall as (select brand, is_competitor, 'overall' as aspect, count(*) as count_reviews,"
        " avg(rating) as avg_rating,"
        " count(*) filter (where sentiment_label = 'positive') / count(*) as positive_share,"
        " count(*) filter (where sentiment_label = 'negative') / count(*) as negative_share"
        " from reviews group by brand, is_competitor),"
        " aspects as (select r.brand, r.is_competitor, a.touchpoint_id as aspect,"
        " count(*) as count_reviews, avg(r.rating) as avg_rating,"
        " count(*) filter (where a.aspect_sentiment = 'positive') / count(*) as positive_share,"
        " count(*) filter (where a.aspect_sentiment = 'negative') / count(*) as negative_share"
        " from marts.fct_review_aspects as a join reviews as r on r.review_key = a.review_key"
        " group by r.brand, r.is_competitor, a.touchpoint_id),"
        " benchmark as (select * from overall union all select * from aspects)"
        " select b.brand, b.is_competitor, b.aspect, t.touchpoint_name_zh, t.touchpoint_name_en,"
        " b.count_reviews, b.avg_rating, b.positive_share, b.negative_share"
        " from benchmark as b left join marts.dim_touchpoint as t on t.touchpoint_id = b.aspect"
        " order by b.aspect <> 'overall', t.stage_order, t.touchpoint_order, b.aspect,"
        " b.is_competitor, b.brand",
        params,
    )


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def review_texts(
    scope: Scope,
    filters: Filters,
    keyword: str | None = None,
    touchpoint_id: str | None = None,
    sentiment: str | None = None,
    brand: str | None = None,
    limit: int = 200,
    *,
    sees_pii: bool = False,
) -> pd.DataFrame:
    """The reviews behind a keyword or a bar, newest first (``REVIEW_COLUMNS``, at most ``limit``),
    contact details in ``content`` masked unless ``sees_pii``.

    ``brand`` None means our own reviews; a brand name, that brand's reviews the user may see.
    ``keyword`` matches a whole keyword of the review (不好喝 is not 好喝). ``sentiment`` is the
    touchpoint's aspect sentiment when ``touchpoint_id`` is given, else the review's.
    """
    if sentiment is not None and sentiment not in REVIEW_SENTIMENTS:
        raise ValueError(f"sentiment must be one of {REVIEW_SENTIMENTS}, got {sentiment!r}")
    where, params = _review_where(scope, filters)
    conditions = [where]
    if brand is None:
        conditions.append("not is_competitor")
    else:
        conditions.append("brand = ?")
        params.append(brand)
    if keyword is not None:
        conditions.append("list_contains(string_split(keywords, ' '), ?)")
        params.append(keyword)
    if touchpoint_id is not None:
        conditions.append(
            "review_key in (select review_key from marts.fct_review_aspects where touchpoint_id = ?"
            " and (?::varchar is null or aspect_sentiment = ?))"
        )
        params += [touchpoint_id, sentiment, sentiment]
    elif sentiment is not None:
        conditions.append("sentiment_label = ?")
        params.append(sentiment)
    columns = ", ".join(REVIEW_COLUMNS)
    return _frame(
        Reader(scope, sees_pii),
        f"select {columns} from marts.fct_reviews where {' and '.join(conditions)}"
        " order by posted_at desc, review_key limit ?",
        [*params, limit],
    )


# --- Cases: the workbench's alert cases and the feedback behind them ------------------------------
# Cases live in the app-state store (cxlake.alerts.cases), beside the accounts, not in the serving
# copy. They are read through CaseStore with the user's Scope (its SQL keeps the scope's stores) and
# every case is checked against the scope again here, so no call hands a page another store's case:
# an id from another store's link reads exactly like an id that does not exist. Case reads are not
# cached (a click must show at once); what the serving copy says about the feedback is.
# Text that people typed (the customer's comment, the notes on a case) is masked here for roles
# without PII rights, before any page holds it.

# Roles that work cases (acknowledge, call back, note, resolve); the others only read them.
CASE_WORKER_ROLES = ("store_manager", "regional_manager", "cx_director", "admin")
# Positions that own cases (cxlake.alerts.cases.owner_for): a manager's own cases are the ones
# owned by ``<role>:<scope id>``.
CASE_OWNER_ROLES = ("store_manager", "regional_manager")
# The serving copy's columns shown beside a case's comment (fct_feedback_items, dim_touchpoint).
CASE_ITEM_COLUMNS = (
    "feedback_key", "feedback_at", "store_name", "region_name", "channel", "transaction_id",
    "ordered_at", "amount", "staff_name", "member_tier", "tenure_days", "visits_90d", "spend_90d",
    "past_nps_scores", "nps_score", "lowest_csat_score", "lowest_csat_touchpoint", "rating",
    "sentiment_label", "text",
)  # fmt: skip


def own_position(principal: Principal) -> str | None:
    """The position whose cases are the user's own (``store_manager:S001``), None for roles that
    own no cases (they see every case in scope as someone else's)."""
    if principal.role not in CASE_OWNER_ROLES:
        return None
    return owner_for(principal.role, principal.scope_id, principal.scope_id)


def may_work_cases(principal: Principal) -> bool:
    return principal.role in CASE_WORKER_ROLES


def allowed_case_actions(case: Case) -> tuple[str, ...]:
    """What the case's state allows, as CaseStore enforces it: a resolved case only takes notes, an
    acknowledged one is not acknowledged again."""
    if case.status == "resolved":
        return ("comment",)
    if case.acknowledged_at:
        return ("contact", "comment", "resolve")
    return ("acknowledge", "contact", "comment", "resolve")


def _case_store() -> CaseStore:
    """The app-state store ``$CXLAKE_HOME`` names now (not at import), as the accounts use."""
    return CaseStore(AppState.shared())


def _in_scope(case: Case, scope: Scope) -> bool:
    _check_scope(scope)
    if scope.kind == "all":
        return True
    return (case.store_id if scope.kind == "store" else case.region_id) in scope.ids


def _readable_text(text: object, sees_pii: bool) -> str | None:
    if text is None or (isinstance(text, float) and pd.isna(text)):
        return None
    return str(text) if sees_pii else pii.mask_free_text(str(text))


def _as_read(case: Case, sees_pii: bool) -> Case:
    """The case as the user may read it: the comment in its context masked unless ``sees_pii``."""
    if sees_pii or not case.context.get("text"):
        return case
    return replace(case, context={**case.context, "text": _readable_text(case.context["text"], False)})


def scoped_cases(
    scope: Scope,
    filters: Filters,
    sees_pii: bool,
    search: str | None = None,
    include_historical: bool = True,
) -> list[Case]:
    """The cases in scope and in the region / store filters, newest first; ``search`` keeps those
    whose comment contains it (ignoring case). The search reads the comment as the user may read
    it, so a masked phone number cannot be found by typing it."""
    cases = [
        _as_read(case, sees_pii)
        for case in _case_store().cases(scope, include_historical=include_historical)
        if _in_scope(case, scope)
        and (not filters.region_ids or case.region_id in filters.region_ids)
        and (not filters.store_ids or case.store_id in filters.store_ids)
    ]
    needle = (search or "").strip().casefold()
    if needle:
        cases = [case for case in cases if needle in str(case.context.get("text") or "").casefold()]
    return cases


def historical_case_count(scope: Scope, filters: Filters) -> int:
    """How many historical cases :func:`scoped_cases` leaves out with ``include_historical=False``
    (counted in the store, so a page that hides them does not read and mask them)."""
    _check_scope(scope)
    return _case_store().count_historical(scope, region_ids=filters.region_ids, store_ids=filters.store_ids)


def scoped_case(scope: Scope, case_id: str, sees_pii: bool) -> Case | None:
    """One case if it exists and is in scope, else None (the two are not told apart)."""
    try:
        case = _case_store().get(str(case_id))
    except CaseError:
        return None
    return _as_read(case, sees_pii) if _in_scope(case, scope) else None


def scoped_case_events(scope: Scope, case_id: str, sees_pii: bool) -> list[CaseEvent]:
    """What happened to a case in scope, oldest first, notes masked unless ``sees_pii``; [] otherwise."""
    if scoped_case(scope, case_id, sees_pii) is None:
        return []
    return [
        replace(event, note=_readable_text(event.note, sees_pii)) for event in _case_store().events(case_id)
    ]


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def case_rule_labels(language: str) -> dict[str, str]:
    """Rule id -> its label in ``language`` from the alert rules (cxlake/config/alerts.yaml)."""
    return {rule.rule_id: rule.label(language) for rule in load_alert_config().rules}


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def case_feedback_item(scope: Scope, feedback_key: str, sees_pii: bool) -> dict[str, object] | None:
    """The serving copy's row of the feedback a case is about (``CASE_ITEM_COLUMNS`` plus the lowest
    rated touchpoint's names), its text masked unless ``sees_pii``; None when it is not in scope or
    the serving copy has no such row (or no fct_feedback_items yet)."""
    if not _columns_of("marts", "fct_feedback_items"):
        return None
    columns = ", ".join(f"i.{column}" for column in CASE_ITEM_COLUMNS)
    with _cursor(Reader(scope, sees_pii)) as cursor:
        cursor.execute(
            "with i as (select * from marts.fct_feedback_items where feedback_key = ?)"
            f" select {columns}, t.touchpoint_name_en, t.touchpoint_name_zh from i"
            " left join marts.dim_touchpoint as t on t.touchpoint_id = i.lowest_csat_touchpoint",
            [feedback_key],
        )
        row = cursor.fetchone()
        names = [column[0] for column in cursor.description]
    if row is None:
        return None
    return dict(zip(names, row, strict=True))


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def case_customer(scope: Scope, transaction_id: str, sees_pii: bool) -> dict[str, object] | None:
    """The member behind a transaction in scope (customer_name, phone, email), masked unless
    ``sees_pii``; None for a guest, a delivery platform's order or a transaction out of scope."""
    rows = _rows(
        Reader(scope, sees_pii),
        "with t as (select customer_id from marts.fct_transactions where transaction_id = ?)"
        f" select {', '.join(PII_COLUMNS)} from t"
        " join marts.dim_customer as c on c.customer_id = t.customer_id"
        " order by c.updated_at desc limit 1",
        [transaction_id],
    )
    if not rows:
        return None
    return dict(zip(PII_COLUMNS, rows[0], strict=True))


def _workable_case(principal: Principal, case_id: str) -> str:
    """``case_id`` if the user may work it; a CaseError naming the case otherwise."""
    if not may_work_cases(principal):
        raise CaseError(f"the role {principal.role} reads cases but does not work them")
    if scoped_case(principal.scope, case_id, sees_pii=False) is None:
        raise CaseError(f"no case {case_id!r}")
    return case_id


def acknowledge_case(principal: Principal, case_id: str, note: str | None = None) -> Case:
    """The user has seen the case (audited as case_acknowledged)."""
    return _case_store().acknowledge(_workable_case(principal, case_id), principal.name, note)


def comment_on_case(principal: Principal, case_id: str, note: str) -> Case:
    """A note on the case (audited as case_commented)."""
    return _case_store().add_comment(_workable_case(principal, case_id), principal.name, note)


def record_case_contact(principal: Principal, case_id: str, method: str, note: str | None = None) -> Case:
    """Record "called back": the customer was reached by ``method`` (audited as case_contacted)."""
    return _case_store().record_contact(_workable_case(principal, case_id), principal.name, method, note)


def resolve_case(principal: Principal, case_id: str, code: str, note: str | None = None) -> Case:
    """Close the case with a resolution code (audited as case_resolved)."""
    return _case_store().resolve(_workable_case(principal, case_id), principal.name, code, note)


# --- Loop: the CX director's view of the closed loop ----------------------------------------------
# Two kinds of source: the loop marts (as of the last case snapshot the pipeline published) for the
# weekly health and the recovery comparison, and the case store itself for what is late right now,
# what could not be sent and the digest, so a breach shows the minute it happens, not after a run.
# Each mart question returns None when the serving copy has no such mart yet (published before
# the loop marts, or before any case), so the page can say so instead of showing an empty table.
LOOP_GRAINS = ("region", "store")
LOOP_HEALTH_COLUMNS = (
    "week_start", "region_id", "region_name", "store_id", "store_name", "count_cases_opened",
    "ack_sla_met_share", "resolve_sla_met_share", "median_hours_to_acknowledge",
    "median_hours_to_resolve", "count_breached_open_now",
)  # fmt: skip
RECOVERY_COLUMNS = (
    "is_worked", "count_detractors", "count_with_case", "count_judged_30d", "return_rate_30d",
    "count_judged_90d", "return_rate_90d", "avg_nps", "count_next_nps", "avg_next_nps",
)  # fmt: skip
# The rows of mart_case_recovery_summary that sum up a scope: the chain for everything, else the
# scope's own regions or stores.
_RECOVERY_GRAIN = {"all": "chain", "region": "region", "store": "store"}


def _mart_published(table: str) -> bool:
    return serving_copy_exists() and bool(_columns_of("marts", table))


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def loop_health_weeks(scope: Scope) -> list[date] | None:
    """Weeks (their Monday) of marts.mart_loop_health with cases in scope, newest first; None
    without the mart."""
    if not _mart_published("mart_loop_health"):
        return None
    rows = _rows(
        scope,
        "select distinct week_start from marts.mart_loop_health where grain = 'store'"
        " order by week_start desc",
        [],
    )
    return [week for (week,) in rows]


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def loop_health(scope: Scope, grain: str, weeks: tuple[date, ...]) -> pd.DataFrame | None:
    """marts.mart_loop_health's ``grain`` rows (region or store) of ``weeks`` in scope, worst first:
    the lowest share acknowledged within the SLA, then resolved within it, then the most cases open
    past an SLA now; a share not yet decided (NULL) sorts last. None without the mart.

    One row per week, as the mart has it: a median cannot be rolled up from weekly medians, so the
    page shows the weeks side by side rather than an average that no one computed."""
    if grain not in LOOP_GRAINS:
        raise ValueError(f"grain must be one of {LOOP_GRAINS}, got {grain!r}")
    if not _mart_published("mart_loop_health"):
        return None
    health = _frame(
        scope,
        f"select {', '.join(LOOP_HEALTH_COLUMNS)} from marts.mart_loop_health"
        " where grain = ? and list_contains(?::date[], week_start)"
        " order by ack_sla_met_share asc nulls last, resolve_sla_met_share asc nulls last,"
        " count_breached_open_now desc, week_start desc, region_id, store_id",
        [grain, list(weeks)],
    )
    health = health.drop(columns=["store_id", "store_name"] if grain == "region" else [])
    return _with_dates(health, "week_start")


def breached_cases(scope: Scope, now: datetime) -> pd.DataFrame:
    """Cases in scope late right now, most overdue first, read live from the case store: open or
    escalated past their acknowledge time, or not resolved past their resolve time. One row each
    with its store, owner and how many hours its most overdue clock is past due (``overdue_clock``
    names it), and ``link``, the case on the Feedback page.

    Historical cases are left out: their clocks ran from feedback loaded late, so they are late by
    construction and nobody was ever told of them (they escalate and notify nobody)."""
    rows = []
    for case in _case_store().cases(scope, status=ACTIVE_STATUSES, include_historical=False):
        if not _in_scope(case, scope):
            continue
        late = {}
        if case.status in ("open", "escalated") and now > datetime.fromisoformat(case.ack_due_at):
            late["acknowledge"] = now - datetime.fromisoformat(case.ack_due_at)
        if now > datetime.fromisoformat(case.resolve_due_at):
            late["resolve"] = now - datetime.fromisoformat(case.resolve_due_at)
        if not late:
            continue
        clock = max(late, key=late.__getitem__)
        rows.append(
            {
                "case_id": case.case_id,
                "case_severity": case.severity,
                "rule_id": case.rule_id,
                "region_id": case.region_id,
                "store_id": case.store_id,
                "store_name": case.context.get("store_name"),
                "owner": case.owner,
                "case_status": case.status,
                "overdue_clock": clock,
                "hours_overdue": late[clock].total_seconds() / 3600,
                "link": f"/feedback?case={case.case_id}",
            }
        )
    columns = [
        "case_id", "case_severity", "rule_id", "region_id", "store_id", "store_name", "owner",
        "case_status", "overdue_clock", "hours_overdue", "link",
    ]  # fmt: skip
    frame = pd.DataFrame(rows, columns=columns).astype({"hours_overdue": "float64"})
    return frame.sort_values(["hours_overdue", "case_id"], ascending=[False, True], ignore_index=True)


def failed_notifications(scope: Scope) -> pd.DataFrame:
    """Messages in scope that could not be sent (status ``failed``), newest first: the case's, and
    for the "all" scope also the director's digests (no case, the whole chain). Recipients are
    staff addresses from the routing of cxlake/config/alerts.yaml; no customer data is in a row."""
    store = _case_store()
    failed = [row for row in notifications(store) if row.status == "failed"]
    cases = {}
    for case_id in {row.case_id for row in failed if row.case_id}:  # only the failed rows' cases
        case = store.get(case_id)
        if _in_scope(case, scope):
            cases[case_id] = case
    rows = []
    for row in failed:
        case = cases.get(row.case_id) if row.case_id else None
        if case is None and (row.case_id or scope.kind != "all"):
            continue
        rows.append(
            {
                "created_at": row.created_at,
                "notification_kind": row.kind,
                "notification_channel": row.channel,
                "recipient": row.recipient,
                "attempts": row.attempts,
                "last_error": row.last_error,
                "case_id": row.case_id,
                "store_id": case.store_id if case else None,
            }
        )
    columns = [
        "created_at", "notification_kind", "notification_channel", "recipient", "attempts",
        "last_error", "case_id", "store_id",
    ]  # fmt: skip
    frame = pd.DataFrame(rows, columns=columns).astype({"attempts": "int64"})
    return frame.sort_values("created_at", ascending=False, ignore_index=True)


class _ScopedCaseStore(CaseStore):
    """The case store seen through one scope: :func:`cxlake.alerts.clock.daily_digest` reads every
    case it is given, so a regional manager's digest is that same function over their region."""

    def __init__(self, state: AppState, scope: Scope) -> None:
        super().__init__(state)
        self._scope = scope

    def cases(
        self,
        scope: Scope | None = None,
        *,
        status: Iterable[str] | None = None,
        store_id: str | None = None,
        owner: str | None = None,
        include_historical: bool = True,
        limit: int | None = None,
    ) -> list[Case]:
        if scope is not None and scope != self._scope:
            raise ValueError(f"this case store reads only {self._scope}, not {scope}")
        return super().cases(
            self._scope,
            status=status,
            store_id=store_id,
            owner=owner,
            include_historical=include_historical,
            limit=limit,
        )


def loop_digest(scope: Scope, day: date, now: datetime) -> dict[str, object]:
    """What the director's daily digest says for ``day`` (business time), over the cases in scope:
    opened, breached, resolved, recovered, open now and the stores with the most open cases. For
    the "all" scope it is the digest the director receives by e-mail."""
    _check_scope(scope)
    return daily_digest(_ScopedCaseStore(AppState.shared(), scope), load_alert_config(), day, now)


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def case_recovery(scope: Scope) -> pd.DataFrame | None:
    """Worked against not-worked detractors from marts.mart_case_recovery_summary, worked first:
    the chain's two rows for the "all" scope, else the rows of the scope's regions (or stores).
    None without the mart."""
    if not _mart_published("mart_case_recovery_summary"):
        return None
    return _frame(
        scope,
        f"select {', '.join(RECOVERY_COLUMNS)} from marts.mart_case_recovery_summary"
        " where grain = ? order by region_id, store_id, is_worked desc",
        [_RECOVERY_GRAIN[scope.kind]],
    )


# -- integrity
# Survey integrity (issue 14): the detection asset's verdicts per store and staff member
# (marts.mart_integrity_store / _staff, over the run's whole range) and the evidence behind them,
# counted from the answers it marked in marts.fct_survey_responses. Like every question here each
# applies the user's scope; "peers" are the other stores in that scope. None when the serving copy
# was published before the detection asset, so the page can say so instead of failing.
INTEGRITY_RESPONSE_COLUMNS = frozenset({"is_suspect", "suspect_reason", "minutes_after_sale"})
INTEGRITY_SIDES = ("store", "peers")
# Delay from the sale to the answer: (bin, upper bound in minutes, exclusive); the last bin is open.
# 6 minutes is the issue's line: a survey answered at the till, not by a customer at home.
DELAY_BINS: tuple[tuple[str, float], ...] = (
    ("under_2_min", 2),
    ("2_to_6_min", 6),
    ("6_to_15_min", 15),
    ("15_to_60_min", 60),
    ("1_to_6_h", 360),
    ("6_to_24_h", 1440),
    ("over_24_h", float("inf")),
)
NO_LINKED_SALE = "no_linked_sale"


def integrity_published() -> bool:
    """Both integrity marts and the answers' suspect marks are in the serving copy."""
    return (
        _mart_published("mart_integrity_store")
        and _mart_published("mart_integrity_staff")
        and _columns_of("marts", "fct_survey_responses") >= INTEGRITY_RESPONSE_COLUMNS
    )


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def integrity_rule_labels(language: str) -> dict[str, str]:
    """Rule id -> its words in ``language`` from the detection rules; {} while the detection
    module is not installed, so the page shows the rule ids rather than failing."""
    try:
        from cxlake.integrity import rule_labels
    except ModuleNotFoundError as missing:
        if missing.name != "cxlake.integrity":
            raise
        return {}
    return dict(rule_labels(language))


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def integrity_stores(scope: Scope) -> pd.DataFrame | None:
    """marts.mart_integrity_store's stores in scope, flagged first, then the strongest evidence
    (lowest integrity score); ``peer_top_device_share`` is the median top-device share of the other
    stores in scope (the mart has no peer figure for devices). None without the mart."""
    if not integrity_published():
        return None
    stores = _frame(
        scope,
        f"select {', '.join(MART_STORE_COLUMNS)} from marts.mart_integrity_store"
        " order by is_flagged desc, integrity_score asc nulls last, store_id",
        [],
    )
    shares = stores["top_device_share"].astype("float64")
    peers = [shares.drop(index).median() for index in stores.index]
    return stores.assign(peer_top_device_share=pd.Series(peers, index=stores.index, dtype="float64"))


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def integrity_staff(scope: Scope, store_id: str | None = None) -> pd.DataFrame | None:
    """marts.mart_integrity_staff's staff in scope (of ``store_id`` when given) with their store's
    name, flagged first, then the lowest integrity score. None without the mart."""
    if not integrity_published():
        return None
    columns = ", ".join(f"t.{column}" for column in MART_STAFF_COLUMNS)
    store_sql = "true" if store_id is None else "store_id = ?"
    return _frame(
        scope,
        f"select * from (select {columns}, d.store_name, d.region_id from marts.mart_integrity_staff as t"
        " left join marts.dim_store as d on d.store_id = t.store_id)"
        f" where {store_sql}"
        " order by is_flagged desc, integrity_score asc nulls last, store_id, staff_id",
        [] if store_id is None else [store_id],
    )


def _sided_counts(
    value_sql: str, condition: str, store_id: str, scope: Scope
) -> dict[tuple[str, object], int]:
    """(side, value) -> countable answers in scope meeting ``condition``, ``value`` being
    ``value_sql`` (constant SQL); side is ``store`` for ``store_id``'s answers, ``peers`` for the
    other stores'."""
    rows = _rows(
        scope,
        f"select case when store_id = ? then 'store' else 'peers' end as side, {value_sql} as value,"
        f" count(*) from marts.fct_survey_responses where is_countable and {condition} group by all",
        [store_id],
    )
    return {(side, value): int(count) for side, value, count in rows}


def _with_shares(frame: pd.DataFrame, countable: pd.Series) -> pd.DataFrame:
    """``share``: each row's responses over its side's total of the ``countable`` rows (missing, not
    0, for a side without any)."""
    totals = frame["responses"].where(countable, 0).groupby(frame["side"]).transform("sum")
    share = (frame["responses"] / totals.where(totals > 0)).where(countable)
    return frame.assign(share=share.astype("float64"))


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def integrity_score_shares(scope: Scope, store_id: str) -> pd.DataFrame:
    """22 rows, side (``store``, ``peers``) x score 0..10 (zero-filled): responses and share of the
    side's countable answers with a score, so a store answering "10" far more often stands out."""
    counts = _sided_counts("nps_score", "nps_score between 0 and 10", store_id, scope)
    grid = [(side, score) for side in INTEGRITY_SIDES for score in range(11)]
    frame = pd.DataFrame(
        {
            "side": [side for side, _ in grid],
            "score": [score for _, score in grid],
            "responses": pd.Series([counts.get(key, 0) for key in grid], dtype="int64"),
        }
    )
    return _with_shares(frame, pd.Series(True, index=frame.index))


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def integrity_delay_shares(scope: Scope, store_id: str) -> pd.DataFrame:
    """Rows side x delay bin (:data:`DELAY_BINS` in order, then ``no_linked_sale``): countable
    answers by how long after the sale they were given, and their share of the side's answers with a
    linked sale (missing for ``no_linked_sale``, which is counted, not shared)."""
    cases = " ".join(f"when minutes_after_sale < {bound} then '{name}'" for name, bound in DELAY_BINS[:-1])
    value_sql = (
        f"case when minutes_after_sale is null then '{NO_LINKED_SALE}' {cases} else '{DELAY_BINS[-1][0]}' end"
    )
    counts = _sided_counts(value_sql, "true", store_id, scope)
    bins = [name for name, _ in DELAY_BINS] + [NO_LINKED_SALE]
    grid = [(side, name) for side in INTEGRITY_SIDES for name in bins]
    frame = pd.DataFrame(
        {
            "side": [side for side, _ in grid],
            "delay_bin": [name for _, name in grid],
            "responses": pd.Series([counts.get(key, 0) for key in grid], dtype="int64"),
        }
    )
    return _with_shares(frame, frame["delay_bin"] != NO_LINKED_SALE)


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def integrity_suspect_reasons(scope: Scope, store_id: str) -> pd.DataFrame:
    """``store_id``'s countable answers marked suspect, per reason (rule id), most first."""
    return _frame(
        scope,
        "select suspect_reason, count(*) as responses from marts.fct_survey_responses"
        " where is_countable and is_suspect and store_id = ?"
        " group by suspect_reason order by responses desc, suspect_reason",
        [store_id],
    )


# -- insights
# The insight models' marts (issue 15): key drivers per chain / region / store, Kano verdicts on the
# chain's features, the churn watch list and the money of experience. Each question returns None
# when the serving copy was published before its mart, so the page can say so. The door already
# holds only the user's rows (key drivers and money: the chain's, their regions' and their stores';
# Kano: everyone's; churn: by store); the conditions below only pick among them.
INSIGHT_SCOPE_LEVELS = ("chain", "region", "store")
# The scope level of the money figures a reader sums up: the chain for everything, else their own.
_VALUE_LEVEL = {"all": "chain", "region": "region", "store": "store"}
WATCH_LIST_COLUMNS = (
    "watch_list_rank", "store_id", "store_name", "customer_id", "customer_name", "phone",
    "member_tier", "churn_probability", "value_at_risk", "expected_spend_horizon",
    "days_since_last_purchase", "last_nps_score", "open_cases", "reason_1", "reason_2", "reason_3",
)  # fmt: skip
EXPERIENCE_VALUE_COLUMNS = (
    "scope_level", "scope_id", "nps_category", "window_days", "last_transaction_date", "count_members",
    "is_reportable", "avg_spend", "avg_spend_ci_low", "avg_spend_ci_high", "avg_visits", "repeat_rate",
    "repeat_rate_ci_low", "repeat_rate_ci_high", "detractor_to_promoter_value",
    "detractor_to_promoter_value_ci_low", "detractor_to_promoter_value_ci_high",
    "count_detractor_members", "detractor_revenue_at_risk", "detractor_revenue_at_risk_ci_low",
    "detractor_revenue_at_risk_ci_high",
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
    if not _mart_published("mart_key_drivers"):
        return None
    return _frame(
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
    if not _mart_published("mart_key_drivers"):
        return None
    columns = ", ".join(f"k.{column}" for column in DRIVER_MART_COLUMNS)
    return _frame(
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
    if not _mart_published("mart_kano"):
        return None
    columns = ", ".join(
        "category as kano_category" if column == "category" else column for column in KANO_MART_COLUMNS
    )
    return _frame(
        scope,
        f"select {columns} from marts.mart_kano order by is_reportable desc, better desc nulls last, feature",
        [],
    )


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def churn_watch_list(scope: Scope, sees_pii: bool, store_id: str | None = None) -> pd.DataFrame | None:
    """marts.mart_churn_risk's watch-listed members in scope (of ``store_id`` when given) with their
    store's name and their name and phone from marts.dim_customer (masked by the door unless
    ``sees_pii``), most value at risk first. None without the mart."""
    if not _mart_published("mart_churn_risk"):
        return None
    store_sql = "true" if store_id is None else "c.store_id = ?"
    return _frame(
        Reader(scope, sees_pii),
        "select c.watch_list_rank, c.store_id, s.store_name, c.customer_id, d.customer_name, d.phone,"
        " c.member_tier, c.churn_probability, c.value_at_risk, c.expected_spend_horizon,"
        " c.days_since_last_purchase, c.last_nps_score, c.open_cases, c.reason_1, c.reason_2, c.reason_3"
        " from marts.mart_churn_risk as c"
        " left join marts.dim_customer as d on d.customer_id = c.customer_id"
        " left join marts.dim_store as s on s.store_id = c.store_id"
        f" where c.is_watch_listed and {store_sql}"
        " order by c.value_at_risk desc, c.store_id, c.customer_id",
        [] if store_id is None else [store_id],
    )[list(WATCH_LIST_COLUMNS)]


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def experience_value(scope: Scope) -> pd.DataFrame | None:
    """marts.mart_experience_value at the user's level (the chain for everything, else each of
    their regions or stores), promoters, passives, detractors in that order. None without the mart."""
    if not _mart_published("mart_experience_value"):
        return None
    return _frame(
        scope,
        f"select {', '.join(EXPERIENCE_VALUE_COLUMNS)} from marts.mart_experience_value"
        " where scope_level = ?"
        " order by scope_id,"
        " case nps_category when 'promoter' then 0 when 'passive' then 1 else 2 end",
        [_VALUE_LEVEL[scope.kind]],
    )


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def transaction_span(scope: Scope) -> DataSpan:
    """The first and last transaction day in scope: what an empty money mart's window did not fit."""
    ((first_day, last_day),) = _rows(
        scope, "select min(transaction_date), max(transaction_date) from marts.fct_transactions", []
    )
    return DataSpan(first_day, last_day)
