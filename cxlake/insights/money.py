"""The money of experience: what a detractor made promoter is worth, the revenue at risk from
detractors and from open cases, and what one more CSAT point at a touchpoint brings.

Everything is counted over one window after a survey answer, the window of
``intermediate.int_experience__response_outcomes`` (dbt: var experience_value_window_days, shrunk
to half the days the data spans), and over the same members as ``marts.mart_experience_value``: a
member counts once per scope and NPS category, with their earliest answer there whose whole window
lies inside the data (:func:`first_answers`).

Per scope (chain, region, store), :func:`experience_money`:

- **a detractor made promoter**: promoters' mean spend in the window minus detractors' (members
  who did not come back count as 0). An association, not a proven effect: the generator plants it
  as an effect (a detractor buys less afterwards), real data may mix in who answers what.
- **excess churn**: the promoters' repeat rate minus the detractors' (the share who came back in
  the window): how much likelier a detractor is than a promoter not to come back.
- **revenue at risk from detractors**: the members whose latest answer in the scope, within the
  last window (their window still open, so not among the counted members), was a detractor's,
  times the excess churn, times what a detractor who does come back spends in a window. The
  detractors' own spend, not the promoters': the money at stake if they leave, not if they became
  promoters (that is the first figure).
- **revenue at risk from open cases**: the members with a case not resolved at the snapshot
  (open or breached), each at their own spend per window over the data they bought in, times the
  same excess churn: a case opens on a detractor answer or a negative review, and the detractors'
  excess churn is what its customer risks if nobody calls back. The two risks overlap (a recent
  detractor often has an open case): never add them.

Intervals are bootstrap percentile intervals: promoters and detractors resampled independently
(members, with replacement), every figure recomputed from the same resample, so each interval
carries the uncertainty of every mean in it; the counts of recent detractors and of case members
and the members' own spend rates are taken as known. A figure is reportable when the scope has at
least ``min_members`` promoters and detractors (metrics.yaml min_responses).

:func:`csat_revenue_effect` chains two models for one more CSAT point at a touchpoint, among the
respondents who rate it (and, spread over every respondent, times the share who rate it: the
touchpoint's reach, which the key-driver weights carry too): the driver model's respondents (the
key-driver frame: countable, non-suspect answers, a touchpoint not met is missing) regressed, by
least squares, the promoter indicator and the detractor indicator on every touchpoint's CSAT (a
missing rating filled with the touchpoint's mean, as the key-driver model does, plus an intercept
per set of touchpoints rated, so that a slope is learnt among the touchpoint's raters and who meets
a touchpoint does not pass for how they rated it): the change in the probability of each category
per point; times what each category spends in the window against passives: effect = Δp(promoter) ×
(spend promoter − spend passive) + Δp(detractor) × (spend detractor − spend passive). Bootstrap:
respondents and members of each category resampled together in each repetition. A linear
probability model keeps the coefficient a probability per point, as the page's sentence says it. A
slope is an average over the raters, as if a 5 could rise too: read it as what the average rater's
point is worth, not as a promise for customers already at the top.

Pure and core: numpy and pandas in, pandas out; ``assets/money.py`` reads the warehouse and writes
``marts.mart_experience_money`` and ``marts.mart_csat_revenue_effect``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from cxlake.insights.drivers import CHAIN_SCOPE_ID, RESAMPLES_PER_BLOCK, SCOPE_LEVELS, value_holders

CONFIG_FILE = "cxlake/config/insights.yaml"
PROMOTER, PASSIVE, DETRACTOR = "promoter", "passive", "detractor"
# Resamples drawn at once: bounds the index arrays to block x members.
BOOTSTRAP_BLOCK = 100

MONEY_COLUMNS = (
    "scope_level", "scope_id", "window_days", "last_transaction_date", "count_promoter_members",
    "count_detractor_members", "is_reportable", "detractor_to_promoter_value",
    "detractor_to_promoter_value_ci_low", "detractor_to_promoter_value_ci_high", "excess_churn_rate",
    "excess_churn_rate_ci_low", "excess_churn_rate_ci_high", "detractor_spend_if_retained",
    "count_recent_detractors", "detractor_revenue_at_risk", "detractor_revenue_at_risk_ci_low",
    "detractor_revenue_at_risk_ci_high", "count_open_case_members", "open_case_spend_per_window",
    "open_case_revenue_at_risk", "open_case_revenue_at_risk_ci_low", "open_case_revenue_at_risk_ci_high",
)  # fmt: skip
EFFECT_COLUMNS = (
    "scope_level", "scope_id", "touchpoint", "window_days", "n", "respondents", "rated_share",
    "promoter_probability_change", "detractor_probability_change", "effect_per_rater",
    "effect_per_rater_ci_low", "effect_per_rater_ci_high", "effect_per_member", "ci_low", "ci_high",
    "is_reportable",
)  # fmt: skip


@dataclass(frozen=True)
class MoneySettings:
    """The ``money:`` section of cxlake/config/insights.yaml, with the thresholds it borrows."""

    bootstrap_repetitions: int
    confidence: float
    seed: int
    min_members: int  # promoters and detractors a scope's figures need (metrics.yaml min_responses)
    min_respondents: int  # the CSAT model's respondents (key_drivers.min_responses)
    min_ratings: int  # a touchpoint's ratings (key_drivers.min_ratings)


def load_settings(path: str | Path | None = None) -> MoneySettings:
    """The money settings in ``path``, else the packaged insights.yaml; min_members from
    metrics.yaml, the CSAT model's minimums from the key_drivers section of the same file."""
    from cxlake.insights.drivers import load_settings as load_driver_settings
    from cxlake.metrics import settings as metric_settings

    if path is None:
        text = resources.files("cxlake.config").joinpath("insights.yaml").read_text("utf-8")
        where = CONFIG_FILE
    else:
        text, where = Path(path).read_text("utf-8"), str(path)
    raw = (yaml.safe_load(text) or {}).get("money")
    if not isinstance(raw, dict):
        raise ValueError(f"{where}: missing the money: section")
    for key, kind in (("bootstrap_repetitions", int), ("confidence", float), ("seed", int)):
        value = raw.get(key)
        if value is None:
            raise ValueError(f"{where}: money: missing key {key!r}")
        if isinstance(value, bool) or not isinstance(value, (int, float) if kind is float else int):
            raise ValueError(f"{where}: money.{key} {value!r} is not {kind.__name__}")
    if raw["bootstrap_repetitions"] < 10:
        raise ValueError(f"{where}: money.bootstrap_repetitions {raw['bootstrap_repetitions']} is below 10")
    if not 0 < raw["confidence"] < 1:
        raise ValueError(f"{where}: money.confidence {raw['confidence']} is not between 0 and 1")
    drivers = load_driver_settings(path)
    return MoneySettings(
        bootstrap_repetitions=int(raw["bootstrap_repetitions"]),
        confidence=float(raw["confidence"]),
        seed=int(raw["seed"]),
        min_members=metric_settings().min_responses,
        min_respondents=drivers.min_responses,
        min_ratings=drivers.min_ratings,
    )


