"""Ingestion assets materialized on a real slice of the demo landing data."""

from __future__ import annotations

import shutil

import duckdb
import pandas as pd
import pytest
from dagster import materialize

from assets.ingestion.assets import build_ingestion_assets
from cxlake.pipeline.partitions import daily_partitions
from cxlake.pipeline.resources import LandingZone, Warehouse

ROSTER_DAY = "2026-03-02"  # tests/conftest.py DEMO_START: the roster is delivered on the first day
DAY = "2026-03-03"


# Partitions wide enough for any day a test delivers.
INGESTION_ASSETS = build_ingestion_assets(daily_partitions("2020-01-01"))


def ingest_asset(source: str):
    return next(a for a in INGESTION_ASSETS if a.node_def.name == f"ingest_{source}")


def count(warehouse, sql: str) -> int:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return connection.execute(sql).fetchone()[0]


@pytest.fixture
def landing_copy(demo_build, tmp_path):
    """A private copy of the roster and one day of POS deliveries, so a test may break its files."""
    target = tmp_path / "landing"
    shutil.copytree(demo_build.landing / "reference" / ROSTER_DAY, target / "reference" / ROSTER_DAY)
    shutil.copytree(demo_build.landing / "pos" / DAY, target / "pos" / DAY)
    return target


def run_pos(landing, warehouse, raise_on_error=True):
    """The roster (which the POS rules check stores against) and the POS day, as one run."""
    return materialize(
        [ingest_asset("reference"), ingest_asset("pos")],
        tags={"dagster/asset_partition_range_start": ROSTER_DAY, "dagster/asset_partition_range_end": DAY},
        resources={"landing": LandingZone(root=str(landing)), "warehouse": Warehouse(path=str(warehouse))},
        raise_on_error=raise_on_error,
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
    assert first == second == (delivered, lines, 2 + 2)  # two POS files and the two roster files
    assert count(warehouse, "select count(distinct transaction_id) from raw.pos_transactions") == delivered


def test_rows_remember_file_and_physical_line(landing_copy, tmp_path):
    warehouse = tmp_path / "w.duckdb"
    assert run_pos(landing_copy, warehouse).success
    first_id = pd.read_csv(landing_copy / "pos" / DAY / "transactions.csv", dtype=str)["transaction_id"].iloc[
        0
    ]
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
    result = run_pos(landing_copy, warehouse, raise_on_error=False)
    gate = {
        (e.asset_key.to_user_string(), e.check_name): e.passed for e in result.get_asset_check_evaluations()
    }
    assert gate[("raw/pos_transactions", "quality_gate")] is False  # the day is held back, reported
    assert count(warehouse, "select count(*) from raw.pos_transactions") == before
    reason = count(warehouse, "select max(block_reason) from dq.validation_runs where blocked")
    assert "pos/2026-03-03/transaction_lines.csv" in reason or "pos/2026-03-03/transactions.csv" in reason
