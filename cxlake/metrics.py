"""Metric definitions shared by the pipeline, the explorer and alerts.

The thresholds come from ``config/metrics.yaml``; dbt receives the same values as ``--vars``
(see :func:`dbt_vars`), so an NPS in a mart and on a page can never be banded differently.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Literal

import yaml

# How straight-lining (all CSAT items identical) affects is_countable; see config/metrics.yaml.
STRAIGHT_LINER_MODES = ("with_speeding", "always", "never")


@dataclass(frozen=True)
class CountableRule:
    """Which flagged survey responses still count in NPS / CSAT (dbt applies it: is_countable)."""

    statuses: tuple[str, ...]
    exclude_duplicates: bool
    exclude_speeders: bool
    straight_liners: str


@dataclass(frozen=True)
class MetricSettings:
    promoter_min: int
    detractor_max: int
    confidence_z: float
    csat_top_box_min: int
    min_responses: int
    speeder_ratio: float
    countable: CountableRule
    csat_scale: tuple[int, int] = (1, 5)
    ces_scale: tuple[int, int] = (1, 7)
    churn_days: int = 60
    default_period_days: int = 28


@cache
def settings() -> MetricSettings:
    raw = yaml.safe_load(resources.files("cxlake.config").joinpath("metrics.yaml").read_text("utf-8"))
    return MetricSettings(
        promoter_min=int(raw["nps"]["promoter_min"]),
        detractor_max=int(raw["nps"]["detractor_max"]),
        confidence_z=float(raw["nps"]["confidence_z"]),
        csat_top_box_min=int(raw["csat"]["top_box_min"]),
        min_responses=int(raw["min_responses"]),
        speeder_ratio=float(raw["response_quality"]["speeder_ratio"]),
        countable=_countable_rule(raw["countable"]),
        csat_scale=_scale(raw["csat"]["scale"]),
        ces_scale=_scale(raw["ces"]["scale"]),
        churn_days=int(raw["churn"]["days_without_purchase"]),
        default_period_days=int(raw["default_period_days"]),
    )


def _scale(raw: list) -> tuple[int, int]:
    low, high = (int(value) for value in raw)
    if low >= high:
        raise ValueError(f"a scale runs from low to high: {raw!r}")
    return low, high


def _countable_rule(raw: dict) -> CountableRule:
    """Fail on a typo here, not later as a silently different NPS."""
    if raw["straight_liners"] not in STRAIGHT_LINER_MODES:
        raise ValueError(
            f"countable.straight_liners must be one of {STRAIGHT_LINER_MODES}: {raw['straight_liners']!r}"
        )
    return CountableRule(
        statuses=tuple(str(status) for status in raw["statuses"]),
        exclude_duplicates=bool(raw["exclude_duplicates"]),
        exclude_speeders=bool(raw["exclude_speeders"]),
        straight_liners=str(raw["straight_liners"]),
    )


def dbt_vars() -> dict[str, float | int | bool | str | list[str]]:
    """The metric thresholds and the countable rule as dbt ``--vars`` (read by dbt_project's
    macros and models; lists travel as JSON lists)."""
    s = settings()
    return {
        "nps_promoter_min": s.promoter_min,
        "nps_detractor_max": s.detractor_max,
        "csat_top_box_min": s.csat_top_box_min,
        "min_responses": s.min_responses,
        "speeder_ratio": s.speeder_ratio,
        "countable_statuses": list(s.countable.statuses),
        "countable_exclude_duplicates": s.countable.exclude_duplicates,
        "countable_exclude_speeders": s.countable.exclude_speeders,
        "countable_straight_liners": s.countable.straight_liners,
        "nps_confidence_z": s.confidence_z,
        "csat_scale_min": s.csat_scale[0],
        "csat_scale_max": s.csat_scale[1],
        "ces_scale_min": s.ces_scale[0],
        "ces_scale_max": s.ces_scale[1],
        "churn_days": s.churn_days,
    }


def nps_category(score: int | None) -> str | None:
    """promoter / passive / detractor for a 0-10 likelihood-to-recommend answer."""
    if _is_missing(score):
        return None
    s = settings()
    if score >= s.promoter_min:
        return "promoter"
    if score <= s.detractor_max:
        return "detractor"
    return "passive"


def _is_missing(value) -> bool:
    """None, NaN and pandas' NA (nullable integer columns) all mean "not answered"."""
    if value is None:
        return True
    try:
        return bool(value != value)  # NaN is the one value unequal to itself
    except TypeError:  # pd.NA refuses to be a bool
        return True


