"""Key-driver model (cxlake.insights.drivers): a published computation, the identities the method
guarantees, the handling of missing ratings, the quadrants and the mart's not-enough markers."""

from __future__ import annotations

import itertools
import math
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression

from cxlake.insights.drivers import (
    CONCENTRATE_HERE,
    KEEP_UP,
    LOW_PRIORITY,
    MART_COLUMNS,
    NOT_ENOUGH_RESPONSES,
    POSSIBLE_OVERKILL,
    DriverError,
    _ResampleSums,
    imputed_correlations,
    key_driver_mart,
    key_drivers,
    load_settings,
    quadrants,
    scope_drivers,
)


def _ols_r_squared(frame: pd.DataFrame, outcome: str, drivers: list[str]) -> float:
    """R² of an ordinary least-squares fit (scikit-learn), independent of the correlation algebra."""
    if not drivers:
        return 0.0
    model = LinearRegression().fit(frame[drivers], frame[outcome])
    return float(model.score(frame[drivers], frame[outcome]))


def _correlated_frame(n: int = 400, seed: int = 3) -> pd.DataFrame:
    """Three drivers sharing a common factor (like CSATs sharing the customer's mood), no gaps."""
    rng = np.random.default_rng(seed)
    mood = rng.normal(size=n)
    frame = pd.DataFrame({f"x{k}": mood + rng.normal(size=n) for k in range(3)})
    frame["y"] = 0.9 * frame["x0"] + 0.4 * frame["x1"] + 0.1 * frame["x2"] + rng.normal(size=n)
    return frame


def test_relative_weights_match_the_published_mtcars_example_to_three_decimals(mtcars, published):
    model = key_drivers(mtcars, "mpg", ["cyl", "disp", "hp", "gear"], repetitions=50)
    weights = model.table.set_index("driver")
    for driver, expected in published.raw_weights.items():
        assert weights.loc[driver, "relative_weight"] == pytest.approx(expected, abs=5e-4)
        assert 100 * weights.loc[driver, "relative_weight_share"] == pytest.approx(
            published.rescaled_percent[driver], abs=5e-2
        )
    assert model.r_squared == pytest.approx(published.r_squared, abs=5e-4)
    assert model.respondents == 32 and weights["n"].eq(32).all()


