"""Overview: NPS with its interval, its trend, the 0-10 score spread and CSAT along the journey."""

import pandas as pd
import streamlit as st

from cxlake import metrics
from cxlake.metrics import settings
from streamlit_app import charts, data_access, labels, widgets

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
        "ces": "CES (1-7)",
        "csat_tile": "CSAT · {touchpoint}",
        "too_few_tile": "n = {n:,}, too few",
        "tile_n": "n = {n:,}",
        "vs_previous": "vs the previous {days} days",
        "vs_last_year": "vs the same days last year",
        "was": "was {value}, n = {n:,}",
        "change_line": "{comparison}: {verdict} · {was}",
        "no_comparison": "No earlier period of the same length in the data to compare with.",
        "change_segment": "Split the change by",
        "segment_channel": "Channel",
        "segment_store": "Store",
        "segment_member_tier": "Member tier",
        "segment": "Segment",
        "share_previous": "Share before",
        "share_current": "Share now",
        "nps_previous": "NPS before",
        "nps_current": "NPS now",
        "rate_effect": "From scores",
        "mix_effect": "From who answered",
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
        "ces": "费力度 CES（1-7）",
        "csat_tile": "满意度 · {touchpoint}",
        "too_few_tile": "n = {n:,}，样本过少",
        "tile_n": "n = {n:,}",
        "vs_previous": "较前 {days} 天",
        "vs_last_year": "较去年同期",
        "was": "当时 {value}，n = {n:,}",
        "change_line": "{comparison}：{verdict} · {was}",
        "no_comparison": "数据中没有同样长度的更早周期可供比较。",
        "change_segment": "变化拆分维度",
        "segment_channel": "渠道",
        "segment_store": "门店",
        "segment_member_tier": "会员等级",
        "segment": "分组",
        "share_previous": "此前占比",
        "share_current": "本期占比",
        "nps_previous": "此前 NPS",
        "nps_current": "本期 NPS",
        "rate_effect": "来自打分",
        "mix_effect": "来自答题人群",
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

# -- headline tiles: each value with its target and its change against earlier periods ----------
current = data_access.headline_counts(scope, filters)
comparisons = data_access.headline_comparisons(scope, filters)
targets = data_access.view_targets(scope, filters).targets
TILE_FORMATS = {"nps": "{:.1f}", "csat": "{:.1f}%", "ces": "{:.2f}"}


def comparison_name(kind: str) -> str:
    if kind == "previous":
        return text["vs_previous"].format(days=(filters.date_to - filters.date_from).days + 1)
    return text["vs_last_year"]


def tile_notes(measure: str, value: float | None, changes: dict[str, metrics.Change | None]) -> None:
    """The target beside the value, then one line per comparison: verdict and the earlier value."""
    if value is not None and measure in targets:
        st.caption(labels.target_gap(value, targets[measure], measure, language))
    for kind, change in changes.items():
        if change is not None:
            was = text["was"].format(value=TILE_FORMATS[measure].format(change.previous), n=change.n_previous)
            verdict = labels.change_verdict(change, measure, language)
            st.caption(text["change_line"].format(comparison=comparison_name(kind), verdict=verdict, was=was))
    if not comparisons:
        st.caption(text["no_comparison"])


def small_tile(label: str, measure: str, n: int, value: float | None, changes) -> None:
    """A CES or CSAT tile: the value with its n, or "too few" below the minimum (never a bare score)."""
    if value is None or n < settings().min_responses:
        st.metric(label, "—")
        st.caption(text["too_few_tile"].format(n=n))
        return
    st.metric(label, TILE_FORMATS[measure].format(value))
    st.caption(text["tile_n"].format(n=n))
    tile_notes(measure, value, changes)


def shift_share_section() -> None:
    """Under the NPS tile: the change against the previous period split into rate and mix."""
    previous = comparisons.get("previous")
    change = previous and metrics.nps_difference(summary.counts, previous.nps.counts)
    if not change or not change.comparable:
        return
    segment = st.selectbox(
        text["change_segment"],
        options=data_access.CHANGE_SEGMENTS,
        format_func=lambda s: text[f"segment_{s}"],
        key="change_segment",
    )
    counts = {
        period: {
            row.segment: (int(row.promoters), int(row.passives), int(row.detractors))
            for row in data_access.nps_segment_counts(scope, period_filters, segment).itertuples()
        }
        for period, period_filters in (("current", filters), ("previous", previous.period))
    }
    split = metrics.nps_shift_share(counts["current"], counts["previous"])
    store_names = data_access.filter_options(scope).stores
    words = {
        s.segment: labels.store_label(store_names.get(s.segment, s.segment))
        if segment == "store"
        else labels.code("member_tier" if segment == "member_tier" else "channel", s.segment, language)
        for s in split.segments
    }
    st.markdown(labels.shift_share_sentence(split, words, language))
    table = pd.DataFrame(
        [
            (words[s.segment], s.share_previous, s.share_current, s.nps_previous, s.nps_current,
             s.rate_effect, s.mix_effect)
            for s in split.segments
        ],
        columns=["segment", "share_previous", "share_current", "nps_previous", "nps_current",
                 "rate_effect", "mix_effect"],
    )  # fmt: skip
    widgets.show_table(table, headers={column: text[column] for column in table.columns})


nps_column, ces_column = st.columns(2)
with nps_column:
    widgets.nps_headline(summary, text)
    if not summary.too_few_responses:
        tile_notes(
            "nps",
            summary.nps,
            {kind: metrics.nps_difference(summary.counts, c.nps.counts) for kind, c in comparisons.items()},
        )
        shift_share_section()
with ces_column:
    small_tile(
        text["ces"],
        "ces",
        current.ces.n,
        current.ces.mean,
        {kind: metrics.mean_difference(current.ces, c.ces) for kind, c in comparisons.items()},
    )
touchpoint_name = "touchpoint_name_zh" if language == "zh" else "touchpoint_name_en"
rated = current.csat[current.csat["n"] > 0]
for start in range(0, len(rated), 4):
    for column, row in zip(st.columns(4), rated.iloc[start : start + 4].itertuples(), strict=False):
        with column:
            earlier = {
                kind: c.csat.set_index("touchpoint_id").loc[row.touchpoint_id]
                for kind, c in comparisons.items()
            }
            small_tile(
                text["csat_tile"].format(touchpoint=getattr(row, touchpoint_name)),
                "csat",
                int(row.n),
                100 * row.top2_share,
                {
                    kind: metrics.top2_difference(int(row.top_box), int(row.n), int(e.top_box), int(e.n))
                    for kind, e in earlier.items()
                },
            )

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
