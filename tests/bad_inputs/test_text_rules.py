"""Every text column of every gated raw table has a length rule, and ids have a format rule.

Run through real Great Expectations on small frames: a rule that is declared but never bites (as the
text-length setting did for every column but comments and review content) fails here.
"""

from __future__ import annotations

import re

import pandas as pd
import pytest

from assets.ingestion import raw_tables as rt
from expectations.runner import GxRunner
from expectations.suites import SUITES
from expectations.suites.base import ID_REGEX, RuleContext

# the answers tables are judged through their response: _longest_answer / _longest_question
JUDGED_THROUGH_RESPONSE = {
    "qualtrics_answers", "wjx_answers", "survey_answers", "kano_answers", "survey_api_answers",
}  # fmt: skip
CONTEXT = RuleContext(
    store_ids=frozenset({"S001"}),
    staff_ids=frozenset({"E001"}),
    survey_ids=frozenset({"SV_cxlakeApp"}),
    loaded_keys=frozenset(),
    now=pd.Timestamp("2026-03-05T00:00:00Z"),
    timezone="Asia/Shanghai",
    max_text_length=2000,
)
TABLES = {
    table.name: table
    for table in vars(rt).values()
    if isinstance(table, rt.RawTable) and table.name not in JUDGED_THROUGH_RESPONSE
}


def rule_columns(suite) -> set[str]:
    return {e.column for e in suite.expectations(CONTEXT)}


@pytest.mark.parametrize("name", sorted(TABLES))
def test_every_column_of_every_gated_table_has_a_length_rule(name):
    assert name in SUITES, f"raw.{name} has no suite"
    missing = [c for c in TABLES[name].columns if f"{c}_length" not in rule_columns(SUITES[name])]
    assert missing == []


def test_the_answers_are_held_to_the_text_limit_through_their_response():
    for name in (
        "qualtrics_responses", "wjx_responses", "survey_responses", "kano_responses", "survey_api_responses",
    ):  # fmt: skip
        assert {"_longest_answer_length", "_longest_question_length"} <= rule_columns(SUITES[name])


@pytest.mark.parametrize(
    ("value", "is_id"),
    [
        ("T03040001", True), ("R_1a2B3c4D5e6F7g8", True), ("poi_s001", True), ("123", True),
        ("\ufeffT03040001", False), ("T0304\u200b0001", False), ("T0304\u200d0001", False),
        ("T0304\u20600001", False), ("\u202eT03040001", False), ("T03040001\n", False),
        ("T0304 0001", False), ("Ｔ03040001", False), ("", False),
    ],
)  # fmt: skip
def test_the_id_format(value, is_id):
    assert bool(re.search(ID_REGEX, value)) is is_id


def crm_frame(**changes: str) -> pd.DataFrame:
    row = {
        "customer_id": "C00001", "name": "王小明", "phone": "13800000001", "email": "c1@example.com",
        "member_tier": "silver", "signup_date": "2025-06-01", "city": "上海", "home_store_id": "S001",
        "updated_at": "2026-03-04T09:00:00+08:00",
    } | changes  # fmt: skip
    return pd.DataFrame([row], dtype="string").assign(
        _partition_date="2026-03-04", _row_id=0, _record_problem=pd.array([None], dtype="string")
    )


@pytest.fixture(scope="module")
def runner(tmp_path_factory):
    return GxRunner(tmp_path_factory.mktemp("gx"))


def failing(runner, frame) -> list[str]:
    result = runner.validate(SUITES["crm_customers"], frame, CONTEXT)
    return [o.expectation for o in result.failures("error")]


def test_a_clean_customer_passes(runner):
    assert failing(runner, crm_frame()) == []


def test_a_long_name_is_held_for_its_length(runner):
    assert failing(runner, crm_frame(name="王" * 201)) == ["expect_column_values_to_be_between(name_length)"]


def test_an_invisible_character_in_an_id_is_held_for_its_format(runner):
    assert failing(runner, crm_frame(customer_id="C0000\u200b1")) == [
        "expect_column_values_to_match_regex(customer_id)"
    ]
