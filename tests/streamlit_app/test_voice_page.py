"""The Voice of customer page: review counts from the hand-made reviews of the conftest
(``reviews_home``), our reviews in the user's scope, competitors only in the scope's cities.

Our reviews R01-R04 are S001's (上海), R05-R07 S002's (上海), R08-R10 S003's (深圳); competitor
reviews C1, C2 are 港湾咖啡 in 上海, C3 港湾咖啡 in 深圳, C4, C5 山野茶铺 in 深圳.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from cxlake.access.roles import Scope
from cxlake.text.keywords import PeriodCounts, textrank_keywords
from streamlit_app import charts, data_access
from streamlit_app.data_access import Filters

PAGE = Path(__file__).resolve().parents[2] / "streamlit_app" / "views" / "voice.py"
ALL = Scope.everything()
STORE_S001 = Scope("store", ("S001",))
REGION_R02 = Scope("region", ("R02",))
CLOUD_LABELS = {"cloud_tooltip": "{keyword}: {count}, {share:.0%}"}


def keys(frame: pd.DataFrame) -> list[str]:
    return frame["review_key"].tolist()


def keyword_counts(frame: pd.DataFrame) -> dict[str, tuple[int, int]]:
    return {
        keyword: (int(count), int(negative))
        for keyword, count, negative in zip(
            frame["keyword"], frame["count_reviews"], frame["count_negative"], strict=True
        )
    }


# --- Scope: our reviews by store, competitors by the scope's cities ------------------------------


def test_keyword_counts_equal_the_hand_counts(reviews_home):
    keywords = data_access.review_keywords(ALL, Filters())

    # Reviews naming the keyword (and the negative ones among them); competitors' keywords stay out.
    assert keyword_counts(keywords) == {
        "慢": (5, 5), "好喝": (4, 1), "贵": (3, 3), "店员": (3, 2), "排队": (2, 2), "冷漠": (2, 2),
        "小程序": (2, 1), "<script>": (1, 1), "不好喝": (1, 1), "便宜": (1, 0), "外卖": (1, 1),
        "方便": (1, 0), "热情": (1, 0), "闪退": (1, 1),
    }  # fmt: skip
    assert keywords["keyword"].tolist()[:2] == ["慢", "好喝"]  # most reviews first
    assert keywords["negative_share"].tolist()[:2] == pytest.approx([1.0, 0.25])


def test_the_cloud_keeps_the_top_keywords_only(reviews_home):
    keywords = data_access.review_keywords(ALL, Filters(), limit=3)

    assert keywords["keyword"].tolist() == ["慢", "好喝", "店员"]  # 店员 and 贵 tie at 3: by keyword


def test_a_store_manager_sees_only_their_stores_reviews(reviews_home):
    assert keyword_counts(data_access.review_keywords(STORE_S001, Filters())) == {
        "慢": (3, 3), "好喝": (2, 1), "店员": (2, 1), "排队": (2, 2), "<script>": (1, 1), "冷漠": (1, 1),
        "热情": (1, 0), "贵": (1, 1),
    }  # fmt: skip
    assert keys(data_access.review_texts(STORE_S001, Filters())) == ["R04", "R03", "R02", "R01"]
    assert data_access.rating_disagreement(STORE_S001, Filters()) == (1, 4, 4)


@pytest.mark.parametrize(
    ("scope", "filters", "expected"),
    [
        # "all" sees every competitor, wherever it is.
        (ALL, Filters(), {"港湾咖啡": ["C2", "C3", "C1"], "山野茶铺": ["C5", "C4"]}),
        # S001 is in 上海: only the 上海 shops of 港湾咖啡; 山野茶铺 has none there.
        (STORE_S001, Filters(), {"港湾咖啡": ["C2", "C1"], "山野茶铺": []}),
        # R02's one store is in 深圳.
        (REGION_R02, Filters(), {"港湾咖啡": ["C3"], "山野茶铺": ["C5", "C4"]}),
        # A store filter narrows the competitors to that store's city, even in the "all" scope.
        (ALL, Filters(store_ids=("S001",)), {"港湾咖啡": ["C2", "C1"], "山野茶铺": []}),
        # A store scope without ids sees no competitor either (fails closed).
        (Scope("store", ()), Filters(), {"港湾咖啡": [], "山野茶铺": []}),
    ],
    ids=["all", "store-S001", "region-R02", "all-filtered-to-S001", "empty-store-scope"],
)
def test_competitors_are_seen_only_in_the_scopes_cities(reviews_home, scope, filters, expected):
    seen = {brand: keys(data_access.review_texts(scope, filters, brand=brand)) for brand in expected}

    assert seen == expected


def test_an_empty_store_scope_sees_no_review(reviews_home):
    scope = Scope("store", ())

    assert data_access.rating_disagreement(scope, Filters()) == (0, 0, 0)
    assert data_access.review_benchmark(scope, Filters()).empty
    assert data_access.review_keywords(scope, Filters()).empty


def test_the_date_range_applies_to_the_posting_day(reviews_home):
    filters = Filters(date_from=date(2026, 1, 12), date_to=date(2026, 1, 13))

    assert keys(data_access.review_texts(ALL, filters)) == ["R07", "R04"]
    assert data_access.rating_disagreement(ALL, filters) == (0, 2, 2)


# --- Central words: TextRank of the newest reviews, from the counts stored per review ------------


@pytest.mark.parametrize(
    ("scope", "filters", "newest"),
    [
        (ALL, Filters(), 200),
        (ALL, Filters(), 3),  # only the three newest reviews' texts
        (STORE_S001, Filters(), 200),
        (ALL, Filters(region_ids=("R02",), date_from=date(2026, 1, 6)), 200),
    ],
)
def test_central_words_are_textrank_over_the_newest_reviews_texts(reviews_home, scope, filters, newest):
    # the page sums what the pipeline counted per review; TextRank over the texts finds the same
    texts = data_access.review_texts(scope, filters, limit=newest, sees_pii=True)["content"].tolist()
    central = data_access.review_central_words(scope, filters, 8, newest)
    assert central == textrank_keywords(texts, 8)
    assert central  # the fixture's reviews do link words


def test_central_words_are_none_from_a_copy_published_before_their_mart(reviews_home):
    with duckdb.connect(str(reviews_home / "serving.duckdb")) as connection:
        connection.execute("drop table marts.fct_review_cooccurrences")
    assert data_access.review_central_words(ALL, Filters()) == []


# --- Trending keywords: this period against the one before -------------------------------------


def test_keyword_counts_of_a_period_equal_the_hand_counts(reviews_home):
    # 9-13 Jan: R04 贵 慢 <script>, R06 小程序 闪退 贵, R07 贵 不好喝, R09 便宜 好喝, R10 店员 冷漠 慢
    filters = Filters(date_from=date(2026, 1, 9), date_to=date(2026, 1, 13))

    assert data_access.review_keyword_counts(ALL, filters) == PeriodCounts(5, {
        "<script>": 1, "不好喝": 1, "便宜": 1, "冷漠": 1, "好喝": 1, "小程序": 1, "店员": 1, "慢": 2,
        "贵": 3, "闪退": 1,
    })  # fmt: skip
    # S001's reviews in those days: R04 only; competitors' keywords never count
    assert data_access.review_keyword_counts(STORE_S001, filters) == PeriodCounts(
        1, {"<script>": 1, "慢": 1, "贵": 1}
    )
    assert data_access.review_keyword_counts(Scope("store", ()), filters) == PeriodCounts(0, {})


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        # five days back to back: 4-8 Jan before 9-13 Jan
        (
            Filters(date_from=date(2026, 1, 9), date_to=date(2026, 1, 13), store_ids=("S001",)),
            Filters(date_from=date(2026, 1, 4), date_to=date(2026, 1, 8), store_ids=("S001",)),
        ),
        # one day: the day before
        (Filters(date(2026, 1, 5), date(2026, 1, 5)), Filters(date(2026, 1, 4), date(2026, 1, 4))),
        # a half-picked range has no length to compare
        (Filters(date_from=date(2026, 1, 9)), None),
    ],
    ids=["five-days", "one-day", "open-range"],
)
def test_the_previous_period_has_the_same_length_and_filters(filters, expected):
    assert data_access.previous_period(filters) == expected


@pytest.mark.parametrize(
    ("scope", "filters", "expected"),
    [
        # the days just before have reviews (R03 on 7 Jan, R05 on 8 Jan): those days
        (ALL, Filters(date(2026, 1, 9), date(2026, 1, 13)), Filters(date(2026, 1, 4), date(2026, 1, 8))),
        # S003 has no review on 8-9 Jan; its last one before is R08 on 6 Jan: 5-6 Jan
        (
            Scope("store", ("S003",)),
            Filters(date(2026, 1, 10), date(2026, 1, 11)),
            Filters(date(2026, 1, 5), date(2026, 1, 6)),
        ),
        # the same through a store filter of the "all" scope
        (
            ALL,
            Filters(date(2026, 1, 10), date(2026, 1, 11), store_ids=("S003",)),
            Filters(date(2026, 1, 5), date(2026, 1, 6), store_ids=("S003",)),
        ),
        # R01 on 5 Jan is our first review (C1 of a competitor never counts): nothing before
        (ALL, Filters(date(2026, 1, 5), date(2026, 1, 6)), None),
        (Scope("store", ()), Filters(date(2026, 1, 9), date(2026, 1, 13)), None),
        (ALL, Filters(date_from=date(2026, 1, 9)), None),
    ],
    ids=["adjacent", "store-gap", "store-filter-gap", "first-days", "empty-scope", "open-range"],
)
def test_a_trend_compares_with_the_last_period_that_has_reviews(reviews_home, scope, filters, expected):
    assert data_access.comparison_period(scope, filters) == expected


# Two weeks of S001 reviews a week apart, for trends big enough to be told from chance: 30 reviews on
# 2-8 Feb, none on 9-15 Feb, 30 on 16-22 Feb. 咖啡 is in 20 then 21 (a generic word of a coffee
# chain), 好喝 in 10 then 10, 排队 in 1 then 14, 闪退 in 0 then 2 (below the minimum count).
TRENDING_WEEKS = {
    date(2026, 2, 2): {"咖啡": 20, "好喝": 10, "排队": 1},
    date(2026, 2, 16): {"咖啡": 21, "好喝": 10, "排队": 14, "闪退": 2},
}


@pytest.fixture
def trending_home(reviews_home: Path) -> Path:
    rows = []
    for monday, counts in TRENDING_WEEKS.items():
        for index in range(30):
            posted = datetime(monday.year, monday.month, monday.day + index % 7, 12, tzinfo=UTC)
            keywords = " ".join(word for word, count in counts.items() if index < count)
            key = f"T{monday:%m%d}-{index:02d}"
            rows.append(
                (key, "dianping", key, "S001", "栖云咖啡(上海店)", "栖云咖啡", False, "S001", "R01", "上海",
                 None, posted, posted.date(), 4, f"评论：{keywords}", 0.8, "positive", "", keywords, False,
                 "test-1", posted.date())
            )  # fmt: skip
    with duckdb.connect(str(reviews_home / "serving.duckdb")) as connection:
        connection.executemany(f"insert into marts.fct_reviews values ({', '.join(['?'] * 22)})", rows)
    return reviews_home


def trending_table(at: AppTest) -> pd.DataFrame:
    return next(table.value for table in at.dataframe if "Lift" in table.value.columns)


def page_of_days(sign_in_as, first: str, last: str) -> AppTest:
    at = sign_in_as(AppTest.from_file(str(PAGE), default_timeout=30), "cx_director")
    at.query_params["from"], at.query_params["to"] = first, last
    return at.run()


def trending_downloads(at: AppTest) -> list[str]:
    """The labels of the trending table's download buttons (their keys name the file)."""
    return [button.proto.label for button in at.get("download_button") if "trending" in button.proto.id]