@dataclass(frozen=True)
class NpsResult:
    n: int
    promoters: int
    detractors: int
    nps: float | None
    ci_low: float | None
    ci_high: float | None

    @property
    def margin_of_error(self) -> float | None:
        if self.ci_low is None or self.ci_high is None:
            return None
        return (self.ci_high - self.ci_low) / 2

    @property
    def too_few_responses(self) -> bool:
        return self.n < settings().min_responses

    @property
    def counts(self) -> tuple[int, int, int]:
        """(promoters, passives, detractors), what :func:`nps_difference` compares."""
        return self.promoters, self.n - self.promoters - self.detractors, self.detractors


def nps_from_counts(promoters: int, passives: int, detractors: int) -> NpsResult:
    """NPS on -100..100 with its adjusted-Wald 95% interval.

    Adjusted Wald (Rocks 2016, The American Statistician): add 3/4 of a promoter and 3/4 of a
    detractor (3 responses in all, split over the three classes), which keeps the coverage near
    95% at small n where the plain Wald interval is far too narrow.
    Roll-ups must call this with summed counts, never average NPS values.
    """
    n = promoters + passives + detractors
    if n == 0:
        return NpsResult(0, 0, 0, None, None, None)
    nps = 100.0 * (promoters - detractors) / n
    ci_low, ci_high = nps_adjusted_wald_interval(promoters, detractors, n, settings().confidence_z)
    return NpsResult(n, promoters, detractors, nps, ci_low, ci_high)


def nps_adjusted_wald_interval(
    promoters: int, detractors: int, n: int, z: float = 1.96
) -> tuple[float, float]:
    n_adj = n + 3
    p_adj = (promoters + 0.75) / n_adj
    d_adj = (detractors + 0.75) / n_adj
    centre = p_adj - d_adj
    half_width = z * math.sqrt((p_adj + d_adj - centre**2) / n_adj)
    return max(-100.0, 100 * (centre - half_width)), min(100.0, 100 * (centre + half_width))


def nps_from_scores(scores) -> NpsResult:
    """NPS of an iterable of 0-10 scores (None / NaN are ignored)."""
    counts = {"promoter": 0, "passive": 0, "detractor": 0}
    for score in scores:
        category = nps_category(score)
        if category:
            counts[category] += 1
    return nps_from_counts(counts["promoter"], counts["passive"], counts["detractor"])


def csat_top2_share(ratings) -> float | None:
    """Share (0..1) of ratings in the top two boxes of 1-5; None when there are none."""
    valid = [r for r in ratings if not _is_missing(r)]
    if not valid:
        return None
    return sum(1 for r in valid if r >= settings().csat_top_box_min) / len(valid)


def _mean_in_scale(values, scale: tuple[int, int]) -> float | None:
    valid = [v for v in values if not _is_missing(v) and scale[0] <= v <= scale[1]]
    return sum(valid) / len(valid) if valid else None


def csat_mean(ratings) -> float | None:
    """Mean CSAT on the configured scale (1-5); None when there are none. Answers off the
    scale (a mis-mapped "N/A" as 0) are ignored, as dbt's ``mean_in_scale`` macro does."""
    return _mean_in_scale(ratings, settings().csat_scale)


def ces_mean(scores) -> float | None:
    """Customer Effort Score: mean of the 1-7 answers; None when there are none."""
    return _mean_in_scale(scores, settings().ces_scale)


def response_rate(responses: int, invitations: int) -> float | None:
    """responses / invitations (0..1); None with no invitation, never a division by zero."""
    if invitations <= 0:
        return None
    return responses / invitations


def is_churned(days_since_last_purchase: int | None) -> bool | None:
    """Churned = no purchase for ``churn.days_without_purchase`` days; None for a never-buyer."""
    if _is_missing(days_since_last_purchase):
        return None
    return days_since_last_purchase >= settings().churn_days


