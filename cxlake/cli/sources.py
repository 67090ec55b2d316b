"""`cxlake pull-surveys` and `cxlake serve-push`: deliveries that arrive by API rather than as files.

`pull-surveys` is one pull of the survey API, as the hourly Dagster job does it. The run goes into
the cxlake home's Dagster instance (``$CXLAKE_HOME/dagster``), the one `cxlake run` and
`make dagster-ui` use, so the command and the UI share one cursor. `serve-push` receives 问卷星's
pushed responses (the receiver is :mod:`cxlake.sources.wjx_push`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cxlake.paths import cxlake_paths
from cxlake.sources.wjx_push import serve_push_command

app = typer.Typer()


@app.command("pull-surveys")
def pull_surveys_command(
    landing: Annotated[
        Path | None, typer.Option(help="Landing folder (default: the cxlake home's landing/).")
    ] = None,
) -> None:
    """Pull survey responses changed since the last pull into landing/survey_api/<day>/.

    Settings from the environment: CXLAKE_SURVEY_API_URL, CXLAKE_SURVEY_API_TOKEN and
    CXLAKE_SURVEY_API_IDS. The landing sensor (or `cxlake run`) then loads what landed.
    """
    from orchestration.pulls import pull_survey_api

    paths = cxlake_paths()
    pull = pull_survey_api((landing or paths.landing).resolve(), paths.dagster_home)
    for survey, pulled in pull.pulled.items():
        typer.echo(f"{survey}: {pulled['records']} responses in {pulled['files']} files under {pull.landing}")
    if pull.success and pull.stopped:  # a spent quota: resumed next time
        typer.echo(f"stopped: {pull.stopped}", err=True)
    for reason in pull.errors:
        typer.echo(f"error: {reason}", err=True)
    if not pull.success:
        raise typer.Exit(code=1)


app.command("serve-push")(serve_push_command)
