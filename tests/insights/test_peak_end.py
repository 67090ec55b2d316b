"""The peak-end models on synthetic answers whose truth is known: only the mean matters, the worst
moment matters, the last one matters; and the small print (too few, a stage's moments, settings)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cxlake.insights.peak_end import (
    AVERAGE_IS_ENOUGH,
    FIX_LAST,
    FIX_WORST,
    JOURNEY,
    MART_COLUMNS,
    TOO_FEW,
    PeakEndSettings,
    experience,
    fit_models,
    load_settings,
    peak_end_mart,
)

TOUCHPOINTS = ["app", "speed", "staff", "taste"]
STAGES = {JOURNEY: TOUCHPOINTS, "fulfil": ["speed", "staff"]}
SETTINGS = PeakEndSettings(min_responses=100, significance=0.01, min_r2_gain=0.01, exclude_suspect=True)


def answers(n: int, seed: int, *, worst: float = 0.0, last: float = 0.0) -> pd.DataFrame:
    """n respondents rating four touchpoints 1-5 (a shared mood plus noise, a tenth skipping the
    app); the 0-10 score = 6 + 1.5 (mean - 3) + worst (lowest - mean) + last (last - mean) + noise."""
    rng = np.random.default_rng(seed)
    mood = rng.normal(0, 0.6, (n, 1))
    ratings = np.clip(np.rint(3.8 + mood + rng.normal(0, 0.8, (n, 4))), 1, 5)
    ratings[rng.random(n) < 0.1, 0] = np.nan
    frame = pd.DataFrame(ratings, columns=TOUCHPOINTS)
    mean, lowest = np.nanmean(ratings, axis=1), np.nanmin(ratings, axis=1)
    score = 6 + 1.5 * (mean - 3) + worst * (lowest - mean) + last * (ratings[:, 3] - mean)
    frame["nps_score"] = np.clip(np.rint(score + rng.normal(0, 1.0, n)), 0, 10)
    frame["region_id"] = np.where(np.arange(n) % 2 == 0, "R1", "R2")
    frame["store_id"] = np.where(np.arange(n) < 60, "S1", np.where(np.arange(n) % 2 == 0, "S2", "S3"))
    return frame


def chain_row(frame: pd.DataFrame, stage: str = JOURNEY) -> pd.Series:
    mart = peak_end_mart(frame, "nps_score", STAGES, SETTINGS)
    return mart.set_index(["scope_level", "scope_id", "stage"]).loc[("chain", "chain", stage)]


def test_when_only_the_mean_matters_the_verdict_is_that_the_average_is_enough():
    row = chain_row(answers(2000, seed=1))
    assert row["is_reportable"] and row["n"] == 2000
    assert row["verdict"] == AVERAGE_IS_ENOUGH
    assert row["r2_mean"] > 0.4
    assert abs(row["lowest_r2_gain"]) < 0.005 and abs(row["last_r2_gain"]) < 0.005


def test_a_planted_worst_moment_adds_significant_r2_and_says_fix_the_worst_moment():
    row = chain_row(answers(2000, seed=2, worst=1.2))
    assert row["verdict"] == FIX_WORST
    assert row["lowest_p_value"] < 1e-6 and row["lowest_r2_gain"] > 0.03
    assert row["lowest_beta"] > 0.2 > abs(row["last_beta"])
    assert row["r2_mean_lowest"] == pytest.approx(row["r2_mean"] + row["lowest_r2_gain"])


def test_a_planted_end_says_fix_the_last_moment():
    row = chain_row(answers(2000, seed=3, last=1.2))
    assert row["verdict"] == FIX_LAST
    assert row["last_p_value"] < 1e-6 and row["last_beta"] > row["lowest_beta"]


def test_gains_and_p_values_match_a_textbook_nested_f_test():
    rng = np.random.default_rng(4)
    n = 300
    mean, lowest, last = rng.normal(size=n), rng.normal(size=n), rng.normal(size=n)
    y = 1 + mean + 0.2 * lowest + rng.normal(size=n)
    fit = fit_models(y, mean, lowest, last)

    def sse(*columns):
        x = np.column_stack([np.ones(n), *columns])
        residuals = y - x @ np.linalg.lstsq(x, y, rcond=None)[0]
        return residuals @ residuals

    sst = ((y - y.mean()) ** 2).sum()
    assert fit["r2_mean"] == pytest.approx(1 - sse(mean) / sst)
    f = (sse(mean) - sse(mean, lowest, last)) / 2 / (sse(mean, lowest, last) / (n - 4))
    assert fit["lowest_last_p_value"] == pytest.approx(stats.f.sf(f, 2, n - 4))
    # one added predictor: the F-test is the square of the coefficient's t-test
    x = np.column_stack([np.ones(n), mean, lowest])
    beta, residual_ss = np.linalg.lstsq(x, y, rcond=None)[:2]
    se = np.sqrt(residual_ss[0] / (n - 3) * np.linalg.inv(x.T @ x)[2, 2])
    assert fit["lowest_p_value"] == pytest.approx(2 * stats.t.sf(abs(beta[2] / se), n - 3))


def test_scopes_below_the_minimum_n_are_too_few_with_their_n_and_no_model():
    mart = peak_end_mart(answers(400, seed=5, worst=1.2), "nps_score", STAGES, SETTINGS)
    assert tuple(mart.columns) == MART_COLUMNS
    assert len(mart) == (1 + 2 + 3) * 2  # chain, two regions, three stores; two stages
    small = mart[(mart["scope_level"] == "store") & (mart["scope_id"] == "S1")]
    assert (small["n"] == 60).all() and (small["verdict"] == TOO_FEW).all()
    assert not small["is_reportable"].any() and small["r2_mean"].isna().all()
    assert small["mean_csat"].notna().all()  # what was answered is still described
    assert set(mart.loc[mart["is_reportable"], "verdict"]) <= {FIX_WORST, FIX_LAST, AVERAGE_IS_ENOUGH}


def test_a_stage_where_nobody_met_two_touchpoints_cannot_be_told_apart_from_its_mean():
    frame = answers(500, seed=6)
    frame.loc[frame.index % 2 == 0, "speed"] = np.nan
    frame.loc[frame.index % 2 == 1, "staff"] = np.nan
    row = chain_row(frame, "fulfil")
    assert row["n"] == 500 and row["verdict"] == TOO_FEW and not row["is_reportable"]


def test_experience_takes_the_lowest_and_the_last_rated_in_journey_order():
    ratings = pd.DataFrame(
        {
            "app": [2, np.nan, np.nan],
            "speed": [4, 3, np.nan],
            "staff": [5, np.nan, np.nan],
            "taste": [3, 1, np.nan],
        }
    )
    moments = experience(ratings, TOUCHPOINTS)
    assert moments["mean_csat"].tolist()[:2] == [3.5, 2.0]
    assert moments["lowest_csat"].tolist()[:2] == [2.0, 1.0]
    assert moments["last_csat"].tolist()[:2] == [3.0, 1.0]
    assert moments["last_touchpoint"].tolist()[:2] == ["taste", "taste"]
    assert pd.isna(moments["last_touchpoint"].iloc[2])
    assert moments.iloc[2][["mean_csat", "lowest_csat", "last_csat"]].isna().all()


def test_the_packaged_settings_load_and_a_bad_value_names_the_key(tmp_path):
    settings = load_settings()
    assert settings.min_responses >= 10 and 0 < settings.significance < 1
    bad = tmp_path / "insights.yaml"
    bad.write_text(
        "peak_end: {min_responses: 100, significance: 2, min_r2_gain: 0.01, exclude_suspect: true}\n"
    )
    with pytest.raises(ValueError, match="peak_end.significance"):
        load_settings(bad)
