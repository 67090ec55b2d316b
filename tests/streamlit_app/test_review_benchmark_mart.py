"""The Voice page's benchmark sums marts.mart_competitor_benchmark (posted day x platform x city x
store x brand x aspect): under every filter its figures must be those of the review rows themselves,
counted here in pandas from marts.fct_reviews and marts.fct_review_aspects (the conftest's REVIEWS)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from streamlit_app import data_access
from streamlit_app.data_access import Filters, Scope

ALL = Scope.everything()


def _from_the_reviews(home: Path, scope: Scope, filters: Filters) -> dict[tuple[str, str], tuple]:
    """(brand, aspect) -> (reviews, mean stars, positive share, negative share) of the reviews the
    scope and filters keep: ours of the stores picked, competitors in those stores' cities."""
    with duckdb.connect(str(home / "serving.duckdb"), read_only=True) as connection:
        reviews = connection.execute("select * from marts.fct_reviews").df()
        aspects = connection.execute(
            "select review_key, touchpoint_id, aspect_sentiment from marts.fct_review_aspects"
        ).df()
        stores = connection.execute("select store_id, region_id, city from marts.dim_store").df()
    visible = stores[stores["store_id"].isin(scope.ids) | stores["region_id"].isin(scope.ids)]
    if scope.kind != "all":
        reviews = reviews[
            (~reviews["is_competitor"] & reviews["store_id"].isin(visible["store_id"]))
            | (reviews["is_competitor"] & reviews["city"].isin(visible["city"]))
        ]
    picked = stores
    if filters.region_ids:
        picked = picked[picked["region_id"].isin(filters.region_ids)]
    if filters.store_ids:
        picked = picked[picked["store_id"].isin(filters.store_ids)]
    if filters.region_ids or filters.store_ids:
        reviews = reviews[
            (~reviews["is_competitor"] & reviews["store_id"].isin(picked["store_id"]))
            | (reviews["is_competitor"] & reviews["city"].isin(picked["city"]))
        ]
    day = reviews["posted_date"].dt.date
    reviews = reviews[(day >= (filters.date_from or date.min)) & (day <= (filters.date_to or date.max))]
    overall = reviews.assign(aspect="overall", sentiment=reviews["sentiment_label"])
    named = reviews.merge(aspects, on="review_key").rename(columns={"touchpoint_id": "aspect"})
    mentions = pd.concat([overall, named.assign(sentiment=named["aspect_sentiment"])])
    return {
        (brand, aspect): (
            len(group),
            group["rating"].mean(),
            (group["sentiment"] == "positive").mean(),
            (group["sentiment"] == "negative").mean(),
        )
        for (brand, aspect), group in mentions.groupby(["brand", "aspect"])
    }


@pytest.mark.parametrize(
    ("scope", "filters"),
    [
        (ALL, Filters()),
        (ALL, Filters(date_from=date(2026, 1, 6), date_to=date(2026, 1, 9))),
        (ALL, Filters(region_ids=("R02",))),
        (ALL, Filters(store_ids=("S002",), date_to=date(2026, 1, 10))),
        (Scope("store", ("S001",)), Filters(date_from=date(2026, 1, 7))),
        (Scope("region", ("R01",)), Filters()),
    ],
    ids=["all", "four-days", "region-R02", "store-S002-until-10th", "store-scope-S001", "region-scope-R01"],
)
def test_the_benchmark_summed_from_the_mart_equals_the_review_rows(reviews_home, scope, filters):
    bench = data_access.review_benchmark(scope, filters)
    got = {
        (row.brand, row.aspect): (row.count_reviews, row.avg_rating, row.positive_share, row.negative_share)
        for row in bench.itertuples()
    }
    expected = _from_the_reviews(reviews_home, scope, filters)
    assert got.keys() == expected.keys() and len(got) >= 3
    for key, (n, rating, positive, negative) in expected.items():
        assert got[key] == (n, pytest.approx(rating), pytest.approx(positive), pytest.approx(negative)), key


def test_a_serving_copy_whose_benchmark_has_no_day_shows_no_benchmark(reviews_home):
    """A copy published before the mart had its day and store grain: the page gets no rows rather
    than figures the filters could not narrow."""
    with duckdb.connect(str(reviews_home / "serving.duckdb")) as connection:
        connection.execute(
            "create or replace view marts.mart_competitor_benchmark as"
            " select platform, city, brand, count(*) as count_reviews from marts.fct_reviews group by all"
        )
    bench = data_access.review_benchmark(ALL, Filters())
    assert bench.empty and "positive_share" in bench.columns
