"""The `cxlake` command: thin wrappers that parse options and call one library function each."""

from __future__ import annotations

import os
import subprocess
from dataclasses import replace
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cxlake.access.sql_cli import sql_command
from cxlake.access.users_cli import users_app
from cxlake.alerts.cli import cases_app
from cxlake.explorer_process import explorer_command
from cxlake.insights.drivers_cli import drivers_command
from cxlake.paths import cxlake_paths
from cxlake.sources.pull_cli import pull_surveys_command
from cxlake.sources.wjx_push import serve_push_command
from cxlake.text.scoring_cli import score_reviews_command

if TYPE_CHECKING:
    import pandas as pd

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
    surveymonkey = "surveymonkey"
    tencent = "tencent"
    wjx = "wjx"


@app.command()
def generate(
    out: Annotated[Path, typer.Option("--out", help="Folder to write the landing files into.")],
    scale: Annotated[
        Scale, typer.Option(help="small ~30 stores/90 days; medium ~1M; large ~20M transactions.")
    ] = (Scale.small),
    seed: Annotated[int, typer.Option(help="Same seed and days give byte-identical output.")] = 42,
    end: Annotated[
        str | None, typer.Option(help="Last day, YYYY-MM-DD (default: yesterday in Asia/Shanghai).")
    ] = None,
    days: Annotated[
        int | None, typer.Option(help="Number of days (default 90), up to --end or from --start.")
    ] = None,
    start: Annotated[
        str | None, typer.Option(help="First day, YYYY-MM-DD; then --days count from it.")
    ] = None,
) -> None:
    """Generate the demo chain's deliveries (CRM, POS, surveys, reviews) with planted truths."""
    from zoneinfo import ZoneInfo

    from cxlake.generator import generate as generate_demo
    from cxlake.generator import generation_window
    from cxlake.generator.chain import TIMEZONE

    try:
        first, count = generation_window(
            _day(start), _day(end), days, datetime.now(ZoneInfo(TIMEZONE)).date()
        )
    except ValueError as error:
        _fail(str(error))
    summary = generate_demo(out, scale=scale.value, seed=seed, start=first, days=count, progress=True)
    typer.echo(str(summary))


LandingOption = Annotated[Path, typer.Option(help="Landing folder: <source>/<yyyy-mm-dd>/files.")]
WarehouseOption = Annotated[
    Path | None, typer.Option(help="Warehouse DuckDB file (default data/warehouse.duckdb).")
]


def _quiet_dagster() -> None:
    import warnings

    from dagster import BetaWarning, PreviewWarning

    warnings.filterwarnings("ignore", category=BetaWarning)  # the single-run backfill policy is beta
    warnings.filterwarnings("ignore", category=PreviewWarning)


def say_waiting(holder) -> None:
    """One line instead of DuckDB's lock error: whom this writer waits for (see warehouse_lock)."""
    who = holder.describe() if holder else "another writer (not named yet)"
    typer.echo(f"waiting for {who} to finish…", err=True)


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

    _quiet_dagster()
    paths = cxlake_paths()
    warehouse_path = (warehouse or paths.warehouse).resolve()
    try:
        outcome = run_pipeline(
            landing.resolve(), warehouse_path, _day(start), _day(end), dagster_home=paths.dagster_home,
            on_wait=say_waiting,
        )  # fmt: skip
    except ValueError as error:
        _fail(str(error))
    _report_run(outcome, warehouse_path)
    typer.echo(
        f"run {outcome.run_id}: {outcome.first_day}..{outcome.last_day} "
        f"{'ok' if not outcome.held_back else f'{len(outcome.held_back)} partition(s) held back'}, "
        f"published {outcome.serving_path}"
    )
    if not outcome.complete:
        raise typer.Exit(1)


