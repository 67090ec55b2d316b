"""Journey: the journey map with CSAT, NPS and volume per touchpoint, the emotion curve and the X+O view.

Stages and touchpoints come from marts.dim_touchpoint, so a touchpoint added to the journey map shows
up here without a code edit.
"""

import pandas as pd
import streamlit as st

from cxlake.metrics import nps_from_counts, response_rate, settings
from streamlit_app import charts, data_access, labels, widgets
from streamlit_app.labels import too_few

LABELS = {
    "en": {
        "title": "Customer journey",
        "date_range": "Purchase dates",
        "map_title": "Journey map: satisfaction (top-2-box) per touchpoint",
        "stage_nps_satisfied": "Satisfied with this stage: {headline}",
        "stage_nps_unsatisfied": "Not satisfied with it: {headline}",
        "stage_group_satisfied": "Satisfied with this stage",
        "stage_group_unsatisfied": "Not satisfied with it",
        "nps_headline": "NPS {nps:.1f} (95% CI {low:.1f} – {high:.1f}), n = {n:,}",
        "stage_too_few": "{group}: {too_few}, no NPS (at least {min} needed).",
        "card_detail": "Mean {mean:.2f} (1-5) · n = {n:,}",
        "card_too_few": "Not reported: at least {min} ratings needed.",
        "op_wait_minutes": "Mean wait {value:.1f} min",
        "op_amount": "Mean spend ¥{value:.2f}",
        "op_refund_amount": "Mean refund ¥{value:.2f}",
        "op_count_items": "Mean items {value:.1f}",
        "op_count_lines": "Mean order lines {value:.1f}",
        "op_is_refunded": "Refunded {value:.1%}",
        "op_is_remake": "Remade {value:.1%}",
        "emotion_title": "Emotion curve: mean satisfaction by stage",
        "emotion_too_few": "Too few ratings in every stage to draw the curve (at least {min} per stage).",
        "stage": "Stage",
        "ratings": "Ratings",
        "mean_csat": "Mean CSAT (1-5)",
        "csat": "CSAT (top-2-box)",
        "xo_title": "Experience beside operations (X+O), by store",
        "touchpoint": "Touchpoint",
        "measure": "Operational measure",
        "measure_wait_minutes": "Mean wait (minutes)",
        "measure_amount": "Mean spend (¥)",
        "measure_refund_amount": "Mean refund (¥)",
        "measure_count_items": "Mean items per order",
        "measure_count_lines": "Mean order lines",
        "measure_is_refunded": "Refund rate",
        "measure_is_remake": "Remake rate",
        "sd": "Standard deviation",
        "xo_too_few": "No store has enough ratings of this touchpoint to plot (at least {min} needed).",
        "xo_few": "Too few responses to plot (fewer than {min}): {stores}.",
        "map_data": "Journey map data",
        "app_title": "App: the digital steps of an order",
        "app_summary": "{sessions:,} app sessions; {ordered:,} placed an order. {abandoned:,} of the "
        "{carts:,} that reached the cart left without ordering ({abandon_rate}); an app error hit "
        "{error_rate} of sessions{payment_errors}; {checkout_time} from opening the app to checkout "
        "on average.",
        "app_payment_errors": " ({count:,} on the payment page, of which {gave_up:,} gave up)",
        "app_checkout_time": "{minutes:.1f} min",
        "app_csat_line": "App touchpoint CSAT (top-2-box) from the surveys of app orders: {value}.",
        "app_csat_value": "{share:.1%}, n = {n:,}",
        "no_app": "No app sessions for this selection (the app funnel is the app channel's).",
        "app_step": "Step",
        "app_sessions": "Sessions",
        "app_share_of_start": "Share of sessions",
        "app_share_of_previous": "Share of the step before",
        "app_step_browse": "Browse (opened the app)",
        "app_step_cart": "Cart",
        "app_step_checkout": "Checkout",
        "app_step_payment": "Payment",
        "app_step_ordered": "Ordered",
        "app_week": "Week",
        "app_rate": "Share",
        "app_measure": "Measure",
        "app_payment_conversion": "Ordered, of sessions reaching payment",
        "app_error_share": "Sessions with an app error",
        "app_csat": "App CSAT (top-2-box)",
        "app_weekly_title": "Week by week: conversion at payment, errors and the App CSAT",
        "app_csat_too_few": "No week's App CSAT rests on enough ratings to draw (at least {min} a week).",
        "invitations_title": "Survey invitations: who was asked, who was spared, who answered",
        "invitations_summary": "{invited:,} of {eligible:,} eligible purchases invited "
        "({transactions:,} purchases in all); {responses:,} answered: response rate {rate}.",
        "no_invitations": "No invitation decisions for this selection yet.",
        "step": "Step",
        "count": "Purchases",
        "step_transactions": "Purchases",
        "step_eligible": "Eligible (member with a contact)",
        "step_invited": "Invited",
        "step_suppressed_guest": "Not invited: guest",
        "step_suppressed_no_contact": "Not invited: no contact",
        "step_suppressed_open_case": "Not invited: open case",
        "step_suppressed_recently_invited": "Not invited: invited recently",
        "step_suppressed_quarter_cap": "Not invited: quarterly cap",
        "step_suppressed_same_day": "Not invited: already chosen that day",
        "step_suppressed_quota": "Not invited: daily quota full",
        "step_responses": "Answered",
    },
    "zh": {
        "title": "客户旅程",
        "date_range": "购买日期",
        "map_title": "旅程地图：各触点满意度（前两格占比）",
        "stage_nps_satisfied": "对本阶段满意：{headline}",
        "stage_nps_unsatisfied": "对本阶段不满意：{headline}",
        "stage_group_satisfied": "对本阶段满意",
        "stage_group_unsatisfied": "对本阶段不满意",
        "nps_headline": "NPS {nps:.1f}（95% 置信区间 {low:.1f} – {high:.1f}），n = {n:,}",
        "stage_too_few": "{group}：{too_few}，不报告 NPS（至少需要 {min} 份）。",
        "card_detail": "平均分 {mean:.2f}（1-5）· n = {n:,}",
        "card_too_few": "不报告：至少需要 {min} 条评分。",
        "op_wait_minutes": "平均等待时间 {value:.1f} 分钟",
        "op_amount": "平均消费金额 ¥{value:.2f}",
        "op_refund_amount": "平均退款金额 ¥{value:.2f}",
        "op_count_items": "平均件数 {value:.1f}",
        "op_count_lines": "平均订单行数 {value:.1f}",
        "op_is_refunded": "退款率 {value:.1%}",
        "op_is_remake": "重做率 {value:.1%}",
        "emotion_title": "情绪曲线：各阶段平均满意度",
        "emotion_too_few": "各阶段评分都过少，无法绘制曲线（每阶段至少需要 {min} 条）。",
        "stage": "阶段",
        "ratings": "评分数",
        "mean_csat": "平均满意度（1-5）",
        "csat": "满意度（前两格）",
        "xo_title": "体验与运营对照（X+O），按门店",
        "touchpoint": "触点",
        "measure": "运营指标",
        "measure_wait_minutes": "平均等待时间（分钟）",
        "measure_amount": "平均消费金额（¥）",
        "measure_refund_amount": "平均退款金额（¥）",
        "measure_count_items": "每单平均件数",
        "measure_count_lines": "每单平均行数",
        "measure_is_refunded": "退款率",
        "measure_is_remake": "重做率",
        "sd": "标准差",
        "xo_too_few": "没有门店的该触点评分达到绘图所需数量（至少 {min} 条）。",
        "xo_few": "样本过少、未绘制（少于 {min} 条）：{stores}。",
        "map_data": "旅程地图数据",
        "app_title": "小程序/App：下单的数字化环节",
        "app_summary": "App 会话 {sessions:,} 次，其中 {ordered:,} 次下单。"
        "进入购物车的 {carts:,} 次中有 {abandoned:,} 次未下单离开（{abandon_rate}）；"
        "{error_rate} 的会话遇到 App 报错{payment_errors}；从打开 App 到结算平均 {checkout_time}。",
        "app_payment_errors": "（支付页 {count:,} 次，其中 {gave_up:,} 次放弃）",
        "app_checkout_time": "{minutes:.1f} 分钟",
        "app_csat_line": "App 订单问卷中 App 触点满意度（前两格）：{value}。",
        "app_csat_value": "{share:.1%}，n = {n:,}",
        "no_app": "当前筛选下没有 App 会话（App 漏斗只属于 App 渠道）。",
        "app_step": "环节",
        "app_sessions": "会话数",
        "app_share_of_start": "占全部会话",
        "app_share_of_previous": "占上一环节",
        "app_step_browse": "浏览（打开 App）",
        "app_step_cart": "购物车",
        "app_step_checkout": "结算",
        "app_step_payment": "支付",
        "app_step_ordered": "已下单",
        "app_week": "周",
        "app_rate": "占比",
        "app_measure": "指标",
        "app_payment_conversion": "到达支付页后下单的占比",
        "app_error_share": "遇到 App 报错的会话占比",
        "app_csat": "App 满意度（前两格）",
        "app_weekly_title": "逐周：支付转化、报错与 App 满意度",
        "app_csat_too_few": "没有哪一周的 App 满意度评分数足以绘图（每周至少 {min} 条）。",
        "invitations_title": "问卷邀请：邀请了谁、免打扰了谁、谁作答了",
        "invitations_summary": "{eligible:,} 笔可邀请的消费中邀请了 {invited:,} 笔"
        "（共 {transactions:,} 笔消费）；{responses:,} 笔已作答，回收率 {rate}。",
        "no_invitations": "当前筛选下还没有邀请决定。",
        "step": "环节",
        "count": "消费笔数",
        "step_transactions": "消费",
        "step_eligible": "可邀请（有联系方式的会员）",
        "step_invited": "已邀请",
        "step_suppressed_guest": "未邀请：非会员",
        "step_suppressed_no_contact": "未邀请：无联系方式",
        "step_suppressed_open_case": "未邀请：有未结工单",
        "step_suppressed_recently_invited": "未邀请：近期已邀请",
        "step_suppressed_quarter_cap": "未邀请：本季度已达上限",
        "step_suppressed_same_day": "未邀请：当天已选另一笔",
        "step_suppressed_quota": "未邀请：当日名额已满",
        "step_responses": "已作答",
    },
}
# How each operational measure is written on the chart's axis (d3 format); rates are shares 0..1.
MEASURE_FORMATS = {
    "wait_minutes": ".1f",
    "amount": ".2f",
    "refund_amount": ".2f",
    "count_items": ".1f",
    "count_lines": ".1f",
    "is_refunded": ".0%",
    "is_remake": ".0%",
}
RATES = frozenset({"is_refunded", "is_remake"})

