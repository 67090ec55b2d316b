"""The banner naming sources that went quiet, read from the serving copy's validation runs and judged
by the same rules as Dagster's delivery_freshness checks (cxlake/config/pipeline.yaml)."""

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from assets.ingestion.loading import prepare_warehouse
from cxlake.freshness import BUSINESS_TIMEZONE
from streamlit_app.data_access import Scope
from streamlit_app.data_access.freshness import last_deliveries, stale_sources

APP = Path(__file__).resolve().parents[2] / "streamlit_app" / "app.py"
ZONE = ZoneInfo(BUSINESS_TIMEZONE)
NOW = datetime.now(UTC)
# (source, raw table, partition day, validated at): qualtrics last delivered three days ago, wjx a
# minute ago, POS two hours ago, the app's events half an hour ago; survey_invitations never (but
# the others did, so that is news).
RUNS = [
    ("qualtrics", "qualtrics_responses", NOW - timedelta(days=3), NOW - timedelta(days=3)),
    ("wjx", "wjx_responses", NOW - timedelta(days=3), NOW - timedelta(days=3)),
    ("wjx", "wjx_responses", NOW, NOW - timedelta(minutes=1)),
    ("pos", "pos_transactions", NOW - timedelta(hours=2), NOW - timedelta(hours=2)),
    ("app_events", "app_events", NOW, NOW - timedelta(minutes=30)),
    # a backfill of last month, validated just now: no new delivery of Qualtrics
    ("qualtrics", "qualtrics_responses", NOW - timedelta(days=30), NOW),
]


def _local_day(at: datetime):
    return at.astimezone(ZONE).date()


@pytest.fixture
def freshness_home(serving_home: Path) -> Path:
    with duckdb.connect(str(serving_home / "serving.duckdb")) as connection:
        prepare_warehouse(connection, [])
        connection.executemany(
            "insert into dq.load_audit (source, partition_date, file, raw_table, rows_in, rows_loaded,"
            " rows_quarantined, checksum, loaded_at) values (?, ?, 'f.csv', ?, 1, 1, 0, 'x', ?)",
            [(source, _local_day(day), table, at) for source, table, day, at in RUNS],
        )
        connection.executemany(
            "insert into dq.validation_runs (run_id, source, raw_table, partition_date, validated_at,"
            " success, blocked, block_reason, rows_in, rows_loaded, rows_quarantined)"
            " values (?, ?, ?, ?, ?, true, false, null, 1, 1, 0)",
            [
                (f"r{i}", source, table, _local_day(day), at)
                for i, (source, table, day, at) in enumerate(RUNS)
            ],
        )
    return serving_home


def test_each_scope_reads_the_same_last_deliveries_and_a_backfill_is_no_delivery(freshness_home):
    delivered = last_deliveries(Scope.everything())
    assert set(delivered) == {"qualtrics", "wjx", "pos", "app_events"}
    assert abs(delivered["qualtrics"] - (NOW - timedelta(days=3))) < timedelta(seconds=1)
    assert abs(delivered["wjx"] - (NOW - timedelta(minutes=1))) < timedelta(seconds=1)
    assert last_deliveries(Scope("store", ("S001",))) == delivered


def test_the_quiet_sources_are_stale_and_one_never_delivered_is_named(freshness_home):
    stale = {state.rule.source: state for state in stale_sources(Scope.everything(), now=NOW)}
    assert set(stale) == {"qualtrics", "survey_invitations"}
    assert stale["qualtrics"].silence >= timedelta(hours=2 * 13)  # two whole business days at least
    assert stale["survey_invitations"].last_delivery_at is None


def test_a_copy_without_delivery_records_warns_of_nothing(serving_home):
    assert stale_sources(Scope.everything()) == []


def test_the_banner_names_the_quiet_sources_in_words(freshness_home, sign_in_as):
    at = sign_in_as(AppTest.from_file(str(APP), default_timeout=30), "store_manager").run()
    assert not at.exception
    (banner,) = [w.value for w in at.warning if w.value.startswith("Some sources have not delivered")]
    lines = banner.splitlines()
    since = (NOW - timedelta(days=3)).astimezone(ZONE).strftime("%Y-%m-%d %H:%M")
    assert lines[0] == "Some sources have not delivered for longer than expected; numbers may lag:"
    assert lines[1].startswith(f"- Qualtrics surveys: last delivery {since}, silent ")
    assert lines[1].endswith(" h of 6 h business hours allowed")
    assert lines[2:] == ["- Survey invitations: no delivery recorded"]
    at.selectbox(key="lang").select("zh").run()
    (banner,) = [w.value for w in at.warning if w.value.startswith("以下数据源")]
    assert banner.splitlines()[-1] == "- 问卷邀请：尚无送达记录"
