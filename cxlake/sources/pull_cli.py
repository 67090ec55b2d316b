"""`cxlake pull-surveys`: one pull of the survey API, as the Dagster job does it (registered on the
main app). The run goes into the cxlake home's Dagster instance (``$CXLAKE_HOME/dagster``), the one
`cxlake run` and `make dagster-ui` use, so the command and the UI share one cursor."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cxlake.paths import cxlake_paths


def pull_surveys_command(
    landing: Annotated[
        Path | None, typer.Option(help="Landing folder (default: the cxlake home's landing/).")
    ] = None,
) -> None:
    """Pull survey responses changed since the last pull into landing/survey_api/<day>/.

    Settings from the environment: CXLAKE_SURVEY_API_URL, CXLAKE_SURVEY_API_TOKEN and
    CXLAKE_SURVEY_API_IDS. The landing sensor (or `cxlake run`) then loads what landed.
    """
    from dagster import DagsterInstance, materialize

    from assets.ingestion.survey_api import survey_api_pull
    from orchestration.resources import LandingZone
    from orchestration.runner import install_instance_config

    paths = cxlake_paths()
    root = (landing or paths.landing).resolve()
    install_instance_config(paths.dagster_home)
    with DagsterInstance.local_temp(str(paths.dagster_home)) as instance:
        result = materialize(
            [survey_api_pull],
            instance=instance,
            resources={"landing": LandingZone(root=str(root))},
            run_config={"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}},
            raise_on_error=False,
        )
    for event in result.get_asset_materialization_events():
        metadata = event.event_specific_data.materialization.metadata
        for survey, pulled in metadata["pulled"].value.items():
            typer.echo(f"{survey}: {pulled['records']} responses in {pulled['files']} files under {root}")
        if result.success and metadata["stopped"].value != "-":  # a spent quota: resumed next time
            typer.echo(f"stopped: {metadata['stopped'].value}", err=True)
    if not result.success:
        for failure in (e for e in result.all_events if e.event_type_value == "STEP_FAILURE"):
            data = failure.event_specific_data
            reason = data.user_failure_data.description if data.user_failure_data else data.error.message
            typer.echo(f"error: {reason.strip()}", err=True)
        raise typer.Exit(code=1)
