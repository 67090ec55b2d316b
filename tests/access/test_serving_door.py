"""The one door to the serving copy: a query that names no condition still gets only its reader's
rows, masked as their role needs, and the door itself reads no file and changes no setting."""

from __future__ import annotations

from contextlib import closing
from pathlib import Path

import duckdb
import pytest

from cxlake.access.roles import Scope
from cxlake.access.serving_door import Reader, ServingCopyMissing, open_door, served_relations

SERVING_SQL = """
create schema marts;
create schema raw;
create schema dq;
create schema quarantine;
create table marts.dim_store (store_id varchar, store_name varchar, region_id varchar, city varchar);
insert into marts.dim_store values
    ('S01', '静安店', 'R1', '上海'), ('S02', '徐汇店', 'R1', '上海'), ('S03', '西湖店', 'R2', '杭州');
create table marts.fct_transactions (transaction_id varchar, store_id varchar, region_id varchar,
    customer_id varchar);
insert into marts.fct_transactions values
    ('T1', 'S01', 'R1', 'C1'), ('T2', 'S02', 'R1', 'C2'), ('T3', 'S03', 'R2', 'C3'),
    ('T4', 'S03', 'R2', 'C1');
create table marts.dim_customer (customer_id varchar, home_store_id varchar, customer_name varchar,
    phone varchar, email varchar);
insert into marts.dim_customer values
    ('C1', 'S03', '王芳', '13800001234', 'wf@example.com'),
    ('C2', 'S02', 'Li Lei', '13900005678', 'll@example.com'),
    ('C3', 'S03', '张伟', '13700009999', 'zw@example.com');
create table marts.fct_feedback_items (feedback_key varchar, store_id varchar, region_id varchar,
    text varchar);
insert into marts.fct_feedback_items values
    ('F1', 'S01', 'R1', '太慢了，请回电 １３８ ０００１ ２３４５'), ('F2', 'S03', 'R2', '好喝');
create table marts.fct_reviews (review_key varchar, store_id varchar, region_id varchar, city varchar,
    is_competitor boolean, content varchar);
insert into marts.fct_reviews values
    ('V1', 'S01', 'R1', '上海', false, 'ok'), ('V2', 'S03', 'R2', '杭州', false, 'ok'),
    ('V3', null, null, '上海', true, '隔壁'), ('V4', null, null, '杭州', true, '隔壁');
create table marts.mart_key_drivers (scope_level varchar, scope_id varchar, driver varchar);
insert into marts.mart_key_drivers values
    ('chain', 'chain', 'taste'), ('region', 'R1', 'taste'), ('region', 'R2', 'taste'),
    ('store', 'S01', 'taste'), ('store', 'S02', 'taste'), ('store', 'S03', 'taste');
create table marts.fct_nps_daily (date_day date, store_id varchar, region_id varchar,
    promoters integer);
insert into marts.fct_nps_daily values
    ('2026-01-05', 'S01', 'R1', 3), ('2026-01-05', 'S02', 'R1', 5), ('2026-01-05', 'S03', 'R2', 7);
create table marts.mart_integrity_staff (staff_id varchar, store_id varchar);
insert into marts.mart_integrity_staff values ('S01-E1', 'S01'), ('S03-E1', 'S03');
create table marts.mart_unscoped (metric varchar, value double);
insert into marts.mart_unscoped values ('nps', 12.5);
create table marts.dim_date (date_day date);
insert into marts.dim_date values ('2026-01-05');
create table raw.crm_customers (customer_id varchar, phone varchar);
insert into raw.crm_customers values ('C1', '13800001234');
create table dq.validation_runs (run_id varchar, source varchar, raw_table varchar,
    partition_date date, validated_at timestamp, blocked boolean, block_reason varchar);
insert into dq.validation_runs values
    ('r1', 'crm', 'crm_customers', '2026-01-05', '2026-01-06 02:00', true, 'crm.csv row 4 phone 13800001234');
create table dq.expectation_results (run_id varchar, sample_values varchar);
insert into dq.expectation_results values ('r1', '["13800001234"]');
create table quarantine.crm_customers (customer_id varchar, phone varchar, _source_file varchar);
insert into quarantine.crm_customers values ('C9', '13900009999', 'crm.csv');
"""
STORE = Reader(Scope("store", ("S01",)), sees_pii=True)
# The same manager in a follow-up view (feedback cards, cases, the churn watch list)
STORE_FOLLOW_UP = Reader(Scope("store", ("S01",)), sees_pii=True, follow_up=True)
REGION = Reader(Scope("region", ("R2",)))
EVERYTHING = Reader(Scope.everything())


