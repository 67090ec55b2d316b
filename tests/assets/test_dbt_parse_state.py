"""A run's dbt steps share their --vars, so each hands its parse to the next (keep_parse_state)."""

from __future__ import annotations

import json

from dagster_dbt import DbtCliInvocation, DbtCliResource

from assets.dbt import dbt_project, keep_parse_state
from cxlake.pipeline.dbt_project import DBT_EXECUTABLE
from cxlake.pipeline.partitions import dbt_build_vars


def _parse_events(dbt: DbtCliResource, args: list[str]) -> tuple[DbtCliInvocation, list[str]]:
    invocation = dbt.cli(args, raise_on_error=True)
    names = [event.raw_event["info"]["name"] for event in invocation.stream_raw_events()]
    return invocation, names


def test_the_second_dbt_step_of_a_run_does_not_parse_the_project_again(tmp_path, monkeypatch):
    monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path / "target"))  # not the checkout's target/
    dbt = DbtCliResource(project_dir=dbt_project, dbt_executable=DBT_EXECUTABLE)
    run_vars = dbt_build_vars(("2026-01-01", "2026-01-02"), str(tmp_path / "warehouse.duckdb"))
    args = ["parse", "--vars", json.dumps(run_vars)]

    first, first_events = _parse_events(dbt, args)
    keep_parse_state(first)
    _, second_events = _parse_events(dbt, args)

    assert "UnableToPartialParse" in first_events  # nothing saved yet: a full parse
    assert (tmp_path / "target" / "partial_parse.msgpack").exists()
    assert "ParsePerfInfoPath" in second_events and "UnableToPartialParse" not in second_events
