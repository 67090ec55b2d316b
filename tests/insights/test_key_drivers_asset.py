"""marts.mart_key_drivers on the shared seeded demo build (tests/conftest.py: 10 days, small): the
pipeline writes it, it recovers the generator's planted driver order, and the asset re-runs alike."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace

import duckdb
import pandas as pd
import pytest
from dagster import materialize
from scipy.stats import spearmanr

from assets.insights import key_drivers, read_driver_frame
from cxlake.insights.drivers import MART_COLUMNS, NOT_ENOUGH_RESPONSES, QUADRANTS, load_settings
from cxlake.pipeline.resources import Warehouse


@pytest.fixture(scope="module")
def mart(demo_build) -> pd.DataFrame:
    assert demo_build.run_success
    with duckdb.connect(str(demo_build.serving), read_only=True) as connection:
        return connection.execute("select * from marts.mart_key_drivers").df()


@pytest.fixture(scope="module")
def planted(demo_build) -> dict:
    return json.loads((demo_build.landing / "truth.json").read_text("utf-8"))["planted"]


@pytest.mark.slow
def test_the_pipeline_publishes_one_row_per_scope_and_touchpoint(mart, demo_build):
    assert tuple(mart.columns) == MART_COLUMNS
    assert not mart.duplicated(["scope_level", "scope_id", "driver"]).any()
    with duckdb.connect(str(demo_build.serving), read_only=True) as connection:
        stores, regions = connection.execute(
            "select count(distinct store_id), count(distinct region_id) from marts.fct_survey_responses"
            " where is_countable"
        ).fetchone()
    assert mart.groupby("scope_level")["scope_id"].nunique().to_dict() == {
        "chain": 1,
        "region": regions,
        "store": stores,
    }
    assert mart.groupby(["scope_level", "scope_id"]).size().eq(7).all()  # the seven rated touchpoints
    assert set(mart["quadrant"]) <= {*QUADRANTS, NOT_ENOUGH_RESPONSES}


@pytest.mark.slow
def test_the_chain_ranking_recovers_the_planted_driver_weights(mart, planted):
    company = mart[mart["scope_level"] == "chain"].set_index("driver")
    assert company["quadrant"].ne(NOT_ENOUGH_RESPONSES).all()
    weights = planted["driver_weights"]
    rho = spearmanr(company["relative_weight"], [weights[d] for d in company.index]).statistic
    assert rho >= 0.9
    assert company["relative_weight"].idxmax() == "taste"
    assert company["relative_weight_share"].sum() == pytest.approx(1.0)
    assert (company["ci_low"] <= company["relative_weight"]).all()
    assert (company["relative_weight"] <= company["ci_high"]).all()


@pytest.mark.slow
def test_ten_days_are_too_few_for_any_store_and_each_row_says_so_with_its_n(mart, demo_build):
    stores = mart[mart["scope_level"] == "store"]
    assert (stores["quadrant"] == NOT_ENOUGH_RESPONSES).all() and stores["relative_weight"].isna().all()
    with duckdb.connect(str(demo_build.serving), read_only=True) as connection:
        rated = connection.execute(
            """
            select ratings.store_id as scope_id, ratings.touchpoint_id as driver, count(*) as rated,
                   avg(ratings.csat_score) as mean_csat
            from marts.fct_touchpoint_ratings as ratings
            inner join marts.fct_survey_responses as responses using (response_key)
            where responses.is_countable and not responses.is_suspect and responses.nps_score is not null
            group by all
            """
        ).df()
    merged = stores.merge(rated, on=["scope_id", "driver"], how="left")
    assert (merged["n"] == merged["rated"].fillna(0)).all()
    assert merged["satisfaction"].dropna().to_numpy() == pytest.approx(
        merged["mean_csat"].dropna().to_numpy()
    )
    assert stores["n"].groupby(stores["scope_id"]).max().lt(load_settings().min_responses).all()


@pytest.mark.slow
def test_the_slow_stores_speed_is_the_least_satisfying_in_the_chain(mart, planted):
    speed = mart[(mart["scope_level"] == "store") & (mart["driver"] == "speed")].set_index("scope_id")
    assert speed["satisfaction"].idxmin() == planted["slow_store_id"]


def test_the_asset_reads_countable_responses_without_suspect_ones_one_column_per_rated_touchpoint(
    tmp_path,
):
    with duckdb.connect(str(tmp_path / "w.duckdb")) as connection:
        connection.execute(
            """
            create schema marts;
            create table marts.fct_survey_responses as select * from (values
                ('k1', 'R1', 'S1', 9, true, false),
                ('k2', 'R1', 'S1', 3, true, false),
                ('k3', 'R1', 'S2', 10, true, true),   -- suspect
                ('k4', 'R1', 'S2', 8, false, false),  -- not countable (a duplicate, a test ...)
                ('k5', 'R1', 'S2', null, true, false) -- no recommend score
            ) as t(response_key, region_id, store_id, nps_score, is_countable, is_suspect);
            create table marts.fct_touchpoint_ratings as select * from (values
                ('k1', 'taste', 5), ('k1', 'speed', 4), ('k2', 'taste', 2), ('k3', 'taste', 5),
                ('k3', 'speed', 5), ('k4', 'taste', 1), ('k5', 'taste', 4)
            ) as t(response_key, touchpoint_id, csat_score);
            create table marts.dim_touchpoint as select * from (values
                ('app', 'csat', 1, 1), ('speed', 'csat', 3, 1), ('taste', 'csat', 4, 1), ('wifi', null, 5, 1)
            ) as t(touchpoint_id, survey_measure, stage_order, touchpoint_order);
            """
        )
        settings = load_settings()
        frame, drivers = read_driver_frame(connection, replace(settings, exclude_suspect=True))
        assert drivers == ["speed", "taste"]  # journey order; app is never rated, wifi is no survey item
        assert list(frame["response_key"]) == ["k1", "k2"]
        assert frame["speed"].isna().tolist() == [False, True] and frame["taste"].tolist() == [5.0, 2.0]
        frame, _ = read_driver_frame(connection, replace(settings, exclude_suspect=False))
        assert list(frame["response_key"]) == ["k1", "k2", "k3"]


@pytest.mark.slow
def test_the_asset_rematerializes_to_the_same_table(demo_build, tmp_path, mart):
    # A copy: the session's build is shared with other tests.
    warehouse = shutil.copy(demo_build.warehouse, tmp_path / "warehouse.duckdb")
    resources = {"warehouse": Warehouse(path=str(warehouse), serving_path=str(tmp_path / "serving.duckdb"))}
    for _ in range(2):
        assert materialize([key_drivers], resources=resources).success
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        again = connection.execute("select * from marts.mart_key_drivers").df()
    pd.testing.assert_frame_equal(again, mart)
