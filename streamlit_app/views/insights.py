"""Insights: what to fix first, who is about to leave and what experience is worth in money.

Four tabs over the insight models' marts, each within the user's scope (the door's): the key-driver
matrix and ranked importance per chain, region or store; the Kano verdicts on the chain's features;
the churn watch list of the user's stores (names and phones as the role may see them); the money
of experience per NPS category. A tab whose mart the serving copy lacks says so; the others still
show. Every model's verdict below its minimum n is said in words, never drawn as a fact.
"""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from cxlake.insights.drivers import NOT_ENOUGH_RESPONSES
from streamlit_app import charts, data_access, labels, widgets

PAGE = "insights"
KEY_DRIVER_SCOPE = "insights_driver_scope"
KEY_WATCH_STORE = "insights_watch_store"
ALL_STORES = ""  # the watch-list picker's value for every store in scope
# Quadrant colours: the one to act on stands out, the rest recede.
QUADRANT_COLOURS = {
    "concentrate_here": "#d62728",
    "keep_up_the_good_work": "#2ca02c",
    "low_priority": "#9e9e9e",
    "possible_overkill": "#1f77b4",
}
# Where each quadrant's label sits in the matrix: (satisfaction side, importance side).
QUADRANT_CORNERS = {
    "concentrate_here": ("low", "high"),
    "keep_up_the_good_work": ("high", "high"),
    "low_priority": ("low", "low"),
    "possible_overkill": ("high", "low"),
}
# The standard Better-Worse diagram's split: coefficients above one half place a feature.
KANO_SPLIT = 0.5

