"""The writer: applies the gate's verdicts to raw.*, quarantine.* and dq.*, one transaction per partition.

A loaded day replaces what it loaded before (rows, held rows, audit rows); a blocked day keeps its
previous state and records its held rows and 'held_back' audit rows; either way the day's verdict
goes to dq.validation_runs and dq.expectation_results. Each partition is one transaction, so a
rerun leaves no duplicates and a failed write leaves the day as it was. The SQL is in ``sql/``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import resources

import duckdb
import pandas as pd
import pyarrow as pa

from assets.ingestion.raw_tables import RawTable
from cxlake.pipeline.resources import Warehouse
from expectations.gate import PartitionVerdict, TableVerdict


def sql(name: str, table: RawTable | None = None) -> str:
    """A statement of ``sql/``; with ``table``, its identifiers filled in (quoted, from the registry)."""
    text = resources.files("assets.ingestion.sql").joinpath(f"{name}.sql").read_text(encoding="utf-8")
    if table is None:
        return text
    return (
        text.replace("{raw_table}", quoted(table.name))
        .replace("{columns}", ", ".join(quoted(c) for c in table.columns))
        .replace("{values}", ", ".join(f"cast({quoted(c)} as varchar)" for c in table.columns))
    )


def quoted(identifier: str) -> str:
    """Identifiers come from the RawTable registry, never from input; quote them anyway."""
    return '"' + identifier.replace('"', '""') + '"'


@contextmanager
def raw_layer(warehouse: Warehouse, tables: Sequence[RawTable]) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to the warehouse with the schemas, dq tables and ``tables`` in place."""
    with warehouse.connect() as connection:
        prepare_warehouse(connection, list(tables))
        yield connection


def prepare_warehouse(connection: duckdb.DuckDBPyConnection, tables: list[RawTable]) -> None:
    """Schemas, dq tables, the raw and quarantine tables, created if missing (once per load)."""
    connection.execute(sql("prepare_warehouse"))
    for table in tables:
        ensure_raw_table(connection, table)
        ensure_quarantine_table(connection, table)


def ensure_raw_table(connection: duckdb.DuckDBPyConnection, table: RawTable) -> None:
    columns = ", ".join(f"{quoted(c)} varchar" for c in table.columns)
    connection.execute(
        f"create table if not exists raw.{quoted(table.name)} ({columns}, "
        "_partition_date date not null, _source_file varchar not null, _source_row integer, "
        "_loaded_at timestamptz not null)"
    )


def ensure_quarantine_table(connection: duckdb.DuckDBPyConnection, table: RawTable) -> None:
    """quarantine.<raw table>: the row as delivered, where it came from, and every rule it broke."""
    columns = ", ".join(f"{quoted(c)} varchar" for c in table.columns)
    connection.execute(
        f"create table if not exists quarantine.{quoted(table.name)} ({columns}, "
        "_partition_date date not null, _source_file varchar not null, _source_row integer, "
        "_failed_expectations varchar not null, _quarantined_at timestamptz not null)"
    )


def write_verdicts(
    connection: duckdb.DuckDBPyConnection,
    run_id: str,
    tables: Sequence[RawTable],
    verdicts: Sequence[PartitionVerdict],
) -> dict[str, list[tuple]]:
    """Apply each verdict in its own transaction; return, per raw table, the audit rows that do not
    balance afterwards (none, unless something else wrote the audit)."""
    for verdict in verdicts:
        connection.begin()
        try:
            write_partition(connection, run_id, tables, verdict)
            connection.commit()
        except Exception:
            connection.rollback()
            raise
    return {table.name: unbalanced_audit_rows(connection, table.name) for table in tables}


def write_partition(
    connection: duckdb.DuckDBPyConnection, run_id: str, tables: Sequence[RawTable], verdict: PartitionVerdict
) -> None:
    """One partition's verdict; the caller holds the transaction."""
    at = datetime.now(UTC)
    judged = {t.raw_table: t for t in verdict.tables}
    if verdict.written:
        for table in tables:
            connection.execute(sql("delete_raw_partition", table), [verdict.day])
            _insert(connection, "insert_raw_rows", table, judged[table.name].load, verdict.day, at)
        for table in tables:
            connection.execute(sql("delete_quarantined_day", table), [verdict.day])
            _insert(
                connection, "insert_quarantined_rows", table, judged[table.name].quarantine, verdict.day, at
            )
        connection.execute(sql("delete_day_audits"), [verdict.source, verdict.day])
        _insert_audits(connection, verdict, "loaded", at)
    elif verdict.delivery.unreadable is None:
        files = list(verdict.delivery.files)
        for table in tables:
            connection.execute(sql("delete_quarantined_files", table), [verdict.day, files])
            _insert(
                connection, "insert_quarantined_rows", table, judged[table.name].quarantine, verdict.day, at
            )
        connection.execute(sql("delete_held_back_audits"), [verdict.source, verdict.day])
        _insert_audits(connection, verdict, "held_back", at)
    _record_verdict(connection, run_id, verdict, at)


