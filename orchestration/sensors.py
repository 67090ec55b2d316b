"""Sensors: a delivery that lands is loaded (and its unhappy customers alerted) within a minute or
two, not the next morning; the case clock (escalation, digest, message retries) keeps ticking; each
source's freshness is judged; a failed run reaches the data team.

The landing sensor starts a run for a source's day once that day's delivery is complete
(docs/landing.md, "When a delivery is complete"): at once when its folder holds a ``manifest.sha256``
whose files are all there with those checksums, otherwise once the folder has been quiet for the
source's quiet period (or its oldest new file waited the longest allowed). It never starts a run for
a file it already loaded: a file counts as new only when its content (sha256) is neither what the
serving copy's load audit records as loaded under that name nor what the sensor already requested.
Its cursor keeps each file's size and modification time with its checksum, so an unchanged file is
not read again; a file touched or copied again with the same bytes starts nothing.
"""

import hashlib
import json
import re
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from importlib import resources
from pathlib import Path

import duckdb
import yaml
from dagster import (
    AssetCheckEvaluation,
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetKey,
    AssetSelection,
    DefaultSensorStatus,
    JobDefinition,
    RunFailureSensorContext,
    RunRequest,
    SensorDefinition,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    multi_asset_check,
    run_failure_sensor,
    sensor,
)

from assets.ingestion.assets import raw_asset_key
from assets.ingestion.sources import SOURCES
from cxlake.alerts.cases import CaseStore
from cxlake.alerts.clock import tick
from cxlake.alerts.config import load_alert_config
from cxlake.alerts.outbox import dispatch_pending
from cxlake.alerts.run_failures import queue_run_failure, run_failure_routing
from cxlake.app_state import AppState
from cxlake.contracts import BUSINESS_TIMEZONE
from cxlake.freshness import LAST_DELIVERIES_SQL, FreshnessRule, FreshnessState, freshness_rules, judge
from cxlake.pipeline.partitions import (
    PARTITION_RANGE_END_TAG,
    PARTITION_RANGE_START_TAG,
    run_day_range,
)
from cxlake.pipeline.resources import LandingZone, Warehouse
from orchestration.runner import DAY_FOLDER

MANIFEST_NAME = "manifest.sha256"
# A file is written in one go once it has not changed for this long (the floor under every wait).
SETTLE_SECONDS = 5.0
LANDING_SENSOR_INTERVAL_SECONDS = 30
CASE_CLOCK_INTERVAL_SECONDS = 60
FRESHNESS_SENSOR_INTERVAL_SECONDS = 300
# The freshness sensor records a verdict when it changes, and at least this often otherwise.
FRESHNESS_REPORT_EVERY = timedelta(hours=1)
FRESHNESS_CHECK_NAME = "delivery_freshness"
_MANIFEST_LINE = re.compile(r"^([0-9a-fA-F]{64}) [ *](.+)$")
_SOURCE_TABLES = {source.name: source.tables for source in SOURCES}


# -- when a delivery is complete ------------------------------------------------------------------


@dataclass(frozen=True)
class LandingSettings:
    """How long a source's day folder must stay unchanged (without a manifest) before it loads."""

    quiet_seconds: float = 120.0
    max_wait_seconds: float = 900.0


def landing_settings(document: Mapping[str, object] | None = None) -> dict[str, LandingSettings]:
    """``landing`` of cxlake/config/pipeline.yaml: source -> settings; key "" holds the defaults."""
    if document is None:
        text = resources.files("cxlake.config").joinpath("pipeline.yaml").read_text("utf-8")
        document = yaml.safe_load(text) or {}
    section = document.get("landing") or {}
    where = "cxlake/config/pipeline.yaml: landing"

    def read(values: Mapping[str, object], base: LandingSettings, at: str) -> LandingSettings:
        fields = {}
        for key in ("quiet_seconds", "max_wait_seconds"):
            value = values.get(key, getattr(base, key))
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise ValueError(f"{where}{at}.{key}: {value!r} is not a number of seconds >= 0")
            fields[key] = float(value)
        return LandingSettings(**fields)

    defaults = read(section, LandingSettings(), "")
    settings = {"": defaults}
    for source, values in (section.get("sources") or {}).items():
        if source not in _SOURCE_TABLES:
            raise ValueError(f"{where}.sources.{source}: not a source ({', '.join(sorted(_SOURCE_TABLES))})")
        settings[source] = read(values or {}, defaults, f".sources.{source}")
    return settings


