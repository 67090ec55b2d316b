"""Publish the serving copy the explorer reads, after a green build and the retention purge."""

from dagster import AssetExecutionContext, MaterializeResult, asset

from assets.retention import WRITERS, retention_purge
from cxlake.paths import remove_stale_temporaries
from cxlake.pipeline.resources import Warehouse


@asset(
    key=["serving", "published_copy"],
    group_name="publish",
    deps=[*WRITERS, *retention_purge.keys],
    kinds={"duckdb"},
    description="data/serving.duckdb: the warehouse's marts, dq and quarantine tables copied into a "
    "fresh file and renamed into place.",
)
def serving_copy(context: AssetExecutionContext, warehouse: Warehouse) -> MaterializeResult:
    """Publish, after deleting what an earlier publish killed during its copy left behind (a copy of
    the served tables under a hidden temporary name, which nothing else ever removes)."""
    removed = remove_stale_temporaries(warehouse.serving)
    if removed:
        names = ", ".join(path.name for path in removed)
        context.log.info(f"removed {len(removed)} stale temporary copies: {names}")
    target = warehouse.publish()
    return MaterializeResult(
        metadata={
            "path": str(target),
            "bytes": target.stat().st_size,
            "stale_temporaries_removed": [path.name for path in removed],
        }
    )
