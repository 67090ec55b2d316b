"""Survey integrity: evidence that a store's or a staff member's scores were manufactured.

A store whose staff ask customers for a 10 on the spot, or fill surveys in themselves, looks better
than it is, and every ranking and bonus built on NPS rewards it. The rules in
``cxlake/config/integrity.yaml`` compare each store and each staff member with their peers (more
10s than the peer rate allows, answers arriving minutes after the sale, many answers from one
device, ...); the file's header explains the tests, the flag bar and the integrity score.

Pure and core: pandas and scipy in, pandas out; the integrity asset (assets/integrity.py) reads
the warehouse and writes the results. :func:`assess` takes one row per response with
:data:`RESPONSE_COLUMNS` (and, for the complaints a score gain should have lowered, the online
reviews with :data:`REVIEW_COLUMNS`) and returns store and staff evidence and the suspect responses.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from scipy import stats

from cxlake.metrics import CountableRule, nps_from_scores, settings

# The columns of marts.mart_integrity_store / _staff: written by the integrity asset, read by the
# explorer; one list so the two cannot drift apart.
MART_STORE_COLUMNS = (
    "store_id", "store_name", "region_id", "responses", "suspect_responses", "integrity_score",
    "is_flagged", "reasons", "nps", "nps_excluding_suspect", "share_tens", "peer_share_tens",
    "share_fast_after_sale", "peer_share_fast_after_sale", "top_device_share",
)  # fmt: skip
MART_STAFF_COLUMNS = (
    "staff_id", "staff_name", "store_id", "responses", "suspect_responses", "integrity_score",
    "is_flagged", "reasons", "share_tens", "share_fast_after_sale",
)  # fmt: skip

CONFIG_FILE = "cxlake/config/integrity.yaml"
GAIN_TEST = "gain_vs_behaviour"
TESTS = ("share_vs_peers", "variance_vs_peers", "shared_device", GAIN_TEST)
LANGUAGES = ("en", "zh")
SUBJECTS = {"store": "store_id", "staff": "staff_id"}
RESPONSE_COLUMNS = (
    "response_key",
    "store_id",
    "staff_id",
    "channel",
    "nps_score",
    "minutes_after_sale",
    "is_straight_liner",
    "min_csat_score",
    "comment_sentiment_label",
    "ip_address",
    "response_date",
    "days_followed",
    "days_to_next_purchase",
)
# Online reviews (review sites, not the survey): the complaints a real score gain should lower.
REVIEW_COLUMNS = ("store_id", "staff_id", "review_date", "is_negative")
# What a rule's `marker` / `among` may ask of a response, and the type of its value.
CONDITIONS = {
    "nps_at_least": int,
    "nps_at_most": int,
    "within_minutes_of_sale": (int, float),
    "has_sale": bool,
    "straight_lined": bool,
    "csat_all_at_least": int,
    "has_comment": bool,
    "comment_sentiment": str,
    "channel": list,
}
# Rules whose statistics the integrity marts carry as named columns (contract of the marts).
TENS_RULE, FAST_RULE = "excess_tens", "fast_after_sale"
# Variances are compared on the log scale; this keeps an all-10s subject (variance 0) finite.
VARIANCE_FLOOR = 0.05
# A peer rate of exactly 0 or 1 would make any deviation infinitely unlikely.
RATE_FLOOR = 1e-3
# Beta-binomial over-dispersion is estimated from the peers; capped so a few wild peers cannot
# make every test powerless.
MAX_DISPERSION = 0.3


@dataclass(frozen=True)
class Rule:
    id: str
    label: dict[str, str]
    family: str
    test: str
    min_n: int
    marker: dict = field(default_factory=dict)
    among: dict = field(default_factory=dict)
    min_difference: float = 0.0
    min_ratio: float = 1.0
    max_ratio: float = 1.0
    min_count: int = 2
    min_share: float = 0.0
    split: float = 0.5
    min_gain: float = 0.0
    repeat_within_days: int = 7
    min_behaviour_n: int = 10
    confirm_p: float = 0.2


@dataclass(frozen=True)
class IntegrityConfig:
    min_responses: dict[str, int]
    alpha: float
    support_p: float
    strong_p: float
    min_families: int
    rules: tuple[Rule, ...]


def _typed(raw: dict, key: str, kind, where: str):
    if key not in raw:
        raise ValueError(f"{where}: missing key {key!r}")
    value = raw[key]
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if kind is not bool and isinstance(value, bool) or not isinstance(value, kind):
        raise ValueError(f"{where}: {key} {value!r} is not {getattr(kind, '__name__', kind)}")
    return value


def _conditions(raw, where: str) -> dict:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ValueError(f"{where}: expected a mapping of conditions, got {raw!r}")
    for name, value in raw.items():
        if name not in CONDITIONS:
            raise ValueError(f"{where}: unknown condition {name!r} (one of {', '.join(CONDITIONS)})")
        kind = CONDITIONS[name]
        if isinstance(value, bool) != (kind is bool) or not isinstance(value, kind):
            raise ValueError(f"{where}: condition {name} {value!r} has the wrong type")
    return dict(raw)


def parse_config(raw: dict, where: str = CONFIG_FILE) -> IntegrityConfig:
    """Check and type the YAML mapping; errors name the file, the rule and the key."""
    minimum = _typed(raw, "min_responses", dict, where)
    min_responses = {kind: _typed(minimum, kind, int, f"{where}: min_responses") for kind in SUBJECTS}
    rules, seen = [], set()
    for index, spec in enumerate(_typed(raw, "rules", list, where)):
        rule_id = spec.get("id") if isinstance(spec, dict) else None
        at = f"{where}: rule {rule_id or f'#{index + 1}'}"
        if not isinstance(rule_id, str) or not rule_id:
            raise ValueError(f"{at}: missing key 'id'")
        if rule_id in seen:
            raise ValueError(f"{at}: id {rule_id!r} used twice")
        seen.add(rule_id)
        label = _typed(spec, "label", dict, at)
        for language in LANGUAGES:
            _typed(label, language, str, f"{at}: label")
        test = _typed(spec, "test", str, at)
        if test not in TESTS:
            raise ValueError(f"{at}: test {test!r} is not one of {', '.join(TESTS)}")
        rule = Rule(
            id=rule_id,
            label=dict(label),
            family=_typed(spec, "family", str, at),
            test=test,
            min_n=_typed(spec, "min_n", int, at),
            marker=_conditions(spec.get("marker"), f"{at}: marker"),
            among=_conditions(spec.get("among"), f"{at}: among"),
        )
        if test == "share_vs_peers":
            if not rule.marker:
                raise ValueError(f"{at}: missing key 'marker'")
            rule = _with(
                rule,
                min_difference=_typed(spec, "min_difference", float, at),
                min_ratio=_typed(spec, "min_ratio", float, at),
            )
        elif test == "variance_vs_peers":
            rule = _with(rule, max_ratio=_typed(spec, "max_ratio", float, at))
        elif test == GAIN_TEST:
            rule = _with(
                rule,
                split=_typed(spec, "split", float, at),
                min_gain=_typed(spec, "min_gain", float, at),
                repeat_within_days=_typed(spec, "repeat_within_days", int, at),
                min_behaviour_n=_typed(spec, "min_behaviour_n", int, at),
                confirm_p=_typed(spec, "confirm_p", float, at),
            )
            if not 0 < rule.split < 1:
                raise ValueError(f"{at}: split {rule.split} is not between 0 and 1")
        else:
            rule = _with(
                rule,
                min_count=_typed(spec, "min_count", int, at),
                min_share=_typed(spec, "min_share", float, at),
            )
        rules.append(rule)
    config = IntegrityConfig(
        min_responses=min_responses,
        alpha=_typed(raw, "alpha", float, where),
        support_p=_typed(raw, "support_p", float, where),
        strong_p=_typed(raw, "strong_p", float, where),
        min_families=_typed(raw, "min_families", int, where),
        rules=tuple(rules),
    )
    if not 0 < config.strong_p <= config.alpha < 1:
        raise ValueError(f"{where}: need 0 < strong_p <= alpha < 1")
    return config


def _with(rule: Rule, **changes) -> Rule:
    return Rule(**{**rule.__dict__, **changes})


def load_config(path: str | Path | None = None) -> IntegrityConfig:
    """The rules in ``path``, else the packaged cxlake/config/integrity.yaml (read when called)."""
    if path is None:
        text = resources.files("cxlake.config").joinpath("integrity.yaml").read_text("utf-8")
        return parse_config(yaml.safe_load(text) or {})
    return parse_config(yaml.safe_load(Path(path).read_text("utf-8")) or {}, str(path))


def rule_labels(language: str) -> dict[str, str]:
    """Each rule's label in ``language`` (en or zh), by rule id, for the pages."""
    if language not in LANGUAGES:
        raise ValueError(f"language {language!r} is not one of {', '.join(LANGUAGES)}")
    return {rule.id: rule.label[language] for rule in load_config().rules}