def test_the_page_shows_the_keywords_on_the_rise_against_the_last_week_with_reviews(
    trending_home, sign_in_as
):
    at = page_of_days(sign_in_as, "2026-02-16", "2026-02-22")
    # the week before (9-15 Feb) has no review: the trend compares with 2-8 Feb, not with nothing
    quiet = page_of_days(sign_in_as, "2026-01-05", "2026-01-06")  # nothing before: no table

    assert not at.exception and not quiet.exception
    rising = trending_table(at)
    # only 排队 rose beyond chance; 咖啡 and 好喝 are as common as before; 闪退 is under the minimum
    assert rising[["Keyword", "Reviews this period", "Reviews previous period"]].values.tolist() == [
        ["排队", 14, 1]
    ]
    shares = ["Share this period (%)", "Share previous period (%)"]
    assert rising.loc[0, shares].tolist() == [round(100 * 14 / 30, 1), round(100 * 1 / 30, 1)]
    assert rising.loc[0, "Lift"] == round((14.5 / 31) / (1.5 / 31), 2)
    assert rising.loc[0, "p (adjusted)"] < 0.001
    captions = [caption.value for caption in at.caption]
    assert any(
        "Keywords of 2026-02-16 – 2026-02-22 (30 reviews) against 2026-02-02 – 2026-02-08 (30 reviews), "
        "the last 7 days with reviews before" in caption
        for caption in captions
    )
    assert trending_downloads(at) == ["Download CSV", "Download Excel"]
    assert trending_downloads(quiet) == []