def test_a_resample_correlated_from_its_row_counts_equals_the_correlations_of_its_drawn_rows():
    """The bootstrap correlates each resample from row counts; imputing and correlating the drawn
    rows themselves must give the same matrix, or the same refusal (a column with one value or
    fewer than two ratings in the resample)."""
    rng = np.random.default_rng(5)
    for n in (8, 50, 3000):
        values = rng.integers(1, 6, (n, 4)).astype(float)
        values[rng.random(n) < 0.4, 3] = np.nan  # a touchpoint many customers do not meet
        values[: n // 2, 2] = 4.0  # half the customers rate it alike
        picks = [rng.integers(0, n, n) for _ in range(80)]
        counts = np.array([np.bincount(pick, minlength=n) for pick in picks], dtype=float)
        refused = 0
        for pick, correlations in zip(picks, _ResampleSums.of(values).correlations(counts), strict=True):
            expected = imputed_correlations(values[pick])
            if expected is None:
                assert correlations is None
                refused += 1
            else:
                np.testing.assert_allclose(correlations, expected, rtol=1e-9, atol=1e-12)
        assert (refused > 0) == (n == 8)


def test_weights_sum_to_the_r_squared_of_the_ordinary_regression(mtcars):
    drivers = ["cyl", "disp", "hp", "gear"]
    model = key_drivers(mtcars, "mpg", drivers, repetitions=10)
    ols = _ols_r_squared(mtcars, "mpg", drivers)
    assert model.table["relative_weight"].sum() == pytest.approx(ols, abs=1e-9)
    assert model.table["relative_weight_share"].sum() == pytest.approx(1.0, abs=1e-9)
    assert (model.table["relative_weight"] > 0).all()


def test_shapley_shares_are_the_average_marginal_r_squared_over_every_entry_order():
    frame = _correlated_frame()
    drivers = ["x0", "x1", "x2"]
    model = key_drivers(frame, "y", drivers, repetitions=10)
    expected = dict.fromkeys(drivers, 0.0)
    orders = list(itertools.permutations(drivers))
    for order in orders:
        for position, driver in enumerate(order):
            before = list(order[:position])
            gain = _ols_r_squared(frame, "y", [*before, driver]) - _ols_r_squared(frame, "y", before)
            expected[driver] += gain / len(orders)
    shapley = model.table.set_index("driver")["shapley_r2"]
    for driver in drivers:
        assert shapley[driver] == pytest.approx(expected[driver], abs=1e-9)
    assert shapley.sum() == pytest.approx(model.r_squared, abs=1e-9)
    # correlated drivers: the two methods differ a little but agree on the order
    assert list(shapley.sort_values().index) == list(
        model.table.set_index("driver")["relative_weight"].sort_values().index
    )


def test_uncorrelated_drivers_get_their_squared_correlation_from_both_methods():
    # Two exactly orthogonal, centred drivers: nothing to share, each explains r² of its own.
    x1 = np.tile([1.0, -1.0, 1.0, -1.0], 25)
    x2 = np.tile([1.0, 1.0, -1.0, -1.0], 25)
    noise = np.random.default_rng(0).normal(size=100)
    frame = pd.DataFrame({"x1": x1, "x2": x2, "y": 2 * x1 + x2 + noise})
    model = key_drivers(frame, "y", ["x1", "x2"], repetitions=10).table.set_index("driver")
    for driver in ("x1", "x2"):
        squared = np.corrcoef(frame[driver], frame["y"])[0, 1] ** 2
        assert model.loc[driver, "relative_weight"] == pytest.approx(squared, abs=1e-12)
        assert model.loc[driver, "shapley_r2"] == pytest.approx(squared, abs=1e-12)
    assert model.loc["x1", "relative_weight"] > 3 * model.loc["x2", "relative_weight"]


def test_one_driver_gets_all_of_r_squared_which_is_its_squared_correlation(mtcars):
    table = key_drivers(mtcars, "mpg", ["hp"], repetitions=10).table
    assert table.loc[0, "relative_weight"] == pytest.approx(
        np.corrcoef(mtcars["hp"], mtcars["mpg"])[0, 1] ** 2
    )
    assert table.loc[0, "relative_weight_share"] == pytest.approx(1.0)


def test_weights_do_not_depend_on_the_units_of_a_driver(mtcars):
    drivers = ["cyl", "disp", "hp", "gear"]
    rescaled = mtcars.assign(disp=mtcars["disp"] * 16.387 + 5)  # cubic inches -> cm³, shifted
    before = key_drivers(mtcars, "mpg", drivers, repetitions=10).table["relative_weight"]
    after = key_drivers(rescaled, "mpg", drivers, repetitions=10).table["relative_weight"]
    np.testing.assert_allclose(after, before, atol=1e-12)


def test_shapley_is_left_empty_above_the_configured_number_of_drivers(mtcars):
    table = key_drivers(
        mtcars, "mpg", ["cyl", "disp", "hp", "gear"], repetitions=10, shapley_max_drivers=3
    ).table
    assert table["shapley_r2"].isna().all()
    assert table["relative_weight"].notna().all()


def test_collinear_drivers_are_refused():
    frame = _correlated_frame().assign(x3=lambda f: f["x0"] + f["x1"])
    with pytest.raises(DriverError, match="collinear"):
        key_drivers(frame, "y", ["x0", "x1", "x3"], repetitions=10)


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        # the outcome named as a driver too
        (pd.DataFrame({"y": [1.0, 2, 3], "a": [1.0, 2, 4]}), "'y' is the outcome"),
        # a driver everyone rated alike explains nothing and breaks the correlation matrix
        (pd.DataFrame({"y": [1.0, 2, 3], "a": [4.0, 4, 4]}), "column 'a' has no variation"),
        # a driver only one respondent rated
        (pd.DataFrame({"y": [1.0, 2, 3], "a": [5.0, None, None], "b": [1.0, 2, 3]}), "'a' has fewer than 2"),
    ],
)
def test_unusable_columns_are_named(frame, message):
    drivers = [c for c in frame.columns if c != "y"] if "'y' is" not in message else ["y", "a"]
    with pytest.raises(DriverError, match=message):
        key_drivers(frame, "y", drivers, repetitions=10)