@dataclass(frozen=True)
class DeliveredFile:
    name: str  # relative to landing/, as the load audit names it
    path: Path
    fingerprint: str  # size:mtime_ns, cheap to compare every tick
    changed_at: float  # the later of mtime and ctime: a copy keeping old mtimes still looks new


def _delivered(path: Path, landing: Path) -> DeliveredFile:
    stat = path.stat()
    return DeliveredFile(
        str(path.relative_to(landing)),
        path,
        f"{stat.st_size}:{stat.st_mtime_ns}",
        max(stat.st_mtime, stat.st_ctime),
    )


def day_folders(landing: Path) -> Iterator[tuple[str, str, Path]]:
    """(source, day, folder) of every delivery-day folder of a known source."""
    if not landing.is_dir():
        return
    for source in sorted(p for p in landing.iterdir() if p.is_dir() and p.name in _SOURCE_TABLES):
        for folder in sorted(p for p in source.iterdir() if p.is_dir() and DAY_FOLDER.match(p.name)):
            try:
                date.fromisoformat(folder.name)
            except ValueError:
                continue  # `cxlake run` names such folders; the sensor leaves them to it
            yield source.name, folder.name, folder


def _in_progress(path: Path) -> bool:
    """A copy still under way: rsync's and many uploaders' temporary names."""
    return path.name.startswith(".") or path.suffix in (".partial", ".part", ".tmp", ".filepart")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_manifest(path: Path) -> dict[str, str]:
    """``sha256sum`` output: file name (relative to the day folder) -> checksum."""
    listed = {}
    for number, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        match = _MANIFEST_LINE.match(line.strip())
        if not match:
            raise ValueError(f"{path}:{number}: not '<sha256>  <file name>'")
        listed[match.group(2)] = match.group(1).lower()
    return listed


def delivery_complete(
    folder: Path, files: list[DeliveredFile], new: list[DeliveredFile], settings: LandingSettings, now: float
) -> tuple[bool, str]:
    """Whether the day folder's delivery is complete, and if not what it waits for (one line)."""
    where = f"{folder.parent.name}/{folder.name}"
    manifest = folder / MANIFEST_NAME
    if manifest.is_file():
        try:
            listed = read_manifest(manifest)
        except (ValueError, UnicodeDecodeError) as error:
            return False, f"{where}: {error}"
        for name, checksum in sorted(listed.items()):
            path = folder / name
            if not path.is_file():
                return False, f"{where}: {MANIFEST_NAME} lists {name}, not there yet"
            if sha256_of(path) != checksum:
                return False, f"{where}: {name} does not match its checksum in {MANIFEST_NAME} yet"
        return True, f"{where}: {MANIFEST_NAME} complete"
    if any(_in_progress(f.path) for f in files):
        return False, f"{where}: a file is still being copied"
    quiet_for = now - max(f.changed_at for f in files)
    if quiet_for >= max(settings.quiet_seconds, SETTLE_SECONDS):
        return True, f"{where}: quiet for {quiet_for:.0f} s"
    waited = now - min(f.changed_at for f in new)
    if waited >= settings.max_wait_seconds and quiet_for >= SETTLE_SECONDS:
        return True, f"{where}: waited {waited:.0f} s"
    return (
        False,
        f"{where}: changed {quiet_for:.0f} s ago, waiting for {settings.quiet_seconds:.0f} s of quiet",
    )


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


@dataclass(frozen=True)
class LandingScan:
    """One look at landing/: the (source, day) deliveries to run, with the files that make them new,
    what still waits, and the cursor to keep."""

    due: dict[tuple[str, str], list[tuple[str, str]]]  # (source, day) -> [(file, sha256)]
    waiting: list[str]
    seen: dict[str, list]


