"""Accounts on a real SQLite app-state store: argon2 hashes, sign-in, lockout, sessions and the audit log.

Time is a hand-moved clock, so expiry and lockout windows are exact and the tests never sleep. Most
tests use a cheap argon2 setting (the default one costs about 0.3 s per check on a busy machine);
the tests about hashing itself use the default.
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from cxlake.access.accounts import AccountError, Accounts, SignInError
from cxlake.access.audit import AuditLog
from cxlake.access.roles import Principal
from cxlake.app_state import AppState

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PASSWORD = "correct horse battery"
OTHER_PASSWORD = "another long password"


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, minutes: float) -> None:
        self.now += timedelta(minutes=minutes)


@pytest.fixture
def state(tmp_path: Path) -> AppState:
    return AppState(tmp_path / "app_state.sqlite")


@pytest.fixture
def clock() -> Clock:
    return Clock()


FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture
def accounts(state: AppState, clock: Clock) -> Accounts:
    return Accounts(state, clock=clock, hasher=FAST_HASHER)


@pytest.fixture
def default_accounts(state: AppState, clock: Clock) -> Accounts:
    return Accounts(state, clock=clock)


def stored(state: AppState, sql: str, *parameters: object) -> list[tuple]:
    with closing(sqlite3.connect(state.path)) as connection:
        return connection.execute(sql, parameters).fetchall()


def refusal(accounts: Accounts, name: str, password: str) -> str:
    with pytest.raises(SignInError) as caught:
        accounts.sign_in(name, password)
    return str(caught.value)


def test_hashes_are_argon2id_and_salted_so_equal_passwords_hash_differently(default_accounts, state):
    accounts = default_accounts
    accounts.add("ana", "analyst", PASSWORD)
    accounts.add("bo", "analyst", PASSWORD)
    hashes = [row[0] for row in stored(state, "select password_hash from accounts order by name")]
    assert all(value.startswith("$argon2id$") for value in hashes)
    assert hashes[0] != hashes[1]
    assert not any(PASSWORD in value for value in hashes)


def test_sign_in_gives_a_token_that_names_the_principal_and_is_stored_only_hashed(accounts, state):
    accounts.add("mgr", "store_manager", PASSWORD, scope_id="S001")
    session = accounts.sign_in("mgr", PASSWORD)
    assert session.principal == Principal("mgr", "store_manager", "S001")
    assert session.expires_at == START + timedelta(minutes=480)
    assert accounts.principal(session.token) == Principal("mgr", "store_manager", "S001")
    assert stored(state, "select token_sha256 from sessions") == [
        (hashlib.sha256(session.token.encode()).hexdigest(),)
    ]


def test_names_are_matched_without_regard_to_case_and_the_stored_spelling_wins(accounts):
    accounts.add("Ana", "analyst", PASSWORD)
    assert accounts.sign_in("ana", PASSWORD).principal.name == "Ana"


@pytest.mark.parametrize(
    ("name", "password"),
    [
        ("ana", "wrong password here"),  # a known name with the wrong password
        ("nobody", PASSWORD),  # an unknown name must not be told apart from a wrong password
        ("", PASSWORD),  # an empty form
    ],
)
def test_wrong_password_and_unknown_name_get_the_same_message(accounts, name, password):
    accounts.add("ana", "analyst", PASSWORD)
    assert refusal(accounts, name, password) == "wrong name or password"


def test_an_unknown_name_takes_about_as_long_as_a_wrong_password(default_accounts):
    accounts = default_accounts
    # Without the dummy hash an unknown name answers in microseconds, a known one in tens of ms.
    accounts.add("ana", "analyst", PASSWORD)

    def fastest(name: str) -> float:
        durations = []
        for _ in range(3):
            began = time.perf_counter()
            with pytest.raises(SignInError):
                accounts.sign_in(name, "wrong password here")
            durations.append(time.perf_counter() - began)
        return min(durations)

    known, unknown = fastest("ana"), fastest("nobody")
    assert unknown > 0.4 * known


def test_five_failures_lock_even_the_right_password_until_the_window_ends(accounts, clock):
    accounts.add("ana", "analyst", PASSWORD)
    for _ in range(5):
        assert refusal(accounts, "ana", "wrong password here") == "wrong name or password"
        clock.advance(1)
    # the fifth failure (minute 4) locks until minute 19; this is minute 5
    assert refusal(accounts, "ana", PASSWORD) == "locked, try again in 14 minutes"
    clock.advance(13)
    assert refusal(accounts, "ana", PASSWORD) == "locked, try again in 1 minutes"
    clock.advance(1)
    assert accounts.sign_in("ana", PASSWORD).principal.name == "ana"


def test_an_unknown_name_is_locked_out_exactly_like_a_real_account(accounts, clock, state):
    # Before: only real accounts ever answered "locked", so five tries told an attacker which names
    # exist. Now both answer the same words at every step of the streak and after it.
    accounts.add("ana", "analyst", PASSWORD)
    answers = {}
    for name in ("ana", "nobody"):
        seen = [refusal(accounts, name, "wrong password here") for _ in range(5)]
        seen += [refusal(accounts, name, PASSWORD if name == "ana" else "any password at all")]
        answers[name] = seen
    assert answers["ana"] == answers["nobody"]
    assert answers["nobody"][-1] == "locked, try again in 15 minutes"
    # Names are compared without ASCII case for both, and only a hash of an unknown one is kept.
    assert refusal(accounts, "NOBODY", "x" * 12) == "locked, try again in 15 minutes"
    keys = stored(state, "select name_key from sign_in_failures")
    assert keys == [(hashlib.sha256(b"nobody").hexdigest(),)]
    clock.advance(15)
    assert refusal(accounts, "nobody", "any password at all") == "wrong name or password"
    assert accounts.sign_in("ana", PASSWORD).principal.name == "ana"


def test_finished_streaks_of_unknown_names_are_not_kept(accounts, clock, state):
    refusal(accounts, "typo1", PASSWORD)
    clock.advance(16)  # typo1's streak is over and it never locked
    refusal(accounts, "typo2", PASSWORD)
    assert stored(state, "select count(*) from sign_in_failures") == [(1,)]


def test_a_locked_account_answers_as_slowly_as_an_unknown_name(default_accounts):
    accounts = default_accounts
    # The locked answer used to skip the hash: microseconds against tens of ms told it apart.
    accounts.add("ana", "analyst", PASSWORD)
    for _ in range(5):
        refusal(accounts, "ana", "wrong password here")

    def fastest(name: str) -> float:
        durations = []
        for _ in range(3):
            began = time.perf_counter()
            with pytest.raises(SignInError):
                accounts.sign_in(name, "wrong password here")
            durations.append(time.perf_counter() - began)
        return min(durations)

    locked, unknown = fastest("ana"), fastest("nobody")
    assert locked > 0.4 * unknown and unknown > 0.4 * locked


def test_failures_spread_wider_than_the_window_do_not_lock(accounts, clock):
    accounts.add("ana", "analyst", PASSWORD)
    for _ in range(4):
        refusal(accounts, "ana", "wrong password here")
    clock.advance(16)  # the streak started more than lockout_minutes ago: the fifth starts a new one
    refusal(accounts, "ana", "wrong password here")
    assert accounts.sign_in("ana", PASSWORD).principal.name == "ana"


def test_a_successful_sign_in_resets_the_failure_count(accounts):
    accounts.add("ana", "analyst", PASSWORD)
    for _ in range(4):
        refusal(accounts, "ana", "wrong password here")
    accounts.sign_in("ana", PASSWORD)
    for _ in range(4):
        refusal(accounts, "ana", "wrong password here")
    assert accounts.sign_in("ana", PASSWORD).principal.name == "ana"


def test_lockout_settings_come_from_the_constructor(state, clock):
    accounts = Accounts(state, clock=clock, max_failures=2, lockout_minutes=1, hasher=FAST_HASHER)
    accounts.add("ana", "analyst", PASSWORD)
    refusal(accounts, "ana", "wrong password here")
    refusal(accounts, "ana", "wrong password here")
    assert refusal(accounts, "ana", PASSWORD) == "locked, try again in 1 minutes"
    clock.advance(1)
    accounts.sign_in("ana", PASSWORD)


def test_a_session_ends_after_session_minutes_even_when_used(accounts, clock):
    accounts.add("ana", "analyst", PASSWORD)
    token = accounts.sign_in("ana", PASSWORD).token
    for _ in range(15):  # used every 30 minutes: never idle, 450 minutes in
        clock.advance(30)
        assert accounts.principal(token) is not None
    clock.advance(29)
    assert accounts.principal(token) is not None  # 479 minutes
    clock.advance(1)
    assert accounts.principal(token) is None  # 480 minutes: expired
    clock.advance(-10)
    assert accounts.principal(token) is None  # and gone for good, not just late


def test_a_session_idle_longer_than_idle_minutes_ends(accounts, clock):
    accounts.add("ana", "analyst", PASSWORD)
    token = accounts.sign_in("ana", PASSWORD).token
    clock.advance(59)
    assert accounts.principal(token) is not None  # and that use restarts the idle timer
    clock.advance(59)
    assert accounts.principal(token) is not None
    clock.advance(60)
    assert accounts.principal(token) is None


@pytest.mark.parametrize("token", ["", "not-a-token"])
def test_an_unknown_token_names_nobody(accounts, token):
    assert accounts.principal(token) is None


def test_sign_out_ends_the_session(accounts):
    accounts.add("ana", "analyst", PASSWORD)
    token = accounts.sign_in("ana", PASSWORD).token
    accounts.sign_out(token)
    accounts.sign_out(token)  # a second click is harmless
    assert accounts.principal(token) is None


def test_disable_ends_sessions_and_refuses_sign_in(accounts):
    accounts.add("ana", "analyst", PASSWORD)
    token = accounts.sign_in("ana", PASSWORD).token
    assert accounts.disable("ana").disabled is True
    assert accounts.principal(token) is None
    assert refusal(accounts, "ana", PASSWORD) == "account disabled"
    # only the right password learns that the account is disabled
    assert refusal(accounts, "ana", "wrong password here") == "wrong name or password"


def test_set_password_ends_sessions_lifts_the_lockout_and_retires_the_old_password(accounts):
    accounts.add("ana", "analyst", PASSWORD)
    token = accounts.sign_in("ana", PASSWORD).token
    for _ in range(5):
        refusal(accounts, "ana", "wrong password here")
    accounts.set_password("ana", OTHER_PASSWORD)
    assert accounts.principal(token) is None
    assert refusal(accounts, "ana", PASSWORD) == "wrong name or password"
    assert accounts.sign_in("ana", OTHER_PASSWORD).principal.name == "ana"


def test_reset_makes_an_existing_account_exactly_as_given_and_enabled(accounts):
    accounts.add("mgr", "store_manager", PASSWORD, scope_id="S001")
    accounts.disable("mgr")
    account = accounts.reset("mgr", "regional_manager", OTHER_PASSWORD, scope_id="R01")
    assert (account.role, account.scope_id, account.disabled) == ("regional_manager", "R01", False)
    assert accounts.sign_in("mgr", OTHER_PASSWORD).principal.scope_id == "R01"


def test_a_hash_made_with_weaker_settings_is_upgraded_at_sign_in(default_accounts, state):
    accounts = default_accounts
    accounts.add("ana", "analyst", PASSWORD)
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    with closing(sqlite3.connect(state.path)) as connection, connection:
        connection.execute("update accounts set password_hash = ? where name = 'ana'", [weak])
    accounts.sign_in("ana", PASSWORD)
    [(upgraded,)] = stored(state, "select password_hash from accounts where name = 'ana'")
    assert upgraded != weak
    assert not PasswordHasher().check_needs_rehash(upgraded)
    accounts.sign_in("ana", PASSWORD)


@pytest.mark.parametrize(
    ("name", "role", "password", "scope_id", "message"),
    [
        ("x1", "superuser", PASSWORD, None, "unknown role 'superuser'"),
        ("x2", "regional_manager", PASSWORD, None, "needs a scope id \\(a region id\\)"),
        ("x3", "store_manager", PASSWORD, "  ", "needs a scope id \\(a store id\\)"),  # blank is missing
        ("x4", "admin", PASSWORD, "R01", "takes no scope id"),  # an all-scope role with a scope id
        ("x5", "analyst", "", None, "at least 12 characters"),
        ("x6", "analyst", "short", None, "at least 12 characters"),
        ("x7", "analyst", " " * 20, None, "at least 12 characters"),  # only blanks
        ("longname1234", "analyst", "LONGNAME1234", None, "cannot be the account's name"),
        ("two words", "analyst", PASSWORD, None, "without spaces"),
        ("", "analyst", PASSWORD, None, "without spaces"),
    ],
)
def test_add_refuses_bad_input_with_a_clear_message(accounts, name, role, password, scope_id, message):
    with pytest.raises(AccountError, match=message):
        accounts.add(name, role, password, scope_id)
    assert accounts.list() == []


def test_add_refuses_a_duplicate_name_whatever_its_case(accounts):
    accounts.add("ana", "analyst", PASSWORD)
    with pytest.raises(AccountError, match="already exists"):
        accounts.add("ANA", "steward", PASSWORD)
    assert [(account.name, account.role) for account in accounts.list()] == [("ana", "analyst")]


@pytest.mark.parametrize("change", ["disable", "set_password"])
def test_changing_an_unknown_account_is_refused(accounts, change):
    with pytest.raises(AccountError, match="no account named 'ghost'"):
        if change == "disable":
            accounts.disable("ghost")
        else:
            accounts.set_password("ghost", PASSWORD)


def test_list_and_get_show_accounts_without_secrets(accounts):
    accounts.add("mgr", "regional_manager", PASSWORD, scope_id="R01", by="root")
    accounts.add("ana", "analyst", PASSWORD)
    assert [(a.name, a.role, a.scope_id, a.disabled) for a in accounts.list()] == [
        ("ana", "analyst", None, False),
        ("mgr", "regional_manager", "R01", False),
    ]
    account = accounts.get("mgr")
    assert account is not None and account.created_at == START.isoformat(timespec="microseconds")
    assert account.principal.scope.ids == ("R01",)
    assert accounts.get("ghost") is None


def test_every_action_is_written_to_the_audit_log(accounts, clock):
    accounts.add("ana", "analyst", PASSWORD, by="root")
    token = accounts.sign_in("ana", PASSWORD).token
    accounts.sign_out(token)
    refusal(accounts, "nobody", PASSWORD)
    for _ in range(5):
        refusal(accounts, "ana", "wrong password here")
    refusal(accounts, "ana", PASSWORD)
    accounts.set_password("ana", OTHER_PASSWORD, by="root")
    accounts.disable("ana", by="root")
    events = [(e.actor, e.action, e.detail) for e in reversed(accounts.audit.events())]
    assert events == [
        ("root", "user_added", {"name": "ana", "role": "analyst", "scope_id": None}),
        (
            "ana",
            "sign_in",
            {"expires_at": (START + timedelta(minutes=480)).isoformat(timespec="microseconds")},
        ),
        ("ana", "sign_out", {}),
        ("nobody", "sign_in_failed", {"reason": "unknown_name"}),
        *[("ana", "sign_in_failed", {"reason": "wrong_password"})] * 4,
        (
            "ana",
            "locked",
            {"failures": 5, "until": (START + timedelta(minutes=15)).isoformat(timespec="microseconds")},
        ),
        ("ana", "sign_in_failed", {"reason": "wrong_password"}),
        ("ana", "sign_in_failed", {"reason": "locked"}),
        ("root", "password_set", {"name": "ana"}),
        ("root", "user_disabled", {"name": "ana"}),
    ]


def test_audit_events_are_newest_first_and_filter_by_actor_action_and_limit(state, clock):
    log = AuditLog(state, clock=clock)
    log.record("ana", "sql_query", {"sql": "select 1", "rows": 1})
    clock.advance(1)
    log.record("bo", "export", {"file": "nps.csv", "at": START})  # a datetime is stored as text
    clock.advance(1)
    log.record("ana", "export", {"file": "leaderboard.xlsx"})
    assert [e.event_id for e in log.events()] == [3, 2, 1]
    assert [e.detail["file"] for e in log.events(action="export")] == ["leaderboard.xlsx", "nps.csv"]
    assert [e.action for e in log.events(actor="ana")] == ["export", "sql_query"]
    assert [e.event_id for e in log.events(limit=1)] == [3]
    assert log.events(actor="bo")[0].detail == {"file": "nps.csv", "at": str(START)}
    assert log.events(actor="bo")[0].at == (START + timedelta(minutes=1)).isoformat(timespec="microseconds")


@pytest.mark.parametrize(
    ("actor", "action", "message"),
    [("ana", "sql-query", "unknown audit action"), (" ", "export", "needs an actor")],
)
def test_audit_refuses_unknown_actions_and_blank_actors(state, actor, action, message):
    with pytest.raises(ValueError, match=message):
        AuditLog(state).record(actor, action)
    assert AuditLog(state).events() == []


@pytest.mark.parametrize(
    "statement", ["update audit_log set actor = 'someone else'", "delete from audit_log"]
)
def test_the_audit_log_is_append_only(state, statement):
    AuditLog(state).record("ana", "sql_query", {"sql": "select 1"})
    with (
        closing(sqlite3.connect(state.path)) as connection,
        connection,
        pytest.raises(sqlite3.IntegrityError, match="append-only"),
    ):
        connection.execute(statement)
    assert [(e.actor, e.detail) for e in AuditLog(state).events()] == [("ana", {"sql": "select 1"})]
