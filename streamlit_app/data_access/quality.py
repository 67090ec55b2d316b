"""The data steward's questions: validation results, failing expectations, quarantine, gaps in
deliveries and responses that do not count."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from cxlake import quarantine
from cxlake.access.roles import Scope
from cxlake.access.serving_door import Reader
from streamlit_app.data_access import core
from streamlit_app.data_access.core import CACHE_TTL_SECONDS, Filters

# --- Data quality: the steward's questions --------------------------------------------------------
# Quality results and quarantined rows are raw, unscoped data (a bad row's store_id is itself suspect),
# so only the "all" scope reads them: a narrower door shows no quarantined row and of dq only which
# days were delivered and held back (data_gaps), and these questions answer it with no rows.


def mart_columns(scope: Scope) -> dict[str, list[str]]:
    """Mart name -> columns, as the SQL box shows them (its schema browser): the user's door already
    lists them, so a page run opens no sandbox to learn them."""
    return core.door(scope).tables("marts")


def _reads_quality_results(scope: Scope) -> bool:
    core.check_scope(scope)
    return scope.kind == "all"


def _day_bounds(date_from: date | None, date_to: date | None) -> tuple[str, list[object]]:
    return (
        "(?::date is null or partition_date >= ?::date) and (?::date is null or partition_date <= ?::date)",
        [date_from, date_from, date_to, date_to],
    )


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
    if not _reads_quality_results(scope) or not core.columns_of("dq", "validation_runs"):
        return pd.DataFrame(columns=columns)
    days, day_params = _day_bounds(date_from, date_to)
    grid = core.frame(
        scope,
        f"with latest as ({_latest_runs(days)})"
        " select source, partition_date,"
        " case when bool_or(blocked) then 'blocked' when bool_and(success) then 'passed' else 'failed' end"
        " as status, sum(rows_in) as rows_in, sum(rows_loaded) as rows_loaded,"
        " sum(rows_quarantined) as rows_quarantined"
        " from latest group by source, partition_date order by partition_date, source",
        day_params,
    )
    return core.with_dates(grid[columns], "partition_date")


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
    published = core.columns_of("dq", "validation_runs") and core.columns_of("dq", "expectation_results")
    if not readable or not published:
        return pd.DataFrame(columns=columns)
    days, day_params = _day_bounds(date_from, date_to)
    failing = core.frame(
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
    return core.with_dates(failing[columns], "partition_date")


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def quarantine_volume(
    scope: Scope, date_from: date | None = None, date_to: date | None = None
) -> pd.DataFrame:
    """Rows quarantined per partition day and source, from the load audit."""
    columns = ["partition_date", "source", "rows_in", "rows_quarantined"]
    if not _reads_quality_results(scope) or not core.columns_of("dq", "load_audit"):
        return pd.DataFrame(columns=columns)
    days, day_params = _day_bounds(date_from, date_to)
    volume = core.frame(
        scope,
        "select partition_date, source, sum(rows_in) as rows_in, sum(rows_quarantined) as rows_quarantined"
        f" from dq.load_audit where {days}"
        " group by partition_date, source order by partition_date, source",
        day_params,
    )
    return core.with_dates(volume, "partition_date")


RETENTION_COLUMNS = ["purged_at", "field", "relation", "column_name", "cutoff", "rows_purged"]


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def retention_purges(scope: Scope) -> pd.DataFrame:
    """What the retention purge emptied or deleted, newest first: one row per pass, field and table
    that purged anything (dq.retention_purges holds no value, only where, up to which day and how
    many rows)."""
    if not _reads_quality_results(scope) or not core.columns_of("dq", "retention_purges"):
        return pd.DataFrame(columns=RETENTION_COLUMNS)
    purges = core.frame(
        scope,
        f"select {', '.join(RETENTION_COLUMNS)} from dq.retention_purges where rows_purged > 0"
        " order by purged_at desc, field, relation, column_name",
        [],
    )
    return core.with_dates(purges, "cutoff")


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def last_retention_pass(scope: Scope) -> tuple[pd.Timestamp, int] | None:
    """When the purge last ran and how many rows it purged (zero too: every pass is recorded, so
    the steward sees that retention runs, not only when it took something)."""
    if not _reads_quality_results(scope) or not core.columns_of("dq", "retention_purges"):
        return None
    last = core.frame(
        scope,
        "select purged_at, sum(rows_purged) as rows_purged from dq.retention_purges"
        " group by purged_at order by purged_at desc limit 1",
        [],
    )
    return None if last.empty else (last["purged_at"].iloc[0], int(last["rows_purged"].iloc[0]))


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
    core.check_scope(scope)
    if not core.columns_of("dq", "validation_runs") or not core.columns_of("dq", "load_audit"):
        return pd.DataFrame(columns=DATA_GAP_COLUMNS)
    days, day_params = _day_bounds(date_from, date_to)
    gaps = core.frame(
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
    return core.with_dates(gaps[DATA_GAP_COLUMNS], "partition_date")


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def non_countable_responses(scope: Scope, filters: Filters) -> pd.DataFrame:
    """Survey responses left out of every metric, with why (test, preview, duplicate, speeder...)."""
    columns = [
        "response_date", "survey_id", "response_id", "source_system", "store_id", "status",
        "exclusion_reason",
    ]  # fmt: skip
    if "exclusion_reason" not in core.columns_of("marts", "fct_survey_responses"):
        return pd.DataFrame(columns=columns)
    where, params = core.where(scope, filters, countable=False)
    excluded = core.frame(
        scope,
        f"select {', '.join(columns)} from marts.fct_survey_responses where {where}"
        " order by response_date desc, survey_id, response_id",
        params,
    )
    return core.with_dates(excluded, "response_date")


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def quarantine_tables(scope: Scope) -> tuple[str, ...]:
    """The quarantine tables the serving copy has (allow-listed, in a fixed order); none outside "all"."""
    if not _reads_quality_results(scope):
        return ()
    return quarantine.present_tables(core.door(scope))


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def quarantined_rows(scope: Scope, table: str, *, sees_pii: bool = False) -> pd.DataFrame:
    """A table's quarantined rows as delivered with file, line and failed expectations, masked unless
    ``sees_pii`` (names, phones, e-mails, and contact details in every other text column: the door's).

    ``table`` must be on the allow-list in :mod:`cxlake.quarantine`; anything else raises.
    """
    quarantine.checked_table(table)
    if table not in quarantine_tables(scope):
        return pd.DataFrame(columns=list(quarantine.LINEAGE_COLUMNS))
    return quarantine.quarantined_rows(core.door(Reader(scope, sees_pii)), table)
