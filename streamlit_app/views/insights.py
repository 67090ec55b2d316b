"""Insights: what to fix first, who is about to leave and what experience is worth in money.

Five tabs over the insight models' marts, each within the user's scope (the door's): the key-driver
matrix and ranked importance per chain, region or store; the Kano verdicts on the chain's features;
the churn watch list of the user's stores (names and phones as the role may see them); the money
of experience per NPS category; peak and end per journey stage (does the worst or the last moment
explain recommendation beyond the average?). A tab whose mart the serving copy lacks says so; the
others still show. Every model's verdict below its minimum n is said in words, never drawn as a fact.
"""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from cxlake.insights.drivers import NOT_ENOUGH_RESPONSES
from cxlake.insights.peak_end import FIX_LAST, FIX_WORST, JOURNEY, TOO_FEW
from cxlake.insights.peak_end import load_settings as peak_end_settings
from cxlake.metrics import settings as metric_settings
from streamlit_app import charts, data_access, labels, widgets
from streamlit_app.data_access import frontline as frontline_access
from streamlit_app.data_access import money as money_access
from streamlit_app.data_access import peak_end as peak_end_access

PAGE = "insights"
KEY_DRIVER_SCOPE = "insights_driver_scope"
KEY_WATCH_STORE = "insights_watch_store"
KEY_PEAK_END_SCOPE = "insights_peak_end_scope"
KEY_FRONTLINE_STORE = "insights_frontline_store"
KEY_FRONTLINE_STAFF = "insights_frontline_staff"
KEY_MONEY_SCOPE = "insights_money_scope"
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
        "tab_frontline": "Frontline",
        "frontline_note": (
            "Your staff, to thank and coach: the CSAT of the answers about orders each one served"
            " (countable, not marked suspect; 95% interval) and the comments naming them, over all"
            " loaded days. A CSAT of fewer than {min} answers is not shown; the list is in roster"
            " order, not a ranking."
        ),
        "frontline_store": "Store",
        "frontline_pick": "Staff member",
        "frontline_staff_title": "Staff of {store}",
        "frontline_touchpoints_title": "{name}: CSAT by touchpoint",
        "frontline_comments_title": "Comments naming {name}",
        "no_frontline_rows": "No staff member in your scope.",
        "no_mentions": "No comment names {name}.",
        "csat_with_ci": "{mean:.2f} (95% CI {low:.2f}–{high:.2f})",
        "fl_staff_name": "Staff member",
        "fl_staff_id": "Staff id",
        "fl_role": "Role",
        "fl_staff_csat": "Staff service CSAT (1-5)",
        "fl_n": "Answers",
        "fl_praise": "Praise",
        "fl_complaints": "Complaints",
        "fl_integrity": "Integrity",
        "fl_suspect": "Some answers marked suspect (left out)",
        "fl_touchpoint": "Touchpoint",
        "fl_csat": "CSAT (1-5)",
        "fl_top2": "Top-2-box (%)",
        "fl_when": "Answered at",
        "fl_channel": "Channel",
        "fl_mention": "Mention",
        "fl_comment": "Comment",
        "mention_positive": "Praise",
        "mention_negative": "Complaint",
        "mention_neutral": "Neutral",
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
            "Members' spend, visits and return in the {window} days after their answer (transactions to"
            " {last}), by the answer's NPS category, with 95% intervals (means: normal approximation;"
            " repeat rate: Wilson; money: bootstrap). The window fits the data: at most dbt's"
            " experience_value_window_days (90 days unless set) and at most half the days from the first"
            " to the last transaction. Associations, not proven effects."
        ),
        "money_empty": (
            "No member's answer has its whole window after it inside the data yet (transactions {first} to"
            " {last}). The window is half the days from the first to the last transaction, at most dbt's"
            " experience_value_window_days (90 days unless set): the answers of the history's first half"
            " count, so it fills as days arrive."
        ),
        "money_scope": "Scope",
        "value_line": (
            "**A detractor made promoter is worth {value}** per member over {window} days (95% CI {low} –"
            " {high}): what promoters spent in the window beyond detractors."
        ),
        "churn_line": (
            "**Detractors come back less:** {detractor_rate} of detractors bought again within {window}"
            " days against {promoter_rate} of promoters, {excess} points fewer (95% CI {low} – {high})."
        ),
        "risk_detractor_line": (
            "**Revenue at risk from detractors: {risk}** over the next {window} days (95% CI {low} –"
            " {high}): {count:,} members whose latest answer, in the last {window} days, was a detractor's,"
            " times their excess churn, times the {spend} a detractor who stays spends."
        ),
        "risk_case_line": (
            "**Revenue at risk from unresolved cases: {risk}** (95% CI {low} – {high}): {count:,} members"
            " with an open or breached case, spending {spend} per {window} days together, at the"
            " detractors' excess churn. Many are the same customers as above: do not add the two."
        ),
        "money_too_few": (
            "Too few members with a whole window to put a money figure on: promoters {promoters},"
            " detractors {detractors} (at least {minimum:,} of each)."
        ),
        "value_missing": "The value of a detractor made promoter needs both promoters and detractors.",
        "no_money_mart": "The money figures (marts.mart_experience_money) are not in the serving copy yet.",
        "members": "Members",
        "visits_ci_low": "Mean visits 95% CI low",
        "visits_ci_high": "Mean visits 95% CI high",
        "note": "Note",
        "csat_title": "One more CSAT point",
        "csat_note": (
            "Chain-wide, from the key-driver model's respondents: the change per CSAT point in the"
            " chance of a promoter and of a detractor answer (least squares, an intercept per set of"
            " touchpoints rated), times each category's spend in the window against passives';"
            " bootstrap 95% intervals. An association: customers who rate a touchpoint higher may"
            " differ in other ways."
        ),
        "csat_line": (
            "**One more CSAT point at {touchpoint} is worth {value} per member** over {window} days"
            " (95% CI {low} – {high}); {per_rater} per customer who rates it ({share} of respondents do):"
            " the chance of a promoter answer rises {up} points, that of a detractor's falls {down}."
        ),
        "csat_none": "No touchpoint has enough ratings for a revenue estimate.",
        "effect_touchpoint": "Touchpoint",
        "effect_ratings": "Ratings",
        "effect_rated": "Rated by (%)",
        "effect_member": "Per member",
        "effect_member_low": "Per member 95% CI low",
        "effect_member_high": "Per member 95% CI high",
        "effect_rater": "Per rater",
        "effect_rater_low": "Per rater 95% CI low",
        "effect_rater_high": "Per rater 95% CI high",
        "effect_promoter": "Promoter chance (points)",
        "effect_detractor": "Detractor chance (points)",
        "tab_peak_end": "Peak and end",
        "peak_end_note": (
            "Does the worst moment (the lowest touchpoint CSAT) or the last one explain likelihood to"
            " recommend beyond the average CSAT? R² of four nested least-squares models per journey"
            " stage; a gain counts at p < {significance} and at least {min_gain} points of R²."
        ),
        "no_peak_end_rows": "No peak-and-end rows in your scope.",
        "whole_journey": "Whole journey",
        "model_mean": "Mean",
        "model_mean_lowest": "Mean + worst",
        "model_mean_last": "Mean + last",
        "model_mean_lowest_last": "Mean + worst + last",
        "model": "Model",
        "r2": "R² (%)",
        "verdict_fix_worst_moment": (
            "**Fix the worst moment.** Beyond the average CSAT, the lowest rating explains {gain_low}"
            " more points of R² (p {p_low}); the worst moment is most often {lowest}."
        ),
        "verdict_fix_last_moment": (
            "**Fix the last moment.** Beyond the average CSAT, the last touchpoint's rating explains"
            " {gain_last} more points of R² (p {p_last}); the last touchpoint is most often {last}."
        ),
        "verdict_average_is_enough": (
            "**The average is enough.** Neither the worst moment ({gain_low} points of R², p {p_low})"
            " nor the last one ({gain_last} points, p {p_last}) explains recommendation beyond the"
            " average CSAT: raise the touchpoints that matter most (Key drivers)."
        ),
        "verdict_too_few": "{too_few}: comparing the models needs at least {min:,} respondents.",
        "col_stage": "Stage",
        "col_verdict": "Verdict",
        "col_r2_mean": "R² mean (%)",
        "col_r2_mean_lowest": "R² mean + worst (%)",
        "col_r2_mean_last": "R² mean + last (%)",
        "col_r2_mean_lowest_last": "R² mean + worst + last (%)",
        "col_lowest_gain": "Worst: gain (points)",
        "col_lowest_p": "Worst: p",
        "col_last_gain": "Last: gain (points)",
        "col_last_p": "Last: p",
        "col_lowest_beta": "Worst: standardized β",
        "col_last_beta": "Last: standardized β",
        "word_fix_worst_moment": "Fix the worst moment",
        "word_fix_last_moment": "Fix the last moment",
        "word_average_is_enough": "The average is enough",
    },
    "zh": {
        "title": "洞察",
        "tab_drivers": "关键驱动因素",
        "tab_kano": "Kano 分析",
        "tab_churn": "流失关注名单",
        "tab_money": "体验价值",
        "tab_frontline": "一线员工",
        "frontline_note": (
            "用于表扬与辅导本店员工：每位员工所服务订单的答卷满意度（计入统计、未被标记可疑；95% 区间）"
            "以及提到其姓名的留言，统计全部已加载日期。少于 {min} 份答卷的满意度不显示；"
            "名单按员工编号排列，不是排名。"
        ),
        "frontline_store": "门店",
        "frontline_pick": "员工",
        "frontline_staff_title": "{store} 的员工",
        "frontline_touchpoints_title": "{name}：各触点满意度",
        "frontline_comments_title": "提到 {name} 的留言",
        "no_frontline_rows": "您的范围内没有员工。",
        "no_mentions": "没有留言提到 {name}。",
        "csat_with_ci": "{mean:.2f}（95% 区间 {low:.2f}–{high:.2f}）",
        "fl_staff_name": "员工",
        "fl_staff_id": "员工编号",
        "fl_role": "岗位",
        "fl_staff_csat": "店员服务满意度（1-5）",
        "fl_n": "答卷数",
        "fl_praise": "表扬",
        "fl_complaints": "投诉",
        "fl_integrity": "真实性",
        "fl_suspect": "部分答卷被标记可疑（已剔除）",
        "fl_touchpoint": "触点",
        "fl_csat": "满意度（1-5）",
        "fl_top2": "前两格占比（%）",
        "fl_when": "作答时间",
        "fl_channel": "渠道",
        "fl_mention": "提及",
        "fl_comment": "留言",
        "mention_positive": "表扬",
        "mention_negative": "投诉",
        "mention_neutral": "中性",
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
            "会员作答后 {window} 天内的消费、到店与回购（交易截至 {last}），按其 NPS 类别统计，附 95% 区间"
            "（均值：正态近似；回购率：Wilson；金额：自助法）。窗口随数据而定：不超过 dbt 变量"
            " experience_value_window_days（默认 90 天），且不超过首末交易日间隔天数的一半。"
            "这是相关关系，并非已证实的因果。"
        ),
        "money_empty": (
            "暂无会员答卷的观察窗口完整落在数据范围内（交易 {first} 至 {last}）。"
            "窗口为首末交易日间隔天数的一半，且不超过 dbt 变量 experience_value_window_days"
            "（默认 90 天）：历史前半段的答卷计入，随数据增加而充实。"
        ),
        "money_scope": "范围",
        "value_line": (
            "**一位贬损者转为推荐者，价值 {value}**（每位会员，{window} 天内；95% 区间 {low} – {high}）："
            "即推荐者在窗口内比贬损者多消费的金额。"
        ),
        "churn_line": (
            "**贬损者回购更少：**{window} 天内再次消费的贬损者占 {detractor_rate}，推荐者占 {promoter_rate}，"
            "少 {excess} 个百分点（95% 区间 {low} – {high}）。"
        ),
        "risk_detractor_line": (
            "**贬损者带来的风险收入：{risk}**（未来 {window} 天；95% 区间 {low} – {high}）："
            "最近 {window} 天内最新一次作答为贬损的 {count:,} 位会员，"
            "乘以其超额流失率，再乘以留存贬损者的消费 {spend}。"
        ),
        "risk_case_line": (
            "**未解决工单带来的风险收入：{risk}**（95% 区间 {low} – {high}）："
            "{count:,} 位会员的工单仍未关闭或已超时，他们每 {window} 天合计消费 {spend}，"
            "按贬损者的超额流失率计。与上一项多为同一批顾客：两者不可相加。"
        ),
        "money_too_few": (
            "窗口完整的会员过少，无法给出金额：推荐者 {promoters}，贬损者 {detractors}"
            "（每类至少 {minimum:,} 位）。"
        ),
        "value_missing": "计算贬损者转为推荐者的价值需要同时有推荐者和贬损者。",
        "no_money_mart": "服务副本中尚无金额指标（marts.mart_experience_money）。",
        "members": "会员数",
        "visits_ci_low": "人均到店次数 95% 区间下限",
        "visits_ci_high": "人均到店次数 95% 区间上限",
        "note": "说明",
        "csat_title": "满意度提升一分",
        "csat_note": (
            "全公司，基于关键驱动模型的受访者：每提升一分满意度，推荐者与贬损者作答概率的变化（最小二乘，"
            "按所评触点组合分别设截距），乘以各类别在窗口内相对被动者的消费差；95% 区间为自助法。"
            "这是相关关系：评分较高的顾客可能在其他方面也不同。"
        ),
        "csat_line": (
            "**{touchpoint}满意度每提升一分，每位会员价值 {value}**"
            "（{window} 天内；95% 区间 {low} – {high}）；"
            "对评价该触点的顾客为每人 {per_rater}（{share} 的受访者评价了它）：推荐概率上升 {up} 个百分点，"
            "贬损概率下降 {down} 个百分点。"
        ),
        "csat_none": "没有触点的评分数足以估算收入影响。",
        "effect_touchpoint": "触点",
        "effect_ratings": "评分数",
        "effect_rated": "评价比例 (%)",
        "effect_member": "每位会员",
        "effect_member_low": "每位会员 95% 区间下限",
        "effect_member_high": "每位会员 95% 区间上限",
        "effect_rater": "每位评价者",
        "effect_rater_low": "每位评价者 95% 区间下限",
        "effect_rater_high": "每位评价者 95% 区间上限",
        "effect_promoter": "推荐概率（百分点）",
        "effect_detractor": "贬损概率（百分点）",
        "tab_peak_end": "峰终体验",
        "peak_end_note": (
            "最差的环节（最低的触点满意度）或最后的环节，能否在平均满意度之外进一步解释推荐意愿？"
            "按旅程阶段比较四个嵌套最小二乘模型的 R²；"
            "增量需 p < {significance} 且至少 {min_gain} 个百分点才计入。"
        ),
        "no_peak_end_rows": "您的范围内没有峰终体验数据。",
        "whole_journey": "整个旅程",
        "model_mean": "平均",
        "model_mean_lowest": "平均 + 最差",
        "model_mean_last": "平均 + 最后",
        "model_mean_lowest_last": "平均 + 最差 + 最后",
        "model": "模型",
        "r2": "R²（%）",
        "verdict_fix_worst_moment": (
            "**先改善最差的环节。** 在平均满意度之外，最低评分可再解释 {gain_low} 个百分点的 R²"
            "（p {p_low}）；最差的环节最常是{lowest}。"
        ),
        "verdict_fix_last_moment": (
            "**先改善最后的环节。** 在平均满意度之外，最后一个触点的评分可再解释 {gain_last} 个百分点的 R²"
            "（p {p_last}）；最后的触点最常是{last}。"
        ),
        "verdict_average_is_enough": (
            "**平均水平已足够。** 最差环节（{gain_low} 个百分点，p {p_low}）"
            "与最后环节（{gain_last} 个百分点，p {p_last}）都不能在平均满意度之外进一步解释推荐意愿："
            "请提升最重要的触点（见关键驱动因素）。"
        ),
        "verdict_too_few": "{too_few}：比较模型至少需要 {min:,} 位受访者。",
        "col_stage": "阶段",
        "col_verdict": "结论",
        "col_r2_mean": "R² 平均（%）",
        "col_r2_mean_lowest": "R² 平均 + 最差（%）",
        "col_r2_mean_last": "R² 平均 + 最后（%）",
        "col_r2_mean_lowest_last": "R² 平均 + 最差 + 最后（%）",
        "col_lowest_gain": "最差：增量（百分点）",
        "col_lowest_p": "最差：p",
        "col_last_gain": "最后：增量（百分点）",
        "col_last_p": "最后：p",
        "col_lowest_beta": "最差：标准化 β",
        "col_last_beta": "最后：标准化 β",
        "word_fix_worst_moment": "先改善最差的环节",
        "word_fix_last_moment": "先改善最后的环节",
        "word_average_is_enough": "平均水平已足够",
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


