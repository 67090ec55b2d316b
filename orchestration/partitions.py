"""Daily partitions in the chain's business zone, and the pure helpers that turn a partition
window into dbt arguments (tests call them directly)."""

from __future__ import annotations

import json
from datetime import datetime

from dagster import BackfillPolicy, DailyPartitionsDefinition

from cxlake.metrics import dbt_vars

BUSINESS_TIMEZONE = "Asia/Shanghai"

# The first day any deployment may load; later days appear as the calendar reaches them.
daily_partitions = DailyPartitionsDefinition(
    start_date="2024-01-01", timezone=BUSINESS_TIMEZONE, end_offset=1
)

# One ingestion pass per source and one `dbt build` per run, whatever the range.
single_run = BackfillPolicy.single_run()


def dbt_build_vars(window_start: datetime, window_end: datetime, warehouse_path: str) -> dict:
    """The --vars of one `dbt build` over a partition window (end exclusive, as Dagster gives it)."""
    return {
        **dbt_vars(),
        "warehouse_path": warehouse_path,
        "min_date": window_start.date().isoformat(),
        "max_date": window_end.date().isoformat(),
    }


def dbt_build_args(window_start: datetime, window_end: datetime, warehouse_path: str) -> list[str]:
    return ["build", "--vars", json.dumps(dbt_build_vars(window_start, window_end, warehouse_path))]