def is_countable(responses: pd.DataFrame, rule: CountableRule | None = None) -> pd.Series:
    """The countable rule of metrics.yaml over the quality flags, as fct_survey_responses applies
    it; the integrity asset runs before that mart is built, so it applies the rule itself."""
    rule = rule or settings().countable
    status_ok = responses["status"].isin(rule.statuses)
    duplicate = responses["is_duplicate"].fillna(False).astype(bool) & rule.exclude_duplicates
    speeder = responses["is_speeder"].fillna(False).astype(bool)
    straight = responses["is_straight_liner"].fillna(False).astype(bool)
    straight_out = straight & (
        rule.straight_liners == "always" or (rule.straight_liners == "with_speeding") & speeder
    )
    pace_out = straight_out | (speeder & rule.exclude_speeders)
    return status_ok & ~duplicate & ~pace_out


def conditions_mask(responses: pd.DataFrame, conditions: dict) -> pd.Series:
    """Responses meeting every condition (see integrity.yaml); no conditions: every response."""
    mask = pd.Series(True, index=responses.index)
    nps = pd.to_numeric(responses["nps_score"], errors="coerce")
    minutes = pd.to_numeric(responses["minutes_after_sale"], errors="coerce")
    sentiment = responses["comment_sentiment_label"]
    for name, value in conditions.items():
        if name == "nps_at_least":
            mask &= nps >= value
        elif name == "nps_at_most":
            mask &= nps <= value
        elif name == "within_minutes_of_sale":
            mask &= minutes.between(0, value)
        elif name == "has_sale":
            mask &= minutes.notna() == value
        elif name == "straight_lined":
            mask &= responses["is_straight_liner"].fillna(False).astype(bool) == value
        elif name == "csat_all_at_least":
            mask &= pd.to_numeric(responses["min_csat_score"], errors="coerce") >= value
        elif name == "has_comment":
            mask &= sentiment.notna() == value
        elif name == "comment_sentiment":
            mask &= sentiment == value
        elif name == "channel":
            mask &= responses["channel"].isin(value)
    return mask.fillna(False).astype(bool)


