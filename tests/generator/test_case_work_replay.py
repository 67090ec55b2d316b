"""The demo replay on a real app-state store: planted case work lands at the planted times as the
store's manager, the last two days stay open for the live view, and a second replay does nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cxlake.alerts.cases import CaseStore
from cxlake.alerts.config import load_alert_config
from cxlake.app_state import AppState
from cxlake.generator.case_work import CaseWorkError, Replayed, load_case_work, replay_case_work

NOW = datetime(2026, 12, 6, 2, 0, tzinfo=UTC)


def detractor(response_id: str, days_ago: float) -> dict:
    return {
        "source": "survey",
        "survey_id": "SV_cxlakeApp",
        "response_id": response_id,
        "feedback_at": NOW - timedelta(days=days_ago),
        "store_id": "S001",
        "region_id": "R01",
        "customer_id": f"C{response_id}",
        "member_tier": "basic",
        "spend_90d": 50.0,
        "nps_score": 5,
    }


def plan(response_id: str, worked: bool, ack: int | None, contact: int | None, resolve: int | None) -> dict:
    return {
        "response_key": f"SV_cxlakeApp:{response_id}",
        "survey_id": "SV_cxlakeApp",
        "response_id": response_id,
        "store_id": "S001",
        "worked": worked,
        "ack_after_minutes": ack,
        "contact_after_minutes": contact,
        "resolve_after_minutes": resolve,
        "contact_method": "wechat" if contact is not None else None,
        "resolution_code": ("recovered" if worked else "could_not_reach") if resolve is not None else None,
    }


@pytest.fixture
def store(tmp_path: Path) -> CaseStore:
    store = CaseStore(AppState(tmp_path / "app_state.sqlite"), clock=lambda: NOW)
    items = [detractor("R1", 5), detractor("R2", 4), detractor("R3", 6), detractor("R4", 1)]
    store.open_cases(items, load_alert_config(), NOW - timedelta(minutes=5))
    return store


def test_planted_work_lands_at_the_planted_times_and_recent_cases_stay_open(store):
    case_work = [
        plan("R1", True, 45, 70, 600),  # worked: acknowledged, called back on WeChat, recovered
        plan("R2", False, 90, None, 700),  # tried, could not reach the customer
        plan("R3", False, None, None, None),  # the store never touched it
        plan("R4", True, 10, 20, 30),  # a day old: left open for the live view
        plan("R9", True, 10, 20, 30),  # a response that opened no case
    ]
    done = replay_case_work(store, case_work, now=NOW)
    assert done == Replayed(acknowledged=2, contacted=1, resolved=2, too_recent=1, without_case=1)
    cases = {case.response_id: case for case in store.cases()}
    worked = cases["R1"]
    feedback = datetime.fromisoformat(worked.feedback_at)
    assert worked.status == "resolved" and worked.resolution_code == "recovered"
    assert worked.acknowledged_at == (feedback + timedelta(minutes=45)).isoformat()
    assert worked.resolved_at == (feedback + timedelta(minutes=600)).isoformat()
    assert worked.customer_contacted and worked.contact_method == "wechat"
    assert worked.acknowledged_by == worked.resolved_by == "store_S001"
    assert [e.action for e in store.events(worked.case_id)] == [
        "opened",
        "acknowledged",
        "contacted",
        "resolved",
    ]
    tried = cases["R2"]
    assert tried.resolution_code == "could_not_reach" and not tried.customer_contacted
    assert cases["R3"].status == cases["R4"].status == "open"
    assert replay_case_work(store, case_work, now=NOW) == Replayed(too_recent=1, without_case=1)


def test_work_planted_after_now_waits_for_a_later_replay(store):
    case_work = [plan("R4", True, 10, 20, 3000)]  # resolved 50 h after a feedback a day old
    early = replay_case_work(store, case_work, now=NOW, min_age=timedelta(hours=12))
    assert early == Replayed(not_yet_due=1)
    later = replay_case_work(store, case_work, now=NOW + timedelta(days=2), min_age=timedelta(hours=12))
    assert later == Replayed(acknowledged=1, contacted=1, resolved=1)


def test_a_truth_file_without_case_work_is_refused_by_name(tmp_path):
    old = tmp_path / "truth.json"
    old.write_text('{"planted": {}}', encoding="utf-8")
    with pytest.raises(CaseWorkError, match=r"truth\.json: no \"case_work\" list"):
        load_case_work(old)
    with pytest.raises(CaseWorkError, match="no such file"):
        load_case_work(tmp_path / "missing.json")
