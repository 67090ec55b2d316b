"""Publish the serving copy the explorer reads, after a green build."""

from dagster import AssetExecutionContext, MaterializeResult, asset

from assets.alerts import case_snapshot
from assets.churn import churn_risk_scores
from assets.dbt import cxlake_dbt_models
from assets.insights import key_drivers
from assets.kano import kano
from assets.money import money_assets
from assets.peak_end import peak_end
from cxlake.paths import remove_stale_temporaries
from cxlake.pipeline.resources import Warehouse


@asset(
    key=["serving", "published_copy"],
    group_name="publish",
    deps=[
        *cxlake_dbt_models.keys,
        *case_snapshot.keys,
        *key_drivers.keys,
        *kano.keys,
        *(key for money in money_assets for key in money.keys),
        *peak_end.keys,
        *churn_risk_scores.keys,
    ],
    kinds={"duckdb"},
    description="data/serving.duckdb: the warehouse copied after CHECKPOINT and renamed into place.",
)
def serving_copy(context: AssetExecutionContext, warehouse: Warehouse) -> MaterializeResult:
    """Publish, after deleting what an earlier publish killed during its copy left behind (a full
    copy of the warehouse under a hidden temporary name, which nothing else ever removes)."""
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