def scoped(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` (with store_id and region_id) once per scope level, with scope_level and scope_id;
    rows without the level's id (a response of no known region) are left out there."""
    parts = []
    for level, column in SCOPE_LEVELS.items():
        scope_id = CHAIN_SCOPE_ID if column is None else frame[column]
        parts.append(frame.assign(scope_level=level, scope_id=scope_id))
    both = pd.concat(parts, ignore_index=True)
    return both[both["scope_id"].notna()].astype({"scope_id": str})


def first_answers(outcomes: pd.DataFrame) -> pd.DataFrame:
    """One row per scope, NPS category and member: their earliest counted answer there (as
    marts.mart_experience_value counts them), with its window's spend and whether they came back."""
    ordered = scoped(outcomes).sort_values(["responded_at", "response_key"], kind="stable")
    first = ordered.drop_duplicates(["scope_level", "scope_id", "nps_category", "customer_id"])
    return first.assign(repeat=first["count_visits"] > 0)[
        ["scope_level", "scope_id", "nps_category", "customer_id", "spend", "repeat"]
    ].reset_index(drop=True)


def _resample_means(values: np.ndarray, repetitions: int, rng: np.random.Generator) -> np.ndarray:
    """Means of ``values`` (members x k columns) over ``repetitions`` member resamples: reps x k."""
    n = len(values)
    out = []
    for start in range(0, repetitions, BOOTSTRAP_BLOCK):
        size = min(BOOTSTRAP_BLOCK, repetitions - start)
        out.append(values[rng.integers(0, n, (size, n))].mean(axis=1))
    return np.concatenate(out)


def _interval(draws: np.ndarray, confidence: float) -> tuple[float, float]:
    """Percentile interval of the finite draws; NaN when none is."""
    finite = draws[np.isfinite(draws)]
    if len(finite) == 0:
        return np.nan, np.nan
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(finite, [tail, 100 - tail])
    return float(low), float(high)


def _spend_if_retained(spend_times_repeat: np.ndarray, repeat: np.ndarray) -> np.ndarray:
    """Mean spend of the members who came back (from means over the same members); NaN if none did."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(repeat > 0, spend_times_repeat / np.where(repeat > 0, repeat, 1), np.nan)


def scope_money(
    promoters: pd.DataFrame,
    detractors: pd.DataFrame,
    recent_detractors: int,
    open_case_members: int,
    open_case_spend: float,
    settings: MoneySettings,
) -> dict[str, float | int | bool]:
    """One scope's figures (module docstring) from its promoters' and detractors' first answers
    (columns spend, repeat), with bootstrap intervals when each group has two members or more."""
    n_p, n_d = len(promoters), len(detractors)
    row: dict[str, float | int | bool] = {
        "count_promoter_members": n_p,
        "count_detractor_members": n_d,
        "is_reportable": n_p >= settings.min_members and n_d >= settings.min_members,
        "count_recent_detractors": recent_detractors,
        "count_open_case_members": open_case_members,
        "open_case_spend_per_window": open_case_spend,
    }
    # Columns per member: spend, came back, spend if came back (0 if not).
    p = promoters[["spend", "repeat"]].to_numpy(dtype=float)
    d = detractors[["spend", "repeat"]].to_numpy(dtype=float)
    d = np.column_stack([d, d[:, 0] * d[:, 1]]) if n_d else np.empty((0, 3))

    def figures(p_means: np.ndarray, d_means: np.ndarray) -> dict[str, np.ndarray]:
        value = p_means[..., 0] - d_means[..., 0]
        excess = p_means[..., 1] - d_means[..., 1]
        retained = _spend_if_retained(d_means[..., 2], d_means[..., 1])
        return {
            "detractor_to_promoter_value": value,
            "excess_churn_rate": excess,
            "detractor_spend_if_retained": retained,
            "detractor_revenue_at_risk": recent_detractors * excess * retained,
            "open_case_revenue_at_risk": open_case_spend * excess,
        }

    if n_p == 0 or n_d == 0:
        point = dict.fromkeys(figures(np.zeros(2), np.zeros(3)), np.nan)
    else:
        point = {k: float(v) for k, v in figures(p.mean(axis=0), d.mean(axis=0)).items()}
    row.update(point)
    draws = None
    if n_p >= 2 and n_d >= 2:
        rng = np.random.default_rng(settings.seed)
        repetitions = settings.bootstrap_repetitions
        draws = figures(_resample_means(p, repetitions, rng), _resample_means(d, repetitions, rng))
    for name in (
        "detractor_to_promoter_value",
        "excess_churn_rate",
        "detractor_revenue_at_risk",
        "open_case_revenue_at_risk",
    ):
        low, high = (np.nan, np.nan) if draws is None else _interval(draws[name], settings.confidence)
        row[f"{name}_ci_low"], row[f"{name}_ci_high"] = low, high
    return row


def _count_per_scope(members: pd.DataFrame) -> pd.Series:
    """Distinct members per (scope_level, scope_id) of a frame with store_id, region_id, customer_id."""
    if members.empty:
        return pd.Series(dtype="int64")
    return scoped(members).groupby(["scope_level", "scope_id"])["customer_id"].nunique()


def experience_money(
    outcomes: pd.DataFrame,
    recent_detractors: pd.DataFrame,
    open_case_members: pd.DataFrame,
    settings: MoneySettings,
) -> pd.DataFrame:
    """Rows of marts.mart_experience_money (:data:`MONEY_COLUMNS`), one per scope with a counted
    promoter or detractor.

    ``outcomes``: intermediate.int_experience__response_outcomes. ``recent_detractors``: members
    (customer_id, store_id, region_id) whose latest answer, within the last window, was a
    detractor's. ``open_case_members``: members with an unresolved case (customer_id, store_id,
    region_id, spend_per_window: their spend per window over the data).
    """
    if outcomes.empty:
        return pd.DataFrame(columns=list(MONEY_COLUMNS))
    window_days = int(outcomes["window_days"].iloc[0])
    last_day = outcomes["last_transaction_date"].iloc[0]
    members = first_answers(outcomes)
    recent = _count_per_scope(recent_detractors)
    cases = (
        scoped(open_case_members).drop_duplicates(["scope_level", "scope_id", "customer_id"])
        if not open_case_members.empty
        else pd.DataFrame(columns=["scope_level", "scope_id", "customer_id", "spend_per_window"])
    )
    case_count = cases.groupby(["scope_level", "scope_id"])["customer_id"].nunique()
    case_spend = cases.groupby(["scope_level", "scope_id"])["spend_per_window"].sum()
    rows = []
    for (level, scope_id), scope in members.groupby(["scope_level", "scope_id"], sort=True):
        key = (level, scope_id)
        by_category = {c: scope[scope["nps_category"] == c] for c in (PROMOTER, DETRACTOR)}
        if by_category[PROMOTER].empty and by_category[DETRACTOR].empty:
            continue
        row = scope_money(
            by_category[PROMOTER],
            by_category[DETRACTOR],
            int(recent.get(key, 0)),
            int(case_count.get(key, 0)),
            float(case_spend.get(key, 0.0)),
            settings,
        )
        where = {"scope_level": level, "scope_id": scope_id, "window_days": window_days}
        rows.append({**where, "last_transaction_date": last_day, **row})
    return pd.DataFrame(rows, columns=list(MONEY_COLUMNS))


def _design(ratings: np.ndarray) -> np.ndarray:
    """Intercept, each driver's rating (missing = the driver's mean) and an indicator per set of
    drivers rated but the most common set (for the demo, the channel: delivery orders rate delivery,
    visits the environment): the regressors of the category probabilities. With an intercept per
    set, a driver's slope is learnt among the respondents who rated it, and who meets a touchpoint
    does not pass for how they rated it; the sets exclude each other, so no two indicators are
    alike (indicators per driver were: staff and speed are rated by the same respondents)."""
    present = ~np.isnan(ratings)
    counts = present.sum(axis=0)
    means = np.where(present, ratings, 0.0).sum(axis=0) / np.maximum(counts, 1)
    filled = np.where(present, ratings, means)
    patterns, which = np.unique(present, axis=0, return_inverse=True)
    which = which.ravel()
    common = np.bincount(which).argmax()
    sets = [(which == k).astype(float) for k in range(len(patterns)) if k != common]
    return np.column_stack([np.ones(len(ratings)), filled, *sets])


def _category_slopes(design: np.ndarray, targets: np.ndarray, p: int) -> np.ndarray:
    """Least-squares slopes of the (promoter, detractor) indicators on each of the ``p`` drivers of
    ``design`` (:func:`_design`): drivers x 2.

    By the normal equations (a small square system: a thousand bootstrap fits take seconds, where
    an SVD per fit took a minute on two busy cores), without the columns that do not vary (a set
    of drivers absent from a resample); a driver that does not vary gets NaN slopes."""
    varies = np.concatenate([[True], design[:, 1:].std(axis=0) > 0])
    kept = design[:, varies]
    try:
        coefficients = np.linalg.solve(kept.T @ kept, kept.T @ targets)
    except np.linalg.LinAlgError:
        coefficients = np.linalg.lstsq(kept, targets, rcond=None)[0]
    full = np.full((design.shape[1], targets.shape[1]), np.nan)
    full[varies] = coefficients
    return full[1 : 1 + p]


@dataclass(frozen=True)
class _RowSums:
    """Per row of a design: what the normal equations sum (products of the columns, of the columns
    and the targets) and which value each column holds (a column takes few values: ratings, their
    mean, 0/1 indicators)."""

    design: np.ndarray
    targets: np.ndarray
    products: np.ndarray  # rows x q²
    cross: np.ndarray  # rows x (q x targets)
    holds_value: np.ndarray  # rows x (column, value) pairs, 1.0 where the row's column has the value
    column_of_value: np.ndarray  # the column of each (column, value) pair

    @classmethod
    def of(cls, design: np.ndarray, targets: np.ndarray) -> _RowSums:
        q = design.shape[1]
        return cls(
            design,
            targets,
            np.einsum("ni,nj->nij", design, design).reshape(len(design), q * q),
            np.einsum("ni,nk->nik", design, targets).reshape(len(design), -1),
            *value_holders(design, range(1, q)),
        )


def _resampled_slopes(sums: _RowSums, p: int, counts: np.ndarray) -> Iterator[np.ndarray]:
    """:func:`_category_slopes` of each resample of a block, a resample given as how often each row
    was drawn (resamples x rows).

    The same fits as on ``design[pick]``, from the normal equations' sums weighted by the counts:
    a block's sums come from one matrix product instead of copying the drawn rows a thousand times
    (which took most of the asset's time). A column does not vary in a resample when one of its
    values holds every drawn row: counted exactly."""
    q, k = sums.design.shape[1], sums.targets.shape[1]
    grams = (counts @ sums.products).reshape(-1, q, q)
    rights = (counts @ sums.cross).reshape(-1, q, k)
    constant_values = (counts @ sums.holds_value) == counts.sum(axis=1, keepdims=True)
    for row, gram, right, constant in zip(counts, grams, rights, constant_values, strict=True):
        varies = np.ones(q, dtype=bool)
        varies[sums.column_of_value[constant]] = False
        try:
            coefficients = np.linalg.solve(gram[np.ix_(varies, varies)], right[varies])
        except np.linalg.LinAlgError:
            drawn = row > 0
            weight = np.sqrt(row[drawn])[:, None]
            kept = sums.design[drawn][:, varies] * weight
            coefficients = np.linalg.lstsq(kept, sums.targets[drawn] * weight, rcond=None)[0]
        full = np.full((q, k), np.nan)
        full[varies] = coefficients
        yield full[1 : 1 + p]


def csat_revenue_effect(
    respondents: pd.DataFrame,
    drivers: list[str],
    members: pd.DataFrame,
    window_days: int,
    promoter_min: int,
    detractor_max: int,
    settings: MoneySettings,
) -> pd.DataFrame:
    """Rows of marts.mart_csat_revenue_effect (:data:`EFFECT_COLUMNS`) for the chain: per driver,
    the window's revenue of one more CSAT point per respondent who rates it (effect_per_rater) and
    per respondent (effect_per_member: per rater x the share who rate it, as a member meets the
    touchpoint that often; the driver model's reach, which ranks the drivers the same way) (module
    docstring).

    ``respondents``: one row per response, ``nps_score`` and one column per driver (NaN = not
    rated). ``members``: the chain's first answers (:func:`first_answers`, scope chain).
    """
    answered = respondents[respondents["nps_score"].notna() & respondents[drivers].notna().any(axis=1)]
    ratings = answered[drivers].to_numpy(dtype=float)
    score = answered["nps_score"].to_numpy(dtype=float)
    targets = np.column_stack([score >= promoter_min, score <= detractor_max]).astype(float)
    spend = {
        c: members.loc[members["nps_category"] == c, "spend"].to_numpy(dtype=float)
        for c in (PROMOTER, PASSIVE, DETRACTOR)
    }
    n = answered[drivers].notna().sum()
    reportable_base = len(answered) >= settings.min_respondents and all(
        len(v) >= settings.min_members for v in spend.values()
    )
    rows = pd.DataFrame(
        {
            "scope_level": "chain",
            "scope_id": CHAIN_SCOPE_ID,
            "touchpoint": drivers,
            "window_days": window_days,
            "n": n.to_numpy(),
            "respondents": len(answered),
            "rated_share": n.to_numpy() / max(len(answered), 1),
        }
    )
    for column in EFFECT_COLUMNS[rows.shape[1] :]:
        rows[column] = np.nan
    rows["is_reportable"] = False
    if len(answered) < 3 or any(len(v) < 2 for v in spend.values()):
        return rows[list(EFFECT_COLUMNS)]

    def effect(slopes: np.ndarray, means: dict[str, float]) -> np.ndarray:
        """Δp(promoter) x (promoter - passive spend) + Δp(detractor) x (detractor - passive spend)."""
        return slopes[:, 0] * (means[PROMOTER] - means[PASSIVE]) + slopes[:, 1] * (
            means[DETRACTOR] - means[PASSIVE]
        )

    # Built once: a resample's rows of it are the design of the resample, as a filled-in value is a
    # constant within each set of drivers rated, which its set's intercept absorbs.
    design = _design(ratings)
    slopes = _category_slopes(design, targets, len(drivers))
    rows["promoter_probability_change"] = slopes[:, 0]
    rows["detractor_probability_change"] = slopes[:, 1]
    rated = ~np.isnan(ratings)
    rows["effect_per_rater"] = effect(slopes, {c: float(v.mean()) for c, v in spend.items()})
    rows["effect_per_member"] = rows["effect_per_rater"] * rows["rated_share"]
    rng = np.random.default_rng(settings.seed)
    sums = _RowSums.of(design, targets)
    per_rater, per_member = [], []
    for start in range(0, settings.bootstrap_repetitions, RESAMPLES_PER_BLOCK):
        block = range(min(RESAMPLES_PER_BLOCK, settings.bootstrap_repetitions - start))
        counts, resampled_means = [], []
        for _ in block:  # drawn in the order of one resample after another, as before
            counts.append(np.bincount(rng.integers(0, len(answered), len(answered)), minlength=len(answered)))
            resampled_means.append(
                {c: float(v[rng.integers(0, len(v), len(v))].mean()) for c, v in spend.items()}
            )
        block_counts = np.array(counts, dtype=float)
        drawn_slopes = _resampled_slopes(sums, len(drivers), block_counts)
        for row, means, slopes_drawn in zip(block_counts, resampled_means, drawn_slopes, strict=True):
            draw = effect(slopes_drawn, means)
            per_rater.append(draw)
            per_member.append(draw * (row @ rated) / len(answered))
    tail = (1 - settings.confidence) / 2 * 100
    for prefix, draws in (("effect_per_rater_", per_rater), ("", per_member)):
        low, high = np.nanpercentile(np.array(draws), [tail, 100 - tail], axis=0)
        rows[f"{prefix}ci_low"], rows[f"{prefix}ci_high"] = low, high
    rows["is_reportable"] = reportable_base & (n.to_numpy() >= settings.min_ratings)
    return rows[list(EFFECT_COLUMNS)]
