"""The one Definitions object: `dagster dev -m orchestration.definitions` and `cxlake run` use it."""

from __future__ import annotations

from dagster import (
    AssetSelection,
    DefaultScheduleStatus,
    Definitions,
    ScheduleDefinition,
    build_schedule_from_partitioned_job,
    define_asset_job,
    in_process_executor,
)
from dagster_dbt import DbtCliResource

from assets.alerts import alert_cases, case_snapshot
from assets.churn import churn_assets
from assets.configuration import configuration_tables
from assets.dbt import cxlake_dbt_models, dbt_project
from assets.ingestion.assets import build_ingestion_assets
from assets.ingestion.review_api import REVIEW_PULL_KEYS, review_api_pulls
from assets.ingestion.survey_api import PULL_ASSET_KEY, survey_api_pull
from assets.insights import insight_assets
from assets.integrity import integrity_assets
from assets.invitations import build_invitation_asset
from assets.kano import kano_assets
from assets.money import money_assets
from assets.peak_end import peak_end_assets
from assets.publish import serving_copy
from assets.retention import retention_purge
from assets.text import text_assets
from cxlake.contracts import BUSINESS_TIMEZONE
from cxlake.paths import owner_only_process
from cxlake.pipeline.dbt_project import DBT_EXECUTABLE
from cxlake.pipeline.partitions import daily_partitions, partitions_start
from cxlake.pipeline.resources import LandingZone, Warehouse
from orchestration.runner import landed_days
from orchestration.sensors import (
    build_case_clock_sensor,
    build_freshness_checks,
    build_freshness_sensor,
    build_landing_sensor,
    build_run_failure_sensor,
)


def build_definitions(
    landing_root: str | None = None,
    warehouse_path: str | None = None,
    serving_path: str | None = None,
    first_partition: str | None = None,
) -> Definitions:
    """Definitions bound to a landing folder and a warehouse (defaults: the cxlake home).

    The daily partitions start on ``first_partition``, else as configured, else on the landing
    folder's earliest delivery, so the UI's partition bars cover the days there are.
    """
    landing = LandingZone(root=landing_root)
    warehouse = Warehouse(path=warehouse_path, serving_path=serving_path)
    # The code location's start (and `cxlake run`'s): what its runs write is the owner's alone.
    owner_only_process(warehouse.home)
    if first_partition is None:
        delivered = landed_days(landing.path)
        first_partition = partitions_start(delivered[0] if delivered else None)
    partitions = daily_partitions(first_partition)
    # Everything from landing files to the serving copy, for a day or a range of days in one run
    # (not the API pulls, which write landing files: a backfill of old days never calls an API).
    pull_keys = [PULL_ASSET_KEY, *REVIEW_PULL_KEYS.values()]
    # Freshness is judged by its own sensor against the serving copy, not inside a load.
    freshness_checks = build_freshness_checks(warehouse)
    daily_pipeline_job = define_asset_job(
        "daily_pipeline_job",
        selection=AssetSelection.all()
        - AssetSelection.assets(*pull_keys)
        - AssetSelection.checks(freshness_checks),
        partitions_def=partitions,
    )
    # Hourly API pulls, one job per source (survey_api_pull_job, reviews_dianping_pull_job, ...),
    # each off until its settings are in the environment; the landing sensor loads what they write.
    pull_jobs = [
        define_asset_job(f"{key.path[-1]}_pull_job", selection=AssetSelection.assets(key))
        for key in pull_keys
    ]
    pull_schedules = [
        ScheduleDefinition(
            job=job,
            cron_schedule="0 * * * *",
            execution_timezone=BUSINESS_TIMEZONE,
            default_status=DefaultScheduleStatus.STOPPED,
        )
        for job in pull_jobs
    ]
    # At 02:00 Asia/Shanghai, yesterday (the latest complete business day) runs end to end, on by
    # default wherever the Dagster daemon runs (`make dagster-ui`), like the sensors below.
    daily_pipeline_schedule = build_schedule_from_partitioned_job(
        daily_pipeline_job,
        hour_of_day=2,
        minute_of_hour=0,
        default_status=DefaultScheduleStatus.RUNNING,
    )
    # At 03:30 Asia/Shanghai, after the daily run: the retention purge alone (for the days no
    # delivery starts a run), rewriting the warehouse file so purged values leave its freed
    # blocks, and a publish. On by default, like the daily schedule.
    retention_job = define_asset_job(
        "retention_job",
        selection=AssetSelection.assets(retention_purge, serving_copy),
        config={"ops": {"dq__retention_purges": {"config": {"compact": True}}}},
    )
    retention_schedule = ScheduleDefinition(
        job=retention_job,
        cron_schedule="30 3 * * *",
        execution_timezone=BUSINESS_TIMEZONE,
        default_status=DefaultScheduleStatus.RUNNING,
    )
    return Definitions(
        assets=[
            *build_ingestion_assets(partitions),
            build_invitation_asset(partitions),
            configuration_tables,
            cxlake_dbt_models,
            *text_assets,
            *integrity_assets,
            *insight_assets,
            *churn_assets,
            *kano_assets,
            *money_assets,
            *peak_end_assets,
            alert_cases,
            case_snapshot,
            retention_purge,
            serving_copy,
            survey_api_pull,
            *review_api_pulls,
        ],
        asset_checks=[freshness_checks],
        jobs=[daily_pipeline_job, retention_job, *pull_jobs],
        schedules=[daily_pipeline_schedule, retention_schedule, *pull_schedules],
        sensors=[
            build_landing_sensor(daily_pipeline_job, landing, warehouse),
            build_case_clock_sensor(warehouse),
            build_freshness_sensor(warehouse),
            build_run_failure_sensor(warehouse),
        ],
        resources={
            "landing": landing,
            "warehouse": warehouse,
            "dbt": DbtCliResource(project_dir=dbt_project, dbt_executable=DBT_EXECUTABLE),
        },
        # DuckDB has a single writer: steps run one after another in one process.
        executor=in_process_executor,
    )


defs = build_definitions()