def test_a_rise_on_a_handful_of_reviews_is_not_called_a_trend(reviews_home, sign_in_as):
    # 9-13 Jan: 贵 in 3 of 5 reviews, in none of the 5 on 4-8 Jan; Fisher's p = 1/12, chance enough
    at = page_of_days(sign_in_as, "2026-01-09", "2026-01-13")

    assert not at.exception
    assert not [table for table in at.dataframe if "lift" in table.value.columns]
    assert "No keyword is on the rise in this period." in [info.value for info in at.info]


def test_the_whole_period_has_nothing_to_compare_with(trending_home, sign_in_as):
    # regression: the period before the data's first day has no reviews, so every keyword was
    # "lifted" from zero and the most frequent one (咖啡 on real data) topped the list
    at = page_of_days(sign_in_as, "2026-01-05", "2026-02-22")  # from the first day with data
    zh = page_of_days(sign_in_as, "2026-01-05", "2026-02-22").selectbox(key="lang").select("zh").run()

    assert not at.exception and not zh.exception
    assert not [table for table in at.dataframe if "lift" in table.value.columns]
    infos = [info.value for info in at.info]
    assert any(
        info.startswith("Nothing to compare with: none of our reviews in this selection") for info in infos
    )
    assert "没有可比较的数据：当前筛选下没有早于 2026-01-05 的本品牌评论。" in " ".join(
        info.value for info in zh.info
    )


