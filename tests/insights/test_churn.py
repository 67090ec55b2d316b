"""Churn risk: windows that fit the data, features as of a cut-off (nothing later leaks in), the
target, the watch list and the settings on tiny hand-made data; then on the shared 45-day seeded
chain (tests/conftest.py ``chain_build``, which the pipeline built with marts.mart_churn_risk): the
model beats the recency-only baseline on held-out time, the mart holds sane values, and it finds the
generator's planted churn (detractors buy at 0.3 of their rate unless their case is worked)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from dagster import materialize

from assets.churn import churn_risk_scores, read_churn_data
from cxlake.insights.churn import (
    FEATURES,
    MART_COLUMNS,
    REASON_GROUPS,
    ChurnData,
    ChurnError,
    choose_windows,
    churn_risk,
    features_at,
    fitted_coefficients,
    load_settings,
    no_purchase_after,
    reliability_table,
    top_reasons,
    watch_list,
)
from cxlake.pipeline.resources import Warehouse

DAY0 = date(2026, 3, 2)


def day(i: int) -> date:
    return DAY0 + timedelta(days=i)


@pytest.mark.parametrize(
    ("days", "horizon", "lookback", "train", "test"),
    [
        (30, 10, 10, [9], 19),  # the 30-day demo: a third each for look-back, training and test horizon
        (45, 14, 17, [16], 30),  # the configured 14 days fit; the look-back takes what is left
        (90, 14, 28, [33, 40, 47, 54, 61], 75),  # weekly training cut-offs while a 28-day look-back fits
        (10, 3, 4, [3], 6),  # the ten-day demo still trains, on a three-day horizon
    ],
)
def test_the_windows_fit_the_days_the_data_holds(days, horizon, lookback, train, test):
    windows = choose_windows(DAY0, day(days - 1), load_settings())
    assert (windows.horizon_days, windows.lookback_days) == (horizon, lookback)
    assert windows.train_cutoffs == tuple(day(i) for i in train)
    assert windows.test_cutoff == day(test) and windows.score_cutoff == day(days - 1)
    # no training label looks past the test cut-off; every look-back starts inside the data
    assert max(windows.train_cutoffs) + timedelta(days=horizon) <= windows.test_cutoff
    assert min(windows.train_cutoffs) - timedelta(days=lookback - 1) >= DAY0


def test_too_few_days_for_the_minimum_horizon_say_how_many_are_needed():
    with pytest.raises(ChurnError, match=r"8 days of purchases .* needs 9"):
        choose_windows(DAY0, day(7), load_settings())


def tiny_data(cases: pd.DataFrame | None = None) -> ChurnData:
    """Three members over days 0-19: A buys often, turns detractor on day 8 (negative comment) and
    promoter on day 12; B buys once on day 1, has a negative review on day 4 and a case opened on
    day 4 and resolved on day 11; C signed up on day 6."""
    customers = pd.DataFrame(
        {
            "customer_id": ["A", "B", "C"],
            "store_id": ["S1", "S1", "S2"],
            "region_id": ["R1", "R1", "R1"],
            "member_tier": ["gold", "basic", "silver"],
            "signed_up_on": [day(-400), day(-30), day(6)],
        }
    )
    purchases = pd.DataFrame(
        [("A", day(i), 30.0) for i in (0, 1, 2, 4, 6, 9)]
        + [("B", day(1), 50.0)]
        + [("C", day(i), 20.0) for i in (6, 8)]
        + [("A", day(12), 30.0), ("C", day(14), 20.0)],
        columns=["customer_id", "purchased_on", "spend"],
    )
    responses = pd.DataFrame(
        {
            "customer_id": ["A", "A"],
            "responded_at": pd.to_datetime(["2026-03-10 12:00", "2026-03-14 09:00"]),  # days 8 and 12
            "nps_score": [3, 10],
            "nps_category": ["detractor", "promoter"],
            "is_negative_comment": [True, False],
        }
    )
    reviews = pd.DataFrame({"customer_id": ["B"], "posted_at": pd.to_datetime(["2026-03-06 18:00"])})
    return ChurnData(customers, purchases, responses, reviews, cases, DAY0, day(19))


def test_features_see_the_cut_off_day_and_nothing_later():
    cases = pd.DataFrame(
        {
            "customer_id": ["B"],
            "opened_at": pd.to_datetime(["2026-03-06 18:05"]),  # day 4
            "resolved_at": pd.to_datetime(["2026-03-13 10:00"]),  # day 11
        }
    )
    features = features_at(tiny_data(cases), day(9), lookback_days=10)
    assert list(features.index) == ["A", "B", "C"]
    a, b, c = (features.loc[k] for k in "ABC")
    assert a["days_since_last_purchase"] == 0 and b["days_since_last_purchase"] == 8
    assert a["purchases_per_week"] == pytest.approx(6 / 10 * 7)
    # C joined on day 6: four days of membership in the window, two purchases
    assert c["purchases_per_week"] == pytest.approx(2 / 4 * 7) and c["tenure_days"] == 3
    # A spent 60 in days 5-9 and 120 in days 0-4 (per day 12 against 24): down by half
    assert a["spend_trend"] == pytest.approx(-0.5)
    # B spent only in the earlier half: down 100%
    assert b["spend_trend"] == pytest.approx(-1.0)
    # the day-12 promoter answer is not known on day 9: the last answer is the day-8 detractor one
    assert a["last_nps_score"] == 3 and a["last_nps_is_detractor"] == 1 and a["negative_comments"] == 1
    assert np.isnan(b["last_nps_score"]) and b["negative_comments"] == 1  # the review counts
    assert b["open_cases"] == 1 and b["resolved_cases"] == 0  # resolved only on day 11
    later = features_at(tiny_data(cases), day(12), lookback_days=12)
    assert later.loc["A", "last_nps_is_promoter"] == 1 and later.loc["A", "last_nps_score"] == 10
    assert later.loc["B", ["open_cases", "resolved_cases"]].tolist() == [0, 1]
    assert set(FEATURES) <= set(features.columns)


def test_a_member_without_a_purchase_in_the_look_back_is_not_scored():
    features = features_at(tiny_data(), day(14), lookback_days=5)
    assert list(features.index) == ["A", "C"]  # B last bought on day 1


def test_churned_means_no_purchase_in_the_horizon_after_the_cut_off_day():
    data = tiny_data()
    members = pd.Index(["A", "B", "C"])
    # C buys on day 14: inside a 6-day horizon after day 8, outside a 5-day one; A buys on day 12
    assert no_purchase_after(data, day(8), 6, members).tolist() == [False, True, False]
    assert no_purchase_after(data, day(8), 5, members).tolist() == [False, True, True]
    # purchases on the cut-off day itself belong to the features
    assert no_purchase_after(data, day(12), 1, members).tolist() == [True, True, True]


def test_the_reliability_table_splits_members_into_equal_bins_by_probability():
    p = np.linspace(0.05, 0.95, 100)
    y = (np.arange(100) % 2 == 0).astype(int)
    table = reliability_table(y, p, bins=4)
    assert table["n"].tolist() == [25, 25, 25, 25]
    assert table["mean_predicted"].is_monotonic_increasing
    assert (table["p_low"] <= table["mean_predicted"]).all() and (
        table["mean_predicted"] <= table["p_high"]
    ).all()
    assert table["observed_rate"].tolist() == pytest.approx([13 / 25, 12 / 25, 13 / 25, 12 / 25])


def test_a_members_reasons_are_the_largest_contributions_above_the_floor_in_words():
    members = pd.DataFrame(
        {
            "days_since_last_purchase": [40.0, 3.0],
            "purchases_per_week": [0.2, 2.5],
            "spend_per_week": [30.0, 120.0],
            "spend_trend": [-0.5, 0.1],
            "tenure_days": [400.0, 20.0],
            "member_tier_rank": [0, 1],
            "has_nps_answer": [True, False],
            "last_nps_score": [2.0, np.nan],
            "last_nps_category": ["detractor", None],
            "negative_comments": [2, 0],
            "open_cases": [1, 0],
            "resolved_cases": [0, 0],
        }
    )
    assert list(REASON_GROUPS)[:3] == ["recency", "frequency", "spend"]
    assert list(REASON_GROUPS)[6:] == ["nps", "negative_comments", "cases"]
    contributions = np.zeros((2, len(REASON_GROUPS)))
    contributions[0, [0, 6, 8, 7]] = [0.9, 1.4, 0.5, 0.4]  # nps, recency, cases; comments cut at three
    contributions[1, [1, 2]] = [0.3, 0.05]  # only frequency clears the floor
    assert top_reasons(contributions, members, 28, 0.1) == [
        ["last NPS answer 2 (detractor)", "no purchase for 40 days", "1 unresolved case"],
        ["buys 2.5 times a week"],
    ]
    # the same reasons, in the same order, for a Chinese reader
    assert top_reasons(contributions, members, 28, 0.1, "zh") == [
        ["最近一次 NPS 评分 2（贬损者）", "40 天未消费", "1 个未解决工单"],
        ["每周消费 2.5 次"],
    ]


def test_the_watch_list_ranks_a_stores_valuable_members_at_risk_by_value_at_risk():
    settings = replace(load_settings(), watch_min_lift=1.2, watch_value_quantile=0.5, watch_max_per_store=2)
    table = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d", "e", "f", "g"],
            "store_id": ["S1"] * 5 + ["S2"] * 2,
            "churn_probability": [0.9, 0.8, 0.9, 0.1, 0.9, 0.9, 0.1],
            "expected_spend_horizon": [100.0, 300.0, 200.0, 400.0, 10.0, 50.0, 60.0],
        }
    )
    table["value_at_risk"] = table["churn_probability"] * table["expected_spend_horizon"]
    listed = watch_list(table, settings).set_index("customer_id")
    # mean probability 0.643, at risk from 0.771: a, b, c, e, f. S1's value floor is its median
    # (200): b (240 at risk) and c (180) qualify, a and e are worth too little, d is not at risk;
    # S2's floor is 55: f (50) is worth too little
    assert listed.loc[listed["is_watch_listed"]].index.tolist() == ["b", "c"]
    assert listed.loc[["b", "c"], "watch_list_rank"].tolist() == [1, 2]
    assert listed.loc[["a", "d", "e", "f", "g"], "watch_list_rank"].isna().all()
    capped = watch_list(table, replace(settings, watch_max_per_store=1)).set_index("customer_id")
    assert capped.loc[capped["is_watch_listed"]].index.tolist() == ["b"]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda s: s.replace("model: logistic", "model: forest"), "churn.model 'forest' is not one of"),
        (lambda s: s.replace("    min_lift: 1.2\n", ""), "missing key churn.watch_list.min_lift"),
        (lambda s: s.replace("horizon_days: 14", "horizon_days: fourteen"), "churn.horizon_days 'fourteen'"),
        (lambda s: s.replace("lookback_days: 28", "lookback_days: 7"), "lookback_days < horizon_days"),
    ],
)
def test_settings_errors_name_the_file_and_the_key(tmp_path, edit, message):
    text = (Path(__file__).parents[2] / "cxlake" / "config" / "insights.yaml").read_text("utf-8")
    config = tmp_path / "insights.yaml"
    config.write_text(edit(text), "utf-8")
    with pytest.raises(ChurnError, match=message) as raised:
        load_settings(config)
    assert str(config) in str(raised.value)


# --- on the shared 45-day chain ---------------------------------------------------------------


@pytest.fixture(scope="module")
def chain_data(chain_build):
    assert chain_build.success
    settings = load_settings()
    with duckdb.connect(str(chain_build.serving), read_only=True) as connection:
        data = read_churn_data(connection, settings)
        mart = connection.execute("select * from marts.mart_churn_risk").df()
        latest_answer = connection.execute(
            """
            select transactions.customer_id, responses.response_key
            from marts.fct_survey_responses as responses
            inner join marts.fct_transactions as transactions using (transaction_id)
            where transactions.customer_id is not null
            qualify row_number() over (
                partition by transactions.customer_id order by responses.responded_at desc) = 1
            """
        ).df()
    truth = json.loads((chain_build.landing / "truth.json").read_text("utf-8"))
    return data, mart, latest_answer, truth


@pytest.fixture(scope="module")
def result(chain_data):
    return churn_risk(chain_data[0], load_settings())


@pytest.mark.slow
def test_the_model_beats_recency_on_a_later_period_than_it_learnt_from(result):
    evaluation = result.evaluation
    assert evaluation.windows.horizon_days == 14 and evaluation.windows.lookback_days == 17
    assert max(evaluation.windows.train_cutoffs) < evaluation.windows.test_cutoff
    assert 0.2 < evaluation.test_churn_rate < 0.8  # a horizon the members can churn in, not a formality
    assert evaluation.auc > evaluation.baseline_auc + 0.02
    assert evaluation.brier < evaluation.baseline_brier
    # calibrated on a later period: each tenth of the members is predicted within 0.08 of what it did
    gap = (evaluation.reliability["mean_predicted"] - evaluation.reliability["observed_rate"]).abs()
    assert gap.max() < 0.08


@pytest.mark.slow
def test_the_published_mart_holds_one_sane_row_per_active_member(chain_data, result):
    data, mart, _, _ = chain_data
    assert tuple(mart.columns) == MART_COLUMNS
    assert mart["customer_id"].is_unique and len(mart) > 1000
    assert mart["churn_probability"].between(0, 1).all()
    assert (mart["as_of_date"].astype(str) == data.last_day.isoformat()).all()
    assert (mart["value_at_risk"] <= mart["expected_spend_horizon"] + 1e-9).all()
    assert mart["days_since_last_purchase"].between(0, 16).all()  # bought within the 17-day look-back
    stores = data.customers.set_index("customer_id").loc[mart["customer_id"], "store_id"]
    assert (stores.to_numpy() == mart["store_id"].to_numpy()).all()  # the member's home store
    # the asset wrote what the model computes (the fit is deterministic)
    published = mart.set_index("customer_id")["churn_probability"]
    computed = result.mart.set_index("customer_id")["churn_probability"].reindex(published.index)
    assert published.to_numpy() == pytest.approx(computed.to_numpy())


@pytest.mark.slow
def test_each_stores_watch_list_is_ranked_by_value_at_risk_and_says_why(chain_data):
    mart = chain_data[1]
    listed = mart[mart["is_watch_listed"]]
    assert len(listed) > 0 and listed["watch_list_rank"].notna().all()
    assert mart.loc[~mart["is_watch_listed"], "watch_list_rank"].isna().all()
    for _, store in listed.groupby("store_id"):
        ordered = store.sort_values("watch_list_rank")
        assert ordered["watch_list_rank"].tolist() == list(range(1, len(store) + 1))
        assert ordered["value_at_risk"].is_monotonic_decreasing
    assert listed["churn_probability"].min() >= 1.2 * mart["churn_probability"].mean()
    assert listed["reason_1"].notna().all()
    # each English reason has its Chinese one, and only then
    for k in (1, 2, 3):
        assert (mart[f"reason_{k}"].isna() == mart[f"reason_{k}_zh"].isna()).all()
    assert listed["reason_1_zh"].str.contains(r"[\u4e00-\u9fff]").all()


@pytest.mark.slow
def test_the_planted_churn_after_bad_experiences_is_found(chain_data, result):
    data, mart, latest_answer, truth = chain_data
    risk = mart.groupby("last_nps_category")["churn_probability"].mean()
    assert risk["detractor"] > risk["promoter"] + 0.05
    assert risk["detractor"] > risk["passive"]
    # the fitted model raises the risk for a detractor's last answer
    assert fitted_coefficients(data, load_settings())["last_nps_is_detractor"] > 0
    # ... and says so: the answer is among nearly every detractor's reasons (beside how rarely they
    # buy, which is where the planted churn shows)
    reasons = mart.loc[mart["last_nps_category"] == "detractor", ["reason_1", "reason_2", "reason_3"]]
    named = reasons.apply(lambda r: r.fillna("").str.contains("(detractor)", regex=False)).any(axis=1)
    assert named.mean() > 0.9
    # members whose detractor case the store did not work churn (planted factor 0.3), the others
    # recover (0.9); the model sees no case work (the build's cases stay open), only what they bought
    worked = pd.DataFrame(truth["case_work"])[["response_key", "worked"]]
    cased = mart.merge(latest_answer.merge(worked, on="response_key"), on="customer_id")
    by_work = cased.groupby("worked")["churn_probability"].mean()
    assert by_work[False] > by_work[True]


@pytest.mark.slow
def test_the_asset_rematerializes_to_the_same_table(copy_chain, tmp_path, chain_data):
    warehouse = copy_chain(tmp_path / "home")
    resources = {"warehouse": Warehouse(path=str(warehouse), serving_path=str(tmp_path / "serving.duckdb"))}
    assert materialize([churn_risk_scores], resources=resources).success
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        again = connection.execute("select * from marts.mart_churn_risk order by customer_id").df()
    pd.testing.assert_frame_equal(again, chain_data[1].sort_values("customer_id", ignore_index=True))
