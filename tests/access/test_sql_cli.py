"""`cxlake sql --user NAME "QUERY"` against a small serving copy and real accounts in CXLAKE_HOME.

Every run writes one audit row: ``sql_query`` when it printed rows, ``sql_refused`` otherwise, with
the statement as a bounded prefix, its length and its SHA-256.
"""

from __future__ import annotations

import csv
import hashlib
import io
from contextlib import closing
from pathlib import Path

import duckdb
import pytest
from click.testing import Result
from typer.testing import CliRunner

from cxlake.access.accounts import Accounts
from cxlake.access.audit import TEXT_CHARS, AuditLog
from cxlake.app_state import AppState
from cxlake.cli import app

PASSWORD = "correct horse battery"
SERVING_SQL = """
create schema marts;
create schema raw;
create table marts.dim_customer (customer_id varchar, home_store_id varchar, customer_name varchar,
    phone varchar, email varchar);
insert into marts.dim_customer values
    ('C1', 'S01', '王芳', '13800001234', 'wf@example.com'),
    ('C2', 'S02', '=cmd', '13900005678', 'll@example.org');
create table marts.fct_journeys (journey_id varchar, store_id varchar, region_id varchar, nps_score integer);
insert into marts.fct_journeys values ('J1', 'S01', 'R1', 10), ('J2', 'S01', 'R1', 3), ('J3', 'S02', 'R1', 9);
create table raw.crm_customers (customer_id varchar, phone varchar);
insert into raw.crm_customers values ('C1', '13800001234');
"""


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A CXLAKE_HOME with a serving copy and an analyst, a store manager and a disabled analyst."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("CXLAKE_HOME", str(home))
    with closing(duckdb.connect(str(home / "serving.duckdb"))) as connection:
        connection.execute(SERVING_SQL)
    accounts = Accounts(AppState(home / "app_state.sqlite"))
    accounts.add("ana", "analyst", PASSWORD)
    accounts.add("sam", "store_manager", PASSWORD, "S01")
    accounts.add("old", "analyst", PASSWORD)
    accounts.disable("old")
    return home


def run_sql(*args: str) -> Result:
    return CliRunner().invoke(app, ["sql", *args])


def logged(sql: str) -> dict[str, object]:
    """How the audit log holds ``sql``: a prefix, the length and the hash of the whole statement."""
    return {
        "sql": sql[:TEXT_CHARS],
        "sql_chars": len(sql),
        "sql_sha256": hashlib.sha256(sql.encode()).hexdigest(),
    }


def audit_events(home: Path, action: str) -> list[tuple[str, dict]]:
    log = AuditLog(AppState(home / "app_state.sqlite"))
    return [(event.actor, event.detail) for event in log.events(action=action)]


def test_an_analyst_gets_csv_with_masked_pii_and_an_audit_row(home: Path) -> None:
    query = "select customer_id, customer_name, phone, email from dim_customer order by customer_id"
    result = run_sql("--user", "ana", query)
    assert result.exit_code == 0, result.stderr
    assert list(csv.reader(io.StringIO(result.stdout))) == [
        ["customer_id", "customer_name", "phone", "email"],
        ["C1", "王**", "*******1234", "***@example.com"],
        # values as they are: the output is for scripts, not a spreadsheet
        ["C2", "=**", "*******5678", "***@example.org"],
    ]
    assert result.stderr == ""
    assert audit_events(home, "sql_query") == [("ana", {**logged(query), "rows": 2, "truncated": False})]
    assert audit_events(home, "sql_refused") == []


def test_the_row_cap_truncates_and_says_so_on_stderr(home: Path) -> None:
    query = "select journey_id from marts.fct_journeys order by 1"
    result = run_sql("--user", "ana", "--row-cap", "2", query)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == ["journey_id", "J1", "J2"]
    assert result.stderr.strip() == "note: only the first 2 rows are shown (--row-cap)"
    assert audit_events(home, "sql_query") == [("ana", {**logged(query), "rows": 2, "truncated": True})]