# --- Changes between periods ------------------------------------------------------------------
# A headline moves every period by chance alone; these say whether a move is larger than chance.
# Each returns the difference current - previous in the measure's display unit (NPS points, CSAT
# percentage points, CES scale points) with the standard error of that difference, a two-sided test
# at the level of ``nps.confidence_z`` and the matching interval, so "significant" and "the interval
# excludes 0" always agree. Wording lives in the explorer (streamlit_app/labels.py), not here.

NpsCounts = tuple[int, int, int]  # promoters, passives, detractors
Verdict = Literal["up", "down", "no_change", "too_few"]


@dataclass(frozen=True)
class MeanSummary:
    """What a difference of means needs from one period: n, mean and sample variance (ddof 1)."""

    n: int
    mean: float | None
    variance: float | None


@dataclass(frozen=True)
class Change:
    """``current - previous`` of one measure with its standard error, test and interval.

    ``comparable`` is False when either period has fewer than ``min_responses`` answers: the numbers
    are still there, but no verdict is drawn from them.
    """

    current: float
    previous: float
    n_current: int
    n_previous: int
    difference: float
    standard_error: float
    p_value: float
    ci_low: float
    ci_high: float

    @property
    def comparable(self) -> bool:
        return min(self.n_current, self.n_previous) >= settings().min_responses

    @property
    def is_significant(self) -> bool:
        return self.comparable and self.p_value < significance_level()

    @property
    def verdict(self) -> Verdict:
        """up / down (significant), no_change (within chance) or too_few (no test drawn)."""
        if not self.comparable:
            return "too_few"
        if not self.is_significant:
            return "no_change"
        return "up" if self.difference > 0 else "down"


def significance_level() -> float:
    """The two-sided level matching the configured z (1.96 -> 0.05)."""
    return math.erfc(settings().confidence_z / math.sqrt(2))


def _z_change(current: float, previous: float, n_current: int, n_previous: int, variance: float) -> Change:
    """A z test of ``current - previous`` given the variance of that difference."""
    difference = current - previous
    standard_error = math.sqrt(variance)
    half_width = settings().confidence_z * standard_error
    return Change(
        current, previous, n_current, n_previous, difference, standard_error,
        _two_sided_p(difference, standard_error, lambda z: math.erfc(z / math.sqrt(2))),
        difference - half_width, difference + half_width,
    )  # fmt: skip


def _two_sided_p(difference: float, standard_error: float, tail: Callable[[float], float]) -> float:
    """``tail(|difference| / se)``; without spread (every answer alike in both periods) any
    difference is certain and none is no evidence, so p is 0 or 1 rather than a division by zero."""
    if standard_error == 0:
        return 1.0 if difference == 0 else 0.0
    return tail(abs(difference) / standard_error)


def nps_variance(promoters: int, passives: int, detractors: int) -> float:
    """Variance of an NPS in points² ((p + d - (p - d)²) / n on the 0..1 scale, times 100²)."""
    n = promoters + passives + detractors
    p, d = promoters / n, detractors / n
    return 100.0**2 * (p + d - (p - d) ** 2) / n


def nps_difference(a_counts: NpsCounts, b_counts: NpsCounts) -> Change | None:
    """NPS of period a minus NPS of period b, each from (promoters, passives, detractors).

    The two periods' answers are independent samples, so the variance of the difference is the sum
    of the two NPS variances. None when either period has no answer.
    """
    if sum(a_counts) == 0 or sum(b_counts) == 0:
        return None
    a, b = nps_from_counts(*a_counts), nps_from_counts(*b_counts)
    return _z_change(a.nps, b.nps, a.n, b.n, nps_variance(*a_counts) + nps_variance(*b_counts))


def top2_difference(a_top: int, a_n: int, b_top: int, b_n: int) -> Change | None:
    """CSAT top-2-box share of a minus that of b, in percentage points (top-box answers of n).

    Unpooled (Wald) standard error, the same for test and interval, as for NPS. None when either
    period has no rating.
    """
    if a_n == 0 or b_n == 0:
        return None
    p_a, p_b = a_top / a_n, b_top / b_n
    variance = 100.0**2 * (p_a * (1 - p_a) / a_n + p_b * (1 - p_b) / b_n)
    return _z_change(100.0 * p_a, 100.0 * p_b, a_n, b_n, variance)