def holm(p_values: pd.Series) -> pd.Series:
    """Holm's step-down adjustment: family-wise error control over every subject tested at once."""
    p = p_values.dropna()
    if p.empty:
        return p_values.copy()
    order = p.sort_values()
    m = len(order)
    adjusted = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * order.to_numpy()))
    return pd.Series(adjusted, index=order.index).reindex(p_values.index)


def _share_vs_peers(responses: pd.DataFrame, key: str, rule: Rule, eligible: pd.Index) -> pd.DataFrame:
    among = conditions_mask(responses, rule.among)
    frame = pd.DataFrame(
        {
            "subject": responses[key],
            "channel": responses["channel"].fillna(""),
            "n": among.astype(int),
            "k": (among & conditions_mask(responses, rule.marker)).astype(int),
        }
    )[among]
    cells = frame.groupby(["subject", "channel"], as_index=False)[["n", "k"]].sum()
    totals = cells.groupby("channel")[["n", "k"]].sum()
    cells = cells.merge(totals, left_on="channel", right_index=True, suffixes=("", "_all"))
    overall = totals["k"].sum() / max(totals["n"].sum(), 1)
    peer_n = cells["n_all"] - cells["n"]
    cell_rate = np.where(peer_n > 0, (cells["k_all"] - cells["k"]) / peer_n.where(peer_n > 0, 1), overall)
    cells["expected"] = cells["n"] * cell_rate
    out = cells.groupby("subject")[["n", "k", "expected"]].sum()
    out["statistic"] = out["k"] / out["n"]
    out["peer_statistic"] = (out["expected"] / out["n"]).clip(RATE_FLOOR, 1 - RATE_FLOOR)
    tested = out[out.index.isin(eligible) & (out["n"] >= rule.min_n)].copy()
    if tested.empty:
        return out.assign(p_value=np.nan, is_large=False)
    n, k, p = tested["n"], tested["k"], tested["peer_statistic"]
    # Method-of-moments intra-class correlation per subject; each subject is tested against the
    # mean of the others' (its own excess would otherwise excuse itself).
    moment = ((k - n * p) ** 2 - n * p * (1 - p)) / (n * (n - 1) * p * (1 - p))
    others = len(moment) - 1
    rho = ((moment.sum() - moment) / max(others, 1)).clip(0, MAX_DISPERSION) if others else moment * 0
    scale = (1 - rho) / rho.where(rho > 0, 1)
    beta_binomial = stats.betabinom.sf(k - 1, n, p * scale, (1 - p) * scale)
    binomial = stats.binom.sf(k - 1, n, p)
    tested["p_value"] = np.where(rho > 0, beta_binomial, binomial)
    tested["is_large"] = (tested["statistic"] - tested["peer_statistic"] >= rule.min_difference) & (
        tested["statistic"] >= rule.min_ratio * tested["peer_statistic"]
    )
    return out.join(tested[["p_value", "is_large"]])