def test_serving_option_points_at_another_copy(home: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.duckdb"
    with closing(duckdb.connect(str(other))) as connection:
        connection.execute("create schema marts; create table marts.dim_store as select 'S77' as store_id")
    result = run_sql("--user", "ana", "--serving", str(other), "select store_id from dim_store")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == ["store_id", "S77"]


# Each refusal: one line on stderr, exit code 1, nothing on stdout, one sql_refused audit row.
REFUSALS = [
    ("sam", "select 1", "error: refused: role store_manager has no SQL access"),
    ("nobody", "select 1", "error: no account named 'nobody'"),
    ("old", "select 1", "error: account old is disabled"),
    ("ana", "select phone from raw.crm_customers", "error: refused: table raw.crm_customers"),
    ("ana", "select * from read_csv('/etc/passwd')", "error: refused: table function read_csv"),
    ("ana", "copy fct_journeys to 'out.csv'", "error: refused: only SELECT is allowed, got COPY"),
    ("ana", "select 1; select 2", "error: refused: exactly one statement is allowed, got 2"),
    # a Python traceback before: the parse tree was deeper than the checker's recursion
    (
        "ana",
        "select " + "abs(" * 700 + "1" + ")" * 700,
        "error: refused: the statement is nested too deeply to check",
    ),
    (
        "ana",
        "select length(string_agg(repeat('x', 1000), ',')) from range(10000000)",
        "error: stopped: the query needs more than 1 GiB of memory (the limit)",
    ),
    (
        "ana",
        "select current_setting('allowed_directories')",
        "error: refused: function current_setting shows the server, not the marts",
    ),
]


@pytest.mark.parametrize(("user", "query", "line"), REFUSALS, ids=[f"{u}: {q[:40]}" for u, q, _ in REFUSALS])
def test_refusals_exit_1_with_one_line_and_are_audited(home: Path, user: str, query: str, line: str) -> None:
    result = run_sql("--user", user, query)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [line]
    reason = line.removeprefix("error: ")
    assert audit_events(home, "sql_refused") == [(user, {**logged(query), "reason": reason})]
    assert audit_events(home, "sql_query") == []


def test_a_50_mb_statement_is_refused_and_the_audit_log_keeps_a_bounded_prefix(home: Path) -> None:
    # Regression: the log stored every statement whole; a 50 MB literal grew the store by 61 MB.
    store = home / "app_state.sqlite"
    before = store.stat().st_size
    query = "select '" + "x" * 50_000_000 + "'"
    result = run_sql("--user", "ana", query)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "error: refused: the statement is 50,000,009 bytes; at most 100,000 are allowed"
    ]
    ((actor, detail),) = audit_events(home, "sql_refused")
    assert actor == "ana"
    assert detail == {
        "sql": query[:TEXT_CHARS],
        "sql_chars": 50_000_009,
        "sql_sha256": hashlib.sha256(query.encode()).hexdigest(),
        "reason": "refused: the statement is 50,000,009 bytes; at most 100,000 are allowed",
    }
    assert store.stat().st_size - before < 64_000


def test_the_memory_figure_comes_from_the_environment(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CXLAKE_SQL_MEMORY_MB", "128")
    query = "select length(string_agg(repeat('x', 1000), ',')) from range(50000)"
    result = run_sql("--user", "ana", query)
    assert result.stderr.splitlines() == [
        "error: stopped: the query needs more than 128 MiB of memory (the limit)"
    ]
    monkeypatch.setenv("CXLAKE_SQL_MEMORY_MB", "a lot")
    result = run_sql("--user", "ana", query)
    assert result.stderr.splitlines() == ["error: CXLAKE_SQL_MEMORY_MB='a lot' is not a whole number of MiB"]
    assert len(audit_events(home, "sql_refused")) == 2
