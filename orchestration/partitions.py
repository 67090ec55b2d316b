"""Daily partitions in the chain's business zone, and the pure helpers that turn a partition
window into dbt arguments (tests call them directly)."""

from __future__ import annotations

import json
from collections.abc import Mapping

from dagster import BackfillPolicy, DailyPartitionsDefinition

from cxlake.metrics import dbt_vars

BUSINESS_TIMEZONE = "Asia/Shanghai"

# The first day any deployment may load; later days appear as the calendar reaches them.
daily_partitions = DailyPartitionsDefinition(start_date="2024-01-01", timezone=BUSINESS_TIMEZONE)

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
    """The --vars of one `dbt build`: metric definitions, the warehouse, the run's days."""
    build_vars: dict = {**dbt_vars(), "warehouse_path": warehouse_path}
    if day_range is not None:
        build_vars["min_date"], build_vars["max_date"] = day_range
    return build_vars


def dbt_build_args(day_range: tuple[str, str] | None, warehouse_path: str) -> list[str]:
    return ["build", "--vars", json.dumps(dbt_build_vars(day_range, warehouse_path))]