page = widgets.filtered_page(LABELS, "journey")
language, text, scope, filters = page.language, page.text, page.scope, page.filters
touchpoints = data_access.journey_touchpoints(scope, filters)
if touchpoints["n"].sum() == 0:
    st.info(text["no_data"])
    st.stop()

minimum = settings().min_responses
touchpoint_name = f"touchpoint_name_{language}"
stage_name = f"stage_name_{language}"
touchpoints = touchpoints.assign(reportable=charts.reportable(touchpoints["n"]))
stages = data_access.journey_stages(scope, filters)
operations = data_access.touchpoint_operations(scope, filters)


def stage_nps_line(stage: pd.Series) -> None:
    """NPS of the journeys satisfied with the stage beside that of those it disappointed (the gap is
    what the stage costs in loyalty), each with its interval or a too-few note."""
    for group in ("satisfied", "unsatisfied"):
        n = int(stage[f"n_{group}"])
        if n == 0:
            continue
        if n < minimum:
            group_name = text[f"stage_group_{group}"]
            st.caption(
                text["stage_too_few"].format(group=group_name, too_few=too_few(n, language), min=minimum)
            )
            continue
        counts = (int(stage[f"{kind}_{group}"]) for kind in ("promoters", "passives", "detractors"))
        result = nps_from_counts(*counts)
        st.markdown(text[f"stage_nps_{group}"].format(headline=widgets.nps_headline_text(result, text)))