# --- Sentiment, complaints and the benchmark ------------------------------------------------------


def test_sentiment_by_platform_and_weekly_negative_share(reviews_home):
    by_platform = data_access.review_sentiment_by_platform(ALL, Filters())
    trend = data_access.review_sentiment_trend(ALL, Filters())

    assert by_platform.values.tolist() == [
        ["dianping", "negative", 2],
        ["dianping", "positive", 2],
        ["meituan", "negative", 4],
        ["meituan", "positive", 1],
        ["xiaohongshu", "negative", 1],
    ]
    # Week of 5 Jan: 8 of ours (5 negative), 5 competitors' (C2, C4 negative); week of 12 Jan: R04, R07.
    assert trend[["week_start", "is_competitor", "count_reviews", "count_negative"]].values.tolist() == [
        [date(2026, 1, 5), False, 8, 5],
        [date(2026, 1, 5), True, 5, 2],
        [date(2026, 1, 12), False, 2, 2],
    ]
    assert trend["negative_share"].tolist() == pytest.approx([0.625, 0.4, 1.0])


def test_the_date_picker_reaches_the_newest_review_not_only_the_newest_survey(reviews_home):
    # the last survey response of the fixture is on 14 January; a review of S003 comes later
    with duckdb.connect(str(reviews_home / "serving.duckdb")) as connection:
        connection.execute(
            "insert into marts.fct_reviews by name select * replace ("
            " 'R11' as review_key, timestamptz '2026-02-01 12:00:00+08' as posted_at,"
            " date '2026-02-01' as posted_date) from marts.fct_reviews where review_key = 'R10'"
        )
    data_access.filter_options.clear()
    assert data_access.filter_options(REGION_R02).date_max == date(2026, 2, 1)
    assert data_access.filter_options(STORE_S001).date_max < date(2026, 2, 1)  # not their review


