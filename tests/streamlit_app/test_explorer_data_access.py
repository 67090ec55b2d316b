"""The data-access module on the fixture serving copy: counts, scope, filters, injection, freshness."""

from __future__ import annotations

import os
import shutil
from datetime import date

import duckdb
import pytest

from cxlake.metrics import nps_from_counts
from streamlit_app import data_access
from streamlit_app.data_access import Filters, Scope

EVERYTHING = Scope.everything()
NO_FILTERS = Filters()


def test_nps_summary_matches_the_hand_count(serving_home):
    summary = data_access.nps_summary(EVERYTHING, NO_FILTERS)
    assert (summary.n, summary.promoters, summary.detractors) == (40, 17, 12)
    assert summary.nps == pytest.approx(12.5)
    assert summary == nps_from_counts(17, 11, 12)


def test_non_countable_responses_are_excluded(serving_home):
    # S001 has three non-countable 10s; counted, S001 would show 13 promoters out of 23.
    summary = data_access.nps_summary(EVERYTHING, Filters(store_ids=("S001",)))
    assert (summary.n, summary.promoters, summary.detractors) == (20, 10, 6)
    assert summary.nps == pytest.approx(20.0)
    distribution = data_access.score_distribution(EVERYTHING, Filters(store_ids=("S001",)))
    assert distribution.set_index("score")["responses"].to_dict() == {
        0: 2, 1: 0, 2: 0, 3: 0, 4: 0, 5: 2, 6: 2, 7: 2, 8: 2, 9: 4, 10: 6,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("scope", "filters", "expected_n"),
    [
        (Scope("region", ("R02",)), NO_FILTERS, 8),  # only S003 is in R02
        (Scope("region", ("R01",)), NO_FILTERS, 32),
        (Scope("store", ("S002",)), NO_FILTERS, 12),  # the S002 answer without an NPS is not counted
        (EVERYTHING, Filters(store_ids=("S001",)), 20),
        (EVERYTHING, Filters(region_ids=("R01",), channels=("app",)), 12),
        (EVERYTHING, Filters(date_from=date(2026, 1, 12), date_to=date(2026, 1, 14)), 10),
        (Scope("region", ("R02",)), Filters(store_ids=("S001",)), 0),  # a filter cannot widen the scope
        (Scope("store", ()), NO_FILTERS, 0),  # an empty store scope sees nothing, not everything
    ],
    ids=[
        "region-R02",
        "region-R01",
        "store-S002",
        "filter-S001",
        "region+channel",
        "dates",
        "scope-wins",
        "empty-scope",
    ],
)
def test_scope_and_filters_limit_the_rows(serving_home, scope, filters, expected_n):
    assert data_access.nps_summary(scope, filters).n == expected_n


def test_a_region_scope_offers_only_its_own_stores_and_dates(serving_home):
    options = data_access.filter_options(Scope("region", ("R02",)))
    assert options.regions == {"R02": "华南"}
    assert options.stores == {"S003": "福田店"}
    assert options.channels == ("delivery",)
    assert (options.date_min, options.date_max) == (date(2026, 1, 5), date(2026, 1, 12))


@pytest.mark.parametrize(
    ("scope", "filters"),
    [
        (EVERYTHING, Filters(store_ids=("S001' OR 1=1 --",))),
        (EVERYTHING, Filters(channels=("app') or true or ('",))),
        (Scope("store", ("S001' OR 1=1 --",)), NO_FILTERS),
    ],
    ids=["store-filter", "channel-filter", "scope-id"],
)
def test_a_crafted_value_is_data_not_sql(serving_home, scope, filters):
    assert data_access.nps_summary(scope, filters).n == 0
    assert data_access.score_distribution(scope, filters)["responses"].sum() == 0
    assert data_access.csat_by_touchpoint(scope, filters)["n"].sum() == 0


def test_every_question_requires_a_scope(serving_home):
    with pytest.raises(TypeError):
        data_access.nps_summary("all", NO_FILTERS)
    with pytest.raises(ValueError):
        Scope("everyone")


def test_nps_trend_rolls_up_counts_per_week(serving_home):
    trend = data_access.nps_trend(EVERYTHING, NO_FILTERS, "week")
    assert [d.isoformat() for d in trend["period"].dt.date] == ["2026-01-05", "2026-01-12"]
    assert trend[["promoters", "passives", "detractors", "n"]].values.tolist() == [
        [16, 9, 5, 30],
        [1, 2, 7, 10],
    ]
    first_week = nps_from_counts(16, 9, 5)
    assert trend.loc[0, "nps"] == pytest.approx(first_week.nps)
    assert (trend.loc[0, "ci_low"], trend.loc[0, "ci_high"]) == pytest.approx(
        (first_week.ci_low, first_week.ci_high)
    )
    with pytest.raises(ValueError):
        data_access.nps_trend(EVERYTHING, NO_FILTERS, "week'; drop table x; --")


def test_csat_by_touchpoint_in_journey_order(serving_home):
    csat = data_access.csat_by_touchpoint(EVERYTHING, NO_FILTERS)
    assert csat["touchpoint_id"].tolist() == ["app", "value", "speed", "staff"]
    assert csat["touchpoint_name_zh"].tolist() == ["小程序/App", "性价比", "出餐速度", "店员服务"]
    assert csat["n"].tolist() == [2, 1, 4, 3]  # the non-countable 5 for value is left out
    assert csat["top2_share"].tolist() == pytest.approx([0.5, 0.0, 0.5, 1.0])
    assert csat["mean_csat"].tolist() == pytest.approx([3.0, 1.0, 3.5, 14 / 3])


def test_a_touchpoint_without_ratings_keeps_its_row(serving_home):
    csat = data_access.csat_by_touchpoint(Scope("store", ("S003",)), NO_FILTERS)
    assert csat.set_index("touchpoint_id")["n"].to_dict() == {"app": 0, "value": 1, "speed": 0, "staff": 0}
    assert csat.set_index("touchpoint_id")["top2_share"].isna().to_dict() == {
        "app": True, "value": False, "speed": True, "staff": True,
    }  # fmt: skip


def test_a_republished_copy_is_read_after_the_rename(serving_home):
    data_access.forget_answers_of_a_replaced_copy()  # what every page run does first
    assert data_access.filter_options(EVERYTHING).stores.keys() == {"S001", "S002", "S003"}
    data_access.forget_answers_of_a_replaced_copy()  # the same copy: the cached answer stays
    assert data_access.filter_options(EVERYTHING).stores.keys() == {"S001", "S002", "S003"}
    # The pipeline publishes by copying to a temp name and renaming it over the old copy.
    staged = serving_home / "serving.duckdb.tmp"
    shutil.copyfile(serving_home / "serving.duckdb", staged)
    with duckdb.connect(str(staged)) as connection:
        connection.execute("delete from marts.dim_store where store_id = 'S003'")
    os.replace(staged, serving_home / "serving.duckdb")
    assert data_access.filter_options(EVERYTHING).stores.keys() == {"S001", "S002", "S003"}  # cached
    data_access.forget_answers_of_a_replaced_copy()  # the next page run sees the new copy
    assert data_access.filter_options(EVERYTHING).stores.keys() == {"S001", "S002"}


def test_a_missing_serving_copy_is_reported(missing_serving_home):
    assert not data_access.serving_copy_exists()
    with pytest.raises(data_access.ServingCopyMissing):
        data_access.nps_summary(EVERYTHING, NO_FILTERS)
