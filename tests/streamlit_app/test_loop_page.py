"""The Loop page: the CX director's view of the closed loop, and a regional manager's of their region.

The conftest's serving copy gets the two loop marts the page reads, with the rows dbt's own unit
tests prove for their cases (dbt_project/models/marts/loop/*.yml: mart_loop_health's cases A-E, on
the conftest's stores S001, S002 in R01 and S003 in R02), and recovery rows with planted rates.
The live sections read cases opened by the real CaseStore with the shipped alert rules, and
messages that really failed: the SMTP port refuses every connection, the webhooks are unset.
  P  S001 (R01) score 0, opened yesterday 10:00, never acknowledged, escalated: late
  Q  S002 (R01) score 5, opened yesterday 10:00, acknowledged in 30 min, resolved as recovered
  R  S003 (R02) score 4, opened 3 h ago (2 h to acknowledge): late by about 1 h
  H  S001 score 1, feedback 10 days old: historical, never listed as late
"""

from __future__ import annotations

import socket
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from cxlake.access.roles import Principal, Scope
from cxlake.alerts.cases import CaseStore
from cxlake.alerts.clock import daily_digest
from cxlake.alerts.config import load_alert_config
from cxlake.alerts.outbox import BUSINESS_ZONE, dispatch_pending, notifications, queue_digest
from cxlake.app_state import AppState
from cxlake.metrics import settings
from streamlit_app import data_access, session

PAGE = Path(__file__).resolve().parents[2] / "streamlit_app" / "views" / "loop.py"
NOT_AVAILABLE = "This page is not available for your role."
STORES = {"S001": ("人民广场店", "R01"), "S002": ("徐家汇店", "R01"), "S003": ("福田店", "R02")}

LOOP_MARTS_DDL = """
create table marts.mart_loop_health (
    grain varchar, week_start date, region_id varchar, region_name varchar, store_id varchar,
    store_name varchar, count_cases_opened bigint, count_acknowledged bigint, count_resolved bigint,
    count_worked bigint, count_ack_sla_met bigint, count_ack_sla_decided bigint, ack_sla_met_share double,
    count_resolve_sla_met bigint, count_resolve_sla_decided bigint, resolve_sla_met_share double,
    median_hours_to_acknowledge double, median_hours_to_resolve double, count_open_now bigint,
    count_breached_open_now bigint
);
create table marts.mart_case_recovery_summary (
    grain varchar, region_id varchar, store_id varchar, is_worked boolean, count_detractors bigint,
    count_with_case bigint, count_judged_30d bigint, count_returned_30d bigint, return_rate_30d double,
    count_judged_90d bigint, count_returned_90d bigint, return_rate_90d double,
    avg_days_to_next_visit double, count_next_nps bigint, avg_nps double, avg_next_nps double,
    avg_nps_change double
);
"""
W1, W2 = date(2026, 3, 2), date(2026, 3, 9)
# mart_loop_health's unit test: (grain, week, region, store, cases, acknowledged, resolved, worked,
# ack met, ack decided, ack share, resolve met, resolve decided, resolve share, median h to ack,
# median h to resolve, open now, late and open now)
HEALTH = [
    ("store", W1, "R01", "S001", 3, 2, 2, 1, 1, 3, 0.333333, 2, 2, 1.0, 2.0, 20.0, 1, 1),
    ("store", W1, "R01", "S002", 1, 1, 0, 1, 1, 1, 1.0, 0, 0, None, 0.5, None, 1, 0),
    ("region", W1, "R01", None, 4, 3, 2, 2, 2, 4, 0.5, 2, 2, 1.0, 1.0, 20.0, 2, 1),
    ("chain", W1, None, None, 4, 3, 2, 2, 2, 4, 0.5, 2, 2, 1.0, 1.0, 20.0, 2, 1),
    ("store", W2, "R02", "S003", 1, 1, 1, 1, 1, 1, 1.0, 1, 1, 1.0, 2.0, 5.0, 0, 0),
    ("region", W2, "R02", None, 1, 1, 1, 1, 1, 1, 1.0, 1, 1, 1.0, 2.0, 5.0, 0, 0),
    ("chain", W2, None, None, 1, 1, 1, 1, 1, 1, 1.0, 1, 1, 1.0, 2.0, 5.0, 0, 0),
]  # fmt: skip
# (grain, region, store, worked, detractors, with case, judged 30d, returned 30d, rate 30d, judged
# 90d, returned 90d, rate 90d, days to next visit, next answers, mean score, mean next, change)
RECOVERY = [
    ("chain", None, None, True, 140, 140, 110, 94, 0.854545, 90, 81, 0.9, 12.5, 40, 3.5, 7.25, 3.75),
    ("chain", None, None, False, 120, 60, 80, 44, 0.55, 70, 42, 0.6, 20.0, 25, 3.8, 5.1, 1.3),
    ("region", "R01", None, True, 100, 100, 75, 60, 0.8, 60, 54, 0.9, 11.0, 30, 3.4, 7.5, 4.1),
    ("region", "R01", None, False, 90, 40, 60, 30, 0.5, 50, 30, 0.6, 21.0, 20, 3.9, 5.0, 1.1),
    ("region", "R02", None, True, 40, 40, 35, 34, 0.971429, 30, 27, 0.9, 15.0, 10, 3.75, 6.5, 2.75),
    ("region", "R02", None, False, 30, 20, 20, 14, 0.7, 20, 12, 0.6, 17.0, 5, 3.5, 5.5, 2.0),
]  # fmt: skip


