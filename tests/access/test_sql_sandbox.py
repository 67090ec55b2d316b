"""The SQL sandbox on a small real serving copy: what it exposes, masks, scopes, refuses and stops.

The copy has marts (two stores of region R1 and one of R2, one store id with a quote in it), a
mart without scope columns, and raw, dq and quarantine tables that hold phone numbers the analyst
must never read.
"""

from __future__ import annotations

from contextlib import closing
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from cxlake.access import sql_sandbox
from cxlake.access.roles import Principal, column_sql
from cxlake.access.sql_sandbox import (
    QueryRefused,
    create_user_views,
    exposed_relations,
    run_query,
)

SERVING_SQL = """
create schema marts;
create schema raw;
create schema dq;
create schema quarantine;
create table marts.dim_store (store_id varchar, store_name varchar, region_id varchar);
insert into marts.dim_store values ('S01', '静安店', 'R1'), ('S02', '徐汇店', 'R1'), ('S''03', 'Quote', 'R2');
create table marts.dim_customer (customer_id varchar, home_store_id varchar, customer_name varchar,
    phone varchar, email varchar);
insert into marts.dim_customer values
    ('C1', 'S01', '王芳', '13800001234', 'wf@example.com'),
    ('C2', 'S02', 'Li Lei', null, 'not-an-email');
create table marts.fct_journeys (journey_id varchar, store_id varchar, region_id varchar, nps_score integer);
insert into marts.fct_journeys values
    ('J1', 'S01', 'R1', 10), ('J2', 'S01', 'R1', 3), ('J3', 'S02', 'R1', 9),
    ('J4', 'S''03', 'R2', 7), ('J5', 'S''03', 'R2', 0);
create table marts.fct_survey_responses (response_key varchar, store_id varchar, region_id varchar,
    comment varchar);
insert into marts.fct_survey_responses values
    ('R1', 'S01', 'R1', '太慢了，请回电 138 0000 1234 或 wf@example.com'), ('R2', 'S02', 'R1', '好喝');
create table marts.dim_date (date_day date, is_weekend boolean);
insert into marts.dim_date values ('2026-01-03', true), ('2026-01-05', false);
create table raw.crm_customers (customer_id varchar, phone varchar);
insert into raw.crm_customers values ('C1', '13800001234');
create table dq.validation_runs (run_id varchar, blocked boolean);
insert into dq.validation_runs values ('r1', false);
create table quarantine.crm_customers (customer_id varchar, phone varchar);
insert into quarantine.crm_customers values ('C9', '13900009999');
"""
ANALYST = Principal("ana", "analyst")
DIRECTOR = Principal("dora", "cx_director")


def build_serving(path: Path) -> Path:
    with closing(duckdb.connect(str(path))) as connection:
        connection.execute(SERVING_SQL)
    return path


@pytest.fixture
def serving(tmp_path: Path) -> Path:
    return build_serving(tmp_path / "serving.duckdb")


def rows(principal: Principal, sql: str, serving: Path) -> list[tuple]:
    """The result's rows, with pandas' missing values back to None."""
    frame = run_query(principal, sql, serving).frame
    return [
        tuple(None if pd.isna(value) else value for value in row) for row in frame.itertuples(index=False)
    ]


def test_marts_are_exposed_by_name_and_under_marts_with_their_columns(serving: Path) -> None:
    assert exposed_relations(ANALYST, serving) == {
        "dim_customer": ["customer_id", "home_store_id", "customer_name", "phone", "email"],
        "dim_date": ["date_day", "is_weekend"],
        "dim_store": ["store_id", "store_name", "region_id"],
        "fct_journeys": ["journey_id", "store_id", "region_id", "nps_score"],
        "fct_survey_responses": ["response_key", "store_id", "region_id", "comment"],
    }
    by_name = "select store_id, count(*) as n from fct_journeys group by 1 order by 1"
    assert rows(ANALYST, by_name, serving) == [("S'03", 2), ("S01", 2), ("S02", 1)]
    assert rows(ANALYST, by_name.replace("from fct_journeys", "from marts.fct_journeys"), serving) == [
        ("S'03", 2),
        ("S01", 2),
        ("S02", 1),
    ]
    assert rows(ANALYST, "select count(*) from main.dim_store", serving) == [(3,)]