def pick_scope(scopes: pd.DataFrame, label: str, key: str) -> tuple[str, str, str]:
    """A picker over the scopes a mart has rows for (``scope_level``, ``scope_id``, ``name``),
    starting on the user's own level: a store manager's store, a regional manager's region, the
    chain for everyone else. Returns the picked level, scope id and the words naming it."""
    options = [
        f"{level}:{scope_id}"
        for level, scope_id in zip(scopes["scope_level"], scopes["scope_id"], strict=True)
    ]
    names = dict(zip(options, scopes["name"], strict=True))
    own_level = {"all": "chain", "region": "region", "store": "store"}[scope.kind]
    own = next((i for i, option in enumerate(options) if option.partition(":")[0] == own_level), 0)
    picked = st.selectbox(
        label, options, index=own, format_func=lambda option: scope_words(option, names), key=key
    )
    level, _, scope_id = picked.partition(":")
    return level, scope_id, scope_words(picked, names)


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
    level, scope_id, scope_name = pick_scope(scopes, text["drivers_scope"], KEY_DRIVER_SCOPE)
    rows = data_access.key_drivers(scope, level, scope_id)
    name_column = f"driver_name_{language}"
    rows = rows.assign(driver_name=rows[name_column]).drop(columns=["driver_name_en", "driver_name_zh"])
    estimated = rows[rows["quadrant"] != NOT_ENOUGH_RESPONSES]
    if estimated.empty:
        st.info(text["not_enough"].format(scope=scope_name, n=int(rows["n"].max() or 0)))
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


