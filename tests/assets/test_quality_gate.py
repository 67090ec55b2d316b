"""The quality gate on a real slice of demo deliveries: quarantine loses nothing, blocks stop bad days."""

from __future__ import annotations

import csv
import json
import shutil

import duckdb
import pytest
from dagster import materialize

from assets.ingestion.assets import ingestion_assets
from cxlake.app_state import AppState
from orchestration.resources import LandingZone, Warehouse

DAY = "2026-03-04"


def ingest(source: str):
    return next(a for a in ingestion_assets if a.node_def.name == f"ingest_{source}")


@pytest.fixture
def landing(demo_build, tmp_path):
    """The demo's roster and one day of POS deliveries, copied so a test may break them."""
    target = tmp_path / "landing"
    first_day = sorted(p.name for p in (demo_build.landing / "reference").iterdir())[0]
    shutil.copytree(demo_build.landing / "reference" / first_day, target / "reference" / first_day)
    shutil.copytree(demo_build.landing / "pos" / DAY, target / "pos" / DAY)
    return target


def run(landing, warehouse, sources=("reference", "pos"), day=None, raise_on_error=True):
    resources = {"landing": LandingZone(root=str(landing)), "warehouse": Warehouse(path=str(warehouse))}
    keys = sorted(p.name for p in (landing / "reference").iterdir())
    tags = {"dagster/asset_partition_range_start": keys[0], "dagster/asset_partition_range_end": day or DAY}
    return materialize(
        [ingest(s) for s in sources], resources=resources, tags=tags, raise_on_error=raise_on_error
    )


def edit_rows(path, edits: dict[int, dict[str, str]]) -> None:
    """Rewrite some data rows (0-based) of a delivered CSV."""
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
        header = list(rows[0])
    for index, changes in edits.items():
        rows[index].update(changes)
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, header, lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(rows)


def query(warehouse, sql, params=()):
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return connection.execute(sql, list(params)).fetchall()


def test_bad_rows_are_quarantined_with_file_line_and_rules_and_the_rest_loads(landing, tmp_path):
    transactions = landing / "pos" / DAY / "transactions.csv"
    edit_rows(transactions, {0: {"store_id": "S999"}, 4: {"amount": "abc", "channel": "drive_thru"}})
    delivered = len(list(csv.DictReader(transactions.open(encoding="utf-8"))))
    warehouse = tmp_path / "w.duckdb"

    assert run(landing, warehouse).success

    held = query(
        warehouse,
        "select _source_file, _source_row, store_id, amount, _failed_expectations "
        "from quarantine.pos_transactions order by _source_row",
    )
    assert [(f, line) for f, line, *_ in held] == [
        (f"pos/{DAY}/transactions.csv", 2),
        (f"pos/{DAY}/transactions.csv", 6),
    ]
    assert held[0][2] == "S999"  # the row as delivered
    assert json.loads(held[0][4]) == ["expect_column_values_to_be_in_set(store_id)"]
    assert set(json.loads(held[1][4])) == {
        "expect_column_values_to_not_be_null(amount_number)",
        "expect_column_values_to_be_in_set(channel)",
    }
    assert query(warehouse, "select count(*) from raw.pos_transactions")[0][0] == delivered - 2
    audit = query(
        warehouse,
        "select rows_in, rows_loaded, rows_quarantined from dq.load_audit "
        "where raw_table = 'pos_transactions'",
    )
    assert audit == [(delivered, delivered - 2, 2)]
    results = query(
        warehouse,
        "select expectation, unexpected_count, sample_values from dq.expectation_results "
        "where raw_table = 'pos_transactions' and not success order by expectation",
    )
    sample = f'["\\"S999\\" @ pos/{DAY}/transactions.csv:2"]'  # the value and where it came from
    assert ("expect_column_values_to_be_in_set(store_id)", 1, sample) in results


def test_a_day_with_too_many_bad_rows_is_blocked_and_keeps_its_previous_state(landing, tmp_path):
    warehouse = tmp_path / "w.duckdb"
    assert run(landing, warehouse).success
    before = query(warehouse, "select count(*) from raw.pos_transactions")[0][0]

    transactions = landing / "pos" / DAY / "transactions.csv"
    edit_rows(transactions, {i: {"store_id": "S999"} for i in range(200)})  # ~10% of the day
    assert not run(landing, warehouse, raise_on_error=False).success

    assert query(warehouse, "select count(*) from raw.pos_transactions")[0][0] == before
    assert query(warehouse, "select count(*) from quarantine.pos_transactions")[0][0] == 0
    blocked = query(
        warehouse,
        "select block_reason from dq.validation_runs where raw_table = 'pos_transactions' and blocked",
    )
    assert len(blocked) == 1 and "quarantined" in blocked[0][0] and "more than" not in blocked[0][0]


def test_an_unreadable_file_blocks_its_day_with_the_file_and_reason(landing, tmp_path):
    warehouse = tmp_path / "w.duckdb"
    (landing / "pos" / DAY / "transaction_lines.csv").write_bytes(b'transaction_id,line_number\r\n"T1,1\r\n')
    result = run(landing, warehouse, raise_on_error=False)
    assert not result.success
    reasons = query(warehouse, "select block_reason from dq.validation_runs where blocked")
    assert reasons and all(f"pos/{DAY}/transaction_lines.csv" in r[0] for r in reasons)
    assert query(warehouse, "select count(*) from raw.pos_transactions")[0][0] == 0


def test_a_released_row_loads_with_its_correction_and_a_rejected_one_stays_held(landing, tmp_path):
    transactions = landing / "pos" / DAY / "transactions.csv"
    edit_rows(transactions, {0: {"store_id": "S999"}, 1: {"store_id": "S998"}})
    ids = [row["transaction_id"] for row in csv.DictReader(transactions.open(encoding="utf-8"))][:2]
    warehouse = tmp_path / "w.duckdb"
    assert run(landing, warehouse).success
    assert query(warehouse, "select count(*) from quarantine.pos_transactions")[0][0] == 2

    state = AppState(tmp_path / "app_state.sqlite")
    source_file = f"pos/{DAY}/transactions.csv"
    state.record_decision(
        "pos_transactions", source_file, 2, "release", "steward-ann", corrections={"store_id": "S001"}
    )
    state.record_decision("pos_transactions", source_file, 3, "reject", "steward-ann", reason="test order")
    assert run(landing, warehouse).success

    assert query(
        warehouse, "select store_id from raw.pos_transactions where transaction_id = ?", [ids[0]]
    ) == [("S001",)]
    held = query(warehouse, "select transaction_id, _failed_expectations from quarantine.pos_transactions")
    assert [h[0] for h in held] == [ids[1]]
    assert "rejected by a steward" in json.loads(held[0][1])
    audit = query(
        warehouse,
        "select rows_in, rows_loaded, rows_quarantined from dq.load_audit "
        "where raw_table = 'pos_transactions'",
    )[0]
    assert audit[0] == audit[1] + audit[2] and audit[2] == 1
