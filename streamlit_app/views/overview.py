"""Overview: NPS with its interval, its trend, the 0-10 score spread and CSAT along the journey."""

import pandas as pd
import streamlit as st

from streamlit_app import charts, data_access, widgets

LABELS = {
    "en": {
        "title": "Overview",
        "nps": "NPS",
        "nps_headline": "NPS {nps:.1f} (95% CI {low:.1f} – {high:.1f}), n = {n:,}",
        "too_few": "Too few responses to report an NPS (n = {n:,}; at least {min} needed).",
        "trend": "NPS trend with 95% interval",
        "grain": "Period",
        "grain_day": "Day",
        "grain_week": "Week",
        "grain_month": "Month",
        "period": "Period",
        "ci_low": "95% CI low",
        "ci_high": "95% CI high",
        "responses": "Responses",
        "distribution": "Likelihood to recommend (0-10)",
        "score": "Score",
        "category": "Category",
        "csat_title": "Satisfaction by touchpoint (top-2-box)",
        "csat": "CSAT (top-2-box)",
        "mean_csat": "Mean (1-5)",
        "touchpoint": "Touchpoint",
        "no_ratings": "No touchpoint ratings for this selection.",
    },
    "zh": {
        "title": "概览",
        "nps": "NPS",
        "nps_headline": "NPS {nps:.1f}（95% 置信区间 {low:.1f} – {high:.1f}），n = {n:,}",
        "too_few": "样本过少，不报告 NPS（n = {n:,}；至少需要 {min} 份）。",
        "trend": "NPS 趋势（含 95% 置信区间）",
        "grain": "周期",
        "grain_day": "日",
        "grain_week": "周",
        "grain_month": "月",
        "period": "周期",
        "ci_low": "95% 区间下限",
        "ci_high": "95% 区间上限",
        "responses": "答卷数",
        "distribution": "推荐意愿（0-10 分）",
        "score": "分数",
        "category": "类别",
        "csat_title": "各触点满意度（前两格占比）",
        "csat": "满意度（前两格）",
        "mean_csat": "平均分（1-5）",
        "touchpoint": "触点",
        "no_ratings": "当前筛选下没有触点评分。",
    },
}


def show_data(frame: pd.DataFrame, file_stem: str) -> None:
    widgets.chart_data(frame, file_stem, "overview", text)


page = widgets.filtered_page(LABELS, "overview")
language, text, scope, filters = page.language, page.text, page.scope, page.filters
summary = data_access.nps_summary(scope, filters)
if summary.n == 0:
    st.info(text["no_data"])
    st.stop()

widgets.nps_headline(summary, text)

trend_column, distribution_column = st.columns(2)
with trend_column:
    st.subheader(text["trend"])
    grain = st.radio(
        text["grain"],
        options=data_access.TREND_GRAINS,
        index=data_access.TREND_GRAINS.index("week"),
        format_func=lambda g: text[f"grain_{g}"],
        horizontal=True,
        key="trend_grain",
    )
    trend = data_access.nps_trend(scope, filters, grain)
    charts.show(charts.nps_trend_chart(trend, text, language))
    # The file keeps every period's n and says which ones are too few to be read as a score.
    show_data(
        trend[["period", "nps", "ci_low", "ci_high", "n"]]
        .assign(reportable=charts.reportable(trend["n"]))
        .rename(columns={"n": "responses"}),
        f"nps_trend_{grain}",
    )
with distribution_column:
    st.subheader(text["distribution"])
    distribution = data_access.score_distribution(scope, filters)
    charts.show(charts.score_histogram(distribution, text, language))
    show_data(distribution, "score_distribution")

st.subheader(text["csat_title"])
csat = data_access.csat_by_touchpoint(scope, filters)
if csat["n"].sum() == 0:
    st.info(text["no_ratings"])
else:
    name_column = "touchpoint_name_zh" if language == "zh" else "touchpoint_name_en"
    charts.show(charts.csat_by_touchpoint_chart(csat, name_column, text, language))
    show_data(
        csat[["touchpoint_id", name_column, "n", "top2_share", "mean_csat"]]
        .assign(reportable=charts.reportable(csat["n"]))
        .rename(columns={name_column: "touchpoint", "top2_share": "csat"}),
        "csat_by_touchpoint",
    )
