"""Key-driver analysis: which touchpoint's satisfaction moves likelihood to recommend the most.

A regression of the recommend score on every touchpoint's CSAT answers the question badly: the
CSATs are correlated (a customer in a good mood rates everything higher), so the coefficients swap
credit between touchpoints from one sample to the next and can even turn negative. Relative
importance methods split the model's R² between the drivers instead:

- **Johnson's relative weights** (Johnson 2000, *Multivariate Behavioral Research* 35(1); the method
  Qualtrics Stats iQ uses): replace the drivers X by their closest orthogonal counterpart
  Z = X R^-1/2 (R the drivers' correlation matrix), regress the outcome on Z (β = R^-1/2 r_xy, Z
  being uncorrelated), and give each driver j the variance it shares with each Z_k times what Z_k
  explains: weight_j = Σ_k Λ_jk² β_k² with Λ = R^1/2 the correlations of X with Z. The weights are
  non-negative and sum to R².
- **The Shapley decomposition of R²** (also called LMG or dominance-analysis general dominance):
  each driver's marginal gain in R² averaged over every order of entering the model. Exact, from
  the 2^p sub-models, so only for a few drivers (``shapley_max_drivers``); a cross-check of the
  relative weights, which approximate it at a fraction of the cost.

Both need only the correlation matrix of the outcome and the drivers, which is how missing
ratings are handled (:func:`imputed_correlations`). Bootstrap percentile intervals resample
respondents and repeat everything, the imputation included. Importance-performance quadrants put
each driver against the cross-hairs at the mean weight and the mean satisfaction of the drivers.

Pure and core: numpy and pandas in, pandas out. ``cxlake drivers`` (:mod:`cxlake.cli.drivers`)
runs :func:`key_drivers` on any CSV; the key-drivers asset (``assets/insights.py``) runs
:func:`key_driver_mart` on the serving marts and writes ``marts.mart_key_drivers``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

# Importance-performance quadrants (cross-hairs at the drivers' mean weight and mean satisfaction).
CONCENTRATE_HERE = "concentrate_here"  # high importance, low satisfaction: fix first
KEEP_UP = "keep_up_the_good_work"  # high importance, high satisfaction
LOW_PRIORITY = "low_priority"  # low importance, low satisfaction
POSSIBLE_OVERKILL = "possible_overkill"  # low importance, high satisfaction
QUADRANTS = (CONCENTRATE_HERE, KEEP_UP, LOW_PRIORITY, POSSIBLE_OVERKILL)
# A driver (or a whole scope) the model did not estimate: below the configured minimum n.
NOT_ENOUGH_RESPONSES = "not_enough_responses"

# One row per driver of `cxlake drivers`; `n` (respondents who rated the driver) comes last.
CLI_COLUMNS = (
    "driver", "relative_weight", "relative_weight_share", "ci_low", "ci_high", "shapley_r2", "mean",
    "quadrant", "n",
)  # fmt: skip
# The columns of marts.mart_key_drivers: written by the key-drivers asset, read by the explorer.
MART_COLUMNS = (
    "scope_level", "scope_id", "driver", "relative_weight", "relative_weight_share", "ci_low",
    "ci_high", "satisfaction", "quadrant", "n",
)  # fmt: skip
SCOPE_LEVELS = {"chain": None, "region": "region_id", "store": "store_id"}
CHAIN_SCOPE_ID = "chain"

CONFIG_FILE = "cxlake/config/insights.yaml"
# Smallest eigenvalue of the drivers' correlation matrix still treated as full rank.
SINGULAR_TOLERANCE = 1e-10


class DriverError(ValueError):
    """Data the driver model cannot be fitted on; the message names the column and the reason."""


@dataclass(frozen=True)
class DriverSettings:
    """The ``key_drivers:`` section of cxlake/config/insights.yaml (its comments say why)."""

    min_responses: int
    min_ratings: int
    bootstrap_repetitions: int
    confidence: float
    seed: int
    exclude_suspect: bool
    shapley_max_drivers: int


@dataclass(frozen=True)
class DriverModel:
    """A fitted key-driver model: one row per driver (:data:`CLI_COLUMNS`), R² and what was used."""

    table: pd.DataFrame
    r_squared: float
    respondents: int  # rows with the outcome and at least one driver rated
    left_out_no_outcome: int
    left_out_no_rating: int
    bootstrap_skipped: int  # resamples where a column had no variation (not counted in the interval)


def load_settings(path: str | Path | None = None) -> DriverSettings:
    """The key-driver settings in ``path``, else the packaged insights.yaml (read when called)."""
    if path is None:
        text = resources.files("cxlake.config").joinpath("insights.yaml").read_text("utf-8")
        where = CONFIG_FILE
    else:
        text, where = Path(path).read_text("utf-8"), str(path)
    raw = (yaml.safe_load(text) or {}).get("key_drivers")
    if not isinstance(raw, dict):
        raise ValueError(f"{where}: missing the key_drivers: section")
    kinds = {
        "min_responses": int, "min_ratings": int, "bootstrap_repetitions": int, "confidence": float,
        "seed": int, "exclude_suspect": bool, "shapley_max_drivers": int,
    }  # fmt: skip
    values = {}
    for key, kind in kinds.items():
        if key not in raw:
            raise ValueError(f"{where}: key_drivers: missing key {key!r}")
        value = raw[key]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if isinstance(value, bool) is not (kind is bool) or not isinstance(value, kind):
            raise ValueError(f"{where}: key_drivers.{key} {value!r} is not {kind.__name__}")
        values[key] = value
    if not 0 < values["confidence"] < 1:
        raise ValueError(f"{where}: key_drivers.confidence {values['confidence']} is not between 0 and 1")
    if values["min_ratings"] < 3 or values["min_responses"] < values["min_ratings"]:
        raise ValueError(f"{where}: key_drivers needs 3 <= min_ratings <= min_responses")
    return DriverSettings(**values)


def imputed_correlations(values: np.ndarray) -> np.ndarray | None:
    """Correlations of the outcome (column 0) and the drivers, each missing rating taking its
    driver's mean; None when a column has no variation (or no value at all).

    Why mean imputation and not pairwise-complete correlations: a missing rating here is a
    touchpoint the customer did not meet (delivery for an in-store visit, the store's environment
    for a delivery order), not a random gap. Listwise deletion keeps only customers who met every
    touchpoint, and in the demo chain nobody does (environment is in-store only, delivery is
    delivery only). Pairwise-complete correlations are undefined for exactly those pairs, never
    rated together, and a matrix assembled pair by pair need not be positive definite, which the
    eigen-decomposition of the relative weights requires. Filling a missing rating with the
    driver's mean adds nothing to any covariance: the covariance of two drivers becomes their
    covariance among the customers who rated both, times the share of customers who did (and
    likewise with the outcome), a matrix that always exists and is positive semi-definite.

    What it means: a driver's weight is its share of the variation in the outcome *across all
    respondents*, so a touchpoint few customers meet weighs less than one everybody meets, even if
    it matters as much to those who meet it; that is the company's question ("what moves our
    recommend score most"), and the number of respondents who rated each driver is reported with
    its weight so the reach is visible.
    """
    present = ~np.isnan(values)
    counts = present.sum(axis=0)
    if (counts < 2).any():
        return None
    means = np.where(present, values, 0.0).sum(axis=0) / counts
    filled = np.where(present, values, means)
    if (filled.std(axis=0) == 0).any():
        return None
    return np.corrcoef(filled, rowvar=False)


def relative_weights(correlations: np.ndarray) -> np.ndarray:
    """Johnson's raw relative weights from the correlation matrix of (outcome, drivers...).

    Λ = R^1/2 holds the correlations of the drivers with their orthogonal counterparts Z; Z being
    uncorrelated, the regression of the outcome on Z has β = Λ^-1 r_xy; weight_j = Σ_k Λ_jk² β_k².
    Raises :class:`DriverError` when the drivers are collinear (R is singular).
    """
    rxx, rxy = correlations[1:, 1:], correlations[1:, 0]
    eigenvalues, vectors = np.linalg.eigh(rxx)
    if eigenvalues.min() < SINGULAR_TOLERANCE:
        raise DriverError("the drivers are collinear (one is a linear combination of others)")
    root = (vectors * np.sqrt(eigenvalues)) @ vectors.T
    beta = np.linalg.solve(root, rxy)
    return (root**2) @ (beta**2)


def subset_r_squared(correlations: np.ndarray, drivers: list[int]) -> float:
    """R² of the outcome (column 0) on the drivers at positions ``drivers`` (1-based in the matrix)."""
    if not drivers:
        return 0.0
    rxy = correlations[drivers, 0]
    return float(rxy @ np.linalg.solve(correlations[np.ix_(drivers, drivers)], rxy))


def shapley_r2(correlations: np.ndarray) -> np.ndarray:
    """Each driver's Shapley share of R²: its gain in R² when it enters a sub-model, averaged with
    weight |S|! (p - |S| - 1)! / p! over every sub-model S without it (exact; 2^p sub-models)."""
    p = correlations.shape[0] - 1
    r2 = np.array(
        [subset_r_squared(correlations, [j + 1 for j in range(p) if mask >> j & 1]) for mask in range(2**p)]
    )
    shares = np.zeros(p)
    for mask in range(2**p):
        size = mask.bit_count()
        weight = math.factorial(size) * math.factorial(p - size - 1) / math.factorial(p) if size < p else 0
        for j in range(p):
            if not mask >> j & 1:
                shares[j] += weight * (r2[mask | 1 << j] - r2[mask])
    return shares


def quadrants(importance: pd.Series, satisfaction: pd.Series) -> pd.Series:
    """Each driver's importance-performance quadrant, cross-hairs at the means over the drivers
    (a value on a cross-hair counts as high)."""
    high_importance = importance >= importance.mean()
    high_satisfaction = satisfaction >= satisfaction.mean()
    labels = np.select(
        [
            high_importance & ~high_satisfaction,
            high_importance & high_satisfaction,
            ~high_importance & ~high_satisfaction,
        ],
        [CONCENTRATE_HERE, KEEP_UP, LOW_PRIORITY],
        POSSIBLE_OVERKILL,
    )
    return pd.Series(labels, index=importance.index, dtype=object)


RESAMPLES_PER_BLOCK = 100  # resamples whose row counts are held and multiplied at once


def value_holders(matrix: np.ndarray, columns: range) -> tuple[np.ndarray, np.ndarray]:
    """Per row, 1.0 where column j holds value v, for every value each of ``columns`` takes (NaN is
    no value), and the column of each such (j, v): a resample's row counts times the first say how
    many drawn rows hold each value, so whether a column varies in it is counted exactly."""
    pairs = [(j, value) for j in columns for value in np.unique(matrix[:, j]) if not np.isnan(value)]
    holders = np.column_stack([matrix[:, j] == value for j, value in pairs]).astype(float)
    return holders, np.array([j for j, _ in pairs])


@dataclass(frozen=True)
class _ResampleSums:
    """Per respondent, what :func:`imputed_correlations` of a resample sums: each column's value
    where rated (0 where not), whether rated, the pairwise products of those, and which value each
    column holds (ratings take few values), so a resample's correlations follow from how often it
    drew each respondent: one matrix product per block of resamples instead of copying rows."""

    present: np.ndarray  # rows x q, 1.0 where rated
    rated: np.ndarray  # rows x q, the value where rated, else 0
    pair_sums: np.ndarray  # rows x 3q²: rated_j rated_k, rated_j missing_k, missing_j missing_k
    holds_value: np.ndarray  # rows x (column, value) pairs, 1.0 where the column is rated that value
    column_of_value: np.ndarray

    @classmethod
    def of(cls, values: np.ndarray) -> _ResampleSums:
        present = ~np.isnan(values)
        rated = np.where(present, values, 0.0)
        missing = 1.0 - present
        n, q = values.shape
        return cls(
            present.astype(float),
            rated,
            np.hstack(
                [
                    np.einsum("ni,nj->nij", a, b).reshape(n, q * q)
                    for a, b in ((rated, rated), (rated, missing), (missing, missing))
                ]
            ),
            *value_holders(values, range(q)),
        )

    def correlations(self, counts: np.ndarray) -> Iterator[np.ndarray | None]:
        """:func:`imputed_correlations` of each resample of a block (resamples x rows of counts):
        the same matrix, from sums; None where a column has fewer than 2 ratings or one value."""
        q = self.present.shape[1]
        drawn = counts.sum(axis=1)
        rated_counts = counts @ self.present
        rated_sums = counts @ self.rated
        products = (counts @ self.pair_sums).reshape(len(counts), 3, q, q)
        value_counts = counts @ self.holds_value
        for r in range(len(counts)):
            if (rated_counts[r] < 2).any():
                yield None
                continue
            most_held = np.zeros(q)
            np.maximum.at(most_held, self.column_of_value, value_counts[r])
            if (most_held == rated_counts[r]).any():  # every rating of a column alike: no variation
                yield None
                continue
            means = rated_sums[r] / rated_counts[r]  # the imputed value of each column
            both, one, neither = products[r]
            filled_products = both + one * means + (one * means).T + neither * np.outer(means, means)
            filled_means = (rated_sums[r] + means * (drawn[r] - rated_counts[r])) / drawn[r]
            covariance = filled_products / drawn[r] - np.outer(filled_means, filled_means)
            scale = np.sqrt(np.diag(covariance))
            yield np.clip(covariance / np.outer(scale, scale), -1.0, 1.0)


def _bootstrap(values: np.ndarray, repetitions: int, confidence: float, seed: int):
    """Percentile interval of each relative weight over respondent resamples (imputation repeated
    in each); resamples where a column has no variation or the drivers are collinear are skipped."""
    rng = np.random.default_rng(seed)
    n = len(values)
    sums = _ResampleSums.of(values)
    draws = []
    for start in range(0, repetitions, RESAMPLES_PER_BLOCK):
        block = min(RESAMPLES_PER_BLOCK, repetitions - start)
        counts = np.array(
            [np.bincount(rng.integers(0, n, n), minlength=n) for _ in range(block)], dtype=float
        )
        for correlations in sums.correlations(counts):
            if correlations is None:
                continue
            try:
                draws.append(relative_weights(correlations))
            except DriverError:
                continue
    p = values.shape[1] - 1
    if not draws:
        return np.full(p, np.nan), np.full(p, np.nan), repetitions
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(np.array(draws), [tail, 100 - tail], axis=0)
    return low, high, repetitions - len(draws)


def key_drivers(
    frame: pd.DataFrame,
    outcome: str,
    drivers: list[str],
    *,
    repetitions: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    shapley_max_drivers: int = 10,
) -> DriverModel:
    """Relative weights (with bootstrap intervals), Shapley R² shares (when there are at most
    ``shapley_max_drivers`` drivers, else empty), each driver's mean, n and quadrant.

    ``frame`` holds numbers (NaN = not rated). Rows without the outcome, or without any driver
    rated, say nothing about what drives the outcome and are left out (and counted). Raises
    :class:`DriverError` naming the column when a driver or the outcome cannot be used.
    """
    if not drivers:
        raise DriverError("no drivers given")
    for column in (outcome, *drivers):
        if column not in frame.columns:
            raise DriverError(f"no column {column!r}")
    if outcome in drivers:
        raise DriverError(f"{outcome!r} is the outcome and cannot also be a driver")
    data = frame[[outcome, *drivers]].astype(float)
    no_outcome = data[outcome].isna()
    no_rating = ~no_outcome & data[drivers].isna().all(axis=1)
    data = data[~no_outcome & ~no_rating]
    ratings = data[drivers].notna().sum()
    for column in (outcome, *drivers):
        kept = data[column].dropna()
        if len(kept) < 2:
            raise DriverError(f"column {column!r} has fewer than 2 values to correlate")
        if kept.nunique() == 1:
            raise DriverError(f"column {column!r} has no variation (every value is {kept.iloc[0]:g})")
    values = data.to_numpy()
    correlations = imputed_correlations(values)
    weights = relative_weights(correlations)
    r_squared = float(weights.sum())
    low, high, skipped = _bootstrap(values, repetitions, confidence, seed)
    shapley = (
        shapley_r2(correlations) if len(drivers) <= shapley_max_drivers else np.full(len(drivers), np.nan)
    )
    table = pd.DataFrame(
        {
            "driver": drivers,
            "relative_weight": weights,
            "relative_weight_share": weights / r_squared if r_squared > 0 else np.nan,
            "ci_low": low,
            "ci_high": high,
            "shapley_r2": shapley,
            "mean": data[drivers].mean().to_numpy(),
            "n": ratings.to_numpy(),
        }
    )
    table["quadrant"] = quadrants(table["relative_weight"], table["mean"])
    return DriverModel(
        table=table[list(CLI_COLUMNS)],
        r_squared=r_squared,
        respondents=len(data),
        left_out_no_outcome=int(no_outcome.sum()),
        left_out_no_rating=int(no_rating.sum()),
        bootstrap_skipped=skipped,
    )


def scope_drivers(
    frame: pd.DataFrame, outcome: str, drivers: list[str], settings: DriverSettings
) -> pd.DataFrame:
    """One scope's rows of the mart: the model on the drivers with enough ratings; every other
    driver (or every driver, when the scope has too few respondents) marked not enough responses.

    A driver needs ``min_ratings`` ratings that are not all alike; the scope needs
    ``min_responses`` respondents with the outcome and a rating. A marked row keeps its n and its
    satisfaction: the marker says the weight is unknown, not that nobody answered.
    """
    answered = frame[frame[outcome].notna() & frame[drivers].notna().any(axis=1)]
    n = answered[drivers].notna().sum()
    rows = pd.DataFrame(
        {
            "driver": drivers,
            "relative_weight": np.nan,
            "relative_weight_share": np.nan,
            "ci_low": np.nan,
            "ci_high": np.nan,
            "satisfaction": answered[drivers].mean().to_numpy(),
            "quadrant": NOT_ENOUGH_RESPONSES,
            "n": n.to_numpy(),
        }
    )
    usable = [d for d in drivers if n[d] >= settings.min_ratings and answered[d].nunique() > 1]
    if len(answered) < settings.min_responses or not usable or answered[outcome].nunique() < 2:
        return rows
    model = key_drivers(
        answered,
        outcome,
        usable,
        repetitions=settings.bootstrap_repetitions,
        confidence=settings.confidence,
        seed=settings.seed,
        shapley_max_drivers=0,
    ).table.set_index("driver")
    at = rows["driver"].isin(usable).to_numpy()
    for column in ("relative_weight", "relative_weight_share", "ci_low", "ci_high", "quadrant"):
        rows.loc[at, column] = model.loc[rows.loc[at, "driver"], column].to_numpy()
    return rows


def key_driver_mart(
    responses: pd.DataFrame, outcome: str, drivers: list[str], settings: DriverSettings
) -> pd.DataFrame:
    """Rows of marts.mart_key_drivers (:data:`MART_COLUMNS`): the company, each region and each
    store. ``responses`` has one row per response: ``region_id``, ``store_id``, the outcome and one
    column per driver (NaN where the touchpoint was not rated)."""
    parts = []
    for level, column in SCOPE_LEVELS.items():
        groups = [(CHAIN_SCOPE_ID, responses)] if column is None else responses.groupby(column, sort=True)
        for scope_id, scope in groups:
            rows = scope_drivers(scope, outcome, drivers, settings)
            rows.insert(0, "scope_id", str(scope_id))
            rows.insert(0, "scope_level", level)
            parts.append(rows)
    mart = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=list(MART_COLUMNS))
    mart["n"] = mart["n"].astype("int64")
    return mart[list(MART_COLUMNS)]
