"""The ingestion assets: one multi-asset per source, one asset key per raw table."""

from dagster import (
    AssetCheckResult,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    MaterializeResult,
    MetadataValue,
    multi_asset,
)

from assets.ingestion.loading import prepare_warehouse, replace_partition, unbalanced_audit_rows
from assets.ingestion.sources import SOURCES, Source
from orchestration.partitions import daily_partitions, single_run
from orchestration.resources import LandingZone, Warehouse


def raw_asset_key(table_name: str) -> AssetKey:
    return AssetKey(["raw", table_name])


def build_ingestion_asset(source: Source):
    """Loads every partition of the run's range for one source, then checks nothing was lost."""
    specs = [
        AssetSpec(raw_asset_key(t.name), description=t.description, group_name=source.name, kinds={"duckdb"})
        for t in source.tables
    ]
    check_specs = [
        AssetCheckSpec(
            "load_audit_balances",
            asset=raw_asset_key(t.name),
            blocking=True,
            description="rows_in = rows_loaded + rows_quarantined for every delivered file.",
        )
        for t in source.tables
    ]

    @multi_asset(
        name=f"ingest_{source.name}",
        specs=specs,
        check_specs=check_specs,
        partitions_def=daily_partitions,
        backfill_policy=single_run,
        description=source.description,
    )
    def ingest(context: AssetExecutionContext, landing: LandingZone, warehouse: Warehouse):
        rows_per_table = {t.name: 0 for t in source.tables}
        files_per_table = {t.name: 0 for t in source.tables}
        warnings: list[str] = []
        with warehouse.connect() as connection:
            prepare_warehouse(connection, list(source.tables))
            for day in context.partition_keys:
                load = source.load_partition(landing.path, landing.partition_dir(source.name, day), day)
                replace_partition(connection, source.name, list(source.tables), load)
                for table_name, frame in load.frames.items():
                    rows_per_table[table_name] += len(frame)
                for audit in load.audits:
                    files_per_table[audit.raw_table] += 1
                warnings.extend(load.warnings)
            unbalanced = {t.name: unbalanced_audit_rows(connection, t.name) for t in source.tables}
        for warning in warnings:
            context.log.warning(warning)
        for table in source.tables:
            yield MaterializeResult(
                asset_key=raw_asset_key(table.name),
                metadata={
                    "partitions": len(context.partition_keys),
                    "rows_loaded": rows_per_table[table.name],
                    "files": files_per_table[table.name],
                    "warnings": MetadataValue.md("\n".join(f"- {w}" for w in warnings) or "none"),
                },
            )
        for table in source.tables:
            bad = unbalanced[table.name]
            yield AssetCheckResult(
                asset_key=raw_asset_key(table.name),
                check_name="load_audit_balances",
                passed=not bad,
                metadata={
                    "unbalanced_files": MetadataValue.json([[str(v) for v in row] for row in bad[:20]])
                },
            )

    return ingest


ingestion_assets = [build_ingestion_asset(source) for source in SOURCES]
