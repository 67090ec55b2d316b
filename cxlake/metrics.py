"""Metric definitions shared by the pipeline, the explorer and alerts.

The thresholds come from ``config/metrics.yaml``; dbt receives the same values as ``--vars``
(see :func:`dbt_vars`), so an NPS in a mart and on a page can never be banded differently.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from importlib import resources

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
