"""Voice of customer: what online reviews say about us and about the competitors next door.

Our reviews follow the user's scope; competitors' reviews are those in the scope's cities. Every
number here can be traced to review texts in the drill-down at the bottom of the page.
"""

from collections.abc import Callable, Sequence

import pandas as pd
import streamlit as st

from cxlake.text.keywords import trending
from streamlit_app import charts, data_access, labels, widgets

LABELS = {
    "en": {
        "title": "Voice of customer",
        "channel_note": "Online reviews have no sales channel: the channel filter does not apply here.",
        "no_reviews": "No reviews have been published yet.",
        "reviews": "Reviews",
        "our_reviews": "Our reviews",
        "negative_share": "Share negative",
        "disagree": "Stars disagree with text",
        "disagree_help": "Of our reviews rated 1-2 or 4-5 stars with a text, the share whose stars say the "
        "opposite of the text (3 stars take no side). Stars are not labels: read the texts before acting "
        "on a rating.",
        "textrank_label": "Central words (TextRank):",
        "textrank_help": "Words that many other words of our newest reviews in the period occur next to, "
        "ranked by jieba's TextRank over our segmentation; the cloud counts reviews instead.",
        "cloud_title": "What our customers write about",
        "cloud_caption": "The {n} most frequent keywords of our reviews: size by reviews, "
        "colour from green (praise) to red (complaints).",
        "cloud_tooltip": "{keyword} · reviews: {count} · negative: {share:.0%}",
        "cloud_tooltip_too_few": "{keyword} · {note}",
        "keyword": "Keyword",
        "trending_title": "Trending keywords",
        "trending_caption": "Keywords of {start} – {end} ({reviews} reviews) against {previous_start} – "
        "{previous_end} ({previous_reviews} reviews), the last {days} days with reviews before: the {n} "
        "most lifted of those named in at least {min_count} reviews and in a larger share of reviews than "
        "before beyond chance (one-sided Fisher test, false discovery rate {fdr:.0%}).",
        "trending_needs_dates": "Pick a start and an end date to compare with the period before.",
        "trending_nothing_before": "Nothing to compare with: none of our reviews in this selection is older "
        "than {start}. Pick a later start date to compare with the days before it.",
        "no_trending": "No keyword is on the rise in this period.",
        "sentiment_title": "Sentiment by platform",
        "sentiment": "Sentiment",
        "platform": "Platform",
        "trend_title": "Share of negative reviews per week",
        "week": "Week",
        "side": "Reviews of",
        "side_ours": "Our brand",
        "side_competitors": "Competitors",
        "touchpoint_title": "Top complaints per touchpoint",
        "touchpoint": "Touchpoint",
        "no_complaints": "No negative reviews about a touchpoint for this selection.",
        "benchmark_title": "Competitor benchmark (same cities)",
        "aspect": "Aspect",
        "overall": "Overall",
        "brand": "Brand",
        "positive_share": "Share positive",
        "avg_rating": "Average stars",
        "drill_title": "Read the reviews",
        "drill_keyword": "Keyword",
        "drill_touchpoint": "Touchpoint",
        "drill_sentiment": "Sentiment",
        "drill_brand": "Brand",
        "any": "(any)",
        "our_brand": "Our brand",
        "drill_count": "{n} reviews, newest first (at most {limit}).",
    },
    "zh": {
        "title": "客户之声",
        "channel_note": "线上评论没有销售渠道之分：本页不使用渠道筛选。",
        "no_reviews": "尚未发布评论数据。",
        "reviews": "评论数",
        "our_reviews": "本品牌评论",
        "negative_share": "负面占比",
        "disagree": "星级与文字不符",
        "disagree_help": "在打 1-2 星或 4-5 星且有文字的本品牌评论中，"
        "星级与文字情感相反的占比（3 星不表态）。星级不等于标签：请先读评论再据星级行动。",
        "textrank_label": "核心词（TextRank）：",
        "textrank_help": "在本期最新的本品牌评论中与最多其他词相邻出现的词，"
        "用 jieba 的 TextRank 在我们的分词上排序；词云则按评论数计。",
        "cloud_title": "顾客在说什么",
        "cloud_caption": "本品牌评论中最常见的 {n} 个关键词：字号表示评论数，颜色由绿（好评）到红（差评）。",
        "cloud_tooltip": "{keyword} · 评论数：{count} · 负面：{share:.0%}",
        "cloud_tooltip_too_few": "{keyword} · {note}",
        "keyword": "关键词",
        "trending_title": "上升关键词",
        "trending_caption": "{start} 至 {end}（{reviews} 条评论）与此前最近有评论的 {days} 天 "
        "{previous_start} 至 {previous_end}（{previous_reviews} 条评论）相比上升最多的 {n} 个关键词："
        "至少 {min_count} 条评论提及，且提及占比的上升超出偶然（单侧 Fisher 检验，错误发现率 {fdr:.0%}）。",
        "trending_needs_dates": "请选择开始和结束日期，以便与上一周期比较。",
        "trending_nothing_before": "没有可比较的数据：当前筛选下没有早于 {start} 的本品牌评论。"
        "请选择更晚的开始日期，以便与之前的日期比较。",
        "no_trending": "本周期没有上升的关键词。",
        "sentiment_title": "各平台情感分布",
        "sentiment": "情感",
        "platform": "平台",
        "trend_title": "每周负面评论占比",
        "week": "周",
        "side": "评论对象",
        "side_ours": "本品牌",
        "side_competitors": "竞品",
        "touchpoint_title": "各触点主要差评关键词",
        "touchpoint": "触点",
        "no_complaints": "当前筛选下没有针对触点的负面评论。",
        "benchmark_title": "竞品对标（同城）",
        "aspect": "维度",
        "overall": "整体",
        "brand": "品牌",
        "positive_share": "正面占比",
        "avg_rating": "平均星级",
        "drill_title": "查看评论原文",
        "drill_keyword": "关键词",
        "drill_touchpoint": "触点",
        "drill_sentiment": "情感",
        "drill_brand": "品牌",
        "any": "（全部）",
        "our_brand": "本品牌",
        "drill_count": "共 {n} 条评论，按时间倒序（最多 {limit} 条）。",
    },
}
CLOUD_KEYWORDS = 60
TEXTRANK_KEYWORDS = 12
TEXTRANK_REVIEWS = 2_000  # the newest reviews in scope; TextRank's graph grows with the text
TRENDING_KEYWORDS = 10
TRENDING_MIN_COUNT = 3  # one angry review is no trend
TRENDING_FALSE_DISCOVERY_RATE = 0.05
DRILL_LIMIT = 200