def test_rating_disagreement_counts_our_reviews_only_and_leaves_three_stars_out(reviews_home):
    # R03: 4 stars, negative text; R08's 3 stars neither agree nor disagree
    assert data_access.rating_disagreement(ALL, Filters()) == (1, 9, 10)


def test_top_negative_keywords_per_touchpoint_in_journey_order(reviews_home):
    complaints = data_access.negative_keywords_by_touchpoint(ALL, Filters())

    top = {
        touchpoint: list(zip(group["keyword"], group["count_reviews"], strict=True))
        for touchpoint, group in complaints.groupby("touchpoint_id", sort=False)
    }
    # Journey order app, value, speed, staff; ties by keyword; value's sixth keyword (闪退) is cut.
    assert list(top) == ["app", "value", "speed", "staff"]
    assert top == {
        "app": [("小程序", 1), ("贵", 1), ("闪退", 1)],  # R06
        "value": [("贵", 3), ("<script>", 1), ("不好喝", 1), ("小程序", 1), ("慢", 1)],  # R04, R06, R07
        "speed": [("慢", 4), ("排队", 2), ("<script>", 1), ("冷漠", 1), ("外卖", 1)],  # R02-R04, R08
        "staff": [("冷漠", 2), ("店员", 2), ("慢", 2), ("排队", 1)],  # R02, R10; R01 was praise
    }
    assert complaints.loc[complaints["touchpoint_id"] == "staff", "touchpoint_name_zh"].iloc[0] == "店员服务"


def test_a_store_managers_complaints_come_from_their_reviews_only(reviews_home):
    complaints = data_access.negative_keywords_by_touchpoint(STORE_S001, Filters())

    staff = complaints[complaints["touchpoint_id"] == "staff"]
    assert list(zip(staff["keyword"], staff["count_reviews"], strict=True)) == [
        ("冷漠", 1),
        ("店员", 1),
        ("慢", 1),
        ("排队", 1),
    ]  # fmt: skip  R02 only; R10 is S003's
    assert "app" not in set(complaints["touchpoint_id"])  # R06 is S002's


def benchmark_rows(scope: Scope, aspect: str) -> dict[str, tuple[int, float, float, float]]:
    bench = data_access.review_benchmark(scope, Filters())
    rows = bench[bench["aspect"] == aspect]
    return {
        row.brand: (row.count_reviews, row.avg_rating, row.positive_share, row.negative_share)
        for row in rows.itertuples()
    }


def test_benchmark_shares_equal_the_hand_counts(reviews_home):
    assert benchmark_rows(ALL, "overall") == {
        "栖云咖啡": (10, pytest.approx(2.9), pytest.approx(0.3), pytest.approx(0.7)),
        "港湾咖啡": (3, pytest.approx(11 / 3), pytest.approx(2 / 3), pytest.approx(1 / 3)),
        "山野茶铺": (2, pytest.approx(3.0), pytest.approx(0.5), pytest.approx(0.5)),
    }
    # Per touchpoint from the aspect's sentiment: our staff R01+, R02-, R10-; 山野 C4-, C5+.
    assert benchmark_rows(ALL, "staff") == {
        "栖云咖啡": (3, pytest.approx(8 / 3), pytest.approx(1 / 3), pytest.approx(2 / 3)),
        "港湾咖啡": (1, pytest.approx(5.0), pytest.approx(1.0), pytest.approx(0.0)),
        "山野茶铺": (2, pytest.approx(3.0), pytest.approx(0.5), pytest.approx(0.5)),
    }