# --- Peak and end ---------------------------------------------------------------------------------
PEAK_END_MODELS = ("r2_mean", "r2_mean_lowest", "r2_mean_last", "r2_mean_lowest_last")


def p_words(p: float) -> str:
    """A p-value as a reader takes it: three decimals, tiny ones as < 0.001."""
    return "< 0.001" if p < 0.001 else f"= {p:.3f}"


def points(gain: float) -> str:
    """A gain in R² in percentage points, one decimal."""
    return f"{gain * 100:.1f}"


def peak_end_chart(row: pd.Series) -> alt.Chart:
    """R² of the four nested models of one stage, the mean-only model first."""
    data = pd.DataFrame(
        {
            "model": [text[f"model_{model.removeprefix('r2_')}"] for model in PEAK_END_MODELS],
            "r2": [row[model] * 100 for model in PEAK_END_MODELS],
        }
    )
    return (
        alt.Chart(data)
        .mark_bar(color="#4c78a8")
        .encode(
            y=alt.Y("model:N", title=text["model"], sort=list(data["model"])),
            x=alt.X("r2:Q", title=text["r2"]),
            tooltip=[
                alt.Tooltip("model:N", title=text["model"]),
                alt.Tooltip("r2:Q", title=text["r2"], format=".1f"),
            ],
        )
        .properties(height=150)
    )


