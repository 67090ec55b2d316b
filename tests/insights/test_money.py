"""The money of experience (cxlake/insights/money.py) on hand-made data with known answers, and on
the 45-day chain (its planted truth: members buy 0.57 times in the 14 days after a detractor answer
against 1.53 after another, and taste weighs most in the recommend score)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from cxlake.insights.money import (
    EFFECT_COLUMNS,
    MONEY_COLUMNS,
    MoneySettings,
    _category_slopes,
    _design,
    _resampled_slopes,
    _RowSums,
    csat_revenue_effect,
    experience_money,
    first_answers,
    load_settings,
    scope_money,
)

SETTINGS = MoneySettings(
    bootstrap_repetitions=400, confidence=0.95, seed=7, min_members=3, min_respondents=10, min_ratings=5
)


def _members(spend: list[float], repeat: list[bool]) -> pd.DataFrame:
    return pd.DataFrame({"spend": spend, "repeat": repeat})


def test_scope_money_figures_by_hand():
    """Promoters spend 20, 40, 0 (two came back), detractors 10, 0 (one came back, spending 10):
    value 20 - 5 = 15; excess churn 2/3 - 1/2 = 1/6; 4 recent detractors x 1/6 x 10 = 6.667; open
    cases' 100 per window x 1/6 = 16.667; two detractors are below min_members 3."""
    row = scope_money(
        _members([20, 40, 0], [True, True, False]), _members([10, 0], [True, False]), 4, 3, 100.0, SETTINGS
    )
    assert row["detractor_to_promoter_value"] == pytest.approx(15)
    assert row["excess_churn_rate"] == pytest.approx(1 / 6)
    assert row["detractor_spend_if_retained"] == pytest.approx(10)
    assert row["detractor_revenue_at_risk"] == pytest.approx(4 / 6 * 10)
    assert row["open_case_revenue_at_risk"] == pytest.approx(100 / 6)
    assert (row["count_promoter_members"], row["count_detractor_members"]) == (3, 2)
    assert row["is_reportable"] is False
    for name in ("detractor_to_promoter_value", "excess_churn_rate", "open_case_revenue_at_risk"):
        assert row[f"{name}_ci_low"] <= row[name] <= row[f"{name}_ci_high"]
    # every resample's value lies between the extreme means: 0 - 10 and 40 - 0
    assert -10 <= row["detractor_to_promoter_value_ci_low"] < row["detractor_to_promoter_value_ci_high"] <= 40


def test_scope_money_without_two_of_each_has_no_interval():
    row = scope_money(_members([20], [True]), _members([10, 0], [True, False]), 0, 0, 0.0, SETTINGS)
    assert row["detractor_to_promoter_value"] == pytest.approx(15)
    assert np.isnan(row["detractor_to_promoter_value_ci_low"])
    empty = scope_money(_members([], []), _members([10, 0], [True, False]), 0, 0, 0.0, SETTINGS)
    assert np.isnan(empty["detractor_to_promoter_value"]) and np.isnan(empty["excess_churn_rate"])


def test_bootstrap_interval_of_the_value_matches_the_normal_approximation_on_large_samples():
    """400 promoters spending about 100 (sd 20) and 400 detractors about 50: the percentile interval
    of the difference is 50 -/+ 1.96 x sqrt(20²/400 + 20²/400) = -/+ 2.77, within a few tenths."""
    rng = np.random.default_rng(1)
    promoters = _members(list(rng.normal(100, 20, 400)), [True] * 400)
    detractors = _members(list(rng.normal(50, 20, 400)), [True] * 400)
    row = scope_money(promoters, detractors, 0, 0, 0.0, SETTINGS)
    value = row["detractor_to_promoter_value"]
    half = 1.96 * np.sqrt(promoters["spend"].var() / 400 + detractors["spend"].var() / 400)
    assert row["detractor_to_promoter_value_ci_low"] == pytest.approx(value - half, abs=0.4)
    assert row["detractor_to_promoter_value_ci_high"] == pytest.approx(value + half, abs=0.4)


