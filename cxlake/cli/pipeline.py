"""`cxlake run`, `cxlake ingest` and `cxlake backfill`: the pipeline over a range of days.

Each command parses its options and calls one public function of the wiring (``run_pipeline`` or
``backfill``), imported when the command runs so `cxlake --help` does not load Dagster.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cxlake.cli.common import LandingOption, WarehouseOption, day, fail, iso_day, quiet_dagster, say_waiting
from cxlake.paths import cxlake_paths

app = typer.Typer()


@app.command()
def run(
    landing: LandingOption,
    warehouse: WarehouseOption = None,
    start: Annotated[
        str | None, typer.Option(help="First day, inclusive (default: first landed day).")
    ] = None,
    end: Annotated[str | None, typer.Option(help="Last day, inclusive (default: last landed day).")] = None,
) -> None:
    """Load, check, model and publish a range of days as one Dagster run."""
    from orchestration.runner import run_pipeline

    quiet_dagster()
    paths = cxlake_paths()
    warehouse_path = (warehouse or paths.warehouse).resolve()
    try:
        outcome = run_pipeline(
            landing.resolve(), warehouse_path, day(start), day(end), dagster_home=paths.dagster_home,
            on_wait=say_waiting,
        )  # fmt: skip
    except ValueError as error:
        fail(str(error))
    _report_run(outcome)
    typer.echo(
        f"run {outcome.run_id}: {outcome.first_day}..{outcome.last_day} "
        f"{'ok' if not outcome.held_back else f'{len(outcome.held_back)} partition(s) held back'}, "
        f"published {outcome.serving_path}"
    )
    if not outcome.complete:
        raise typer.Exit(1)


def _report_run(outcome) -> None:
    """Skipped folders and held-back partitions on stderr; a failed run's gate reasons, then exit 1."""
    for skipped in outcome.skipped_folders:
        typer.echo(f"skipped: {skipped}", err=True)
    if not outcome.success:
        for reason in outcome.blocked_reasons:
            typer.echo(f"blocked: {reason}", err=True)
        nothing = "nothing was published" if outcome.published else "the raw layer keeps its previous state"
        fail(f"run {outcome.run_id} failed for {outcome.first_day}..{outcome.last_day}; {nothing}")
    for partition in outcome.held_back:
        typer.echo(partition.line(), err=True)


@app.command()
def ingest(
    landing: LandingOption,
    warehouse: WarehouseOption = None,
    source: Annotated[
        list[str] | None, typer.Option(help="Only this source (e.g. pos); repeat for more. Default: all.")
    ] = None,
    start: Annotated[str | None, typer.Option(help="First day (default: first landed day).")] = None,
    end: Annotated[str | None, typer.Option(help="Last day (default: last landed day).")] = None,
) -> None:
    """Load and gate the raw layer only: no dbt build, no publishing (build later with run/backfill)."""
    from orchestration.runner import Stage, run_pipeline

    quiet_dagster()
    paths = cxlake_paths()
    warehouse_path = (warehouse or paths.warehouse).resolve()
    try:
        outcome = run_pipeline(
            landing.resolve(), warehouse_path, day(start), day(end), dagster_home=paths.dagster_home,
            stage=Stage.ingest, sources=tuple(source) if source else None, on_wait=say_waiting,
        )  # fmt: skip
    except ValueError as error:
        fail(str(error))
    _report_run(outcome)
    held = f"{len(outcome.held_back)} partition(s) held back" if outcome.held_back else "ok"
    typer.echo(
        f"run {outcome.run_id}: {outcome.first_day}..{outcome.last_day} raw layer {held} "
        f"({', '.join(source) if source else 'all sources'}); not built or published"
    )
    if not outcome.complete:
        raise typer.Exit(1)


@app.command()
def backfill(
    start: Annotated[str, typer.Option(help="First day, YYYY-MM-DD.")],
    end: Annotated[str, typer.Option(help="Last day, YYYY-MM-DD.")],
    select: Annotated[
        list[str] | None, typer.Option(help="Only this source's deliveries (e.g. pos); repeat for more.")
    ] = None,
    landing: Annotated[
        Path | None, typer.Option(help="Landing folder (default: the cxlake home's landing/).")
    ] = None,
    warehouse: WarehouseOption = None,
) -> None:
    """Load a range day by day in order (done days skipped), then build and publish it once.

    Resumable: a failed or held-back day is tried again, a day loaded from the same files is not.
    """
    from tqdm import tqdm

    from orchestration.backfill import backfill as run_backfill

    quiet_dagster()
    paths = cxlake_paths()
    warehouse_path = (warehouse or paths.warehouse).resolve()
    bar: list[tqdm] = []

    def plan(todo) -> None:
        for pending in todo:
            typer.echo(f"to load: {pending.day} ({'; '.join(pending.reasons)})", err=True)
        if todo:
            bar.append(tqdm(total=len(todo) + 1, desc="cxlake backfill", unit="step"))

    def progress(step: str) -> None:
        if bar:
            bar[0].set_postfix_str(step)
            bar[0].update(1)

    try:
        outcome = run_backfill(
            (landing or paths.landing).resolve(), warehouse_path, iso_day(start), iso_day(end),
            paths.dagster_home, tuple(select) if select else None,
            on_wait=say_waiting, progress=progress, plan=plan,
        )  # fmt: skip
    except ValueError as error:
        fail(str(error))
    finally:
        for shown in bar:
            shown.close()
    if outcome.nothing_to_do:
        typer.echo(f"nothing to do: {start}..{end} is loaded from the files as delivered and published")
        return
    held = [partition for loaded in outcome.loaded for partition in loaded.held_back]
    for partition in held:
        typer.echo(partition.line(), err=True)
    if outcome.failed is not None:
        for reason in outcome.failed.blocked_reasons:
            typer.echo(f"blocked: {reason}", err=True)
        fail(
            f"run {outcome.failed.run_id} failed for {outcome.failed.first_day}..{outcome.failed.last_day}; "
            f"{len(outcome.loaded)} day(s) before it stay loaded; the same command resumes from there"
        )
    built = outcome.build  # a backfill that loaded or found an unpublished load builds once
    typer.echo(
        f"backfill {start}..{end}: {len(outcome.loaded)} day(s) loaded"
        + (f", {len(held)} partition(s) held back" if held else "")
        + (f", built and published {built.serving_path} (run {built.run_id})" if built else "")
    )
    if held:
        raise typer.Exit(1)