def touchpoint_card(touchpoint: pd.Series) -> None:
    """Top-2-box CSAT as the card's metric, its mean and volume, and the journey map's operational
    measures for it (over the selection's journeys in its channels). Rated too few times, the card
    shows "n = 4, too few" where the score would be, and no score or mean at all."""
    with st.container(border=True):
        if not touchpoint["reportable"]:
            st.metric(touchpoint[touchpoint_name], too_few(touchpoint["n"], language))
            st.caption(text["card_too_few"].format(min=minimum))
        else:
            st.metric(touchpoint[touchpoint_name], f"{touchpoint['top2_share']:.1%}")
            st.markdown(text["card_detail"].format(mean=touchpoint["mean_csat"], n=touchpoint["n"]))
        for measure in touchpoint["measures"]:
            value = operations[measure].get(touchpoint["touchpoint_id"])
            if value is not None and not pd.isna(value):
                st.caption(text[f"op_{measure}"].format(value=value))


st.subheader(text["map_title"])
for column, (_, stage) in zip(st.columns(len(stages)), stages.iterrows(), strict=True):
    with column:
        st.markdown(f"#### {stage[stage_name]}")
        stage_nps_line(stage)
        for _, touchpoint in touchpoints[touchpoints["stage_id"] == stage["stage_id"]].iterrows():
            touchpoint_card(touchpoint)