def peak_end_sentence(row: pd.Series, minimum: int) -> str:
    """The stage's verdict in plain words; below the minimum n only its n, never a model's figure."""
    if row["verdict"] == TOO_FEW:
        return text["verdict_too_few"].format(too_few=labels.too_few(row["n"], language), min=minimum)
    return text[f"verdict_{row['verdict']}"].format(
        gain_low=points(row["lowest_r2_gain"]),
        p_low=p_words(row["lowest_p_value"]),
        gain_last=points(row["last_r2_gain"]),
        p_last=p_words(row["last_p_value"]),
        lowest=row[f"lowest_name_{language}"] if row["verdict"] == FIX_WORST else "",
        last=row[f"last_name_{language}"] if row["verdict"] == FIX_LAST else "",
    )


def peak_end_tab() -> None:
    scopes = peak_end_access.peak_end_scopes(scope)
    if scopes is None:
        no_mart("mart_peak_end")
        return
    if scopes.empty:
        st.info(text["no_peak_end_rows"])
        return
    level, scope_id, _ = pick_scope(scopes, text["drivers_scope"], KEY_PEAK_END_SCOPE)
    rows = peak_end_access.peak_end_stages(scope, level, scope_id)
    settings = peak_end_settings()
    st.caption(
        text["peak_end_note"].format(
            significance=settings.significance, min_gain=points(settings.min_r2_gain)
        )
    )
    stage_names = [
        text["whole_journey"] if stage == JOURNEY else name
        for stage, name in zip(rows["stage"], rows[f"stage_name_{language}"], strict=True)
    ]
    for name, (_, row) in zip(stage_names, rows.iterrows(), strict=True):
        st.subheader(name, anchor=False)
        sentence = peak_end_sentence(row, settings.min_responses)
        if row["is_reportable"]:
            st.markdown(sentence)
            charts.show(peak_end_chart(row))
        else:
            st.info(sentence)
    reportable = rows["is_reportable"].to_numpy()
    shown = pd.DataFrame(
        {
            "stage": stage_names,
            "verdict": [
                text[f"word_{verdict}"] if ok else labels.too_few(n, language)
                for verdict, ok, n in zip(rows["verdict"], reportable, rows["n"], strict=True)
            ],
            "n": rows["n"],
            **{model: rows[model] * 100 for model in PEAK_END_MODELS},
            "lowest_gain": rows["lowest_r2_gain"] * 100,
            "lowest_p": [
                p_words(p).removeprefix("= ") if ok else ""
                for p, ok in zip(rows["lowest_p_value"], reportable, strict=True)
            ],
            "last_gain": rows["last_r2_gain"] * 100,
            "last_p": [
                p_words(p).removeprefix("= ") if ok else ""
                for p, ok in zip(rows["last_p_value"], reportable, strict=True)
            ],
            "lowest_beta": rows["lowest_beta"],
            "last_beta": rows["last_beta"],
        }
    )
    headers = {column: text[f"col_{column}"] for column in shown.columns if f"col_{column}" in text}
    widgets.show_table(shown, f"insights_peak_end_{level}_{scope_id}", PAGE, headers)


