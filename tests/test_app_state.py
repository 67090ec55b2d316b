"""The app-state decision log: append-only, latest decision wins, survives warehouse rebuilds."""

from __future__ import annotations

import os
import sqlite3
import stat
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from cxlake.app_state import MIGRATIONS, AppState, DecisionError, QuarantineDecision


@pytest.fixture
def state(tmp_path: Path) -> AppState:
    return AppState(tmp_path / "app_state.sqlite")


def test_a_decision_is_returned_as_recorded_with_who_and_when(state):
    decision = state.record_decision(
        "crm_customers", "customers.csv", 12, "release", " steward.li ", corrections={"member_tier": "gold"}
    )
    assert decision == QuarantineDecision(
        raw_table="crm_customers",
        source_file="customers.csv",
        source_row=12,
        decision="release",
        corrections={"member_tier": "gold"},
        reason=None,
        decided_by="steward.li",
        decided_at=decision.decided_at,
    )
    assert datetime.fromisoformat(decision.decided_at).utcoffset().total_seconds() == 0
    assert state.decision_history() == [decision]


def test_every_decision_is_kept_and_the_latest_per_row_wins(state):
    state.record_decision("crm_customers", "customers.csv", 8, "release", "li")
    state.record_decision("crm_customers", "customers.csv", 12, "release", "li", corrections={"city": "上海"})
    state.record_decision("crm_customers", "customers.csv", 8, "reject", "wang", reason="fake phone")
    state.record_decision("reviews", "dianping.json", 8, "reject", "wang", reason="spam")

    history = state.decision_history("crm_customers")
    assert [(d.source_row, d.decision, d.decided_by) for d in history] == [
        (8, "release", "li"),
        (12, "release", "li"),
        (8, "reject", "wang"),
    ]
    assert len(state.decision_history()) == 4
    latest = state.latest_decisions("crm_customers")
    assert {key: d.decision for key, d in latest.items()} == {
        ("customers.csv", 8): "reject",
        ("customers.csv", 12): "release",
    }
    assert latest[("customers.csv", 12)].corrections == {"city": "上海"}
    # the same file name and line in another table is another row
    assert set(state.latest_decisions("reviews")) == {("dianping.json", 8)}


def test_the_log_refuses_updates_and_deletes_even_from_sql(state):
    state.record_decision("crm_customers", "customers.csv", 8, "release", "li")
    with sqlite3.connect(state.path) as connection:
        for statement in (
            "update quarantine_decisions set decision = 'reject'",
            "delete from quarantine_decisions",
        ):
            with pytest.raises(sqlite3.IntegrityError, match="append-only"):
                connection.execute(statement)
    assert [d.decision for d in state.decision_history()] == ["release"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(decision="reject"), "reject needs a reason"),
        (dict(decision="reject", reason="   "), "reject needs a reason"),  # blank is no reason
        (dict(decision="reject", reason="dup", corrections={"city": "x"}), "only a release"),
        (dict(decision="approve"), "decision must be one of"),
        (dict(decision="release", decided_by=" "), "who made it"),
        (dict(decision="release", corrections={"city": 3}), "text values"),  # raw tables are all text
        # the loader would otherwise move the row to another file or line
        (dict(decision="release", corrections={"_source_row": "1"}), "lineage columns"),
    ],
    ids=[
        "reject-no-reason",
        "reject-blank-reason",
        "reject-corrections",
        "unknown-kind",
        "no-name",
        "non-text",
        "lineage",
    ],
)
def test_invalid_decisions_are_refused_and_not_stored(state, kwargs, message):
    arguments = {"decided_by": "li", **kwargs}
    with pytest.raises(DecisionError, match=message):
        state.record_decision("crm_customers", "customers.csv", 8, **arguments)
    assert state.decision_history() == []


def test_decisions_survive_a_rebuilt_warehouse_and_a_reopened_store(tmp_path):
    home = tmp_path / "data"
    first = AppState(home / "app_state.sqlite")
    first.record_decision("pos_transactions", "transactions.csv", 3, "reject", "li", reason="negative amount")
    # The warehouse is rebuilt from landing/: a brand-new DuckDB file replaces the old one.
    duckdb.connect(str(home / "warehouse.duckdb")).close()
    (home / "warehouse.duckdb").unlink()
    duckdb.connect(str(home / "warehouse.duckdb")).close()

    reopened = AppState(home / "app_state.sqlite")  # a second open must not re-run the migrations
    assert [(d.source_row, d.reason) for d in reopened.latest_decisions("pos_transactions").values()] == [
        (3, "negative amount")
    ]
    with sqlite3.connect(reopened.path) as connection:
        applied = connection.execute("select version from schema_migrations order by version").fetchall()
        assert applied == [(version,) for version, _ in MIGRATIONS]


def test_the_default_path_is_read_from_cxlake_home_when_called(tmp_path, monkeypatch):
    monkeypatch.setenv("CXLAKE_HOME", str(tmp_path / "home"))
    assert AppState().path == tmp_path / "home" / "app_state.sqlite"
    assert AppState().path.is_file()


def test_the_store_and_a_folder_it_makes_are_owner_only_whatever_the_umask(tmp_path):
    # Password hashes and cases were 0644 under a 0755 data folder: any local user could read them.
    previous = os.umask(0o022)
    try:
        state = AppState(tmp_path / "new_home" / "app_state.sqlite")
        state.record_decision("raw.x", "f.csv", 1, "release", "steward")
    finally:
        os.umask(previous)
    assert stat.S_IMODE(state.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(state.path.parent.stat().st_mode) == 0o700
    assert [d.source_row for d in AppState(state.path).decision_history()] == [1]


def test_a_store_of_an_older_version_keeps_its_messages_and_takes_run_failure_notices(tmp_path):
    path = tmp_path / "app_state.sqlite"
    with sqlite3.connect(path) as connection:  # the store as migrations 1-4 left it
        connection.execute("create table schema_migrations (version integer primary key, applied_at text)")
        for version, statements in MIGRATIONS[:4]:
            for statement in statements:
                connection.execute(statement)
            connection.execute("insert into schema_migrations values (?, 'then')", [version])
        connection.execute(
            "insert into notifications (dedupe_key, kind, channel, recipient, status, created_at,"
            " next_attempt_at, payload) values ('digest:2026-03-04:email:', 'digest', 'email', 'd@x.cn',"
            " 'sent', 't', 't', '{}')"
        )
    state = AppState(path)
    with state.transaction() as connection:
        kept = connection.execute("select dedupe_key, kind, status from notifications").fetchall()
        connection.execute(
            "insert into notifications (dedupe_key, kind, channel, status, created_at, next_attempt_at,"
            " payload) values ('run_failure:r1:email:', 'run_failure', 'email', 'pending', 't', 't', '{}')"
        )
        with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
            connection.execute(
                "insert into notifications (dedupe_key, kind, channel, status, created_at, next_attempt_at,"
                " payload) values ('x', 'gossip', 'email', 'pending', 't', 't', '{}')"
            )
        indexes = connection.execute("select name from sqlite_master where type = 'index'").fetchall()
    assert kept == [("digest:2026-03-04:email:", "digest", "sent")]
    assert ("notifications_by_status",) in indexes
