"""The banner on business pages naming the days a source is missing or held back."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from assets.ingestion.assets import VOLUME_CHECKED
from assets.ingestion.loading import prepare_warehouse
from assets.ingestion.sources import SOURCES
from streamlit_app import data_access, widgets
from streamlit_app.data_access import Scope

APP = Path(__file__).resolve().parents[2] / "streamlit_app" / "app.py"
AT = datetime(2026, 1, 12, 6, 0, tzinfo=UTC)
FIRST = date(2026, 1, 5)  # the conftest's first response day


def day(n: int) -> date:
    return FIRST + timedelta(days=n - 1)


# Deliveries of days 1..10 (5..14 January, the conftest's response days): pos misses 4-6 and 9,
# wjx is held back on 7 (its re-run on 8 passed), qualtrics on 10; reference (not daily) comes once.
AUDIT_DAYS = {
    "pos": [1, 2, 3, 7, 8, 10],
    "survey_invitations": list(range(1, 11)),
    "qualtrics": list(range(1, 11)),
    "wjx": [1, 2, 3, 4, 5, 6, 8, 9, 10],
    "reference": [1],
}
# (source, raw table, day, blocked, validated at)
RUNS = [
    ("wjx", "wjx_responses", 7, True, AT),
    ("wjx", "wjx_responses", 8, True, AT),
    ("wjx", "wjx_responses", 8, False, AT + timedelta(hours=2)),  # the re-run after a release
    ("qualtrics", "qualtrics_answers", 10, False, AT),
    ("qualtrics", "qualtrics_responses", 10, True, AT),  # one blocked table holds the day back
    ("pos", "pos_transactions", 2, False, AT),
]


@pytest.fixture
def gaps_home(serving_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    # These deliveries are January's, so every source is long silent by now: the freshness banner
    # (tests/streamlit_app/test_freshness_banner.py) is left out to keep this banner alone on the page.
    monkeypatch.setattr("streamlit_app.data_access.freshness._shipped_rules", lambda: ())
    with duckdb.connect(str(serving_home / "serving.duckdb")) as connection:
        prepare_warehouse(connection, [])
        for source, days in AUDIT_DAYS.items():
            connection.executemany(
                "insert into dq.load_audit (source, partition_date, file, raw_table, rows_in, rows_loaded,"
                " rows_quarantined, checksum, loaded_at) values (?, ?, 'f.csv', ?, 1, 1, 0, 'x', ?)",
                [(source, day(n), f"{source}_table", AT) for n in days],
            )
        connection.executemany(
            "insert into dq.validation_runs (run_id, source, raw_table, partition_date, validated_at,"
            " success,"
            " blocked, block_reason, rows_in, rows_loaded, rows_quarantined)"
            " values (?, ?, ?, ?, ?, not ?, ?, null, 1, 1, 0)",
            [
                (f"r{i}", source, table, day(n), at, blocked, blocked)
                for i, (source, table, n, blocked, at) in enumerate(RUNS)
            ],
        )
    return serving_home


def test_the_daily_sources_are_those_the_ingestion_expects_every_day():
    tables = {table.name: source.name for source in SOURCES for table in source.tables}
    assert set(data_access.DAILY_SOURCES) == {tables[name] for name in VOLUME_CHECKED}


def test_gaps_are_held_back_and_missing_days_of_daily_sources(gaps_home):
    gaps = data_access.data_gaps(Scope.everything())
    assert gaps.values.tolist() == [
        ["pos", day(4), "missing"],
        ["pos", day(5), "missing"],
        ["pos", day(6), "missing"],
        ["pos", day(9), "missing"],
        ["qualtrics", day(10), "held_back"],
        ["wjx", day(7), "held_back"],
    ]
    # Every scope: the banner names sources and days, not a store's rows.
    assert data_access.data_gaps(Scope("store", ("S001",))).equals(gaps)
    assert data_access.data_gaps(Scope.everything(), day(5), day(7))["partition_date"].tolist() == [
        day(5),
        day(6),
        day(7),
    ]


def test_no_quality_tables_means_no_gaps(serving_home):
    assert data_access.data_gaps(Scope.everything()).empty


@pytest.mark.parametrize(
    ("days", "expected"),
    [
        (
            [date(2026, 1, 4), date(2026, 1, 6), date(2026, 1, 5), date(2026, 1, 9)],
            "2026-01-04..2026-01-06, 2026-01-09",
        ),
        ([date(2026, 1, 1)], "2026-01-01"),
        ([date(2026, 1, 2), date(2026, 1, 2), date(2026, 1, 3)], "2026-01-02..2026-01-03"),
        ([date(2026, 2, 28), date(2026, 3, 1)], "2026-02-28..2026-03-01"),
        ([], ""),
    ],
)
def test_day_ranges_are_compact(days, expected):
    assert widgets.day_ranges(days) == expected


@pytest.mark.parametrize("role", ["cx_director", "store_manager"])
def test_the_overview_warns_in_words_with_the_dates(gaps_home, sign_in_as, role):
    at = sign_in_as(AppTest.from_file(str(APP), default_timeout=30), role).run()
    assert not at.exception
    (warning,) = at.warning
    assert warning.value.splitlines() == [
        "Some days are incomplete, so the numbers below leave them out:",
        "- Qualtrics surveys: held back by the quality gate on 2026-01-14",
        "- 问卷星 surveys: held back by the quality gate on 2026-01-11",
        "- POS: no delivery on 2026-01-08..2026-01-10, 2026-01-13",
    ]
    at.switch_page("views/leaderboard.py").run()
    assert len(at.warning) == 1


def test_the_banner_follows_the_picked_days_and_language(gaps_home, sign_in_as):
    at = sign_in_as(AppTest.from_file(str(APP), default_timeout=30), "cx_director").run()
    at.date_input(key=widgets.KEY_DATES).set_value((day(1), day(3))).run()
    assert len(at.warning) == 0
    at.selectbox(key=widgets.KEY_LANGUAGE).select("zh").run()
    at.date_input(key=widgets.KEY_DATES).set_value((day(5), day(10))).run()
    assert at.warning[0].value.splitlines()[-1] == "- 收银系统：2026-01-09..2026-01-10, 2026-01-13 未收到数据"