def test_benchmark_of_a_store_is_its_reviews_against_competitors_in_its_city(reviews_home):
    bench = data_access.review_benchmark(STORE_S001, Filters())

    assert benchmark_rows(STORE_S001, "overall") == {
        "栖云咖啡": (4, pytest.approx(3.0), pytest.approx(0.25), pytest.approx(0.75)),
        "港湾咖啡": (2, pytest.approx(3.5), pytest.approx(0.5), pytest.approx(0.5)),
    }
    # 'overall' first, then touchpoints in journey order, ours before competitors.
    assert list(zip(bench["aspect"], bench["brand"], strict=True)) == [
        ("overall", "栖云咖啡"), ("overall", "港湾咖啡"), ("value", "栖云咖啡"), ("speed", "栖云咖啡"),
        ("speed", "港湾咖啡"), ("staff", "栖云咖啡"), ("staff", "港湾咖啡"),
    ]  # fmt: skip


# --- Drill-down ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("selection", "expected"),
    [
        # A whole keyword: R07's 不好喝 is not 好喝.
        ({"keyword": "好喝"}, ["R09", "R05", "R03", "R01"]),
        # Newest first; R08 (15:00) before R02 (12:00) on the same day.
        ({"keyword": "慢"}, ["R04", "R10", "R03", "R08", "R02"]),
        # A keyword that is HTML is just text to match.
        ({"keyword": "<script>"}, ["R04"]),
        # The sentiment of the touchpoint's aspect: R01 praised the staff.
        ({"touchpoint_id": "staff", "sentiment": "negative"}, ["R10", "R02"]),
        ({"touchpoint_id": "staff"}, ["R10", "R02", "R01"]),
        # Keyword and touchpoint together: the reviews behind one bar of the complaints chart.
        ({"keyword": "慢", "touchpoint_id": "staff", "sentiment": "negative"}, ["R10", "R02"]),
        # Without a touchpoint, the review's own sentiment.
        ({"sentiment": "positive"}, ["R09", "R05", "R01"]),
        # A competitor's bar of the benchmark.
        ({"brand": "山野茶铺", "touchpoint_id": "staff"}, ["C5", "C4"]),
        ({"keyword": "没有这个词"}, []),
    ],
    ids=[
        "keyword", "keyword-newest-first", "html-keyword", "touchpoint-negative", "touchpoint",
        "keyword-and-touchpoint", "sentiment", "competitor", "unknown-keyword",
    ],
)  # fmt: skip
def test_drill_down_returns_exactly_the_matching_reviews(reviews_home, selection, expected):
    assert keys(data_access.review_texts(ALL, Filters(), **selection)) == expected


def test_drill_down_shows_the_text_and_is_capped(reviews_home):
    texts = data_access.review_texts(ALL, Filters(), keyword="慢", limit=2)

    assert keys(texts) == ["R04", "R10"]
    assert list(texts.columns) == list(data_access.REVIEW_COLUMNS)
    assert texts.loc[0, ["platform", "shop_name", "rating", "sentiment_label", "content"]].tolist() == [
        "xiaohongshu", "栖云咖啡(上海店)", 1, "negative", "评论R04：贵 慢 <script>",
    ]  # fmt: skip


def test_drill_down_refuses_an_unknown_sentiment(reviews_home):
    with pytest.raises(ValueError, match="sentiment"):
        data_access.review_texts(ALL, Filters(), sentiment="neutral' or true --")


# --- The word cloud -------------------------------------------------------------------------------


def test_the_cloud_escapes_keywords_and_sizes_them_by_count():
    keywords = pd.DataFrame(
        {
            "keyword": ["慢", '<script>alert("x")</script>'],
            "count_reviews": [5, 1],
            "negative_share": [1.0, 0.0],
        }
    )

    cloud = charts.keyword_cloud_html(keywords, CLOUD_LABELS)

    assert "<script" not in cloud
    assert ">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;</span>" in cloud
    assert 'title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;: 1, 0%"' in cloud
    assert "font-size:44px;color:hsl(0, 65%, 38%)" in cloud  # most reviews, all negative: big, red
    assert "font-size:14px;color:hsl(120, 65%, 38%)" in cloud  # fewest, all positive: small, green


# --- The page ---------------------------------------------------------------------------------------


