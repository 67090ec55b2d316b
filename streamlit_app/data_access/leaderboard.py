"""Stores compared and customers heard: the leaderboard, peer benchmarks (other stores' identities
hidden by the door's peers schema), interval tiers and the recent feedback list."""

from __future__ import annotations

from dataclasses import dataclass, replace

import pandas as pd
import streamlit as st

from cxlake.access.roles import PII_COLUMNS, Scope
from cxlake.access.serving_door import Reader
from cxlake.metrics import nps_from_counts, settings
from streamlit_app.data_access import core
from streamlit_app.data_access.core import CACHE_TTL_SECONDS, PEER_NPS_DAILY, Filters

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
    stores = core.frame(
        scope,
        "with counts as (select coalesce(store_id, peer_key) as store_id,"
        f" bool_or(store_id is not null and {view_sql}) as in_view, {core.NPS_SUMS}"
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
    marks = {"store_id", "is_flagged", "reasons"} <= core.columns_of("marts", INTEGRITY_MART)
    # Without the asset's verdicts every response reads "not suspect": a switch would change nothing.
    return IntegrityFeatures(
        marks=marks, suspect_switch=marks and "is_suspect" in core.columns_of("marts", "fct_nps_daily")
    )


def _peer_condition(filters: Filters, without_suspect: bool) -> tuple[str, list[object]]:
    """Every store's countable answers in the filters' period and channels: who a store is compared
    with. The scope and the region / store filters choose what is shown, not who the peers are."""
    return core.daily_where(
        Scope.everything(), replace(filters, region_ids=(), store_ids=()), without_suspect
    )


def _view_condition(filters: Filters) -> tuple[str, list[object]]:
    """The rows the user picked: the region / store filters (the door gives only their scope's)."""
    return core.scoped_filters(
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
    benchmarks = core.frame(
        scope,
        f"with answers as (select * from {PEER_NPS_DAILY} where {peers_sql}),"
        " regions as (select distinct region_id, region_name from marts.dim_store where ?)"
        f" select 'region' as level, g.region_id, g.region_name, {core.NPS_SUMS}"
        " from regions as g left join answers as a on a.region_id = g.region_id"
        " group by g.region_id, g.region_name"
        f" union all select 'chain', null, null, {core.NPS_SUMS} from answers"
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
    behind each (through their transaction), masked unless ``sees_pii``; detractors only if asked.

    The door masks a column on every row it reads before a join can drop the row (all 200,000
    customers of a medium chain for 500 responses), so the list is cut before anything masked is
    read: first the newest responses' times and customers (no masked column), then only the
    responses from the oldest of those times on and only those customers, named as constants
    so that DuckDB filters the rows before it masks them."""
    where, params = core.where(scope, filters)
    if detractors_only:
        where += " and nps_category = 'detractor'"
    newest = core.rows(
        scope,
        "with responses as (select response_key, responded_at, transaction_id"
        f" from marts.fct_survey_responses where {where} order by responded_at desc, response_key limit ?)"
        " select r.responded_at, r.transaction_id, t.customer_id from responses as r"
        " left join marts.fct_transactions as t on t.transaction_id = r.transaction_id",
        [*params, limit],
    )
    since = min((responded_at for responded_at, _, _ in newest), default=None)
    sales = sorted({(sale, customer) for _, sale, customer in newest if customer is not None})
    customers = sorted({customer for _, customer in sales})
    named = ", ".join("?" * len(customers)) or "null"
    pii = ", ".join(PII_COLUMNS)
    feedback = core.frame(
        Reader(scope, sees_pii, follow_up=True),
        "with responses as (select response_key, responded_at, store_id, channel, nps_score,"
        f" nps_category, comment, transaction_id from marts.fct_survey_responses where {where}"
        " and responded_at >= ? order by responded_at desc, response_key limit ?),"
        " sales as (select unnest(?::varchar[]) as transaction_id, unnest(?::varchar[]) as customer_id),"
        f" customers as (select customer_id, {pii} from marts.dim_customer where customer_id in ({named}))"
        " select r.responded_at, coalesce(d.store_name, r.store_id) as store, r.store_id, r.channel,"
        " r.nps_score, r.nps_category, r.comment, u.customer_name, u.phone, u.email"
        " from responses as r left join marts.dim_store as d on d.store_id = r.store_id"
        " left join sales as s on s.transaction_id = r.transaction_id"
        " left join customers as u on u.customer_id = s.customer_id"
        " order by r.responded_at desc, r.response_key",
        [*params, since, limit, [sale for sale, _ in sales], [customer for _, customer in sales], *customers],
    )
    return feedback[list(FEEDBACK_COLUMNS)]