# --- Frontline ------------------------------------------------------------------------------------
# The touchpoint a staff member answers for most directly: their row in the staff table.
STAFF_TOUCHPOINT = "staff"


def csat_words(row: pd.Series) -> str:
    """A staff member's CSAT with its interval, or only its n when there are too few answers."""
    if not row["is_reportable"] or pd.isna(row["csat_mean"]):
        return labels.too_few(row["n_ratings"], language)
    return text["csat_with_ci"].format(mean=row["csat_mean"], low=row["ci_low"], high=row["ci_high"])


def frontline_tab() -> None:
    stores = frontline_access.frontline_stores(scope)
    if stores is None:
        no_mart("mart_frontline_staff")
        return
    if stores.empty:
        st.info(text["no_frontline_rows"])
        return
    names = dict(zip(stores["store_id"], stores["store_name"], strict=True))
    store_id = st.selectbox(
        text["frontline_store"],
        list(names),
        format_func=lambda store: f"{labels.store_label(names[store])} ({store})",
        key=KEY_FRONTLINE_STORE,
    )
    rows = frontline_access.frontline_staff(scope, principal.sees_pii, store_id)
    st.caption(text["frontline_note"].format(min=metric_settings().min_responses))
    st.subheader(
        text["frontline_staff_title"].format(store=labels.store_label(names[store_id])), anchor=False
    )
    own = rows[rows["touchpoint_id"] == STAFF_TOUCHPOINT]
    staff = pd.DataFrame(
        {
            "staff_name": own["staff_name"],
            "staff_id": own["staff_id"],
            "role": own["staff_role"],
            "staff_csat": [csat_words(row) for _, row in own.iterrows()],
            "n": own["n_ratings"],
            "praise": own["praise_mentions"],
            "complaints": own["complaint_mentions"],
            "integrity": [text["fl_suspect"] if flag else "" for flag in own["has_suspect_answers"]],
        }
    )
    headers = {
        "staff_name": text["fl_staff_name"], "staff_id": text["fl_staff_id"], "role": text["fl_role"],
        "staff_csat": text["fl_staff_csat"], "n": text["fl_n"], "praise": text["fl_praise"],
        "complaints": text["fl_complaints"], "integrity": text["fl_integrity"],
        "touchpoint": text["fl_touchpoint"], "csat": text["fl_csat"], "top2": text["fl_top2"],
        "responded_at": text["fl_when"], "channel": text["fl_channel"], "mention": text["fl_mention"],
        "comment": text["fl_comment"],
    }  # fmt: skip
    widgets.show_table(staff, f"insights_frontline_{store_id}", PAGE, headers)
    picked = st.selectbox(
        text["frontline_pick"],
        list(own["staff_id"]),
        format_func=lambda staff_id: f"{own.set_index('staff_id').at[staff_id, 'staff_name']} ({staff_id})",
        key=KEY_FRONTLINE_STAFF,
    )
    if picked is None:
        return
    theirs = rows[rows["staff_id"] == picked]
    name = str(theirs["staff_name"].iloc[0])
    st.subheader(text["frontline_touchpoints_title"].format(name=name), anchor=False)
    touchpoints = pd.DataFrame(
        {
            "touchpoint": theirs[f"touchpoint_name_{language}"].fillna(theirs["touchpoint_id"]),
            "csat": [csat_words(row) for _, row in theirs.iterrows()],
            "n": theirs["n_ratings"],
            "top2": [
                "" if pd.isna(share) or not ok else round(share * 100, 1)
                for share, ok in zip(theirs["top2_share"], theirs["is_reportable"], strict=True)
            ],
        }
    )
    widgets.show_table(touchpoints, None, None, headers)
    st.subheader(text["frontline_comments_title"].format(name=name), anchor=False)
    mentions = frontline_access.staff_mentions(scope, principal.sees_pii, picked)
    if mentions is None or mentions.empty:
        st.info(text["no_mentions"].format(name=name))
        return
    shown = pd.DataFrame(
        {
            "responded_at": mentions["responded_at"],
            "mention": [text[f"mention_{word}"] for word in mentions["mention_sentiment"]],
            "comment": mentions["comment"],
            "channel": mentions["channel"],
        }
    )
    widgets.show_table(shown, f"insights_frontline_comments_{picked}", PAGE, headers)


