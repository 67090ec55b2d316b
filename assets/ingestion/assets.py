"""The ingestion assets: one multi-asset per source, one asset key per raw table, gated by GX."""

import json
from dataclasses import replace

import duckdb
import pandas as pd
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
from assets.ingestion.gate import (
    DayVerdict,
    ExpectationRecord,
    HeldBack,
    audits_after_gate,
    file_rule,
    judge_table,
    quarantine_share_rule,
    volume_rule,
)
from assets.ingestion.loading import (
    PartitionLoad,
    TableValidation,
    hold_back_partition,
    prepare_warehouse,
    quoted,
    record_validation,
    replace_partition,
    unbalanced_audit_rows,
)
from assets.ingestion.sources import SOURCES, Source
from cxlake.app_state import AppState
from cxlake.config.quality import QualitySettings, quality_settings
from cxlake.delivered_files import DeliveredFileError
from cxlake.pipeline.partitions import BUSINESS_TIMEZONE, single_run
from cxlake.pipeline.resources import LandingZone, Warehouse
from cxlake.surveys.mapping import load_mappings
from cxlake.surveys.readers import SurveyReadError
from expectations.runner import GxRunner
from expectations.suites import SUITES
from expectations.suites.base import ERROR, WARN, RuleContext

ROSTER_TABLES = (rt.REFERENCE_STORES, rt.REFERENCE_STAFF)
# Answers are judged through their response: they follow it into quarantine and back.
ANSWERS_OF = {
    rt.QUALTRICS_RESPONSES.name: rt.QUALTRICS_ANSWERS,
    rt.WJX_RESPONSES.name: rt.WJX_ANSWERS,
    rt.SURVEY_RESPONSES.name: rt.SURVEY_ANSWERS,
    rt.KANO_RESPONSES.name: rt.KANO_ANSWERS,
    rt.SURVEY_API_RESPONSES.name: rt.SURVEY_API_ANSWERS,
}
# Tables delivered steadily every day, whose volume is held to the band of the trailing days.
VOLUME_CHECKED = {
    "pos_transactions",
    "pos_transaction_lines",
    "survey_invitations",
    "qualtrics_responses",
    "wjx_responses",
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

    @multi_asset(
        name=f"ingest_{source.name}",
        specs=specs,
        check_specs=check_specs,
        partitions_def=partitions_def,
        backfill_policy=single_run,
        description=source.description,
    )
    def ingest(context: AssetExecutionContext, landing: LandingZone, warehouse: Warehouse):
        settings = quality_settings()
        runner = GxRunner(warehouse.home)  # the GX project: <home>/gx
        app_state = AppState(warehouse.app_state)
        days = list(context.partition_keys)
        verdicts = {day: DayVerdict(day) for day in days}
        loads: dict[str, PartitionLoad] = {}
        delivered_in_run: dict[str, tuple[str, str]] = {}  # checksum -> (file, day) of this run's loads
        with warehouse.connect() as connection:
            prepare_warehouse(connection, list(source.tables))
            for day in days:
                try:
                    load = source.load_partition(landing.path, landing.partition_dir(source.name, day), day)
                except (DeliveredFileError, SurveyReadError) as error:
                    verdicts[day].blocked_reasons.append(str(error))
                    verdicts[day].records += [file_rule(t.name, str(error)) for t in source.tables]
                    continue
                if repeat := repeated_delivery(connection, load, delivered_in_run):
                    verdicts[day].blocked_reasons.append(repeat)
                    verdicts[day].records += [file_rule(t.name, repeat) for t in source.tables]
                loads[day] = load
            rules = rule_context(connection, loads)
            for table in gated:
                gate_table(connection, table, loads, verdicts, runner, rules, app_state)
            totals = write_days(connection, context.run.run_id, source, days, loads, verdicts, settings)
            unbalanced = {t.name: unbalanced_audit_rows(connection, t.name) for t in source.tables}
        for load in loads.values():
            for warning in load.warnings:
                context.log.warning(warning)
        held_back = held_back_lines(source, verdicts, loads)
        for line in held_back:
            context.log.error(line)
        if held_back and context.run.tags.get(FAIL_IF_HELD_BACK_TAG) == "true":
            raise Failure(description="\n".join(held_back), metadata={"held_back": len(held_back)})
        for day, verdict in verdicts.items():
            if verdict.blocked:
                for table in source.tables:
                    context.add_asset_metadata(
                        {"held_back": "; ".join(verdict.blocked_reasons)},
                        asset_key=raw_asset_key(table.name),
                        partition_key=day,
                    )
        yield from results(source, gated, days, verdicts, totals, unbalanced)

    return ingest


def held_back_lines(
    source: Source, verdicts: dict[str, DayVerdict], loads: dict[str, PartitionLoad]
) -> list[str]:
    """One line per held-back partition: the day, the source, its files and the reason."""
    return [
        HeldBack(
            source.name,
            day,
            tuple(sorted({a.file for a in loads[day].audits})) if day in loads else (),
            "; ".join(verdict.blocked_reasons),
        ).line()
        for day, verdict in sorted(verdicts.items())
        if verdict.blocked
    ]


def repeated_delivery(
    connection: duckdb.DuckDBPyConnection, load: PartitionLoad, delivered_in_run: dict[str, tuple[str, str]]
) -> str | None:
    """A file delivered twice (same bytes under two names, on another day of this run, or already
    loaded for another day) would double its rows: name both files instead of quarantining every
    row as a duplicate. Header-only files are alike by nature and never count."""
    mine: dict[str, str] = {}
    for audit in load.audits:
        if audit.rows_in == 0:
            continue
        if audit.checksum in mine and mine[audit.checksum] != audit.file:
            return f"{audit.file}: the same file as {mine[audit.checksum]}, delivered twice"
        if audit.checksum in delivered_in_run and delivered_in_run[audit.checksum][1] != load.day:
            earlier_file, earlier_day = delivered_in_run[audit.checksum]
            return f"{audit.file}: the same file as {earlier_file}, delivered for {earlier_day}"
        mine.setdefault(audit.checksum, audit.file)
    delivered_in_run.update({checksum: (file, load.day) for checksum, file in mine.items()})
    if not mine:
        return None
    earlier = connection.execute(
        "select checksum, file, partition_date from dq.load_audit "
        "where list_contains(?, checksum) and partition_date <> ? and rows_in > 0 and status = 'loaded' "
        "limit 1",
        [list(mine), load.day],
    ).fetchone()
    if earlier:
        return f"{mine[earlier[0]]}: the same file as {earlier[1]}, already loaded for {earlier[2]}"
    return None


def rule_context(connection: duckdb.DuckDBPyConnection, loads: dict[str, PartitionLoad]) -> RuleContext:
    """The roster as loaded so far plus any roster delivered in this run, and the mapped surveys."""
    stores = {
        r[0] for r in connection.execute("select distinct store_id from raw.reference_stores").fetchall()
    }
    staff = {r[0] for r in connection.execute("select distinct staff_id from raw.reference_staff").fetchall()}
    for load in loads.values():
        if (frame := load.frames.get(rt.REFERENCE_STORES.name)) is not None:
            stores |= set(frame["store_id"].dropna())
        if (frame := load.frames.get(rt.REFERENCE_STAFF.name)) is not None:
            staff |= set(frame["staff_id"].dropna())
    return RuleContext(
        store_ids=frozenset(stores),
        staff_ids=frozenset(staff),
        survey_ids=frozenset(m.survey_id for m in load_mappings()),
        loaded_keys=frozenset(),
        now=pd.Timestamp.now(tz="UTC"),
        timezone=BUSINESS_TIMEZONE,
        max_text_length=quality_settings().max_text_length,
    )


def keys_loaded_elsewhere(connection, table: rt.RawTable, days: list[str]) -> frozenset[str]:
    """Record keys of this table already loaded from partitions outside this run."""
    suite = SUITES[table.name]
    if suite.record_key is None:
        return frozenset()
    outside_run = "not list_contains(?, cast(_partition_date as varchar))"
    frame = connection.execute(f"select * from raw.{quoted(table.name)} where {outside_run}", [days]).df()
    return frozenset(suite.keys(frame).dropna()) if len(frame) else frozenset()


def gate_table(connection, table, loads, verdicts, runner, rules, app_state) -> None:
    """Validate one table over the run's loaded days; move held-back rows (and their answers) aside."""
    days = sorted(loads)
    table_rules = replace(rules, loaded_keys=keys_loaded_elsewhere(connection, table, days))
    frames = {day: loads[day].frames.get(table.name) for day in days}
    loaded, held, records = judge_table(
        SUITES[table.name], frames, runner, table_rules, app_state.latest_decisions(table.name)
    )
    for day in days:
        load, verdict = loads[day], verdicts[day]
        verdict.records += records[day]
        if loaded[day] is None:
            continue
        held_rows = held.get(
            day, pd.DataFrame(columns=["_source_file", "_source_row", "_failed_expectations"])
        )
        load.frames[table.name] = loaded[day]
        verdict.quarantine[table.name] = held_rows
        load.audits = audits_after_gate(load, table, loaded[day], held_rows)
        if (answers_table := ANSWERS_OF.get(table.name)) and answers_table.name in load.frames:
            answers = load.frames[answers_table.name]
            reasons = (
                dict(zip(held_rows["response_id"], held_rows["_failed_expectations"], strict=True))
                if len(held_rows)
                else {}
            )
            moved = answers["response_id"].isin(list(reasons))
            load.frames[answers_table.name] = answers[~moved]
            verdict.quarantine[answers_table.name] = answers[moved].assign(
                _failed_expectations=answers.loc[moved, "response_id"].map(reasons)
            )


def write_days(connection, run_id, source, days, loads, verdicts, settings: QualitySettings) -> dict:
    """Apply the partition rules day by day (in order: each day's volume history includes the
    days before it) and write every unblocked day; record every day's verdict. One transaction:
    the run's days land together or not at all."""
    totals = {t.name: {"loaded": 0, "quarantined": 0} for t in source.tables}
    recorded = []
    connection.begin()
    try:
        for day in sorted(days):
            recorded.append(
                _write_day(connection, source, day, loads.get(day), verdicts[day], settings, totals)
            )
        record_validation(connection, run_id, source.name, recorded)
        connection.commit()
    except Exception:
        connection.rollback()
        raise
    return totals


def _write_day(connection, source, day, load, verdict, settings, totals) -> tuple:
    """One day: partition rules, then the write unless the day is blocked."""
    validations = []
    for table in source.tables:
        rows_in = sum(a.rows_in for a in load.audits if a.raw_table == table.name) if load else 0
        held = len(verdict.quarantine.get(table.name, ()))
        if load is not None and table.name in SUITES:
            partition_rules = [quarantine_share_rule(table.name, rows_in, held, settings)]
            if table.name in VOLUME_CHECKED:
                partition_rules.append(
                    volume_rule(
                        table.name, rows_in, volume_history(connection, table, day, settings), settings
                    )
                )
            for record in filter(None, partition_rules):
                verdict.records.append(record)
                if not record.success and record.severity == ERROR:
                    verdict.blocked_reasons.append(f"raw.{table.name} {day}: {record.samples[0]}")
        validations.append((table, rows_in, held))
    if load is not None and not verdict.blocked:
        replace_partition(
            connection, source.name, list(source.tables), load, verdict.quarantine, in_transaction=True
        )
    elif load is not None:
        hold_back_partition(connection, source.name, list(source.tables), load, verdict.quarantine)
    tables = []
    for table, rows_in, held in validations:
        loaded = 0 if verdict.blocked or load is None else len(load.frames.get(table.name, ()))
        totals[table.name]["loaded"] += loaded
        totals[table.name]["quarantined"] += held
        tables.append(
            TableValidation(
                table.name,
                verdict.blocked,
                "; ".join(verdict.blocked_reasons) or None,
                rows_in,
                loaded,
                held,
                not verdict.blocked and all(r.success for r in verdict.records if r.raw_table == table.name),
            )
        )
    return day, tables, [_row(r) for r in verdict.records]


def volume_history(connection, table: rt.RawTable, day: str, settings: QualitySettings) -> list[int]:
    rows = connection.execute(
        "select partition_date, sum(rows_in) from dq.load_audit where raw_table = ? and partition_date < ? "
        "and status = 'loaded' group by partition_date order by partition_date desc limit ?",
        [table.name, day, settings.volume_trailing_partitions],
    ).fetchall()
    return [int(r[1]) for r in rows]


def _row(record: ExpectationRecord) -> tuple:
    return (
        record.raw_table,
        record.expectation,
        record.level,
        record.severity,
        record.success,
        record.unexpected_count,
        json.dumps(list(record.samples), ensure_ascii=False),
    )


def results(source, gated, days, verdicts, totals, unbalanced):
    blocked = {day: v.blocked_reasons for day, v in verdicts.items() if v.blocked}
    for table in source.tables:
        yield MaterializeResult(
            asset_key=raw_asset_key(table.name),
            metadata={
                "partitions": len(days),
                "partitions_held_back": len(blocked),
                "rows_loaded": totals[table.name]["loaded"],
                "rows_quarantined": totals[table.name]["quarantined"],
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
    for table in gated:
        failed = [
            r for v in verdicts.values() for r in v.records if r.raw_table == table.name and not r.success
        ]
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
        quarantined = totals[table.name]["quarantined"]
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
