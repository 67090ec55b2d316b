"""The SQL page: analysts query the marts through the sandbox, masked and audited; other roles
cannot open it."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from cxlake.access.audit import TEXT_CHARS, AuditLog
from cxlake.app_state import AppState

PAGE = Path(__file__).resolve().parents[2] / "streamlit_app" / "views" / "sql.py"


def run_sql(at: AppTest, sql: str) -> AppTest:
    at.text_area(key="sql_text").input(sql)
    return at.button(key="sql_run").click().run()


def logged(sql: str) -> dict[str, object]:
    """How the audit log holds ``sql``: a prefix, the length and the hash of the whole statement."""
    return {
        "sql": sql[:TEXT_CHARS],
        "sql_chars": len(sql),
        "sql_sha256": hashlib.sha256(sql.encode()).hexdigest(),
    }


def sql_events(home: Path) -> list[tuple[str, str, dict[str, object]]]:
    """(actor, action, detail) of the SQL page's audit rows, oldest first."""
    events = AuditLog(AppState(home / "app_state.sqlite")).events()
    return [(e.actor, e.action, e.detail) for e in reversed(events) if e.action.startswith("sql_")]


def test_an_analyst_runs_a_query_and_sees_the_table(serving_home, signed_in_page):
    at = signed_in_page(serving_home, "analyst")
    sql = "select store_id, store_name from dim_store order by store_id"
    at = run_sql(at, sql)

    assert not at.exception
    assert at.title[0].value == "SQL"
    table = at.dataframe[0].value
    assert table.to_dict("list") == {
        "store_id": ["S001", "S002", "S003"],
        "store_name": ["人民广场店", "徐家汇店", "福田店"],
    }
    assert at.caption[-1].value.startswith("3 rows in ")
    assert [button.proto.label for button in at.get("download_button")] == ["Download CSV", "Download Excel"]
    assert sql_events(serving_home) == [
        ("analyst", "sql_query", {**logged(sql), "rows": 3, "truncated": False})
    ]


def test_the_result_stays_when_the_page_reruns(serving_home, signed_in_page):
    at = run_sql(signed_in_page(serving_home, "analyst"), "select count(*) as n from fct_survey_responses")
    at.run()

    assert at.dataframe[0].value["n"].tolist() == [45]  # the sandbox shows all rows, countable or not
    assert len(sql_events(serving_home)) == 1  # a rerun does not run (or audit) the query again


@pytest.mark.parametrize("role", ["analyst", "cx_director"])
def test_phone_numbers_come_back_masked(serving_home, role, signed_in_page):
    at = run_sql(signed_in_page(serving_home, role), "select phone from dim_customer order by phone")

    assert not at.exception
    phones = at.dataframe[0].value["phone"]
    assert len(phones) == 36  # one member per S001 (23) and S002 (13) response
    assert phones.str.fullmatch(r"\*{7}\d{4}").all()
    assert phones.iloc[0] == "*******1000"  # 13800001000, S001's first member


@pytest.mark.parametrize(
    ("sql", "reason"),
    [
        ("drop table dim_store", "only SELECT is allowed"),
        ("select * from read_csv('/etc/passwd')", "table function read_csv"),
        ("select * from raw.crm_customers", "table raw.crm_customers"),
        # a Python traceback on the page before, and no audit row
        ("select " + "abs(" * 700 + "1" + ")" * 700, "the statement is nested too deeply to check"),
        ("select current_setting('allowed_directories')", "function current_setting shows the server"),
    ],
    ids=["ddl", "file-read", "raw-schema", "nested-700", "host-setting"],
)
def test_a_forbidden_statement_shows_the_refusal_and_is_audited(serving_home, sql, reason, signed_in_page):
    at = run_sql(signed_in_page(serving_home, "analyst"), sql)

    assert not at.exception
    (error,) = at.error
    assert error.value.startswith("Query not run: refused: ")
    assert reason in error.value
    assert len(at.dataframe) == 0
    ((actor, action, detail),) = sql_events(serving_home)
    assert (actor, action) == ("analyst", "sql_refused")
    assert detail == {**logged(sql), "reason": error.value.removeprefix("Query not run: ")}
    assert reason in str(detail["reason"])


def test_a_memory_bomb_is_stopped_with_one_line_and_audited(serving_home, signed_in_page):
    sql = "select length(string_agg(repeat('x', 1000), ',')) from range(10000000)"
    at = run_sql(signed_in_page(serving_home, "analyst"), sql)

    assert not at.exception
    assert [error.value for error in at.error] == [
        "Query not run: stopped: the query needs more than 1 GiB of memory (the limit)"
    ]
    assert sql_events(serving_home) == [
        (
            "analyst",
            "sql_refused",
            {**logged(sql), "reason": at.error[0].value.removeprefix("Query not run: ")},
        )
    ]


def test_a_result_over_the_row_cap_is_cut_and_says_so(serving_home, signed_in_page):
    at = run_sql(signed_in_page(serving_home, "analyst"), "select * from range(10005)")

    assert not at.exception
    assert len(at.dataframe[0].value) == 10_000
    assert "Only the first 10,000 rows" in at.warning[0].value
    assert sql_events(serving_home)[0][2]["truncated"] is True


def test_the_schema_browser_lists_the_exposed_marts(serving_home, signed_in_page):
    at = signed_in_page(serving_home, "analyst")

    assert not at.exception
    listed = [markdown.value for markdown in at.expander[0].markdown]
    assert (
        "**dim_customer**: customer_id, home_store_id, customer_name, phone, email, member_tier,"
        in " ".join(listed)
    )
    with duckdb.connect(str(serving_home / "serving.duckdb"), read_only=True) as copy:
        marts = {name for (name,) in copy.execute(
            "select table_name from information_schema.tables where table_schema = 'marts'"
        ).fetchall()}  # fmt: skip
    assert {line.split("**")[1] for line in listed} == marts  # every mart of the copy, tables and views


@pytest.mark.parametrize(("role", "scope_id"), [("store_manager", "S001"), ("regional_manager", "R01")])
def test_managers_cannot_open_the_sql_page(serving_home, role, scope_id, signed_in_page):
    at = signed_in_page(serving_home, role, scope_id)

    assert not at.exception
    assert [error.value for error in at.error] == ["This page is not available for your role."]
    assert len(at.text_area) == 0