def show_data(frame: pd.DataFrame, file_stem: str) -> None:
    widgets.chart_data(frame, file_stem, "voice", text)


def pick(
    label: str, options: Sequence[str | None], names: Callable[[str | None], str], key: str
) -> str | None:
    """A selectbox whose earlier pick is dropped when the new filters no longer offer it."""
    if st.session_state.get(key) not in options:
        st.session_state.pop(key, None)
    return st.selectbox(text[label], options=list(options), format_func=names, key=key)


page = widgets.filtered_page(LABELS, "voice")
language, text, scope, filters = page.language, page.text, page.scope, page.filters
st.caption(text["channel_note"])
if not data_access.review_marts_published(scope):
    st.info(text["no_reviews"])
    st.stop()
disagreeing, comparable, total = data_access.rating_disagreement(scope, filters)
if total == 0:
    st.info(text["no_data"])
    st.stop()

by_platform = data_access.review_sentiment_by_platform(scope, filters)
negative = by_platform.loc[by_platform["sentiment_label"] == "negative", "count_reviews"].sum()
reviews_column, negative_column, disagree_column = st.columns(3)
reviews_column.metric(text["our_reviews"], f"{total:,}")


def share_tile(column, label: str, count: int, n: int, help_text: str | None = None) -> None:
    """A share of ``n`` reviews, or "—" and "n = 4, too few" below the reportable minimum."""
    if charts.reportable(pd.Series([n])).iloc[0]:
        column.metric(label, f"{count / n:.0%}", help=help_text)
    else:
        column.metric(label, "—", help=help_text)
        column.caption(labels.too_few(n, language))


share_tile(negative_column, text["negative_share"], negative, total)
share_tile(disagree_column, text["disagree"], disagreeing, comparable, text["disagree_help"])

st.subheader(text["cloud_title"])
keywords = data_access.review_keywords(scope, filters, CLOUD_KEYWORDS)
st.caption(text["cloud_caption"].format(n=len(keywords)))
# A keyword's share of negative reviews is a score like any other: over too few reviews, not a fact.
keywords = charts.with_reportability(keywords, language, "count_reviews")
st.html(charts.keyword_cloud_html(keywords, text))
central = data_access.review_central_words(scope, filters, TEXTRANK_KEYWORDS, TEXTRANK_REVIEWS)
st.markdown(f"**{text['textrank_label']}** " + (" · ".join(central) or "–"), help=text["textrank_help"])
show_data(keywords.drop(columns=[charts.NOTE]), "review_keywords")

