"""The ingestion assets: one multi-asset per source, one asset key per raw table, gated by GX."""

import duckdb
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    DailyPartitionsDefinition,
    Failure,
    MaterializeResult,
    MetadataValue,
    multi_asset,
)

from assets.ingestion import raw_tables as rt
from assets.ingestion.loading import raw_layer, write_verdicts
from assets.ingestion.sources import SOURCES, Source, batches_of_days, read_days
from cxlake.app_state import AppState
from cxlake.config.quality import quality_settings
from cxlake.pipeline.partitions import BUSINESS_TIMEZONE, single_run
from cxlake.pipeline.resources import LandingZone, Warehouse
from expectations.gate import (
    VOLUME_CHECKED,
    Delivery,
    ExpectationRecord,
    GatedSource,
    History,
    PartitionVerdict,
    judge,
)
from expectations.runner import GxRunner
from expectations.suites import SUITES
from expectations.suites.base import WARN

__all__ = ["VOLUME_CHECKED", "build_ingestion_assets", "raw_asset_key"]

ROSTER_TABLES = (rt.REFERENCE_STORES, rt.REFERENCE_STAFF)
# Answers are judged through their response: they follow it into quarantine and back.
ANSWERS_OF = {
    rt.QUALTRICS_RESPONSES.name: rt.QUALTRICS_ANSWERS,
    rt.WJX_RESPONSES.name: rt.WJX_ANSWERS,
    rt.SURVEY_RESPONSES.name: rt.SURVEY_ANSWERS,
    rt.KANO_RESPONSES.name: rt.KANO_ANSWERS,
    rt.SURVEY_API_RESPONSES.name: rt.SURVEY_API_ANSWERS,
}
MAX_LISTED = 20
# `cxlake run` re-tries each held-back partition alone in a run with this tag, whose ingestion step
# fails while the partition is still held back: Dagster then shows that partition failed while the
# main run's others stay materialized.
FAIL_IF_HELD_BACK_TAG = "cxlake/fail_if_held_back"


def raw_asset_key(table_name: str) -> AssetKey:
    return AssetKey(["raw", table_name])


def build_ingestion_asset(source: Source, partitions_def: DailyPartitionsDefinition):
    """Loads every partition of the run's range for one source through the quality gate."""
    roster = [] if source.name == "reference" else [raw_asset_key(t.name) for t in ROSTER_TABLES]
    specs = [
        AssetSpec(
            raw_asset_key(t.name),
            description=t.description,
            group_name=source.name,
            kinds={"duckdb"},
            deps=roster,
        )
        for t in source.tables
    ]
    gated = [t for t in source.tables if t.name in SUITES]
    check_specs = [
        AssetCheckSpec(
            "load_audit_balances",
            asset=raw_asset_key(t.name),
            blocking=True,
            description="rows_in = rows_loaded + rows_quarantined for every delivered file.",
        )
        for t in source.tables
    ] + [
        spec
        for t in gated
        for spec in (
            AssetCheckSpec(
                "quality_gate",
                asset=raw_asset_key(t.name),
                description=f"GX suite raw.{t.name}: no partition held back (unreadable file, volume band, "
                "too many rows quarantined). A held-back partition keeps its previous state; the run's "
                "other partitions load and publish, so this check reports without blocking them.",
            ),
            AssetCheckSpec(
                "quality_warnings",
                asset=raw_asset_key(t.name),
                description=f"GX suite raw.{t.name}: warn-severity rules and quarantined rows, with the "
                "rule, the row count and sample values with their file:line.",
            ),
        )
    ]

    gated_source = GatedSource(
        source.name,
        tuple(t.name for t in source.tables),
        {r: a.name for r, a in ANSWERS_OF.items() if r in {t.name for t in source.tables}},
    )

    @multi_asset(
        name=f"ingest_{source.name}",
        specs=specs,
        check_specs=check_specs,
        partitions_def=partitions_def,
        backfill_policy=single_run,
        description=source.description,
    )
    def ingest(context: AssetExecutionContext, landing: LandingZone, warehouse: Warehouse):
        verdicts: list[PartitionVerdict] = []
        unbalanced: dict[str, list[tuple]] = {table.name: [] for table in source.tables}
        for days in batches_of_days(source, landing.path, list(context.partition_keys)):
            deliveries = read_days(source, landing.path, days)
            with raw_layer(warehouse, source.tables) as connection:
                batch = gate(connection, warehouse, gated_source, deliveries)
                unbalanced = write_verdicts(connection, context.run.run_id, source.tables, batch)
            verdicts.extend(verdict.without_rows() for verdict in batch)
        yield from report(context, source, tuple(verdicts), unbalanced)

    return ingest


def gate(
    connection: duckdb.DuckDBPyConnection,
    warehouse: Warehouse,
    source: GatedSource,
    deliveries: tuple[Delivery, ...],
) -> tuple[PartitionVerdict, ...]:
    """The quality gate over the run's deliveries, against what the warehouse holds and the
    steward's decisions; the GX project (results, Data Docs) lives under <home>/gx."""
    history = History(connection, AppState(warehouse.app_state).latest_decisions)
    return judge(source, deliveries, history, GxRunner(warehouse.home), quality_settings(), BUSINESS_TIMEZONE)


