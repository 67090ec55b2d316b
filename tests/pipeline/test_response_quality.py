"""Response-quality flags and the countable rule on the seeded demo build (tests/conftest.py).

The generator plants previews, tests, speeders, straight-liners and duplicate submissions and
lists them in truth.json; the flags in marts.fct_survey_responses must find them.
"""

from __future__ import annotations

import json

import duckdb
import pandas as pd
import pytest

from cxlake.metrics import settings

MIN_RECALL = 0.9
REASON_CODES = {"duplicate", "speeder", "straight_liner", "speeder+straight_liner"}


@pytest.fixture(scope="module")
def responses(demo_build) -> pd.DataFrame:
    assert demo_build.run_success
    with duckdb.connect(str(demo_build.serving), read_only=True) as connection:
        return connection.execute("select * from marts.fct_survey_responses").df()


@pytest.fixture(scope="module")
def quality(demo_build) -> dict:
    truth = json.loads((demo_build.landing / "truth.json").read_text("utf-8"))
    return truth["planted"]["quality"]


def _planted(quality: dict, plant: str) -> set[str]:
    if plant == "previews_and_tests":
        return set(quality["previews"]) | set(quality["tests"])
    if plant == "duplicates":
        return {pair["response_key"] for pair in quality["duplicates"]}
    return set(quality[plant])


def _flagged(responses: pd.DataFrame, flag: str) -> set[str]:
    return set(responses.loc[responses[flag], "response_key"])


@pytest.mark.parametrize(
    ("flag", "plant", "min_precision"),
    [
        # the survey tool's status says it outright: nothing else may be flagged
        ("is_preview_or_test", "previews_and_tests", 1.0),
        # honest customers near the generator's 30 s floor fall under 0.3 x median too (2 of 9
        # at seed 7): a few false alarms are the price of the rule, a majority would be a bug
        ("is_speeder", "speeders", 0.5),
        # planted copies are the only same-transaction, same-answer resubmissions
        ("is_duplicate", "duplicates", 0.9),
        # no precision floor: happy customers' all-5s and the gaming store's solicited all-5s are
        # straight-lining too (about 8% of responses); the flag is a fact, the rule decides
        ("is_straight_liner", "straight_liners", 0.0),
    ],
)
def test_flags_find_the_planted_responses(responses, quality, flag, plant, min_precision, record_property):
    planted, flagged = _planted(quality, plant), _flagged(responses, flag)
    assert planted, f"the demo plants no {plant}"
    recall = len(planted & flagged) / len(planted)
    precision = len(planted & flagged) / len(flagged) if flagged else 0.0
    record_property(f"{flag}_recall", recall)
    record_property(f"{flag}_precision", precision)
    summary = f"{flag}: {len(planted)} planted, {len(flagged)} flagged"
    summary += f", recall {recall:.2f}, precision {precision:.2f}"
    assert recall >= MIN_RECALL, summary
    assert precision >= min_precision, summary


def test_a_duplicate_points_at_the_submission_it_copies_and_the_first_still_counts(responses, quality):
    by_key = responses.set_index("response_key")
    for pair in quality["duplicates"]:
        copy, original = by_key.loc[pair["response_key"]], by_key.loc[pair["duplicate_of"]]
        assert copy["duplicate_of_response_key"] == pair["duplicate_of"]
        assert not copy["is_countable"] and "duplicate" in copy["exclusion_reason"].split(",")
        assert not original["is_duplicate"]


def test_straight_lining_at_a_normal_pace_still_counts_by_default(responses, quality):
    """The planted straight-liners answer at a normal pace, like a happy customer's honest all-5s:
    with the default rule (straight_liners: with_speeding) they stay in NPS / CSAT."""
    assert settings().countable.straight_liners == "with_speeding"
    planted = responses[responses["response_key"].isin(quality["straight_liners"])]
    assert len(planted) == len(quality["straight_liners"])
    assert not planted["is_speeder"].any()
    assert planted["is_countable"].all()
    at_normal_pace = responses[
        responses["is_straight_liner"] & ~responses["is_speeder"] & (responses["status"] == "ok")
    ]
    assert len(at_normal_pace) > len(planted)  # customers' own all-same answers count too
    assert at_normal_pace.loc[~at_normal_pace["is_duplicate"], "is_countable"].all()


def test_is_countable_is_the_configured_rule_over_the_flags(responses):
    """The rule restated from cxlake/config/metrics.yaml: proves the settings reached dbt."""
    rule = settings().countable
    excluded = ~responses["status"].isin(rule.statuses)
    if rule.exclude_duplicates:
        excluded |= responses["is_duplicate"]
    if rule.exclude_speeders:
        excluded |= responses["is_speeder"]
    if rule.straight_liners == "always":
        excluded |= responses["is_straight_liner"]
    elif rule.straight_liners == "with_speeding":
        excluded |= responses["is_straight_liner"] & responses["is_speeder"]
    assert (responses["is_countable"] == ~excluded).all()
    assert 0 < excluded.sum() < 0.2 * len(responses)


def test_every_excluded_response_says_why_in_stable_codes(responses):
    assert (responses["exclusion_reason"].isna() == responses["is_countable"]).all()
    for reason in responses["exclusion_reason"].dropna():
        codes = reason.split(",")
        assert all(code in REASON_CODES or code.startswith("status:") for code in codes), reason
        assert len(codes) == len(set(codes)), reason


def test_speeders_are_under_three_tenths_of_their_surveys_median_ok_duration(responses):
    ok = responses[responses["status"] == "ok"]
    median = ok.groupby("survey_id")["duration_in_seconds"].median()
    threshold = responses["survey_id"].map(median) * settings().speeder_ratio
    assert responses["survey_id"].nunique() == 2
    assert (responses["is_speeder"] == (responses["duration_in_seconds"] < threshold)).all()


def test_a_rating_counts_exactly_when_its_response_does(demo_build):
    with duckdb.connect(str(demo_build.serving), read_only=True) as connection:
        mismatched, excluded_ratings = connection.execute(
            """
            select
                count(*) filter (where ratings.is_countable <> responses.is_countable),
                count(*) filter (where not ratings.is_countable)
            from marts.fct_touchpoint_ratings as ratings
            inner join marts.fct_survey_responses as responses
                on ratings.response_key = responses.response_key
            """
        ).fetchone()
    assert mismatched == 0
    assert excluded_ratings > 0
