"""What the command modules share: the one-line error exit, day options, the landing and warehouse
options, the home option, and the line a writer prints while it waits for the warehouse."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Annotated, NoReturn

import typer

LandingOption = Annotated[Path, typer.Option(help="Landing folder: <source>/<yyyy-mm-dd>/files.")]
WarehouseOption = Annotated[
    Path | None, typer.Option(help="Warehouse DuckDB file (default data/warehouse.duckdb).")
]
HomeOption = Annotated[
    Path | None, typer.Option("--home", help="The cxlake home (default $CXLAKE_HOME, else ./data).")
]


def fail(message: str) -> NoReturn:
    """``error: message`` on stderr and exit 1: a user's mistake is one line, not a traceback."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=1)


def day(value: str | None) -> date | None:
    """An optional YYYY-MM-DD option as a date."""
    return datetime.strptime(value, "%Y-%m-%d").date() if value else None


def iso_day(value: str) -> str:
    """A required YYYY-MM-DD option checked, or a one-line error naming it."""
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        fail(f"{value!r} is not a day (YYYY-MM-DD)")


def quiet_dagster() -> None:
    """Dagster's beta/preview warnings are for Dagster developers, not for a console user."""
    import warnings

    from dagster import BetaWarning, PreviewWarning

    warnings.filterwarnings("ignore", category=BetaWarning)  # the single-run backfill policy is beta
    warnings.filterwarnings("ignore", category=PreviewWarning)


def say_waiting(holder) -> None:
    """One line instead of DuckDB's lock error: whom this writer waits for (see warehouse_lock)."""
    who = holder.describe() if holder else "another writer (not named yet)"
    typer.echo(f"waiting for {who} to finish…", err=True)