@pytest.mark.parametrize("principal", [ANALYST, DIRECTOR], ids=["analyst", "cx_director"])
def test_phone_email_and_name_are_masked_for_roles_without_pii(principal: Principal, serving: Path) -> None:
    sql = "select customer_name, phone, email from dim_customer order by customer_id"
    assert rows(principal, sql, serving) == [
        ("王**", "*******1234", "***@example.com"),
        # a null phone stays null; an address without a domain keeps nothing of itself
        ("L**", None, "***@***"),
    ]
    # Reading the column under another name or inside an expression gives the masked value too.
    assert rows(principal, "select max(phone) as p from marts.dim_customer", serving) == [("*******1234",)]


def test_phones_and_emails_written_in_a_comment_are_masked_for_roles_without_pii(serving: Path) -> None:
    sql = "select comment from fct_survey_responses order by response_key"
    assert rows(ANALYST, sql, serving) == [("太慢了，请回电 [phone] 或 [email]",), ("好喝",)]
    # only the masking expression differs for a role that may see PII (managers calling back)
    assert column_sql("comment", sees_pii=True) == "comment"


# Each form a user could try to reach files, the catalog, other schemas or change the session.
FORBIDDEN = [
    ("select * from read_csv('/etc/passwd')", "table function read_csv"),
    ("select * from read_csv_auto('/etc/passwd')", "table function read_csv_auto"),
    ("select * from '/etc/passwd'", "table /etc/passwd"),
    ("select * from 'file.csv'", "table file.csv"),
    ("select * from glob('*')", "table function glob"),
    ("select * from query_table('_serving.raw.crm_customers')", "table function query_table"),
    ("select * from duckdb_databases()", "table function duckdb_databases"),
    # the system view of the same name, without parentheses
    ("select * from duckdb_databases", "table duckdb_databases is not one of the exposed marts"),
    ("select * from information_schema.tables", "table information_schema.tables"),
    ("copy fct_journeys to '/tmp/out.csv'", "only SELECT is allowed, got COPY"),
    ("attach '/tmp/other.duckdb' as other", "only SELECT is allowed, got ATTACH"),
    ("install httpfs", "only SELECT is allowed"),
    ("load httpfs", "only SELECT is allowed"),
    ("pragma version", "statement cannot be checked"),
    ("set threads = 1", "only SELECT is allowed, got SET"),
    ("call duckdb_databases()", "only SELECT is allowed, got CALL"),
    ("explain select 1", "only SELECT is allowed, got EXPLAIN"),
    ("select 1; select 2", "exactly one statement is allowed, got 2"),
    ("select 1; drop view fct_journeys", "exactly one statement is allowed, got 2"),
    ("create table copied as select * from fct_journeys", "only SELECT is allowed, got CREATE"),
    ("insert into fct_journeys values ('J9', 'S01', 'R1', 5)", "only SELECT is allowed, got INSERT"),
    ("drop view fct_journeys", "only SELECT is allowed, got DROP"),
    ("show all tables", "SHOW lists the catalog"),
    # the attached copy itself, by its alias, and the in-memory catalog by name
    ("select phone from _serving.marts.dim_customer", "table _serving.marts.dim_customer"),
    ('select phone from "_serving".raw.crm_customers', "table _serving.raw.crm_customers"),
    ("select * from memory.main.fct_journeys", "table memory.main.fct_journeys"),
    ("select phone from raw.crm_customers", "table raw.crm_customers"),
    ("select * from dq.validation_runs", "table dq.validation_runs"),
    ("select phone from quarantine.crm_customers", "table quarantine.crm_customers"),
    ("select * from staging.stg_crm__customers", "table staging.stg_crm__customers"),
    ("select _serving.main.some_macro(1)", "function _serving.main.some_macro"),
    # forbidden tables hidden in a subquery, a scalar subquery, a CTE, a UNION, a join, a lateral
    (
        "select * from fct_journeys where store_id in (select phone from raw.crm_customers)",
        "table raw.crm_customers",
    ),
    ("select (select max(phone) from quarantine.crm_customers) as p", "table quarantine.crm_customers"),
    ("with c as (select phone from raw.crm_customers) select * from c", "table raw.crm_customers"),
    (
        "select store_id from fct_journeys union all select phone from raw.crm_customers",
        "table raw.crm_customers",
    ),
    ("select * from fct_journeys join dq.validation_runs on true", "table dq.validation_runs"),
    (
        "select * from fct_journeys, lateral (select * from read_csv('/etc/passwd'))",
        "table function read_csv",
    ),
    # a CTE name is only in scope after its definition, so this would read the system view
    (
        "with a as (select * from duckdb_tables), duckdb_tables as (select 1) select * from a",
        "table duckdb_tables is not one of the exposed marts",
    ),
    ("select * from no_such_mart", "table no_such_mart is not one of the exposed marts"),
]


