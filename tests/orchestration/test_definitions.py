"""Guard the graph: the one Definitions object loads, and renames stay deliberate."""

from __future__ import annotations

import pytest
import yaml

from cxlake.metrics import dbt_vars
from cxlake.pipeline.dbt_project import DBT_PROJECT_DIR, prepare_dbt_manifest
from cxlake.pipeline.partitions import dbt_build_args, dbt_build_vars, partitions_start, run_day_range


@pytest.fixture(scope="module")
def defs():
    prepare_dbt_manifest()
    from orchestration.definitions import defs

    return defs


EXPECTED_RAW_KEYS = {
    "raw/reference_stores",
    "raw/reference_staff",
    "raw/crm_customers",
    "raw/pos_transactions",
    "raw/pos_transaction_lines",
    "raw/survey_invitations",
    "raw/qualtrics_responses",
    "raw/qualtrics_answers",
    "raw/wjx_responses",
    "raw/wjx_answers",
    "raw/survey_responses",
    "raw/survey_answers",
    "raw/reviews",
    "raw/journey_touchpoints",
    "raw/survey_questions",
    "raw/survey_answer_scores",
    "raw/survey_constants",
    "raw/journey_measures",
}

EXPECTED_MART_KEYS = {
    "marts/dim_store",
    "marts/dim_customer",
    "marts/dim_date",
    "marts/dim_touchpoint",
    "marts/fct_transactions",
    "marts/fct_survey_responses",
    "marts/fct_touchpoint_ratings",
    "marts/fct_journeys",
    "marts/fct_journey_outcomes",
    "marts/fct_touchpoint_daily",
    "marts/fct_nps_daily",
    "marts/fct_survey_funnel",
    "marts/mart_customer_360",
    "marts/mart_experience_value",
}


def test_definitions_hold_every_raw_table_mart_and_the_publish_step(defs):
    keys = {key.to_user_string() for key in defs.resolve_all_asset_keys()}
    assert keys >= EXPECTED_RAW_KEYS
    assert keys >= EXPECTED_MART_KEYS
    assert "serving/published_copy" in keys
    # every staging model is keyed under the staging schema, one per raw delivered table at least
    assert len({k for k in keys if k.startswith("staging/stg_")}) >= 15


def test_one_job_runs_the_whole_pipeline(defs):
    job = defs.resolve_job_def("daily_pipeline_job")
    assert job.partitions_def is not None
    assert job.partitions_def.timezone == "Asia/Shanghai"


def test_partitions_start_on_the_earliest_delivery_so_the_ui_shows_only_days_there_are(tmp_path):
    """Regression: partitions started on a fixed 2024-01-01, so a 90-day demo showed ~980 missing."""
    from orchestration.definitions import build_definitions

    for folder in ("pos/2026-03-05", "crm/2026-03-02", "crm/2026-13-40", "crm/backup"):
        (tmp_path / folder).mkdir(parents=True)
    job = build_definitions(landing_root=str(tmp_path)).resolve_job_def("daily_pipeline_job")
    assert job.partitions_def.get_partition_keys()[:2] == ["2026-03-02", "2026-03-03"]
    # a run may reach back before the first delivery; configuration wins over the deliveries
    assert partitions_start("2026-03-02", "2026-02-27") == "2026-02-27"
    assert partitions_start("2026-03-02") == "2026-03-02"


def test_a_model_shows_its_yml_description_in_dagster_not_its_raw_sql(defs):
    specs = {s.key.to_user_string(): s for s in defs.resolve_all_asset_specs()}
    description = specs["marts/fct_survey_responses"].description
    assert "Raw SQL" not in description and "{{" not in description
    assert "one row per" in description.lower()


