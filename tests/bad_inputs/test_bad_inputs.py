"""The bad-input catalogue: every broken delivery in tests/fixtures/bad_inputs/ meets the outcome
written beside it (loads / quarantines rows / blocks with a message), and nothing is ever lost.

Each case runs the shared roster and the case's source through the real ingestion assets into a
fresh warehouse, then reads the verdict from dq.*, raw.* and quarantine.*. Symbolic links are made at
run time (``symlinks`` in expected.yaml: link -> target, ``{outside}`` being the case's ``outside/``
folder copied beside landing/), so that no link is committed.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import re
import shutil
import sys
from pathlib import Path

import duckdb
import pytest
import yaml
from dagster import materialize

from assets.ingestion.assets import build_ingestion_assets
from cxlake.pipeline.partitions import PARTITION_RANGE_END_TAG, PARTITION_RANGE_START_TAG, daily_partitions
from cxlake.pipeline.resources import LandingZone, Warehouse

CATALOGUE = Path(__file__).parents[1] / "fixtures" / "bad_inputs"
ROSTER = CATALOGUE / "_roster"
CASES = sorted(p for p in CATALOGUE.iterdir() if (p / "expected.yaml").is_file())
ANSWERS_OF = {"qualtrics_responses": "qualtrics_answers", "wjx_responses": "wjx_answers"}
BLOCKING_CHECK_FAILED = "DagsterAssetCheckFailedError"  # the only way a blocked day may fail a run


# Partitions wide enough for any day a test delivers.
INGESTION_ASSETS = build_ingestion_assets(daily_partitions("2020-01-01"))


def ingest(source: str):
    return next(a for a in INGESTION_ASSETS if a.node_def.name == f"ingest_{source}")


class Verdict:
    """What one run of a case left behind in its warehouse."""

    def __init__(self, result, warehouse: Path):
        self.result = result
        self.connection = duckdb.connect(str(warehouse), read_only=True)

    def rows(self, sql: str, params=()) -> list[tuple]:
        return self.connection.execute(sql, list(params)).fetchall()

    def count(self, schema: str, table: str, day: str | None = None) -> int:
        where = " where _partition_date = ?" if day else ""
        return self.rows(f'select count(*) from {schema}."{table}"{where}', [day] if day else [])[0][0]

    def crashes(self) -> list[str]:
        """Step failures that are not a blocking check doing its job (a traceback, not a verdict)."""
        return [
            f"{event.step_key}: {event.step_failure_data.error.message.splitlines()[0]}"
            for event in self.result.all_events
            if event.event_type_value == "STEP_FAILURE"
            and event.step_failure_data.error.cls_name != BLOCKING_CHECK_FAILED
        ]


def run(source: str, landing: Path, warehouse: Path, first_day: str, last_day: str):
    """One run of the roster and the case's source over the days [first_day, last_day]."""
    return materialize(
        [ingest("reference"), ingest(source)],
        resources={"landing": LandingZone(root=str(landing)), "warehouse": Warehouse(path=str(warehouse))},
        tags={PARTITION_RANGE_START_TAG: first_day, PARTITION_RANGE_END_TAG: last_day},
        raise_on_error=False,
    )


@pytest.fixture(scope="module", autouse=True)
def uncommitted_deliveries() -> None:
    """Deliveries too large to commit are written from make_cases.py before the cases run."""
    spec = importlib.util.spec_from_file_location("bad_input_cases", CATALOGUE / "make_cases.py")
    make_cases = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = make_cases  # its dataclasses look their module up there
    spec.loader.exec_module(make_cases)
    make_cases.write_uncommitted()


@pytest.fixture(params=CASES, ids=[p.name for p in CASES])
def case(request, tmp_path):
    """(expected outcome, verdict) of one case run on a copy of its landing folder plus the roster."""
    folder: Path = request.param
    expected = yaml.safe_load((folder / "expected.yaml").read_text(encoding="utf-8"))
    landing = tmp_path / "landing"
    if (folder / "delivered").is_dir():
        shutil.copytree(folder / "delivered", landing)
    shutil.copytree(ROSTER / "reference", landing / "reference")
    if (folder / "outside").is_dir():
        shutil.copytree(folder / "outside", tmp_path / "outside")
    for link, target in expected.get("symlinks", {}).items():
        (landing / link).parent.mkdir(parents=True, exist_ok=True)
        (landing / link).symlink_to(target.replace("{outside}", str(tmp_path / "outside")))
    warehouse = tmp_path / "warehouse.duckdb"
    first_day = sorted(p.name for p in (ROSTER / "reference").iterdir())[0]
    if until := expected.get("first_run_until"):  # an earlier daily run loaded the days before
        earlier = run(expected["source"], landing, warehouse, first_day, until)
        assert earlier.success, f"the earlier run up to {until} must load cleanly"
        first_day = (dt.date.fromisoformat(until) + dt.timedelta(days=1)).isoformat()
    verdict = Verdict(run(expected["source"], landing, warehouse, first_day, expected["day"]), warehouse)
    yield expected, verdict
    verdict.connection.close()


