"""Pulled pages go through the same gate, quarantine and audit as any delivered file, and the pull
asset keeps its cursor in Dagster between runs."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
from dagster import DagsterInstance, materialize
from loopback_api import TOKEN, recorded, write_roster

from assets.configuration import configuration_tables
from assets.ingestion.assets import build_ingestion_assets
from assets.ingestion.survey_api import PULL_ASSET_KEY, survey_api_pull
from cxlake.pipeline.dbt_project import dbt_command
from cxlake.pipeline.partitions import daily_partitions
from cxlake.pipeline.resources import LandingZone, Warehouse
from cxlake.sources.paged_api import ApiSettings, pull
from cxlake.sources.survey_api import SURVEY_API

SURVEY = "SV_cxlakeApp"
DAY_1, DAY_2 = "2026-03-04", "2026-03-05"
PULL_1 = datetime(2026, 3, 4, 6, 0, tzinfo=UTC)
PULL_2 = datetime(2026, 3, 5, 2, 0, tzinfo=UTC)
INGESTION = {a.node_def.name: a for a in build_ingestion_assets(daily_partitions("2020-01-01"))}


def ingest(landing: Path, warehouse: Path):
    return materialize(
        [INGESTION["ingest_reference"], INGESTION["ingest_survey_api"]],
        tags={"dagster/asset_partition_range_start": DAY_1, "dagster/asset_partition_range_end": DAY_2},
        resources={"landing": LandingZone(root=str(landing)), "warehouse": Warehouse(path=str(warehouse))},
    )


def rows(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return connection.execute(sql).fetchall()


@pytest.fixture
def two_pulls(survey_api, tmp_path) -> Path:
    """Day 1: the five recorded responses; day 2: R_2bb edited and R_6ff new, pulled from the cursor."""
    landing = tmp_path / "landing"
    write_roster(landing, DAY_1)
    config = ApiSettings(survey_api.base_url, TOKEN, (SURVEY,), page_size=2)
    first = pull(SURVEY_API, config, SURVEY, None, landing, PULL_1, lambda _: None)
    survey_api.publish(SURVEY, recorded("survey_api", "SV_cxlakeApp_edited.json"))
    pull(SURVEY_API, config, SURVEY, first.cursor, landing, PULL_2, lambda _: None)
    return landing


def test_an_edited_response_loads_as_a_second_version_and_a_rerun_changes_nothing(two_pulls, tmp_path):
    warehouse = tmp_path / "w.duckdb"
    assert ingest(two_pulls, warehouse).success
    versions = (
        "select response_id, modified_at, cast(_partition_date as varchar) from raw.survey_api_responses "
        "where response_id = 'R_2bb' order by modified_at"
    )
    assert rows(warehouse, versions) == [
        ("R_2bb", "2026-03-04T10:01:30+08:00", DAY_1),
        ("R_2bb", "2026-03-05T08:30:00+08:00", DAY_2),
    ]
    comments = (
        "select answer from raw.survey_api_answers where response_id = 'R_2bb' and question_id = 'Q5' "
        "order by modified_at"
    )
    assert rows(warehouse, comments) == [("等了半小时",), ("等了半小时, 后来店长打电话道歉了",)]
    counts = (
        "select (select count(*) from raw.survey_api_responses), "
        "(select count(*) from raw.survey_api_answers), "
        "(select count(*) from quarantine.survey_api_responses)"
    )
    assert rows(warehouse, counts) == [(7, 42, 0)]  # 5 + 2 versions, 6 answers each
    audit = (
        "select cast(partition_date as varchar), sum(rows_in), sum(rows_loaded), sum(rows_quarantined) "
        "from dq.load_audit where raw_table = 'survey_api_responses' group by 1 order by 1"
    )
    assert rows(warehouse, audit) == [(DAY_1, 5, 5, 0), (DAY_2, 2, 2, 0)]
    assert ingest(two_pulls, warehouse).success
    assert rows(warehouse, counts) == [(7, 42, 0)]


def test_a_lost_cursor_re_delivers_versions_that_are_held_back_not_counted_twice(
    two_pulls, survey_api, tmp_path
):
    config = ApiSettings(survey_api.base_url, TOKEN, (SURVEY,), page_size=2)
    pull(SURVEY_API, config, SURVEY, None, two_pulls, PULL_2.replace(hour=3), lambda _: None)
    warehouse = tmp_path / "w.duckdb"
    assert ingest(two_pulls, warehouse).success
    loaded = "select response_id, count(*) from raw.survey_api_responses group by 1 order by 1"
    assert rows(warehouse, loaded) == [
        ("R_1aa", 1), ("R_2bb", 2), ("R_3cc", 1), ("R_4dd", 1), ("R_5ee", 1), ("R_6ff", 1),
    ]  # fmt: skip
    held = "select response_id, _failed_expectations from quarantine.survey_api_responses order by 1"
    assert [r[0] for r in rows(warehouse, held)] == ["R_1aa", "R_2bb", "R_3cc", "R_4dd", "R_5ee", "R_6ff"]
    # the run loads both days: the first pull's copy of each version is kept, the re-pull's held back
    assert {r[1] for r in rows(warehouse, held)} == {
        '["expect_column_values_to_be_in_set(version_repeated)"]'
    }
    balance = (
        "select sum(rows_in) = sum(rows_loaded) + sum(rows_quarantined) from dq.load_audit "
        "where raw_table = 'survey_api_responses'"
    )
    assert rows(warehouse, balance) == [(True,)]


def test_the_pull_asset_keeps_its_cursor_in_dagster_and_pulls_only_changes_next_time(
    survey_api, tmp_path, monkeypatch
):
    landing = tmp_path / "landing"
    monkeypatch.setenv("CXLAKE_SURVEY_API_URL", survey_api.base_url)
    monkeypatch.setenv("CXLAKE_SURVEY_API_TOKEN", TOKEN)
    monkeypatch.setenv("CXLAKE_SURVEY_API_IDS", SURVEY)
    instance = DagsterInstance.ephemeral()
    resources = {"landing": LandingZone(root=str(landing))}
    assert materialize([survey_api_pull], instance=instance, resources=resources).success
    first = instance.get_latest_materialization_event(PULL_ASSET_KEY).asset_materialization.metadata
    assert first["responses"].value == 5
    assert first["cursors"].value == {
        SURVEY: {"modified_at": "2026-03-04T04:45:10.000000Z", "last_id": "R_5ee"}
    }
    survey_api.publish(SURVEY, recorded("survey_api", "SV_cxlakeApp_edited.json"))
    assert materialize([survey_api_pull], instance=instance, resources=resources).success
    second = instance.get_latest_materialization_event(PULL_ASSET_KEY).asset_materialization.metadata
    assert second["responses"].value == 2
    assert second["cursors"].value[SURVEY]["last_id"] == "R_6ff"
    assert len(list(landing.glob("survey_api/*/*.json"))) == 2  # one page a pull (100 a page)


def test_the_pull_asset_records_the_cursor_before_failing_on_a_refused_token(
    survey_api, tmp_path, monkeypatch
):
    landing = tmp_path / "landing"
    monkeypatch.setenv("CXLAKE_SURVEY_API_URL", survey_api.base_url)
    monkeypatch.setenv("CXLAKE_SURVEY_API_TOKEN", "expired")
    monkeypatch.setenv("CXLAKE_SURVEY_API_IDS", SURVEY)
    instance = DagsterInstance.ephemeral()
    result = materialize(
        [survey_api_pull], instance=instance, resources={"landing": LandingZone(root=str(landing))},
        raise_on_error=False,
    )  # fmt: skip
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert "set CXLAKE_SURVEY_API_TOKEN to a valid API token" in str(failure.event_specific_data.error)
    assert "expired" not in str(failure.event_specific_data.error)


def test_the_pull_asset_names_the_settings_it_misses(tmp_path, monkeypatch):
    for name in ("URL", "TOKEN", "IDS"):
        monkeypatch.delenv(f"CXLAKE_SURVEY_API_{name}", raising=False)
    result = materialize(
        [survey_api_pull], resources={"landing": LandingZone(root=str(tmp_path))}, raise_on_error=False
    )
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert "survey_api: set CXLAKE_SURVEY_API_URL, CXLAKE_SURVEY_API_TOKEN, CXLAKE_SURVEY_API_IDS" in str(
        failure.event_specific_data.error
    )


def test_the_marts_path_reads_the_current_version_and_the_history_keeps_both(two_pulls, tmp_path):
    """Every source's raw tables (empty but this one's) and the configuration, then dbt: the edit is
    history in the versions model and counted once, as edited, in the survey intermediates."""
    warehouse = tmp_path / "w.duckdb"
    everything = materialize(
        [*INGESTION.values(), configuration_tables],
        tags={"dagster/asset_partition_range_start": DAY_1, "dagster/asset_partition_range_end": DAY_2},
        resources={"landing": LandingZone(root=str(two_pulls)), "warehouse": Warehouse(path=str(warehouse))},
    )
    assert everything.success
    command = dbt_command(
        "build", "--select", "+int_surveys__answers_scored", "stg_survey_api__response_versions",
        warehouse=warehouse, day_range=(DAY_1, DAY_2), scratch=tmp_path / "dbt",
    )  # fmt: skip
    built = subprocess.run(command, capture_output=True, text=True)
    assert built.returncode == 0, built.stdout[-4000:]
    history = (
        "select version_number, cast(valid_from as varchar), cast(valid_to as varchar), is_current "
        "from staging.stg_survey_api__response_versions where response_id = 'R_2bb' order by version_number"
    )
    assert rows(warehouse, history) == [
        (1, "2026-03-04 10:01:30", "2026-03-05 08:30:00", False),
        (2, "2026-03-05 08:30:00", None, True),
    ]
    counted = (
        "select response_id, cast(delivered_on as varchar) from intermediate.int_surveys__responses_unioned "
        "where source_system = 'survey_api' order by 1"
    )
    assert rows(warehouse, counted) == [
        ("R_1aa", DAY_1), ("R_2bb", DAY_2), ("R_3cc", DAY_1),
        ("R_4dd", DAY_1), ("R_5ee", DAY_1), ("R_6ff", DAY_2),
    ]  # fmt: skip
    scores = (
        "select question_role, score, count(*) over () from intermediate.int_surveys__answers_scored "
        "where response_id = 'R_2bb' and question_role in ('nps', 'csat') order by 1"
    )
    assert rows(warehouse, scores) == [("csat", 2, 2), ("nps", 6, 2)]  # the edited NPS 6, not the first 3
