"""One bad day must not hold back the rest (regression: a run with one broken day published nothing,
and the steward could not even see the rows that broke it)."""

from __future__ import annotations

import csv
from datetime import date

import duckdb
import pytest
from dagster import AssetKey, AssetPartitionStatus, DagsterInstance
from typer.testing import CliRunner

from cxlake.app_state import AppState
from cxlake.cli import app
from cxlake.pipeline.partitions import daily_partitions

START = date(2026, 3, 2)
DAYS = ["2026-03-02", "2026-03-03", "2026-03-04", "2026-03-05"]
BAD_DAY = "2026-03-04"


def edit_every_eighth_row(path, changes: dict[str, str]) -> list[str]:
    """12.5% of the day's rows broken: over the 5% share and the 10-row minimum, so the day is held."""
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    rows_to_edit = range(0, len(rows), 8)
    for index in rows_to_edit:
        rows[index].update(changes)
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, list(rows[0]), lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(rows)
    return [rows[i]["transaction_id"] for i in rows_to_edit]


def query(path, sql, params=()):
    with duckdb.connect(str(path), read_only=True) as connection:
        return connection.execute(sql, list(params)).fetchall()


@pytest.fixture(scope="module")
def held_back_run(tmp_path_factory):
    from cxlake.generator import generate

    home = tmp_path_factory.mktemp("held_back_home")
    landing = home / "landing"
    generate(landing, scale="small", seed=11, start=START, days=len(DAYS), progress=False)
    transactions = landing / "pos" / BAD_DAY / "transactions.csv"
    ids = edit_every_eighth_row(transactions, {"store_id": "S999"})
    (landing / "pos" / "2026-13-40").mkdir()  # a misnamed day folder: named, skipped, said
    runner = CliRunner()
    env = {"CXLAKE_HOME": str(home)}
    result = runner.invoke(app, ["run", "--landing", str(landing)], env=env)
    return home, landing, ids, result, runner, env


def test_the_run_exits_non_zero_naming_the_held_back_partition_and_the_skipped_folder(held_back_run):
    _, _, ids, result, _, _ = held_back_run
    assert result.exit_code == 1, result.output
    held = [line for line in result.output.splitlines() if line.startswith("held back:")]
    assert len(held) == 1
    assert held[0].startswith(f"held back: {BAD_DAY} pos (") and f"pos/{BAD_DAY}/transactions.csv" in held[0]
    assert f"{len(ids)} of" in held[0] and "quarantined" in held[0]
    assert "skipped: pos/2026-13-40: not a calendar day, skipped" in result.output
    assert "published" in result.output


def test_every_other_partition_loads_and_is_published_and_the_held_back_day_is_audited(held_back_run):
    home, _, ids, _, _, _ = held_back_run
    serving = home / "serving.duckdb"
    days = query(  # raw stays in the warehouse: the serving copy holds the served schemas only
        home / "warehouse.duckdb",
        "select distinct cast(_partition_date as varchar) from raw.pos_transactions order by 1",
    )
    assert [d for (d,) in days] == [d for d in DAYS if d != BAD_DAY]
    survey_days = query(
        home / "warehouse.duckdb",
        "select count(distinct cast(_partition_date as varchar)) from raw.qualtrics_responses",
    )
    assert survey_days == [(len(DAYS),)]  # the other sources of the bad day loaded
    audit = query(
        home / "warehouse.duckdb",
        "select status, rows_in, rows_loaded, rows_quarantined, rows_held_back from dq.load_audit "
        "where raw_table = 'pos_transactions' and partition_date = ?",
        [BAD_DAY],
    )
    assert len(audit) == 1 and audit[0][0] == "held_back"
    _, rows_in, loaded, quarantined, held_back = audit[0]
    assert (loaded, quarantined, held_back) == (0, len(ids), rows_in - len(ids))
    assert query(serving, "select count(*) from quarantine.pos_transactions") == [(len(ids),)]


def test_dagster_shows_the_held_back_partition_failed_and_the_others_materialized(held_back_run):
    home, _, _, _, _, _ = held_back_run
    with DagsterInstance.from_ref(DagsterInstance.local_temp(str(home / "dagster")).get_ref()) as instance:
        status = instance.get_status_by_partition(
            AssetKey(["raw", "pos_transactions"]), DAYS, daily_partitions(DAYS[0])
        )
    assert status[BAD_DAY] == AssetPartitionStatus.FAILED
    assert {status[d] for d in DAYS if d != BAD_DAY} == {AssetPartitionStatus.MATERIALIZED}


def test_releasing_the_rows_and_re_running_the_day_fills_the_gap(held_back_run):
    home, landing, ids, _, runner, env = held_back_run
    state = AppState(home / "app_state.sqlite")
    held = query(
        home / "warehouse.duckdb", "select _source_file, _source_row from quarantine.pos_transactions"
    )
    for source_file, source_row in held:
        state.record_decision(
            "pos_transactions",
            source_file,
            source_row,
            "release",
            "steward-ann",
            corrections={"store_id": "S001"},
        )

    result = runner.invoke(
        app, ["run", "--landing", str(landing), "--start", BAD_DAY, "--end", BAD_DAY], env=env
    )

    assert result.exit_code == 0, result.output
    serving = home / "serving.duckdb"
    days = query(  # raw stays in the warehouse: the serving copy holds the served schemas only
        home / "warehouse.duckdb",
        "select distinct cast(_partition_date as varchar) from raw.pos_transactions order by 1",
    )
    assert [d for (d,) in days] == DAYS
    stores = query(
        serving,
        "select distinct store_id from marts.fct_transactions where list_contains(?, transaction_id)",
        [ids],
    )
    assert stores == [("S001",)]
    assert query(serving, "select count(*) from quarantine.pos_transactions") == [(0,)]
