"""Running the pipeline in-process over a range of days as ONE Dagster run (`cxlake run`)."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from pathlib import Path

import duckdb
import yaml
from dagster import AssetKey, DagsterInstance

from assets.ingestion.assets import FAIL_IF_HELD_BACK_TAG, raw_asset_key
from assets.ingestion.sources import SOURCES
from cxlake.pipeline.dbt_project import prepare_dbt_manifest
from cxlake.pipeline.partitions import PARTITION_RANGE_END_TAG, PARTITION_RANGE_START_TAG, partitions_start
from cxlake.warehouse_lock import Writer, warehouse_writer
from expectations.gate import HeldBack

DAY_FOLDER = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _day_folders(landing: Path) -> Iterator[tuple[Path, str | None]]:
    """Every folder under a source folder, with the reason it is not a delivery day (or None)."""
    if not landing.is_dir():
        return
    for source in sorted(landing.iterdir()):
        if not source.is_dir():
            continue
        for folder in sorted(source.iterdir()):
            if not folder.is_dir():
                continue
            if not DAY_FOLDER.match(folder.name):
                yield folder, "not named yyyy-mm-dd"
                continue
            try:
                date.fromisoformat(folder.name)
            except ValueError:
                yield folder, "not a calendar day"
                continue
            yield folder, None


def landed_days(landing: Path) -> list[str]:
    """Every day that has a delivery folder under any source, sorted."""
    return sorted({folder.name for folder, problem in _day_folders(landing) if problem is None})


def skipped_day_folders(landing: Path) -> list[str]:
    """Folders under a source that are not delivery days, named with the reason: they are skipped
    (a run never guesses which day `2026-13-40` meant), and the run says so."""
    return [
        f"{folder.relative_to(landing)}: {problem}, skipped"
        for folder, problem in _day_folders(landing)
        if problem is not None
    ]


class Stage(StrEnum):
    """What a run does: everything (`cxlake run`), only the raw layer (`cxlake ingest`), or only
    what is built from the raw layer (the last step of `cxlake backfill`)."""

    all = "all"
    ingest = "ingest"
    build = "build"


@dataclass(frozen=True)
class PipelineRun:
    run_id: str
    success: bool
    first_day: str
    last_day: str
    serving_path: Path
    held_back: tuple[HeldBack, ...] = ()
    skipped_folders: tuple[str, ...] = ()
    published: bool = True
    blocked_reasons: tuple[str, ...] = ()  # the gate's one-line reasons when the run failed on them

    @property
    def complete(self) -> bool:
        """Everything in range loaded and published: the exit status of `cxlake run` is 0 only then."""
        return self.success and not self.held_back


def ingestion_keys(sources: tuple[str, ...] | None = None) -> list[AssetKey]:
    """The raw tables of ``sources`` (all sources when None); an unknown name fails naming them all."""
    known = [source.name for source in SOURCES]
    unknown = sorted(set(sources or ()) - set(known))
    if unknown:
        raise ValueError(f"unknown source(s) {', '.join(unknown)}; sources are {', '.join(known)}")
    return [
        raw_asset_key(table.name)
        for source in SOURCES
        if sources is None or source.name in sources
        for table in source.tables
    ]


def run_pipeline(
    landing: Path,
    warehouse: Path,
    start: date | None = None,
    end: date | None = None,
    dagster_home: Path | None = None,
    log_level: str = "WARNING",
    stage: Stage = Stage.all,
    sources: tuple[str, ...] | None = None,
    on_wait: Callable[[Writer | None], None] | None = None,
) -> PipelineRun:
    """Materialize the assets of ``stage`` for the days start..end (inclusive; default: all landed
    days), holding the warehouse's write lock for the whole run (``on_wait`` hears whom it waits for).

    A partition the quality gate holds back keeps its previous state while every other one loads
    and publishes; each held-back partition is then re-tried alone in a run of its own that fails,
    so Dagster shows exactly those partitions failed. ``sources`` narrows the ingest stage (all
    sources when None), which neither builds the models nor publishes.
    """
    days = landed_days(landing)
    if not days and (start is None or end is None):
        raise ValueError(f"{landing}: no delivery folders (<source>/<yyyy-mm-dd>/) found")
    first = start.isoformat() if start else days[0]
    last = end.isoformat() if end else days[-1]
    if first > last:
        raise ValueError(f"start {first} is after end {last}")
    raw_keys = ingestion_keys(sources)
    # parsed with the build's --vars (the warehouse as the Warehouse resource resolves it), so the
    # run's `dbt build` re-uses this parse instead of parsing the whole project a second time
    prepare_dbt_manifest(warehouse=warehouse.resolve(), day_range=(first, last))
    from orchestration.definitions import build_definitions  # reads the manifest on import

    definitions = build_definitions(
        landing_root=str(landing),
        warehouse_path=str(warehouse),
        first_partition=partitions_start(days[0] if days else None, first),
    )
    job = definitions.resolve_job_def("daily_pipeline_job")
    every_key = list(job.asset_layer.executable_asset_keys)
    built = [key for key in every_key if key not in set(ingestion_keys())]
    selection = {Stage.all: None, Stage.ingest: raw_keys, Stage.build: built}[stage]
    run_config = {"loggers": {"console": {"config": {"log_level": log_level}}}}
    run_id = str(uuid.uuid4())  # known before the run starts, so a waiting writer can name it
    with warehouse_writer(warehouse, run_id, on_wait=on_wait), _instance(dagster_home) as instance:
        with _one_planned_event_per_asset():
            result = job.execute_in_process(
                instance=instance,
                run_id=run_id,
                asset_selection=selection,
                tags={PARTITION_RANGE_START_TAG: first, PARTITION_RANGE_END_TAG: last},
                run_config=run_config,
                raise_on_error=False,
            )
        held_back = held_back_partitions(warehouse, result.run_id) if result.success else ()
        blocked = () if result.success else blocked_reasons(warehouse, result.run_id)
        for partition in held_back:
            _confirm_held_back(job, instance, partition, run_config)
    serving = warehouse.with_name("serving.duckdb")
    return PipelineRun(
        result.run_id,
        result.success,
        first,
        last,
        serving,
        held_back,
        tuple(skipped_day_folders(landing)),
        published=stage is not Stage.ingest,
        blocked_reasons=blocked,
    )


INSTANCE_CONFIG = Path(__file__).with_name("dagster.yaml")


ONE_RUN_AT_A_TIME = (
    "\n# added by cxlake: DuckDB has one writer, so runs on the warehouse queue one at a time\n"
    "concurrency:\n  runs:\n    max_concurrent_runs: 1\n"
)


def install_instance_config(dagster_home: Path) -> Path:
    """``dagster_home/dagster.yaml`` from cxlake's (one run at a time).

    A dagster.yaml the operator wrote is kept as written; when it says nothing about how many runs
    may run at once (neither ``concurrency`` nor ``run_coordinator``), the one-run limit is added
    at its end, since Dagster's default (no limit) would start the schedule's, the sensor's and a
    backfill's runs together on one warehouse. A limit the operator chose is theirs: those runs
    then wait on the warehouse lock instead of the queue.
    """
    dagster_home.mkdir(parents=True, exist_ok=True)
    target = dagster_home / "dagster.yaml"
    if not target.exists() or target.stat().st_size == 0:
        target.write_text(INSTANCE_CONFIG.read_text(encoding="utf-8"), encoding="utf-8")
        return target
    text = target.read_text(encoding="utf-8")
    try:
        settings = yaml.safe_load(text) or {}
    except yaml.YAMLError as error:
        raise ValueError(f"{target}: not valid YAML ({error})") from error
    if not isinstance(settings, dict):
        raise ValueError(f"{target}: expected a mapping of Dagster instance settings")
    if "concurrency" not in settings and "run_coordinator" not in settings:
        target.write_text(text + ("" if text.endswith("\n") else "\n") + ONE_RUN_AT_A_TIME, encoding="utf-8")
    return target


PLANNED_EVENTS_AS_SUBSETS = "DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS"


@contextmanager
def _one_planned_event_per_asset() -> Iterator[None]:
    """While a run is created, Dagster writes one 'materialization planned' event per asset and
    partition, one at a time (about 1,250 for 90 days, ~9 s before the first step). With this
    setting of Dagster's it writes one per asset, naming the partitions as a subset. Dagster's
    trade-off: a partition of a run that then fails is not marked failed by that run; cxlake marks
    held-back partitions failed in their own one-partition runs, which this does not touch."""
    before = os.environ.get(PLANNED_EVENTS_AS_SUBSETS)
    os.environ[PLANNED_EVENTS_AS_SUBSETS] = "true"
    try:
        yield
    finally:
        if before is None:
            del os.environ[PLANNED_EVENTS_AS_SUBSETS]
        else:
            os.environ[PLANNED_EVENTS_AS_SUBSETS] = before


@contextmanager
def _instance(dagster_home: Path | None) -> Iterator[DagsterInstance]:
    if dagster_home is None:
        with DagsterInstance.ephemeral() as instance:
            yield instance
        return
    install_instance_config(dagster_home)  # `dagster dev` with DAGSTER_HOME here shows these runs
    with DagsterInstance.local_temp(str(dagster_home)) as instance:
        yield instance


def _confirm_held_back(job, instance: DagsterInstance, partition: HeldBack, run_config: dict) -> None:
    """Re-try one held-back partition alone, tagged to fail while it is still held back: the run
    records the partition as failed in Dagster (its step names the day, source, files and reason)."""
    source = next(s for s in SOURCES if s.name == partition.source)
    keys = [raw_asset_key(table.name) for table in source.tables]
    job.execute_in_process(
        instance=instance,
        partition_key=partition.day,
        asset_selection=keys,
        tags={FAIL_IF_HELD_BACK_TAG: "true"},
        run_config=run_config,
        raise_on_error=False,
    )


def held_back_partitions(warehouse: Path, run_id: str) -> tuple[HeldBack, ...]:
    """The partitions a run's quality gate held back, one per source and day."""
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        rows = connection.execute(
            """
            select v.source, cast(v.partition_date as varchar) as day, any_value(v.block_reason),
                   coalesce(list_sort(list_distinct(list(a.file) filter (a.file is not null))), [])
            from dq.validation_runs as v
            left join dq.load_audit as a
              on a.source = v.source and a.partition_date = v.partition_date and a.status = 'held_back'
            where v.run_id = ? and v.blocked
            group by all
            order by day, v.source
            """,
            [run_id],
        ).fetchall()
    return tuple(HeldBack(source, day, tuple(files), reason) for source, day, reason, files in rows)


def blocked_reasons(warehouse: Path, run_id: str) -> tuple[str, ...]:
    """The quality gate's distinct one-line reasons for the days a run blocked (for the console)."""
    try:
        with duckdb.connect(str(warehouse), read_only=True) as connection:
            rows = connection.execute(
                "select distinct block_reason from dq.validation_runs "
                "where run_id = ? and blocked order by 1",
                [run_id],
            ).fetchall()
    except duckdb.Error:  # no gate verdicts (the run failed before any load)
        return ()
    return tuple(row[0] for row in rows if row[0])