def _variance_vs_peers(responses: pd.DataFrame, key: str, rule: Rule, eligible: pd.Index) -> pd.DataFrame:
    scores = pd.to_numeric(responses["nps_score"], errors="coerce")
    grouped = scores.groupby(responses[key])
    out = pd.DataFrame({"n": grouped.count(), "variance": grouped.var(ddof=1)})
    tested = out[out.index.isin(eligible) & (out["n"] >= rule.min_n)].copy()
    out["statistic"], out["peer_statistic"] = np.nan, np.nan
    if len(tested) < 3:
        return out.assign(p_value=np.nan, is_large=False)
    log_variance = np.log(tested["variance"] + VARIANCE_FLOOR)
    total, squares, m = log_variance.sum(), (log_variance**2).sum(), len(log_variance)
    mean_others = (total - log_variance) / (m - 1)
    var_others = ((squares - log_variance**2) - (m - 1) * mean_others**2) / (m - 2)
    sd_others = np.sqrt(var_others.clip(lower=1e-9))
    median_peer = pd.Series(
        [tested["variance"].drop(subject).median() for subject in tested.index], index=tested.index
    )
    tested["statistic"] = tested["variance"] / median_peer.where(median_peer > 0, np.nan)
    tested["peer_statistic"] = median_peer
    tested["p_value"] = stats.norm.cdf((log_variance - mean_others) / sd_others)
    tested["is_large"] = tested["statistic"] <= rule.max_ratio
    out.update(tested[["statistic", "peer_statistic"]])
    return out.join(tested[["p_value", "is_large"]])


def device_counts(responses: pd.DataFrame, key: str) -> pd.DataFrame:
    """Per subject: responses with a known IP address, from its most frequent one, and repeats
    (responses beyond the first from each address)."""
    known = responses[responses["ip_address"].fillna("").astype(str).str.strip() != ""]
    per_device = known.groupby([key, "ip_address"]).size()
    by_subject = per_device.groupby(level=0)
    return pd.DataFrame(
        {
            "n": by_subject.sum(),
            "top_count": by_subject.max(),
            "repeats": by_subject.sum() - by_subject.size(),
        }
    )


def _shared_device(responses: pd.DataFrame, key: str, rule: Rule, eligible: pd.Index) -> pd.DataFrame:
    out = device_counts(responses, key)
    out["statistic"] = out["top_count"] / out["n"]
    peer_repeats, peer_n = out["repeats"].sum() - out["repeats"], out["n"].sum() - out["n"]
    out["peer_statistic"] = (peer_repeats / peer_n.where(peer_n > 0, np.nan)).fillna(0).clip(RATE_FLOOR, 1)
    tested = out[out.index.isin(eligible) & (out["n"] >= rule.min_n)].copy()
    tested["p_value"] = stats.binom.sf(tested["top_count"] - 2, tested["n"] - 1, tested["peer_statistic"])
    tested["is_large"] = (tested["top_count"] >= rule.min_count) & (tested["statistic"] >= rule.min_share)
    return out.join(tested[["p_value", "is_large"]])


def window_cut(dates: pd.Series, split: float) -> pd.Timestamp:
    """The first day of the later window: the first ``split`` of the days from the earliest to
    the latest of ``dates`` are the earlier window, the rest the later one."""
    days = pd.to_datetime(dates).dt.normalize()
    first = days.min()
    if pd.isna(first):
        return pd.NaT  # no dates: every row is in the earlier window
    return first + pd.Timedelta(days=int(((days.max() - first).days + 1) * split))


def _window_counts(subject: pd.Series, late: pd.Series, value: pd.Series) -> pd.DataFrame:
    """Per subject and window, the number of rows and the sum of ``value``: n_early, k_early,
    n_late, k_late (0 for a window without rows)."""
    frame = pd.DataFrame({"subject": subject, "late": late, "n": 1.0, "k": value.astype(float)})
    counts = frame.groupby(["subject", "late"])[["n", "k"]].sum().unstack("late", fill_value=0.0)
    counts = counts.reindex(columns=pd.MultiIndex.from_product([["n", "k"], [False, True]]), fill_value=0.0)
    counts.columns = [f"{name}_{'late' if late else 'early'}" for name, late in counts.columns]
    return counts