def write_loop_marts(home: Path) -> None:
    with duckdb.connect(str(home / "serving.duckdb")) as connection:
        connection.execute(LOOP_MARTS_DDL)
        names = {store: name for store, (name, _) in STORES.items()}
        regions = {"R01": "华东", "R02": "华南"}
        connection.executemany(
            f"insert into marts.mart_loop_health values ({', '.join(['?'] * 20)})",
            [
                (grain, week, region, regions.get(region), store, names.get(store), *counts)
                for grain, week, region, store, *counts in HEALTH
            ],
        )
        connection.executemany(
            f"insert into marts.mart_case_recovery_summary values ({', '.join(['?'] * 17)})", RECOVERY
        )


def item(store: str, index: int, score: int, feedback_at: datetime) -> dict[str, object]:
    """A survey answer as the case store is handed it (the conftest's response ``<store>-<index>``)."""
    name, region = STORES[store]
    key = f"{store}-{index:03d}"
    return {
        "source": "survey", "survey_id": "SV_cxlakeApp", "response_id": key, "feedback_at": feedback_at,
        "store_id": store, "store_name": name, "region_id": region, "nps_score": score, "text": "不满意",
    }  # fmt: skip


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released): every connection is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def loop_home(serving_home: Path) -> dict[str, object]:
    """Cases P, Q, R, H and their failed messages in the app state under ``serving_home``."""
    now = datetime.now(UTC)
    config = load_alert_config()
    store = CaseStore(AppState(serving_home / "app_state.sqlite"))
    yesterday = now.astimezone(BUSINESS_ZONE).date() - timedelta(days=1)
    ten = datetime.combine(yesterday, time(10), tzinfo=BUSINESS_ZONE).astimezone(UTC)
    plan = {
        "P": (item("S001", 9, 0, ten - timedelta(minutes=20)), ten),
        "Q": (item("S002", 5, 5, ten - timedelta(minutes=20)), ten),
        "R": (item("S003", 4, 4, now - timedelta(hours=3, minutes=5)), now - timedelta(hours=3)),
        "H": (item("S001", 19, 1, now - timedelta(days=10)), now - timedelta(hours=1)),
    }
    ids = {}
    for letter, (feedback, opened_at) in plan.items():
        (case,) = store.open_cases([feedback], config, opened_at).opened
        ids[letter] = case.case_id
    store.acknowledge(ids["Q"], "store_manager", at=ten + timedelta(minutes=30))
    store.resolve(ids["Q"], "store_manager", "recovered", at=ten + timedelta(hours=3))
    # P's hour to acknowledge ran out at 11:00 yesterday: at 12:00 it escalates to the region.
    assert [case.case_id for case in store.escalate_overdue(config, ten + timedelta(hours=2))] == [ids["P"]]
    queue_digest(store, config, daily_digest(store, config, yesterday, now), now)
    environ = {"CXLAKE_SMTP_HOST": "127.0.0.1", "CXLAKE_SMTP_PORT": str(closed_port())}
    dispatched = dispatch_pending(store, config, now, environ=environ, sleep=lambda seconds: None)
    assert dispatched.sent == 0 and dispatched.failed > 0
    return {"ids": ids, "now": now, "yesterday": yesterday, "store": store, "config": config}


