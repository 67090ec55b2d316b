"""The quality gate on a real slice of demo deliveries: quarantine loses nothing, blocks stop bad days."""

from __future__ import annotations

import csv
import json
import shutil

import duckdb
import pandas as pd
import pytest
from dagster import materialize

from assets.ingestion.assets import build_ingestion_assets
from assets.ingestion.loading import prepare_warehouse
from assets.ingestion.raw_tables import POS_TRANSACTION_LINES
from cxlake.app_state import AppState
from cxlake.pipeline.partitions import daily_partitions
from cxlake.pipeline.resources import LandingZone, Warehouse
from expectations.gate import History
from expectations.suites import SUITES

DAY = "2026-03-04"


# Partitions wide enough for any day a test delivers.
INGESTION_ASSETS = build_ingestion_assets(daily_partitions("2020-01-01"))


def ingest(source: str):
    return next(a for a in INGESTION_ASSETS if a.node_def.name == f"ingest_{source}")


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

    result = run(landing, warehouse)
    assert result.success

    # the warning check says what it found: the rule, how many rows, a sample with its file:line
    warnings = next(
        e
        for e in result.get_asset_check_evaluations()
        if e.check_name == "quality_warnings" and e.asset_key.to_user_string() == "raw/pos_transactions"
    )
    assert not warnings.passed and warnings.metadata["rows_quarantined"].value == 2
    store_rule = next(
        r
        for r in warnings.metadata["rules"].value
        if r["rule"] == "expect_column_values_to_be_in_set(store_id)"
    )
    assert store_rule["rows"] == 1 and store_rule["samples"] == [f'"S999" @ pos/{DAY}/transactions.csv:2']

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


def gate_checks(result) -> dict[tuple[str, str], bool]:
    return {
        (e.asset_key.to_user_string(), e.check_name): e.passed for e in result.get_asset_check_evaluations()
    }


def test_a_day_with_too_many_bad_rows_is_held_back_keeps_its_previous_state_and_is_audited(landing, tmp_path):
    warehouse = tmp_path / "w.duckdb"
    assert run(landing, warehouse).success
    before = query(warehouse, "select count(*) from raw.pos_transactions")[0][0]

    transactions = landing / "pos" / DAY / "transactions.csv"
    edit_rows(transactions, {i: {"store_id": "S999"} for i in range(200)})  # ~10% of the day
    result = run(landing, warehouse, raise_on_error=False)

    # the run goes on (other partitions would load); the gate's check reports the held-back day
    assert result.success
    assert gate_checks(result)[("raw/pos_transactions", "quality_gate")] is False
    assert query(warehouse, "select count(*) from raw.pos_transactions")[0][0] == before
    # the rows that broke a rule are in quarantine for a steward, although their day was held back
    assert query(warehouse, "select count(distinct store_id), count(*) from quarantine.pos_transactions") == [
        (1, 200)
    ]
    audit = query(
        warehouse,
        "select status, rows_in, rows_loaded, rows_quarantined, rows_held_back from dq.load_audit "
        "where raw_table = 'pos_transactions' order by status",
    )
    assert [a[0] for a in audit] == ["held_back", "loaded"]  # the attempt, and what raw still holds
    status, rows_in, loaded, quarantined, held_back = audit[0]
    assert (loaded, quarantined, held_back) == (0, 200, rows_in - 200) and audit[1][1] == before
    blocked = query(
        warehouse,
        "select block_reason, rows_quarantined from dq.validation_runs "
        "where raw_table = 'pos_transactions' and blocked",
    )
    assert len(blocked) == 1 and "quarantined" in blocked[0][0] and blocked[0][1] == 200


def test_a_few_bad_rows_in_a_small_file_are_quarantined_without_holding_the_day_back(landing, tmp_path):
    transactions = landing / "pos" / DAY / "transactions.csv"
    rows = list(csv.DictReader(transactions.open(encoding="utf-8")))[:30]
    with transactions.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, list(rows[0]), lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(rows)
    edit_rows(transactions, {0: {"store_id": "S999"}, 1: {"amount": "abc"}})  # 2 of 30: 6.7% > 5%
    warehouse = tmp_path / "w.duckdb"

    result = run(landing, warehouse)

    assert gate_checks(result)[("raw/pos_transactions", "quality_gate")] is True
    assert query(warehouse, "select count(*) from raw.pos_transactions")[0][0] == 28
    assert query(warehouse, "select count(*) from quarantine.pos_transactions")[0][0] == 2


def test_a_run_tagged_to_confirm_a_held_back_day_fails_naming_day_source_file_and_reason(landing, tmp_path):
    from assets.ingestion.assets import FAIL_IF_HELD_BACK_TAG

    warehouse = tmp_path / "w.duckdb"
    (landing / "pos" / DAY / "transaction_lines.csv").write_bytes(b'transaction_id,line_number\r\n"T1,1\r\n')
    assert run(landing, warehouse, raise_on_error=False).success  # the roster loads, the day is held
    resources = {"landing": LandingZone(root=str(landing)), "warehouse": Warehouse(path=str(warehouse))}
    result = materialize(
        [ingest("pos")],
        resources=resources,
        partition_key=DAY,
        tags={FAIL_IF_HELD_BACK_TAG: "true"},
        raise_on_error=False,
    )
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    message = failure.step_failure_data.error.message
    assert f"held back: {DAY} pos (" in message
    assert f"pos/{DAY}/transaction_lines.csv" in message


def test_an_unreadable_file_blocks_its_day_with_the_file_and_reason(landing, tmp_path):
    warehouse = tmp_path / "w.duckdb"
    (landing / "pos" / DAY / "transaction_lines.csv").write_bytes(b'transaction_id,line_number\r\n"T1,1\r\n')
    result = run(landing, warehouse, raise_on_error=False)
    assert gate_checks(result)[("raw/pos_transactions", "quality_gate")] is False
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


def test_history_names_only_the_run_s_keys_already_loaded_from_other_days(tmp_path):
    """The duplicate-key check against history is a join inside DuckDB: of the run's keys, those
    raw.* holds from a day outside the run (T1's line), not those of the run's own days (T3's)."""
    with duckdb.connect(str(tmp_path / "w.duckdb")) as connection:
        prepare_warehouse(connection, [POS_TRANSACTION_LINES])
        columns = ", ".join(POS_TRANSACTION_LINES.columns)
        for day, transaction in (("2026-03-01", "T1"), ("2026-03-01", "T2"), (DAY, "T3")):
            connection.execute(
                f"insert into raw.pos_transaction_lines ({columns}, _partition_date, _source_file, "
                "_loaded_at) values (?, '1', 'P1', 'tea', 'tea', '1', '2', '2', ?, 'f.csv', now())",
                [transaction, day],
            )
        batch = pd.DataFrame(
            {"transaction_id": ["T1", "T3", "T4", "T1"], "line_number": ["1", "1", "1", "2"]}, dtype="string"
        )
        history = History(connection, lambda raw_table: {})
        found = history.keys_loaded_elsewhere(SUITES["pos_transaction_lines"], batch, [DAY])
    assert found == {"T1#1"}