@pytest.mark.parametrize(("sql", "reason"), FORBIDDEN, ids=[sql for sql, _ in FORBIDDEN])
def test_forbidden_statements_are_refused_with_a_one_line_reason(
    sql: str, reason: str, serving: Path
) -> None:
    with pytest.raises(QueryRefused) as refused:
        run_query(ANALYST, sql, serving)
    message = str(refused.value)
    assert reason in message
    assert "\n" not in message


def test_a_refused_query_leaves_the_serving_copy_as_it_was(serving: Path) -> None:
    for sql in ("drop view fct_journeys", "insert into fct_journeys values ('J9', 'S01', 'R1', 5)"):
        with pytest.raises(QueryRefused):
            run_query(ANALYST, sql, serving)
    assert rows(ANALYST, "select count(*) from fct_journeys", serving) == [(5,)]


# Queries an analyst writes every day: they must not trip the checks.
ALLOWED = [
    (
        "with low as (select store_id from fct_journeys where nps_score <= 6)"
        " select s.store_name, count(*) from low join dim_store as s using (store_id) group by 1 order by 1",
        [("Quote", 1), ("静安店", 1)],
    ),
    (
        "select store_id from dim_store where store_id not in (select store_id from fct_journeys)"
        " union all select 'none'",
        [("none",)],
    ),
    ("select count(*) from range(10) as r(i), generate_series(1, 3)", [(30,)]),
    ("select sum(x) from unnest([1, 2, 3]) as t(x)", [(6,)]),
    (
        "with recursive n(i) as (select 1 union all select i + 1 from n where i < 4) select max(i) from n",
        [(4,)],
    ),
    ("select (select count(*) from marts.dim_date) as days", [(2,)]),
    ("from dim_store select store_id where region_id = 'R2'", [("S'03",)]),
]


@pytest.mark.parametrize(("sql", "expected"), ALLOWED, ids=[sql[:40] for sql, _ in ALLOWED])
def test_ordinary_analyst_queries_run(sql: str, expected: list[tuple], serving: Path) -> None:
    assert rows(ANALYST, sql, serving) == expected


def test_describe_of_an_exposed_view_lists_its_columns(serving: Path) -> None:
    frame = run_query(ANALYST, "describe dim_store", serving).frame
    assert frame["column_name"].tolist() == ["store_id", "store_name", "region_id"]


