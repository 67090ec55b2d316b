"""The steward's view of quarantined rows: read them from the serving copy, record decisions in app state.

Rows are read from the published serving copy through the steward's door
(:mod:`cxlake.access.serving_door`, which masks them), never from the warehouse, because the
pipeline may hold the warehouse's single write lock. A decision is only recorded here; the loader
applies the latest one when the row's partition is re-run, which is why every release says so.
Table names reach SQL only after a check against the fixed allow-list below. Rows, decisions and
their corrections are masked like every other personal data (:mod:`cxlake.access.roles`) unless the
caller says the user has PII rights; the CLI names no user, so it always masks.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, replace
from datetime import date
from pathlib import Path

import pandas as pd

from cxlake.access import pii
from cxlake.access.roles import Scope, quarantine_kind
from cxlake.access.serving_door import QUARANTINE, Door, Reader, ServingCopyMissing, open_door
from cxlake.app_state import AppState, QuarantineDecision

# The raw tables the gate may quarantine rows of, and the columns it adds to the columns as
# delivered (a steward may not correct them).
from cxlake.contracts import QUARANTINE_LINEAGE_COLUMNS as LINEAGE_COLUMNS
from cxlake.contracts import QUARANTINE_TABLES

DECISION_COLUMNS = ("decision", "decided_by", "decided_at", "reason")


class QuarantineError(ValueError):
    """A request the steward can fix: unknown table, row not in quarantine, unknown column."""


def checked_table(table: str) -> str:
    """``table`` if it is on the allow-list, else a QuarantineError naming the valid ones."""
    if table not in QUARANTINE_TABLES:
        raise QuarantineError(f"unknown table {table!r}; expected one of {', '.join(QUARANTINE_TABLES)}")
    return table


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _relation(table: str) -> str:
    return f"quarantine.{_identifier(checked_table(table))}"


def open_serving(path: Path, *, sees_pii: bool = False) -> Door:
    """The steward's door to the serving copy's quarantine (the whole chain's rows, delivered text
    masked unless ``sees_pii``), or a QuarantineError if nothing is published yet."""
    try:
        return open_door(path, Reader(Scope.everything(), sees_pii), schemas=(QUARANTINE,))
    except ServingCopyMissing as missing:
        raise QuarantineError(str(missing)) from None


def present_tables(door: Door) -> tuple[str, ...]:
    """The allow-listed quarantine tables the serving copy has (in allow-list order)."""
    found = door.tables(QUARANTINE)
    return tuple(table for table in QUARANTINE_TABLES if table in found)


def delivered_columns(door: Door, table: str) -> tuple[str, ...]:
    """The table's columns as delivered (what a correction may change), in table order."""
    columns = door.columns(QUARANTINE, checked_table(table))
    return tuple(name for name in columns if name not in LINEAGE_COLUMNS)


def quarantined_rows(door: Door, table: str, day: date | None = None) -> pd.DataFrame:
    """Every quarantined row of ``table`` (of one partition day if given): lineage first, then as
    delivered, masked as the door's reader may read it.

    A table the serving copy does not have yet reads as no rows.
    """
    if checked_table(table) not in present_tables(door):
        return pd.DataFrame(columns=list(LINEAGE_COLUMNS))
    columns = ", ".join(_identifier(name) for name in (*LINEAGE_COLUMNS, *delivered_columns(door, table)))
    with door.connection.cursor() as cursor:
        return cursor.execute(
            f"select {columns} from {_relation(table)} where ?::date is null or _partition_date = ?::date"
            " order by _partition_date, _source_file, _source_row",
            [day, day],
        ).df()


def quarantined_row(door: Door, table: str, source_file: str, source_row: int) -> dict[str, object]:
    """One quarantined row by file and line, or a QuarantineError if it is not in quarantine."""
    rows = quarantined_rows(door, table)
    match = rows[(rows["_source_file"] == source_file) & (rows["_source_row"] == source_row)]
    if match.empty:
        raise QuarantineError(f"no row {source_file}:{source_row} in quarantine.{table}")
    record = match.iloc[0].to_dict()
    return {**record, "_partition_date": quarantined_day(record)}


def quarantined_day(row: Mapping[str, object]) -> date:
    """The row's partition day as a date (pandas hands DuckDB dates back as timestamps)."""
    return pd.Timestamp(row["_partition_date"]).date()


def failed_expectations(value: object) -> list[str]:
    """The ``_failed_expectations`` JSON list as Python strings (empty when missing)."""
    if not isinstance(value, str) or not value:
        return []
    return [str(item) for item in json.loads(value)]


def readable_decision(decision: QuarantineDecision, sees_pii: bool = False) -> QuarantineDecision:
    """``decision`` as a user may read it: the steward's corrections are customers' data (a corrected
    phone), masked by their column's kind, and the reason as free text, unless ``sees_pii``."""
    if sees_pii:
        return decision
    return replace(
        decision,
        corrections={
            column: str(pii.mask(quarantine_kind(column), value))
            for column, value in decision.corrections.items()
        },
        reason=pii.mask_free_text(decision.reason),
    )


