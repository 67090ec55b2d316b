"""DuckDB has one writer: two real `cxlake run` processes started seconds apart on one warehouse
both succeed, the second saying whom it waits for (no DuckDB lock error), the second starting its
Dagster run only after the first ended, and the marts they leave equal those of a single run."""

import os
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import duckdb
import pytest
from dagster import AssetExecutionContext, DagsterInstance, asset, materialize

from cxlake.pipeline.resources import Warehouse
from cxlake.warehouse_lock import current_writer

START = date(2026, 3, 2)
DAYS = 3


def cxlake_run(home, landing, logs) -> subprocess.Popen:
    """`cxlake run` as a user starts it; its output goes to files in ``logs`` (pipes not read at
    once would fill and stall a run that is not waited for first)."""
    logs.mkdir(parents=True)
    with (logs / "out.txt").open("w") as out, (logs / "err.txt").open("w") as err:
        return subprocess.Popen(
            [str(Path(sys.executable).with_name("cxlake")), "run", "--landing", str(landing)],
            env={**os.environ, "CXLAKE_HOME": str(home)},
            stdout=out,
            stderr=err,
        )


def outputs_of(logs) -> tuple[str, str]:
    return (logs / "out.txt").read_text(encoding="utf-8"), (logs / "err.txt").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def overlapping_runs(tmp_path_factory):
    from cxlake.generator import generate

    root = tmp_path_factory.mktemp("one_writer")
    landing = root / "landing"
    generate(landing, scale="small", seed=5, start=START, days=DAYS, progress=False)
    shared, single = root / "shared_home", root / "single_home"
    first = cxlake_run(shared, landing, root / "first")
    deadline = time.monotonic() + 300
    while current_writer(shared / "warehouse.duckdb") is None:  # the first run holds the warehouse
        assert first.poll() is None, outputs_of(root / "first")
        assert time.monotonic() < deadline, "the first run never took the warehouse"
        time.sleep(0.5)
    holder = current_writer(shared / "warehouse.duckdb")
    time.sleep(3)
    second = cxlake_run(shared, landing, root / "second")
    alone = cxlake_run(single, landing, root / "alone")  # another warehouse: waits for nobody
    codes = [process.wait(timeout=3000) for process in (first, second, alone)]
    outputs = [outputs_of(root / name) for name in ("first", "second", "alone")]
    return shared, single, holder, first, outputs, codes


def test_both_runs_succeed_and_the_second_says_whom_it_waited_for(overlapping_runs):
    _, _, holder, first, outputs, codes = overlapping_runs
    assert codes == [0, 0, 0], outputs
    waiting = [line for line in outputs[1][1].splitlines() if line.startswith("waiting for ")]
    assert waiting == [f"waiting for {holder.describe()} to finish…"]
    assert holder.pid == first.pid and holder.command.startswith("cxlake run --landing ")
    assert f"run {holder.run}: 2026-03-02..2026-03-04 ok" in outputs[0][0]
    for _, stderr in outputs:
        assert "Could not set lock" not in stderr and "Traceback" not in stderr
    assert not any(line.startswith("waiting for ") for line in outputs[2][1].splitlines())


def test_the_second_dagster_run_started_after_the_first_ended(overlapping_runs):
    shared, _, holder, _, _, _ = overlapping_runs
    with DagsterInstance.from_config(str(shared / "dagster")) as instance:
        records = sorted(instance.get_run_records(), key=lambda record: record.start_time)
    assert len(records) == 2
    assert records[0].dagster_run.run_id == holder.run
    assert records[1].start_time >= records[0].end_time


# What no two runs share, overlapped or not: a case's id and opening time are minted when a run
# first opens it in its home's case store, and the case snapshot is stamped with its run's time.
WALL_CLOCK = {"case_id", "opened_at", "snapshot_at"}
# Keyed pseudonyms: each home has its own key (cxlake/privacy/pseudonym.py), so two homes differ there.
KEYED_PER_HOME = {"device_pseudonym"}


def marts(path) -> dict[str, list[tuple]]:
    """Every marts table's rows, sorted (row order is not part of a table's content), without the
    wall-clock columns and with floats to 9 decimals (DuckDB's parallel sums add in varying order:
    60.0 in one run, 59.99999999999999 in another)."""
    tables = {}
    with duckdb.connect(str(path), read_only=True) as connection:
        names = connection.execute(
            "select table_name from information_schema.tables "
            "where table_schema = 'marts' and table_type = 'BASE TABLE' order by 1"
        ).fetchall()
        for (name,) in names:
            cursor = connection.execute(f'select * from marts."{name}"')
            columns = [column[0] for column in cursor.description]
            rows = [
                tuple(
                    round(value, 9) if isinstance(value, float) else value
                    for column, value in zip(columns, row, strict=True)
                    if column not in WALL_CLOCK | KEYED_PER_HOME
                )
                for row in cursor.fetchall()
            ]
            tables[name] = sorted(rows, key=repr)
    return tables


def test_the_marts_equal_those_of_a_single_run(overlapping_runs):
    shared, single, *_ = overlapping_runs
    overlapped, alone = marts(shared / "serving.duckdb"), marts(single / "serving.duckdb")
    assert len(alone) > 10 and sum(map(len, alone.values())) > 1000
    assert overlapped.keys() == alone.keys()
    different = [name for name in alone if overlapped[name] != alone[name]]
    assert different == []


HOLDER = """
import sys, time
from pathlib import Path
from cxlake.warehouse_lock import warehouse_writer
with warehouse_writer(Path(sys.argv[1]), "cli-run", command="cxlake run --landing L"):
    print("holding", flush=True)
    time.sleep(8)  # longer than a run takes to reach its resources, so the run does wait
"""


@asset
def writer_seen(context: AssetExecutionContext, warehouse: Warehouse) -> None:
    """Records who holds the warehouse while a Dagster run's step executes."""
    context.add_output_metadata({"holder": current_writer(warehouse.database).run})


def test_a_dagster_run_waits_for_the_cli_and_then_holds_the_warehouse(tmp_path, capfd):
    """Runs the daemon launches (schedule, sensor, UI backfill) take the same lock as the CLI."""
    database = tmp_path / "warehouse.duckdb"
    cli = subprocess.Popen([sys.executable, "-c", HOLDER, str(database)], stdout=subprocess.PIPE, text=True)
    assert cli.stdout.readline() == "holding\n"
    with DagsterInstance.ephemeral() as instance:
        result = materialize(
            [writer_seen], instance=instance, resources={"warehouse": Warehouse(path=str(database))}
        )
        assert cli.poll() == 0  # the run's step ran only after the CLI's run had ended
        (materialization,) = result.asset_materializations_for_node("writer_seen")
        assert materialization.metadata["holder"].value == result.run_id
    assert f"waiting for run cli-run (pid {cli.pid}, started at " in capfd.readouterr().err
    assert current_writer(database) is None
