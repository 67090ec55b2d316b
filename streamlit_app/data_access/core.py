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

import functools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Literal

import duckdb
import pandas as pd
import streamlit as st

from cxlake.access.roles import Scope
from cxlake.access.serving_door import Door, Reader, ServingCopyMissing, open_door, served_relations
from cxlake.paths import cxlake_paths

# Cached answers are dropped as soon as a run publishes a new serving copy (see
# forget_answers_of_a_replaced_copy, called by every page); the hour only bounds the memory held by
# selections nobody repeats.
CACHE_TTL_SECONDS = 3600
TREND_GRAINS = ("day", "week", "month")
NPS_COUNTS = """
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
NPS_SUMS = """
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


def door(who: Scope | Reader) -> Door:
    """The door of ``who`` (a scope reads without PII rights) to the serving copy of ``$CXLAKE_HOME``."""
    path = serving_path()
    if not path.is_file():
        raise ServingCopyMissing(f"no serving copy at {path}")
    return _open_door(str(path), who if isinstance(who, Reader) else Reader(who)).door


@contextmanager
def cursor(who: Scope | Reader) -> Iterator[duckdb.DuckDBPyConnection]:
    """A cursor per query: one DuckDB connection must not be used by two sessions' threads at once."""
    with door(who).connection.cursor() as opened:
        yield opened


def where(scope: Scope, filters: Filters, countable: bool = True) -> tuple[str, list[object]]:
    """Countable (or, for the steward, non-countable) rows AND the user's scope AND the filters."""
    where, params = scoped_filters(scope, filters, "response_date")
    return f"{'is_countable' if countable else 'not is_countable'} and {where}", params


def daily_where(scope: Scope, filters: Filters, without_suspect: bool = False) -> tuple[str, list[object]]:
    """The user's scope AND the filters over the daily marts (marts.fct_nps_daily, marts.fct_csat_daily:
    already countable responses only);
    ``without_suspect`` leaves out the rows of responses the integrity asset marked suspect."""
    where, params = scoped_filters(scope, filters, "date_day")
    return (f"{where} and not is_suspect" if without_suspect else where), params


def scoped_filters(
    scope: Scope, filters: Filters, date_column: Literal["response_date", "journey_date", "date_day"]
) -> tuple[str, list[object]]:
    """The sidebar filters, dates applied to ``date_column`` (the scope is the door's: ``scope`` is
    only checked to be one)."""
    check_scope(scope)
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


def check_scope(scope: Scope) -> None:
    if not isinstance(scope, Scope):
        raise TypeError(f"a Scope is required, got {type(scope).__name__}")


def frame(who: Scope | Reader, sql: str, params: list[object]) -> pd.DataFrame:
    with cursor(who) as opened:
        return opened.execute(sql, params).df()


def rows(who: Scope | Reader, sql: str, params: list[object]) -> list[tuple]:
    with cursor(who) as opened:
        return opened.execute(sql, params).fetchall()


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def filter_options(scope: Scope) -> FilterOptions:
    """Date bounds (of survey responses and of our reviews, so the Voice page can reach every
    review), regions, stores and channels the user may pick from: one statement, as every page's
    sidebar asks it first."""
    check_scope(scope)
    days = f"select date_day as day from {NPS_DAILY}"
    if columns_of("marts", "fct_reviews"):  # a serving copy published before the review marts has none
        days += " union all select posted_date from marts.fct_reviews where not is_competitor"
    ((date_min, date_max, stores, channels),) = rows(
        scope,
        f"with days as ({days})"
        " select (select min(day) from days), (select max(day) from days),"
        " (select list((store_id, store_name, region_id, region_name) order by region_id, store_id)"
        " from marts.dim_store),"
        f" (select list(distinct channel order by channel) from {NPS_DAILY} where channel is not null)",
        [],
    )
    stores = stores or []  # (store_id, store_name, region_id, region_name), unnamed structs
    return FilterOptions(
        date_min=date_min,
        date_max=date_max,
        regions={region_id: region_name for _, _, region_id, region_name in stores},
        stores={store_id: store_name for store_id, store_name, _, _ in stores},
        store_regions={store_id: region_id for store_id, _, region_id, _ in stores},
        channels=tuple(channels or ()),
    )


@functools.lru_cache(maxsize=4)
def _served_relations(path: str, signature: tuple[int, int]) -> dict[tuple[str, str], list[str]]:
    """The catalog of the copy at ``path`` as it was at ``signature``: a new publish is a new key.
    Kept per process, not in st.cache_resource: it holds names only, and a copy's names never change."""
    return served_relations(Path(path))


def columns_of(schema: str, table: str) -> set[str]:
    """The relation's columns, empty when the serving copy does not have it (yet).

    Read from the copy's catalog (:func:`cxlake.access.serving_door.served_relations`), once per
    published copy: a page asks which marts a copy has many times, and building a door to answer it
    cost as much as a page. Raises :class:`ServingCopyMissing` when nothing is published."""
    path = serving_path()
    try:
        signature = _file_signature(path)
    except FileNotFoundError:
        raise ServingCopyMissing(f"no serving copy at {path}") from None
    return set(_served_relations(str(path), signature).get((schema, table), []))


def with_dates(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """DuckDB dates arrive as timestamps; tables for people show them as dates."""
    return frame.assign(**{column: frame[column].dt.date}) if not frame.empty else frame


def mart_published(table: str) -> bool:
    return serving_copy_exists() and bool(columns_of("marts", table))


def previous_period(filters: Filters) -> Filters | None:
    """The same filters over the period of equal length just before theirs; None unless both dates are set."""
    if filters.date_from is None or filters.date_to is None:
        return None
    days = filters.date_to - filters.date_from + timedelta(days=1)
    return replace(filters, date_from=filters.date_from - days, date_to=filters.date_from - timedelta(days=1))