st.subheader(text["emotion_title"])
if not charts.reportable(stages["ratings"]).any():
    st.info(text["emotion_too_few"].format(min=minimum))
else:  # stages rated too few times are drawn hollow, labelled, off the line
    charts.show(charts.emotion_curve_chart(stages, stage_name, text, language))

st.subheader(text["xo_title"])
names = dict(zip(touchpoints["touchpoint_id"], touchpoints[touchpoint_name], strict=True))
configured = {
    row["touchpoint_id"]: row["measures"][0] for _, row in touchpoints.iterrows() if row["measures"]
}
picker_column, measure_column = st.columns(2)
with picker_column:
    touchpoint_id = st.selectbox(
        text["touchpoint"],
        options=list(names),
        index=list(names).index(next(iter(configured), next(iter(names)))),
        format_func=names.__getitem__,
        key="xo_touchpoint",
    )
with measure_column:
    measures = list(data_access.OPERATIONAL_MEASURES)
    measure = st.selectbox(
        text["measure"],
        options=measures,
        index=measures.index(configured.get(touchpoint_id, measures[0])),
        format_func=lambda m: text[f"measure_{m}"],
        key=f"xo_measure_{touchpoint_id}",  # each touchpoint starts from its own configured measure
    )

stores = data_access.experience_vs_operations(scope, filters, touchpoint_id, measure)
stores = stores.assign(store_name=stores["store_name"].map(labels.store_label))
enough = charts.reportable(stores["n"])
if enough.any():
    measure_title, axis_format = text[f"measure_{measure}"], MEASURE_FORMATS[measure]
    charts.show(charts.experience_vs_operations_chart(stores[enough], measure_title, axis_format, text))
else:
    st.info(text["xo_too_few"].format(min=minimum))
if not enough.all():
    st.caption(text["xo_few"].format(min=minimum, stores=", ".join(stores.loc[~enough, "store_name"])))

rate = measure in RATES
table = stores.assign(
    top2_share=stores["top2_share"].where(enough),
    mean_csat=stores["mean_csat"].where(enough),
    reportable=enough,
    # Rates as percentages, like the CSAT share beside them (a rounded 0.05 would hide 5.2%).
    **({"operational_value": stores["operational_value"] * 100} if rate else {}),
)
measure_header = text[f"measure_{measure}"] + (" (%)" if rate else "")
columns = ["store_id", "store_name", "n", "top2_share", "mean_csat", "reportable"]
columns += ["operational_n", "operational_value"]
if data_access.OPERATIONAL_MEASURES[measure] == "mean":
    columns.append("operational_sd")
widgets.show_table(
    table[columns],
    f"experience_vs_operations_{touchpoint_id}_{measure}",
    "journey",
    headers={"n": text["ratings"], "operational_value": measure_header, "operational_sd": text["sd"]},
)

with st.expander(text["map_data"]):
    map_columns = ["stage_id", stage_name, "touchpoint_id", touchpoint_name, "n", "top2_share"]
    map_columns += ["mean_csat", "reportable"]
    widgets.show_table(touchpoints[map_columns], "journey_map", "journey")


