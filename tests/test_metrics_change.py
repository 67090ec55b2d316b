"""Changes between periods: the NPS difference test, CSAT top-2-box and CES mean differences, and
the mix / rate split of an NPS change, against hand-computed values."""

from __future__ import annotations

import math
import random

import pytest
from scipy import stats

from cxlake.metrics import (
    MeanSummary,
    mean_difference,
    nps_difference,
    nps_shift_share,
    nps_variance,
    significance_level,
    top2_difference,
)


def test_the_nps_variance_is_p_plus_d_minus_nps_squared_over_n():
    # 17 / 11 / 12 of 40: p = 0.425, d = 0.3 -> (0.725 - 0.125²) / 40 = 0.0177344 -> 177.344 points²
    assert nps_variance(17, 11, 12) == pytest.approx(177.34375)


def test_a_large_nps_rise_is_significant():
    # a: 17 / 11 / 12 of 40, NPS 12.5, variance 177.344; b: 12 / 18 / 30 of 60, NPS -30,
    # variance 1e4 * (0.7 - 0.09) / 60 = 101.667; se = sqrt(279.010) = 16.7036, z = 42.5 / 16.7036 = 2.5444
    change = nps_difference((17, 11, 12), (12, 18, 30))
    assert (change.current, change.previous, change.difference) == pytest.approx((12.5, -30.0, 42.5))
    assert (change.n_current, change.n_previous) == (40, 60)
    assert change.standard_error == pytest.approx(16.70360, abs=1e-4)
    assert change.p_value == pytest.approx(0.010946, abs=1e-5)
    # 42.5 ± 1.96 * 16.7036
    assert (change.ci_low, change.ci_high) == pytest.approx((9.7609, 75.2391), abs=1e-3)
    assert change.is_significant
    assert change.verdict == "up"


def test_the_same_fall_reads_down():
    change = nps_difference((12, 18, 30), (17, 11, 12))
    assert change.difference == pytest.approx(-42.5)
    assert change.verdict == "down"


def test_a_small_nps_change_is_no_detectable_change():
    # b: 16 / 12 / 12 of 40, NPS 10, variance 1e4 * (0.7 - 0.01) / 40 = 172.5;
    # se = sqrt(177.344 + 172.5) = 18.7041, z = 2.5 / 18.7041 = 0.1337, p = 0.894
    change = nps_difference((17, 11, 12), (16, 12, 12))
    assert change.difference == pytest.approx(2.5)
    assert change.standard_error == pytest.approx(18.7041, abs=1e-4)
    assert change.p_value == pytest.approx(0.8937, abs=1e-3)
    assert change.ci_low < 0 < change.ci_high
    assert change.verdict == "no_change"


def test_below_the_minimum_responses_no_verdict_is_drawn():
    # 70 against -70: a 140-point rise on 10 answers each: the numbers are kept, the verdict is "too few"
    change = nps_difference((8, 1, 1), (1, 1, 8))
    assert change.difference == pytest.approx(140.0)
    assert not change.comparable
    assert not change.is_significant
    assert change.verdict == "too_few"


def test_a_period_without_answers_gives_no_change():
    assert nps_difference((17, 11, 12), (0, 0, 0)) is None
    assert top2_difference(3, 4, 0, 0) is None
    assert mean_difference(MeanSummary(30, 5.0, 1.0), MeanSummary(1, 4.0, None)) is None


@pytest.mark.parametrize(
    ("a", "b", "p_value", "verdict"),
    [
        # every answer a promoter in both periods: no spread, no difference, nothing to see
        ((30, 0, 0), (30, 0, 0), 1.0, "no_change"),
        # all promoters against all detractors: no spread, a difference of 200 is certain
        ((30, 0, 0), (0, 0, 30), 0.0, "up"),
    ],
)
def test_without_any_spread_the_test_does_not_divide_by_zero(a, b, p_value, verdict):
    change = nps_difference(a, b)
    assert change.standard_error == 0
    assert change.p_value == p_value
    assert change.verdict == verdict


def test_the_significance_level_follows_the_configured_z():
    assert significance_level() == pytest.approx(0.05, abs=1e-4)


@pytest.mark.parametrize(
    ("a", "b", "difference", "standard_error", "verdict"),
    [
        # 45 of 60 (75%) vs 30 of 50 (60%): 1e4 * (0.1875 / 60 + 0.24 / 50) = 79.25 -> se 8.9022,
        # z = 1.685: a 15-point rise that chance explains
        ((45, 60), (30, 50), 15.0, 8.90225, "no_change"),
        # 90 of 100 vs 60 of 100: 1e4 * (0.09 + 0.24) / 100 = 33 -> se 5.7446, z = 5.22
        ((90, 100), (60, 100), 30.0, 5.74456, "up"),
    ],
)
def test_top2_box_difference_in_percentage_points(a, b, difference, standard_error, verdict):
    change = top2_difference(*a, *b)
    assert change.difference == pytest.approx(difference)
    assert change.standard_error == pytest.approx(standard_error, abs=1e-4)
    assert change.verdict == verdict


