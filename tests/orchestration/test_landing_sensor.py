"""The landing sensor starts a run for a source's day once its delivery is complete (a matching
manifest.sha256, or a quiet folder) and never for a file already loaded: real folders, a real DuckDB
serving copy holding the load audit, and the real Definitions' job for the runs it asks for."""

import hashlib
import json
import os
import time
from pathlib import Path

import duckdb
import pytest
from dagster import AssetKey, DagsterInstance, build_sensor_context

from assets.ingestion.assets import raw_asset_key
from assets.ingestion.sources import SOURCES
from orchestration.sensors import (
    MANIFEST_NAME,
    LandingSettings,
    landing_run_requests,
    landing_settings,
    scan_landing,
)

DAY, NEXT_DAY = "2026-03-05", "2026-03-06"
QUIET = {"": LandingSettings(quiet_seconds=60, max_wait_seconds=300)}
TRANSACTIONS = b"transaction_id,store_id\nT1,S001\n"


def deliver(landing: Path, source: str, day: str, name: str, data: bytes) -> Path:
    path = landing / source / day / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def serving_copy(path: Path, loaded: list[tuple[str, bytes]]) -> Path:
    """A published copy whose load audit records ``loaded`` (file, bytes) as loaded."""
    with duckdb.connect(str(path)) as connection:
        connection.execute("create schema dq")
        connection.execute(
            "create table dq.load_audit (source varchar, partition_date date, file varchar, "
            "checksum varchar, status varchar)"
        )
        for file, data in loaded:
            connection.execute(
                "insert into dq.load_audit values (?, ?, ?, ?, 'loaded')",
                [file.split("/")[0], file.split("/")[1], file, hashlib.sha256(data).hexdigest()],
            )
    return path


def test_a_folder_without_a_manifest_waits_for_its_quiet_period(tmp_path: Path):
    landing = tmp_path / "landing"
    deliver(landing, "pos", DAY, "transactions.csv", TRANSACTIONS)
    now = time.time()
    early = scan_landing(landing, {}, tmp_path / "none.duckdb", now, QUIET)
    assert early.due == {}
    assert early.waiting and early.waiting[0].startswith(f"pos/{DAY}: changed")
    assert early.seen == {}  # nothing is remembered before it loads: the next tick looks again
    settled = scan_landing(landing, early.seen, tmp_path / "none.duckdb", now + 61, QUIET)
    checksum = hashlib.sha256(TRANSACTIONS).hexdigest()
    assert settled.due == {("pos", DAY): [(f"pos/{DAY}/transactions.csv", checksum)]}


def test_a_copy_keeping_old_modification_times_still_waits(tmp_path: Path):
    """Regression guard: `cp -p` / copytree keep the vendor's mtimes, so a half-copied folder looked
    quiet at once; the change time (ctime) is when the file arrived here."""
    landing = tmp_path / "landing"
    path = deliver(landing, "pos", DAY, "transactions.csv", TRANSACTIONS)
    os.utime(path, (time.time() - 86400, time.time() - 86400))
    assert scan_landing(landing, {}, tmp_path / "none.duckdb", time.time(), QUIET).due == {}


def test_a_file_still_being_copied_holds_its_folder(tmp_path: Path):
    landing = tmp_path / "landing"
    deliver(landing, "pos", DAY, "transactions.csv", TRANSACTIONS)
    deliver(landing, "pos", DAY, ".transaction_lines.csv.Xa81b", b"transaction_id,line")  # rsync's temp
    scan = scan_landing(landing, {}, tmp_path / "none.duckdb", time.time() + 3600, QUIET)
    assert scan.due == {}
    assert scan.waiting == [f"pos/{DAY}: a file is still being copied"]


def test_a_source_that_never_pauses_loads_after_the_longest_wait(tmp_path: Path):
    """问卷星 pushes land all day: without a pause, the oldest new file's wait decides."""
    landing = tmp_path / "landing"
    deliver(landing, "wjx", DAY, "wjx_instore_push_1.json", b"{}")
    arrived = time.time()
    deliver(landing, "wjx", DAY, "wjx_instore_push_2.json", b"{ }")
    # 30 s later a push came 10 s ago: no quiet minute, but within the longest wait -> waits
    assert scan_landing(landing, {}, tmp_path / "none.duckdb", arrived + 30, QUIET).due == {}
    # past the longest wait (300 s), with the last file settled: loads both
    late = scan_landing(landing, {}, tmp_path / "none.duckdb", arrived + 301, QUIET)
    assert [name for name, _ in late.due[("wjx", DAY)]] == [
        f"wjx/{DAY}/wjx_instore_push_1.json",
        f"wjx/{DAY}/wjx_instore_push_2.json",
    ]


