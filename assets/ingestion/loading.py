"""Writing one partition of a source into raw.*: idempotent and all-or-nothing.

Re-running a partition deletes what it loaded before and inserts again inside one transaction,
together with its load-audit rows, so a rerun leaves no duplicates and a failed load leaves the
previous state untouched.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources

import duckdb
import pandas as pd
import pyarrow as pa

from assets.ingestion.raw_tables import LINEAGE_COLUMNS, RawTable


def sql(name: str) -> str:
    return resources.files("assets.ingestion.sql").joinpath(f"{name}.sql").read_text(encoding="utf-8")


def quoted(identifier: str) -> str:
    """Identifiers come from the RawTable registry, never from input; quote them anyway."""
    return '"' + identifier.replace('"', '""') + '"'


@dataclass(frozen=True)
class FileAudit:
    """What one delivered file brought into one raw table."""

    file: str
    raw_table: str
    rows_in: int
    rows_loaded: int
    checksum: str
    rows_quarantined: int = 0


@dataclass
class PartitionLoad:
    """Everything one source delivered for one day, ready to write."""

    day: str
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)
    audits: list[FileAudit] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def add(self, table: RawTable, frame: pd.DataFrame) -> None:
        previous = self.frames.get(table.name)
        self.frames[table.name] = (
            frame if previous is None else pd.concat([previous, frame], ignore_index=True)
        )


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


def replace_partition(
    connection: duckdb.DuckDBPyConnection,
    source: str,
    tables: list[RawTable],
    load: PartitionLoad,
    quarantine: dict[str, pd.DataFrame] | None = None,
    in_transaction: bool = False,
) -> None:
    """Replace the source's rows of ``load.day`` in each of ``tables``, their quarantined rows and
    the day's audit rows, all in one transaction.

    Expects :func:`prepare_warehouse` to have run on this connection. With ``in_transaction`` the
    caller holds the transaction (a run writes all its days in one).
    """
    loaded_at = datetime.now(UTC)
    if not in_transaction:
        connection.begin()
    try:
        for table in tables:
            connection.execute(f"delete from raw.{quoted(table.name)} where _partition_date = ?", [load.day])
            frame = load.frames.get(table.name)
            if frame is None or frame.empty:
                continue
            frame = frame.assign(_partition_date=load.day, _loaded_at=loaded_at)
            column_list = ", ".join(quoted(c) for c in (*table.columns, *LINEAGE_COLUMNS))
            # via Arrow: DuckDB scans Arrow strings directly, pandas' would be copied to numpy first
            connection.register("delivered_rows", pa.Table.from_pandas(frame, preserve_index=False))
            connection.execute(
                f"insert into raw.{quoted(table.name)} ({column_list}) "
                f"select {', '.join(_cast(c) for c in table.columns)}, "
                "cast(_partition_date as date), _source_file, cast(_source_row as integer), _loaded_at "
                "from delivered_rows"
            )
            connection.unregister("delivered_rows")
        for table in tables:
            _replace_quarantined(connection, table, load.day, (quarantine or {}).get(table.name), loaded_at)
        connection.execute(
            "delete from dq.load_audit where source = ? and partition_date = ?", [source, load.day]
        )
        _insert_audits(connection, source, load, "loaded", loaded_at)
        if not in_transaction:
            connection.commit()
    except Exception:
        if not in_transaction:
            connection.rollback()
        raise


def hold_back_partition(
    connection: duckdb.DuckDBPyConnection,
    source: str,
    tables: list[RawTable],
    load: PartitionLoad,
    quarantine: dict[str, pd.DataFrame],
) -> None:
    """Record a blocked day without touching what raw.* holds for it: its failing rows go to
    quarantine (replacing earlier attempts from the same files) and its files get 'held_back' audit
    rows, so a steward sees what was delivered and why it waits. The caller holds the transaction."""
    held_at = datetime.now(UTC)
    files = sorted({audit.file for audit in load.audits})
    for table in tables:
        connection.execute(
            f"delete from quarantine.{quoted(table.name)} where _partition_date = ? "
            "and list_contains(?, _source_file)",
            [load.day, files],
        )
        frame = quarantine.get(table.name)
        if frame is not None and not frame.empty:
            _insert_quarantined(connection, table, load.day, frame, held_at)
    connection.execute(
        "delete from dq.load_audit where source = ? and partition_date = ? and status = 'held_back'",
        [source, load.day],
    )
    _insert_audits(connection, source, load, "held_back", held_at)


def _insert_audits(
    connection: duckdb.DuckDBPyConnection, source: str, load: PartitionLoad, status: str, at: datetime
) -> None:
    """One audit row per file and raw table; a held-back day loads nothing, so what was not
    quarantined is held back (it stays in landing/ for the next attempt)."""
    for audit in load.audits:
        loaded = audit.rows_loaded if status == "loaded" else 0
        held_back = 0 if status == "loaded" else audit.rows_in - audit.rows_quarantined
        connection.execute(
            "insert into dq.load_audit (source, partition_date, file, raw_table, rows_in, rows_loaded, "
            "rows_quarantined, checksum, loaded_at, status, rows_held_back) "
            "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                source,
                load.day,
                audit.file,
                audit.raw_table,
                audit.rows_in,
                loaded,
                audit.rows_quarantined,
                audit.checksum,
                at,
                status,
                held_back,
            ],
        )


def _replace_quarantined(
    connection: duckdb.DuckDBPyConnection, table: RawTable, day: str, frame: pd.DataFrame | None, at: datetime
) -> None:
    connection.execute(f"delete from quarantine.{quoted(table.name)} where _partition_date = ?", [day])
    if frame is None or frame.empty:
        return
    _insert_quarantined(connection, table, day, frame, at)


def _insert_quarantined(
    connection: duckdb.DuckDBPyConnection, table: RawTable, day: str, frame: pd.DataFrame, at: datetime
) -> None:
    frame = frame.assign(_partition_date=day, _quarantined_at=at)
    column_list = ", ".join(quoted(c) for c in table.columns)
    connection.register("held_rows", pa.Table.from_pandas(frame, preserve_index=False))
    connection.execute(
        f"insert into quarantine.{quoted(table.name)} ({column_list}, _partition_date, _source_file, "
        "_source_row, _failed_expectations, _quarantined_at) "
        f"select {', '.join(_cast(c) for c in table.columns)}, cast(_partition_date as date), _source_file, "
        "cast(_source_row as integer), _failed_expectations, _quarantined_at from held_rows"
    )
    connection.unregister("held_rows")


def _cast(column: str) -> str:
    return f"cast({quoted(column)} as varchar)"


def unbalanced_audit_rows(connection: duckdb.DuckDBPyConnection, raw_table: str) -> list[tuple]:
    return connection.execute(sql("unbalanced_load_audit"), [raw_table]).fetchall()


@dataclass(frozen=True)
class TableValidation:
    """A row of dq.validation_runs: one raw table's partition in one run."""

    raw_table: str
    blocked: bool
    block_reason: str | None
    rows_in: int
    rows_loaded: int
    rows_quarantined: int
    success: bool


