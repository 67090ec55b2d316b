"""`cxlake quarantine ...`: review quarantined rows from a terminal: list, show, release (with
corrections), reject, export, history. Decisions go to the app-state store; a released row is loaded
when its partition is re-run."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cxlake.cli.common import day as day_option
from cxlake.cli.common import fail
from cxlake.paths import cxlake_paths

if TYPE_CHECKING:
    import pandas as pd

app = typer.Typer(
    name="quarantine",
    no_args_is_help=True,
    help="Review quarantined rows: list, show, release (with corrections), reject, export, history.",
)

TableOption = Annotated[str, typer.Option("--table", help="Raw table, e.g. crm_customers.")]
FileOption = Annotated[str, typer.Option("--file", help="The row's source file, as listed.")]
RowOption = Annotated[int, typer.Option("--row", help="The row's line in its source file, as listed.")]
ByOption = Annotated[str, typer.Option("--by", help="Your name, recorded with the decision.")]
ExcelSafeOption = Annotated[
    bool, typer.Option("--excel-safe", help="Defuse text cells a spreadsheet would run as formulas.")
]


def _print_csv(frame: pd.DataFrame, excel_safe: bool) -> None:
    from cxlake.exports import to_csv_bytes

    typer.echo(to_csv_bytes(frame, excel_safe_cells=excel_safe).decode("utf-8-sig"), nl=False)


@app.command("list")
def quarantine_list(
    table: Annotated[str | None, typer.Option("--table", help="Only this raw table (all columns).")] = None,
    day: Annotated[str | None, typer.Option("--day", help="Only this partition, YYYY-MM-DD.")] = None,
    excel_safe: ExcelSafeOption = False,
) -> None:
    """Quarantined rows as CSV on stdout, with their latest decision (from the serving copy)."""
    from cxlake import quarantine
    from cxlake.app_state import AppState

    paths = cxlake_paths()
    try:
        with quarantine.open_serving(paths.serving) as connection:
            listing = quarantine.review_rows(connection, AppState(paths.app_state), table, day_option(day))
    except (quarantine.QuarantineError, ValueError) as error:
        fail(str(error))
    _print_csv(listing, excel_safe)
    typer.echo(f"{len(listing)} quarantined row(s)", err=True)


@app.command("show")
def quarantine_show(table: TableOption, file: FileOption, row: RowOption) -> None:
    """One quarantined row as delivered, what it failed, and every decision about it."""
    from cxlake import quarantine
    from cxlake.app_state import AppState

    paths = cxlake_paths()
    try:
        with quarantine.open_serving(paths.serving) as connection:
            record = quarantine.quarantined_row(connection, table, file, row)
    except quarantine.QuarantineError as error:
        fail(str(error))
    width = max(len(name) for name in record)
    for name, value in record.items():
        if name != "_failed_expectations":
            typer.echo(f"{name:<{width}}  {value}")
    failed = ", ".join(quarantine.failed_expectations(record["_failed_expectations"]))
    typer.echo(f"{'failed':<{width}}  {failed}")
    history = quarantine.row_history(AppState(paths.app_state), table, file, row)
    for decision in history:
        typer.echo(
            f"{decision.decided_at}  {decision.decision} by {decision.decided_by}"
            f"  reason={decision.reason or ''}  corrections={decision.corrections}"
        )
    if not history:
        typer.echo("no decision yet")


def _decide(
    table: str, file: str, row: int, decision: str, by: str, reason: str | None, sets: list[str]
) -> None:
    from cxlake import quarantine
    from cxlake.app_state import AppState

    paths = cxlake_paths()
    try:
        corrections = quarantine.parse_assignments(sets)
        with quarantine.open_serving(paths.serving) as connection:
            recorded, day = quarantine.decide(
                AppState(paths.app_state),
                connection,
                table=table,
                source_file=file,
                source_row=row,
                decision=decision,
                decided_by=by,
                reason=reason,
                corrections=corrections,
            )
    except quarantine.QuarantineError as error:
        fail(str(error))
    changed = f" with {len(recorded.corrections)} correction(s)" if recorded.corrections else ""
    effect = quarantine.rerun_hint(day) if decision == "release" else "the row stays quarantined"
    typer.echo(f"{decision} of {table} {file}:{row}{changed} recorded; {effect}")


@app.command("release")
def quarantine_release(
    table: TableOption,
    file: FileOption,
    row: RowOption,
    by: ByOption,
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="column=value correction; repeat for more columns.")
    ] = None,
    reason: Annotated[str | None, typer.Option("--reason", help="Why the row may be loaded.")] = None,
) -> None:
    """Release a row (optionally corrected); it is loaded when its partition is re-run."""
    _decide(table, file, row, "release", by, reason, set_ or [])


@app.command("reject")
def quarantine_reject(
    table: TableOption,
    file: FileOption,
    row: RowOption,
    reason: Annotated[str, typer.Option("--reason", help="Why the row stays out (required).")],
    by: ByOption,
) -> None:
    """Reject a row for good: it stays quarantined on every re-run."""
    _decide(table, file, row, "reject", by, reason, [])


@app.command("export")
def quarantine_export(
    table: TableOption,
    out: Annotated[Path, typer.Option("--out", help="FILE.csv or FILE.xlsx, for opening in a spreadsheet.")],
) -> None:
    """Write a table's quarantined rows with their decisions to CSV or XLSX, formula-safe."""
    from cxlake import quarantine
    from cxlake.app_state import AppState
    from cxlake.exports import to_csv_bytes, to_xlsx_bytes

    writers = {".csv": to_csv_bytes, ".xlsx": to_xlsx_bytes}
    if out.suffix.lower() not in writers:
        fail(f"--out must end in .csv or .xlsx, got {out.name}")
    paths = cxlake_paths()
    try:
        with quarantine.open_serving(paths.serving) as connection:
            listing = quarantine.review_rows(connection, AppState(paths.app_state), table)
    except quarantine.QuarantineError as error:
        fail(str(error))
    out.write_bytes(writers[out.suffix.lower()](listing))
    typer.echo(f"{len(listing)} quarantined row(s) of {table} -> {out}")


@app.command("history")
def quarantine_history(
    table: Annotated[str | None, typer.Option("--table", help="Only this raw table.")] = None,
    excel_safe: ExcelSafeOption = False,
) -> None:
    """Every decision, oldest first, as CSV on stdout."""
    from cxlake import quarantine
    from cxlake.app_state import AppState

    try:
        if table is not None:
            quarantine.checked_table(table)
    except quarantine.QuarantineError as error:
        fail(str(error))
    history = AppState(cxlake_paths().app_state).decision_history(table)
    _print_csv(quarantine.decisions_frame(history), excel_safe)
