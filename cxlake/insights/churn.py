"""Churn risk: which members are about to stop buying, why, and what their leaving would cost.

A member "churns" here when they make **no purchase in the next N days** after a cut-off day. The
60-day flag of mart_customer_360 (``is_churned``) needs 60 quiet days to say anything, so it is false
for everyone on a 30-day demo and a month late on real data; a forward-looking window fitted to the
history the warehouse holds is what a store can act on.

**Windows** (:func:`choose_windows`). With D days of purchases, the horizon N is the configured
``horizon_days`` shrunk to D // 3, and the features look back L = min(``lookback_days``, D - 2N)
days (at least N): the last cut-off whose N following days are all loaded is the *test* cut-off
(day D-1-N); the *training* cut-offs end N days before it, so no training label looks at a day the
test features already see, and go back every ``cutoff_step_days`` while a whole look-back fits. The
time split is honest: a model is judged on a later period than it learnt from. A 30-day demo gives
N = 10, L = 10; 45 days N = 14, L = 17; 90 days N = 14, L = 28.

**Features** per member who bought in the look-back window, as of the cut-off day (events of that
day included, nothing later): recency, purchase frequency and spend per week, spend trend (the
recent half of the window against the earlier half, per day of membership), tenure, member tier;
the last NPS answer (score and category, with "no answer" as a feature of its own), negative
comments (survey comments and linked reviews) and, when the loop marts carry cases, the cases still
unresolved at the cut-off and the resolved ones. Tier is today's (upgrades are rare and only move
up); the experience features use the member's whole past, which the demo's planted churn needs (a
detractor buys less from the day after their answer, for good).

**Model**: a logistic regression on standardised features (log scale for counts and amounts; the
default: fitted by log-loss, so its probabilities are calibrated on its training period) or
gradient boosting calibrated by isotonic regression (``model`` in the settings). It is judged on the
test cut-off by AUC, Brier score and a reliability table, beside a recency-only baseline (a logistic
regression on the log of days since the last purchase: the rule most CRM teams run).

**Scoring** at the last day with the model refitted on every labelled cut-off: probability, the
**top reasons** (each a group of features, e.g. the last NPS answer; a reason's weight is how far the
log-odds fall when the group is set to the training population's median member: exact for the
logistic model, and the same question asked of any model), the expected spend over the horizon
(spend per day in the look-back × N) and the **value at risk** (probability × that spend). A store's
**watch list** holds its high-value members at risk (rule in the settings), ranked by value at risk,
for the closed-loop rules and the explorer.

Pure and core: pandas in, pandas out. The churn asset (``assets/churn.py``) reads the marts and
writes ``marts.mart_churn_risk``; ``bench/bench_churn.py`` measures the evaluation.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from sklearn.base import ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

CONFIG_FILE = "cxlake/config/insights.yaml"
MODELS = ("logistic", "gradient_boosting")
TIERS = ("basic", "silver", "gold", "black")  # CRM member tiers, lowest first

# The model's features, in order. Skewed non-negative ones enter the logistic model on log scale.
FEATURES = (
    "days_since_last_purchase", "purchases_per_week", "spend_per_week", "spend_trend", "tenure_days",
    "member_tier_rank", "has_nps_answer", "last_nps_score", "last_nps_is_detractor",
    "last_nps_is_promoter", "negative_comments", "open_cases", "resolved_cases",
)  # fmt: skip
LOG_FEATURES = (
    "days_since_last_purchase", "purchases_per_week", "spend_per_week", "tenure_days",
    "negative_comments", "open_cases", "resolved_cases",
)  # fmt: skip
BASELINE_FEATURE = "days_since_last_purchase"
# Reasons: groups of features read together (the NPS answer is one reason, not four).
REASON_GROUPS: dict[str, tuple[str, ...]] = {
    "recency": ("days_since_last_purchase",),
    "frequency": ("purchases_per_week",),
    "spend": ("spend_per_week",),
    "spend_trend": ("spend_trend",),
    "tenure": ("tenure_days",),
    "tier": ("member_tier_rank",),
    "nps": ("has_nps_answer", "last_nps_score", "last_nps_is_detractor", "last_nps_is_promoter"),
    "negative_comments": ("negative_comments",),
    "cases": ("open_cases", "resolved_cases"),
}
# The columns of marts.mart_churn_risk: written by the churn asset, read by the explorer and alerts.
MART_COLUMNS = (
    "customer_id", "store_id", "region_id", "member_tier", "as_of_date", "horizon_days",
    "churn_probability", "days_since_last_purchase", "purchases_per_week", "last_nps_score",
    "last_nps_category", "open_cases", "expected_spend_horizon", "value_at_risk", "reason_1",
    "reason_2", "reason_3", "reason_1_zh", "reason_2_zh", "reason_3_zh", "is_watch_listed",
    "watch_list_rank", "model",
)  # fmt: skip
N_REASONS = 3
PROBABILITY_CLIP = 1e-6  # log-odds of a probability of exactly 0 or 1 (isotonic steps) stay finite


class ChurnError(ValueError):
    """Data or settings the churn model cannot use; the message says which and why."""


@dataclass(frozen=True)
class ChurnSettings:
    """The ``churn:`` section of cxlake/config/insights.yaml (its comments say why)."""

    horizon_days: int
    min_horizon_days: int
    lookback_days: int
    cutoff_step_days: int
    model: str
    regularization: float
    seed: int
    exclude_suspect: bool
    reliability_bins: int
    reason_min_log_odds: float
    watch_min_lift: float
    watch_value_quantile: float
    watch_max_per_store: int


def load_settings(path: str | Path | None = None) -> ChurnSettings:
    """The churn settings in ``path``, else the packaged insights.yaml (read when called)."""
    if path is None:
        text = resources.files("cxlake.config").joinpath("insights.yaml").read_text("utf-8")
        where = CONFIG_FILE
    else:
        text, where = Path(path).read_text("utf-8"), str(path)
    raw = (yaml.safe_load(text) or {}).get("churn")
    if not isinstance(raw, dict):
        raise ChurnError(f"{where}: missing the churn: section")
    watch = raw.get("watch_list")
    if not isinstance(watch, dict):
        raise ChurnError(f"{where}: churn: missing the watch_list: section")
    kinds: dict[str, tuple[dict, str, type]] = {
        "horizon_days": (raw, "horizon_days", int),
        "min_horizon_days": (raw, "min_horizon_days", int),
        "lookback_days": (raw, "lookback_days", int),
        "cutoff_step_days": (raw, "cutoff_step_days", int),
        "model": (raw, "model", str),
        "regularization": (raw, "regularization", float),
        "seed": (raw, "seed", int),
        "exclude_suspect": (raw, "exclude_suspect", bool),
        "reliability_bins": (raw, "reliability_bins", int),
        "reason_min_log_odds": (raw, "reason_min_log_odds", float),
        "watch_min_lift": (watch, "min_lift", float),
        "watch_value_quantile": (watch, "value_quantile", float),
        "watch_max_per_store": (watch, "max_per_store", int),
    }
    values = {}
    for field, (section, key, kind) in kinds.items():
        name = f"churn.{'watch_list.' if section is watch else ''}{key}"
        if key not in section:
            raise ChurnError(f"{where}: missing key {name}")
        value = section[key]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if isinstance(value, bool) is not (kind is bool) or not isinstance(value, kind):
            raise ChurnError(f"{where}: {name} {value!r} is not {kind.__name__}")
        values[field] = value
    settings = ChurnSettings(**values)
    problems = [
        (settings.model not in MODELS, f"churn.model {settings.model!r} is not one of {', '.join(MODELS)}"),
        (settings.min_horizon_days < 1, "churn.min_horizon_days must be at least 1"),
        (settings.horizon_days < settings.min_horizon_days, "churn.horizon_days < min_horizon_days"),
        (settings.lookback_days < settings.horizon_days, "churn.lookback_days < horizon_days"),
        (settings.cutoff_step_days < 1, "churn.cutoff_step_days must be at least 1"),
        (settings.regularization <= 0, "churn.regularization must be positive"),
        (settings.reliability_bins < 2, "churn.reliability_bins must be at least 2"),
        (settings.reason_min_log_odds < 0, "churn.reason_min_log_odds must not be negative"),
        (settings.watch_min_lift <= 0, "churn.watch_list.min_lift must be positive"),
        (not 0 <= settings.watch_value_quantile < 1, "churn.watch_list.value_quantile not in [0, 1)"),
        (settings.watch_max_per_store < 1, "churn.watch_list.max_per_store must be at least 1"),
    ]
    for failed, message in problems:
        if failed:
            raise ChurnError(f"{where}: {message}")
    return settings


@dataclass(frozen=True)
class ChurnData:
    """What the model reads, one frame per kind of event (the asset fills it from the marts).

    - ``customers``: customer_id, store_id (home store), region_id, member_tier, signed_up_on
    - ``purchases``: customer_id, purchased_on (business day), spend (yuan, net of refunds)
    - ``responses``: customer_id, responded_at, nps_score and nps_category (NULL without an NPS
      answer; banded by the one definition in cxlake/config/metrics.yaml), is_negative_comment
    - ``negative_reviews``: customer_id, posted_at
    - ``cases``: customer_id, opened_at (when its clock started), resolved_at (NULL while open);
      None when the warehouse has no case mart
    - ``first_day``, ``last_day``: the business days the purchase data spans (every customer's)
    """

    customers: pd.DataFrame
    purchases: pd.DataFrame
    responses: pd.DataFrame
    negative_reviews: pd.DataFrame
    cases: pd.DataFrame | None
    first_day: date
    last_day: date


@dataclass(frozen=True)
class Windows:
    """The horizon, look-back and cut-off days a data span allows (see the module docstring)."""

    horizon_days: int
    lookback_days: int
    train_cutoffs: tuple[date, ...]
    test_cutoff: date
    score_cutoff: date


def choose_windows(first_day: date, last_day: date, settings: ChurnSettings) -> Windows:
    """Horizon N = min(horizon_days, D // 3), look-back L = min(lookback_days, D - 2N); the test
    cut-off is the last day with N loaded days after it, training cut-offs end N days earlier and
    step back while a whole look-back fits. Raises ChurnError when D is below 3 × min_horizon_days."""
    span = (last_day - first_day).days + 1
    horizon = min(settings.horizon_days, span // 3)
    if horizon < settings.min_horizon_days:
        raise ChurnError(
            f"churn: {span} days of purchases ({first_day} to {last_day}) are too few: a horizon of "
            f"{settings.min_horizon_days} days (churn.min_horizon_days) needs {3 * settings.min_horizon_days}"
        )
    lookback = min(settings.lookback_days, span - 2 * horizon)
    last_index = span - 1
    test_index = last_index - horizon
    earliest = lookback - 1
    train = list(range(test_index - horizon, earliest - 1, -settings.cutoff_step_days))
    return Windows(
        horizon_days=horizon,
        lookback_days=lookback,
        train_cutoffs=tuple(first_day + timedelta(days=i) for i in sorted(train)),
        test_cutoff=first_day + timedelta(days=test_index),
        score_cutoff=last_day,
    )


def _days(values: pd.Series) -> pd.Series:
    """Business days (dates or timestamps) as datetime64 days, for comparisons with cut-offs."""
    return pd.to_datetime(values).dt.normalize()


def features_at(data: ChurnData, cutoff: date, lookback_days: int) -> pd.DataFrame:
    """One row per member with a purchase in the ``lookback_days`` up to ``cutoff`` (that day
    included, nothing later), indexed by customer_id: the FEATURES, then store_id, region_id,
    member_tier, last_nps_category and spend_per_day (for the value at risk)."""
    end = pd.Timestamp(cutoff)
    start = end - pd.Timedelta(days=lookback_days - 1)
    recent_start = end - pd.Timedelta(days=lookback_days // 2 - 1)  # the recent half: L // 2 days
    purchases = data.purchases
    day = _days(purchases["purchased_on"])
    window = purchases[(day >= start) & (day <= end)].assign(day=day)
    if window.empty:
        return pd.DataFrame(columns=[*FEATURES, "store_id", "region_id", "member_tier", "spend_per_day"])
    customers = data.customers.set_index("customer_id")
    grouped = window.groupby("customer_id")
    frame = pd.DataFrame(
        {
            "last_day": grouped["day"].max(),
            "count": grouped.size(),
            "spend": grouped["spend"].sum(),
            "recent_spend": window[window["day"] >= recent_start].groupby("customer_id")["spend"].sum(),
        }
    )
    frame = frame.join(customers, how="inner")
    frame["recent_spend"] = frame["recent_spend"].fillna(0.0)
    signed_up = _days(frame["signed_up_on"]).fillna(start)
    exposure_start = signed_up.where(signed_up > start, start)
    exposed = ((end - exposure_start).dt.days + 1).clip(lower=1, upper=lookback_days)
    recent_exposed = exposed.clip(upper=lookback_days // 2)
    earlier_exposed = exposed - recent_exposed
    recent_rate = frame["recent_spend"] / recent_exposed
    earlier_rate = (frame["spend"] - frame["recent_spend"]) / earlier_exposed.where(earlier_exposed > 0)
    larger = np.maximum(recent_rate, earlier_rate)
    trend = ((recent_rate - earlier_rate) / larger.where(larger > 0)).fillna(0.0)

    out = pd.DataFrame(index=frame.index)
    out["days_since_last_purchase"] = (end - frame["last_day"]).dt.days.astype(float)
    out["purchases_per_week"] = frame["count"] / exposed * 7
    out["spend_per_week"] = frame["spend"] / exposed * 7
    out["spend_trend"] = trend.astype(float)
    out["tenure_days"] = ((end - signed_up).dt.days).clip(lower=0).astype(float)
    tier_rank = {tier: rank for rank, tier in enumerate(TIERS)}
    out["member_tier_rank"] = frame["member_tier"].map(tier_rank).fillna(0).astype(float)
    out = out.join(_nps_features(data.responses, end))
    out["negative_comments"] = _count_until(_negative_comments(data), end).reindex(out.index, fill_value=0)
    if data.cases is not None and not data.cases.empty:
        cases = data.cases[_days(data.cases["opened_at"]) <= end]
        resolved = cases["resolved_at"].notna() & (_days(cases["resolved_at"]) <= end)
        out["open_cases"] = cases[~resolved].groupby("customer_id").size().reindex(out.index, fill_value=0)
        out["resolved_cases"] = cases[resolved].groupby("customer_id").size().reindex(out.index, fill_value=0)
    else:
        out["open_cases"], out["resolved_cases"] = 0, 0
    counts = ["negative_comments", "open_cases", "resolved_cases"]
    out[counts] = out[counts].astype(float)
    out["store_id"] = frame["store_id"]
    out["region_id"] = frame["region_id"]
    out["member_tier"] = frame["member_tier"]
    out["spend_per_day"] = frame["spend"] / exposed
    return out.sort_index()


def _negative_comments(data: ChurnData) -> pd.DataFrame:
    """customer_id, at: each negative survey comment and each negative review of the member."""
    negative = data.responses["is_negative_comment"].fillna(False).astype(bool)
    comments = data.responses.loc[negative, ["customer_id", "responded_at"]]
    return pd.concat(
        [
            comments.rename(columns={"responded_at": "at"}),
            data.negative_reviews.rename(columns={"posted_at": "at"})[["customer_id", "at"]],
        ]
    )


def _count_until(events: pd.DataFrame, end: pd.Timestamp) -> pd.Series:
    """Events per customer on or before the day ``end``."""
    return events[_days(events["at"]) <= end].groupby("customer_id").size()


def _nps_features(responses: pd.DataFrame, end: pd.Timestamp) -> pd.DataFrame:
    """The last NPS answer given on or before ``end``: has_nps_answer, last_nps_score (0..10, the
    scale's midpoint 5 without an answer, so has_nps_answer carries the difference),
    last_nps_is_detractor, last_nps_is_promoter and last_nps_category (text, NULL without one)."""
    answered = responses[responses["nps_score"].notna() & (_days(responses["responded_at"]) <= end)]
    last = answered.sort_values(["customer_id", "responded_at"]).groupby("customer_id").tail(1)
    last = last.set_index("customer_id")
    return pd.DataFrame(
        {
            "has_nps_answer": 1.0,
            "last_nps_score": last["nps_score"].astype(float),
            "last_nps_is_detractor": (last["nps_category"] == "detractor").astype(float),
            "last_nps_is_promoter": (last["nps_category"] == "promoter").astype(float),
            "last_nps_category": last["nps_category"].astype("object"),
        }
    )


def _fill_nps(frame: pd.DataFrame) -> pd.DataFrame:
    """Members without an NPS answer: has_nps_answer 0, the score at the midpoint, no category flag."""
    return frame.fillna(
        {
            "has_nps_answer": 0.0,
            "last_nps_score": 5.0,
            "last_nps_is_detractor": 0.0,
            "last_nps_is_promoter": 0.0,
        }
    )


def no_purchase_after(data: ChurnData, cutoff: date, horizon_days: int, customers: pd.Index) -> pd.Series:
    """The target: True for each of ``customers`` without a purchase in the ``horizon_days`` after
    ``cutoff`` (the cut-off day itself is the features')."""
    day = _days(data.purchases["purchased_on"])
    end = pd.Timestamp(cutoff)
    later = data.purchases.loc[(day > end) & (day <= end + pd.Timedelta(days=horizon_days)), "customer_id"]
    return pd.Series(~customers.isin(later.unique()), index=customers, name="churned")


def labelled_frame(data: ChurnData, cutoffs: tuple[date, ...], windows: Windows, settings: ChurnSettings):
    """Features and target for each cut-off, stacked (a member appears once per cut-off)."""
    parts = []
    for cutoff in cutoffs:
        features = _fill_nps(features_at(data, cutoff, windows.lookback_days))
        target = no_purchase_after(data, cutoff, windows.horizon_days, features.index)
        parts.append(features.assign(cutoff=cutoff, churned=target))
    return pd.concat(parts)


def build_model(settings: ChurnSettings, features: tuple[str, ...] = FEATURES) -> ClassifierMixin:
    """An unfitted classifier of ``settings.model`` over ``features`` (columns of a frame)."""
    if settings.model == "gradient_boosting":
        boosted = HistGradientBoostingClassifier(
            max_iter=200,
            learning_rate=0.05,
            max_leaf_nodes=15,
            l2_regularization=1.0,
            random_state=settings.seed,
        )
        return CalibratedClassifierCV(
            make_pipeline(_select(features), boosted), method="isotonic", cv=3, ensemble=False
        )
    logged = [f for f in features if f in LOG_FEATURES]
    plain = [f for f in features if f not in LOG_FEATURES]
    scale = ColumnTransformer(
        [
            ("log", make_pipeline(FunctionTransformer(np.log1p), StandardScaler()), logged),
            ("plain", StandardScaler(), plain),
        ]
    )
    return Pipeline(
        [
            ("scale", scale),
            ("fit", LogisticRegression(C=settings.regularization, max_iter=2000, random_state=settings.seed)),
        ]
    )


def _select(features: tuple[str, ...]) -> ColumnTransformer:
    return ColumnTransformer([("features", "passthrough", list(features))])


def _fit(model: ClassifierMixin, frame: pd.DataFrame) -> tuple[ClassifierMixin, float]:
    """Fit on a labelled frame; the model and its fit time in seconds."""
    started = time.perf_counter()
    if frame["churned"].nunique() < 2:
        raise ChurnError(
            f"churn: every member at the cut-offs {sorted(set(frame['cutoff']))} has the same outcome "
            f"(churned={bool(frame['churned'].iloc[0])}); nothing to learn from"
        )
    fitted = model.fit(frame, frame["churned"].astype(int))
    return fitted, time.perf_counter() - started


def reliability_table(y: np.ndarray, p: np.ndarray, bins: int) -> pd.DataFrame:
    """Members grouped by predicted probability (equal-count bins): n, mean predicted probability,
    observed churn rate. A calibrated model's two columns agree."""
    order = np.argsort(p, kind="stable")
    groups = np.array_split(order, min(bins, len(p)))
    rows = [
        {
            "bin": k + 1,
            "n": len(g),
            "p_low": float(p[g].min()),
            "p_high": float(p[g].max()),
            "mean_predicted": float(p[g].mean()),
            "observed_rate": float(y[g].mean()),
        }
        for k, g in enumerate(groups)
        if len(g)
    ]
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class Evaluation:
    """The model against the recency baseline on the held-out test cut-off."""

    windows: Windows
    model: str
    n_train: int
    n_test: int
    train_churn_rate: float
    test_churn_rate: float
    auc: float
    brier: float
    log_loss: float
    baseline_auc: float
    baseline_brier: float
    baseline_log_loss: float
    reliability: pd.DataFrame
    baseline_reliability: pd.DataFrame
    fit_seconds: float

    def summary(self) -> dict[str, float | int | str]:
        """Flat numbers for materialization metadata and the bench."""
        return {
            "model": self.model,
            "horizon_days": self.windows.horizon_days,
            "lookback_days": self.windows.lookback_days,
            "train_cutoffs": ", ".join(d.isoformat() for d in self.windows.train_cutoffs),
            "test_cutoff": self.windows.test_cutoff.isoformat(),
            "n_train": self.n_train,
            "n_test": self.n_test,
            "test_churn_rate": round(self.test_churn_rate, 4),
            "auc": round(self.auc, 4),
            "brier": round(self.brier, 4),
            "baseline_auc": round(self.baseline_auc, 4),
            "baseline_brier": round(self.baseline_brier, 4),
            "fit_seconds": round(self.fit_seconds, 3),
        }


def evaluate(data: ChurnData, windows: Windows, settings: ChurnSettings) -> Evaluation:
    """Fit on the training cut-offs, judge on the test cut-off, beside the recency-only baseline."""
    train = labelled_frame(data, windows.train_cutoffs, windows, settings)
    test = labelled_frame(data, (windows.test_cutoff,), windows, settings)
    if test.empty or test["churned"].nunique() < 2:
        raise ChurnError(f"churn: the test cut-off {windows.test_cutoff} has no members of both outcomes")
    model, fit_seconds = _fit(build_model(settings), train)
    baseline, _ = _fit(build_model(_logistic(settings), (BASELINE_FEATURE,)), train)
    y = test["churned"].to_numpy().astype(int)
    p = model.predict_proba(test)[:, 1]
    b = baseline.predict_proba(test)[:, 1]
    return Evaluation(
        windows=windows,
        model=settings.model,
        n_train=len(train),
        n_test=len(test),
        train_churn_rate=float(train["churned"].mean()),
        test_churn_rate=float(y.mean()),
        auc=float(roc_auc_score(y, p)),
        brier=float(brier_score_loss(y, p)),
        log_loss=float(log_loss(y, p, labels=[0, 1])),
        baseline_auc=float(roc_auc_score(y, b)),
        baseline_brier=float(brier_score_loss(y, b)),
        baseline_log_loss=float(log_loss(y, b, labels=[0, 1])),
        reliability=reliability_table(y, p, settings.reliability_bins),
        baseline_reliability=reliability_table(y, b, settings.reliability_bins),
        fit_seconds=fit_seconds,
    )


def _logistic(settings: ChurnSettings) -> ChurnSettings:
    """The same settings with the logistic model (the baseline is always a logistic regression)."""
    return ChurnSettings(**{**settings.__dict__, "model": "logistic"})


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, PROBABILITY_CLIP, 1 - PROBABILITY_CLIP)
    return np.log(p / (1 - p))


def reason_contributions(
    predict: Callable[[pd.DataFrame], np.ndarray], frame: pd.DataFrame, reference: pd.Series
) -> pd.DataFrame:
    """Per member (row) and reason group: how much the log-odds of churning fall when the group's
    features are set to the ``reference`` member's. Positive: the group raises this member's risk."""
    base = _logit(predict(frame))
    out = {}
    for group, columns in REASON_GROUPS.items():
        typical = frame.copy()
        for column in columns:
            typical[column] = reference[column]
        out[group] = base - _logit(predict(typical))
    return pd.DataFrame(out, index=frame.index)


TIER_WORDS_ZH = {"basic": "普通", "silver": "银卡", "gold": "金卡", "black": "黑卡"}
NPS_CATEGORY_ZH = {"promoter": "推荐者", "passive": "中立者", "detractor": "贬损者"}


def describe_reason(group: str, row: Mapping[str, Any], lookback_days: int, language: str = "en") -> str:
    """A reason in words, with the member's own value (what a store manager reads), in English or
    Chinese (``language`` "zh"): the mart carries both, the page shows the reader's."""
    zh = language == "zh"
    if group == "recency":
        days = f"{row['days_since_last_purchase']:.0f}"
        return f"{days} 天未消费" if zh else f"no purchase for {days} days"
    if group == "frequency":
        rate = f"{row['purchases_per_week']:.1f}"
        return f"每周消费 {rate} 次" if zh else f"buys {rate} times a week"
    if group == "spend":
        spend = f"¥{row['spend_per_week']:.0f}"
        return f"每周消费 {spend}" if zh else f"spends {spend} a week"
    if group == "spend_trend":
        half, change = lookback_days // 2, f"{abs(row['spend_trend']):.0%}"
        if zh:
            return f"近 {half} 天消费较之前{'下降' if row['spend_trend'] < 0 else '上升'} {change}"
        direction = "down" if row["spend_trend"] < 0 else "up"
        return f"spend {direction} {change} in the last {half} days against the days before"
    if group == "tenure":
        days = f"{row['tenure_days']:.0f}"
        return f"入会 {days} 天" if zh else f"member for {days} days"
    if group == "tier":
        tier = TIERS[int(row["member_tier_rank"])]
        return f"{TIER_WORDS_ZH[tier]}会员" if zh else f"{tier} member"
    if group == "nps":
        if not row["has_nps_answer"]:
            return "未回答 NPS" if zh else "no NPS answer"
        score, category = f"{row['last_nps_score']:.0f}", row["last_nps_category"]
        if zh:
            return f"最近一次 NPS 评分 {score}（{NPS_CATEGORY_ZH.get(category, category)}）"
        return f"last NPS answer {score} ({category})"
    if group == "negative_comments":
        n = int(row["negative_comments"])
        return f"{n} 条负面评论" if zh else f"{n} negative comment{'s' if n != 1 else ''}"
    if group == "cases":
        n = int(row["open_cases"])
        if n:
            return f"{n} 个未解决工单" if zh else f"{n} unresolved case{'s' if n != 1 else ''}"
        resolved = int(row["resolved_cases"])
        return f"{resolved} 个已解决工单" if zh else f"{resolved} resolved case(s)"
    raise ChurnError(f"churn: no wording for reason group {group!r}")


def watch_list(table: pd.DataFrame, settings: ChurnSettings) -> pd.DataFrame:
    """is_watch_listed and watch_list_rank (1 = most value at risk) per store: members whose churn
    probability is at least min_lift times the average scored member's and whose expected spend
    over the horizon is in the top (1 - value_quantile) of their store's scored members, at most
    max_per_store per store. Relative to the average because the horizon, and with it every
    probability, follows the days the warehouse holds."""
    value_floor = table.groupby("store_id")["expected_spend_horizon"].transform(
        lambda v: v.quantile(settings.watch_value_quantile)
    )
    at_risk = table["churn_probability"] >= settings.watch_min_lift * table["churn_probability"].mean()
    candidate = at_risk & (table["expected_spend_horizon"] >= value_floor)
    ranked = (
        table[candidate]
        .sort_values(["store_id", "value_at_risk", "customer_id"], ascending=[True, False, True])
        .groupby("store_id")
        .cumcount()
        + 1
    )
    rank = ranked[ranked <= settings.watch_max_per_store]
    table = table.assign(is_watch_listed=table.index.isin(rank.index))
    table["watch_list_rank"] = rank.reindex(table.index).astype("Int64")
    return table


@dataclass(frozen=True)
class ChurnResult:
    """The scored mart and the evaluation behind it."""

    mart: pd.DataFrame
    evaluation: Evaluation


def churn_risk(data: ChurnData, settings: ChurnSettings) -> ChurnResult:
    """Evaluate on held-out time, refit on every labelled cut-off and score each member active in
    the look-back before the last day: the rows of marts.mart_churn_risk (MART_COLUMNS)."""
    windows = choose_windows(data.first_day, data.last_day, settings)
    evaluation = evaluate(data, windows, settings)
    labelled = labelled_frame(data, (*windows.train_cutoffs, windows.test_cutoff), windows, settings)
    model, _ = _fit(build_model(settings), labelled)
    current = _fill_nps(features_at(data, windows.score_cutoff, windows.lookback_days))
    if current.empty:
        return ChurnResult(pd.DataFrame(columns=list(MART_COLUMNS)), evaluation)
    probability = model.predict_proba(current)[:, 1]
    reference = labelled[list(FEATURES)].median()

    def predict(frame: pd.DataFrame) -> np.ndarray:
        return model.predict_proba(frame)[:, 1]

    contributions = reason_contributions(predict, current, reference)
    table = current.reset_index(names="customer_id")
    table["as_of_date"] = windows.score_cutoff
    table["horizon_days"] = windows.horizon_days
    table["churn_probability"] = probability
    table["expected_spend_horizon"] = table["spend_per_day"] * windows.horizon_days
    table["value_at_risk"] = table["churn_probability"] * table["expected_spend_horizon"]
    table.loc[table["has_nps_answer"] == 0, "last_nps_score"] = np.nan
    for language, suffix in (("en", ""), ("zh", "_zh")):
        reasons = top_reasons(
            contributions.to_numpy(), current, windows.lookback_days, settings.reason_min_log_odds, language
        )
        for k in range(N_REASONS):
            table[f"reason_{k + 1}{suffix}"] = [r[k] if len(r) > k else None for r in reasons]
    table["model"] = settings.model
    table = watch_list(table, settings)
    return ChurnResult(table[list(MART_COLUMNS)].sort_values("customer_id", ignore_index=True), evaluation)


def top_reasons(
    contributions: np.ndarray, current: pd.DataFrame, lookback_days: int, floor: float, language: str = "en"
) -> list[list[str]]:
    """Per member, up to N_REASONS reason groups that raise the log-odds by at least ``floor``, the
    largest first, in words."""
    groups = list(REASON_GROUPS)
    largest = np.argsort(-contributions, axis=1, kind="stable")[:, :N_REASONS]
    # Plain dicts, not a Series per member: building 100,000 Series took most of the asset's time.
    return [
        [
            describe_reason(groups[j], values, lookback_days, language)
            for j in order
            if contributions[i, j] >= floor
        ]
        for i, (values, order) in enumerate(zip(current.to_dict("records"), largest, strict=True))
    ]


def fitted_coefficients(data: ChurnData, settings: ChurnSettings) -> pd.Series:
    """The logistic model's standardised coefficients on every labelled cut-off (a positive one
    raises the risk), for the validation against the generator's planted churn."""
    windows = choose_windows(data.first_day, data.last_day, settings)
    labelled = labelled_frame(data, (*windows.train_cutoffs, windows.test_cutoff), windows, settings)
    model, _ = _fit(build_model(_logistic(settings)), labelled)
    names = [f for f in FEATURES if f in LOG_FEATURES] + [f for f in FEATURES if f not in LOG_FEATURES]
    return pd.Series(model.named_steps["fit"].coef_[0], index=names).reindex(list(FEATURES))
