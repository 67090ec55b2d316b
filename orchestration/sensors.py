"""Sensors: a delivery that lands is loaded (and its unhappy customers alerted) within a minute or
two, not the next morning; and the case clock (escalation, digest, message retries) keeps ticking.

The landing sensor remembers each delivered file by path, size and modification time (its cursor).
With no cursor yet (a new Dagster home), the files the serving copy already records as loaded, by
checksum, count as seen, so turning the sensor on over a loaded landing folder starts no backfill.
A file still being written (changed in the last ``settle_seconds``) waits for the next tick.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
from dagster import (
    DefaultSensorStatus,
    JobDefinition,
    RunRequest,
    SensorDefinition,
    SensorEvaluationContext,
    SkipReason,
    sensor,
)

from cxlake.alerts.cases import CaseStore
from cxlake.alerts.clock import tick
from cxlake.alerts.config import load_alert_config
from cxlake.app_state import AppState
from orchestration.partitions import PARTITION_RANGE_END_TAG, PARTITION_RANGE_START_TAG
from orchestration.resources import LandingZone, Warehouse
from orchestration.runner import DAY_FOLDER

SETTLE_SECONDS = 5.0
LANDING_SENSOR_INTERVAL_SECONDS = 30
CASE_CLOCK_INTERVAL_SECONDS = 60


def landed_files(landing: Path) -> Iterator[tuple[str, str, Path]]:
    """(day, path relative to landing, path) of every file in a delivery-day folder."""
    if not landing.is_dir():
        return
    for source in sorted(p for p in landing.iterdir() if p.is_dir()):
        for folder in sorted(p for p in source.iterdir() if p.is_dir() and DAY_FOLDER.match(p.name)):
            try:
                date.fromisoformat(folder.name)
            except ValueError:
                continue  # `cxlake run` names such folders; the sensor leaves them to it
            for path in sorted(p for p in folder.rglob("*") if p.is_file()):
                yield folder.name, str(path.relative_to(landing)), path


def fingerprint(path: Path) -> str:
    stat = path.stat()
    return f"{stat.st_size}:{stat.st_mtime_ns}"


def loaded_checksums(serving: Path) -> set[tuple[str, str]]:
    """(file, sha256) of every file the published copy records as loaded (none if unpublished)."""
    if not serving.exists():
        return set()
    try:
        with duckdb.connect(str(serving), read_only=True) as connection:
            rows = connection.execute(
                "select file, checksum from dq.load_audit where status = 'loaded' and checksum is not null"
            ).fetchall()
    except duckdb.Error:
        return set()
    return {(file, checksum) for file, checksum in rows}


def changed_days(
    landing: Path, seen: dict[str, str], serving: Path, now: float, settle_seconds: float = SETTLE_SECONDS
) -> tuple[list[str], dict[str, str]]:
    """Days with a new or changed settled file since ``seen``, and the new ``seen``.

    An empty ``seen`` (first tick) is filled from the serving copy's load audit, so only files it
    does not record as loaded count as new.
    """
    baseline = loaded_checksums(serving) if not seen else set()
    updated = dict(seen)
    days: set[str] = set()
    for day, name, path in landed_files(landing):
        try:
            mark = fingerprint(path)
            if now - path.stat().st_mtime < settle_seconds:
                continue  # still being written; the next tick sees it settled
        except FileNotFoundError:
            continue
        if updated.get(name) == mark:
            continue
        if baseline and (name, hashlib.sha256(path.read_bytes()).hexdigest()) in baseline:
            updated[name] = mark
            continue
        updated[name] = mark
        days.add(day)
    return sorted(days), updated


def day_ranges(days: list[str]) -> list[tuple[str, str]]:
    """Consecutive days grouped into (first, last) ranges: one run per range."""
    ranges: list[tuple[str, str]] = []
    for day in days:
        if ranges and date.fromisoformat(day) - date.fromisoformat(ranges[-1][1]) == timedelta(days=1):
            ranges[-1] = (ranges[-1][0], day)
        else:
            ranges.append((day, day))
    return ranges


def build_landing_sensor(job: JobDefinition, landing: LandingZone, warehouse: Warehouse) -> SensorDefinition:
    """Requests a run of ``job`` over each range of days that received new or changed files."""

    @sensor(
        name="landing_sensor",
        job=job,
        minimum_interval_seconds=LANDING_SENSOR_INTERVAL_SECONDS,
        default_status=DefaultSensorStatus.RUNNING,
        description=(
            "Loads each delivery within a minute of landing: new or changed files in "
            "landing/<source>/<day>/ start a run of their days (alerts go out at its end)."
        ),
    )
    def landing_sensor(context: SensorEvaluationContext):
        seen = json.loads(context.cursor) if context.cursor else {}
        days, updated = changed_days(landing.path, seen, warehouse.serving, time.time())
        context.update_cursor(json.dumps(updated, sort_keys=True))
        if not days:
            return SkipReason("no new or changed deliveries")
        requests = []
        for first, last in day_ranges(days):
            signature = hashlib.sha256(
                json.dumps({k: v for k, v in updated.items() if first <= k.split("/")[1] <= last}).encode()
            ).hexdigest()[:16]
            requests.append(
                RunRequest(
                    run_key=f"landing:{first}:{last}:{signature}",
                    tags={PARTITION_RANGE_START_TAG: first, PARTITION_RANGE_END_TAG: last},
                )
            )
        return requests

    return landing_sensor


def build_case_clock_sensor(warehouse: Warehouse) -> SensorDefinition:
    """Every minute: escalate cases past their acknowledge SLA, queue the daily digest, retry messages."""

    @sensor(
        name="case_clock",
        minimum_interval_seconds=CASE_CLOCK_INTERVAL_SECONDS,
        default_status=DefaultSensorStatus.RUNNING,
        description=(
            "Escalates unacknowledged cases past their SLA, sends the director's digest and owed messages."
        ),
    )
    def case_clock(context: SensorEvaluationContext):
        state = warehouse.app_state
        if not state.exists():
            return SkipReason("no app state yet")
        result = tick(CaseStore(AppState(state)), load_alert_config(), datetime.now().astimezone())
        return SkipReason(
            f"escalated {len(result.escalated)}, digest {result.digest_day or '-'}, "
            f"sent {result.dispatched.sent}, failed {result.dispatched.failed}"
        )

    return case_clock