# --- Money ----------------------------------------------------------------------------------------


def money_words(value: object) -> str:
    return "—" if value is None or pd.isna(value) else f"¥{float(value):,.2f}"


def percent_words(share: object) -> str:
    """A share (0..1) as a percentage; a difference of shares reads as points the same way."""
    return "—" if share is None or pd.isna(share) else f"{100 * float(share):.1f}%"


def points_words(share: object) -> str:
    return "—" if share is None or pd.isna(share) else f"{100 * abs(float(share)):.1f}"


def money_sentences(row: pd.Series, categories: pd.DataFrame, window: int) -> None:
    """The scope's money in words: a detractor made promoter, their excess churn, the revenue at risk
    from detractors and from unresolved cases, each with its interval; below the reportable n only
    how many members there are."""
    if not row["is_reportable"]:
        st.markdown(
            text["money_too_few"].format(
                promoters=labels.too_few(row["count_promoter_members"], language),
                detractors=labels.too_few(row["count_detractor_members"], language),
                minimum=metric_settings().min_responses,
            )
        )
        return
    if pd.isna(row["detractor_to_promoter_value"]):
        st.markdown(text["value_missing"])
        return
    rates = categories.set_index("nps_category")["repeat_rate"]
    st.markdown(
        text["value_line"].format(
            value=money_words(row["detractor_to_promoter_value"]),
            window=window,
            low=money_words(row["detractor_to_promoter_value_ci_low"]),
            high=money_words(row["detractor_to_promoter_value_ci_high"]),
        )
    )
    st.markdown(
        text["churn_line"].format(
            detractor_rate=percent_words(rates.get("detractor")),
            promoter_rate=percent_words(rates.get("promoter")),
            window=window,
            excess=points_words(row["excess_churn_rate"]),
            low=points_words(row["excess_churn_rate_ci_low"]),
            high=points_words(row["excess_churn_rate_ci_high"]),
        )
    )
    st.markdown(
        text["risk_detractor_line"].format(
            risk=money_words(row["detractor_revenue_at_risk"]),
            window=window,
            low=money_words(row["detractor_revenue_at_risk_ci_low"]),
            high=money_words(row["detractor_revenue_at_risk_ci_high"]),
            count=int(row["count_recent_detractors"]),
            spend=money_words(row["detractor_spend_if_retained"]),
        )
    )
    if row["count_open_case_members"] > 0:
        st.markdown(
            text["risk_case_line"].format(
                risk=money_words(row["open_case_revenue_at_risk"]),
                low=money_words(row["open_case_revenue_at_risk_ci_low"]),
                high=money_words(row["open_case_revenue_at_risk_ci_high"]),
                count=int(row["count_open_case_members"]),
                spend=money_words(row["open_case_spend_per_window"]),
                window=window,
            )
        )


