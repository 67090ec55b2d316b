"""The metric definitions added for the journey marts (Python side; dbt's unit tests in the
marts' yml check the same cases in SQL): n = 0 and n = 1 for each, and the dbt defaults."""

from __future__ import annotations

import math

import pytest
import yaml

from cxlake import metrics
from cxlake.pipeline.dbt_project import DBT_PROJECT_DIR


@pytest.mark.parametrize(
    ("counts", "nps", "low", "high"),
    [
        ((0, 0, 0), None, None, None),  # n = 0: no NPS, never 0
        ((1, 0, 0), 100.0, -48.5, 98.5),  # n = 1, as fct_nps_daily's unit test expects
        ((0, 0, 1), -100.0, -98.5, 48.5),
        ((2, 1, 1), 25.0, -44.160842, 72.732271),
        ((3, 0, 0), 100.0, -6.580326, 100.0),  # the high end clipped
    ],
)
def test_nps_from_counts_matches_the_dbt_unit_test_values(counts, nps, low, high):
    result = metrics.nps_from_counts(*counts)
    assert result.nps == nps
    if low is None:
        assert result.ci_low is None and result.ci_high is None
    else:
        assert result.ci_low == pytest.approx(low, abs=1e-6)
        assert result.ci_high == pytest.approx(high, abs=1e-6)


@pytest.mark.parametrize(
    ("ratings", "mean", "top2"),
    [
        ([], None, None),  # n = 0
        ([4], 4.0, 1.0),  # n = 1
        ([5, 3, 2], 10 / 3, 1 / 3),
        ([5, 3, 2, None, float("nan")], 10 / 3, 1 / 3),  # skipped items are not ratings
        ([5, 0], 5.0, 1.0),  # off the 1-5 scale (a mis-mapped N/A): ignored by the mean
    ],
)
def test_mean_csat_and_top_two_box(ratings, mean, top2):
    assert metrics.csat_mean(ratings) == (None if mean is None else pytest.approx(mean))
    on_scale = [r for r in ratings if r is None or r != r or 1 <= r <= 5]
    assert metrics.csat_top2_share(on_scale) == (None if top2 is None else pytest.approx(top2))


@pytest.mark.parametrize(
    ("scores", "expected"),
    [([], None), ([6], 6.0), ([7, 1, 8, 0], 4.0)],  # n = 0, n = 1, off-scale 8 and 0 ignored
)
def test_ces_is_the_mean_of_one_to_seven_answers(scores, expected):
    assert metrics.ces_mean(scores) == expected


@pytest.mark.parametrize(
    ("responses", "invitations", "expected"),
    [(0, 0, None), (0, 1, 0.0), (1, 1, 1.0), (3, 12, 0.25)],  # no invitation: no rate
)
def test_response_rate_is_responses_over_invitations(responses, invitations, expected):
    assert metrics.response_rate(responses, invitations) == expected


@pytest.mark.parametrize(
    ("days", "expected"),
    [(None, None), (math.nan, None), (59, False), (60, True)],  # churned at 60 days (metrics.yaml)
)
def test_churn_is_sixty_days_without_purchase(days, expected):
    assert metrics.is_churned(days) is expected


def test_dbt_vars_carry_every_new_definition_and_dbt_defaults_equal_them():
    build_vars = metrics.dbt_vars()
    assert build_vars["nps_confidence_z"] == 1.96
    assert (build_vars["csat_scale_min"], build_vars["csat_scale_max"]) == (1, 5)
    assert (build_vars["ces_scale_min"], build_vars["ces_scale_max"]) == (1, 7)
    assert build_vars["churn_days"] == 60
    project = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))
    assert {name: project["vars"][name] for name in build_vars} == build_vars