@pytest.fixture
def loop_marts_home(serving_home: Path, loop_home: dict[str, object]) -> dict[str, object]:
    write_loop_marts(serving_home)
    return loop_home


def tables(at: AppTest) -> dict[str, pd.DataFrame]:
    """The page's tables by a header only each has (the first table with it)."""
    keys = {
        "region_health": "Region id", "store_health": "Late and open now", "late": "Late to",
        "failed": "Error", "digest": "Open now", "recovery": "Case worked",
    }  # fmt: skip
    frames = [element.value for element in at.dataframe]
    found = {}
    for name, header in keys.items():
        matching = [frame for frame in frames if header in frame.columns]
        if name == "store_health":
            matching = [frame for frame in matching if "Store" in frame.columns]
        if name == "region_health":
            matching = [frame for frame in matching if "Store" not in frame.columns]
        if matching:
            found[name] = matching[0]
    return found


def weeks_picked(at: AppTest, *weeks: date) -> AppTest:
    return at.multiselect(key="loop_weeks").set_value(list(weeks)).run()


# --- Who gets the page ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "scope_id", "listed"),
    [
        ("cx_director", None, True),
        ("admin", None, True),
        ("regional_manager", "R01", True),
        ("store_manager", "S001", False),  # their loop is the Feedback page's workbench
        ("analyst", None, False),
    ],
)
def test_the_page_is_for_roles_that_see_more_than_one_store(role, scope_id, listed):
    assert ("loop" in session.open_pages(Principal("someone", role, scope_id))) is listed


def test_a_store_manager_opening_the_page_by_its_address_sees_nothing_of_it(
    serving_home, loop_marts_home, signed_in_page
):
    at = signed_in_page(serving_home, "store_manager", "S001")

    assert not at.exception
    assert [element.value for element in at.error] == [NOT_AVAILABLE]
    assert not at.dataframe and not at.metric


# --- Loop health --------------------------------------------------------------------------------------


def test_the_director_sees_every_region_and_store_worst_first(serving_home, loop_marts_home, signed_in_page):
    at = signed_in_page(serving_home, "cx_director")
    assert not at.exception
    assert at.multiselect(key="loop_weeks").value == [W2]  # the newest week to begin with
    assert tables(at)["region_health"]["Region id"].tolist() == ["R02"]

    found = tables(weeks_picked(at, W1, W2))
    regions = found["region_health"]
    assert regions[["Week", "Region id", "Region", "Cases"]].values.tolist() == [
        [W1, "R01", "华东", 4],
        [W2, "R02", "华南", 1],
    ]
    assert regions["Acknowledged in time (%)"].tolist() == [50.0, 100.0]
    assert regions["Resolved in time (%)"].tolist() == [100.0, 100.0]
    assert regions["Median hours to acknowledge"].tolist() == [1.0, 2.0]
    assert regions["Late and open now"].tolist() == [1, 0]
    stores = found["store_health"]
    # S001 acknowledged a third in time; S003 and S002 all, but S002's resolve share is undecided.
    assert stores["Store id"].tolist() == ["S001", "S003", "S002"]
    assert stores["Acknowledged in time (%)"].tolist() == [33.3, 100.0, 100.0]
    assert stores["Resolved in time (%)"].iloc[:2].tolist() == [100.0, 100.0]
    assert pd.isna(stores["Resolved in time (%)"].iloc[2])
    assert stores["Median hours to resolve"].iloc[:2].tolist() == [20.0, 5.0]


