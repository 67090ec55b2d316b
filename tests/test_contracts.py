"""What the layers agree on (cxlake/contracts.py) is what dbt, the gate and the built warehouse hold."""

from __future__ import annotations

import duckdb
import pytest
import yaml

from cxlake import contracts
from cxlake.journey import load_touchpoints
from cxlake.pipeline.dbt_project import DBT_PROJECT_DIR
from cxlake.pipeline.partitions import dbt_build_vars
from expectations.suites import SUITES

MODELS = DBT_PROJECT_DIR / "models"


def _yaml(path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def delivered_sources() -> dict[str, str]:
    """Every table of the dbt sources in the raw schema that a delivery fills (the configuration
    tables are the repo's own, not delivered), with its source: from every __sources.yml."""
    found = {}
    for path in sorted(MODELS.rglob("__sources.yml")):
        for source in _yaml(path)["sources"]:
            if source.get("schema") != contracts.RAW_SCHEMA or source["name"] == "configuration":
                continue
            for table in source["tables"]:
                assert table["meta"]["dagster"]["asset_key"] == [contracts.RAW_SCHEMA, table["name"]]
                found[table["name"]] = source["name"]
    return found


def test_dbt_sources_are_the_contracts_raw_tables_under_their_sources():
    assert delivered_sources() == {table.name: table.source for table in contracts.RAW_TABLES}


def test_the_tables_a_steward_reviews_are_those_the_gate_judges_with_a_suite():
    # survey_api_responses has a suite but was missing from the quarantine review's own list
    assert set(contracts.QUARANTINE_TABLES) == set(SUITES)
    for table in contracts.RAW_TABLES:
        assert table.follows is None or table.follows in contracts.QUARANTINE_TABLES, table


def test_dbt_project_defaults_equal_the_contract_vars_the_runner_passes():
    defaults = _yaml(DBT_PROJECT_DIR / "dbt_project.yml")["vars"]
    passed = dbt_build_vars(None, "w.duckdb")
    for name, value in contracts.dbt_vars().items():
        assert defaults[name] == value, name
        assert passed[name] == value, name


def test_lineage_columns_share_the_rows_own_lineage():
    assert contracts.RAW_LINEAGE_COLUMNS[:3] == contracts.QUARANTINE_LINEAGE_COLUMNS[:3]
    assert (*contracts.ROW_LINEAGE_COLUMNS, "_loaded_at") == contracts.RAW_LINEAGE_COLUMNS


def test_transactions_accept_the_contracts_channels_and_the_journey_map_names_no_other():
    columns = {c["name"]: c for c in _yaml(MODELS / "marts" / "fct_transactions.yml")["models"][0]["columns"]}
    [accepted] = [t["accepted_values"] for t in columns["channel"]["data_tests"] if "accepted_values" in t]
    assert tuple(accepted["arguments"]["values"]) == contracts.CHANNELS
    for touchpoint in load_touchpoints():
        assert set(touchpoint.channels or ()) <= set(contracts.CHANNELS), touchpoint.touchpoint_id


def test_every_pos_event_is_measured_by_a_contract_flag():
    assert set(contracts.POS_EVENT_FLAGS.values()) <= set(contracts.OPERATIONAL_FLAGS)
    assert set(contracts.OPERATIONAL_MEASURES) == {
        *contracts.OPERATIONAL_QUANTITIES,
        *contracts.OPERATIONAL_FLAGS,
    }


@pytest.mark.slow
def test_the_built_warehouse_holds_the_contract(demo_build):
    """Lineage columns on every raw and quarantine table, and every operational measure summed per
    touchpoint: refund_amount, which the journey map could name, reached no page before."""
    with duckdb.connect(str(demo_build.warehouse), read_only=True) as connection:
        columns = {}
        for schema, table, column in connection.execute(
            "select table_schema, table_name, column_name from information_schema.columns"
        ).fetchall():
            columns.setdefault((schema, table), []).append(column)
        refund_rows = connection.execute(
            "select sum(count_refund_amount), sum(sum_refund_amount) > 0 from marts.fct_touchpoint_daily"
        ).fetchone()
    for table in contracts.RAW_TABLE_NAMES:
        raw = columns[(contracts.RAW_SCHEMA, table)]
        assert raw[-len(contracts.RAW_LINEAGE_COLUMNS) :] == list(contracts.RAW_LINEAGE_COLUMNS), table
    for table in contracts.QUARANTINE_TABLES:
        quarantined = set(columns[(contracts.QUARANTINE_SCHEMA, table)])
        assert set(contracts.QUARANTINE_LINEAGE_COLUMNS) <= quarantined, table
    daily = set(columns[("marts", "fct_touchpoint_daily")])
    for quantity in contracts.OPERATIONAL_QUANTITIES:
        assert {f"count_{quantity}", f"sum_{quantity}", f"sum_squares_{quantity}"} <= daily, quantity
    for flag in contracts.OPERATIONAL_FLAGS:
        assert {f"count_{flag}", f"sum_{flag}"} <= daily, flag
    assert refund_rows[0] > 0 and refund_rows[1]  # the demo refunds some orders