def test_dbt_tests_become_asset_checks(defs):
    check_keys = {str(key) for key in defs.resolve_asset_graph().asset_check_keys}
    assert any(
        "fct_survey_responses" in k and "unique_fct_survey_responses_response_key" in k for k in check_keys
    )
    assert any("load_audit_balances" in k and "pos_transactions" in k for k in check_keys)


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        # a single-run backfill over a range: both ends, inclusive
        (
            {
                "dagster/asset_partition_range_start": "2026-01-01",
                "dagster/asset_partition_range_end": "2026-01-08",
            },
            ("2026-01-01", "2026-01-08"),
        ),
        # one partition launched from the UI
        ({"dagster/partition": "2026-02-03"}, ("2026-02-03", "2026-02-03")),
        # an unpartitioned run (only the models): no day range
        ({}, None),
    ],
)
def test_the_run_day_range_comes_from_the_run_tags(tags, expected):
    assert run_day_range(tags) == expected


def test_dbt_vars_carry_the_day_range_and_the_metric_definitions():
    build_vars = dbt_build_vars(("2026-01-01", "2026-01-08"), "/tmp/w.duckdb")
    assert build_vars["min_date"] == "2026-01-01"
    assert build_vars["max_date"] == "2026-01-08"
    assert build_vars["warehouse_path"] == "/tmp/w.duckdb"
    assert build_vars["nps_promoter_min"] == 9 and build_vars["nps_detractor_max"] == 6
    assert "min_date" not in dbt_build_vars(None, "/tmp/w.duckdb")
    assert dbt_build_args(None, "/tmp/w.duckdb")[:4] == [
        "build",
        "--exclude-resource-type",
        "unit_test",
        "--vars",
    ]


def test_dbt_project_defaults_equal_the_one_metric_definition():
    """dbt_project.yml keeps defaults for hand-run dbt; they must not drift from metrics.yaml."""
    project = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text())
    for name, value in dbt_vars().items():
        assert project["vars"][name] == value, name


def test_the_schedule_is_named_after_its_job_and_runs_at_two_on_by_default(defs):
    from dagster import DefaultScheduleStatus

    schedule = defs.resolve_schedule_def("daily_pipeline_job_schedule")
    assert schedule.job_name == "daily_pipeline_job"
    assert schedule.cron_schedule == "0 2 * * *"
    assert schedule.execution_timezone == "Asia/Shanghai"
    assert schedule.default_status == DefaultScheduleStatus.RUNNING


def test_dagster_dev_loads_the_definitions_with_a_path_that_has_no_dbt(tmp_path):
    """Regression: `make dagster-ui` showed the code location Failed ("dbt executable 'dbt' was not
    found on PATH"): dev mode re-parses the project, and must use the venv's dbt."""
    import subprocess
    import sys

    env = {
        "PATH": "/usr/bin:/bin",
        "DAGSTER_IS_DEV_CLI": "1",
        "CXLAKE_HOME": str(tmp_path),
        "HOME": str(tmp_path),
    }
    loaded = subprocess.run(
        [sys.executable, "-c", "from orchestration.definitions import defs; print(len(defs.jobs))"],
        cwd=DBT_PROJECT_DIR.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert loaded.returncode == 0, loaded.stderr[-2000:]
    assert loaded.stdout.strip() == "5"  # daily pipeline, nightly retention, a pull job per API source


def test_api_pulls_have_their_own_stopped_schedules_and_stay_out_of_the_daily_pipeline(defs):
    """A backfill of old days must not call an API, and a source without settings must not fail
    another's pulls: each pull is its own job, scheduled hourly once someone turns it on."""
    from dagster import DefaultScheduleStatus

    daily = defs.resolve_job_def("daily_pipeline_job")
    assert not [k for k in daily.asset_layer.selected_asset_keys if k.path[0] == "landing"]
    for job in ("survey_api_pull_job", "reviews_dianping_pull_job", "reviews_meituan_pull_job"):
        schedule = defs.resolve_schedule_def(f"{job}_schedule")
        assert (schedule.job_name, schedule.cron_schedule) == (job, "0 * * * *")
        assert schedule.default_status == DefaultScheduleStatus.STOPPED
        assert len(defs.resolve_job_def(job).asset_layer.selected_asset_keys) == 1