st.subheader(text["trending_title"])
compared = data_access.comparison_period(scope, filters)
if filters.date_from is None or filters.date_to is None:
    st.info(text["trending_needs_dates"])
elif compared is None:
    st.info(text["trending_nothing_before"].format(start=filters.date_from))
else:
    now = data_access.review_keyword_counts(scope, filters)
    before = data_access.review_keyword_counts(scope, compared)
    rising = trending(now, before, TRENDING_MIN_COUNT, TRENDING_FALSE_DISCOVERY_RATE).head(TRENDING_KEYWORDS)
    st.caption(
        text["trending_caption"].format(
            start=filters.date_from,
            end=filters.date_to,
            reviews=now.reviews,
            previous_start=compared.date_from,
            previous_end=compared.date_to,
            previous_reviews=before.reviews,
            days=(compared.date_to - compared.date_from).days + 1,
            n=TRENDING_KEYWORDS,
            min_count=TRENDING_MIN_COUNT,
            fdr=TRENDING_FALSE_DISCOVERY_RATE,
        )
    )
    if rising.empty:
        st.info(text["no_trending"])
    else:
        widgets.show_table(rising, "review_trending_keywords", "voice")

sentiment_column, trend_column = st.columns(2)
with sentiment_column:
    st.subheader(text["sentiment_title"])
    charts.show(charts.sentiment_by_platform_chart(by_platform, text, language))
    show_data(by_platform, "review_sentiment_by_platform")
with trend_column:
    st.subheader(text["trend_title"])
    trend = data_access.review_sentiment_trend(scope, filters)
    charts.show(charts.negative_share_trend_chart(trend, text, language))
    show_data(
        trend.assign(reportable=charts.reportable(trend["count_reviews"])), "review_negative_share_trend"
    )

name_column = "touchpoint_name_zh" if language == "zh" else "touchpoint_name_en"
st.subheader(text["touchpoint_title"])
complaints = data_access.negative_keywords_by_touchpoint(scope, filters)
if complaints.empty:
    st.info(text["no_complaints"])
else:
    charts.show(charts.negative_keywords_chart(complaints, name_column, text))
    show_data(
        complaints[["touchpoint_id", name_column, "rank", "keyword", "count_reviews"]].rename(
            columns={name_column: "touchpoint"}
        ),
        "review_complaints_by_touchpoint",
    )

st.subheader(text["benchmark_title"])
benchmark = data_access.review_benchmark(scope, filters)
benchmark = benchmark.assign(
    aspect_name=benchmark[name_column].where(benchmark["aspect"] != "overall", text["overall"])
)
charts.show(charts.benchmark_chart(benchmark, text, language))
show_data(
    benchmark[
        ["aspect_name", "brand", "count_reviews", "avg_rating", "positive_share", "negative_share"]
    ].assign(reportable=charts.reportable(benchmark["count_reviews"])),
    "review_benchmark",
)

st.subheader(text["drill_title"])
aspects = benchmark.loc[benchmark["aspect"] != "overall", ["aspect", "aspect_name"]].drop_duplicates()
aspect_names = dict(zip(aspects["aspect"], aspects["aspect_name"], strict=True))
competitors = benchmark.loc[benchmark["is_competitor"], "brand"].drop_duplicates().tolist()
keyword_column, touchpoint_column, sentiment_column, brand_column = st.columns(4)
with keyword_column:
    keyword = pick(
        "drill_keyword",
        [None, *keywords["keyword"]],
        lambda k: text["any"] if k is None else k,
        "voice_keyword",
    )
with touchpoint_column:
    touchpoint = pick(
        "drill_touchpoint",
        [None, *aspect_names],
        lambda t: text["any"] if t is None else aspect_names[t],
        "voice_touchpoint",
    )
with sentiment_column:
    sentiment = pick(
        "drill_sentiment",
        [None, *data_access.REVIEW_SENTIMENTS],
        lambda s: text["any"] if s is None else labels.code("sentiment", s, language),
        "voice_sentiment",
    )
with brand_column:
    brand = pick(
        "drill_brand", [None, *competitors], lambda b: text["our_brand"] if b is None else b, "voice_brand"
    )
texts = data_access.review_texts(
    scope, filters, keyword, touchpoint, sentiment, brand, DRILL_LIMIT, sees_pii=page.principal.sees_pii
)
st.caption(text["drill_count"].format(n=len(texts), limit=DRILL_LIMIT))
if not texts.empty:
    widgets.show_table(texts, "review_texts", "voice")
