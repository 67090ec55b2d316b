"""The app's event files go through the gate like every delivery: a re-sent event loads once, a broken
line is quarantined alone with its file and line, a late event loads on the day it was received."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import duckdb
import pytest
from dagster import materialize
from loopback_api import write_roster

from assets.ingestion.app_events import load_app_events
from assets.ingestion.assets import build_ingestion_assets
from cxlake.delivered_files import DeliveredFileError
from cxlake.pipeline.partitions import daily_partitions
from cxlake.pipeline.resources import LandingZone, Warehouse

DAY_1, DAY_2 = "2026-03-04", "2026-03-05"
INGESTION = {a.node_def.name: a for a in build_ingestion_assets(daily_partitions("2020-01-01"))}


def event(event_id: str, received: str, **fields) -> dict:
    """One event as the app's SDK sends it, every field of the contract present."""
    return {
        "event_id": event_id,
        "occurred_at": fields.pop("occurred_at", received),
        "received_at": received,
        "device_id": "d0a1b2c3d4e5f",
        "member_id": None,
        "session_hint": "3",
        "event_type": "page_view",
        "page": "menu",
        "item": None,
        "price": None,
        "order_id": None,
        "dwell_ms": 4200,
        "store_id": "S001",
        "error_code": None,
        "app_version": "5.3.0",
    } | fields