def scan_landing(
    landing: Path,
    seen: Mapping[str, object],
    serving: Path,
    now: float,
    settings: Mapping[str, LandingSettings] | None = None,
) -> LandingScan:
    """Complete deliveries holding a file whose content was neither loaded nor requested before.

    ``seen``: file -> [fingerprint, sha256] from the last tick (an older cursor's bare fingerprint
    counts as seen with an unknown checksum).
    """
    settings = settings if settings is not None else landing_settings()
    updated: dict[str, list] = {
        name: (list(value) if isinstance(value, list) else [value, None]) for name, value in seen.items()
    }
    baseline: set[tuple[str, str]] | None = None  # read only when some file changed
    due: dict[tuple[str, str], list[tuple[str, str]]] = {}
    waiting: list[str] = []
    for source, day, folder in day_folders(landing):
        try:
            files = [
                _delivered(p, landing)
                for p in sorted(folder.rglob("*"))
                if p.is_file() and p.name != MANIFEST_NAME
            ]
        except FileNotFoundError:
            continue  # moved while we looked; the next tick sees what stayed
        new = [f for f in files if updated.get(f.name, [None])[0] != f.fingerprint]
        if not new:
            continue
        complete, why = delivery_complete(folder, files, new, settings.get(source, settings[""]), now)
        if not complete:
            waiting.append(why)
            continue
        if baseline is None:
            baseline = loaded_checksums(serving)
        for delivered in new:
            checksum = sha256_of(delivered.path)
            requested = updated.get(delivered.name, [None, None])[1]
            already = (delivered.name, checksum) in baseline or requested == checksum
            updated[delivered.name] = [delivered.fingerprint, checksum]
            if not already:
                due.setdefault((source, day), []).append((delivered.name, checksum))
    return LandingScan(due, waiting, updated)


def day_ranges(days: list[str]) -> list[tuple[str, str]]:
    """Consecutive days grouped into (first, last) ranges: one run per range."""
    ranges: list[tuple[str, str]] = []
    for day in sorted(days):
        if ranges and date.fromisoformat(day) - date.fromisoformat(ranges[-1][1]) == timedelta(days=1):
            ranges[-1] = (ranges[-1][0], day)
        else:
            ranges.append((day, day))
    return ranges


def landing_run_requests(
    due: Mapping[tuple[str, str], list[tuple[str, str]]], job: JobDefinition, first_build: bool = False
) -> list[RunRequest]:
    """One run per set of sources and range of days: those sources' ingestion and what the job
    builds from it (never another source's ingestion, nor models none of them feed: what did not
    change is not rebuilt; the 02:00 schedule still runs everything).

    ``first_build``: nothing was published yet, so the models no delivered source feeds were never
    built either (the store dimension, the journey map's tables, what reviews feed): each run then
    also builds every model of the job, still without another source's ingestion, and the first
    delivery gives an explorer with every page instead of one waiting for the 02:00 run."""
    job_keys = set(job.asset_layer.selected_asset_keys)
    every_ingestion = {raw_asset_key(t.name) for tables in _SOURCE_TABLES.values() for t in tables}
    days_of: dict[tuple[str, ...], dict[str, list[tuple[str, str]]]] = {}
    by_day: dict[str, set[str]] = {}
    for source, day in due:
        by_day.setdefault(day, set()).add(source)
    for day, sources in by_day.items():
        files = [f for source in sorted(sources) for f in due[(source, day)]]
        days_of.setdefault(tuple(sorted(sources)), {})[day] = files
    requests = []
    for sources, days in sorted(days_of.items()):
        ingestion = {raw_asset_key(t.name) for source in sources for t in _SOURCE_TABLES[source]}
        affected = AssetSelection.assets(*ingestion).downstream().resolve(job.asset_layer.asset_graph)
        if first_build:
            affected |= job_keys - every_ingestion
        for first, last in day_ranges(list(days)):
            files = sorted(f for day, listed in days.items() if first <= day <= last for f in listed)
            signature = hashlib.sha256(json.dumps(files).encode()).hexdigest()[:16]
            requests.append(
                RunRequest(
                    run_key=f"landing:{'+'.join(sources)}:{first}:{last}:{signature}",
                    asset_selection=sorted(affected & job_keys, key=lambda k: k.to_user_string()),
                    tags={
                        PARTITION_RANGE_START_TAG: first,
                        PARTITION_RANGE_END_TAG: last,
                        "cxlake/sources": ",".join(sources),
                    },
                )
            )
    return requests


