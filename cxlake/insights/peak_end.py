"""Peak and end: does the worst moment, or the last one, explain likelihood to recommend beyond the
average touchpoint CSAT?

The peak-end rule of service design (Kahneman's remembered experience) says customers judge an
experience by its most intense moment and its end more than by its average. Whether that holds for
a chain's customers is a question the survey answers: per scope (the company, a region, a store)
and per journey stage, four nested ordinary least squares models of the 0-10 recommend score:

1. mean: the mean CSAT of the touchpoints the customer rated (the "average" view);
2. mean + lowest: plus the lowest rating (the worst moment, the negative peak);
3. mean + last: plus the rating of the last touchpoint met (the end, in journey-map order);
4. mean + lowest + last.

Each model's R², the gain in R² of models 2, 3 and 4 over model 1 with the nested F-test's p-value
(F = ((SSE_reduced - SSE_full) / q) / (SSE_full / (n - k - 1)), q the added predictors, k the full
model's), and the standardized coefficients of lowest and last in model 4 (the change in recommend
score, in its standard deviations, per standard deviation of the rating, the others held).

The verdict tells a manager where to act: ``fix_worst_moment`` when the lowest rating adds
significant explanation (p below ``significance``) of at least ``min_r2_gain`` with a positive
coefficient (a better worst moment, a higher score), ``fix_last_moment`` likewise for the last
touchpoint, the larger gain winning when both qualify; ``average_is_enough`` when neither does
(raising any touchpoint raises the average, and that is what counts); ``too_few`` below the
configured minimum n or when the lowest and the last cannot be told apart from the mean (every
respondent met one touchpoint of the stage), never a fact about the scope. The minimum gain keeps a
sliver of R² that a large sample makes "significant" from reading as a reason to change priorities.

The whole journey is the stage ``journey`` (every rated touchpoint: the lowest and last of
``marts.fct_journeys``' peak-end columns); each journey-map stage with two or more rated touchpoints
is a stage of its own, its mean, lowest and last over the stage's touchpoints (a respondent who
rated one of them counts with mean = lowest = last). Pure: numpy, scipy and pandas in, pandas out;
``assets/peak_end.py`` reads the warehouse and writes ``marts.mart_peak_end``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from scipy import stats

from cxlake.insights.drivers import CHAIN_SCOPE_ID, SCOPE_LEVELS

FIX_WORST = "fix_worst_moment"
FIX_LAST = "fix_last_moment"
AVERAGE_IS_ENOUGH = "average_is_enough"
TOO_FEW = "too_few"
VERDICTS = (FIX_WORST, FIX_LAST, AVERAGE_IS_ENOUGH, TOO_FEW)
# The stage that spans the whole journey (every rated touchpoint), beside the journey map's stages.
JOURNEY = "journey"

# The columns of marts.mart_peak_end: written by the peak-end asset, read by the explorer.
MART_COLUMNS = (
    "scope_level", "scope_id", "stage", "n", "r2_mean", "r2_mean_lowest", "r2_mean_last",
    "r2_mean_lowest_last", "lowest_r2_gain", "lowest_p_value", "last_r2_gain", "last_p_value",
    "lowest_last_r2_gain", "lowest_last_p_value", "lowest_beta", "last_beta", "mean_csat",
    "mean_lowest_csat", "mean_last_csat", "lowest_touchpoint", "last_touchpoint", "is_reportable",
    "verdict",
)  # fmt: skip
_FIT_COLUMNS = MART_COLUMNS[4:16]

CONFIG_FILE = "cxlake/config/insights.yaml"


@dataclass(frozen=True)
class PeakEndSettings:
    """The ``peak_end:`` section of cxlake/config/insights.yaml (its comments say why)."""

    min_responses: int
    significance: float
    min_r2_gain: float
    exclude_suspect: bool


def load_settings(path: str | Path | None = None) -> PeakEndSettings:
    """The peak-end settings in ``path``, else the packaged insights.yaml (read when called)."""
    if path is None:
        text = resources.files("cxlake.config").joinpath("insights.yaml").read_text("utf-8")
        where = CONFIG_FILE
    else:
        text, where = Path(path).read_text("utf-8"), str(path)
    raw = (yaml.safe_load(text) or {}).get("peak_end")
    if not isinstance(raw, dict):
        raise ValueError(f"{where}: missing the peak_end: section")
    kinds = {"min_responses": int, "significance": float, "min_r2_gain": float, "exclude_suspect": bool}
    values = {}
    for key, kind in kinds.items():
        if key not in raw:
            raise ValueError(f"{where}: peak_end: missing key {key!r}")
        value = raw[key]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if isinstance(value, bool) is not (kind is bool) or not isinstance(value, kind):
            raise ValueError(f"{where}: peak_end.{key} {value!r} is not {kind.__name__}")
        values[key] = value
    if values["min_responses"] < 10:
        raise ValueError(f"{where}: peak_end.min_responses {values['min_responses']} is below 10")
    if not 0 < values["significance"] < 1:
        raise ValueError(f"{where}: peak_end.significance {values['significance']} is not between 0 and 1")
    if not 0 <= values["min_r2_gain"] < 1:
        raise ValueError(f"{where}: peak_end.min_r2_gain {values['min_r2_gain']} is not in [0, 1)")
    return PeakEndSettings(**values)


def experience(ratings: pd.DataFrame, touchpoints: list[str]) -> pd.DataFrame:
    """Per row of ``ratings`` (one CSAT column per touchpoint, NaN = not rated): the mean, the
    lowest and the last rating (the rated touchpoint latest in ``touchpoints``' order, the journey
    map's) of ``touchpoints``, and which touchpoint was last; NaN / None where none was rated."""
    values = ratings[touchpoints].to_numpy(dtype=float)
    rated = ~np.isnan(values)
    any_rated = rated.any(axis=1)
    last_at = len(touchpoints) - 1 - np.argmax(rated[:, ::-1], axis=1)
    rows = np.arange(len(values))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a row with nothing rated: NaN is the answer
        mean, lowest = np.nanmean(values, axis=1), np.nanmin(values, axis=1)
    return pd.DataFrame(
        {
            "mean_csat": mean,
            "lowest_csat": lowest,
            "last_csat": np.where(any_rated, values[rows, last_at], np.nan),
            "last_touchpoint": np.where(any_rated, np.array(touchpoints, dtype=object)[last_at], None),
        },
        index=ratings.index,
    )


def _sse(design: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray, int]:
    """Residual sum of squares of y on the design (an intercept added), the coefficients and the
    design's rank (with the intercept)."""
    x = np.column_stack([np.ones(len(y)), design])
    coefficients, _, rank, _ = np.linalg.lstsq(x, y, rcond=None)
    residuals = y - x @ coefficients
    return float(residuals @ residuals), coefficients, int(rank)


def _nested_p(sse_reduced: float, sse_full: float, added: int, residual_df: int) -> float:
    """p-value of the nested F-test that the ``added`` predictors explain nothing more."""
    gain = max(sse_reduced - sse_full, 0.0)
    if sse_full <= 0:
        return 0.0 if gain > 0 else 1.0
    return float(stats.f.sf((gain / added) / (sse_full / residual_df), added, residual_df))


def fit_models(y: np.ndarray, mean: np.ndarray, lowest: np.ndarray, last: np.ndarray) -> dict | None:
    """R² of the four nested models, the gains over the mean-only model with their F-test p-values
    and the standardized coefficients of lowest and last in the full model; None when the full
    model cannot be estimated (no variation in the score, or lowest / last a linear function of
    the mean and each other: nothing to tell apart)."""
    n = len(y)
    sst = float(((y - y.mean()) ** 2).sum())
    if n < 6 or sst == 0:
        return None
    sse_mean, _, rank_mean = _sse(mean[:, None], y)
    sse_lowest, _, _ = _sse(np.column_stack([mean, lowest]), y)
    sse_last, _, _ = _sse(np.column_stack([mean, last]), y)
    sse_full, coefficients, rank_full = _sse(np.column_stack([mean, lowest, last]), y)
    if rank_mean < 2 or rank_full < 4:
        return None
    r2 = {name: 1 - sse / sst for name, sse in
          (("mean", sse_mean), ("lowest", sse_lowest), ("last", sse_last), ("full", sse_full))}  # fmt: skip
    sd_y = y.std()
    return {
        "r2_mean": r2["mean"],
        "r2_mean_lowest": r2["lowest"],
        "r2_mean_last": r2["last"],
        "r2_mean_lowest_last": r2["full"],
        "lowest_r2_gain": r2["lowest"] - r2["mean"],
        "lowest_p_value": _nested_p(sse_mean, sse_lowest, 1, n - 3),
        "last_r2_gain": r2["last"] - r2["mean"],
        "last_p_value": _nested_p(sse_mean, sse_last, 1, n - 3),
        "lowest_last_r2_gain": r2["full"] - r2["mean"],
        "lowest_last_p_value": _nested_p(sse_mean, sse_full, 2, n - 4),
        "lowest_beta": float(coefficients[2] * lowest.std() / sd_y),
        "last_beta": float(coefficients[3] * last.std() / sd_y),
    }


def verdict(fit: dict, settings: PeakEndSettings) -> str:
    """The plain verdict of a fitted scope and stage (see the module's docstring)."""
    qualifies = {}
    for moment, code in (("lowest", FIX_WORST), ("last", FIX_LAST)):
        gain = fit[f"{moment}_r2_gain"]
        if (
            fit[f"{moment}_p_value"] < settings.significance
            and gain >= settings.min_r2_gain
            and fit[f"{moment}_beta"] > 0
        ):
            qualifies[code] = gain
    return max(qualifies, key=qualifies.get) if qualifies else AVERAGE_IS_ENOUGH


def _most_often(flags: pd.DataFrame) -> str | None:
    """The column most often true (the first in journey order on a tie); None when none is."""
    counts = flags.sum()
    return str(counts.idxmax()) if len(counts) and counts.max() > 0 else None


def stage_row(scope: pd.DataFrame, outcome: str, touchpoints: list[str], settings: PeakEndSettings) -> dict:
    """One scope's row for a stage: the respondents who gave the score and rated a touchpoint of
    the stage, the models when there are enough of them, and which touchpoint is most often the
    worst (ties: each tied touchpoint counts) and the last."""
    moments = experience(scope, touchpoints)
    answered = scope[outcome].notna().to_numpy() & moments["mean_csat"].notna().to_numpy()
    moments, ratings = moments[answered], scope.loc[answered, touchpoints].astype(float)
    y = scope.loc[answered, outcome].to_numpy(dtype=float)
    worst = ratings.eq(moments["lowest_csat"], axis=0)
    last = pd.get_dummies(moments["last_touchpoint"]).reindex(columns=touchpoints, fill_value=False)
    row = {
        "n": int(answered.sum()),
        "mean_csat": moments["mean_csat"].mean(),
        "mean_lowest_csat": moments["lowest_csat"].mean(),
        "mean_last_csat": moments["last_csat"].mean(),
        "lowest_touchpoint": _most_often(worst),
        "last_touchpoint": _most_often(last),
        **dict.fromkeys(_FIT_COLUMNS, np.nan),
        "is_reportable": False,
        "verdict": TOO_FEW,
    }
    if row["n"] < settings.min_responses:
        return row
    fit = fit_models(
        y,
        moments["mean_csat"].to_numpy(),
        moments["lowest_csat"].to_numpy(),
        moments["last_csat"].to_numpy(),
    )
    if fit is None:
        return row
    return {**row, **fit, "is_reportable": True, "verdict": verdict(fit, settings)}


def peak_end_mart(
    responses: pd.DataFrame,
    outcome: str,
    stages: dict[str, list[str]],
    settings: PeakEndSettings,
) -> pd.DataFrame:
    """Rows of marts.mart_peak_end (:data:`MART_COLUMNS`): the company, each region and each store,
    for each stage. ``responses`` has one row per response: ``region_id``, ``store_id``, the outcome
    and one CSAT column per touchpoint (NaN where not rated); ``stages`` maps a stage to its
    touchpoint columns in journey order (:data:`JOURNEY` first with every touchpoint, by
    convention)."""
    rows = []
    for level, column in SCOPE_LEVELS.items():
        groups = [(CHAIN_SCOPE_ID, responses)] if column is None else responses.groupby(column, sort=True)
        for scope_id, scope in groups:
            for stage, touchpoints in stages.items():
                row = stage_row(scope, outcome, touchpoints, settings)
                rows.append({"scope_level": level, "scope_id": str(scope_id), "stage": stage, **row})
    mart = pd.DataFrame(rows, columns=list(MART_COLUMNS))
    mart["n"] = mart["n"].astype("int64")
    mart["is_reportable"] = mart["is_reportable"].astype(bool)
    return mart