def test_a_broken_delivery_meets_its_written_outcome(case):
    expected, verdict = case
    table, day = expected["table"], expected["day"]
    assert verdict.crashes() == []
    runs = verdict.rows(
        "select blocked, block_reason, rows_in, rows_loaded, rows_quarantined from dq.validation_runs "
        "where raw_table = ? and partition_date = ?",
        [table, day],
    )
    assert len(runs) == 1, f"one verdict on raw.{table} {day}, got {runs}"
    blocked, reason, *_ = runs[0]

    if expected["outcome"] == "blocks":
        assert blocked, f"expected a block, the day loaded: {runs[0]}"
        assert "\n" not in reason and "Traceback" not in reason, reason
        assert [m for m in expected["message"] if m not in reason] == [], reason
        assert [m for m in expected.get("message_excludes", []) if m in reason] == [], reason
        assert verdict.count("raw", table, day) == 0
    else:
        assert verdict.result.success and not blocked, f"blocked: {reason}"
        held = verdict.rows(
            f'select _source_file, _source_row, _failed_expectations from quarantine."{table}" '
            "order by _source_file, _source_row"
        )
        assert_quarantined(held, expected.get("quarantined", []))
        assert_steward_reads_why(verdict, table, day, expected.get("quarantined", []))
        assert_answers_follow_their_response(verdict, table)
    assert verdict.count("raw", table) == expected.get("rows_loaded", 0)
    for value in expected.get("contains", []):
        found = verdict.rows(
            f'select count(*) from raw."{value.get("table", table)}" where "{value["column"]}" = ?',
            [value["value"]],
        )
        assert found[0][0] >= 1, (
            f"{value['value']!r} not in raw.{value.get('table', table)}.{value['column']}"
        )
    for text in expected.get("nowhere", []):
        assert_nowhere(verdict, text)
    assert_load_audit_balances(verdict, table)


def assert_nowhere(verdict: Verdict, text: str) -> None:
    """No text column of any raw table holds ``text`` (a stray BOM, a header cell read as data)."""
    columns = verdict.rows(
        "select table_name, column_name from information_schema.columns "
        "where table_schema = 'raw' and data_type = 'VARCHAR'"
    )
    found = [
        f"raw.{table}.{column}"
        for table, column in columns
        if verdict.rows(f'select count(*) from raw."{table}" where contains("{column}", ?)', [text])[0][0]
    ]
    assert found == [], f"{text!r} found in {found}"


def assert_quarantined(held: list[tuple], wanted: list[dict]) -> None:
    """Exactly the expected rows are held, each at its line, in its file and for (at least) the
    expected rule: a row may break others too (a cut-off record also lacks its amount)."""
    assert [line for _, line, _ in held] == sorted(w["line"] for w in wanted), held
    by_line = {line: (file, json.loads(rules)) for file, line, rules in held}
    for want in wanted:
        file, rules = by_line[want["line"]]
        assert want.get("file", file) == file
        assert want["rule"] in rules, (want, rules)


def assert_steward_reads_why(verdict: Verdict, table: str, day: str, wanted: list[dict]) -> None:
    """Where a case gives a ``sample``, the steward reads it among its rule's samples in
    dq.expectation_results, with the file and line it came from ("<value>" @ <file>:<line>)."""
    for want in wanted:
        if "sample" not in want:
            continue
        samples = verdict.rows(
            "select sample_values from dq.expectation_results "
            "where raw_table = ? and partition_date = ? and expectation = ?",
            [table, day, want["rule"]],
        )
        values = [value for (sample,) in samples for value in json.loads(sample or "[]")]
        said = re.escape(json.dumps(want["sample"], ensure_ascii=False)) + rf" @ \S+:{want['line']}"
        assert any(re.fullmatch(said, value) for value in values), (want, values)


def assert_answers_follow_their_response(verdict: Verdict, table: str) -> None:
    """A quarantined survey response takes its answers along; none stay behind in raw."""
    answers = ANSWERS_OF.get(table)
    if answers is None:
        return
    held_ids = {r[0] for r in verdict.rows(f'select response_id from quarantine."{table}"')}
    if not held_ids:
        return
    held_answers = {r[0] for r in verdict.rows(f'select distinct response_id from quarantine."{answers}"')}
    assert held_ids <= held_answers
    left = verdict.rows(
        f'select count(*) from raw."{answers}" a join quarantine."{table}" q '
        "on a.response_id = q.response_id and a._source_file = q._source_file"
    )
    assert left[0][0] == 0


def assert_load_audit_balances(verdict: Verdict, table: str) -> None:
    """rows_in = rows_loaded + rows_quarantined + rows_held_back per file (held back: the rows of a
    blocked day left in landing/), and the audit agrees with the tables."""
    unbalanced = verdict.rows(
        "select file, raw_table, rows_in, rows_loaded, rows_quarantined, rows_held_back from dq.load_audit "
        "where rows_in <> rows_loaded + rows_quarantined + rows_held_back"
    )
    assert unbalanced == []
    loaded, held = verdict.rows(
        "select coalesce(sum(rows_loaded), 0), coalesce(sum(rows_quarantined), 0) from dq.load_audit "
        "where raw_table = ?",
        [table],
    )[0]
    assert (loaded, held) == (verdict.count("raw", table), verdict.count("quarantine", table))
