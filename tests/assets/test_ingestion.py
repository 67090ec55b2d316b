"""Ingestion assets materialized on a real slice of the demo landing data."""

from __future__ import annotations

import shutil

import duckdb
import pandas as pd
import pytest
from dagster import materialize

from assets.ingestion.assets import ingestion_assets
from cxlake.delivered_files import DeliveredFileError
from orchestration.resources import LandingZone, Warehouse

DAY = "2026-03-03"


def ingest_asset(source: str):
    return next(a for a in ingestion_assets if a.node_def.name == f"ingest_{source}")


def count(warehouse, sql: str) -> int:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return connection.execute(sql).fetchone()[0]


@pytest.fixture
def landing_copy(demo_build, tmp_path):
    """A private copy of one day of POS deliveries, so a test may break its files."""
    target = tmp_path / "landing"
    shutil.copytree(demo_build.landing / "pos" / DAY, target / "pos" / DAY)
    return target


def run_pos(landing, warehouse):
    return materialize(
        [ingest_asset("pos")],
        partition_key=DAY,
        resources={"landing": LandingZone(root=str(landing)), "warehouse": Warehouse(path=str(warehouse))},
    )


def test_loading_the_same_partition_twice_gives_identical_counts(landing_copy, tmp_path):
    warehouse = tmp_path / "w.duckdb"
    delivered = len(pd.read_csv(landing_copy / "pos" / DAY / "transactions.csv", dtype=str))
    lines = len(pd.read_csv(landing_copy / "pos" / DAY / "transaction_lines.csv", dtype=str))

    assert run_pos(landing_copy, warehouse).success
    first = (
        count(warehouse, "select count(*) from raw.pos_transactions"),
        count(warehouse, "select count(*) from raw.pos_transaction_lines"),
        count(warehouse, "select count(*) from dq.load_audit"),
    )
    assert run_pos(landing_copy, warehouse).success
    second = (
        count(warehouse, "select count(*) from raw.pos_transactions"),
        count(warehouse, "select count(*) from raw.pos_transaction_lines"),
        count(warehouse, "select count(*) from dq.load_audit"),
    )
    assert first == second == (delivered, lines, 2)
    assert count(warehouse, "select count(distinct transaction_id) from raw.pos_transactions") == delivered


def test_rows_remember_file_and_physical_line(landing_copy, tmp_path):
    warehouse = tmp_path / "w.duckdb"
    assert run_pos(landing_copy, warehouse).success
    first_id = pd.read_csv(landing_copy / "pos" / DAY / "transactions.csv", dtype=str)["transaction_id"].iloc[0]
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        file, line = connection.execute(
            "select _source_file, _source_row from raw.pos_transactions where transaction_id = ?", [first_id]
        ).fetchone()
    assert file == f"pos/{DAY}/transactions.csv"
    assert line == 2  # line 1 is the header


def test_a_failed_load_leaves_the_previous_state(landing_copy, tmp_path):
    warehouse = tmp_path / "w.duckdb"
    assert run_pos(landing_copy, warehouse).success
    before = count(warehouse, "select count(*) from raw.pos_transactions")

    lines_file = landing_copy / "pos" / DAY / "transaction_lines.csv"
    lines_file.write_text(lines_file.read_text() + 'T9,1,"unterminated\n', encoding="utf-8")
    (landing_copy / "pos" / DAY / "transactions.csv").write_text("transaction_id\nT1\n", encoding="utf-8")
    with pytest.raises(DeliveredFileError, match="transaction_lines.csv|transactions.csv"):
        run_pos(landing_copy, warehouse)
    assert count(warehouse, "select count(*) from raw.pos_transactions") == before
