"""Running the pipeline in-process over a range of days as ONE Dagster run (`cxlake run`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from dagster import DagsterInstance

from orchestration.manifest import prepare_dbt_manifest
from orchestration.partitions import PARTITION_RANGE_END_TAG, PARTITION_RANGE_START_TAG

DAY_FOLDER = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def landed_days(landing: Path) -> list[str]:
    """Every day that has a delivery folder under any source, sorted."""
    if not landing.is_dir():
        return []
    days = {
        folder.name
        for source in landing.iterdir()
        if source.is_dir()
        for folder in source.iterdir()
        if folder.is_dir() and DAY_FOLDER.match(folder.name)
    }
    return sorted(days)


@dataclass(frozen=True)
class PipelineRun:
    run_id: str
    success: bool
    first_day: str
    last_day: str
    serving_path: Path


def run_pipeline(
    landing: Path,
    warehouse: Path,
    start: date | None = None,
    end: date | None = None,
    dagster_home: Path | None = None,
    log_level: str = "WARNING",
) -> PipelineRun:
    """Materialize every asset for the days start..end (inclusive; default: all landed days)."""
    days = landed_days(landing)
    if not days and (start is None or end is None):
        raise ValueError(f"{landing}: no delivery folders (<source>/<yyyy-mm-dd>/) found")
    first = start.isoformat() if start else days[0]
    last = end.isoformat() if end else days[-1]
    if first > last:
        raise ValueError(f"start {first} is after end {last}")
    prepare_dbt_manifest()
    from orchestration.definitions import build_definitions  # reads the manifest on import

    definitions = build_definitions(landing_root=str(landing), warehouse_path=str(warehouse))
    job = definitions.resolve_job_def("daily_pipeline_job")
    if dagster_home is not None:
        dagster_home.mkdir(parents=True, exist_ok=True)
        (dagster_home / "dagster.yaml").touch()  # `dagster dev` with DAGSTER_HOME here shows these runs
        instance = DagsterInstance.local_temp(str(dagster_home))
    else:
        instance = DagsterInstance.ephemeral()
    with instance:
        result = job.execute_in_process(
            instance=instance,
            tags={PARTITION_RANGE_START_TAG: first, PARTITION_RANGE_END_TAG: last},
            run_config={"loggers": {"console": {"config": {"log_level": log_level}}}},
            raise_on_error=False,
        )
    serving = warehouse.with_name("serving.duckdb")
    return PipelineRun(result.run_id, result.success, first, last, serving)