def record_validation(
    connection: duckdb.DuckDBPyConnection,
    run_id: str,
    source: str,
    verdicts: list[tuple[str, list[TableValidation], list[tuple]]],
) -> None:
    """Store a run's verdicts, (day, tables, expectation rows) per partition, in two inserts
    (kept for every run: the steward's history)."""
    validated_at = datetime.now(UTC)
    runs = pd.DataFrame(
        [
            (
                run_id,
                source,
                t.raw_table,
                day,
                validated_at,
                t.success,
                t.blocked,
                t.block_reason,
                t.rows_in,
                t.rows_loaded,
                t.rows_quarantined,
            )
            for day, tables, _ in verdicts
            for t in tables
        ],
        columns=[
            "run_id",
            "source",
            "raw_table",
            "partition_date",
            "validated_at",
            "success",
            "blocked",
            "block_reason",
            "rows_in",
            "rows_loaded",
            "rows_quarantined",
        ],
    )
    _append(connection, "dq.validation_runs", runs)
    results = pd.DataFrame(
        [
            (run_id, source, raw_table, day, *rest)
            for day, _, expectation_rows in verdicts
            for raw_table, *rest in expectation_rows
        ],
        columns=[
            "run_id",
            "source",
            "raw_table",
            "partition_date",
            "expectation",
            "level",
            "severity",
            "success",
            "unexpected_count",
            "sample_values",
        ],
    )
    _append(connection, "dq.expectation_results", results)


def _append(connection: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> None:
    """Insert a frame by column name (one statement, not a row at a time)."""
    if frame.empty:
        return
    connection.register("new_rows", frame)
    columns = ", ".join(frame.columns)
    connection.execute(f"insert into {table} ({columns}) select {columns} from new_rows")
    connection.unregister("new_rows")
