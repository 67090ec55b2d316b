"""Freshness per source: silence counted in business hours (or every hour), the rules of
cxlake/config/pipeline.yaml, and the delivery_freshness checks Dagster shows, recorded by the
freshness sensor and runnable from the UI, against a real DuckDB serving copy."""

from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest
from dagster import (
    AssetCheckKey,
    AssetKey,
    AssetSelection,
    AssetSpec,
    DagsterInstance,
    DefaultSensorStatus,
    Definitions,
    build_sensor_context,
    define_asset_job,
)

from assets.ingestion.loading import prepare_warehouse
from cxlake.freshness import FreshnessConfigError, FreshnessRule, freshness_rules, judge, silence
from cxlake.pipeline.resources import Warehouse
from orchestration.sensors import (
    FRESHNESS_CHECK_NAME,
    build_freshness_checks,
    build_freshness_sensor,
    last_deliveries,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
SURVEYS = FreshnessRule("qualtrics", timedelta(hours=6), "business_hours", time(9), time(22), "Asia/Shanghai")
POS = FreshnessRule("pos", timedelta(hours=30), "all_hours", time(9), time(22), "Asia/Shanghai")


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment in March 2026, Shanghai time."""
    return datetime(2026, 3, day, hour, minute, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("since", "now", "hours"),
    [
        (at(5, 10), at(5, 15), 5),  # inside one business day: every hour counts
        (at(5, 21), at(6, 8), 1),  # a delivery at 21:00 then the night: one hour (21-22)
        (at(5, 21), at(6, 12), 4),  # ... and the next morning from 09:00
        (at(5, 23), at(6, 8, 59), 0),  # delivered after closing, nothing counted before opening
        (at(5, 10), at(7, 10), 26),  # two whole business days
        (at(5, 15), at(5, 10), 0),  # a clock behind the record never counts negative
    ],
)
def test_business_hours_count_only_while_the_stores_are_open(since, now, hours):
    assert silence(SURVEYS, since, now) == timedelta(hours=hours)


def test_a_survey_silent_six_business_hours_is_fresh_and_seven_is_stale():
    last = at(5, 20)  # 2 h before closing, then 4 h next morning = 6 h at 13:00
    assert not judge(SURVEYS, last, at(6, 13)).stale
    stale = judge(SURVEYS, last, at(6, 14))
    assert stale.stale and stale.silence == timedelta(hours=7)
    assert (
        stale.describe()
        == "qualtrics: last delivery 2026-03-05 20:00, silent 7h of 6h allowed, in business hours"
    )
    # a daily source counts every hour: 31 h after the last delivery is too long
    assert judge(POS, at(5, 1), at(6, 7)).silence == timedelta(hours=30)
    assert judge(POS, at(5, 1), at(6, 8)).stale
    assert judge(POS, None, at(6, 8)).describe() == "pos: no delivery recorded yet (30h allowed)"
    assert judge(SURVEYS, None, at(6, 8)).stale  # nothing recorded yet


def test_rules_come_from_pipeline_yaml_and_bad_ones_name_the_key():
    configured = {rule.source: rule for rule in freshness_rules()}
    assert configured["qualtrics"].max_silence == timedelta(hours=6)
    assert configured["qualtrics"].count == "business_hours"
    assert configured["pos"].count == "all_hours"
    with pytest.raises(FreshnessConfigError, match=r"freshness.sources.wjx.max_silence: '6 hours' is not"):
        freshness_rules({"freshness": {"sources": {"wjx": {"max_silence": "6 hours"}}}})
    with pytest.raises(FreshnessConfigError, match=r"freshness.sources.wjx: needs max_silence"):
        freshness_rules({"freshness": {"sources": {"wjx": {"count": "all_hours"}}}})
    with pytest.raises(FreshnessConfigError, match=r"closes 08:00:00 is not after opens 09:00:00"):
        freshness_rules({"freshness": {"business_hours": {"opens": "09:00", "closes": "08:00"}}})


def serving_copy(path: Path, runs: list[tuple[str, str, str, datetime]]) -> Path:
    """A serving copy whose load audit holds each run's day and whose validation runs hold the runs
    (source, raw table, partition day, validated at)."""
    with duckdb.connect(str(path)) as connection:
        prepare_warehouse(connection, [])
        for i, (source, table, day, validated_at) in enumerate(runs):
            connection.execute(
                "insert into dq.load_audit (source, partition_date, file, raw_table, rows_in, rows_loaded,"
                " rows_quarantined, checksum, loaded_at) values (?, ?, 'f.csv', ?, 1, 1, 0, 'x', ?)",
                [source, day, table, validated_at],
            )
            connection.execute(
                "insert into dq.validation_runs (run_id, source, raw_table, partition_date, validated_at,"
                " success, blocked, block_reason, rows_in, rows_loaded, rows_quarantined)"
                " values (?, ?, ?, ?, ?, true, false, null, 1, 1, 0)",
                [f"r{i}", source, table, day, validated_at],
            )
    return path


def test_a_backfill_of_old_days_is_no_delivery(tmp_path: Path):
    copy = serving_copy(
        tmp_path / "serving.duckdb",
        [
            ("pos", "pos_transactions", "2026-03-05", at(6, 1)),  # the night after: a delivery
            ("pos", "pos_transactions", "2026-02-01", at(6, 15)),  # last month re-run: not one
        ],
    )
    assert last_deliveries(copy) == {"pos": at(6, 1).astimezone(UTC)}
    assert last_deliveries(tmp_path / "not-published.duckdb") == {}


@pytest.fixture
def quiet_surveys(tmp_path: Path) -> Warehouse:
    """Qualtrics last delivered three days ago, POS an hour ago."""
    now = datetime.now(UTC)
    day = (now - timedelta(days=3)).astimezone(SHANGHAI).date().isoformat()
    today = now.astimezone(SHANGHAI).date().isoformat()
    serving_copy(
        tmp_path / "serving.duckdb",
        [
            ("qualtrics", "qualtrics_responses", day, now - timedelta(days=3)),
            ("pos", "pos_transactions", today, now - timedelta(hours=1)),
        ],
    )
    return Warehouse(path=str(tmp_path / "warehouse.duckdb"), serving_path=str(tmp_path / "serving.duckdb"))


def test_the_sensor_records_each_verdict_and_again_only_when_it_changes(quiet_surveys: Warehouse):
    sensor = build_freshness_sensor(quiet_surveys, [SURVEYS, POS])
    assert sensor.default_status == DefaultSensorStatus.RUNNING
    with DagsterInstance.ephemeral() as instance:
        first = sensor.evaluate_tick(build_sensor_context(instance=instance))
        second = sensor.evaluate_tick(build_sensor_context(instance=instance, cursor=first.cursor))
    verdicts = {
        (event.asset_key.to_user_string(), event.check_name): event.passed for event in first.asset_events
    }
    assert verdicts == {
        ("raw/qualtrics_responses", FRESHNESS_CHECK_NAME): False,
        ("raw/pos_transactions", FRESHNESS_CHECK_NAME): True,
    }
    assert second.asset_events == []  # unchanged within the hour: nothing new to record


def test_the_checks_run_from_dagster_give_the_same_verdicts(quiet_surveys: Warehouse):
    checks = build_freshness_checks(quiet_surveys, [SURVEYS, POS])
    raw = [
        AssetSpec(AssetKey(["raw", "qualtrics_responses"])),
        AssetSpec(AssetKey(["raw", "pos_transactions"])),
    ]
    job = define_asset_job("freshness_now", selection=AssetSelection.checks(checks))
    defs = Definitions(assets=raw, asset_checks=[checks], jobs=[job])
    with DagsterInstance.ephemeral() as instance:
        result = defs.resolve_job_def("freshness_now").execute_in_process(instance=instance)
    evaluations = {e.asset_check_key: e.passed for e in result.get_asset_check_evaluations()}
    assert evaluations == {
        AssetCheckKey(AssetKey(["raw", "qualtrics_responses"]), FRESHNESS_CHECK_NAME): False,
        AssetCheckKey(AssetKey(["raw", "pos_transactions"]), FRESHNESS_CHECK_NAME): True,
    }


def test_a_rule_for_a_source_that_does_not_exist_fails_naming_it(quiet_surveys: Warehouse):
    typo = FreshnessRule(
        "qualtircs", timedelta(hours=6), "business_hours", time(9), time(22), "Asia/Shanghai"
    )
    with pytest.raises(ValueError, match=r"freshness.sources.qualtircs: not a source"):
        build_freshness_checks(quiet_surveys, [typo])