def write_lines(path: Path, lines: list[str | dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "\n".join(
        line if isinstance(line, str) else json.dumps(line, ensure_ascii=False) for line in lines
    )
    path.write_text(text + "\n", encoding="utf-8")


@pytest.fixture
def landing(tmp_path) -> Path:
    landing = tmp_path / "landing"
    write_roster(landing, DAY_1)
    write_lines(
        landing / "app_events" / DAY_1 / "events_09.jsonl",
        [
            event("e01", "2026-03-04T09:00:01.120+08:00", occurred_at="2026-03-04T09:00:00.900+08:00"),
            event(
                "e02",
                "2026-03-04T09:00:09.000+08:00",
                event_type="add_to_cart",
                page="item",
                item="P03",
                price=28.0,
                dwell_ms=None,
                member_id="C000123",
            ),  # fmt: skip
            '{"event_id": "e03", "occurred_at": "2026-03-04T09:01:00+08:00", "received_at": ',  # cut off
            "",
            event("e01", "2026-03-04T09:00:40.000+08:00", occurred_at="2026-03-04T09:00:00.900+08:00"),
            event("e04", "2026-03-04T09:02:00.000+08:00", price="二十八", event_type="add_to_cart"),
        ],
    )
    # the next day: e01 re-sent once more, and a phone that was offline sends yesterday's evening
    (landing / "app_events" / DAY_2).mkdir()
    with gzip.open(landing / "app_events" / DAY_2 / "events_07.jsonl.gz", "wt", encoding="utf-8") as handle:
        for line in (
            event("e01", "2026-03-05T07:00:00.000+08:00", occurred_at="2026-03-04T09:00:00.900+08:00"),
            event(
                "e05",
                "2026-03-05T07:10:00.000+08:00",
                occurred_at="2026-03-04T21:40:00.000+08:00",
                event_type="order_placed",
                page="payment",
                order_id="T00000042",
                price=56.5,
            ),  # fmt: skip
            ["not", "an", "event"],
        ):
            handle.write(json.dumps(line) + "\n")
    return landing


def ingest(landing: Path, warehouse: Path):
    return materialize(
        [INGESTION["ingest_reference"], INGESTION["ingest_app_events"]],
        tags={"dagster/asset_partition_range_start": DAY_1, "dagster/asset_partition_range_end": DAY_2},
        resources={"landing": LandingZone(root=str(landing)), "warehouse": Warehouse(path=str(warehouse))},
    )


def rows(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return connection.execute(sql).fetchall()


def test_each_event_loads_once_and_each_broken_line_alone_with_its_file_and_line(landing, tmp_path):
    warehouse = tmp_path / "w.duckdb"
    assert ingest(landing, warehouse).success
    loaded = "select event_id, cast(_partition_date as varchar), price from raw.app_events order by event_id"
    assert rows(warehouse, loaded) == [
        ("e01", DAY_1, None),
        ("e02", DAY_1, "28.0"),
        ("e05", DAY_2, "56.5"),  # occurred the evening before, received (and loaded) on the day after
    ]
    held = (
        "select _source_file, _source_row, _failed_expectations from quarantine.app_events "
        "order by _source_file, _source_row"
    )
    quarantined = rows(warehouse, held)
    assert [(file, line) for file, line, _ in quarantined] == [
        (f"app_events/{DAY_1}/events_09.jsonl", 3),  # the cut-off line (the blank line 4 is no event)
        (f"app_events/{DAY_1}/events_09.jsonl", 5),  # e01 re-sent within the day
        (f"app_events/{DAY_1}/events_09.jsonl", 6),  # a price that is not a number
        (f"app_events/{DAY_2}/events_07.jsonl.gz", 1),  # e01 re-sent the next day
        (f"app_events/{DAY_2}/events_07.jsonl.gz", 3),  # a JSON list, not an event
    ]
    reasons = [reason for _, _, reason in quarantined]
    assert "expect_column_values_to_be_null(_record_problem)" in reasons[0]
    assert json.loads(reasons[1]) == ["expect_column_values_to_be_in_set(event_id_repeated)"]
    assert json.loads(reasons[2]) == ["expect_column_values_to_be_in_set(price_not_a_number)"]
    assert json.loads(reasons[3]) == ["expect_column_values_to_be_in_set(event_id_repeated)"]  # one run
    assert "expect_column_values_to_be_null(_record_problem)" in reasons[4]
    audit = (
        "select cast(partition_date as varchar), sum(rows_in), sum(rows_loaded), sum(rows_quarantined) "
        "from dq.load_audit where raw_table = 'app_events' group by 1 order by 1"
    )
    assert rows(warehouse, audit) == [(DAY_1, 5, 2, 3), (DAY_2, 3, 1, 2)]


def test_a_rerun_of_the_same_days_changes_nothing(landing, tmp_path):
    warehouse = tmp_path / "w.duckdb"
    assert ingest(landing, warehouse).success
    before = rows(warehouse, "select * exclude (_loaded_at) from raw.app_events order by event_id")
    assert ingest(landing, warehouse).success
    assert rows(warehouse, "select * exclude (_loaded_at) from raw.app_events order by event_id") == before


def test_a_truncated_gzip_file_is_refused_by_name(tmp_path):
    folder = tmp_path / "app_events" / DAY_1
    folder.mkdir(parents=True)
    (folder / "events_10.jsonl.gz").write_bytes(gzip.compress(b'{"event_id": "e1"}\n' * 50)[:40])
    with pytest.raises(DeliveredFileError, match=r"events_10\.jsonl\.gz.*not a complete gzip file"):
        load_app_events(tmp_path, folder, DAY_1)


def test_each_broken_line_is_named_with_its_file_line_and_problem(landing):
    day_1 = load_app_events(landing, landing / "app_events" / DAY_1, DAY_1)
    day_2 = load_app_events(landing, landing / "app_events" / DAY_2, DAY_2)
    assert [*day_1.warnings, *day_2.warnings] == [
        f"app_events/{DAY_1}/events_09.jsonl:3: not valid JSON (Expecting value at column 80); quarantined",
        f"app_events/{DAY_2}/events_07.jsonl.gz:3: a JSON list, not an event object; quarantined",
    ]


def test_unknown_fields_and_files_are_named_in_warnings(tmp_path):
    folder = tmp_path / "app_events" / DAY_1
    write_lines(folder / "events_11.jsonl", [event("e1", "2026-03-04T11:00:00+08:00", screen_width=390)])
    (folder / "notes.txt").write_text("hello", encoding="utf-8")
    load = load_app_events(tmp_path, folder, DAY_1)
    assert load.warnings == [
        f"app_events/{DAY_1}/notes.txt: not an events file (*.jsonl); left unread",
        f"app_events/{DAY_1}/events_11.jsonl: field(s) the contract does not know, not loaded: screen_width",
    ]
    assert load.frames["app_events"]["dwell_ms"].tolist() == ["4200"]


def test_days_read_in_batches_load_as_in_one(landing, tmp_path, monkeypatch):
    """A long range is read, gated and written a batch of days at a time (memory of one batch): with
    one day per batch the same rows load and wait in quarantine; the next day's re-sent e01 is then
    'loaded from another day' instead of 'repeated in the run'."""
    from assets.ingestion import sources

    in_one = tmp_path / "one.duckdb"
    assert ingest(landing, in_one).success
    monkeypatch.setattr(sources, "configured_batch_bytes", lambda: 1)
    source = next(s for s in sources.SOURCES if s.name == "app_events")
    assert sources.batches_of_days(source, landing, [DAY_1, DAY_2]) == [[DAY_1], [DAY_2]]
    day_by_day = tmp_path / "days.duckdb"
    assert ingest(landing, day_by_day).success
    for sql in (
        "select * exclude (_loaded_at) from raw.app_events order by event_id",
        "select _source_file, _source_row from quarantine.app_events order by all",
        "select partition_date, file, rows_in, rows_loaded, rows_quarantined from dq.load_audit order by all",
    ):
        assert rows(day_by_day, sql) == rows(in_one, sql)
    resent = (
        "select _failed_expectations from quarantine.app_events "
        "where _source_file like '%.gz' and _source_row = 1"
    )
    assert json.loads(rows(day_by_day, resent)[0][0]) == [
        "expect_column_values_to_be_in_set(event_loaded_before)"
    ]


def test_a_batch_holds_consecutive_days_up_to_its_size(tmp_path):
    from assets.ingestion import sources

    source = next(s for s in sources.SOURCES if s.name == "app_events")
    for day, size in (("2026-03-01", 60), ("2026-03-02", 30), ("2026-03-03", 30), ("2026-03-04", 200)):
        (tmp_path / "app_events" / day).mkdir(parents=True)
        (tmp_path / "app_events" / day / "events_00.jsonl").write_bytes(b"x" * size)
    (tmp_path / "app_events" / "2026-03-05").mkdir()
    (tmp_path / "app_events" / "2026-03-05" / "events_00.jsonl.gz").write_bytes(b"x" * 20)  # ~160 inflated
    days = ["2026-03-01", "2026-03-02", "2026-03-03", "2026-03-04", "2026-03-05", "2026-03-06"]
    assert sources.batches_of_days(source, tmp_path, days, max_bytes=100) == [
        ["2026-03-01", "2026-03-02"],
        ["2026-03-03"],
        ["2026-03-04"],  # larger than a batch: a batch of its own
        ["2026-03-05", "2026-03-06"],  # a day with no folder adds nothing
    ]


def test_the_batch_size_comes_from_pipeline_yaml_and_a_bad_one_names_the_key():
    from assets.ingestion import sources

    assert sources.configured_batch_bytes() == 256 * 1024 * 1024
    assert sources.configured_batch_bytes({"ingestion": {"batch_megabytes": 64}}) == 64 * 1024 * 1024
    assert sources.configured_batch_bytes({}) == 256 * 1024 * 1024
    for bad in (0, "256MB", 1.5, True):
        with pytest.raises(ValueError, match=r"pipeline.yaml: ingestion.batch_megabytes"):
            sources.configured_batch_bytes({"ingestion": {"batch_megabytes": bad}})
