"""`cxlake run` tells the console why the quality gate blocked a run."""

from __future__ import annotations

import duckdb

from orchestration.runner import blocked_reasons


def test_blocked_reasons_are_the_runs_own_distinct_one_line_reasons(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute("create schema dq")
        connection.execute(
            "create table dq.validation_runs "
            "(run_id varchar, raw_table varchar, blocked boolean, block_reason varchar)"
        )
        connection.execute(
            "insert into dq.validation_runs values "
            "('r1', 'pos_transactions', true, 'pos/d/a.csv: empty file'), "
            "('r1', 'pos_transaction_lines', true, 'pos/d/a.csv: empty file'), "
            "('r1', 'reviews', false, null), "
            "('r0', 'pos_transactions', true, 'an older run')"
        )
    assert blocked_reasons(warehouse, "r1") == ("pos/d/a.csv: empty file",)


def test_no_reasons_when_the_run_failed_before_the_gate(tmp_path):
    assert blocked_reasons(tmp_path / "missing.duckdb", "r1") == ()