def _rate_change(counts: pd.DataFrame) -> pd.DataFrame:
    """Per subject: the change of its rate (k / n) from the earlier to the later window, the
    peers' change (every other subject's rows pooled), the sampling variance of the difference
    of the two, and the smaller window's n. Rates are smoothed by half an event for the variance
    ((k + 0.5) / (n + 1)), so a window of all-or-nothing still has some."""
    totals = counts.sum()
    out = pd.DataFrame({"n": counts[["n_early", "n_late"]].min(axis=1)}, index=counts.index)
    out["change"], out["peer_change"], out["variance"] = 0.0, 0.0, 0.0
    for sign, window in ((-1, "early"), (1, "late")):
        n, k = counts[f"n_{window}"], counts[f"k_{window}"]
        peer_n, peer_k = totals[f"n_{window}"] - n, totals[f"k_{window}"] - k
        out["change"] += sign * k / n.where(n > 0)
        out["peer_change"] += sign * peer_k / peer_n.where(peer_n > 0)
        for count, events in ((n, k), (peer_n, peer_k)):
            smoothed = (events + 0.5) / (count + 1)
            out["variance"] += smoothed * (1 - smoothed) / count.where(count > 0)
    return out


def _behaviour_confirms(
    responses: pd.DataFrame, key: str, rule: Rule, cut: pd.Timestamp, reviews: pd.DataFrame | None
) -> pd.DataFrame:
    """Per subject: ``judged`` (some behaviour measure has ``min_behaviour_n`` in each window) and
    ``confirms`` (one of them moved the better way against the peers' change at one-sided
    p <= ``confirm_p``). The measures: the repeat purchase rate of the subject's members (a
    purchase within ``repeat_within_days`` after the answer day, answers with that many days of
    data after them), up; the share of its online reviews that are negative, down."""
    days = rule.repeat_within_days
    followed = responses[pd.to_numeric(responses["days_followed"], errors="coerce") >= days]
    repeat = pd.to_numeric(followed["days_to_next_purchase"], errors="coerce") <= days
    late = pd.to_datetime(followed["response_date"]) >= cut
    measures = [(1.0, _rate_change(_window_counts(followed[key], late, repeat)))]
    if reviews is not None:
        known = reviews[reviews[key].notna()]
        late = pd.to_datetime(known["review_date"]) >= cut
        negative = known["is_negative"].fillna(False).astype(bool)
        measures.append((-1.0, _rate_change(_window_counts(known[key], late, negative))))
    subjects = responses[key].dropna().unique()
    out = pd.DataFrame({"judged": False, "confirms": False}, index=pd.Index(subjects))
    for better, measure in measures:
        measure = measure.reindex(out.index)
        enough = (measure["n"] >= rule.min_behaviour_n).fillna(False)
        z = better * (measure["change"] - measure["peer_change"]) / np.sqrt(measure["variance"])
        p_better = pd.Series(stats.norm.sf(z.fillna(-np.inf)), index=z.index)
        out["judged"] |= enough
        out["confirms"] |= enough & (p_better <= rule.confirm_p)
    return out


def _gain_vs_behaviour(
    responses: pd.DataFrame, key: str, rule: Rule, eligible: pd.Index, reviews: pd.DataFrame | None
) -> pd.DataFrame:
    """NPS gain from the earlier to the later window against the peers' change (a difference in
    differences), upper tail. The null's variance: the variance of an NPS,
    (p+ + p- - (p+ - p-)^2) / n, in each window (the subject's from its two windows pooled, the
    peers' per window) plus the spread of honest subjects' changes around the peers' beyond
    that, estimated from the other subjects (as the beta-binomial's).
    Large when the gain beats the peers' by ``min_gain`` points and no behaviour followed it
    (:func:`_behaviour_confirms`); a subject whose behaviour cannot be judged is not tested.
    Statistic: the subject's NPS change; peer statistic: the peers'."""
    scores = pd.to_numeric(responses["nps_score"], errors="coerce")
    scored = responses[scores.notna()]
    scores = scores[scores.notna()]
    cut = window_cut(scored["response_date"], rule.split)
    late = pd.to_datetime(scored["response_date"]) >= cut
    promoters = _window_counts(scored[key], late, scores >= 9)
    detractors = _window_counts(scored[key], late, scores <= 6)
    out = pd.DataFrame({"n": promoters["n_early"] + promoters["n_late"]}, index=promoters.index)
    # under the null the subject answers alike in both windows: its variance from both pooled
    # (its own extreme later window would otherwise make itself look certain); a subject of
    # identical answers still varies by one answer in n
    pooled_p, pooled_d = (
        promoters["k_early"] + promoters["k_late"],
        detractors["k_early"] + detractors["k_late"],
    )
    pooled_p, pooled_d = pooled_p / out["n"], pooled_d / out["n"]
    spread_of_one = np.maximum(pooled_p + pooled_d - (pooled_p - pooled_d) ** 2, 1 / out["n"])
    variance = 1e4 * spread_of_one * (1 / promoters["n_early"] + 1 / promoters["n_late"])
    out["statistic"], out["peer_statistic"] = 0.0, 0.0
    for sign, window in ((-1, "early"), (1, "late")):
        n = promoters[f"n_{window}"].where(promoters[f"n_{window}"] > 0)
        peer_n = (promoters[f"n_{window}"].sum() - n).where(lambda x: x > 0)
        p, d = promoters[f"k_{window}"] / n, detractors[f"k_{window}"] / n
        peer_p = (promoters[f"k_{window}"].sum() - promoters[f"k_{window}"]) / peer_n
        peer_d = (detractors[f"k_{window}"].sum() - detractors[f"k_{window}"]) / peer_n
        out["statistic"] += sign * 100 * (p - d)
        out["peer_statistic"] += sign * 100 * (peer_p - peer_d)
        variance += 1e4 * (peer_p + peer_d - (peer_p - peer_d) ** 2) / peer_n
    behaviour = _behaviour_confirms(responses, key, rule, cut, reviews).reindex(out.index, fill_value=False)
    tested = out[
        out.index.isin(eligible)
        & (promoters["n_early"] >= rule.min_n)
        & (promoters["n_late"] >= rule.min_n)
        & behaviour["judged"]
    ].copy()
    if len(tested) < 3:
        return out.assign(p_value=np.nan, is_large=False)
    excess = tested["statistic"] - tested["peer_statistic"]
    # each subject is tested against the spread of the others' changes (its own would excuse it)
    moment = excess**2 - variance[tested.index]
    spread = ((moment.sum() - moment) / (len(moment) - 1)).clip(lower=0)
    tested["p_value"] = stats.norm.sf(excess / np.sqrt(variance[tested.index] + spread))
    tested["is_large"] = (excess >= rule.min_gain) & ~behaviour.loc[tested.index, "confirms"]
    return out.join(tested[["p_value", "is_large"]])


