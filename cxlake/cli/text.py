"""`cxlake score-reviews` and `cxlake train-sentiment`: score an analyst's ad-hoc CSV export of reviews,
retrain the shipped sentiment model."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from cxlake.delivered_files import DeliveredFileError

app = typer.Typer()


@app.command("score-reviews")
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


@app.command("train-sentiment")
def train_sentiment(
    data_dir: Annotated[
        Path | None, typer.Option(help="Folder with the labelled corpora (default: ../shared/data/reviews).")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Model file to write (default: the shipped one).")] = None,
) -> None:
    """Retrain the shipped sentiment model from the labelled review corpora and print its metrics."""
    from cxlake.text.training import train_sentiment_command  # scikit-learn only when it is needed

    train_sentiment_command(data_dir, out)