def _outcome(key, customer, store, region, category, day, spend, visits):
    return {
        "response_key": key, "customer_id": customer, "store_id": store, "region_id": region,
        "nps_category": category, "responded_at": pd.Timestamp(f"2026-03-{day:02d} 10:00"),
        "window_days": 5, "last_transaction_date": pd.Timestamp("2026-03-20"),
        "count_visits": visits, "spend": float(spend),
    }  # fmt: skip


def test_experience_money_counts_members_once_per_scope_with_recent_detractors_and_open_cases():
    """C1's second promoter answer (later, bigger spend) is not counted; S2's only member is a
    detractor (no value there); a recent detractor and an open-case member count in their scopes."""
    outcomes = pd.DataFrame(
        [
            _outcome("R1", "C1", "S1", "G1", "promoter", 1, 30, 2),
            _outcome("R2", "C1", "S1", "G1", "promoter", 3, 99, 5),
            _outcome("R3", "C2", "S1", "G1", "promoter", 2, 10, 1),
            _outcome("R4", "C3", "S1", "G1", "detractor", 2, 0, 0),
            _outcome("R5", "C4", "S2", "G1", "detractor", 4, 8, 1),
        ]
    )
    first = first_answers(outcomes)
    chain = first[first["scope_level"] == "chain"]
    assert sorted(chain.loc[chain["nps_category"] == "promoter", "spend"]) == [10.0, 30.0]
    recent = pd.DataFrame({"customer_id": ["C9"], "store_id": ["S2"], "region_id": ["G1"]})
    cases = pd.DataFrame(
        {
            "customer_id": ["C3", "C3"],
            "store_id": ["S1", "S1"],
            "region_id": ["G1", "G1"],
            "spend_per_window": [12.0, 12.0],
        }
    )
    table = experience_money(outcomes, recent, cases, SETTINGS).set_index(["scope_level", "scope_id"])
    assert list(table.columns) == list(MONEY_COLUMNS[2:])
    assert list(table.index) == [("chain", "chain"), ("region", "G1"), ("store", "S1"), ("store", "S2")]
    assert table.loc[("chain", "chain"), "detractor_to_promoter_value"] == pytest.approx(20 - 4)
    assert table.loc[("store", "S1"), "detractor_to_promoter_value"] == pytest.approx(20)
    assert np.isnan(table.loc[("store", "S2"), "detractor_to_promoter_value"])
    assert table["count_recent_detractors"].tolist() == [1, 1, 0, 1]
    assert table["count_open_case_members"].tolist() == [1, 1, 1, 0]
    assert table.loc[("chain", "chain"), "open_case_spend_per_window"] == pytest.approx(12)
    assert (table["window_days"] == 5).all()