def report(context: AssetExecutionContext, source: Source, verdicts, unbalanced: dict[str, list[tuple]]):
    """Log what was read and held back, fail a confirming run whose day is still held back, and
    yield the materializations and check results."""
    for verdict in verdicts:
        for warning in verdict.delivery.warnings:
            context.log.warning(warning)
    held_back = [v.held_back().line() for v in verdicts if v.blocked]
    for line in held_back:
        context.log.error(line)
    if held_back and context.run.tags.get(FAIL_IF_HELD_BACK_TAG) == "true":
        raise Failure(description="\n".join(held_back), metadata={"held_back": len(held_back)})
    for verdict in verdicts:
        if verdict.blocked:
            for table in source.tables:
                context.add_asset_metadata(
                    {"held_back": "; ".join(verdict.blocked_reasons)},
                    asset_key=raw_asset_key(table.name),
                    partition_key=verdict.day,
                )
    yield from results(source, verdicts, unbalanced)


def results(source: Source, verdicts: tuple[PartitionVerdict, ...], unbalanced: dict[str, list[tuple]]):
    blocked = {v.day: list(v.blocked_reasons) for v in verdicts if v.blocked}
    judged = [t for v in verdicts for t in v.tables]
    for table in source.tables:
        yield MaterializeResult(
            asset_key=raw_asset_key(table.name),
            metadata={
                "partitions": len(verdicts),
                "partitions_held_back": len(blocked),
                "rows_loaded": sum(t.rows_loaded for t in judged if t.raw_table == table.name),
                "rows_quarantined": sum(t.rows_quarantined for t in judged if t.raw_table == table.name),
            },
        )
    for table in source.tables:
        bad = unbalanced[table.name]
        yield AssetCheckResult(
            asset_key=raw_asset_key(table.name),
            check_name="load_audit_balances",
            passed=not bad,
            metadata={
                "unbalanced_files": MetadataValue.json([[str(v) for v in row] for row in bad[:MAX_LISTED]])
            },
        )
    for table in (t for t in source.tables if t.name in SUITES):
        failed = [r for v in verdicts for r in v.records if r.raw_table == table.name and not r.success]
        failing = sorted({f"{r.severity}: {r.expectation}" for r in failed})[:MAX_LISTED]
        yield AssetCheckResult(
            asset_key=raw_asset_key(table.name),
            check_name="quality_gate",
            passed=not blocked,
            severity=AssetCheckSeverity.ERROR,
            metadata={
                "held_back_partitions": MetadataValue.json(
                    {d: r for d, r in sorted(blocked.items())[:MAX_LISTED]}
                ),
                "failed_expectations": MetadataValue.json(failing),
            },
        )
        warned = [r for r in failed if r.severity == WARN]
        quarantined = sum(t.rows_quarantined for t in judged if t.raw_table == table.name)
        yield AssetCheckResult(
            asset_key=raw_asset_key(table.name),
            check_name="quality_warnings",
            passed=not warned and quarantined == 0,
            severity=AssetCheckSeverity.WARN,
            description=warnings_summary(warned, quarantined),
            metadata={
                "warned_rows": sum(r.unexpected_count for r in warned),
                "rows_quarantined": quarantined,
                "rules": MetadataValue.json(rule_findings(failed)),
            },
        )


def rule_findings(records: list[ExpectationRecord]) -> list[dict]:
    """Per failing rule: its severity, how many rows broke it and sample values with their file:line,
    so a reader tells a planted defect from a broken check without opening the warehouse."""
    by_rule: dict[tuple[str, str], dict] = {}
    for record in records:
        finding = by_rule.setdefault(
            (record.severity, record.expectation),
            {"rule": record.expectation, "severity": record.severity, "rows": 0, "samples": []},
        )
        finding["rows"] += record.unexpected_count
        finding["samples"] = (finding["samples"] + list(record.samples))[:5]
    return sorted(by_rule.values(), key=lambda f: (-f["rows"], f["rule"]))[:MAX_LISTED]


def warnings_summary(warned: list[ExpectationRecord], quarantined: int) -> str:
    if not warned and not quarantined:
        return "No warn-severity rule failed and no row was quarantined."
    parts = [f"{quarantined} rows quarantined"] if quarantined else []
    for finding in rule_findings(warned)[:3]:
        example = finding["samples"][0] if finding["samples"] else "-"
        parts.append(f"{finding['rows']} rows break {finding['rule']} (e.g. {example})")
    return "; ".join(parts)


def build_ingestion_assets(partitions_def: DailyPartitionsDefinition) -> list:
    """One ingestion multi-asset per source, on the deployment's daily partitions."""
    return [build_ingestion_asset(source, partitions_def) for source in SOURCES]