def test_ces_mean_difference_is_welch():
    # a: n 30, mean 5.0, variance 1.0; b: n 40, mean 4.5, variance 2.0
    # se² = 1/30 + 2/40 = 0.083333 -> se 0.288675, t = 1.73205
    # df = 0.083333² / ((1/30)² / 29 + (2/40)² / 39) = 0.0069444 / 0.00010242 = 67.805
    a, b = MeanSummary(30, 5.0, 1.0), MeanSummary(40, 4.5, 2.0)
    change = mean_difference(a, b)
    assert change.difference == pytest.approx(0.5)
    assert change.standard_error == pytest.approx(0.288675, abs=1e-6)
    expected = stats.ttest_ind_from_stats(5.0, 1.0, 30, 4.5, math.sqrt(2.0), 40, equal_var=False)
    assert expected.statistic == pytest.approx(1.73205, abs=1e-5)
    assert change.p_value == pytest.approx(expected.pvalue)
    assert change.p_value == pytest.approx(2 * stats.t.sf(1.7320508, 67.805), abs=1e-5)
    # t quantile 0.975 at 67.8 df = 1.99552 -> 0.5 ± 0.57606
    assert (change.ci_low, change.ci_high) == pytest.approx((-0.07606, 1.07606), abs=1e-4)
    assert change.verdict == "no_change"


def test_mix_and_rate_split_a_hand_computed_change():
    # now: app 4/6/2 (n 12, NPS 16.67), in_store 10/4/6 (20, NPS 20), delivery 3/1/4 (8, -12.5): 12.5
    # before: app 2/2/6 (10, -40), in_store 10/5/5 (20, 25), delivery 3/3/4 (10, -10): NPS 0
    # rate = .25 * (16.667 + 40) + .5 * (20 - 25) + .25 * (-12.5 + 10) = 11.0417
    # mix = (.3 - .25) * 16.667 + 0 + (.2 - .25) * -12.5 = 1.4583
    current = {"app": (4, 6, 2), "in_store": (10, 4, 6), "delivery": (3, 1, 4)}
    previous = {"app": (2, 2, 6), "in_store": (10, 5, 5), "delivery": (3, 3, 4)}
    split = nps_shift_share(current, previous)
    assert split.total == pytest.approx(12.5)
    assert split.rate == pytest.approx(11.041667, abs=1e-5)
    assert split.mix == pytest.approx(1.458333, abs=1e-5)
    app = next(s for s in split.segments if s.segment == "app")
    assert (app.share_previous, app.share_current) == pytest.approx((0.25, 0.3))
    assert (app.nps_previous, app.nps_current) == pytest.approx((-40.0, 16.666667))


def test_a_segment_that_stopped_answering_is_all_mix():
    # before: a 5/0/5 and b 0/0/10 (NPS -50); now only a 10/0/0 (NPS 100): +150
    # a: rate .5 * (100 - 0) = 50, mix .5 * 100 = 50; b left: rate 0, mix -.5 * -100 = 50
    split = nps_shift_share({"a": (10, 0, 0)}, {"a": (5, 0, 5), "b": (0, 0, 10)})
    assert split.total == pytest.approx(150.0)
    assert (split.rate, split.mix) == pytest.approx((50.0, 100.0))
    gone = next(s for s in split.segments if s.segment == "b")
    assert gone.nps_current is None
    assert (gone.rate_effect, gone.mix_effect) == pytest.approx((0.0, 50.0))


def _random_period(rng: random.Random, segments: list[str]) -> dict[str, tuple[int, int, int]]:
    """Counts for most of ``segments`` (a few left out), never an empty period."""
    counts = {s: tuple(rng.randint(0, 40) for _ in range(3)) for s in segments if rng.random() < 0.8}
    return counts if sum(map(sum, counts.values())) else {"s0": (1, 0, 0)}


def test_mix_plus_rate_is_the_total_change_exactly():
    # seeded random segments, some present in one period only
    rng = random.Random(14)
    for _ in range(200):
        segments = [f"s{i}" for i in range(rng.randint(1, 6))]
        split = nps_shift_share(_random_period(rng, segments), _random_period(rng, segments))
        assert split.rate + split.mix == pytest.approx(split.total, abs=1e-9)


def test_a_shift_share_needs_answers_in_both_periods():
    with pytest.raises(ValueError, match="both periods"):
        nps_shift_share({"a": (1, 0, 0)}, {"a": (0, 0, 0)})