def test_csat_revenue_effect_recovers_planted_slopes():
    """P(promoter) = 0.1 x A, P(detractor) = 0.5 - 0.08 x A, B does nothing and is rated by half the
    respondents; promoters spend about 100, passives 80, detractors 40: one more point of A brings
    0.1 x 20 + (-0.08) x (-40) = 5.2 per respondent, of B nothing."""
    rng = np.random.default_rng(3)
    n = 20000
    a = rng.integers(1, 6, n).astype(float)
    b = rng.integers(1, 6, n).astype(float)
    b[rng.random(n) < 0.5] = np.nan
    u = rng.random(n)
    score = np.where(u < 0.1 * a, 10, np.where(u < 0.1 * a + 0.5 - 0.08 * a, 3, 8))
    respondents = pd.DataFrame({"nps_score": score, "A": a, "B": b})
    members = pd.concat(
        pd.DataFrame({"nps_category": category, "spend": rng.normal(mean, 10, 300)})
        for category, mean in (("promoter", 100), ("passive", 80), ("detractor", 40))
    )
    table = csat_revenue_effect(respondents, ["A", "B"], members, 14, 9, 6, SETTINGS).set_index("touchpoint")
    assert list(table.columns) == [c for c in EFFECT_COLUMNS if c != "touchpoint"]
    assert table.loc["A", "promoter_probability_change"] == pytest.approx(0.1, abs=0.01)
    assert table.loc["A", "detractor_probability_change"] == pytest.approx(-0.08, abs=0.01)
    assert table.loc["A", "effect_per_rater"] == pytest.approx(5.2, abs=0.5)
    assert table.loc["A", "effect_per_rater_ci_low"] < 5.2 < table.loc["A", "effect_per_rater_ci_high"]
    assert table.loc["B", "effect_per_rater_ci_low"] < 0 < table.loc["B", "effect_per_rater_ci_high"]
    rated_b = int((~np.isnan(b)).sum())
    assert table["n"].tolist() == [n, rated_b]
    # everyone rates A: per member = per rater; B's per-member effect is spread over its raters' share
    assert table.loc["A", "effect_per_member"] == table.loc["A", "effect_per_rater"]
    assert table.loc["B", "rated_share"] == pytest.approx(rated_b / n)
    assert table.loc["B", "effect_per_member"] == pytest.approx(
        table.loc["B", "effect_per_rater"] * rated_b / n
    )
    assert table["is_reportable"].all() and (table["window_days"] == 14).all()


def test_a_resample_fitted_from_its_row_counts_equals_the_fit_on_its_drawn_rows():
    """The bootstrap fits each resample from row counts; fitting the drawn rows themselves must give
    the same slopes, also where a resample leaves a set of drivers out (a column that does not vary:
    NaN slopes) and on samples so small that most resamples miss something."""
    rng = np.random.default_rng(11)
    for n in (6, 40, 2000):
        ratings = rng.integers(1, 6, (n, 3)).astype(float)
        ratings[rng.random(n) < 0.3, 2] = np.nan  # a touchpoint a third of the customers do not meet
        ratings[rng.random(n) < 0.2, 1] = np.nan
        targets = rng.integers(0, 2, (n, 2)).astype(float)
        design = _design(ratings)
        picks = [rng.integers(0, n, n) for _ in range(60)]
        counts = np.array([np.bincount(pick, minlength=n) for pick in picks], dtype=float)
        fitted = list(_resampled_slopes(_RowSums.of(design, targets), 3, counts))
        for pick, slopes in zip(picks, fitted, strict=True):
            np.testing.assert_allclose(slopes, _category_slopes(design[pick], targets[pick], 3), rtol=1e-9)
        assert any(np.isnan(slopes).any() for slopes in fitted) == (n == 6)


def test_settings_name_the_file_and_key(tmp_path):
    assert load_settings().bootstrap_repetitions >= 100
    path = tmp_path / "insights.yaml"
    shipped = Path("cxlake/config/insights.yaml").read_text("utf-8")
    path.write_text(
        shipped.replace("  bootstrap_repetitions: 1000", "  bootstrap_repetitions: many"), "utf-8"
    )
    with pytest.raises(ValueError, match=r"insights\.yaml: money\.bootstrap_repetitions 'many' is not int"):
        load_settings(path)


# -- on the 45-day chain


@pytest.fixture(scope="module")
def chain_marts(chain_build):
    assert chain_build.success
    with duckdb.connect(str(chain_build.warehouse), read_only=True) as connection:
        value = connection.execute("select * from marts.mart_experience_value").df()
        money = connection.execute("select * from marts.mart_experience_money").df()
        effect = connection.execute("select * from marts.mart_csat_revenue_effect").df()
    return value, money, effect


