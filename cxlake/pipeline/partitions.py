"""Daily partitions in the chain's business zone, and the pure helpers that turn a partition
window into dbt arguments (tests call them directly)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime
from importlib import resources
from zoneinfo import ZoneInfo

import yaml
from dagster import BackfillPolicy, DailyPartitionsDefinition

from cxlake import contracts
from cxlake.contracts import BUSINESS_TIMEZONE
from cxlake.metrics import dbt_vars


def daily_partitions(start: str) -> DailyPartitionsDefinition:
    """Days from ``start`` in the business zone; later days appear as the calendar reaches them."""
    return DailyPartitionsDefinition(start_date=start, timezone=BUSINESS_TIMEZONE)


def configured_partitions_start() -> str | None:
    """``partitions_start`` of cxlake/config/pipeline.yaml, checked, or None when left empty."""
    text = resources.files("cxlake.config").joinpath("pipeline.yaml").read_text("utf-8")
    value = (yaml.safe_load(text) or {}).get("partitions_start")
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value)).isoformat()
    except ValueError as error:
        raise ValueError(
            f"cxlake/config/pipeline.yaml: partitions_start {value!r} is not a yyyy-mm-dd day"
        ) from error


def partitions_start(earliest_delivery: str | None, earliest_requested: str | None = None) -> str:
    """The configured start, else the earliest delivered day, else today; never after a day a run
    asks for (a run may reach back before the first delivery)."""
    today = datetime.now(ZoneInfo(BUSINESS_TIMEZONE)).date().isoformat()
    start = configured_partitions_start() or earliest_delivery or today
    return min(start, earliest_requested) if earliest_requested else start


# One ingestion pass per source and one `dbt build` per run, whatever the range.
single_run = BackfillPolicy.single_run()


# Dagster's run tags for a single-run backfill over a partition range (public tag names).
PARTITION_RANGE_START_TAG = "dagster/asset_partition_range_start"
PARTITION_RANGE_END_TAG = "dagster/asset_partition_range_end"
PARTITION_TAG = "dagster/partition"


def run_day_range(tags: Mapping[str, str]) -> tuple[str, str] | None:
    """The (first, last) day a run loads, inclusive, from its tags; None for an unpartitioned run.

    The models downstream of the daily ingestion are not partitioned themselves (they rebuild
    from raw in one `dbt build`), so they learn the run's days from the run, not from a window.
    """
    if PARTITION_RANGE_START_TAG in tags and PARTITION_RANGE_END_TAG in tags:
        return tags[PARTITION_RANGE_START_TAG], tags[PARTITION_RANGE_END_TAG]
    if PARTITION_TAG in tags:
        return tags[PARTITION_TAG], tags[PARTITION_TAG]
    return None


def dbt_build_vars(day_range: tuple[str, str] | None, warehouse_path: str) -> dict:
    """The --vars of one `dbt build`: metric definitions, the contracts (timezone, channels,
    measures), the warehouse, the run's days."""
    build_vars: dict = {**dbt_vars(), **contracts.dbt_vars(), "warehouse_path": warehouse_path}
    if day_range is not None:
        build_vars["min_date"], build_vars["max_date"] = day_range
    return build_vars


def dbt_build_args(day_range: tuple[str, str] | None, warehouse_path: str) -> list[str]:
    """A pipeline run's `dbt build`: models and their data tests, not the unit tests.

    Unit tests check the models' SQL on fixed inputs, so their verdict cannot change from one run's
    data to the next; dbt recommends running them in development and CI only. The test suite runs
    them (tests/dbt_project/test_dbt_unit_tests.py); in a run they cost about a fifth of a small
    one-day build."""
    return [
        "build",
        "--exclude-resource-type",
        "unit_test",
        "--vars",
        json.dumps(dbt_build_vars(day_range, warehouse_path)),
    ]