def share_text(part: float, whole: float) -> str:
    return f"{part / whole:.1%}" if whole else "–"


def app_section() -> None:
    """The app's funnel (browse > cart > checkout > payment > ordered) with its abandonment, errors and
    time to checkout beside the App touchpoint's CSAT, then the same week by week, so a failing page
    shows as conversion dropping and CSAT dipping together. Absent before the mart is published."""
    if not data_access.app_funnel_published():
        return
    st.subheader(text["app_title"])
    totals = data_access.app_funnel_totals(scope, filters)
    funnel = data_access.app_funnel(scope, filters)
    if totals is None or funnel.empty:
        st.info(text["no_app"])
        return
    payment_errors = int(totals["count_sessions_payment_error"])
    timed = int(totals["count_checkout_timed"])
    st.markdown(
        text["app_summary"].format(
            sessions=int(totals["count_sessions"]),
            ordered=int(totals["count_sessions_ordered"]),
            carts=int(totals["count_sessions_cart"]),
            abandoned=int(totals["count_abandoned"]),
            abandon_rate=share_text(totals["count_abandoned"], totals["count_sessions_cart"]),
            error_rate=share_text(totals["count_sessions_with_error"], totals["count_sessions"]),
            payment_errors=text["app_payment_errors"].format(
                count=payment_errors, gave_up=int(totals["count_abandoned_after_payment_error"])
            )
            if payment_errors
            else "",
            checkout_time=text["app_checkout_time"].format(
                minutes=totals["sum_seconds_to_checkout"] / timed / 60
            )
            if timed
            else "–",
        )
    )
    n = int(totals["count_ratings_app"])
    value = (
        text["app_csat_value"].format(share=totals["count_top_box_app"] / n, n=n)
        if n >= minimum
        else too_few(n, language)
    )
    st.caption(text["app_csat_line"].format(value=value))
    funnel = funnel.assign(step_name=[text[f"app_step_{step}"] for step in funnel["step"]])
    charts.show(charts.app_funnel_chart(funnel, text))
    weeks = data_access.app_funnel_by_week(scope, filters)
    st.markdown(f"**{text['app_weekly_title']}**")
    charts.show(charts.app_weekly_chart(weeks, text, language))
    if not charts.reportable(weeks["n"]).any():
        st.caption(text["app_csat_too_few"].format(min=minimum))
    with st.expander(text["show_data"]):
        widgets.show_table(
            funnel[["step_name", "sessions", "share_of_start", "share_of_previous"]],
            "app_funnel",
            "journey",
            headers={
                "step_name": text["app_step"],
                "sessions": text["app_sessions"],
                "share_of_start": text["app_share_of_start"],
                "share_of_previous": text["app_share_of_previous"],
            },
        )
        widgets.show_table(
            weeks.assign(
                reportable=charts.reportable(weeks["n"]),
                top2_share=weeks["top2_share"].where(charts.reportable(weeks["n"])),
            ),
            "app_funnel_by_week",
            "journey",
            headers={
                "week": text["app_week"],
                "sessions": text["app_sessions"],
                "payment_conversion": text["app_payment_conversion"],
                "error_share": text["app_error_share"],
                "n": text["ratings"],
                "top2_share": text["app_csat"],
            },
        )


app_section()

# A serving copy published before the invitation funnel existed has no section at all.
funnel = data_access.invitation_funnel(scope, filters)
if not funnel.empty:
    st.subheader(text["invitations_title"])
if not funnel.empty and funnel["count"].sum() == 0:
    st.info(text["no_invitations"])
elif not funnel.empty:
    steps = dict(zip(funnel["step"], funnel["count"], strict=True))
    rate = response_rate(steps["responses"], steps["invited"])
    st.markdown(text["invitations_summary"].format(**steps, rate="–" if rate is None else f"{rate:.1%}"))
    funnel = funnel.assign(step_name=[text[f"step_{step}"] for step in funnel["step"]])
    charts.show(charts.invitation_funnel_chart(funnel, text))
    with st.expander(text["show_data"]):
        widgets.show_table(
            funnel[["step_name", "count"]],
            "invitation_funnel",
            "journey",
            headers={"step_name": text["step"], "count": text["count"]},
        )
