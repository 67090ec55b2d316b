"""Guard the graph: the one Definitions object loads, and renames stay deliberate."""

from __future__ import annotations

from datetime import datetime

import pytest
import yaml

from cxlake.metrics import dbt_vars
from orchestration.manifest import DBT_PROJECT_DIR, prepare_dbt_manifest
from orchestration.partitions import dbt_build_args, dbt_build_vars


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
    "raw/reviews",
    "raw/journey_touchpoints",
    "raw/survey_questions",
    "raw/survey_answer_scores",
    "raw/survey_constants",
}

EXPECTED_MART_KEYS = {
    "marts/dim_store",
    "marts/dim_customer",
    "marts/dim_date",
    "marts/dim_touchpoint",
    "marts/fct_transactions",
    "marts/fct_survey_responses",
    "marts/fct_touchpoint_ratings",
}


def test_definitions_hold_every_raw_table_mart_and_the_publish_step(defs):
    keys = {key.to_user_string() for key in defs.resolve_all_asset_keys()}
    assert EXPECTED_RAW_KEYS <= keys
    assert EXPECTED_MART_KEYS <= keys
    assert "serving/published_copy" in keys
    # every staging model is keyed under the staging schema, one per raw delivered table at least
    assert len({k for k in keys if k.startswith("staging/stg_")}) >= 15


def test_one_job_runs_the_whole_pipeline(defs):
    job = defs.resolve_job_def("daily_pipeline_job")
    assert job.partitions_def is not None
    assert job.partitions_def.get_partition_keys()[0] == "2024-01-01"


def test_dbt_tests_become_asset_checks(defs):
    check_keys = {str(key) for key in defs.resolve_asset_graph().asset_check_keys}
    assert any("fct_survey_responses" in k and "unique_fct_survey_responses_response_key" in k for k in check_keys)
    assert any("load_audit_balances" in k and "pos_transactions" in k for k in check_keys)


def test_dbt_vars_carry_the_partition_window_and_the_metric_definitions():
    build_vars = dbt_build_vars(datetime(2026, 1, 1), datetime(2026, 1, 8), "/tmp/w.duckdb")
    assert build_vars["min_date"] == "2026-01-01"
    assert build_vars["max_date"] == "2026-01-08"
    assert build_vars["warehouse_path"] == "/tmp/w.duckdb"
    assert build_vars["nps_promoter_min"] == 9 and build_vars["nps_detractor_max"] == 6
    args = dbt_build_args(datetime(2026, 1, 1), datetime(2026, 1, 2), "/tmp/w.duckdb")
    assert args[:2] == ["build", "--vars"]


def test_dbt_project_defaults_equal_the_one_metric_definition():
    """dbt_project.yml keeps defaults for hand-run dbt; they must not drift from metrics.yaml."""
    project = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text())
    for name, value in dbt_vars().items():
        assert project["vars"][name] == value, name
