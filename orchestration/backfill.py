"""`cxlake backfill`: a range of days loaded one day at a time, in order, then built once.

Each day is its own ingestion run (`cxlake ingest` for that day), so Dagster records each day's
partitions as they finish and a failure keeps every day before it; the models and the serving copy
are then built once over the range (one `dbt build`, not one per day). What is done is read from
the warehouse itself, so a backfill resumes after a failure without a state file of its own:

- a day is done for a source when the load audit records it loaded, every audited file still has
  the checksum it was loaded with, and no file in the day's folder is newer than that load (a
  file added later is a new delivery; an older one the reader left unread stays left);
- a day the gate held back, or that failed, has no 'loaded' audit and is tried again;
- the build is due when a day was loaded now, or when the warehouse's audit for the range differs
  from the serving copy's (the last backfill loaded days and stopped before publishing them).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb

from assets.ingestion.sources import SOURCES
from cxlake.delivered_files import file_checksum
from cxlake.warehouse_lock import Writer, warehouse_writer
from orchestration.runner import PipelineRun, Stage, ingestion_keys, run_pipeline

AUDIT_OF_RANGE = """
    select source, cast(partition_date as varchar), file, checksum, loaded_at, status
    from dq.load_audit where partition_date between ? and ?
"""


@dataclass(frozen=True)
class DayToLoad:
    day: str
    sources: tuple[str, ...]
    reasons: tuple[str, ...]


@dataclass
class BackfillOutcome:
    loaded: list[PipelineRun] = field(default_factory=list)
    build: PipelineRun | None = None
    failed: PipelineRun | None = None

    @property
    def nothing_to_do(self) -> bool:
        return not self.loaded and self.build is None and self.failed is None


def _audit(database: Path, first: str, last: str) -> list[tuple]:
    """The load audit's rows for the range ([] for a missing or never-loaded database)."""
    if not database.is_file():
        return []
    try:
        with duckdb.connect(str(database), read_only=True) as connection:
            return connection.execute(AUDIT_OF_RANGE, [first, last]).fetchall()
    except duckdb.CatalogException:  # no dq.load_audit yet
        return []


def days_to_load(
    landing: Path, warehouse: Path, first: str, last: str, sources: tuple[str, ...] | None = None
) -> list[DayToLoad]:
    """The days of first..last (in order) with a source whose delivery is not loaded as it is now."""
    names = [source.name for source in SOURCES if sources is None or source.name in sources]
    audit: dict[tuple[str, str], list[tuple]] = {}
    for source, day, file, checksum, loaded_at, status in _audit(warehouse, first, last):
        audit.setdefault((source, day), []).append((file, checksum, loaded_at, status))
    todo = []
    day = date.fromisoformat(first)
    while day.isoformat() <= last:
        pending, reasons = [], []
        for source in names:
            reason = _why_not_done(landing, source, day.isoformat(), audit.get((source, day.isoformat()), []))
            if reason:
                pending.append(source)
                reasons.append(reason)
        if pending:
            todo.append(DayToLoad(day.isoformat(), tuple(pending), tuple(reasons)))
        day += timedelta(days=1)
    return todo


def _why_not_done(landing: Path, source: str, day: str, audit: list[tuple]) -> str | None:
    """Why a source's day must be loaded again, or None when the audit says it is loaded as landed."""
    folder = landing / source / day
    if not folder.is_dir():
        return None  # nothing delivered: nothing to load
    files = {str(path.relative_to(landing)): path for path in folder.rglob("*") if path.is_file()}
    if not files:
        return None
    loaded = [row for row in audit if row[3] == "loaded"]
    if not loaded:
        held = any(row[3] == "held_back" for row in audit)
        return f"{source}/{day}: {'held back last time' if held else 'not loaded yet'}"
    loaded_at = min(row[2] for row in loaded)
    for file, checksum, _, _ in loaded:
        path = files.get(file)
        if path is None:
            return f"{file}: loaded before, no longer delivered"
        if checksum is not None and file_checksum(path.read_bytes()) != checksum:
            return f"{file}: changed since it was loaded"
    audited = {row[0] for row in loaded}
    for name, path in files.items():
        modified = datetime.fromtimestamp(path.stat().st_mtime, UTC)
        if name not in audited and modified > loaded_at:
            return f"{name}: delivered after the day was loaded"
    return None


def build_is_due(warehouse: Path, serving: Path, first: str, last: str) -> bool:
    """The serving copy does not hold the warehouse's loads of the range (a build did not follow)."""
    return sorted(_audit(warehouse, first, last), key=repr) != sorted(_audit(serving, first, last), key=repr)


def backfill(
    landing: Path,
    warehouse: Path,
    first: str,
    last: str,
    dagster_home: Path | None = None,
    sources: tuple[str, ...] | None = None,
    on_wait: Callable[[Writer | None], None] | None = None,
    progress: Callable[[str], None] | None = None,
    plan: Callable[[list[DayToLoad]], None] | None = None,
) -> BackfillOutcome:
    """Load each undone day of first..last in order, then build and publish the range once.

    Holds the warehouse's write lock throughout, so no other writer slips in between two days.
    ``plan`` hears the days to load before the first; ``progress`` hears each step as it ends.
    Stops at the first failed day: the days before it stay loaded, and the same call resumes there.
    """
    if first > last:
        raise ValueError(f"start {first} is after end {last}")
    ingestion_keys(sources)  # an unknown source fails here, naming the known ones
    outcome = BackfillOutcome()
    serving = warehouse.with_name("serving.duckdb")
    with warehouse_writer(warehouse, f"backfill {first}..{last}", on_wait=on_wait):
        todo = days_to_load(landing, warehouse, first, last, sources)
        if plan is not None:
            plan(todo)
        for day in todo:
            when = date.fromisoformat(day.day)
            run = run_pipeline(
                landing, warehouse, when, when, dagster_home, stage=Stage.ingest, sources=day.sources
            )
            if not run.success:
                outcome.failed = run
                return outcome
            outcome.loaded.append(run)
            if progress is not None:
                progress(day.day)
        if outcome.loaded or build_is_due(warehouse, serving, first, last):
            start, end = date.fromisoformat(first), date.fromisoformat(last)
            run = run_pipeline(landing, warehouse, start, end, dagster_home, stage=Stage.build)
            if run.success:
                outcome.build = run
            else:
                outcome.failed = run
            if progress is not None:
                progress("build")
    return outcome