def test_a_regional_manager_sees_only_their_region(serving_home, loop_marts_home, signed_in_page):
    at = signed_in_page(serving_home, "regional_manager", "R01")

    assert not at.exception
    assert at.multiselect(key="loop_weeks").options == ["2026-03-02 – 2026-03-08"]  # R02's week is not theirs
    found = tables(at)
    assert found["region_health"]["Region id"].tolist() == ["R01"]
    assert found["store_health"]["Store id"].tolist() == ["S001", "S002"]


# --- Late cases, unsent messages ----------------------------------------------------------------------


def test_the_director_sees_every_late_case_with_its_owner_and_link(
    serving_home, loop_marts_home, signed_in_page
):
    ids = loop_marts_home["ids"]
    at = signed_in_page(serving_home, "cx_director")

    late = tables(at)["late"]
    assert late["Case"].tolist() == [ids["P"], ids["R"]]  # most overdue first; Q resolved, H historical
    assert late["Owner"].tolist() == ["Regional manager R01", "Store manager S003"]
    assert late["Store id"].tolist() == ["S001", "S003"]
    assert late["Status"].tolist() == ["Escalated", "Open"]
    assert late["Late to"].tolist() == ["Acknowledge", "Acknowledge"]
    assert late["Open"].tolist() == [f"/feedback?case={ids['P']}", f"/feedback?case={ids['R']}"]
    # R's two hours to acknowledge ran out an hour before the page was drawn.
    assert late["Hours overdue"].iloc[1] == pytest.approx(1.0, abs=0.1)
    p_due = datetime.fromisoformat(loop_marts_home["store"].get(ids["P"]).ack_due_at)
    expected = (datetime.now(UTC) - p_due).total_seconds() / 3600
    assert late["Hours overdue"].iloc[0] == pytest.approx(expected, abs=0.1)


def test_a_regional_manager_does_not_see_another_regions_late_case(
    serving_home, loop_marts_home, signed_in_page
):
    ids = loop_marts_home["ids"]
    at = signed_in_page(serving_home, "regional_manager", "R01")

    found = tables(at)
    assert found["late"]["Case"].tolist() == [ids["P"]]
    assert ids["R"] not in found["failed"]["Case"].tolist()
    assert set(found["failed"]["Case"]) == {ids["P"], ids["Q"]}
    assert "Daily digest" not in found["failed"]["Message"].tolist()  # the director's, about every store
    shown = "\n".join(str(frame.values.tolist()) for frame in found.values())
    assert ids["R"] not in shown and "S003" not in shown


def test_a_failed_message_shows_with_its_channel_error_and_attempts(
    serving_home, loop_marts_home, signed_in_page
):
    ids = loop_marts_home["ids"]
    at = signed_in_page(serving_home, "cx_director")

    failed = tables(at)["failed"]
    stored = {
        (row.case_id, row.channel, row.recipient): row
        for row in notifications(loop_marts_home["store"])
        if row.status == "failed"
    }
    assert len(failed) == len(stored)
    mail = stored[(ids["P"], "email", "manager.S001@stores.example.com")]
    shown = failed[(failed["Case"] == ids["P"]) & (failed["Recipient"] == "manager.S001@stores.example.com")]
    assert shown[["Message", "Channel", "Attempts", "Error"]].values.tolist() == [
        ["Alert", "E-mail", 4, mail.last_error]  # four tries at a port that refuses each
    ]
    group = stored[(ids["P"], "store_group", None)]
    assert group.last_error.startswith("channel 'store_group' is not configured")
    assert group.last_error in failed["Error"].tolist()
    assert "Store group chat (WeCom)" in failed["Channel"].tolist()
    digests = failed[failed["Message"] == "Daily digest"]
    assert sorted(digests["Channel"]) == ["Director's Slack", "E-mail"]


