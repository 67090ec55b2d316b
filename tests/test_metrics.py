"""The metric definitions every mart, page and alert shares: banding, NPS from counts, its interval."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from cxlake.metrics import (
    _countable_rule,
    csat_top2_share,
    dbt_vars,
    nps_adjusted_wald_interval,
    nps_category,
    nps_from_counts,
    nps_from_scores,
    settings,
)


@pytest.mark.parametrize(
    ("score", "category"),
    [
        (0, "detractor"),  # the bottom of the scale
        (6, "detractor"),  # the highest detractor: 0-6 detract
        (7, "passive"),  # the lowest passive
        (8, "passive"),  # the highest passive
        (9, "promoter"),  # the lowest promoter: 9-10 promote
        (10, "promoter"),  # the top of the scale
        (None, None),  # an unanswered question is no category, not a detractor
        (float("nan"), None),  # pandas' missing value behaves like None
    ],
)
def test_nps_banding(score, category):
    assert nps_category(score) == category


def test_no_responses_give_no_nps_and_no_interval():
    result = nps_from_counts(0, 0, 0)
    assert (result.n, result.nps, result.ci_low, result.ci_high) == (0, None, None, None)
    assert result.margin_of_error is None
    assert result.too_few_responses


@pytest.mark.parametrize(
    ("counts", "nps", "interval"),
    [
        # one promoter: n' = 4, p' = 0.4375, d' = 0.1875 -> 25 ± 1.96 * 37.5 = (-48.5, 98.5)
        ((1, 0, 0), 100.0, (-48.5, 98.5)),
        # one detractor mirrors one promoter
        ((0, 0, 1), -100.0, (-98.5, 48.5)),
        # one passive: the adjustment alone gives a symmetric interval around 0
        ((0, 1, 0), 0.0, (-1.96 * 100 * math.sqrt(0.375 / 4), 1.96 * 100 * math.sqrt(0.375 / 4))),
    ],
)
def test_nps_of_a_single_response(counts, nps, interval):
    result = nps_from_counts(*counts)
    assert result.n == 1
    assert result.nps == nps
    assert (result.ci_low, result.ci_high) == pytest.approx(interval)


def test_adjusted_wald_interval_matches_a_hand_computed_case():
    # 50 promoters, 30 passives, 20 detractors:
    # n' = 103, p' = 50.75 / 103 = 0.492718, d' = 20.75 / 103 = 0.201456, p' - d' = 0.291262
    # variance = (0.694175 - 0.291262^2) / 103 = 0.00591593, half width = 1.96 * 0.0769151 = 0.150754
    result = nps_from_counts(50, 30, 20)
    assert result.nps == pytest.approx(30.0)
    assert result.ci_low == pytest.approx(14.0509, abs=1e-3)
    assert result.ci_high == pytest.approx(44.2016, abs=1e-3)
    assert result.margin_of_error == pytest.approx(15.0754, abs=1e-3)
    assert settings().confidence_z == 1.96


def test_the_interval_is_clipped_to_the_nps_scale():
    # 30 promoters of 30: the unclipped upper end is 90.9 + 12.2 = 103.1
    low, high = nps_adjusted_wald_interval(30, 0, 30)
    assert high == 100.0
    assert low == pytest.approx(78.6975, abs=1e-3)
    low, high = nps_adjusted_wald_interval(0, 30, 30)
    assert (low, high) == pytest.approx((-100.0, -78.6975), abs=1e-3)


def test_rolling_up_sums_counts_instead_of_averaging_nps():
    small_store = nps_from_counts(9, 0, 1)  # NPS 80 on 10 answers
    large_store = nps_from_counts(30, 30, 30)  # NPS 0 on 90 answers
    assert (small_store.nps, large_store.nps) == (80.0, 0.0)
    averaged = (small_store.nps + large_store.nps) / 2
    rolled_up = nps_from_counts(9 + 30, 0 + 30, 1 + 30)
    assert averaged == 40.0
    assert rolled_up.nps == pytest.approx(8.0)  # (39 - 31) / 100


def test_nps_from_scores_ignores_missing_answers():
    result = nps_from_scores([10, 9, 7, 3, None, float("nan")])
    assert (result.n, result.promoters, result.detractors) == (4, 2, 1)
    assert result.nps == pytest.approx(25.0)


def test_csat_is_the_top_two_box_share():
    assert csat_top2_share([5, 4, 3, 2, None]) == pytest.approx(0.5)
    assert csat_top2_share([]) is None


def test_too_few_responses_below_the_configured_minimum():
    minimum = settings().min_responses
    assert nps_from_counts(minimum - 1, 0, 0).too_few_responses
    assert not nps_from_counts(minimum, 0, 0).too_few_responses


SHARES = [(p, d) for p in (0.1, 0.3, 0.5, 0.7) for d in (0.05, 0.2, 0.4) if p + d <= 0.95]
REPLICATIONS = 4000


def _coverage(n: int, promoter_share: float, detractor_share: float, rng: np.random.Generator) -> float:
    """Share of simulated samples whose interval contains the true NPS.

    Draws are vectorised; the real interval function runs once per distinct (promoters,
    detractors) pair, which keeps the test to a second while testing the shipped code.
    """
    draws = rng.multinomial(
        n, [promoter_share, 1 - promoter_share - detractor_share, detractor_share], size=REPLICATIONS
    )
    pairs, which = np.unique(draws[:, [0, 2]], axis=0, return_inverse=True)
    intervals = np.array([nps_adjusted_wald_interval(int(p), int(d), n) for p, d in pairs])
    low, high = intervals[which.ravel(), 0], intervals[which.ravel(), 1]
    true_nps = 100 * (promoter_share - detractor_share)
    return float(np.mean((low <= true_nps + 1e-9) & (true_nps - 1e-9 <= high)))


@pytest.mark.parametrize("n", [30, 300])
def test_adjusted_wald_interval_covers_the_true_nps_95_percent_of_the_time(n):
    rng = np.random.default_rng(20160101 + n)
    coverage = {shares: _coverage(n, *shares, rng) for shares in SHARES}
    worst = min(coverage, key=coverage.get)
    assert coverage[worst] >= 0.93, f"coverage {coverage[worst]:.3f} at promoters, detractors = {worst}"
    assert np.mean(list(coverage.values())) == pytest.approx(0.95, abs=0.01)


def test_the_countable_rule_reaches_dbt_as_json_ready_vars():
    """The pipeline json-dumps dbt_vars() into `dbt build --vars`; the rule must survive that."""
    build_vars = dbt_vars()
    assert build_vars["speeder_ratio"] == 0.3
    assert build_vars["countable_statuses"] == ["ok", "offline"]
    assert build_vars["countable_exclude_duplicates"] is True
    assert build_vars["countable_exclude_speeders"] is True
    assert build_vars["countable_straight_liners"] == "with_speeding"
    assert json.loads(json.dumps(build_vars)) == build_vars


@pytest.mark.parametrize("mode", ["sometimes", "With_Speeding", ""])
def test_an_unknown_straight_liner_mode_is_refused(mode):
    """A typo must fail loudly, not silently become a different NPS."""
    raw = {"statuses": ["ok"], "exclude_duplicates": True, "exclude_speeders": True, "straight_liners": mode}
    with pytest.raises(ValueError, match="straight_liners"):
        _countable_rule(raw)
