"""`cxlake score-reviews`: score an analyst's ad-hoc CSV export (registered on the main app)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from cxlake.delivered_files import DeliveredFileError


def score_reviews_command(
    input_path: Annotated[
        Path, typer.Argument(metavar="INPUT.csv", help="CSV with a header row (UTF-8 or GB18030).")
    ],
    text_column: Annotated[str, typer.Option("--text-column", help="Column holding the review text.")],
    out: Annotated[
        Path, typer.Option("--out", help="CSV to write: every input row and column, then the scores.")
    ],
    encoding: Annotated[
        str, typer.Option(help="Encoding of the output file, e.g. utf-8, utf-8-sig, gb18030.")
    ] = "utf-8",
    workers: Annotated[
        int | None, typer.Option(help="Processes to score with (default: every core).")
    ] = None,
) -> None:
    """Add sentiment_score, sentiment_label, keywords and aspects columns to any CSV of reviews."""
    from cxlake.text.scoring import ScoringError, score_file
    from cxlake.text.sentiment import ModelVersionError

    started = time.perf_counter()
    try:
        rows = score_file(input_path, text_column, out, encoding=encoding, workers=workers)
    except (ScoringError, DeliveredFileError, ModelVersionError, OSError) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(code=1) from None
    seconds = time.perf_counter() - started
    typer.echo(
        f"{rows} rows scored into {out} in {seconds:.1f} s ({rows / max(seconds, 1e-9):,.0f} rows/s)",
        err=True,
    )