def mean_difference(a: MeanSummary, b: MeanSummary) -> Change | None:
    """Mean of a minus mean of b (CES) by Welch's t test: the periods' spreads need not be equal.

    Degrees of freedom by Welch-Satterthwaite; the interval uses the t quantile at those degrees.
    None when either period has fewer than two answers (no variance).
    """
    if a.n < 2 or b.n < 2 or a.mean is None or b.mean is None or a.variance is None or b.variance is None:
        return None
    # Imported here: scipy.stats takes most of a second to import, which the pipeline, the CLI and
    # the alerts (every other user of this module) should not pay.
    from scipy.stats import t as student_t

    va, vb = a.variance / a.n, b.variance / b.n
    difference = a.mean - b.mean
    standard_error = math.sqrt(va + vb)
    if standard_error == 0:
        p_value, half_width = _two_sided_p(difference, 0.0, math.erfc), 0.0
    else:
        df = (va + vb) ** 2 / (va**2 / (a.n - 1) + vb**2 / (b.n - 1))
        p_value = _two_sided_p(difference, standard_error, lambda t: 2 * student_t.sf(t, df))
        half_width = student_t.ppf(1 - significance_level() / 2, df) * standard_error
    return Change(
        a.mean, b.mean, a.n, b.n, difference, standard_error, float(p_value),
        difference - half_width, difference + half_width,
    )  # fmt: skip


# --- Mix and rate ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SegmentShift:
    """One segment's part in an NPS change: its share of answers and NPS in both periods and the
    two effects it contributes (NPS points; shares 0..1; NPS None where the segment had no answer)."""

    segment: str
    share_previous: float
    share_current: float
    nps_previous: float | None
    nps_current: float | None
    rate_effect: float
    mix_effect: float


@dataclass(frozen=True)
class ShiftShare:
    """An NPS change split into rate (how each segment scored) and mix (who answered)."""

    total: float
    rate: float
    mix: float
    segments: tuple[SegmentShift, ...]


def nps_shift_share(current: Mapping[str, NpsCounts], previous: Mapping[str, NpsCounts]) -> ShiftShare:
    """Shift-share of NPS(current) - NPS(previous) over segments (channel, store, tier, ...).

    rate = Σ w_prev,s (nps_cur,s - nps_prev,s), mix = Σ (w_cur,s - w_prev,s) nps_cur,s, which sum
    to the total exactly because NPS is the answer-weighted mean of the segments' NPS. A segment
    that answered only in the previous period takes its previous NPS as "current" (it did not score
    differently; it left), so its whole part, -w_prev nps_prev, is mix; one that answered only now
    has no previous weight, so it adds only mix.
    """
    n_current, n_previous = sum(map(sum, current.values())), sum(map(sum, previous.values()))
    if n_current == 0 or n_previous == 0:
        raise ValueError("a shift-share needs answers in both periods")
    segments = []
    for segment in sorted(set(current) | set(previous)):
        now, before = current.get(segment, (0, 0, 0)), previous.get(segment, (0, 0, 0))
        nps_now, nps_before = nps_from_counts(*now).nps, nps_from_counts(*before).nps
        w_now, w_before = sum(now) / n_current, sum(before) / n_previous
        scored_now = nps_before if nps_now is None else nps_now
        rate = 0.0 if nps_before is None else w_before * (scored_now - nps_before)
        segments.append(
            SegmentShift(segment, w_before, w_now, nps_before, nps_now, rate, (w_now - w_before) * scored_now)
        )
    return ShiftShare(
        _pooled_nps(current.values()) - _pooled_nps(previous.values()),
        sum(s.rate_effect for s in segments),
        sum(s.mix_effect for s in segments),
        tuple(segments),
    )


def _pooled_nps(counts: Iterable[NpsCounts]) -> float:
    """The NPS of the segments' summed counts (roll-ups sum counts, never average NPS)."""
    promoters, passives, detractors = (sum(column) for column in zip(*counts, strict=True))
    return nps_from_counts(promoters, passives, detractors).nps