def test_a_missing_rating_takes_the_drivers_mean_which_keeps_the_covariances_of_those_who_rated():
    rng = np.random.default_rng(5)
    frame = _correlated_frame(n=300, seed=5)
    frame.loc[rng.random(300) < 0.4, "x1"] = np.nan
    filled = frame.fillna(frame.mean())
    np.testing.assert_allclose(
        imputed_correlations(frame[["y", "x0", "x1"]].to_numpy()),
        np.corrcoef(filled[["y", "x0", "x1"]].to_numpy(), rowvar=False),
    )
    # the covariance of x0 and x1 is their co-rated cross-products about the means, over everyone
    rated = frame["x1"].notna()
    centred = frame[["x0", "x1"]] - frame[["x0", "x1"]].mean()
    expected = (centred.loc[rated, "x0"] * centred.loc[rated, "x1"]).sum() / (len(frame) - 1)
    assert filled[["x0", "x1"]].cov().loc["x0", "x1"] == pytest.approx(expected)


def test_touchpoints_never_rated_together_still_get_weights_and_their_reach_counts():
    """Regression for the method choice: pairwise-complete correlations are undefined for two
    touchpoints no customer meets together (environment in store, delivery on delivery orders)."""
    rng = np.random.default_rng(11)
    n = 3000
    in_store = rng.random(n) < 0.7
    mood = rng.normal(size=n)
    taste = np.clip(np.rint(3.8 + mood + rng.normal(0, 0.8, n)), 1, 5)
    environment = np.where(in_store, np.clip(np.rint(3.8 + mood + rng.normal(0, 0.8, n)), 1, 5), np.nan)
    delivery = np.where(~in_store, np.clip(np.rint(3.6 + mood + rng.normal(0, 0.8, n)), 1, 5), np.nan)
    # the same weight for environment and delivery where they apply
    recommend = (
        6 + 0.9 * (taste - 3) + 0.5 * np.nan_to_num(environment - 3) + 0.5 * np.nan_to_num(delivery - 3)
    )
    frame = pd.DataFrame(
        {
            "y": recommend + rng.normal(0, 1, n),
            "taste": taste,
            "environment": environment,
            "delivery": delivery,
        }
    )
    assert np.isnan(frame[["environment", "delivery"]].corr().loc["environment", "delivery"])
    model = key_drivers(frame, "y", ["taste", "environment", "delivery"], repetitions=20).table.set_index(
        "driver"
    )
    assert model["relative_weight"].notna().all()
    assert model.loc["taste", "relative_weight"] > model.loc["environment", "relative_weight"]
    # environment reaches 70% of customers, delivery 30%: the same weight where met, less company-wide
    assert model.loc["environment", "relative_weight"] > model.loc["delivery", "relative_weight"]
    assert model.loc["environment", "n"] == in_store.sum() and model.loc["delivery", "n"] == (~in_store).sum()


def test_rows_without_the_outcome_or_without_any_rating_are_left_out_and_counted(mtcars):
    frame = mtcars.astype(float)
    frame.loc[0, "mpg"] = np.nan
    frame.loc[1, ["cyl", "disp", "hp", "gear"]] = np.nan
    model = key_drivers(frame, "mpg", ["cyl", "disp", "hp", "gear"], repetitions=10)
    assert (model.respondents, model.left_out_no_outcome, model.left_out_no_rating) == (30, 1, 1)
    assert model.table["n"].eq(30).all()


def test_bootstrap_intervals_are_seeded_and_hold_the_estimate():
    frame = _correlated_frame()
    first = key_drivers(frame, "y", ["x0", "x1", "x2"], repetitions=200, seed=7).table
    again = key_drivers(frame, "y", ["x0", "x1", "x2"], repetitions=200, seed=7).table
    other = key_drivers(frame, "y", ["x0", "x1", "x2"], repetitions=200, seed=8).table
    pd.testing.assert_frame_equal(first, again)
    assert not np.allclose(first["ci_low"], other["ci_low"])
    assert (first["ci_low"] < first["relative_weight"]).all()
    assert (first["relative_weight"] < first["ci_high"]).all()
    # the strongest driver's interval lies above the weakest one's
    assert first.loc[0, "ci_low"] > first.loc[2, "ci_high"]


@pytest.mark.parametrize(
    ("importance", "satisfaction", "expected"),
    [
        # one driver per quadrant; cross-hairs at importance 0.25 and satisfaction 3.5
        (
            [0.4, 0.4, 0.1, 0.1],
            [3.0, 4.0, 3.0, 4.0],
            [CONCENTRATE_HERE, KEEP_UP, LOW_PRIORITY, POSSIBLE_OVERKILL],
        ),
        # on a cross-hair counts as high
        ([0.2, 0.2], [3.0, 4.0], [CONCENTRATE_HERE, KEEP_UP]),
        # the cross-hairs are the means, not the medians: one big driver pulls the importance line up
        (
            [0.6, 0.1, 0.1, 0.1],
            [3.0, 3.2, 4.0, 4.2],
            [CONCENTRATE_HERE, LOW_PRIORITY, POSSIBLE_OVERKILL, POSSIBLE_OVERKILL],
        ),
    ],
)
def test_quadrants_cross_at_the_mean_importance_and_mean_satisfaction(importance, satisfaction, expected):
    assert list(quadrants(pd.Series(importance), pd.Series(satisfaction))) == expected