def test_detractors_spend_and_come_back_less_than_promoters_on_the_chain(chain_marts):
    """The planted churn after a detractor answer, found with intervals that do not overlap."""
    value, money, _ = chain_marts
    chain = value[value["scope_level"] == "chain"].set_index("nps_category")
    assert chain["window_days"].iloc[0] == 22  # 45 days: half of the 44 between first and last day
    promoter, detractor = chain.loc["promoter"], chain.loc["detractor"]
    assert promoter["is_reportable"] and detractor["is_reportable"]
    assert detractor["avg_spend_ci_high"] < promoter["avg_spend_ci_low"]
    assert detractor["repeat_rate_ci_high"] < promoter["repeat_rate_ci_low"]
    assert detractor["avg_visits_ci_high"] < promoter["avg_visits_ci_low"]
    row = money.set_index(["scope_level", "scope_id"]).loc[("chain", "chain")]
    assert row["is_reportable"]
    assert 0 < row["detractor_to_promoter_value_ci_low"] < row["detractor_to_promoter_value"]
    assert row["detractor_to_promoter_value"] == pytest.approx(promoter["avg_spend"] - detractor["avg_spend"])
    assert row["excess_churn_rate"] == pytest.approx(
        promoter["repeat_rate"] - detractor["repeat_rate"], abs=1e-4
    )
    assert row["excess_churn_rate_ci_low"] > 0 and row["detractor_revenue_at_risk_ci_low"] > 0
    # nobody works the cases in the pipeline: the open-case members are there, at risk
    assert row["count_open_case_members"] > 100 and row["open_case_revenue_at_risk_ci_low"] > 0


def test_the_money_mart_counts_the_members_mart_experience_value_counts(chain_marts):
    value, money, _ = chain_marts
    counts = value.pivot_table(
        index=["scope_level", "scope_id"], columns="nps_category", values="count_members", fill_value=0
    )
    merged = money.set_index(["scope_level", "scope_id"]).join(counts)
    assert len(merged) == len(counts)
    assert (merged["count_promoter_members"] == merged["promoter"]).all()
    assert (merged["count_detractor_members"] == merged["detractor"]).all()
    assert merged.loc[~merged["is_reportable"]].index.get_level_values(0).isin(["store"]).all()


def test_one_csat_point_of_taste_brings_the_most(chain_marts):
    """The planted recommend score weighs taste most (0.85) and every respondent rates it: per
    member its point is worth most, clearly above the least weighted, environment (0.20, met in
    store only). Per rater the order may differ (delivery's raters are few and its score carries
    the slow-order penalty)."""
    *_, effect = chain_marts
    effect = effect.set_index("touchpoint")
    assert effect["is_reportable"].all() and (effect["window_days"] == 22).all()
    assert effect["effect_per_member"].idxmax() == "taste"
    assert effect.loc["taste", "ci_low"] > effect.loc["environment", "ci_high"]
    assert (effect["detractor_probability_change"] < 0).all() and (
        effect["promoter_probability_change"] > 0
    ).all()


def test_the_window_fits_a_30_day_history(chain_build, tmp_path):
    """The chain cut to its first 30 days: the window shrinks to 14 days (half the 29 between the
    first and last day) and holds answers, and detractors still spend less."""
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(chain_build.warehouse, warehouse)
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute("delete from marts.fct_transactions where transaction_date > date '2026-03-31'")
        connection.execute("delete from marts.fct_survey_responses where response_date > date '2026-03-31'")
    from cxlake.pipeline.dbt_project import DBT_PROJECT_DIR, dbt_command

    command = dbt_command(
        "run", "--select", "int_experience__response_outcomes", "mart_experience_value",
        warehouse=warehouse, scratch=tmp_path,
    )  # fmt: skip
    done = subprocess.run(command, cwd=DBT_PROJECT_DIR, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout[-2000:]
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        chain = (
            connection.execute("select * from marts.mart_experience_value where scope_level = 'chain'")
            .df()
            .set_index("nps_category")
        )
    assert (chain["window_days"] == 14).all()
    assert (chain["last_transaction_date"] == pd.Timestamp("2026-03-31")).all()
    assert chain.loc["detractor", "count_members"] >= 30 and chain.loc["promoter", "count_members"] >= 30
    assert chain.loc["detractor", "avg_spend"] < chain.loc["promoter", "avg_spend"]