LABELS = {
    "en": {
        "title": "Insights",
        "tab_drivers": "Key drivers",
        "tab_kano": "Kano",
        "tab_churn": "Churn watch list",
        "tab_money": "Money",
        "no_mart": (
            "The serving copy has no {mart} yet: it is written by the insight assets of a newer"
            " pipeline (`cxlake run`)."
        ),
        "drivers_scope": "Scope",
        "chain": "Chain",
        "region_option": "Region {name} ({id})",
        "store_option": "Store {name} ({id})",
        "no_driver_rows": "No key-driver rows in your scope.",
        "drivers_note": (
            "Johnson's relative weights of each touchpoint's CSAT for likelihood to recommend, with"
            " bootstrap 95% intervals; cross-hairs at the mean importance and mean satisfaction."
        ),
        "not_enough": (
            "Not enough responses in {scope} to say what drives recommendation (at most {n:,}"
            " ratings of a touchpoint); the chain or a region may have enough."
        ),
        "drivers_left_out": "Not enough responses to weigh: {drivers}.",
        "matrix_title": "Importance-performance matrix",
        "ranked_title": "Ranked importance",
        "importance": "Share of explained variance",
        "weight": "Relative weight (R² share)",
        "satisfaction": "Mean CSAT (1-5)",
        "touchpoint": "Touchpoint",
        "quadrant": "Quadrant",
        "ci": "95% CI",
        "kano_note": (
            "Each feature's category is its respondents' most frequent answer pair (A, O, M, I, R, Q);"
            " Better = (A + O) / (A + O + M + I), Worse = -(O + M) / (A + O + M + I)."
        ),
        "no_kano_rows": "No Kano survey answers yet.",
        "kano_too_few": "Too few answers to classify: {features}.",
        "feature": "Feature",
        "kano_category": "Kano category",
        "better": "Better (satisfaction when offered)",
        "worse": "|Worse| (dissatisfaction when missing)",
        "watch_store": "Store",
        "all_stores": "All my stores",
        "watch_note": (
            "Members the churn model expects to stop buying, among their store's highest value, most"
            " value at risk first."
        ),
        "no_watch_list": "No member is on the watch list.",
        "money_note": (
            "Members' spend and visits in the {window} days after their answer, by the answer's NPS"
            " category: an association, not a proven effect."
        ),
        "money_empty": (
            "No member's answer has its whole window after it inside the data (transactions {first} to"
            " {last}), so there is nothing to compare yet. The window is dbt's var"
            " experience_value_window_days, 90 days unless set; a shorter history needs a shorter"
            " one: `dbt build --vars '{{\"experience_value_window_days\": 14}}'`."
        ),
        "value_line": (
            "Moving one detractor to promoter is worth {value} over {window} days (95% CI {low} – {high});"
            " revenue at risk from {detractors:,} detractors: {risk} ({risk_low} – {risk_high})."
        ),
        "value_missing": "The value of a detractor made promoter needs both promoters and detractors.",
        "money_scope_chain": "Chain",
        "money_scope_region": "Region {id}",
        "money_scope_store": "Store {id}",
    },
    "zh": {
        "title": "洞察",
        "tab_drivers": "关键驱动因素",
        "tab_kano": "Kano 分析",
        "tab_churn": "流失关注名单",
        "tab_money": "体验价值",
        "no_mart": "发布的数据中尚无 {mart}：它由新版流水线的洞察资产生成（`cxlake run`）。",
        "drivers_scope": "范围",
        "chain": "全公司",
        "region_option": "区域 {name}（{id}）",
        "store_option": "门店 {name}（{id}）",
        "no_driver_rows": "您的范围内没有关键驱动因素数据。",
        "drivers_note": (
            "各触点满意度对推荐意愿的 Johnson 相对权重及其自助法 95% 区间；十字线位于平均重要性与平均满意度。"
        ),
        "not_enough": (
            "{scope} 的答卷不足，无法判断推荐意愿的驱动因素（单个触点最多 {n:,} 条评分）；"
            "全公司或区域层面可能足够。"
        ),
        "drivers_left_out": "样本不足、未计算权重：{drivers}。",
        "matrix_title": "重要性-表现矩阵",
        "ranked_title": "重要性排序",
        "importance": "解释方差占比",
        "weight": "相对权重（R² 分量）",
        "satisfaction": "平均满意度（1-5）",
        "touchpoint": "触点",
        "quadrant": "象限",
        "ci": "95% 区间",
        "kano_note": (
            "每项功能的类别取受访者最常见的答案组合（A、O、M、I、R、Q）；"
            "Better = (A + O) / (A + O + M + I)，Worse = -(O + M) / (A + O + M + I)。"
        ),
        "no_kano_rows": "尚无 Kano 问卷答卷。",
        "kano_too_few": "答卷过少、无法分类：{features}。",
        "feature": "功能",
        "kano_category": "Kano 类别",
        "better": "Better（提供时的满意度提升）",
        "worse": "|Worse|（缺失时的不满）",
        "watch_store": "门店",
        "all_stores": "我的全部门店",
        "watch_note": "流失模型预计将停止消费、且属于本店高价值的会员，按风险金额从高到低排列。",
        "no_watch_list": "关注名单中暂无会员。",
        "money_note": (
            "会员作答后 {window} 天内的消费与到店，按其 NPS 类别统计：这是相关关系，并非已证实的因果。"
        ),
        "money_empty": (
            "没有会员答卷的观察窗口完整落在数据范围内（交易 {first} 至 {last}），暂无可比较的数据。"
            "窗口由 dbt 变量 experience_value_window_days 设定（默认 90 天）；历史较短时需缩短窗口："
            "`dbt build --vars '{{\"experience_value_window_days\": 14}}'`。"
        ),
        "value_line": (
            "将一位贬损者转为推荐者，{window} 天内价值 {value}（95% 区间 {low} – {high}）；"
            "{detractors:,} 位贬损者带来的风险收入：{risk}（{risk_low} – {risk_high}）。"
        ),
        "value_missing": "计算贬损者转为推荐者的价值需要同时有推荐者和贬损者。",
        "money_scope_chain": "全公司",
        "money_scope_region": "区域 {id}",
        "money_scope_store": "门店 {id}",
    },
}


def no_mart(mart: str) -> None:
    st.info(text["no_mart"].format(mart=f"`marts.{mart}`"))


# --- Key drivers ----------------------------------------------------------------------------------


def scope_words(option: str, names: dict[str, str]) -> str:
    """``chain:chain``, ``region:R01``, ``store:S001`` as the picker shows them."""
    level, _, scope_id = option.partition(":")
    if level == "chain":
        return text["chain"]
    name = labels.store_label(names.get(option, scope_id))
    return text[f"{level}_option"].format(name=name, id=scope_id)