def test_a_manifest_completes_the_delivery_at_once_and_only_when_every_file_matches(tmp_path: Path):
    landing = tmp_path / "landing"
    lines = b"transaction_id,line_number\nT1,1\n"
    listed = {"transactions.csv": TRANSACTIONS, "transaction_lines.csv": lines}
    manifest = "".join(f"{hashlib.sha256(data).hexdigest()}  {name}\n" for name, data in listed.items())
    deliver(landing, "pos", DAY, MANIFEST_NAME, manifest.encode())
    deliver(landing, "pos", DAY, "transactions.csv", TRANSACTIONS)
    now = time.time()  # no quiet period: the manifest says when it is complete
    missing = scan_landing(landing, {}, tmp_path / "none.duckdb", now, QUIET)
    assert missing.waiting == [f"pos/{DAY}: {MANIFEST_NAME} lists transaction_lines.csv, not there yet"]
    deliver(landing, "pos", DAY, "transaction_lines.csv", lines[:-3])  # still being written
    partial = scan_landing(landing, {}, tmp_path / "none.duckdb", now, QUIET)
    assert partial.waiting == [
        f"pos/{DAY}: transaction_lines.csv does not match its checksum in {MANIFEST_NAME} yet"
    ]
    deliver(landing, "pos", DAY, "transaction_lines.csv", lines)
    complete = scan_landing(landing, {}, tmp_path / "none.duckdb", now, QUIET)
    assert sorted(name for name, _ in complete.due[("pos", DAY)]) == [
        f"pos/{DAY}/transaction_lines.csv",
        f"pos/{DAY}/transactions.csv",
    ]  # the manifest itself is no delivered file


def test_a_file_already_loaded_or_requested_never_starts_a_run(tmp_path: Path):
    landing = tmp_path / "landing"
    path = deliver(landing, "pos", DAY, "transactions.csv", TRANSACTIONS)
    serving = serving_copy(tmp_path / "serving.duckdb", [(f"pos/{DAY}/transactions.csv", TRANSACTIONS)])
    later = time.time() + 61
    # loaded before (a new Dagster home over a loaded landing folder): no run
    first = scan_landing(landing, {}, serving, later, QUIET)
    assert first.due == {}
    # copied again with the same bytes (new mtime): still no run, in the audit and in the cursor
    os.utime(path, (time.time() + 5, time.time() + 5))
    assert scan_landing(landing, first.seen, serving, later + 10, QUIET).due == {}
    assert scan_landing(landing, first.seen, tmp_path / "none.duckdb", later + 10, QUIET).due == {}
    # a corrected file under the same name is new content: its day runs, once
    corrected = TRANSACTIONS + b"T2,S002\n"
    path.write_bytes(corrected)
    rerun = scan_landing(landing, first.seen, serving, later + 120, QUIET)
    assert rerun.due == {
        ("pos", DAY): [(f"pos/{DAY}/transactions.csv", hashlib.sha256(corrected).hexdigest())]
    }
    assert scan_landing(landing, rerun.seen, serving, later + 240, QUIET).due == {}


def test_a_cursor_of_the_older_sensor_counts_its_files_as_seen(tmp_path: Path):
    """The sensor's cursor used to hold file -> "size:mtime" only; upgrading starts no backfill."""
    landing = tmp_path / "landing"
    path = deliver(landing, "pos", DAY, "transactions.csv", TRANSACTIONS)
    stat = path.stat()
    old_cursor = {f"pos/{DAY}/transactions.csv": f"{stat.st_size}:{stat.st_mtime_ns}"}
    assert scan_landing(landing, old_cursor, tmp_path / "none.duckdb", time.time() + 61, QUIET).due == {}


def test_landing_settings_default_and_per_source():
    settings = landing_settings({"landing": {"quiet_seconds": 90, "sources": {"wjx": {"quiet_seconds": 15}}}})
    assert settings[""] == LandingSettings(quiet_seconds=90, max_wait_seconds=900)
    assert settings["wjx"] == LandingSettings(quiet_seconds=15, max_wait_seconds=900)
    with pytest.raises(ValueError, match=r"landing.sources.pso: not a source"):
        landing_settings({"landing": {"sources": {"pso": {}}}})
    with pytest.raises(ValueError, match=r"landing.quiet_seconds: '2m' is not a number of seconds"):
        landing_settings({"landing": {"quiet_seconds": "2m"}})


@pytest.fixture(scope="module")
def definitions(tmp_path_factory: pytest.TempPathFactory):
    from cxlake.pipeline.dbt_project import prepare_dbt_manifest
    from orchestration.definitions import build_definitions

    prepare_dbt_manifest()
    home = tmp_path_factory.mktemp("home")
    (home / "landing").mkdir()
    return home, build_definitions(
        str(home / "landing"), str(home / "warehouse.duckdb"), first_partition="2026-03-01"
    )