def test_file_access_fails_inside_the_sandbox_even_without_the_check(serving: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.csv"
    secret.write_text("phone\n13800001234\n")
    with sql_sandbox._sandbox(ANALYST, serving) as (connection, _):
        with pytest.raises(duckdb.PermissionException):
            connection.sql(f"select * from read_csv('{secret}')").fetchall()
        with pytest.raises(duckdb.PermissionException):
            connection.execute(f"attach '{tmp_path / 'other.duckdb'}' as other")
        with pytest.raises(duckdb.InvalidInputException, match="locked"):
            connection.execute("set enable_external_access = true")
        # The walk is the only guard against the attached copy itself; it is still read-only.
        with pytest.raises(duckdb.Error, match="read-only"):
            connection.execute("delete from _serving.marts.fct_journeys")


def test_row_cap_keeps_the_first_rows_and_says_there_were_more(serving: Path) -> None:
    sql = "select journey_id from fct_journeys order by journey_id"
    capped = run_query(ANALYST, sql, serving, row_cap=2)
    assert capped.frame["journey_id"].tolist() == ["J1", "J2"]
    assert (capped.truncated, capped.row_cap) == (True, 2)
    exact = run_query(ANALYST, sql, serving, row_cap=5)
    assert (len(exact.frame), exact.truncated) == (5, False)


def test_a_query_over_the_time_limit_is_stopped(serving: Path) -> None:
    slow = "select count(*) from range(1000000) as a, range(1000000) as b"
    with pytest.raises(QueryRefused, match=r"^stopped after 0\.5 s"):
        run_query(ANALYST, slow, serving, time_limit_seconds=0.5)


def test_a_query_within_the_time_limit_reports_its_duration(serving: Path) -> None:
    result = run_query(ANALYST, "select count(*) from fct_journeys", serving, time_limit_seconds=5)
    assert 0 <= result.elapsed_seconds < 5


@pytest.mark.parametrize(
    "principal",
    [
        Principal("sam", "store_manager", "S01"),
        Principal("reg", "regional_manager", "R1"),
        Principal("st", "steward"),
    ],
    ids=["store_manager", "regional_manager", "steward"],
)
def test_roles_without_the_sql_page_are_refused(principal: Principal, serving: Path) -> None:
    with pytest.raises(QueryRefused, match=f"role {principal.role} has no SQL access"):
        run_query(principal, "select 1", serving)
    with pytest.raises(QueryRefused):
        exposed_relations(principal, serving)


def test_a_failing_query_is_reported_on_one_line(serving: Path) -> None:
    with pytest.raises(QueryRefused, match='^failed: Binder Error: .*"no_column"') as failed:
        run_query(ANALYST, "select no_column from fct_journeys", serving)
    assert "\n" not in str(failed.value)


def scoped_rows(principal: Principal, serving: Path, sql: str) -> list[tuple]:
    """Rows of ``sql`` over the views built for ``principal`` (no SQL-page check, no lockdown)."""
    with closing(duckdb.connect()) as connection:
        connection.execute(f"attach '{serving}' as _serving (read_only)")
        create_user_views(connection, principal)
        return connection.execute(sql).fetchall()


def test_views_of_a_store_scope_hold_only_that_stores_rows_with_pii(serving: Path) -> None:
    manager = Principal("sam", "store_manager", "S01")
    assert scoped_rows(manager, serving, "select journey_id from fct_journeys order by 1") == [
        ("J1",),
        ("J2",),
    ]
    assert scoped_rows(manager, serving, "select store_id from marts.dim_store") == [("S01",)]
    # no store_id column: a narrow scope gets nothing rather than everything
    assert scoped_rows(manager, serving, "select count(*) from dim_date") == [(0,)]
    assert scoped_rows(manager, serving, "select count(*) from dim_customer") == [(0,)]


def test_scope_ids_with_quotes_are_inlined_as_literals(serving: Path) -> None:
    quoted = Principal("q", "store_manager", "S'03")
    assert scoped_rows(quoted, serving, "select journey_id from fct_journeys order by 1") == [
        ("J4",),
        ("J5",),
    ]
    injection = Principal("x", "store_manager", "S01') or true or ('")
    assert scoped_rows(injection, serving, "select count(*) from fct_journeys") == [(0,)]


def test_views_of_a_region_scope_filter_on_region_id(serving: Path) -> None:
    regional = Principal("reg", "regional_manager", "R2")
    assert scoped_rows(regional, serving, "select store_id, nps_score from fct_journeys order by 2") == [
        ("S'03", 0),
        ("S'03", 7),
    ]


def test_a_missing_serving_copy_is_refused(tmp_path: Path) -> None:
    with pytest.raises(QueryRefused, match="no serving copy"):
        run_query(ANALYST, "select 1", tmp_path / "absent.duckdb")