def own_scope_option(options: list[str]) -> int:
    """The picker starts on the user's own level: a store manager's store, a regional manager's
    region, the chain for everyone else."""
    level = {"all": "chain", "region": "region", "store": "store"}[scope.kind]
    return next((i for i, option in enumerate(options) if option.partition(":")[0] == level), 0)


def matrix_chart(estimated: pd.DataFrame) -> alt.LayerChart:
    """Satisfaction across, share of explained variance up, cross-hairs at the means (where the mart
    split the quadrants), each quadrant named in its corner."""
    mean_x, mean_y = estimated["satisfaction"].mean(), estimated["relative_weight_share"].mean()
    x_domain = charts.padded_domain(estimated["satisfaction"], (1, 5), 0.2, 0.5)
    y_domain = charts.padded_domain(estimated["relative_weight_share"], (0, 1), 0.05, 0.05)
    data = estimated.assign(
        quadrant_word=estimated["quadrant"].map(lambda q: labels.code("quadrant", q, language))
    )
    base = alt.Chart(data).encode(
        x=alt.X("satisfaction:Q", title=text["satisfaction"], scale=alt.Scale(domain=x_domain)),
        y=alt.Y(
            "relative_weight_share:Q",
            title=text["importance"],
            scale=alt.Scale(domain=y_domain),
            axis=alt.Axis(format="%"),
        ),
    )
    points = base.mark_circle(size=120).encode(
        color=alt.Color(
            "quadrant:N",
            scale=alt.Scale(domain=list(QUADRANT_COLOURS), range=list(QUADRANT_COLOURS.values())),
            legend=None,
        ),
        tooltip=[
            alt.Tooltip("driver_name:N", title=text["touchpoint"]),
            alt.Tooltip("quadrant_word:N", title=text["quadrant"]),
            alt.Tooltip("relative_weight_share:Q", title=text["importance"], format=".1%"),
            alt.Tooltip("satisfaction:Q", title=text["satisfaction"], format=".2f"),
            alt.Tooltip("n:Q", title=labels.header("n", language), format=","),
        ],
    )
    names = base.mark_text(align="left", dx=8).encode(text="driver_name:N")
    hairs = pd.DataFrame({"x": [mean_x], "y": [mean_y]})
    vertical = alt.Chart(hairs).mark_rule(strokeDash=[4, 3], color="#666").encode(x="x:Q")
    horizontal = alt.Chart(hairs).mark_rule(strokeDash=[4, 3], color="#666").encode(y="y:Q")
    corners = pd.DataFrame(
        [
            {
                "x": x_domain[0] if side_x == "low" else x_domain[1],
                "y": y_domain[0] if side_y == "low" else y_domain[1],
                "align": "left" if side_x == "low" else "right",
                "baseline": "bottom" if side_y == "low" else "top",
                "word": labels.code("quadrant", quadrant, language),
            }
            for quadrant, (side_x, side_y) in QUADRANT_CORNERS.items()
        ]
    )
    corner_marks = [
        alt.Chart(corners[(corners["align"] == align) & (corners["baseline"] == baseline)])
        .mark_text(
            align=align, baseline=baseline, dx=4 if align == "left" else -4, color="#888", fontStyle="italic"
        )
        .encode(x="x:Q", y="y:Q", text="word:N")
        for align in ("left", "right")
        for baseline in ("top", "bottom")
    ]
    return alt.layer(vertical, horizontal, *corner_marks, points, names).properties(
        title=text["matrix_title"], height=380
    )


def ranked_chart(estimated: pd.DataFrame) -> alt.LayerChart:
    """Relative weight per touchpoint, largest first, with its bootstrap interval as an error bar."""
    order = list(estimated["driver_name"])
    base = alt.Chart(estimated).encode(
        y=alt.Y("driver_name:N", title=text["touchpoint"], sort=order),
    )
    bars = base.mark_bar(color="#4c78a8").encode(
        x=alt.X("relative_weight:Q", title=text["weight"]),
        tooltip=[
            alt.Tooltip("driver_name:N", title=text["touchpoint"]),
            alt.Tooltip("relative_weight:Q", title=text["weight"], format=".3f"),
            alt.Tooltip("ci_low:Q", title=f"{text['ci']} ↓", format=".3f"),
            alt.Tooltip("ci_high:Q", title=f"{text['ci']} ↑", format=".3f"),
        ],
    )
    errors = base.mark_errorbar(ticks=True, color="#333").encode(
        x=alt.X("ci_low:Q", title=text["weight"]), x2="ci_high:Q"
    )
    return alt.layer(bars, errors).properties(title=text["ranked_title"], height=max(120, 36 * len(order)))