# --- The digest -------------------------------------------------------------------------------------


def metrics(at: AppTest) -> dict[str, str]:
    return {metric.label: metric.value for metric in at.metric}


def test_the_director_reads_yesterdays_digest_as_sent(serving_home, loop_marts_home, signed_in_page):
    at = signed_in_page(serving_home, "cx_director")

    digest = daily_digest(
        loop_marts_home["store"], loop_marts_home["config"], loop_marts_home["yesterday"], datetime.now(UTC)
    )
    assert metrics(at) == {
        "Opened": str(digest["opened"]),
        "Breached": str(digest["breached"]),
        "Resolved": str(digest["resolved"]),
        "Recovered": str(digest["recovered"]),
        "Open now": str(digest["open_now"]),
    }
    assert digest["opened"] >= 2 and digest["recovered"] == 1


def test_a_regional_managers_digest_counts_their_region_only(serving_home, loop_marts_home, signed_in_page):
    at = signed_in_page(serving_home, "regional_manager", "R01")

    # P and Q opened yesterday; P's acknowledge time ran out yesterday; Q was resolved as recovered.
    # P is open now (H is historical, as in every digest; R, in R02, is not theirs).
    assert metrics(at) == {"Opened": "2", "Breached": "1", "Resolved": "1", "Recovered": "1", "Open now": "1"}
    assert sorted(tables(at)["digest"]["Store id"]) == ["S001", "S002"]


# --- Recovery -----------------------------------------------------------------------------------------


def test_recovery_figures_are_the_marts_with_a_plain_reading(serving_home, loop_marts_home, signed_in_page):
    at = signed_in_page(serving_home, "cx_director")

    recovery = tables(at)["recovery"]
    assert recovery["Case worked"].tolist() == ["Yes", "No"]
    assert recovery["Detractors"].tolist() == [140, 120]
    assert recovery["Judged at 30 days"].tolist() == [110, 80]
    assert recovery["Back within 30 days (%)"].tolist() == [85.5, 55.0]
    assert recovery["Back within 90 days (%)"].tolist() == [90.0, 60.0]
    assert recovery["Mean next score"].iloc[0] == 7.25
    assert pd.isna(recovery["Mean next score"].iloc[1])  # 25 answered again: too few for a mean
    assert recovery["Note"].tolist() == ["", "Mean next score: n = 25, too few"]
    assert (
        "Detractors whose case was worked came back within 30 days 85.5% of the time, against 55.0% of"
        " those whose case was not worked (n = 110 and 80)."
    ) in [element.value for element in at.markdown]

    regional = tables(signed_in_page(serving_home, "regional_manager", "R01"))["recovery"]
    assert regional["Back within 30 days (%)"].tolist() == [80.0, 50.0]


def test_a_recovery_rate_over_too_few_detractors_is_not_shown_as_a_fact(
    serving_home, loop_marts_home, signed_in_page
):
    """R02's not-worked detractors: 20 judged at 30 and at 90 days, 5 answered again (the worked
    ones: 10 answered again), each under the 30 a reported figure needs (metrics.yaml)."""
    assert settings().min_responses == 30
    at = signed_in_page(serving_home, "regional_manager", "R02")

    assert not at.exception
    recovery = tables(at)["recovery"]
    assert recovery["Detractors"].tolist() == [40, 30]  # counts are facts: kept
    assert recovery["Judged at 30 days"].tolist() == [35, 20]
    assert recovery["Back within 30 days (%)"].tolist()[0] == pytest.approx(97.1)
    assert pd.isna(recovery["Back within 30 days (%)"].iloc[1])
    assert pd.isna(recovery["Back within 90 days (%)"].iloc[1])
    assert recovery["Mean next score"].isna().all()
    assert recovery["Mean score"].tolist() == [3.75, 3.5]
    assert recovery["Note"].tolist() == [
        "Mean next score: n = 10, too few",
        "Back within 30 days: n = 20, too few; Back within 90 days: n = 20, too few;"
        " Mean next score: n = 5, too few",
    ]
    said = [element.value for element in at.markdown]
    assert (
        "Too few detractors can be judged at 30 days yet to compare worked and not-worked cases"
        " (n = 35 and 20; at least 30 each)."
    ) in said
    assert not [line for line in said if "%" in line]  # no 97.1% beside a hidden rate