def with_latest_decisions(
    rows: pd.DataFrame,
    decisions: Mapping[tuple[str, int], QuarantineDecision],
    *,
    sees_pii: bool = False,
) -> pd.DataFrame:
    """``rows`` plus the latest decision per row (empty where undecided), masked unless ``sees_pii``."""
    keys = zip(rows["_source_file"], rows["_source_row"], strict=True)
    found = (decisions.get((file, int(row))) for file, row in keys)
    latest = [readable_decision(d, sees_pii) if d else None for d in found]
    return rows.assign(
        **{column: [getattr(d, column) if d else None for d in latest] for column in DECISION_COLUMNS}
    )


def review_rows(
    door: Door, state: AppState, table: str | None = None, day: date | None = None
) -> pd.DataFrame:
    """Quarantined rows with their latest decision: one table with every column, or all tables' lineage.

    Rows and decisions masked as the door's reader may read them.
    """
    sees_pii = door.reader.sees_pii
    if table is not None:
        return with_latest_decisions(
            quarantined_rows(door, table, day), state.latest_decisions(table), sees_pii=sees_pii
        )
    frames = [
        with_latest_decisions(
            quarantined_rows(door, name, day)[list(LINEAGE_COLUMNS)],
            state.latest_decisions(name),
            sees_pii=sees_pii,
        ).assign(raw_table=name)
        for name in present_tables(door)
    ]
    columns = ["raw_table", *LINEAGE_COLUMNS, *DECISION_COLUMNS]
    frames = [frame for frame in frames if not frame.empty]
    return pd.concat(frames, ignore_index=True)[columns] if frames else pd.DataFrame(columns=columns)


def parse_assignments(assignments: Iterable[str]) -> dict[str, str]:
    """``["phone=138", "city=上海"]`` -> ``{"phone": "138", "city": "上海"}`` (split at the first ``=``)."""
    parsed: dict[str, str] = {}
    for assignment in assignments:
        column, equals, value = assignment.partition("=")
        if not equals or not column.strip():
            raise QuarantineError(f"expected column=value, got {assignment!r}")
        parsed[column.strip()] = value
    return parsed


def decide(
    state: AppState,
    door: Door,
    *,
    table: str,
    source_file: str,
    source_row: int,
    decision: str,
    decided_by: str,
    reason: str | None = None,
    corrections: Mapping[str, str] | None = None,
) -> tuple[QuarantineDecision, date]:
    """Check the row is in quarantine and the corrected columns are the table's, then record the decision.

    Returns the decision and the row's partition day (the day to re-run for it to take effect).
    """
    row = quarantined_row(door, table, source_file, source_row)
    known = delivered_columns(door, table)
    unknown = sorted(set(corrections or {}) - set(known))
    if unknown:
        raise QuarantineError(
            f"unknown column(s) {', '.join(unknown)} for {table}; columns are {', '.join(known)}"
        )
    try:
        recorded = state.record_decision(
            table,
            source_file,
            source_row,
            decision,
            decided_by,
            reason=reason,
            corrections=dict(corrections or {}),
        )
    except ValueError as error:
        raise QuarantineError(str(error)) from error
    return recorded, row["_partition_date"]


def rerun_hint(day: date) -> str:
    """What the steward must do for a decision to reach the warehouse."""
    return (
        f"takes effect when partition {day.isoformat()} is re-run:"
        f" cxlake run --landing <folder> --start {day.isoformat()} --end {day.isoformat()}"
    )


def _text(value: object) -> str:
    return "" if pd.isna(value) else str(value)


def corrections_from_edit(delivered: Mapping[str, object], edited: Mapping[str, object]) -> dict[str, str]:
    """The delivered columns whose edited value differs, as text (a cleared cell becomes ``""``)."""
    return {
        column: _text(value)
        for column, value in edited.items()
        if column in delivered and _text(value) != _text(delivered[column])
    }


def row_history(
    state: AppState, table: str, source_file: str, source_row: int, *, sees_pii: bool = False
) -> list[QuarantineDecision]:
    """Every decision about one row, oldest first, masked unless ``sees_pii``."""
    return [
        readable_decision(d, sees_pii)
        for d in state.decision_history(table)
        if (d.source_file, d.source_row) == (source_file, source_row)
    ]


def decisions_frame(decisions: Iterable[QuarantineDecision], *, sees_pii: bool = False) -> pd.DataFrame:
    """Decisions as a table, corrections as JSON text (for listings and exports); masked unless
    ``sees_pii``."""
    columns = list(QuarantineDecision.__dataclass_fields__)
    readable = (readable_decision(d, sees_pii) for d in decisions)
    records = [
        {**asdict(d), "corrections": json.dumps(d.corrections, ensure_ascii=False, sort_keys=True)}
        for d in readable
    ]
    return pd.DataFrame(records, columns=columns)