def _report_run(outcome, warehouse: Path) -> None:
    """Skipped folders and held-back partitions on stderr; a failed run's gate reasons, then exit 1."""
    for skipped in outcome.skipped_folders:
        typer.echo(f"skipped: {skipped}", err=True)
    if not outcome.success:
        for reason in blocked_reasons(warehouse, outcome.run_id):
            typer.echo(f"blocked: {reason}", err=True)
        nothing = "nothing was published" if outcome.published else "the raw layer keeps its previous state"
        _fail(f"run {outcome.run_id} failed for {outcome.first_day}..{outcome.last_day}; {nothing}")
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

    _quiet_dagster()
    paths = cxlake_paths()
    warehouse_path = (warehouse or paths.warehouse).resolve()
    try:
        outcome = run_pipeline(
            landing.resolve(), warehouse_path, _day(start), _day(end), dagster_home=paths.dagster_home,
            stage=Stage.ingest, sources=tuple(source) if source else None, on_wait=say_waiting,
        )  # fmt: skip
    except ValueError as error:
        _fail(str(error))
    _report_run(outcome, warehouse_path)
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

    _quiet_dagster()
    paths = cxlake_paths()
    warehouse_path = (warehouse or paths.warehouse).resolve()
    bar: list[tqdm] = []

    def plan(todo) -> None:
        for day in todo:
            typer.echo(f"to load: {day.day} ({'; '.join(day.reasons)})", err=True)
        if todo:
            bar.append(tqdm(total=len(todo) + 1, desc="cxlake backfill", unit="step"))

    def progress(step: str) -> None:
        if bar:
            bar[0].set_postfix_str(step)
            bar[0].update(1)

    try:
        outcome = run_backfill(
            (landing or paths.landing).resolve(), warehouse_path, _iso(start), _iso(end),
            paths.dagster_home, tuple(select) if select else None,
            on_wait=say_waiting, progress=progress, plan=plan,
        )  # fmt: skip
    except ValueError as error:
        _fail(str(error))
    finally:
        for shown in bar:
            shown.close()
    if outcome.nothing_to_do:
        typer.echo(f"nothing to do: {start}..{end} is loaded from the files as delivered and published")
        return
    held = [partition for run in outcome.loaded for partition in run.held_back]
    for partition in held:
        typer.echo(partition.line(), err=True)
    if outcome.failed is not None:
        for reason in blocked_reasons(warehouse_path, outcome.failed.run_id):
            typer.echo(f"blocked: {reason}", err=True)
        _fail(
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


def _iso(value: str) -> str:
    """A YYYY-MM-DD option checked, or a one-line error naming it."""
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        _fail(f"{value!r} is not a day (YYYY-MM-DD)")
        raise


def blocked_reasons(warehouse: Path, run_id: str) -> list[str]:
    """The quality gate's one-line reasons for the days a run blocked (for the console)."""
    import duckdb

    try:
        with duckdb.connect(str(warehouse), read_only=True) as connection:
            rows = connection.execute(
                "select distinct block_reason from dq.validation_runs "
                "where run_id = ? and blocked order by 1",
                [run_id],
            ).fetchall()
    except duckdb.Error:  # no gate verdicts (the run failed before any load)
        return []
    return [row[0] for row in rows if row[0]]


@app.command("read-survey")
def read_survey_command(
    file: Path,
    out: Annotated[Path, typer.Option("--out", help="Long-form CSV: one row per response x question.")],
    format: Annotated[SurveyFormat, typer.Option("--format")] = SurveyFormat.auto,
    survey_id: Annotated[str | None, typer.Option("--survey-id")] = None,
    timezone: Annotated[str, typer.Option(help="Zone for timestamps the export gives without one.")] = (
        "Asia/Shanghai"
    ),
    nps_question: Annotated[
        list[str] | None,
        typer.Option(help="An NPS question id: a 问卷星 numeric download's options 1-11 are read as 0-10."),
    ] = None,
) -> None:
    """Parse a Qualtrics, SurveyMonkey, 腾讯问卷 or 问卷星 export (or a .zip holding one) the way the
    pipeline does."""
    from cxlake.surveys.readers import SurveyReadError, read_survey, write_answers_csv

    try:
        export = read_survey(
            file, format=format.value, survey_id=survey_id, timezone=timezone,
            nps_questions=tuple(nps_question or ()),
        )  # fmt: skip
    except SurveyReadError as error:
        _fail(str(error))
    for warning in export.warnings:
        typer.echo(f"{file}: {warning}", err=True)
    malformed = export.responses[export.responses["record_problem"].notna()]
    for line, problem in zip(malformed["source_row"], malformed["record_problem"], strict=True):
        typer.echo(f"{file}: line {line}: {problem}; left out (the pipeline quarantines it)", err=True)
    kept = export.answers[~export.answers["response_id"].isin(malformed["response_id"])]
    write_answers_csv(replace(export, answers=kept), out)
    typer.echo(
        f"{file}: {export.layout}, {len(export.responses) - len(malformed)} responses, {len(kept)} answers "
        f"-> {out}" + (f" ({len(malformed)} malformed left out)" if len(malformed) else "")
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
def serve(
    port: Annotated[int, typer.Option(help="Port of the explorer.")] = 8501,
    host: Annotated[
        str,
        typer.Option(
            help="Address to listen on. The pages show customers' names and phones, so only this "
            "machine by default; 0.0.0.0 opens the explorer to the network."
        ),
    ] = "127.0.0.1",
) -> None:
    """Serve the explorer on the current serving copy."""
    shown = "localhost" if host in ("127.0.0.1", "localhost") else host
    typer.echo(f"cxlake explorer: http://{shown}:{port}")
    raise typer.Exit(subprocess.call(explorer_command(host, port), env=os.environ.copy()))


def _dbt_docs_commands(warehouse: Path, port: int, target_path: Path | None) -> tuple[list[str], list[str]]:
    """`dbt docs generate` and `dbt docs serve` against ``warehouse``, with the pipeline's --vars."""
    from orchestration.manifest import dbt_command

    options = ["--target-path", str(target_path)] if target_path is not None else []
    generate = dbt_command("docs", "generate", *options, warehouse=warehouse)
    serve = dbt_command("docs", "serve", "--port", str(port), "--no-browser", *options, warehouse=warehouse)
    return generate, serve


@app.command()
def docs(
    port: Annotated[int, typer.Option(help="Port of the docs site.")] = 8080,
    serve: Annotated[bool, typer.Option("--serve/--no-serve", help="Serve after building.")] = True,
    warehouse: Annotated[
        Path | None, typer.Option(help="Warehouse DuckDB file (default data/warehouse.duckdb).")
    ] = None,
    target_path: Annotated[
        Path | None, typer.Option(help="Where dbt writes the site (default dbt_project/target).")
    ] = None,
) -> None:
    """Build the dbt docs (lineage, column docs, the warehouse's catalog) and serve them."""
    from orchestration.manifest import DBT_PROJECT_DIR

    warehouse_path = (warehouse or cxlake_paths().warehouse).resolve()
    if not warehouse_path.is_file():
        _fail(f"no warehouse at {warehouse_path}; run `cxlake run` (or `make demo`) first")
    target = target_path.resolve() if target_path else None
    generate, serve_command = _dbt_docs_commands(warehouse_path, port, target)
    if subprocess.call(generate) != 0:
        _fail("dbt docs generate failed (see the dbt output above)")
    typer.echo(f"dbt docs built: {(target or DBT_PROJECT_DIR / 'target') / 'index.html'}")
    if serve:
        typer.echo(f"dbt docs: http://localhost:{port}")
        raise typer.Exit(subprocess.call(serve_command))


quarantine_app = typer.Typer(
    no_args_is_help=True,
    help="Review quarantined rows: list, show, release (with corrections), reject, export, history.",
)
app.add_typer(quarantine_app, name="quarantine")

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


@quarantine_app.command("list")
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
            listing = quarantine.review_rows(connection, AppState(paths.app_state), table, _day(day))
    except (quarantine.QuarantineError, ValueError) as error:
        _fail(str(error))
    _print_csv(listing, excel_safe)
    typer.echo(f"{len(listing)} quarantined row(s)", err=True)


@quarantine_app.command("show")
def quarantine_show(table: TableOption, file: FileOption, row: RowOption) -> None:
    """One quarantined row as delivered, what it failed, and every decision about it."""
    from cxlake import quarantine
    from cxlake.app_state import AppState

    paths = cxlake_paths()
    try:
        with quarantine.open_serving(paths.serving) as connection:
            record = quarantine.quarantined_row(connection, table, file, row)
    except quarantine.QuarantineError as error:
        _fail(str(error))
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
        _fail(str(error))
    changed = f" with {len(recorded.corrections)} correction(s)" if recorded.corrections else ""
    effect = quarantine.rerun_hint(day) if decision == "release" else "the row stays quarantined"
    typer.echo(f"{decision} of {table} {file}:{row}{changed} recorded; {effect}")


@quarantine_app.command("release")
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


@quarantine_app.command("reject")
def quarantine_reject(
    table: TableOption,
    file: FileOption,
    row: RowOption,
    reason: Annotated[str, typer.Option("--reason", help="Why the row stays out (required).")],
    by: ByOption,
) -> None:
    """Reject a row for good: it stays quarantined on every re-run."""
    _decide(table, file, row, "reject", by, reason, [])


@quarantine_app.command("export")
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
        _fail(f"--out must end in .csv or .xlsx, got {out.name}")
    paths = cxlake_paths()
    try:
        with quarantine.open_serving(paths.serving) as connection:
            listing = quarantine.review_rows(connection, AppState(paths.app_state), table)
    except quarantine.QuarantineError as error:
        _fail(str(error))
    out.write_bytes(writers[out.suffix.lower()](listing))
    typer.echo(f"{len(listing)} quarantined row(s) of {table} -> {out}")


@quarantine_app.command("history")
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
        _fail(str(error))
    history = AppState(cxlake_paths().app_state).decision_history(table)
    _print_csv(quarantine.decisions_frame(history), excel_safe)


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


app.add_typer(users_app, name="users")
app.add_typer(cases_app, name="cases")
app.command("sql")(sql_command)
app.command("score-reviews")(score_reviews_command)
app.command("drivers")(drivers_command)
app.command("pull-surveys")(pull_surveys_command)
app.command("serve-push")(serve_push_command)

if __name__ == "__main__":
    app()
