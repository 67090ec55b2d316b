"""The retention purge as the pipeline's last step before publishing: every run (the daily schedule,
a delivery, a backfill, a rebuild from landing/) empties what the retention policy no longer
allows, so the serving copy never shows it again; the nightly retention job runs it alone too."""

from collections import defaultdict

from dagster import AssetExecutionContext, Config, MaterializeResult, asset

from assets.alerts import case_snapshot
from assets.churn import churn_risk_scores
from assets.dbt import cxlake_dbt_models
from assets.insights import key_drivers
from assets.kano import kano
from assets.money import money_assets
from assets.peak_end import peak_end
from cxlake.pipeline.resources import Warehouse
from cxlake.pipeline.retention import apply_retention

# Everything that writes tables the purge reaches runs first.
WRITERS = [
    *cxlake_dbt_models.keys,
    *case_snapshot.keys,
    *key_drivers.keys,
    *kano.keys,
    *(key for money in money_assets for key in money.keys),
    *peak_end.keys,
    *churn_risk_scores.keys,
]


class RetentionConfig(Config):
    """``compact``: rewrite the warehouse file after a purge (the nightly job does; a pipeline run
    does not spend the time, so purged values wait in freed blocks of the file until then)."""

    compact: bool = False


@asset(
    key=["dq", "retention_purges"],
    group_name="privacy",
    deps=WRITERS,
    kinds={"duckdb"},
    description=(
        "Personal data past its period (cxlake/config/retention.yaml) emptied in raw, quarantine and "
        "the tagged models; each pass recorded in dq.retention_purges."
    ),
)
def retention_purge(
    context: AssetExecutionContext, warehouse: Warehouse, config: RetentionConfig
) -> MaterializeResult:
    records = apply_retention(warehouse, compact_file=config.compact)
    purged: dict[str, int] = defaultdict(int)
    for record in records:
        purged[record.field] += record.rows
    for field, rows in purged.items():
        if rows:
            context.log.info(f"retention: {rows} rows purged of {field}")
    return MaterializeResult(
        metadata={
            "rows_purged": sum(purged.values()),
            **{f"rows_purged_{field}": rows for field, rows in purged.items()},
        }
    )