def build_landing_sensor(
    job: JobDefinition,
    landing: LandingZone,
    warehouse: Warehouse,
    settings: Mapping[str, LandingSettings] | None = None,
) -> SensorDefinition:
    """Requests a run of ``job`` for each complete new delivery: its sources, its days."""
    settings = settings if settings is not None else landing_settings()

    @sensor(
        name="landing_sensor",
        job=job,
        minimum_interval_seconds=LANDING_SENSOR_INTERVAL_SECONDS,
        default_status=DefaultSensorStatus.RUNNING,
        description=(
            "Loads each complete delivery (a manifest.sha256 that matches, or a quiet folder) of "
            "landing/<source>/<day>/: a run of those sources' days; never for a file already loaded."
        ),
    )
    def landing_sensor(context: SensorEvaluationContext):
        seen = json.loads(context.cursor) if context.cursor else {}
        scan = scan_landing(landing.path, seen, warehouse.serving, time.time(), settings)
        cursor = json.dumps(scan.seen, sort_keys=True)
        if not scan.due:
            reason = "no new complete deliveries" + (
                f"; waiting: {'; '.join(scan.waiting)}" if scan.waiting else ""
            )
            return SensorResult(skip_reason=reason, cursor=cursor)
        for line in scan.waiting:
            context.log.info(f"waiting: {line}")
        first_build = not warehouse.serving.exists()
        requests = landing_run_requests(scan.due, context.repository_def.get_job(job.name), first_build)
        return SensorResult(run_requests=requests, cursor=cursor)

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


# -- freshness ------------------------------------------------------------------------------------


def freshness_asset_key(source: str) -> AssetKey:
    """The raw table a source's freshness check sits on: its first (for surveys, the responses)."""
    if source not in _SOURCE_TABLES:
        raise ValueError(
            f"cxlake/config/pipeline.yaml: freshness.sources.{source}: not a source "
            f"({', '.join(sorted(_SOURCE_TABLES))})"
        )
    return raw_asset_key(_SOURCE_TABLES[source][0].name)


def last_deliveries(serving: Path) -> dict[str, datetime]:
    """Source -> when its last delivery was validated, as the serving copy records it."""
    if not serving.exists():
        return {}
    try:
        with duckdb.connect(str(serving), read_only=True) as connection:
            rows = connection.execute(LAST_DELIVERIES_SQL, [BUSINESS_TIMEZONE]).fetchall()
    except duckdb.CatalogException:
        return {}  # published before anything was validated
    return {source: at for source, at in rows}


def freshness_states(
    serving: Path, rules: list[FreshnessRule], now: datetime | None = None
) -> list[FreshnessState]:
    delivered = last_deliveries(serving)
    return [judge(rule, delivered.get(rule.source), now) for rule in rules]


def _check_metadata(state: FreshnessState) -> dict[str, object]:
    return {
        "last_delivery_at": state.last_delivery_at.isoformat() if state.last_delivery_at else "never",
        "silent_hours": round(state.silence.total_seconds() / 3600, 2) if state.silence is not None else None,
        "max_silence_hours": round(state.rule.max_silence.total_seconds() / 3600, 2),
        "counted": state.rule.count,
    }


def build_freshness_checks(
    warehouse: Warehouse, rules: list[FreshnessRule] | None = None
) -> AssetChecksDefinition:
    """One ``delivery_freshness`` check per source with a rule, on its raw table; the freshness
    sensor records their verdicts, and the UI can run them at any time."""
    rules = rules if rules is not None else freshness_rules()
    specs = [
        AssetCheckSpec(
            FRESHNESS_CHECK_NAME,
            asset=freshness_asset_key(rule.source),
            description=f"A {rule.source} delivery within the last "
            f"{rule.max_silence.total_seconds() / 3600:g} {rule.count.replace('_', ' ')} "
            "(cxlake/config/pipeline.yaml, freshness).",
        )
        for rule in rules
    ]

    @multi_asset_check(name="delivery_freshness_checks", specs=specs, can_subset=True)
    def delivery_freshness_checks(context: AssetCheckExecutionContext):
        for state in freshness_states(warehouse.serving, rules):
            key = freshness_asset_key(state.rule.source)
            if not context.selected_asset_check_keys or any(
                k.asset_key == key for k in context.selected_asset_check_keys
            ):
                yield AssetCheckResult(
                    asset_key=key,
                    check_name=FRESHNESS_CHECK_NAME,
                    passed=not state.stale,
                    severity=AssetCheckSeverity.WARN,
                    description=state.describe(),
                    metadata=_check_metadata(state),
                )

    return delivery_freshness_checks


