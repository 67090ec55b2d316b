"""`cxlake ingest` loads and gates the raw layer only; `cxlake backfill` then loads what is not
loaded as delivered (a held-back day, a changed file), day by day with a progress bar, builds and
publishes once, and a second backfill of the same range has nothing to do and changes nothing."""

from __future__ import annotations

import csv
import shutil
from datetime import date

import duckdb
import pytest
from typer.testing import CliRunner

from cxlake.cli import app
from orchestration.backfill import days_to_load

START = date(2026, 3, 2)
DAYS = ["2026-03-02", "2026-03-03", "2026-03-04"]
BAD_DAY = "2026-03-03"


def query(path, sql, params=()):
    with duckdb.connect(str(path), read_only=True) as connection:
        return connection.execute(sql, list(params)).fetchall()


def break_every_eighth_row(path) -> None:
    """12.5% of the day's transactions at an unknown store: the gate holds the day back."""
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    for index in range(0, len(rows), 8):
        rows[index]["store_id"] = "S999"
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, list(rows[0]), lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(rows)


def raw_counts(warehouse) -> dict[str, int]:
    tables = query(warehouse, "select table_name from information_schema.tables where table_schema = 'raw'")
    return {name: query(warehouse, f'select count(*) from raw."{name}"')[0][0] for (name,) in tables}


def audit(warehouse) -> list[tuple]:
    return query(warehouse, "select * from dq.load_audit order by all")


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    from cxlake.generator import generate

    home = tmp_path_factory.mktemp("ingest_backfill")
    landing = home / "landing"
    generate(landing, scale="small", seed=7, start=START, days=len(DAYS), progress=False)
    transactions = landing / "pos" / BAD_DAY / "transactions.csv"
    shutil.copyfile(transactions, home / "transactions.csv.good")
    break_every_eighth_row(transactions)
    # a warehouse that was built before: its marts and its serving copy must stay as they are
    with duckdb.connect(str(home / "warehouse.duckdb")) as connection:
        connection.execute("create schema marts; create table marts.built_before as select 42 as answer")
    (home / "serving.duckdb").write_bytes(b"the serving copy of an earlier build")
    return home


@pytest.fixture(scope="module")
def ingested(home):
    result = CliRunner().invoke(
        app, ["ingest", "--landing", str(home / "landing")], env={"CXLAKE_HOME": str(home)}
    )
    return result


def test_ingest_fills_the_raw_layer_and_the_audit_and_builds_nothing(home, ingested):
    warehouse = home / "warehouse.duckdb"
    assert ingested.exit_code == 1, ingested.output  # the held-back day: exit 1, like `cxlake run`
    assert f"held back: {BAD_DAY} pos (" in ingested.output
    assert (
        "2026-03-02..2026-03-04 raw layer 1 partition(s) held back (all sources); not built"
        in ingested.output
    )
    counts = raw_counts(warehouse)
    assert counts["pos_transactions"] > 1000 and counts["qualtrics_responses"] > 0
    days = query(
        warehouse, "select distinct cast(_partition_date as varchar) from raw.pos_transactions order by 1"
    )
    assert [day for (day,) in days] == ["2026-03-02", "2026-03-04"]
    statuses = query(
        warehouse,
        "select cast(partition_date as varchar), status from dq.load_audit "
        "where raw_table = 'pos_transactions' order by 1",
    )
    assert statuses == [("2026-03-02", "loaded"), (BAD_DAY, "held_back"), ("2026-03-04", "loaded")]
    schemas = query(
        warehouse,
        "select table_schema, table_name from information_schema.tables "
        "where table_schema in ('staging', 'intermediate', 'marts') order by all",
    )
    assert schemas == [("marts", "built_before")]
    assert query(warehouse, "select * from marts.built_before") == [(42,)]
    assert (home / "serving.duckdb").read_bytes() == b"the serving copy of an earlier build"


def test_the_days_to_load_are_the_held_back_one_and_a_changed_file(home, ingested):
    landing, warehouse = home / "landing", home / "warehouse.duckdb"
    review = sorted((landing / "reviews" / "2026-03-04").iterdir())[0]
    review.write_bytes(review.read_bytes().replace(b"}", b"} ", 1))  # same reviews, other bytes
    todo = days_to_load(landing, warehouse, DAYS[0], DAYS[-1])
    assert [(day.day, day.sources) for day in todo] == [(BAD_DAY, ("pos",)), ("2026-03-04", ("reviews",))]
    assert todo[0].reasons == (f"pos/{BAD_DAY}: held back last time",)
    assert todo[1].reasons == (f"reviews/2026-03-04/{review.name}: changed since it was loaded",)
    assert days_to_load(landing, warehouse, DAYS[0], DAYS[0]) == []


@pytest.fixture(scope="module")
def backfilled(home, ingested):
    shutil.copyfile(home / "transactions.csv.good", home / "landing" / "pos" / BAD_DAY / "transactions.csv")
    env = {"CXLAKE_HOME": str(home)}
    first = CliRunner().invoke(app, ["backfill", "--start", DAYS[0], "--end", DAYS[-1]], env=env)
    warehouse = home / "warehouse.duckdb"
    before = raw_counts(warehouse), audit(warehouse), (home / "serving.duckdb").stat().st_mtime_ns
    second = CliRunner().invoke(app, ["backfill", "--start", DAYS[0], "--end", DAYS[-1]], env=env)
    after = raw_counts(warehouse), audit(warehouse), (home / "serving.duckdb").stat().st_mtime_ns
    return first, second, before, after


def test_the_backfill_loads_only_those_days_in_order_then_builds_once(home, backfilled):
    first, *_ = backfilled
    assert first.exit_code == 0, first.output
    to_load = [line for line in first.output.splitlines() if line.startswith("to load: ")]
    assert [line.split()[2] for line in to_load] == [BAD_DAY, "2026-03-04"]
    assert "cxlake backfill" in first.output and "3/3" in first.output  # the progress bar, to its end
    assert "backfill 2026-03-02..2026-03-04: 2 day(s) loaded, built and published " in first.output
    serving = home / "serving.duckdb"
    days = query(  # raw stays in the warehouse: the serving copy holds the served schemas only
        home / "warehouse.duckdb",
        "select distinct cast(_partition_date as varchar) from raw.pos_transactions order by 1",
    )
    assert [day for (day,) in days] == DAYS
    assert query(serving, "select count(*) from marts.fct_nps_daily")[0][0] > 0
    held = query(serving, "select count(*) from dq.load_audit where status = 'held_back'")
    assert held == [(0,)]


def test_a_second_backfill_has_nothing_to_do_and_changes_nothing(backfilled):
    _, second, before, after = backfilled
    assert second.exit_code == 0, second.output
    assert "nothing to do: 2026-03-02..2026-03-04" in second.output
    assert after == before