def drivers_tab() -> None:
    scopes = data_access.key_driver_scopes(scope)
    if scopes is None:
        no_mart("mart_key_drivers")
        return
    if scopes.empty:
        st.info(text["no_driver_rows"])
        return
    options = [
        f"{level}:{scope_id}"
        for level, scope_id in zip(scopes["scope_level"], scopes["scope_id"], strict=True)
    ]
    names = dict(zip(options, scopes["name"], strict=True))
    picked = st.selectbox(
        text["drivers_scope"],
        options,
        index=own_scope_option(options),
        format_func=lambda option: scope_words(option, names),
        key=KEY_DRIVER_SCOPE,
    )
    level, _, scope_id = picked.partition(":")
    rows = data_access.key_drivers(scope, level, scope_id)
    name_column = f"driver_name_{language}"
    rows = rows.assign(driver_name=rows[name_column]).drop(columns=["driver_name_en", "driver_name_zh"])
    estimated = rows[rows["quadrant"] != NOT_ENOUGH_RESPONSES]
    if estimated.empty:
        st.info(text["not_enough"].format(scope=scope_words(picked, names), n=int(rows["n"].max() or 0)))
        return
    st.caption(text["drivers_note"])
    charts.show(matrix_chart(estimated))
    charts.show(ranked_chart(estimated))
    left_out = rows[rows["quadrant"] == NOT_ENOUGH_RESPONSES]
    if not left_out.empty:
        st.caption(
            text["drivers_left_out"].format(
                drivers=", ".join(
                    f"{name} (n = {n:,})"
                    for name, n in zip(left_out["driver_name"], left_out["n"], strict=True)
                )
            )
        )
    shown = rows.rename(columns={"ci_low": "weight_ci_low", "ci_high": "weight_ci_high"})[
        [
            "driver_name", "quadrant", "relative_weight_share", "relative_weight", "weight_ci_low",
            "weight_ci_high", "satisfaction", "n", "driver",
        ]
    ]  # fmt: skip
    widgets.show_table(shown, "insights_key_drivers", PAGE)


# --- Kano -----------------------------------------------------------------------------------------


def kano_chart(reportable: pd.DataFrame) -> alt.LayerChart:
    """The Better-Worse diagram: |Worse| across, Better up, split at one half into must-be (right,
    low), one-dimensional (right, high), attractive (left, high) and indifferent (left, low)."""
    data = reportable.assign(
        dissatisfaction=-reportable["worse"],
        category_word=reportable["kano_category"].map(lambda c: labels.code("kano_category", c, language)),
    )
    unit = alt.Scale(domain=[0, 1])
    base = alt.Chart(data).encode(
        x=alt.X("dissatisfaction:Q", title=text["worse"], scale=unit),
        y=alt.Y("better:Q", title=text["better"], scale=unit),
    )
    points = base.mark_circle(size=120).encode(
        color=alt.Color("category_word:N", title=text["kano_category"]),
        tooltip=[
            alt.Tooltip("feature_label:N", title=text["feature"]),
            alt.Tooltip("category_word:N", title=text["kano_category"]),
            alt.Tooltip("better:Q", title="Better", format=".2f"),
            alt.Tooltip("worse:Q", title="Worse", format=".2f"),
            alt.Tooltip("n:Q", title=labels.header("n", language), format=","),
        ],
    )
    names = base.mark_text(align="left", dx=8).encode(text="feature_label:N")
    split = pd.DataFrame({"at": [KANO_SPLIT]})
    vertical = alt.Chart(split).mark_rule(strokeDash=[4, 3], color="#666").encode(x="at:Q")
    horizontal = alt.Chart(split).mark_rule(strokeDash=[4, 3], color="#666").encode(y="at:Q")
    return alt.layer(vertical, horizontal, points, names).properties(height=380)