def category_table(categories: pd.DataFrame, scope_id: str) -> None:
    """Spend, visits and repeat rate per NPS category with their intervals; a category below the
    reportable n shows only "n = 4, too few"."""
    measures = [
        "avg_spend", "avg_spend_ci_low", "avg_spend_ci_high", "avg_visits", "avg_visits_ci_low",
        "avg_visits_ci_high", "repeat_rate", "repeat_rate_ci_low", "repeat_rate_ci_high",
    ]  # fmt: skip
    shown = categories[["nps_category", "count_members", *measures]].copy()
    hidden = ~categories["is_reportable"].astype(bool)
    shown[measures] = shown[measures].astype(float).mask(hidden)
    shown["note"] = [
        labels.too_few(n, language) if h else "" for n, h in zip(shown["count_members"], hidden, strict=True)
    ]
    headers = {
        "count_members": text["members"],
        "avg_visits_ci_low": text["visits_ci_low"],
        "avg_visits_ci_high": text["visits_ci_high"],
        "note": text["note"],
    }
    widgets.show_table(shown, f"insights_experience_value_{scope_id}", PAGE, headers)


def csat_effect_section(window: int) -> None:
    """What one more CSAT point at each touchpoint brings, the best one in words."""
    effects = money_access.csat_revenue_effect(scope)
    if effects is None:
        return
    st.subheader(text["csat_title"], anchor=False)
    st.caption(text["csat_note"])
    effects = effects.assign(touchpoint_name=effects[f"touchpoint_name_{language}"])
    reportable = effects[effects["is_reportable"].astype(bool)]
    if reportable.empty:
        st.info(text["csat_none"])
    else:
        best = reportable.iloc[0]
        st.markdown(
            text["csat_line"].format(
                touchpoint=best["touchpoint_name"],
                value=money_words(best["effect_per_member"]),
                window=window,
                low=money_words(best["ci_low"]),
                high=money_words(best["ci_high"]),
                per_rater=money_words(best["effect_per_rater"]),
                share=percent_words(best["rated_share"]),
                up=points_words(best["promoter_probability_change"]),
                down=points_words(best["detractor_probability_change"]),
            )
        )
    measures = [
        "effect_per_member", "effect_ci_low", "effect_ci_high", "effect_per_rater",
        "effect_per_rater_ci_low", "effect_per_rater_ci_high", "promoter_points", "detractor_points",
    ]  # fmt: skip
    # ci_low / ci_high renamed: the tables round columns of those names to one decimal (NPS's rule)
    shown = effects.rename(columns={"ci_low": "effect_ci_low", "ci_high": "effect_ci_high"}).assign(
        rated_percent=100 * effects["rated_share"],
        promoter_points=100 * effects["promoter_probability_change"],
        detractor_points=100 * effects["detractor_probability_change"],
    )[["touchpoint_name", "n", "rated_percent", *measures]]
    hidden = ~effects["is_reportable"].astype(bool)
    shown[measures] = shown[measures].astype(float).mask(hidden)
    shown["note"] = [
        labels.too_few(n, language) if h else "" for n, h in zip(shown["n"], hidden, strict=True)
    ]
    headers = {
        "touchpoint_name": text["effect_touchpoint"],
        "n": text["effect_ratings"],
        "rated_percent": text["effect_rated"],
        "effect_per_member": text["effect_member"],
        "effect_ci_low": text["effect_member_low"],
        "effect_ci_high": text["effect_member_high"],
        "effect_per_rater": text["effect_rater"],
        "effect_per_rater_ci_low": text["effect_rater_low"],
        "effect_per_rater_ci_high": text["effect_rater_high"],
        "promoter_points": text["effect_promoter"],
        "detractor_points": text["effect_detractor"],
        "note": text["note"],
    }
    widgets.show_table(shown, "insights_csat_revenue_effect", PAGE, headers)