def test_each_run_loads_only_its_sources_days_and_builds_what_follows(definitions):
    _, defs = definitions
    job = defs.resolve_job_def("daily_pipeline_job")
    due = {
        ("pos", DAY): [(f"pos/{DAY}/transactions.csv", "a")],
        ("qualtrics", DAY): [(f"qualtrics/{DAY}/SV_cxlakeApp_{DAY}.csv", "b")],
        ("pos", NEXT_DAY): [(f"pos/{NEXT_DAY}/transactions.csv", "c")],
    }
    requests = landing_run_requests(due, job)
    summary = [
        (
            r.tags["cxlake/sources"],
            r.tags["dagster/asset_partition_range_start"],
            r.tags["dagster/asset_partition_range_end"],
        )
        for r in requests
    ]
    # the day both delivered is one run of both; the next day only POS's
    assert summary == [("pos", NEXT_DAY, NEXT_DAY), ("pos,qualtrics", DAY, DAY)]
    pos_only = set(requests[0].asset_selection)
    assert AssetKey(["raw", "pos_transactions"]) in pos_only
    assert AssetKey(["raw", "pos_transaction_lines"]) in pos_only
    assert AssetKey(["raw", "qualtrics_responses"]) not in pos_only  # never re-reads another source
    assert AssetKey(["raw", "wjx_responses"]) not in pos_only
    assert AssetKey(["marts", "fct_transactions"]) in pos_only  # the models and the publish follow
    assert AssetKey(["serving", "published_copy"]) in pos_only
    assert AssetKey(["marts", "fct_reviews"]) not in pos_only  # nor what POS does not feed
    both = set(requests[1].asset_selection)
    assert AssetKey(["raw", "qualtrics_responses"]) in both
    assert {AssetKey(["alerts", "cases"]), AssetKey(["serving", "published_copy"])} <= both
    # Dagster can plan each as a run of the job (the dbt models and multi-assets subset)
    for request in requests:
        subset = job.get_subset(asset_selection=set(request.asset_selection))
        assert set(subset.asset_layer.selected_asset_keys) == set(request.asset_selection)
    # the same files give the same run key: Dagster starts such a run once
    assert [r.run_key for r in landing_run_requests(due, job)] == [r.run_key for r in requests]


def test_before_the_first_publish_a_delivery_also_builds_what_no_delivered_source_feeds(definitions):
    _, defs = definitions
    job = defs.resolve_job_def("daily_pipeline_job")
    due = {("pos", DAY): [(f"pos/{DAY}/transactions.csv", "a")]}
    (later,) = landing_run_requests(due, job)
    (first,) = landing_run_requests(due, job, first_build=True)
    assert AssetKey(["marts", "fct_reviews"]) not in later.asset_selection
    selection = set(first.asset_selection)
    assert AssetKey(["marts", "fct_reviews"]) in selection  # every page has its marts at once
    assert {AssetKey(["marts", "dim_store"]), AssetKey(["serving", "published_copy"])} <= selection
    assert AssetKey(["raw", "pos_transactions"]) in selection
    # of the deliveries' tables, only POS's are loaded: no other source's day is read
    deliveries = {raw_asset_key(t.name): source.name for source in SOURCES for t in source.tables}
    assert {deliveries[key] for key in selection if key in deliveries} == {"pos"}
    subset = job.get_subset(asset_selection=selection)  # Dagster can plan it as a run of the job
    assert set(subset.asset_layer.selected_asset_keys) == selection


def test_the_sensor_asks_for_one_run_of_the_new_delivery_and_none_after(definitions):
    home, defs = definitions
    landing = home / "landing"
    listed = hashlib.sha256(TRANSACTIONS).hexdigest()
    deliver(landing, "pos", DAY, "transactions.csv", TRANSACTIONS)
    deliver(landing, "pos", DAY, MANIFEST_NAME, f"{listed}  transactions.csv\n".encode())
    sensor = defs.get_sensor_def("landing_sensor")
    with DagsterInstance.ephemeral() as instance:
        tick = sensor.evaluate_tick(build_sensor_context(instance=instance, definitions=defs))
        again = sensor.evaluate_tick(
            build_sensor_context(instance=instance, cursor=tick.cursor, definitions=defs)
        )
    assert [r.tags["cxlake/sources"] for r in tick.run_requests] == ["pos"]
    assert tick.run_requests[0].tags["dagster/asset_partition_range_start"] == DAY
    assert json.loads(tick.cursor)[f"pos/{DAY}/transactions.csv"][1] == listed
    assert again.run_requests == []


def test_the_schedule_and_the_sensors_are_on_wherever_the_daemon_runs(definitions):
    """`make dagster-ui` starts the daemon; nobody has to switch anything on in the UI first."""
    from dagster import DefaultScheduleStatus, DefaultSensorStatus

    _, defs = definitions
    sensors = {sensor.name: sensor.default_status for sensor in defs.sensors}
    assert sensors == {
        "landing_sensor": DefaultSensorStatus.RUNNING,
        "case_clock": DefaultSensorStatus.RUNNING,
        "freshness_sensor": DefaultSensorStatus.RUNNING,
        "run_failure_notifier": DefaultSensorStatus.RUNNING,
    }
    schedule = defs.resolve_schedule_def("daily_pipeline_job_schedule")
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("0 2 * * *", "Asia/Shanghai")
    assert schedule.default_status == DefaultScheduleStatus.RUNNING
    # freshness is judged by its sensor, never inside a load
    job = defs.resolve_job_def("daily_pipeline_job")
    checks = {key.name for key in job.asset_layer.asset_graph.asset_check_keys}
    assert "load_audit_balances" in checks and "delivery_freshness" not in checks
