"""One pull of the survey API outside the schedule (`cxlake pull-surveys`), run as the hourly job
runs it and recorded in the cxlake home's Dagster instance, so the command and the UI share one
cursor (the pull asset keeps it in its materialization metadata)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dagster import DagsterInstance, materialize

from assets.ingestion.survey_api import survey_api_pull
from cxlake.pipeline.resources import LandingZone
from orchestration.runner import install_instance_config


@dataclass(frozen=True)
class SurveyPull:
    """What one pull did: per survey, responses and files written; why it stopped early, if it did
    (a spent quota, resumed next time); the failing step's reasons when it failed."""

    landing: Path
    pulled: dict[str, dict]
    stopped: str | None
    errors: tuple[str, ...]

    @property
    def success(self) -> bool:
        return not self.errors


def pull_survey_api(landing: Path, dagster_home: Path) -> SurveyPull:
    """Pull every configured survey's responses changed since the last pull into ``landing``."""
    install_instance_config(dagster_home)
    with DagsterInstance.local_temp(str(dagster_home)) as instance:
        result = materialize(
            [survey_api_pull],
            instance=instance,
            resources={"landing": LandingZone(root=str(landing))},
            run_config={"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}},
            raise_on_error=False,
        )
    pulled: dict[str, dict] = {}
    stopped = None
    for event in result.get_asset_materialization_events():
        metadata = event.event_specific_data.materialization.metadata
        pulled.update(metadata["pulled"].value)
        if metadata["stopped"].value != "-":
            stopped = metadata["stopped"].value
    errors = []
    if not result.success:
        for failure in (e for e in result.all_events if e.event_type_value == "STEP_FAILURE"):
            data = failure.event_specific_data
            reason = data.user_failure_data.description if data.user_failure_data else data.error.message
            errors.append(reason.strip())
        errors = errors or ["the pull failed before its step ran"]
    return SurveyPull(landing, pulled, stopped, tuple(errors))