def test_a_single_judged_detractor_gives_no_rate_anywhere(serving_home, loop_marts_home):
    """The previous page's case: a rate of 1 judged detractor drawn as 100%."""
    with duckdb.connect(str(serving_home / "serving.duckdb")) as connection:
        connection.execute(
            "update marts.mart_case_recovery_summary set count_judged_30d = 1, return_rate_30d = 1.0"
            " where grain = 'chain' and is_worked"
        )
    recovery = data_access.case_recovery(Scope.everything())
    assert recovery["count_judged_30d"].tolist() == [1, 80]
    assert pd.isna(recovery["return_rate_30d"].iloc[0]) and recovery["return_rate_30d"].iloc[1] == 0.55


# --- Without the loop marts, in Chinese, and the data access directly ---------------------------------


def test_without_the_loop_marts_the_mart_sections_say_so_and_the_live_ones_show(
    serving_home, loop_home, signed_in_page
):
    at = signed_in_page(serving_home, "cx_director")

    assert not at.exception
    notes = [element.value for element in at.info]
    assert len(notes) == 2 and all("no loop marts yet" in note for note in notes)
    assert tables(at)["late"]["Case"].tolist() == [loop_home["ids"]["P"], loop_home["ids"]["R"]]


def test_the_page_reads_in_chinese(serving_home, loop_marts_home, signed_in_page):
    at = signed_in_page(serving_home, "cx_director")
    at.session_state["lang"] = "zh"
    at.run()

    assert not at.exception
    assert [element.value for element in at.subheader] == [
        "闭环健康度", "当前超时案例", "未发出的消息", "每日摘要", "顾客挽回",
    ]  # fmt: skip
    assert "已跟进案例的贬损者 30 天内回购比例为 85.5%，未跟进的为 55.0%（n = 110 / 80）。" in [
        element.value for element in at.markdown
    ]
    late = at.dataframe[2].value
    assert {"超时环节", "负责人", "超时（小时）"} <= set(late.columns)
    assert late["负责人"].tolist()[0] == "区域经理 R01"


def test_the_data_access_keeps_every_loop_answer_in_scope(serving_home, loop_marts_home):
    ids, now = loop_marts_home["ids"], datetime.now(UTC)
    r02 = Scope("region", ("R02",))

    assert data_access.breached_cases(r02, now)["case_id"].tolist() == [ids["R"]]
    assert set(data_access.failed_notifications(r02)["case_id"]) == {ids["R"]}
    assert data_access.loop_health_weeks(r02) == [W2]
    assert data_access.loop_health(r02, "store", (W1, W2))["store_id"].tolist() == ["S003"]
    # R02's not-worked rate rests on 20 judged detractors, under the 30 a reported figure needs
    assert data_access.case_recovery(r02)["return_rate_30d"].tolist() == pytest.approx(
        [0.971429, float("nan")], nan_ok=True
    )
    nothing = Scope("region", ())  # a half-built scope fails closed
    assert data_access.breached_cases(nothing, now).empty
    assert data_access.failed_notifications(nothing).empty
    assert data_access.loop_health(nothing, "region", (W1, W2)).empty
    assert data_access.loop_digest(nothing, loop_marts_home["yesterday"], now)["opened"] == 0
