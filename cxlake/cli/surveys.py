"""`cxlake read-survey` and `cxlake check-survey`: a survey tool's export read, or checked against its
mapping, exactly as the pipeline reads it, without running the pipeline."""

from __future__ import annotations

from dataclasses import replace
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from cxlake.cli.common import fail

app = typer.Typer()


class SurveyFormat(StrEnum):
    auto = "auto"
    qualtrics = "qualtrics"
    surveymonkey = "surveymonkey"
    tencent = "tencent"
    wjx = "wjx"


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
        fail(str(error))
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
        fail(str(error))
    typer.echo(report.render())
    if not report.ok:
        raise typer.Exit(code=1)
