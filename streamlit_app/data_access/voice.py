"""Voice of customer: online reviews, ours and competitors', their keywords, sentiment and texts."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import streamlit as st

from cxlake.access.roles import Scope
from cxlake.access.serving_door import Reader
from cxlake.text.keywords import PeriodCounts, central_words
from streamlit_app.data_access import core
from streamlit_app.data_access.core import CACHE_TTL_SECONDS, Filters, previous_period

# --- Voice of customer: online reviews, ours and competitors' -------------------------------------
# Our reviews carry store_id / region_id and are scoped like every other row. A competitor's review
# has no store: a narrow scope (or a region / store filter) sees competitors only in the cities of
# its stores, so a store manager compares their store with the shops next door; "all" sees them all.
# The channel filter does not apply (a review has no sales channel). Dates are posted_date.
# The benchmark sums marts.mart_competitor_benchmark (posted day x platform x city x store x brand x
# aspect): the same filters as the review rows, on counts.

REVIEW_MARTS = ("fct_reviews", "fct_review_aspects", "fct_review_keywords")
# Keyword counts per posted day x store x keyword, our stores only: the cloud and trending sum them.
REVIEW_KEYWORDS = "marts.fct_review_keywords"
# TextRank's edges per review and keyword pair, our stores only: central words rank their sum.
REVIEW_COOCCURRENCES = "fct_review_cooccurrences"
REVIEW_SENTIMENTS = ("positive", "negative")
# The drill-down's columns: what was said, where, with which stars and what the model read in it.
REVIEW_COLUMNS = (
    "posted_at", "platform", "shop_name", "rating", "sentiment_label", "sentiment_score",
    "rating_disagrees", "content", "review_key",
)  # fmt: skip


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def review_marts_published(scope: Scope) -> bool:
    """Whether the serving copy has the review marts yet (the page says so instead of failing)."""
    core.check_scope(scope)
    return all(core.columns_of("marts", table) for table in REVIEW_MARTS)


def _store_conditions(filters: Filters) -> tuple[str, list[object]]:
    """The region / store filters, on a relation with store_id and region_id."""
    conditions, params = ["true"], []
    for column, values in (("region_id", filters.region_ids), ("store_id", filters.store_ids)):
        if values:
            conditions.append(f"list_contains(?::varchar[], {column})")
            params.append(list(values))
    return " and ".join(conditions), params


def _review_where(scope: Scope, filters: Filters) -> tuple[str, list[object]]:
    """Reviews in the period and the region / store filters: ours of the stores picked, competitors
    in the cities of the stores picked (the door already shows a narrow scope only its stores' and
    the competitors in their cities).

    For any relation with is_competitor, store_id, region_id, city and posted_date.
    """
    core.check_scope(scope)
    ours, params = _store_conditions(filters)
    if not filters.region_ids and not filters.store_ids:
        competitors = "is_competitor"
    else:
        cities, city_params = _store_conditions(filters)
        competitors = f"is_competitor and city in (select city from marts.dim_store where {cities})"
        params += city_params
    conditions = [f"((not is_competitor and {ours}) or ({competitors}))"]
    for bound, operator in ((filters.date_from, ">="), (filters.date_to, "<=")):
        if bound is not None:
            conditions.append(f"posted_date {operator} ?")
            params.append(bound)
    return " and ".join(conditions), params


def _our_reviews(scope: Scope, filters: Filters) -> tuple[str, list[object]]:
    """A CTE ``reviews``: our own reviews in scope and period (the cloud, charts and metric)."""
    where, params = _review_where(scope, filters)
    return f"with reviews as (select * from marts.fct_reviews where not is_competitor and {where})", params


def _keyword_counts(filters: Filters) -> tuple[str, list[object]]:
    """A CTE ``keyword_counts``: per keyword, our reviews in the period and the region / store
    filters that name it (count_reviews) and the negative ones among them (count_negative), summed
    from marts.fct_review_keywords (posted day x store x keyword, our stores only)."""
    where, params = _store_conditions(filters)
    for bound, operator in ((filters.date_from, ">="), (filters.date_to, "<=")):
        if bound is not None:
            where += f" and posted_date {operator} ?"
            params.append(bound)
    return (
        "with keyword_counts as (select keyword, sum(count_reviews)::bigint as count_reviews,"
        " sum(count_negative)::bigint as count_negative"
        f" from {REVIEW_KEYWORDS} where {where} group by keyword)",
        params,
    )


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def review_keywords(scope: Scope, filters: Filters, limit: int = 60) -> pd.DataFrame:
    """The ``limit`` keywords in most of our reviews in scope: keyword, count_reviews (reviews that
    name it), count_negative, negative_share (0..1); most reviews first, then by keyword."""
    core.check_scope(scope)
    counts, params = _keyword_counts(filters)
    return core.frame(
        scope,
        f"{counts} select keyword, count_reviews, count_negative,"
        " count_negative / count_reviews as negative_share"
        " from keyword_counts order by count_reviews desc, keyword limit ?",
        [*params, limit],
    )


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def review_keyword_counts(scope: Scope, filters: Filters) -> PeriodCounts:
    """Our reviews in scope and period with a written (scored) text, and how many of them name each
    keyword (every keyword, no limit): the input of :func:`cxlake.text.keywords.trending`. Only a
    written text has keywords, so the keyword counts of marts.fct_review_keywords are of those
    reviews; their number comes from marts.fct_reviews."""
    reviews, params = _our_reviews(scope, filters)
    ((total,),) = core.rows(
        scope, f"{reviews} select count(*) from reviews where sentiment_score is not null", params
    )
    counts, params = _keyword_counts(filters)
    rows = core.rows(scope, f"{counts} select keyword, count_reviews from keyword_counts", params)
    return PeriodCounts(int(total), {keyword: int(count) for keyword, count in sorted(rows)})


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def comparison_period(scope: Scope, filters: Filters) -> Filters | None:
    """What a trend compares the filters' period with: the period of equal length ending on the
    last day before it on which our reviews in scope (and the region / store filters) have a
    written text, which is the period just before when that one has reviews. None when no such
    review is older than the period (nothing to compare with) or the dates are not both set."""
    before = previous_period(filters)
    if before is None:
        return None
    reviews, params = _our_reviews(scope, replace(filters, date_from=None, date_to=before.date_to))
    ((last_day,),) = core.rows(
        scope, f"{reviews} select max(posted_date) from reviews where sentiment_score is not null", params
    )
    if last_day is None:
        return None
    shift = before.date_to - last_day
    return replace(before, date_from=before.date_from - shift, date_to=last_day)


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def review_sentiment_by_platform(scope: Scope, filters: Filters) -> pd.DataFrame:
    """Our reviews per platform and sentiment: platform, sentiment_label, count_reviews."""
    reviews, params = _our_reviews(scope, filters)
    return core.frame(
        scope,
        f"{reviews} select platform, sentiment_label, count(*) as count_reviews from reviews"
        " group by platform, sentiment_label order by platform, sentiment_label",
        params,
    )


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def review_sentiment_trend(scope: Scope, filters: Filters) -> pd.DataFrame:
    """One row per week (Monday) and side: week_start, is_competitor, count_reviews, count_negative,
    negative_share (0..1), our reviews beside the competitors' the user may see."""
    where, params = _review_where(scope, filters)
    trend = core.frame(
        scope,
        "select cast(date_trunc('week', posted_date) as date) as week_start, is_competitor,"
        " count(*) as count_reviews,"
        " count(*) filter (where sentiment_label = 'negative') as count_negative,"
        " count_negative / count(*) as negative_share"
        f" from marts.fct_reviews where {where}"
        " group by week_start, is_competitor order by week_start, is_competitor",
        params,
    )
    return core.with_dates(trend, "week_start")


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def rating_disagreement(scope: Scope, filters: Filters) -> tuple[int, int, int]:
    """(our reviews whose stars disagree with their text, our reviews whose stars and text both take
    a side, all our reviews) in scope and period: a 3-star review, or one without text or rating,
    neither agrees nor disagrees, so it is left out of the share's denominator."""
    reviews, params = _our_reviews(scope, filters)
    ((disagreeing, comparable, total),) = core.rows(
        scope,
        f"{reviews} select count(*) filter (where rating_disagrees), count(rating_disagrees), count(*)"
        " from reviews",
        params,
    )
    return int(disagreeing), int(comparable), int(total)


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def review_central_words(scope: Scope, filters: Filters, top_k: int = 12, reviews: int = 2_000) -> list[str]:
    """TextRank's ``top_k`` central words of our newest ``reviews`` reviews with a written (scored)
    text in scope and period: the sum of their TextRank edges (marts.fct_review_cooccurrences,
    counted per review at publish), ranked (:func:`cxlake.text.keywords.central_words`), the same
    words as TextRank over their texts without segmenting a text per page run. None (no words)
    from a serving copy published before that mart."""
    if not core.columns_of("marts", REVIEW_COOCCURRENCES):
        return []
    where, params = _our_reviews(scope, filters)
    pairs = core.rows(
        scope,
        f"{where}, newest as (select review_key from reviews where sentiment_score is not null"
        " order by posted_at desc, review_key limit ?)"
        " select keyword, other_keyword, sum(pair_count)::bigint"
        f" from marts.{REVIEW_COOCCURRENCES} where review_key in (select review_key from newest)"
        " group by keyword, other_keyword",
        [*params, reviews],
    )
    return central_words({(keyword, other): int(count) for keyword, other, count in pairs}, top_k)


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def negative_keywords_by_touchpoint(scope: Scope, filters: Filters, per_touchpoint: int = 5) -> pd.DataFrame:
    """The keywords of our reviews that are negative about a touchpoint, the ``per_touchpoint`` most
    frequent of each: touchpoint_id, its names, keyword, count_reviews, rank (1 = most; ties by
    keyword). Touchpoints in journey order; touchpoints without negative reviews are absent."""
    reviews, params = _our_reviews(scope, filters)
    return core.frame(
        scope,
        f"{reviews}, negative as (select distinct a.touchpoint_id, r.review_key, r.keywords"
        " from marts.fct_review_aspects as a join reviews as r on r.review_key = a.review_key"
        " where a.aspect_sentiment = 'negative'),"
        " words as (select distinct touchpoint_id, review_key,"
        " unnest(string_split(keywords, ' ')) as keyword from negative),"
        " counts as (select touchpoint_id, keyword, count(*) as count_reviews from words"
        " where keyword <> '' group by touchpoint_id, keyword),"
        " ranked as (select *, row_number() over (partition by touchpoint_id"
        " order by count_reviews desc, keyword) as rank from counts)"
        " select t.touchpoint_id, t.touchpoint_name_zh, t.touchpoint_name_en, k.keyword, k.count_reviews,"
        " k.rank from ranked as k join marts.dim_touchpoint as t on t.touchpoint_id = k.touchpoint_id"
        " where k.rank <= ? order by t.stage_order, t.touchpoint_order, k.rank",
        [*params, per_touchpoint],
    )


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def review_benchmark(scope: Scope, filters: Filters) -> pd.DataFrame:
    """Our brand beside each competitor the user may see, overall and per touchpoint.

    One row per brand and aspect ('overall' first, then touchpoints in journey order): brand,
    is_competitor, aspect, touchpoint names (missing for 'overall'), count_reviews, avg_rating,
    positive_share and negative_share (0..1 of count_reviews; 'overall' from the review's
    sentiment, a touchpoint from the aspect's, where 'neutral' counts in neither share). Sums of
    marts.mart_competitor_benchmark (posted day x platform x city x store x brand x aspect), so the
    period, region and store filters (competitors: those in the cities of the stores picked) are
    sums of its rows. Empty from a serving copy published before the mart had its day and store.
    """
    if not {"posted_date", "store_id"} <= core.columns_of("marts", "mart_competitor_benchmark"):
        return pd.DataFrame(
            columns=["brand", "is_competitor", "aspect", "touchpoint_name_zh", "touchpoint_name_en",
                     "count_reviews", "avg_rating", "positive_share", "negative_share"]
        )  # fmt: skip
    where, params = _review_where(scope, filters)
    return core.frame(
        scope,
        "with benchmark as (select brand, is_competitor, aspect, sum(count_reviews)::bigint as count_reviews,"
        " sum(sum_rating) / nullif(sum(count_rated), 0) as avg_rating,"
        " sum(count_positive) / sum(count_reviews) as positive_share,"
        " sum(count_negative) / sum(count_reviews) as negative_share"
        f" from marts.mart_competitor_benchmark where {where} group by brand, is_competitor, aspect)"
        " select b.brand, b.is_competitor, b.aspect, t.touchpoint_name_zh, t.touchpoint_name_en,"
        " b.count_reviews, b.avg_rating, b.positive_share, b.negative_share"
        " from benchmark as b left join marts.dim_touchpoint as t on t.touchpoint_id = b.aspect"
        " order by b.aspect <> 'overall', t.stage_order, t.touchpoint_order, b.aspect,"
        " b.is_competitor, b.brand",
        params,
    )


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def review_texts(
    scope: Scope,
    filters: Filters,
    keyword: str | None = None,
    touchpoint_id: str | None = None,
    sentiment: str | None = None,
    brand: str | None = None,
    limit: int = 200,
    *,
    sees_pii: bool = False,
) -> pd.DataFrame:
    """The reviews behind a keyword or a bar, newest first (``REVIEW_COLUMNS``, at most ``limit``),
    contact details in ``content`` masked unless ``sees_pii``.

    ``brand`` None means our own reviews; a brand name, that brand's reviews the user may see.
    ``keyword`` matches a whole keyword of the review (不好喝 is not 好喝). ``sentiment`` is the
    touchpoint's aspect sentiment when ``touchpoint_id`` is given, else the review's.
    """
    if sentiment is not None and sentiment not in REVIEW_SENTIMENTS:
        raise ValueError(f"sentiment must be one of {REVIEW_SENTIMENTS}, got {sentiment!r}")
    where, params = _review_where(scope, filters)
    conditions = [where]
    if brand is None:
        conditions.append("not is_competitor")
    else:
        conditions.append("brand = ?")
        params.append(brand)
    if keyword is not None:
        conditions.append("list_contains(string_split(keywords, ' '), ?)")
        params.append(keyword)
    if touchpoint_id is not None:
        conditions.append(
            "review_key in (select review_key from marts.fct_review_aspects where touchpoint_id = ?"
            " and (?::varchar is null or aspect_sentiment = ?))"
        )
        params += [touchpoint_id, sentiment, sentiment]
    elif sentiment is not None:
        conditions.append("sentiment_label = ?")
        params.append(sentiment)
    columns = ", ".join(REVIEW_COLUMNS)
    return core.frame(
        Reader(scope, sees_pii),
        f"select {columns} from marts.fct_reviews where {' and '.join(conditions)}"
        " order by posted_at desc, review_key limit ?",
        [*params, limit],
    )
