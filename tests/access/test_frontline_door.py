"""The frontline marts through the door: a store manager reads their own store's staff only (names
as written, to thank and coach them), a regional manager their region's, and the chain-wide roles
every staff member with the name masked and the comments' contact details masked."""

from __future__ import annotations

from contextlib import closing
from pathlib import Path

import duckdb
import pytest

from cxlake.access.roles import Principal
from cxlake.access.serving_door import Reader, open_door

SERVING_SQL = """
create schema marts;
create table marts.dim_store (store_id varchar, store_name varchar, region_id varchar, city varchar);
insert into marts.dim_store values
    ('S01', '静安店', 'R1', '上海'), ('S02', '徐汇店', 'R1', '上海'), ('S03', '西湖店', 'R2', '杭州');
create table marts.dim_staff (staff_id varchar, store_id varchar, region_id varchar, staff_name varchar,
    staff_role varchar, hired_on date);
insert into marts.dim_staff values
    ('E1', 'S01', 'R1', '王伟芳', '咖啡师', '2024-01-01'), ('E2', 'S01', 'R1', '李娜', '店长', '2023-01-01'),
    ('E3', 'S02', 'R1', '赵敏', '咖啡师', '2024-05-01'), ('E4', 'S03', 'R2', '陈杰', '咖啡师', '2024-06-01');
create table marts.mart_frontline_staff (staff_id varchar, staff_name varchar, staff_role varchar,
    store_id varchar, region_id varchar, touchpoint_id varchar, n_ratings bigint, is_reportable boolean,
    csat_mean double, praise_mentions bigint, complaint_mentions bigint);
insert into marts.mart_frontline_staff values
    ('E1', '王伟芳', '咖啡师', 'S01', 'R1', 'staff', 40, true, 4.5, 6, 0),
    ('E2', '李娜', '店长', 'S01', 'R1', 'staff', 3, false, null, 0, 2),
    ('E3', '赵敏', '咖啡师', 'S02', 'R1', 'staff', 31, true, 4.1, 1, 1),
    ('E4', '陈杰', '咖啡师', 'S03', 'R2', 'staff', 35, true, 3.9, 0, 0);
create table marts.fct_staff_mentions (response_key varchar, staff_id varchar, store_id varchar,
    region_id varchar, comment varchar, mention_sentiment varchar);
insert into marts.fct_staff_mentions values
    ('r1', 'E1', 'S01', 'R1', '店员小王很热情，有事打我 13800001234', 'positive'),
    ('r2', 'E3', 'S02', 'R1', '赵敏态度差', 'negative'),
    ('r3', 'E4', 'S03', 'R2', '陈杰很耐心', 'positive');
"""


@pytest.fixture(scope="module")
def serving(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("frontline_door") / "serving.duckdb"
    with closing(duckdb.connect(str(path))) as connection:
        connection.execute(SERVING_SQL)
    return path


def _read(serving: Path, principal: Principal, sql: str) -> list[tuple]:
    with open_door(serving, Reader.of(principal)) as door:
        return door.connection.execute(sql).fetchall()


def test_a_store_manager_reads_only_their_own_stores_staff_with_names(serving: Path) -> None:
    manager = Principal("store_s01", "store_manager", "S01")
    staff = _read(serving, manager, "select staff_id, staff_name from marts.mart_frontline_staff order by 1")
    assert staff == [("E1", "王伟芳"), ("E2", "李娜")]
    assert _read(serving, manager, "select staff_id from marts.dim_staff order by 1") == [("E1",), ("E2",)]
    # the staff member's name stays (the manager thanks them); the customer's phone is for call-backs
    (comment,) = _read(serving, manager, "select comment from marts.fct_staff_mentions")
    assert comment == ("店员小王很热情，有事打我 [phone]",)


def test_a_regional_manager_reads_the_staff_of_their_regions_stores(serving: Path) -> None:
    manager = Principal("region_r1", "regional_manager", "R1")
    rows = _read(serving, manager, "select staff_id from marts.mart_frontline_staff order by 1")
    assert rows == [("E1",), ("E2",), ("E3",)]
    assert _read(serving, manager, "select count(*) from marts.fct_staff_mentions") == [(2,)]


def test_chain_wide_roles_read_every_staff_member_with_the_name_masked(serving: Path) -> None:
    for principal in (Principal("director", "cx_director"), Principal("analyst", "analyst")):
        rows = _read(
            serving, principal, "select staff_id, staff_name from marts.mart_frontline_staff order by 1"
        )
        assert [staff_id for staff_id, _ in rows] == ["E1", "E2", "E3", "E4"]
        assert rows[0][1] == "王**" and rows[1][1] == "李**"
        assert _read(serving, principal, "select staff_name from marts.dim_staff where staff_id = 'E4'") == [
            ("陈**",)
        ]
        (comment,) = _read(
            serving, principal, "select comment from marts.fct_staff_mentions where staff_id = 'E1'"
        )
        assert "13800001234" not in comment[0] and comment[0].startswith("店员小王很热情")