@pytest.fixture(scope="module")
def serving(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("door") / "serving.duckdb"
    with closing(duckdb.connect(str(path))) as connection:
        connection.execute(SERVING_SQL)
    return path


def read(serving: Path, reader: Reader, sql: str) -> list[tuple]:
    with open_door(serving, reader) as door:
        return door.connection.execute(sql).fetchall()


def test_a_query_without_any_condition_gets_only_the_readers_rows(serving: Path) -> None:
    assert read(serving, STORE, "select store_id from marts.dim_store") == [("S01",)]
    assert read(serving, REGION, "select transaction_id from marts.fct_transactions order by 1") == [
        ("T3",),
        ("T4",),
    ]
    assert read(serving, EVERYTHING, "select count(*) from marts.fct_transactions") == [(4,)]
    # a store's rows without a region column are its region's
    assert read(serving, REGION, "select staff_id from marts.mart_integrity_staff") == [("S03-E1",)]
    # a mart with no column to scope it shows a narrow scope nothing, never everything...
    assert read(serving, STORE, "select count(*) from marts.mart_unscoped") == [(0,)]
    # ...but the calendar and the journey map hold no store's data and are everyone's
    assert read(serving, STORE, "select count(*) from marts.dim_date") == [(1,)]


def test_customers_are_seen_by_every_store_they_bought_at(serving: Path) -> None:
    # C1's home store is S03, but they bought at S01 too: both stores' managers may call them back
    assert read(serving, STORE_FOLLOW_UP, "select customer_id, phone from marts.dim_customer") == [
        ("C1", "13800001234")
    ]
    # from a follow-up view only: elsewhere the manager reads the phone masked like everyone
    elsewhere = read(serving, STORE, "select customer_id, phone from marts.dim_customer")
    assert elsewhere == [("C1", "*******1234")]
    assert read(serving, REGION, "select customer_id, phone from marts.dim_customer order by 1") == [
        ("C1", "*******1234"),
        ("C3", "*******9999"),
    ]


def test_marts_modelled_per_scope_show_the_chain_and_the_readers_own_region_and_stores(serving: Path) -> None:
    sql = "select scope_level, scope_id from marts.mart_key_drivers order by 1, 2"
    assert read(serving, STORE, sql) == [("chain", "chain"), ("region", "R1"), ("store", "S01")]
    assert read(serving, REGION, sql) == [("chain", "chain"), ("region", "R2"), ("store", "S03")]


def test_competitors_are_seen_in_the_cities_of_the_readers_stores(serving: Path) -> None:
    sql = "select review_key from marts.fct_reviews order by 1"
    assert read(serving, STORE, sql) == [("V1",), ("V3",)]
    assert read(serving, REGION, sql) == [("V2",), ("V4",)]


def test_customer_text_is_masked_unless_the_role_needs_it_to_call_back(serving: Path) -> None:
    everyone = read(serving, EVERYTHING, "select text from marts.fct_feedback_items order by feedback_key")
    assert everyone == [("太慢了，请回电 [phone]",), ("好喝",)]
    assert read(serving, STORE_FOLLOW_UP, "select text from marts.fct_feedback_items") == [
        ("太慢了，请回电 １３８ ０００１ ２３４５",)
    ]
    assert read(serving, STORE, "select text from marts.fct_feedback_items") == [("太慢了，请回电 [phone]",)]


def test_quality_results_and_quarantine_are_the_whole_chains_readers(serving: Path) -> None:
    assert read(serving, EVERYTHING, "select phone from quarantine.crm_customers") == [("*******9999",)]
    assert read(serving, EVERYTHING, "select sample_values from dq.expectation_results") == [('["[phone]"]',)]
    assert read(serving, STORE, "select count(*) from quarantine.crm_customers") == [(0,)]
    assert read(serving, STORE, "select count(*) from dq.expectation_results") == [(0,)]
    # a narrower reader sees which source's day was held back, not why
    with open_door(serving, STORE) as door:
        assert door.columns("dq", "validation_runs") == [
            "run_id", "source", "raw_table", "partition_date", "validated_at", "blocked"
        ]  # fmt: skip
        held = door.connection.execute("select source, blocked from dq.validation_runs").fetchall()
    assert held == [("crm", True)]


def test_peers_are_every_store_but_only_the_readers_own_by_name(serving: Path) -> None:
    sql = "select store_id, peer_key, promoters from peers.fct_nps_daily order by promoters"
    first, second = read(serving, STORE, sql), read(serving, STORE, sql)
    assert [(store, promoters) for store, _, promoters in first] == [("S01", 3), (None, 5), (None, 7)]
    keys = [key for _, key, _ in first]
    assert len(set(keys)) == 3 and not {"S02", "S03"} & set(keys)
    # the key means nothing outside its door: another door names the same store differently
    assert keys[1] != [key for _, key, _ in second][1]


def test_the_door_reads_no_file_and_changes_no_setting(serving: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.csv"
    secret.write_text("phone\n13800001234\n")
    with open_door(serving, EVERYTHING) as door:
        with pytest.raises(duckdb.PermissionException):
            door.connection.execute(f"select * from read_csv('{secret}')").fetchall()
        with pytest.raises(duckdb.InvalidInputException, match="locked"):
            door.connection.execute("set enable_external_access = true")
        with pytest.raises(duckdb.CatalogException):  # raw is not a schema of the door
            door.connection.execute("select * from raw.crm_customers").fetchall()


def test_no_serving_copy_is_said_plainly(tmp_path: Path) -> None:
    with pytest.raises(ServingCopyMissing, match="no serving copy at .*missing.duckdb; run `cxlake run`"):
        open_door(tmp_path / "missing.duckdb", EVERYTHING)


def test_the_catalog_names_every_relation_a_door_shows_without_building_one(serving: Path) -> None:
    relations = served_relations(serving)
    assert relations[("marts", "dim_customer")] == [
        "customer_id",
        "home_store_id",
        "customer_name",
        "phone",
        "email",
    ]
    assert ("raw", "crm_customers") not in relations  # not a schema any door shows
    with open_door(serving, EVERYTHING) as door:
        shown = {relation: columns for relation, columns in door.relations.items() if relation[0] != "peers"}
    assert relations == shown
    with pytest.raises(ServingCopyMissing, match="no serving copy at .*missing.duckdb"):
        served_relations(serving.parent / "missing.duckdb")