def _insert(
    connection: duckdb.DuckDBPyConnection,
    statement: str,
    table: RawTable,
    frame: pd.DataFrame | None,
    day: str,
    at: datetime,
) -> None:
    if frame is None or frame.empty:
        return
    lineage = ["_source_file", "_source_row"] + (
        ["_failed_expectations"] if "_failed_expectations" in frame.columns else []
    )
    # via Arrow, only the columns written: DuckDB scans Arrow strings directly
    rows = pa.Table.from_pandas(frame[[*table.columns, *lineage]], preserve_index=False)
    connection.register("judged_rows", rows)
    try:
        connection.execute(sql(statement, table), [day, at])
    finally:
        connection.unregister("judged_rows")


def _insert_audits(
    connection: duckdb.DuckDBPyConnection, verdict: PartitionVerdict, status: str, at: datetime
) -> None:
    """One audit row per file and raw table; a held-back day loads nothing, so what was not
    quarantined is held back (it stays in landing/ for the next attempt)."""
    rows = [
        (
            verdict.source,
            verdict.day,
            audit.file,
            audit.raw_table,
            audit.rows_in,
            audit.rows_loaded if status == "loaded" else 0,
            audit.rows_quarantined,
            audit.checksum,
            at,
            status,
            0 if status == "loaded" else audit.rows_in - audit.rows_quarantined,
        )
        for audit in verdict.audits
    ]
    columns = [
        "source", "partition_date", "file", "raw_table", "rows_in", "rows_loaded", "rows_quarantined",
        "checksum", "loaded_at", "status", "rows_held_back",
    ]  # fmt: skip
    _append(connection, "insert_audits", "audit_rows", pd.DataFrame(rows, columns=columns))


def _record_verdict(
    connection: duckdb.DuckDBPyConnection, run_id: str, verdict: PartitionVerdict, at: datetime
) -> None:
    """The partition's verdict per raw table and per rule (kept for every run: the steward's history)."""
    runs = pd.DataFrame(
        [_validation_row(run_id, verdict, table, at) for table in verdict.tables],
        columns=[
            "run_id", "source", "raw_table", "partition_date", "validated_at", "success", "blocked",
            "block_reason", "rows_in", "rows_loaded", "rows_quarantined",
        ],
    )  # fmt: skip
    _append(connection, "insert_validation_runs", "validation_rows", runs)
    results = pd.DataFrame(
        [
            (
                run_id,
                verdict.source,
                r.raw_table,
                verdict.day,
                r.expectation,
                r.level,
                r.severity,
                r.success,
                r.unexpected_count,
                json.dumps(list(r.samples), ensure_ascii=False),
            )
            for r in verdict.records
        ],
        columns=[
            "run_id", "source", "raw_table", "partition_date", "expectation", "level", "severity",
            "success", "unexpected_count", "sample_values",
        ],
    )  # fmt: skip
    _append(connection, "insert_expectation_results", "result_rows", results)


def _validation_row(run_id: str, verdict: PartitionVerdict, table: TableVerdict, at: datetime) -> tuple:
    return (
        run_id,
        verdict.source,
        table.raw_table,
        verdict.day,
        at,
        table.success,
        verdict.blocked,
        verdict.block_reason,
        table.rows_in,
        table.rows_loaded,
        table.rows_quarantined,
    )


def _append(connection: duckdb.DuckDBPyConnection, statement: str, name: str, frame: pd.DataFrame) -> None:
    """Insert a frame in one statement, not a row at a time."""
    if frame.empty:
        return
    connection.register(name, frame)
    try:
        connection.execute(sql(statement))
    finally:
        connection.unregister(name)


def unbalanced_audit_rows(connection: duckdb.DuckDBPyConnection, raw_table: str) -> list[tuple]:
    return connection.execute(sql("unbalanced_load_audit"), [raw_table]).fetchall()