def money_tab() -> None:
    value = data_access.experience_value(scope)
    if value is None:
        no_mart("mart_experience_value")
        return
    if value.empty:
        span = data_access.transaction_span(scope)
        st.info(text["money_empty"].format(first=span.first_day or "—", last=span.last_day or "—"))
        return
    window = int(value["window_days"].iloc[0])
    st.caption(text["money_note"].format(window=window, last=value["last_transaction_date"].iloc[0]))
    scopes = money_access.money_scopes(scope)
    if scopes is None:
        no_mart("mart_experience_money")
        scopes = value[["scope_level", "scope_id"]].drop_duplicates().assign(name=lambda f: f["scope_id"])
    level, scope_id, _ = pick_scope(scopes, text["money_scope"], KEY_MONEY_SCOPE)
    categories = value[(value["scope_level"] == level) & (value["scope_id"] == scope_id)]
    money = money_access.experience_money(scope, level, scope_id)
    if money is not None and not money.empty:
        money_sentences(money.iloc[0], categories, window)
    category_table(categories, scope_id)
    csat_effect_section(window)


language, text, principal = widgets.page_header(LABELS, PAGE)
if not data_access.serving_copy_exists():
    st.warning(text["no_serving"])
    st.stop()
scope = principal.scope
for tab, section in zip(
    st.tabs(
        [
            text["tab_drivers"],
            text["tab_kano"],
            text["tab_churn"],
            text["tab_money"],
            text["tab_peak_end"],
            text["tab_frontline"],
        ]
    ),
    (drivers_tab, kano_tab, churn_tab, money_tab, peak_end_tab, frontline_tab),
    strict=True,
):
    with tab:
        section()