EVIDENCE_COLUMNS = (
    "subject_id", "rule_id", "family", "n", "statistic", "peer_statistic",
    "p_value", "p_adjusted", "is_hit", "is_evidence", "p_evidence",
)  # fmt: skip
# Tests of responses; the gain test (a subject's trend, see judge) also reads the reviews.
TEST_FUNCTIONS = {
    "share_vs_peers": _share_vs_peers,
    "variance_vs_peers": _variance_vs_peers,
    "shared_device": _shared_device,
}


def rule_evidence(
    responses: pd.DataFrame,
    subject: str,
    config: IntegrityConfig,
    flagged_groups: pd.Series | None = None,
    reviews: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per subject (``store`` or ``staff``) and rule: n, statistic, peer statistic, p-value,
    Holm-adjusted p over the subjects tested, and whether the rule is hit.

    ``flagged_groups`` (subject -> group, for subjects of a flagged group: staff of a flagged store)
    adds a second, gatekept correction: a flagged store's staff are also tested against each other's
    count only (Holm within the store). The store's flag is the gate, so the chain-wide family-wise
    error stays bounded, and a gaming barista with a dozen answers is not lost among every staff
    member of the chain. ``reviews`` (:data:`REVIEW_COLUMNS`) are the complaints the gain test
    checks besides repeat purchases; without them it checks repeat purchases only."""
    key = SUBJECTS[subject]
    known = responses[responses[key].notna()]
    sizes = known.groupby(key).size()
    eligible = sizes.index[sizes >= config.min_responses[subject]]
    frames = []
    for rule in config.rules:
        if rule.test == GAIN_TEST:
            result = _gain_vs_behaviour(known, key, rule, eligible, reviews)
        else:
            result = TEST_FUNCTIONS[rule.test](known, key, rule, eligible)
        result = result.reindex(sizes.index)
        result["p_adjusted"] = holm(result["p_value"])
        if flagged_groups is not None and not flagged_groups.empty:
            groups = flagged_groups.reindex(result.index)
            within = result["p_value"][groups.notna()].groupby(groups.dropna()).transform(holm)
            result["p_adjusted"] = np.fmin(result["p_adjusted"], within.reindex(result.index))
        large = result["is_large"].fillna(False).astype(bool)
        result["is_hit"] = (result["p_adjusted"] <= config.alpha) & large
        result["is_support"] = (result["p_value"] <= config.support_p) & large
        frames.append(
            result[["n", "statistic", "peer_statistic", "p_value", "p_adjusted", "is_hit", "is_support"]]
            .rename_axis("subject_id")
            .reset_index()
            .assign(rule_id=rule.id, family=rule.family)
        )
    if not frames:
        return pd.DataFrame(columns=EVIDENCE_COLUMNS)
    evidence = pd.concat(frames, ignore_index=True)
    # Screened by a hit (corrected for testing every subject), a subject's other rules confirm it
    # at their own p: that is one more test of one subject, not of all of them.
    has_hit = evidence["subject_id"].isin(evidence.loc[evidence["is_hit"], "subject_id"])
    evidence["is_evidence"] = evidence["is_hit"] | (has_hit & evidence["is_support"])
    evidence["p_evidence"] = evidence["p_adjusted"].where(evidence["is_hit"], evidence["p_value"])
    return evidence[list(EVIDENCE_COLUMNS)]


def judge(evidence: pd.DataFrame, config: IntegrityConfig) -> pd.DataFrame:
    """Per subject: integrity_score, is_flagged and reasons (hit rules, strongest first)."""
    strong = -math.log10(config.strong_p)
    hits = evidence[evidence["is_evidence"]].copy()
    hits["weight"] = (-np.log10(hits["p_evidence"].clip(lower=1e-300)) / strong).clip(upper=1.0)
    hits = hits.sort_values(["subject_id", "p_evidence", "rule_id"])
    subjects = pd.Index(evidence["subject_id"].unique(), name="subject_id")
    per_family = hits.groupby(["subject_id", "family"])["weight"].max().groupby(level=0)
    out = pd.DataFrame(index=subjects)
    out["families"] = per_family.size().reindex(subjects).fillna(0).astype(int)
    out["evidence"] = per_family.sum().reindex(subjects).fillna(0.0)
    # a gain without behaviour is never enough alone: a real gain's behaviour can be too weak to see
    screened = hits[hits["is_hit"] & ~hits["rule_id"].isin(_trend_rules(config))]
    out["strongest_p"] = screened.groupby("subject_id")["p_adjusted"].min().reindex(subjects)
    out["reasons"] = hits.groupby("subject_id")["rule_id"].agg(",".join).reindex(subjects).fillna("")
    out["integrity_score"] = (1.0 - out["evidence"]).clip(lower=0.0)
    out["is_flagged"] = (out["families"] >= config.min_families) | (out["strongest_p"] <= config.strong_p)
    return out[["integrity_score", "is_flagged", "reasons"]].reset_index()


def _trend_rules(config: IntegrityConfig) -> list[str]:
    """Rules whose evidence is a subject's trend, not a pattern any one response shows."""
    return [rule.id for rule in config.rules if rule.test == GAIN_TEST]


def _markers(responses: pd.DataFrame, key: str, rule: Rule) -> pd.Series:
    """Which responses show the rule's pattern: the marker of a share rule, the subject's most
    frequent score for a variance rule, the subject's busy devices for a device rule."""
    if rule.test == "share_vs_peers":
        return conditions_mask(responses, rule.among) & conditions_mask(responses, rule.marker)
    if rule.test == "variance_vs_peers":
        mode = responses.groupby(key)["nps_score"].agg(
            lambda s: s.mode().min() if s.notna().any() else np.nan
        )
        return (responses["nps_score"] == responses[key].map(mode)).fillna(False).astype(bool)
    per_device = responses.groupby([key, "ip_address"])["response_key"].transform("size")
    return (per_device >= rule.min_count).fillna(False).astype(bool) & responses["ip_address"].notna()


def suspects(
    responses: pd.DataFrame,
    evidence: dict[str, pd.DataFrame],
    verdicts: dict[str, pd.DataFrame],
    config: IntegrityConfig,
) -> pd.DataFrame:
    """response_key, suspect_reason: responses of flagged subjects that show the patterns of their
    evidence rules of at least two families (one, when all their evidence is of one family),
    judged by their staff member when flagged, else by their store. A trend rule marks no
    response and its family is not counted here."""
    judged_by = pd.Series(None, index=responses.index, dtype="object")
    for subject in ("store", "staff"):  # staff last: the more specific verdict wins
        flagged = verdicts[subject].loc[verdicts[subject]["is_flagged"], "subject_id"]
        judged_by = judged_by.mask(responses[SUBJECTS[subject]].isin(flagged), subject)
    rows = []
    for subject in ("store", "staff"):
        mine = responses[judged_by == subject]
        if mine.empty:
            continue
        key = SUBJECTS[subject]
        hits = evidence[subject][evidence[subject]["is_evidence"]].sort_values("p_evidence")
        hits = hits[~hits["rule_id"].isin(_trend_rules(config))]
        matched = pd.DataFrame(index=mine.index)
        strength = {}
        for rule in config.rules:
            rule_hits = hits[hits["rule_id"] == rule.id]
            if rule_hits.empty:
                continue
            matched[rule.id] = _markers(mine, key, rule) & mine[key].isin(rule_hits["subject_id"])
            strength[rule.id] = rule_hits.set_index("subject_id")["p_evidence"]
        if not strength:
            continue
        # Kinds of evidence, not rules: a happy customer's 10 with all 5s matches two score rules.
        family_of = {rule.id: rule.family for rule in config.rules}
        families = hits.groupby("subject_id")["family"].nunique()
        needed = mine[key].map(families).clip(upper=2).fillna(2)
        matched_families = matched.T.groupby(matched.columns.map(family_of)).any().sum()
        is_suspect = matched_families >= needed
        for index in mine.index[is_suspect]:
            subject_id = mine.at[index, key]
            rules = [r for r in strength if matched.at[index, r]]
            reason = min(rules, key=lambda r: strength[r].get(subject_id, 1.0))
            rows.append((mine.at[index, "response_key"], reason))
    return pd.DataFrame(rows, columns=["response_key", "suspect_reason"]).sort_values(
        "response_key", ignore_index=True
    )


def _nps(scores: pd.Series) -> float:
    value = nps_from_scores(scores.dropna().astype(int)).nps
    return np.nan if value is None else value


def staff_stores(responses: pd.DataFrame) -> pd.Series:
    """Each staff member's store: where most of their answered sales were."""
    known = responses[responses["staff_id"].notna()]
    return known.groupby("staff_id")["store_id"].agg(lambda s: s.mode().min())


@dataclass(frozen=True)
class Assessment:
    stores: pd.DataFrame
    staff: pd.DataFrame
    suspects: pd.DataFrame
    evidence: pd.DataFrame


def assess(
    responses: pd.DataFrame, config: IntegrityConfig | None = None, reviews: pd.DataFrame | None = None
) -> Assessment:
    """Store and staff evidence and the suspect responses, from the countable responses (and the
    online reviews, for the complaints a score gain should have lowered)."""
    config = config or load_config()
    for name, frame, columns in (
        ("responses", responses, RESPONSE_COLUMNS),
        ("reviews", reviews, REVIEW_COLUMNS),
    ):
        missing = set(columns) - set(frame.columns) if frame is not None else set()
        if missing:
            raise ValueError(f"{name}: missing column(s) {', '.join(sorted(missing))}")
    responses = responses.reset_index(drop=True)
    evidence = {"store": rule_evidence(responses, "store", config, reviews=reviews)}
    verdicts = {"store": judge(evidence["store"], config)}
    flagged_stores = verdicts["store"].loc[verdicts["store"]["is_flagged"], "subject_id"]
    staff_store = staff_stores(responses)
    evidence["staff"] = rule_evidence(
        responses, "staff", config, staff_store[staff_store.isin(flagged_stores)], reviews
    )
    verdicts["staff"] = judge(evidence["staff"], config)
    suspect = suspects(responses, evidence, verdicts, config)
    is_suspect = responses["response_key"].isin(suspect["response_key"])
    tables = {}
    for subject, key in SUBJECTS.items():
        known = responses[responses[key].notna()]
        grouped = known.groupby(key)
        table = pd.DataFrame(
            {
                "responses": grouped.size(),
                "suspect_responses": is_suspect[known.index].groupby(known[key]).sum(),
            }
        ).rename_axis("subject_id")
        table = table.join(verdicts[subject].set_index("subject_id"))
        ev = evidence[subject].set_index(["rule_id", "subject_id"])
        for rule_id, name in ((TENS_RULE, "tens"), (FAST_RULE, "fast_after_sale")):
            rule_rows = ev.loc[rule_id] if rule_id in ev.index.get_level_values(0) else None
            table[f"share_{name}"] = rule_rows["statistic"] if rule_rows is not None else np.nan
            table[f"peer_share_{name}"] = rule_rows["peer_statistic"] if rule_rows is not None else np.nan
        if subject == "store":
            table["nps"] = grouped["nps_score"].agg(_nps)
            table["nps_excluding_suspect"] = (
                known[~is_suspect[known.index]].groupby(key)["nps_score"].agg(_nps)
            )
            devices = device_counts(known, key)
            table["top_device_share"] = devices["top_count"] / devices["n"]
        else:
            table["store_id"] = staff_store
        table["is_flagged"] = table["is_flagged"].fillna(False).astype(bool)
        table["integrity_score"] = table["integrity_score"].fillna(1.0)
        table["reasons"] = table["reasons"].fillna("")
        tables[subject] = table.reset_index().rename(columns={"subject_id": key})
    all_evidence = pd.concat([evidence[s].assign(subject=s) for s in SUBJECTS], ignore_index=True)
    return Assessment(tables["store"], tables["staff"], suspect, all_evidence)