def page(sign_in_as, role: str) -> AppTest:
    return sign_in_as(AppTest.from_file(str(PAGE), default_timeout=30), role).run()


def cloud_of(at: AppTest) -> str:
    (cloud,) = [html for html in at.get("html") if "<span" in html.proto.body]  # not the charts' style
    return cloud.proto.body


def test_the_page_shows_a_store_manager_their_reviews_only(reviews_home, sign_in_as):
    at = page(sign_in_as, "store_manager")

    assert not at.exception
    assert at.title[0].value == "Voice of customer"
    # shares of 4 reviews are under the reportable minimum: the count and "too few", no percentage
    assert [(metric.label, metric.value) for metric in at.metric] == [
        ("Our reviews", "4"),
        ("Share negative", "—"),
        ("Stars disagree with text", "—"),
    ]
    assert [caption.value for caption in at.caption].count("n = 4, too few") == 2
    cloud = cloud_of(at)
    assert ">慢</span>" in cloud and ">热情</span>" in cloud
    assert ">小程序</span>" not in cloud and ">外卖</span>" not in cloud  # S002's and S003's words
    (central,) = [md.value for md in at.markdown if md.value.startswith("**Central words (TextRank):**")]
    assert "好喝" in central and "店员" in central
    assert "小程序" not in central and "外卖" not in central
    assert "channel filter does not apply" in at.caption[0].value
    benchmark = next(table.value for table in at.dataframe if "Aspect" in table.value.columns)
    assert set(benchmark["Brand"]) == {"栖云咖啡", "港湾咖啡"}
    assert at.dataframe[-1].value["Review key"].tolist() == ["R04", "R03", "R02", "R01"]


def test_the_page_escapes_html_in_a_keyword(reviews_home, sign_in_as):
    at = page(sign_in_as, "cx_director")

    assert not at.exception
    cloud = cloud_of(at)
    assert ">&lt;script&gt;</span>" in cloud
    assert "<script>" not in cloud


def test_picking_a_keyword_shows_its_reviews_with_downloads(reviews_home, sign_in_as):
    at = page(sign_in_as, "cx_director")
    at.selectbox(key="voice_keyword").select("好喝").run()

    assert not at.exception
    drill = at.dataframe[-1].value
    assert drill["Review key"].tolist() == ["R09", "R05", "R03", "R01"]
    assert drill["Platform"].tolist() == ["Meituan", "Dianping", "Dianping", "Dianping"]
    assert drill["Sentiment"].tolist() == ["Positive", "Positive", "Negative", "Positive"]
    assert "4 reviews, newest first (at most 200)." in [caption.value for caption in at.caption]
    labels = [button.proto.label for button in at.get("download_button")]
    assert labels[-2:] == ["Download CSV", "Download Excel"]


def test_a_steward_cannot_open_the_page(reviews_home, sign_in_as):
    at = page(sign_in_as, "steward")

    assert not at.exception
    assert [error.value for error in at.error] == ["This page is not available for your role."]
    assert len(at.metric) == 0 and len(at.get("html")) == 0


def test_the_page_speaks_chinese(reviews_home, sign_in_as):
    at = page(sign_in_as, "regional_manager")
    at.selectbox(key="lang").select("zh").run()

    assert not at.exception
    assert at.title[0].value == "客户之声"
    assert [metric.label for metric in at.metric] == ["本品牌评论", "负面占比", "星级与文字不符"]
    assert at.metric[0].value == "7"  # R01-R07, the stores of R01
    complaints = next(table.value for table in at.dataframe if "排名" in table.value.columns)
    assert complaints["触点"].tolist()[0] == "小程序/App"
    benchmark = next(table.value for table in at.dataframe if "维度" in table.value.columns)
    assert benchmark["维度"].tolist()[0] == "整体"
    assert "n = 1，样本过少" in cloud_of(at)  # a keyword of 7 reviews: the too-few note, in Chinese


def test_the_page_says_when_no_reviews_are_published(serving_home, sign_in_as):
    at = page(sign_in_as, "cx_director")

    assert not at.exception
    assert [info.value for info in at.info] == ["No reviews have been published yet."]
