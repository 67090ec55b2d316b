"""Cases from rules to closure on the shipped alerts.yaml: opened once per feedback item, historical
ones silent, messages delivered to real loopback servers once, escalation and the digest driven by a
clock the test controls, and the `cxlake cases` commands on the same store."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from cxlake.access.audit import AuditLog
from cxlake.alerts.cases import CaseError, CaseStore
from cxlake.alerts.clock import tick
from cxlake.alerts.config import AlertConfigError, load_alert_config
from cxlake.alerts.outbox import dispatch_pending, notifications
from cxlake.app_state import AppState
from cxlake.cli import app

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 6, 10, 0, tzinfo=SHANGHAI)


def survey_item(response_id: str, nps: int | None, minutes_ago: float = 30, **extra) -> dict:
    item = {
        "source": "survey",
        "survey_id": "SV_cxlakeApp",
        "response_id": response_id,
        "feedback_at": NOW - timedelta(minutes=minutes_ago),
        "store_id": "S001",
        "store_name": "栖云咖啡(上海静安寺店)",
        "region_id": "R01",
        "region_name": "华东",
        "channel": "app",
        "transaction_id": f"T{response_id}",
        "customer_id": f"C{response_id}",
        "member_tier": "basic",
        "spend_90d": 80.0,
        "visits_90d": 3,
        "tenure_days": 400,
        "past_nps_scores": "9,8",
        "nps_score": nps,
        "lowest_csat_score": 4,
        "lowest_csat_touchpoint": "taste",
        "text": "等了四十分钟，打电话 13812345678 也没人接",
        "sentiment_label": "negative",
        "aspects": "speed:negative",
        "staff_name": "李娜",
    }
    return item | extra


@pytest.fixture
def store(tmp_path: Path) -> CaseStore:
    return CaseStore(AppState(tmp_path / "app_state.sqlite"), clock=lambda: NOW)


@pytest.fixture
def config():
    return load_alert_config()


@pytest.fixture
def environ(smtp_server, webhook_server) -> dict[str, str]:
    return {
        "CXLAKE_SMTP_HOST": smtp_server.host,
        "CXLAKE_SMTP_PORT": str(smtp_server.port),
        "CXLAKE_WECOM_WEBHOOK_URL": webhook_server.url("/wecom"),
        "CXLAKE_DINGTALK_WEBHOOK_URL": webhook_server.url("/dingtalk"),
        "CXLAKE_DINGTALK_SECRET": "SEC-test-secret",
        "CXLAKE_SLACK_WEBHOOK_URL": webhook_server.url("/slack"),
    }


def no_sleep(seconds: float) -> None:
    return None


def test_the_first_matching_rule_names_the_case_and_every_match_is_listed(store, config):
    opened = store.open_cases(
        [
            survey_item("1", nps=1),
            survey_item("2", nps=5, member_tier="gold"),
            survey_item("3", nps=6, text="还可以", sentiment_label="neutral", aspects=""),
            survey_item("4", nps=9, lowest_csat_score=2, text="", sentiment_label=None, aspects=""),
            survey_item("5", nps=10, text="很好", sentiment_label="positive", aspects=""),
            survey_item("6", nps=None, text="", sentiment_label=None, aspects="", lowest_csat_score=None),
        ],
        config,
        NOW,
    )
    by_response = {case.response_id: case for case in opened.opened}
    assert set(by_response) == {"1", "2", "3", "4"}
    assert (by_response["1"].rule_id, by_response["1"].severity) == ("very_low_score", "high")
    assert by_response["1"].matched_rules == ("very_low_score", "detractor")
    assert (by_response["2"].rule_id, by_response["2"].severity) == ("high_value_detractor", "high")
    assert by_response["3"].rule_id == "detractor"
    assert (by_response["4"].rule_id, by_response["4"].severity) == ("low_touchpoint_csat", "low")
    # very_low_score promises an acknowledgement within 1 h, the rest the default 2 h / 48 h.
    assert by_response["1"].ack_due_at == (NOW + timedelta(hours=1)).astimezone(UTC).isoformat()
    assert by_response["3"].ack_due_at == (NOW + timedelta(hours=2)).astimezone(UTC).isoformat()
    assert by_response["3"].resolve_due_at == (NOW + timedelta(hours=48)).astimezone(UTC).isoformat()
    assert by_response["1"].owner == "store_manager:S001"


def test_a_negative_review_and_a_staff_complaint_open_cases(store, config):
    review = {
        "source": "review",
        "platform": "dianping",
        "review_id": "88",
        "feedback_at": NOW - timedelta(hours=1),
        "store_id": "S001",
        "region_id": "R01",
        "rating": 4,
        "text": "店员态度很差",
        "sentiment_label": "negative",
        "aspects": "staff:negative",
    }
    staff = survey_item("7", nps=8, text="店员态度很差", aspects="staff:negative", lowest_csat_score=3)
    opened = store.open_cases([review, staff], config, NOW).opened
    assert {(c.subject_key, c.rule_id) for c in opened} == {
        ("review:dianping:88", "negative_review"),
        ("survey:SV_cxlakeApp:7", "negative_staff_or_hygiene"),
    }


def test_a_rerun_opens_no_second_case_and_queues_no_second_message(store, config):
    first = store.open_cases([survey_item("1", nps=1)], config, NOW)
    again = store.open_cases(
        [survey_item("1", nps=1), survey_item("1", nps=0)], config, NOW + timedelta(days=1)
    )
    assert len(first.opened) == 1 and first.notifications_queued == 2  # e-mail + store group robot
    assert again.opened == () and again.already_open == 2 and again.notifications_queued == 0
    assert len(store.cases()) == 1 and len(notifications(store)) == 2


def test_feedback_older_than_the_horizon_opens_a_silent_historical_case(store, config):
    old = survey_item("1", nps=0, minutes_ago=60 * 24 * 30)
    opened = store.open_cases([old], config, NOW)
    case = opened.opened[0]
    assert case.is_historical and opened.notifications_queued == 0
    # Its clocks run from the feedback: it is a record of the past, not a fresh breach.
    assert case.ack_due_at == (old["feedback_at"] + timedelta(hours=1)).astimezone(UTC).isoformat()
    assert store.escalate_overdue(config, NOW) == []


def test_messages_reach_the_loopback_servers_once(store, config, environ, smtp_server, webhook_server):
    store.open_cases([survey_item("1", nps=1)], config, NOW)
    result = dispatch_pending(store, config, NOW, environ=environ, sleep=no_sleep)
    assert (result.sent, result.failed) == (2, 0)
    mail = smtp_server.wait_for(1)[0]
    assert mail.rcpt_tos == ("manager.S001@stores.example.com",)
    body = mail.body()
    assert "栖云咖啡(上海静安寺店)" in body and "NPS 1" in body
    assert "13812345678" not in body  # contact details leave cxlake masked
    case_id = store.cases()[0].case_id
    assert f"/feedback?case={case_id}" in body
    posted = webhook_server.wait_for(1)[0]
    assert posted.path == "/wecom" and posted.json["msgtype"] == "markdown"
    assert (
        dispatch_pending(store, config, NOW + timedelta(minutes=20), environ=environ, sleep=no_sleep).sent
        == 0
    )
    assert len(smtp_server.received) == 1 and len(webhook_server.requests) == 1


def test_a_server_that_fails_twice_gets_the_message_on_the_third_try(
    store, config, environ, smtp_server, webhook_server
):
    smtp_server.reply_next("451 4.3.0 Try again later", "451 4.3.0 Try again later")
    webhook_server.fail_first(2)
    waits: list[float] = []
    store.open_cases([survey_item("1", nps=1)], config, NOW)
    result = dispatch_pending(store, config, NOW, environ=environ, sleep=waits.append)
    assert (result.sent, result.failed) == (2, 0)
    assert {n.attempts for n in notifications(store)} == {3}
    assert waits == [5.0, 10.0, 5.0, 10.0]  # backoff_seconds 5 of alerts.yaml, doubling


def test_a_server_that_never_accepts_leaves_a_recorded_failure_and_the_case(
    store, config, environ, smtp_server, webhook_server
):
    smtp_server.refuse_always("451 4.3.0 Try again later")
    webhook_server.fail_always(503)
    store.open_cases([survey_item("1", nps=1)], config, NOW)
    result = dispatch_pending(store, config, NOW, environ=environ, sleep=no_sleep)
    assert (result.sent, result.failed) == (0, 2)
    failed = notifications(store)
    assert {n.status for n in failed} == {"failed"} and {n.attempts for n in failed} == {4}
    assert all(n.last_error for n in failed)
    assert "SEC-test-secret" not in " ".join(n.last_error or "" for n in failed)
    assert store.cases()[0].status == "open"


def test_an_unconfigured_channel_is_a_recorded_failure(store, config):
    store.open_cases([survey_item("1", nps=1)], config, NOW)
    result = dispatch_pending(store, config, NOW, environ={}, sleep=no_sleep)
    assert (result.sent, result.failed) == (0, 2)
    errors = {n.channel: n.last_error for n in notifications(store)}
    assert errors == {
        "email": "channel 'email' is not configured: CXLAKE_SMTP_HOST not set",
        "store_group": "channel 'store_group' is not configured: CXLAKE_WECOM_WEBHOOK_URL not set",
    }


def test_escalation_when_the_acknowledge_sla_passes(store, config, environ, smtp_server, webhook_server):
    store.open_cases([survey_item("1", nps=3), survey_item("2", nps=4)], config, NOW)
    acknowledged = store.cases(status=["open"])[1]
    store.acknowledge(acknowledged.case_id, "wang", at=NOW + timedelta(minutes=30))
    early = tick(store, config, NOW + timedelta(minutes=119), environ=environ, sleep=no_sleep)
    assert early.escalated == ()
    late = tick(store, config, NOW + timedelta(hours=2, minutes=1), environ=environ, sleep=no_sleep)
    assert len(late.escalated) == 1
    case = store.get(late.escalated[0])
    assert case.status == "escalated" and case.owner == "regional_manager:R01"
    assert case.ack_breached(NOW + timedelta(hours=3))
    assert not store.get(acknowledged.case_id).ack_breached(NOW + timedelta(hours=3))
    escalations = [n for n in notifications(store) if n.kind == "escalation"]
    assert {(n.channel, n.recipient, n.status) for n in escalations} == {
        ("email", "manager.R01@regions.example.com", "sent"),
        ("region_group", None, "sent"),
    }
    assert any(r.path == "/dingtalk" for r in webhook_server.requests)
    escalation_mail = next(m for m in smtp_server.received if "manager.R01@regions.example.com" in m.rcpt_tos)
    assert "acknowledge SLA passed 1 min ago" in escalation_mail.body()  # due NOW + 2 h, seen 1 min late
    assert tick(store, config, NOW + timedelta(hours=5), environ=environ, sleep=no_sleep).escalated == ()


def test_the_digest_goes_out_once_a_day_after_its_hour(store, config, environ, smtp_server, webhook_server):
    yesterday = NOW - timedelta(days=1)
    store.open_cases([survey_item("1", nps=1, minutes_ago=60 * 24 + 30)], config, yesterday)
    case = store.cases()[0]
    store.resolve(
        case.case_id, "wang", "recovered", contact_method="phone", at=yesterday + timedelta(hours=3)
    )
    before = tick(store, config, NOW.replace(hour=7, minute=59), environ=environ, sleep=no_sleep)
    assert before.digest_day is None
    after = tick(store, config, NOW.replace(hour=8, minute=1), environ=environ, sleep=no_sleep)
    assert after.digest_day == "2026-12-05"
    assert tick(store, config, NOW.replace(hour=9), environ=environ, sleep=no_sleep).digest_day is None
    digests = [n for n in notifications(store) if n.kind == "digest"]
    assert {(n.channel, n.status) for n in digests} == {("email", "sent"), ("director_slack", "sent")}
    director = [m for m in smtp_server.received if m.rcpt_tos == ("cx.director@example.com",)]
    assert len(director) == 1


def test_case_actions_are_recorded_and_audited(store, config):
    store.open_cases([survey_item("1", nps=2)], config, NOW)
    case_id = store.cases()[0].case_id
    store.record_contact(case_id, "wang", "phone", "apologised, coupon sent", at=NOW + timedelta(minutes=40))
    store.add_comment(case_id, "wang", "customer will come back on Friday")
    resolved = store.resolve(case_id, "wang", "recovered", at=NOW + timedelta(hours=5))
    assert (resolved.status, resolved.resolution_code, resolved.customer_contacted) == (
        "resolved",
        "recovered",
        True,
    )
    assert resolved.acknowledged_by == "wang" and not resolved.ack_breached(NOW + timedelta(days=1))
    assert [e.action for e in store.events(case_id)] == [
        "opened",
        "contacted",
        "acknowledged",
        "commented",
        "resolved",
    ]
    audited = {e.action for e in AuditLog(store.state).events(actor="wang")}
    assert audited == {"case_contacted", "case_commented", "case_resolved"}
    with pytest.raises(CaseError, match="resolved"):
        store.acknowledge(case_id, "wang")
    with pytest.raises(CaseError, match="resolution"):
        store.resolve(case_id, "wang", "made_up")


def test_invitations_leave_alone_whoever_had_a_case_open_at_the_time(store, config):
    store.open_cases([survey_item("1", nps=1), survey_item("2", nps=0)], config, NOW)
    store.resolve(store.cases()[0].case_id, "wang", "recovered", at=NOW + timedelta(hours=5))
    resolved_customer = "C" + store.cases()[0].response_id
    assert store.customers_with_open_case(NOW - timedelta(minutes=1)) == set()  # not opened yet
    assert store.customers_with_open_case(NOW + timedelta(hours=1)) == {"C1", "C2"}
    assert store.customers_with_open_case(NOW + timedelta(hours=6)) == {"C1", "C2"} - {resolved_customer}


def test_cases_cli_lists_and_works_the_same_store(tmp_path, config, monkeypatch):
    monkeypatch.setenv("CXLAKE_HOME", str(tmp_path))
    store = CaseStore(AppState(tmp_path / "app_state.sqlite"))
    store.open_cases([survey_item("1", nps=1), survey_item("2", nps=5)], config, datetime.now(UTC))
    runner = CliRunner()
    listed = runner.invoke(app, ["cases", "list", "--format", "csv", "--status", "open"])
    assert listed.exit_code == 0, listed.output
    rows = list(csv.DictReader(io.StringIO(listed.stdout)))
    assert [r["response_id"] for r in rows] == ["1", "2"] or [r["response_id"] for r in rows] == ["2", "1"]
    assert set(rows[0]) >= {
        "case_id",
        "rule",
        "severity",
        "survey_id",
        "response_id",
        "store_id",
        "owner",
        "status",
        "is_historical",
        "opened_at",
        "ack_due_at",
        "acknowledged_at",
        "resolved_at",
    }
    case_id = next(r["case_id"] for r in rows if r["response_id"] == "1")
    acked = runner.invoke(app, ["cases", "ack", case_id, "--by", "wang"])
    assert acked.exit_code == 0 and f"{case_id}: acknowledged" in acked.stdout
    resolved = runner.invoke(
        app, ["cases", "resolve", case_id, "--by", "wang", "--code", "recovered", "--contacted", "phone"]
    )
    assert resolved.exit_code == 0, resolved.output
    still_open = runner.invoke(app, ["cases", "list", "--format", "csv", "--status", "open"])
    assert [r["response_id"] for r in csv.DictReader(io.StringIO(still_open.stdout))] == ["2"]
    refused = runner.invoke(app, ["cases", "ack", case_id, "--by", "wang"])
    assert refused.exit_code == 1 and "is resolved" in refused.stderr


def test_alerts_yaml_mistakes_name_the_rule_and_key(tmp_path):
    bad = tmp_path / "alerts.yaml"
    shipped = load_alert_config().source_file.read_text(encoding="utf-8")
    bad.write_text(shipped.replace("nps_at_most: 2}", "nps_below: 2}", 1), encoding="utf-8")
    with pytest.raises(
        AlertConfigError,
        match=r"alerts.yaml: rule very_low_score: conditions\[0\]: unknown condition 'nps_below'",
    ):
        load_alert_config(bad)
    bad.write_text(shipped.replace("ack_sla: 1h", "ack_sla: soon", 1), encoding="utf-8")
    with pytest.raises(AlertConfigError, match="rule very_low_score: ack_sla: 'soon' is not a duration"):
        load_alert_config(bad)