def build_freshness_sensor(
    warehouse: Warehouse, rules: list[FreshnessRule] | None = None
) -> SensorDefinition:
    """Every five minutes: judge each source and record the verdict as its check's result when it
    changed (or an hour passed), without starting a run (runs queue behind the one writer)."""
    rules = rules if rules is not None else freshness_rules()

    @sensor(
        name="freshness_sensor",
        minimum_interval_seconds=FRESHNESS_SENSOR_INTERVAL_SECONDS,
        default_status=DefaultSensorStatus.RUNNING,
        description="Records each source's delivery_freshness check: stale after its allowed silence.",
    )
    def freshness_sensor(context: SensorEvaluationContext):
        now = datetime.now(UTC)
        reported = json.loads(context.cursor) if context.cursor else {}
        events, lines = [], []
        for state in freshness_states(warehouse.serving, rules, now):
            lines.append(("STALE " if state.stale else "fresh ") + state.describe())
            last = reported.get(state.rule.source)
            changed = last is None or last["stale"] != state.stale
            if not changed and now - datetime.fromisoformat(last["at"]) < FRESHNESS_REPORT_EVERY:
                continue
            events.append(
                AssetCheckEvaluation(
                    asset_key=freshness_asset_key(state.rule.source),
                    check_name=FRESHNESS_CHECK_NAME,
                    passed=not state.stale,
                    severity=AssetCheckSeverity.WARN,
                    description=state.describe(),
                    metadata=_check_metadata(state),
                )
            )
            reported[state.rule.source] = {"stale": state.stale, "at": now.isoformat()}
        return SensorResult(
            asset_events=events,
            cursor=json.dumps(reported, sort_keys=True),
            skip_reason="; ".join(lines) or None,
        )

    return freshness_sensor


# -- run failures ---------------------------------------------------------------------------------


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def _error_line(message: str, cls_name: str | None) -> str:
    """An error's first line, its class without the module path
    (``dagster._core.definitions.events.Failure: ...`` reads ``Failure: ...``)."""
    line = _first_line(message)
    qualified, colon, rest = line.partition(": ")
    if colon and cls_name and qualified.endswith("." + cls_name):
        return f"{cls_name}: {rest}"
    return line


def describe_failure(context: RunFailureSensorContext) -> dict[str, str]:
    """What the data team needs first: job, failing step, the first line of the reason, the days."""
    run = context.dagster_run
    step, reason = "", ""
    for event in context.get_step_failure_events():
        step = event.step_key or ""
        error = event.step_failure_data.error if event.step_failure_data else None
        while (
            error is not None
            and error.cause is not None
            and "DagsterExecutionStepExecutionError" in (error.cls_name or "")
        ):
            error = error.cause  # Dagster's wrapper: the user's exception is what explains it
        reason = (
            _error_line(error.message, error.cls_name)
            if error is not None
            else _first_line(event.message or "")
        )
        break
    if not reason:
        error = getattr(context.failure_event.event_specific_data, "error", None)
        reason = (
            _error_line(error.message, error.cls_name)
            if error is not None
            else _first_line(context.failure_event.message or "")
        )
    days = run_day_range(run.tags)
    return {
        "job": run.job_name,
        "run_id": run.run_id,
        "step": step,
        "reason": reason or "(no reason recorded)",
        "partitions": f"{days[0]}..{days[1]}" if days and days[0] != days[1] else (days[0] if days else ""),
    }


def build_run_failure_sensor(warehouse: Warehouse) -> SensorDefinition:
    """Tells the data team about each failed run once (Dagster's cursor moves past it, the outbox's
    key too), through the alerts' outbox to the ``run_failures`` targets of pipeline.yaml."""

    @run_failure_sensor(
        name="run_failure_notifier",
        default_status=DefaultSensorStatus.RUNNING,
        description="E-mails / posts each failed run's job, failing step and first line of the reason "
        "to the data team (cxlake/config/pipeline.yaml, run_failures).",
    )
    def run_failure_notifier(context: RunFailureSensorContext) -> None:
        failure = describe_failure(context)
        routing = run_failure_routing()
        failure["link"] = routing.run_link(failure["run_id"]) if routing.dagster_url else ""
        store = CaseStore(AppState(warehouse.app_state))
        queued = queue_run_failure(store, failure, routing, datetime.now(UTC))
        sent = dispatch_pending(store, load_alert_config())
        context.log.info(
            f"run {failure['run_id']}: {queued} notice(s) to the data team queued; the outbox sent "
            f"{sent.sent}, failed {sent.failed} (failed ones are listed on the Loop page)"
        )

    return run_failure_notifier
