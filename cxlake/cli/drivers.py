"""`cxlake drivers`: the key-driver model on an analyst's own survey export.

The file is read as delivered files are (UTF-8, UTF-8 with BOM, UTF-16 or GB18030, detected), every
cell as text; the outcome and driver columns must hold numbers, an empty cell being a question the
respondent did not answer (a touchpoint they did not meet: see
:func:`cxlake.insights.drivers.imputed_correlations` for how the model treats it).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from cxlake.delivered_files import CsvRecords, DeliveredFileError, read_csv_records
from cxlake.exports import OutputEncodingError, write_csv
from cxlake.insights.drivers import DriverError, DriverModel, key_drivers, load_settings

app = typer.Typer()


def _number(value: str) -> float | None:
    """The cell as a number, NaN when empty, None when it is not a (finite) number."""
    text = value.strip()
    if not text:
        return math.nan
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _first_non_number(records: CsvRecords, index: int) -> tuple[int, str] | None:
    """(line, cell) of the column's first value that is not a number, None if all are."""
    for row, line in zip(records.rows, records.lines, strict=True):
        if _number(row[index]) is None:
            return line, row[index]
    return None


def read_driver_table(path: Path, outcome: str, drivers: list[str] | None) -> tuple[pd.DataFrame, list[str]]:
    """The outcome and driver columns of ``path`` as numbers (NaN = empty), and the drivers.

    Without ``drivers``, every other column whose values are all numbers is a driver (an ID column
    would be one too: name the drivers then). Raises :class:`DriverError` naming the file, and the
    line and column of a cell that is not a number.
    """
    records = read_csv_records(path)
    for number, problem in enumerate(records.problems):
        if problem:
            raise DriverError(f"{path}: line {records.lines[number]}: {problem}")
    header = records.header
    wanted = [outcome, *(drivers or [])]
    for column in wanted:
        if column not in header:
            raise DriverError(f"{path}: no column {column!r} (columns: {', '.join(header)})")
        if header.count(column) > 1:
            raise DriverError(f"{path}: column {column!r} appears {header.count(column)} times in the header")
    if drivers is None:
        drivers = [
            column
            for index, column in enumerate(header)
            if column != outcome and header.count(column) == 1 and _first_non_number(records, index) is None
        ]
        if not drivers:
            raise DriverError(f"{path}: no column other than {outcome!r} holds only numbers; name --drivers")
    columns = {}
    for column in [outcome, *drivers]:
        index = header.index(column)
        bad = _first_non_number(records, index)
        if bad is not None:
            line, cell = bad
            raise DriverError(f"{path}: line {line}, column {column!r}: {cell!r} is not a number")
        columns[column] = [_number(row[index]) for row in records.rows]
    return pd.DataFrame(columns, dtype=float), drivers


def drivers_file(
    input_path: Path,
    outcome: str,
    drivers: list[str] | None,
    out_path: Path,
    *,
    encoding: str = "utf-8",
    repetitions: int = 1000,
    seed: int = 0,
) -> DriverModel:
    """Fit the model on ``input_path`` and write one row per driver to ``out_path`` in ``encoding``."""
    frame, drivers = read_driver_table(input_path, outcome, drivers)
    try:
        model = key_drivers(
            frame,
            outcome,
            drivers,
            repetitions=repetitions,
            seed=seed,
            shapley_max_drivers=load_settings().shapley_max_drivers,
        )
    except DriverError as error:
        raise DriverError(f"{input_path}: {error}") from None
    try:
        write_csv(model.table, out_path, encoding)
    except OutputEncodingError as error:
        raise DriverError(str(error)) from None
    return model


@app.command("drivers")
def drivers_command(
    input_path: Annotated[
        Path, typer.Argument(metavar="INPUT.csv", help="CSV with a header row, one respondent per row.")
    ],
    outcome: Annotated[
        str, typer.Option("--outcome", help="Column of the outcome, e.g. likelihood to recommend.")
    ],
    out: Annotated[Path, typer.Option("--out", help="CSV to write: one row per driver.")],
    drivers: Annotated[
        str | None,
        typer.Option(help="Driver columns, comma-separated (default: every other all-numeric column)."),
    ] = None,
    encoding: Annotated[
        str, typer.Option(help="Encoding of the output file, e.g. utf-8, utf-8-sig, gb18030.")
    ] = "utf-8",
    bootstrap: Annotated[int, typer.Option(min=1, help="Bootstrap resamples for the intervals.")] = 1000,
    seed: Annotated[int, typer.Option(help="Seed of the resampling: the same seed, the same intervals.")] = 0,
) -> None:
    """Key drivers of an outcome: Johnson's relative weights with 95% bootstrap intervals, the Shapley
    share of R², each driver's mean, n and importance-performance quadrant. Empty cells are questions
    not answered: each takes its column's mean (the docs say why)."""
    names = [name.strip() for name in drivers.split(",") if name.strip()] if drivers is not None else None
    try:
        model = drivers_file(
            input_path, outcome, names, out, encoding=encoding, repetitions=bootstrap, seed=seed
        )
    except (DriverError, DeliveredFileError, OSError) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(code=1) from None
    drivers_word = "driver" if len(model.table) == 1 else "drivers"
    typer.echo(
        f"{model.respondents} respondents, R² {model.r_squared:.3f}, {len(model.table)} {drivers_word} "
        f"({', '.join(model.table['driver'])}) written to {out}; left out {model.left_out_no_outcome} "
        f"rows without {outcome} and {model.left_out_no_rating} without any driver rated"
        + (
            f"; {model.bootstrap_skipped} resamples without variation skipped"
            if model.bootstrap_skipped
            else ""
        ),
        err=True,
    )
    least = load_settings().min_responses
    if model.respondents < least:
        # The marts leave such a scope out ("not enough responses"); an analyst's file is still
        # fitted, as asked, but not without saying the figures are not to be relied on.
        typer.echo(
            f"warning: only {model.respondents} respondents; below {least} (key_drivers.min_responses "
            "in insights.yaml) the weights and their intervals are too unstable to rank drivers by",
            err=True,
        )