def _responses(n_per_store: dict[str, int], seed: int = 1) -> pd.DataFrame:
    """Synthetic response rows as the asset builds them: region, store, recommend score, CSATs."""
    rng = np.random.default_rng(seed)
    parts = []
    for store, n in n_per_store.items():
        mood = rng.normal(0, 0.6, n)
        taste = np.clip(np.rint(3.9 + mood + rng.normal(0, 0.75, n)), 1, 5)
        speed = np.clip(np.rint(3.7 + mood + rng.normal(0, 0.75, n)), 1, 5)
        app = np.where(rng.random(n) < 0.05, np.clip(np.rint(3.8 + mood), 1, 5), np.nan)  # rarely rated
        latent = 6.4 + 0.85 * (taste - 3) + 0.55 * (speed - 3) + rng.normal(0, 1, n)
        parts.append(
            pd.DataFrame(
                {
                    "region_id": "R1" if store != "S3" else "R2",
                    "store_id": store,
                    "nps_score": np.clip(np.rint(latent), 0, 10),
                    "taste": taste,
                    "speed": speed,
                    "app": app,
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


@pytest.fixture
def settings():
    return replace(load_settings(), min_responses=100, min_ratings=30, bootstrap_repetitions=30)


def test_a_store_below_the_minimum_gets_every_driver_marked_with_its_n_and_satisfaction(settings):
    responses = _responses({"S1": 400, "S2": 60, "S3": 300})
    mart = key_driver_mart(responses, "nps_score", ["taste", "speed", "app"], settings)
    assert list(mart.columns) == list(MART_COLUMNS)
    assert set(mart.groupby("scope_level")["scope_id"].unique().map(sorted).map(tuple)) == {
        ("chain",),
        ("R1", "R2"),
        ("S1", "S2", "S3"),
    }
    small = mart[mart["scope_id"] == "S2"].set_index("driver")
    assert (small["quadrant"] == NOT_ENOUGH_RESPONSES).all()
    assert small["relative_weight"].isna().all() and small["ci_low"].isna().all()
    assert small.loc["taste", "n"] == 60
    assert small.loc["taste", "satisfaction"] == pytest.approx(
        responses.loc[responses.store_id == "S2", "taste"].mean()
    )


def test_a_driver_with_too_few_ratings_is_marked_and_the_others_are_modelled_without_it(settings):
    responses = _responses({"S1": 400, "S2": 60, "S3": 300})
    mart = key_driver_mart(responses, "nps_score", ["taste", "speed", "app"], settings)
    store = mart[mart["scope_id"] == "S1"].set_index("driver")
    assert store.loc["app", "quadrant"] == NOT_ENOUGH_RESPONSES and store.loc["app", "n"] < 30
    assert store.loc[["taste", "speed"], "relative_weight_share"].sum() == pytest.approx(1.0)
    alone = key_drivers(responses[responses.store_id == "S1"], "nps_score", ["taste", "speed"], repetitions=5)
    np.testing.assert_allclose(
        store.loc[["taste", "speed"], "relative_weight"], alone.table["relative_weight"]
    )
    # the company pools every store: enough app ratings there
    company = mart[mart["scope_level"] == "chain"].set_index("driver")
    assert company.loc["app", "quadrant"] != NOT_ENOUGH_RESPONSES and company.loc["app", "n"] >= 30
    assert company.loc["taste", "relative_weight"] > company.loc["speed", "relative_weight"]


def test_scope_with_an_outcome_everyone_gave_alike_is_marked_not_fitted(settings):
    responses = _responses({"S1": 200}).assign(nps_score=10.0)
    rows = scope_drivers(responses, "nps_score", ["taste", "speed"], settings)
    assert (rows["quadrant"] == NOT_ENOUGH_RESPONSES).all()
    assert not math.isnan(rows.loc[0, "satisfaction"])


def test_the_packaged_settings_load():
    settings = load_settings()
    assert settings.min_ratings <= settings.min_responses
    assert 0 < settings.confidence < 1 and settings.bootstrap_repetitions > 0
