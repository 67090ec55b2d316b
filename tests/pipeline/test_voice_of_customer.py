"""Voice-of-customer marts on the seeded demo build: every review once, scores that follow what
the generator planted (truth.json), aggregates that reconcile with the review facts, and the
same marts however the days were loaded."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date

import duckdb
import pytest

from cxlake.text.scoring import TOP_KEYWORDS, score_texts
from orchestration.runner import landed_days, run_pipeline


@pytest.fixture(scope="module")
def serving(demo_build):
    assert demo_build.run_success
    connection = duckdb.connect(str(demo_build.serving), read_only=True)
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def truth(demo_build) -> dict:
    return json.loads((demo_build.landing / "truth.json").read_text(encoding="utf-8"))


def _delivered_review_keys(landing) -> list[str]:
    keys = []
    for path in sorted(landing.glob("reviews/*/*.json")):
        page = json.loads(path.read_text(encoding="utf-8"))
        keys += [f"{page['platform']}:{review['review_id']}" for review in page["reviews"]]
    return keys


def test_every_delivered_review_is_one_row(serving, demo_build, truth):
    delivered = _delivered_review_keys(demo_build.landing)
    rows = [key for (key,) in serving.execute("select review_key from marts.fct_reviews").fetchall()]
    assert len(delivered) > 100
    assert sorted(rows) == sorted(set(delivered))
    assert set(rows) == {review["review_key"] for review in truth["reviews"]}


def test_competitor_reviews_have_no_store_and_ours_all_have_one(serving, truth):
    rows = serving.execute("select brand, is_competitor, store_id, city from marts.fct_reviews").fetchall()
    ours = [row for row in rows if row[0] == truth["brand"]]
    theirs = [row for row in rows if row[0] != truth["brand"]]
    assert ours and theirs
    assert all(not competitor and store_id and city for _, competitor, store_id, city in ours)
    assert all(competitor and store_id is None and city for _, competitor, store_id, city in theirs)


def test_every_review_is_scored_with_the_current_model(serving):
    unscored, versions = serving.execute(
        "select count(*) filter (where sentiment_label is null), count(distinct model_version)"
        " from marts.fct_reviews"
    ).fetchone()
    assert (unscored, versions) == (0, 1)


@pytest.mark.parametrize("planted", ["negative", "positive"])
def test_the_text_sentiment_follows_the_planted_sentiment(serving, truth, planted):
    """Reviews the generator wrote wholly negative (or positive) are read that way, mostly."""
    labels = dict(serving.execute("select review_key, sentiment_label from marts.fct_reviews").fetchall())
    keys = [review["review_key"] for review in truth["reviews"] if review["sentiment"] == planted]
    agreeing = sum(labels[key] == planted for key in keys)
    assert len(keys) > 30
    assert agreeing / len(keys) > 0.7


def test_aspects_name_the_planted_touchpoints(serving, truth):
    """Most planted aspect mentions come back as an aspect row with the planted feeling."""
    found = {
        (key, touchpoint): feeling
        for key, touchpoint, feeling in serving.execute(
            "select review_key, touchpoint_id, aspect_sentiment from marts.fct_review_aspects"
        ).fetchall()
    }
    planted = [
        (r["review_key"], tp, feeling) for r in truth["reviews"] for tp, feeling in r["aspects"].items()
    ]
    matched = sum(found.get((key, tp)) == feeling for key, tp, feeling in planted)
    assert matched / len(planted) > 0.6


def test_the_planted_competitor_wins_on_value(serving, truth):
    """山野茶铺 reviews are planted positive about value 88% of the time, ours 35%."""
    shares = dict(
        serving.execute(
            """
            select brand, sum(count_positive) / sum(count_scored)
            from marts.mart_competitor_benchmark
            where aspect = 'value'
            group by brand
            """
        ).fetchall()
    )
    competitor = truth["planted"]["competitor_on_value"]
    assert shares[competitor] > shares[truth["brand"]] + 0.3


def test_benchmark_counts_reconcile_with_the_review_facts(serving):
    mismatches = serving.execute(
        """
        with facts as (
            select platform, city, brand, 'overall' as aspect, count(*) as n,
                count(*) filter (where sentiment_label = 'positive') as positive
            from marts.fct_reviews group by all
            union all
            select platform, city, brand, touchpoint_id, count(*),
                count(*) filter (where aspect_sentiment = 'positive')
            from marts.fct_review_aspects group by all
        ),
        mart as (
            select platform, city, brand, aspect, sum(count_reviews) as count_reviews,
                sum(count_positive) as count_positive
            from marts.mart_competitor_benchmark group by all
        )
        select count(*)
        from facts
        full join mart using (platform, city, brand, aspect)
        where facts.n is distinct from mart.count_reviews
            or facts.positive is distinct from mart.count_positive
        """
    ).fetchone()[0]
    assert mismatches == 0
    total = serving.execute(
        "select sum(count_reviews) from marts.mart_competitor_benchmark where aspect = 'overall'"
    ).fetchone()[0]
    assert total == serving.execute("select count(*) from marts.fct_reviews").fetchone()[0]


def test_keyword_counts_reconcile_with_the_review_keywords(serving):
    """Counted in Python from fct_reviews.keywords, our stores only, once per review and posted
    day (the Voice page sums the mart over any picked days); the negative ones too."""
    expected: Counter = Counter()
    expected_negative: Counter = Counter()
    for posted, store_id, keywords, label in serving.execute(
        "select posted_date, store_id, keywords, sentiment_label from marts.fct_reviews"
        " where not is_competitor"
    ).fetchall():
        for keyword in set(keywords.split()):
            expected[(posted, store_id, keyword)] += 1
            expected_negative[(posted, store_id, keyword)] += label == "negative"
    mart = {
        (day, store_id, keyword): (n, negative)
        for day, store_id, keyword, n, negative in serving.execute(
            "select posted_date, store_id, keyword, count_reviews, count_negative"
            " from marts.fct_review_keywords"
        ).fetchall()
    }
    assert len(mart) > 100
    assert all(isinstance(day, date) for day, _, _ in mart)
    assert mart == {key: (n, expected_negative[key]) for key, n in expected.items()}


def test_comment_scores_are_filled_exactly_where_a_comment_exists(serving):
    counts = serving.execute(
        """
        select
            count(*) filter (where trim(coalesce(comment, '')) <> ''),
            count(*) filter (where trim(coalesce(comment, '')) <> '' and comment_sentiment_label is not null
                and comment_sentiment_score between 0 and 1 and comment_aspects is not null),
            count(*) filter (where trim(coalesce(comment, '')) = ''
                and (comment_sentiment_score is not null or comment_sentiment_label is not null
                    or comment_aspects is not null))
        from marts.fct_survey_responses
        """
    ).fetchone()
    with_comment, scored, scored_without = counts
    assert with_comment > 100
    assert (scored, scored_without) == (with_comment, 0)


def test_journeys_carry_their_response_comment_scores(serving):
    differing, carried = serving.execute(
        """
        select
            count(*) filter (where
                journeys.comment_sentiment_score is distinct from responses.comment_sentiment_score
                or journeys.comment_sentiment_label is distinct from responses.comment_sentiment_label
                or journeys.comment_aspects is distinct from responses.comment_aspects),
            count(journeys.comment_sentiment_label)
        from marts.fct_journeys as journeys
        left join marts.fct_survey_responses as responses using (response_key)
        """
    ).fetchone()
    assert differing == 0
    assert carried > 100


def test_stars_and_text_disagree_on_a_minority_of_reviews(serving):
    """The generator draws stars from the planted sentiment plus noise: some disagreement, not much."""
    disagree, judged = serving.execute(
        "select count(*) filter (where rating_disagrees), count(rating_disagrees) from marts.fct_reviews"
    ).fetchone()
    assert judged > 100
    assert 0 < disagree / judged < 0.25


@pytest.fixture(scope="module")
def loaded_in_two_runs(demo_build, tmp_path_factory):
    """The demo's landing loaded as a deployment would: a first run over its first days, a later
    run over all of them once more days have arrived (the demo build loaded them in one run)."""
    days = landed_days(demo_build.landing)
    warehouse = tmp_path_factory.mktemp("two_runs") / "warehouse.duckdb"
    first = run_pipeline(
        demo_build.landing, warehouse, start=date.fromisoformat(days[0]), end=date.fromisoformat(days[5])
    )
    assert first.success
    later = run_pipeline(demo_build.landing, warehouse)
    assert later.success
    connection = duckdb.connect(str(later.serving_path), read_only=True)
    yield connection
    connection.close()


# The loop marts read the case store, whose cases carry the time each run opened them: history of
# the operation, not a function of the delivered data.
CASE_HISTORY_MARTS = frozenset(
    {"fct_cases", "mart_loop_health", "mart_case_recovery", "mart_case_recovery_summary"}
)


# A mart's rows without its keyed pseudonyms (device_pseudonym): each home has its own key.
KEYLESS_ROWS = "select columns(c -> c not like '%pseudonym') from marts.{table} order by all"


def _marts(connection: duckdb.DuckDBPyConnection) -> list[str]:
    return [
        name
        for (name,) in connection.execute(
            "select table_name from information_schema.tables where table_schema = 'marts'"
            " and table_type = 'BASE TABLE' order by table_name"
        ).fetchall()
        if name not in CASE_HISTORY_MARTS
    ]


def test_marts_do_not_depend_on_how_the_days_were_loaded(serving, loaded_in_two_runs):
    # regression: keywords were ranked against the IDF of the reviews scored in the same run, so
    # days 1-6 then 1-10 kept other fct_reviews.keywords and fct_review_keywords than 1-10 at once
    assert _marts(loaded_in_two_runs) == _marts(serving)
    differing = [
        table
        for table in _marts(serving)
        if loaded_in_two_runs.execute(KEYLESS_ROWS.format(table=table)).fetchall()
        != serving.execute(KEYLESS_ROWS.format(table=table)).fetchall()
    ]
    assert differing == []
    keywords = "select review_key, keywords from marts.fct_reviews order by all"
    assert loaded_in_two_runs.execute(keywords).fetchall() == serving.execute(keywords).fetchall()
    assert serving.execute("select count(*) from marts.fct_review_keywords").fetchone()[0] > 100


def test_review_keywords_are_the_python_ranking_over_the_whole_corpus(serving):
    """dbt ranks the stored term counts (int_reviews__keywords) as score-reviews ranks a file of
    every current review: same IDF, same TOP_KEYWORDS, same tie-breaking."""
    rows = serving.execute(
        "select review_key, coalesce(content, '') from marts.fct_reviews order by 1"
    ).fetchall()
    expected = score_texts([content for _, content in rows], workers=1)["keywords"].tolist()
    stored = dict(serving.execute("select review_key, keywords from marts.fct_reviews").fetchall())
    assert [stored[key] for key, _ in rows] == expected
    assert max(len(keywords.split()) for keywords in expected) == TOP_KEYWORDS
