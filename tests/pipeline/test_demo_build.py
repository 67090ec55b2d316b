"""The whole pipeline on seeded small demo data: one shared build (tests/conftest.py)."""

from __future__ import annotations

import json

import duckdb
import pandas as pd
import pytest

from cxlake.metrics import nps_from_scores
from cxlake.surveys.readers import read_survey


@pytest.fixture(scope="module")
def serving(demo_build):
    assert demo_build.run_success
    connection = duckdb.connect(str(demo_build.serving), read_only=True)
    yield connection
    connection.close()


def test_every_schema_exists_as_named_and_the_serving_copy_holds_the_served_ones_only(serving, demo_build):
    def schemas(connection) -> set[str]:
        sql = "select schema_name from information_schema.schemata"
        return {name for (name,) in connection.execute(sql).fetchall()}

    with duckdb.connect(str(demo_build.warehouse), read_only=True) as warehouse:
        assert {"raw", "staging", "intermediate", "marts", "dq", "quarantine", "enrich"} <= schemas(warehouse)
    assert schemas(serving) - {"information_schema", "pg_catalog", "main"} == {"marts", "dq", "quarantine"}


def test_transactions_in_the_mart_are_the_delivered_rows_less_the_quarantined(serving, demo_build):
    delivered = 0
    for path in demo_build.landing.glob("pos/*/transactions.csv"):
        delivered += len(pd.read_csv(path, dtype=str))
    held = serving.execute("select count(*) from quarantine.pos_transactions").fetchone()[0]
    assert delivered > 1000
    assert serving.execute("select count(*) from marts.fct_transactions").fetchone()[0] == delivered - held


def test_the_gate_quarantines_exactly_the_planted_delivery_defects(serving, demo_build):
    truth = json.loads((demo_build.landing / "truth.json").read_text(encoding="utf-8"))
    planted = {(d["file"], d["line"]) for d in truth["planted"]["delivery_defects"]}
    assert planted  # the 10-day demo includes day 8
    held = serving.execute("select _source_file, _source_row from quarantine.pos_transactions").fetchall()
    held = set(held)
    assert held == planted


def test_load_audit_balances_and_counts_every_file(serving, demo_build):
    files = len(list(demo_build.landing.glob("pos/*/*.csv")))
    audited = serving.execute("select count(*) from dq.load_audit where source = 'pos'").fetchone()[0]
    assert audited == files
    unbalanced = serving.execute(
        "select count(*) from dq.load_audit where rows_in <> rows_loaded + rows_quarantined"
    ).fetchone()[0]
    assert unbalanced == 0


def test_every_delivered_response_has_its_row(serving, demo_build):
    delivered = 0
    for tool in ("qualtrics", "wjx"):
        for path in demo_build.landing.glob(f"{tool}/*/*.csv"):
            delivered += len(read_survey(path, format=tool).responses)
    assert delivered > 100
    assert serving.execute("select count(*) from marts.fct_survey_responses").fetchone()[0] == delivered


def test_nps_from_raw_files_equals_the_mart(serving, demo_build):
    """NPS computed here from the delivered survey files, independently of dbt, equals the mart's
    (over all real responses: which of them count is tests/pipeline/test_response_quality.py's job)."""
    scores = []
    nps_question = {"qualtrics": "Q1", "wjx": "Q3"}
    for tool, question in nps_question.items():
        for path in sorted(demo_build.landing.glob(f"{tool}/*/*.csv")):
            answers = read_survey(path, format=tool).answers
            answers = answers[(answers["status"] == "ok") & (answers["question_id"] == question)]
            scores += [int(str(a).split(" ")[0]) for a in answers["answer"]]
    expected = nps_from_scores(scores)
    counts = serving.execute(
        """
        select
            count(*) filter (where nps_category = 'promoter'),
            count(*) filter (where nps_category = 'passive'),
            count(*) filter (where nps_category = 'detractor')
        from marts.fct_survey_responses
        where status = 'ok'
        """
    ).fetchone()
    assert counts[0] + counts[1] + counts[2] == expected.n
    assert counts[0] == expected.promoters
    assert counts[2] == expected.detractors


def test_ratings_are_long_form_with_only_journey_touchpoints(serving):
    touchpoints = {
        r[0]
        for r in serving.execute("select distinct touchpoint_id from marts.fct_touchpoint_ratings").fetchall()
    }
    assert touchpoints <= {"taste", "speed", "staff", "environment", "value", "app", "delivery"}
    assert {"taste", "speed", "value"} <= touchpoints
    # in-store responses rate the environment, app ones never do
    environment_channels = {
        r[0]
        for r in serving.execute(
            "select distinct channel from marts.fct_touchpoint_ratings where touchpoint_id = 'environment'"
        ).fetchall()
    }
    assert environment_channels == {"in_store"}


def test_wait_minutes_are_positive_and_the_dimensions_are_filled(serving):
    assert serving.execute("select min(wait_minutes) > 0 from marts.fct_transactions").fetchone()[0]
    assert serving.execute("select count(*) from marts.dim_store").fetchone()[0] >= 25
    assert serving.execute("select count(*) from marts.dim_touchpoint").fetchone()[0] == 7
    assert serving.execute("select count(*) from marts.dim_customer").fetchone()[0] > 1000
