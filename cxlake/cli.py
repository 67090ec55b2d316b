"""The `cxlake` command: thin wrappers that parse options and call one library function each."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from cxlake.paths import cxlake_paths

app = typer.Typer(no_args_is_help=True, help="cxlake: customer-experience data platform.")


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=1)


def _day(value: str | None) -> date | None:
    return datetime.strptime(value, "%Y-%m-%d").date() if value else None


class Scale(StrEnum):
    small = "small"
    medium = "medium"
    large = "large"


class SurveyFormat(StrEnum):
    auto = "auto"
    qualtrics = "qualtrics"
    wjx = "wjx"


@app.command()
def generate(
    out: Annotated[Path, typer.Option("--out", help="Folder to write the landing files into.")],
    scale: Annotated[
        Scale, typer.Option(help="small ~30 stores/90 days; medium ~1M; large ~20M transactions.")
    ] = (Scale.small),
    seed: Annotated[int, typer.Option(help="Same seed and start give byte-identical output.")] = 42,
    start: Annotated[str, typer.Option(help="First day, YYYY-MM-DD.")] = "2026-01-01",
    days: Annotated[int | None, typer.Option(help="Number of days (default 90).")] = None,
) -> None:
    """Generate the demo chain's deliveries (CRM, POS, surveys, reviews) with planted truths."""
    from cxlake.generator import generate as generate_demo

    summary = generate_demo(out, scale=scale.value, seed=seed, start=_day(start), days=days, progress=True)
    typer.echo(str(summary))


@app.command()
def run(
    landing: Annotated[Path, typer.Option(help="Landing folder: <source>/<yyyy-mm-dd>/files.")],
    warehouse: Annotated[
        Path | None, typer.Option(help="Warehouse DuckDB file (default data/warehouse.duckdb).")
    ] = (None),
    start: Annotated[
        str | None, typer.Option(help="First day, inclusive (default: first landed day).")
    ] = None,
    end: Annotated[str | None, typer.Option(help="Last day, inclusive (default: last landed day).")] = None,
) -> None:
    """Load, check, model and publish a range of days as one Dagster run."""
    import warnings

    from dagster import BetaWarning, PreviewWarning

    from orchestration.runner import run_pipeline

    warnings.filterwarnings("ignore", category=BetaWarning)  # the single-run backfill policy is beta
    warnings.filterwarnings("ignore", category=PreviewWarning)

    paths = cxlake_paths()
    warehouse_path = (warehouse or paths.warehouse).resolve()
    try:
        outcome = run_pipeline(
            landing.resolve(), warehouse_path, _day(start), _day(end), dagster_home=paths.dagster_home
        )
    except ValueError as error:
        _fail(str(error))
    if not outcome.success:
        _fail(
            f"run {outcome.run_id} failed for {outcome.first_day}..{outcome.last_day}; nothing was published"
        )
    typer.echo(
        f"run {outcome.run_id}: {outcome.first_day}..{outcome.last_day} ok, published {outcome.serving_path}"
    )


@app.command("read-survey")
def read_survey_command(
    file: Path,
    out: Annotated[Path, typer.Option("--out", help="Long-form CSV: one row per response x question.")],
    format: Annotated[SurveyFormat, typer.Option("--format")] = SurveyFormat.auto,
    survey_id: Annotated[str | None, typer.Option("--survey-id")] = None,
    timezone: Annotated[str, typer.Option(help="Zone for timestamps the export gives without one.")] = (
        "Asia/Shanghai"
    ),
) -> None:
    """Parse a Qualtrics or 问卷星 export the way the pipeline does."""
    from cxlake.surveys.readers import SurveyReadError, read_survey, write_answers_csv

    try:
        export = read_survey(file, format=format.value, survey_id=survey_id, timezone=timezone)
    except SurveyReadError as error:
        _fail(str(error))
    write_answers_csv(export, out)
    typer.echo(
        f"{file}: {export.layout}, {len(export.responses)} responses, {len(export.answers)} answers -> {out}"
    )


@app.command("check-survey")
def check_survey_command(
    file: Path,
    mapping: Annotated[Path, typer.Option("--mapping", help="The survey's mapping YAML.")],
) -> None:
    """Dry-run an export against a survey mapping: unmapped questions and values."""
    from cxlake.surveys.mapping import SurveyMappingError, check_survey, load_mapping
    from cxlake.surveys.readers import SurveyReadError

    try:
        report = check_survey(file, load_mapping(mapping))
    except (SurveyReadError, SurveyMappingError) as error:
        _fail(str(error))
    typer.echo(report.render())
    if not report.ok:
        raise typer.Exit(code=1)


@app.command()
def serve(port: Annotated[int, typer.Option(help="Port of the explorer.")] = 8501) -> None:
    """Serve the explorer on the current serving copy."""
    app_file = Path(__file__).resolve().parent.parent / "streamlit_app" / "app.py"
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(app_file),
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
    ]
    typer.echo(f"cxlake explorer: http://localhost:{port}")
    raise typer.Exit(subprocess.call(command, env=os.environ.copy()))


if __name__ == "__main__":
    app()