def kano_tab() -> None:
    kano = data_access.kano_features(scope)
    if kano is None:
        no_mart("mart_kano")
        return
    if kano.empty:
        st.info(text["no_kano_rows"])
        return
    st.caption(text["kano_note"])
    reportable = kano[kano["is_reportable"]]
    if not reportable.empty:
        charts.show(kano_chart(reportable))
    too_few = kano[~kano["is_reportable"]]
    if not too_few.empty:
        st.caption(
            text["kano_too_few"].format(
                features=", ".join(
                    f"{label} ({labels.too_few(n, language)})"
                    for label, n in zip(too_few["feature_label"], too_few["n"], strict=True)
                )
            )
        )
    counts = [column for column in kano.columns if column.startswith("count_")]
    shown = kano[
        ["feature_label", "kano_category", "n", "better", "worse", *counts, "is_reportable", "feature"]
    ]
    widgets.show_table(shown, "insights_kano", PAGE)


# --- Churn watch list -----------------------------------------------------------------------------


def churn_tab() -> None:
    stores = data_access.filter_options(scope).stores
    store_ids = [ALL_STORES, *stores] if len(stores) > 1 else list(stores)
    picked = st.selectbox(
        text["watch_store"],
        store_ids,
        format_func=lambda store: (
            text["all_stores"] if store == ALL_STORES else f"{labels.store_label(stores[store])} ({store})"
        ),
        key=KEY_WATCH_STORE,
    )
    watch = data_access.churn_watch_list(scope, principal.sees_pii, picked or None)
    if watch is None:
        no_mart("mart_churn_risk")
        return
    if watch.empty:
        st.info(text["no_watch_list"])
        return
    st.caption(text["watch_note"])
    shown = watch.assign(store_name=watch["store_name"].map(labels.store_label))
    widgets.show_table(shown, "insights_churn_watch_list", PAGE)


# --- Money ----------------------------------------------------------------------------------------


def money_words(value: object) -> str:
    return "—" if value is None or pd.isna(value) else f"¥{float(value):,.2f}"


def money_tab() -> None:
    value = data_access.experience_value(scope)
    if value is None:
        no_mart("mart_experience_value")
        return
    if value.empty:
        span = data_access.transaction_span(scope)
        st.info(
            text["money_empty"].format(
                first=span.first_day or "—",
                last=span.last_day or "—",
            )
        )
        return
    window = int(value["window_days"].iloc[0])
    st.caption(text["money_note"].format(window=window))
    for scope_id, rows in value.groupby("scope_id", sort=False):
        level = rows["scope_level"].iloc[0]
        st.subheader(text[f"money_scope_{level}"].format(id=scope_id), anchor=False)
        first = rows.iloc[0]
        if pd.isna(first["detractor_to_promoter_value"]):
            st.markdown(text["value_missing"])
        else:
            st.markdown(
                text["value_line"].format(
                    value=money_words(first["detractor_to_promoter_value"]),
                    window=window,
                    low=money_words(first["detractor_to_promoter_value_ci_low"]),
                    high=money_words(first["detractor_to_promoter_value_ci_high"]),
                    detractors=int(first["count_detractor_members"]),
                    risk=money_words(first["detractor_revenue_at_risk"]),
                    risk_low=money_words(first["detractor_revenue_at_risk_ci_low"]),
                    risk_high=money_words(first["detractor_revenue_at_risk_ci_high"]),
                )
            )
        shown = rows[
            [
                "nps_category", "count_members", "is_reportable", "avg_spend", "avg_spend_ci_low",
                "avg_spend_ci_high", "avg_visits", "repeat_rate", "repeat_rate_ci_low", "repeat_rate_ci_high",
            ]
        ]  # fmt: skip
        widgets.show_table(shown, f"insights_experience_value_{scope_id}", PAGE)


language, text, principal = widgets.page_header(LABELS, PAGE)
if not data_access.serving_copy_exists():
    st.warning(text["no_serving"])
    st.stop()
scope = principal.scope
for tab, section in zip(
    st.tabs([text["tab_drivers"], text["tab_kano"], text["tab_churn"], text["tab_money"]]),
    (drivers_tab, kano_tab, churn_tab, money_tab),
    strict=True,
):
    with tab:
        section()
