"""Loop: is the closed loop closing? The CX director's page (a regional manager's, for their region).

Five questions, each within the user's scope: how each region and store kept its service levels
week by week (the loop marts), which cases are late right now, which messages could not be sent
(the case store, live), what yesterday's digest said, and whether working a detractor's case
brings the customer back (the recovery mart). A store manager has no use for it: their loop is the
workbench on the Feedback page, which every late case here links to.

A section whose mart the serving copy does not have yet says so and the rest still shows: the
live sections need only the case store.
"""

from datetime import UTC, date, datetime, timedelta

import pandas as pd
import streamlit as st

from cxlake.metrics import settings
from streamlit_app import data_access, labels, widgets
from streamlit_app.data_access.loop import RECOVERY_MEASURES

KEY_WEEKS = "loop_weeks"
KEY_DIGEST_DAY = "loop_digest_day"
BREACHED_FILE = "loop_breached_cases"

LABELS = {
    "en": {
        "title": "Loop",
        "health_title": "Loop health",
        "health_note": (
            "Cases by the week their clocks started; the shares count the cases whose clock is decided"
            " (done, or past due). Worst first: the lowest share acknowledged in time leads."
        ),
        "weeks": "Weeks",
        "week": "{start} – {end}",
        "pick_week": "Pick at least one week.",
        "by_region": "By region",
        "by_store": "By store",
        "no_loop_marts": (
            "The serving copy has no loop marts yet: they are built after the cases are snapshot"
            " (`cxlake run`, or `dbt build --select tag:loop`)."
        ),
        "no_case_weeks": "No cases in your stores yet.",
        "breached_title": "Late cases now",
        "breached_note": (
            "Open or escalated past the time to acknowledge, or not resolved past the time to"
            " resolve, as of {now}. Historical cases (feedback loaded late) are not listed."
        ),
        "none_breached": "No case is late.",
        "open_case": "Open case",
        "failed_title": "Messages not sent",
        "failed_note": (
            "Each was tried as often as cxlake/config/alerts.yaml allows; its case is still in the"
            " workbench. A channel that is not configured needs its environment variables."
        ),
        "none_failed": "Every message went out.",
        "digest_title": "Daily digest",
        "digest_day": "Day",
        "digest_note_all": "The digest the CX director receives for this day.",
        "digest_note_scope": "The director's digest for this day, over your stores.",
        "digest_opened": "Opened",
        "digest_breached": "Breached",
        "digest_resolved": "Resolved",
        "digest_recovered": "Recovered",
        "digest_open_now": "Open now",
        "digest_no_stores": "No cases opened, late or open in your stores.",
        "recovery_title": "Recovery",
        "reading": (
            "Detractors whose case was worked came back within 30 days {worked:.1%} of the time,"
            " against {not_worked:.1%} of those whose case was not worked (n = {n_worked:,} and"
            " {n_not_worked:,})."
        ),
        "reading_too_few": (
            "Too few detractors can be judged at 30 days yet to compare worked and not-worked cases."
        ),
        "reading_too_few_n": (
            "Too few detractors can be judged at 30 days yet to compare worked and not-worked cases"
            " (n = {n_worked:,} and {n_not_worked:,}; at least {min} each)."
        ),
        "hidden_measure": "{measure}: {note}",
        "recovery_note": (
            "A comparison, not proof: stores may work the cases of customers who were more likely to"
            " return anyway. Return shares count only answers whose whole window is loaded."
        ),
        "no_detractors": "No detractors in your stores yet.",
    },
    "zh": {
        "title": "闭环",
        "health_title": "闭环健康度",
        "health_note": (
            "按案例计时开始的周统计；比例只计时限已判定（已完成或已超时）的案例。"
            "最差的排在最前：按时确认比例最低者居首。"
        ),
        "weeks": "周",
        "week": "{start} 至 {end}",
        "pick_week": "请至少选择一周。",
        "by_region": "按区域",
        "by_store": "按门店",
        "no_loop_marts": (
            "发布的数据中尚无闭环数据集：它们在案例快照之后构建"
            "（`cxlake run` 或 `dbt build --select tag:loop`）。"
        ),
        "no_case_weeks": "您的门店暂无案例。",
        "breached_title": "当前超时案例",
        "breached_note": (
            "截至 {now}：待处理或已升级且超过确认时限，或超过解决时限仍未解决。"
            "历史案例（补录的旧反馈）不在此列。"
        ),
        "none_breached": "没有超时案例。",
        "open_case": "打开案例",
        "failed_title": "未发出的消息",
        "failed_note": (
            "每条消息已按 cxlake/config/alerts.yaml 的设置重试；其案例仍在工作台中。"
            "未配置的渠道需要设置其环境变量。"
        ),
        "none_failed": "所有消息均已发出。",
        "digest_title": "每日摘要",
        "digest_day": "日期",
        "digest_note_all": "客户体验总监当天收到的摘要。",
        "digest_note_scope": "总监当天的摘要，仅含您的门店。",
        "digest_opened": "新建",
        "digest_breached": "超时",
        "digest_resolved": "已解决",
        "digest_recovered": "已挽回",
        "digest_open_now": "当前未结",
        "digest_no_stores": "您的门店没有新建、超时或未结的案例。",
        "recovery_title": "顾客挽回",
        "reading": (
            "已跟进案例的贬损者 30 天内回购比例为 {worked:.1%}，未跟进的为 {not_worked:.1%}"
            "（n = {n_worked:,} / {n_not_worked:,}）。"
        ),
        "reading_too_few": "可按 30 天判定的贬损者尚少，暂无法比较已跟进与未跟进的案例。",
        "reading_too_few_n": (
            "可按 30 天判定的贬损者尚少，暂无法比较已跟进与未跟进的案例"
            "（n = {n_worked:,} / {n_not_worked:,}；每组至少需 {min} 份）。"
        ),
        "hidden_measure": "{measure}：{note}",
        "recovery_note": (
            "这是对比而非因果证明：门店可能更常跟进本就更可能回购的顾客。"
            "回购比例只计观察窗口已完整加载的答卷。"
        ),
        "no_detractors": "您的门店暂无贬损者。",
    },
}


def week_words(monday: date) -> str:
    return text["week"].format(start=monday.isoformat(), end=(monday + timedelta(days=6)).isoformat())


def owner_words(owner: str) -> str:
    """``store_manager:S001`` as "Store manager S001" (店长 S001)."""
    position, _, scope_id = owner.partition(":")
    return f"{text.get(f'role_{position}', position)} {scope_id}"


def health_section() -> None:
    st.subheader(text["health_title"], anchor=False)
    weeks = data_access.loop_health_weeks(scope)
    if weeks is None:
        st.info(text["no_loop_marts"])
        return
    if not weeks:
        st.info(text["no_case_weeks"])
        return
    chosen = st.multiselect(text["weeks"], weeks, default=weeks[:1], format_func=week_words, key=KEY_WEEKS)
    if not chosen:
        st.info(text["pick_week"])
        return
    st.caption(text["health_note"])
    for grain in data_access.LOOP_GRAINS:
        health = data_access.loop_health(scope, grain, tuple(chosen))
        st.markdown(f"**{text[f'by_{grain}']}**")
        widgets.show_table(health, f"loop_health_{grain}", "loop")


def breached_section() -> None:
    st.subheader(text["breached_title"], anchor=False)
    st.caption(text["breached_note"].format(now=labels.local_time(now, language)))
    late = data_access.breached_cases(scope, now)
    if late.empty:
        st.success(text["none_breached"])
        return
    rules = data_access.case_rule_labels(language)
    shown = late.assign(
        rule=late["rule_id"].map(lambda rule_id: rules.get(rule_id, rule_id)),
        owner=late["owner"].map(owner_words),
        store_name=late["store_name"].map(labels.store_label),
    )[
        [
            "case_id", "case_severity", "rule", "store_name", "store_id", "region_id", "owner",
            "case_status", "overdue_clock", "hours_overdue", "link",
        ]
    ]  # fmt: skip
    link = labels.header("link", language)
    st.dataframe(
        labels.readable(shown, language),
        hide_index=True,
        placeholder="",
        column_config={link: st.column_config.LinkColumn(link, display_text=text["open_case"])},
    )
    widgets.download_buttons(shown.drop(columns=["link"]), BREACHED_FILE, "loop")


def failed_section() -> None:
    st.subheader(text["failed_title"], anchor=False)
    failed = data_access.failed_notifications(scope)
    if failed.empty:
        st.success(text["none_failed"])
        return
    st.caption(text["failed_note"])
    shown = failed.assign(created_at=failed["created_at"].map(lambda at: labels.local_time(at, language)))
    widgets.show_table(shown, "loop_failed_messages", "loop")


def digest_section() -> None:
    st.subheader(text["digest_title"], anchor=False)
    today = now.astimezone(labels.BUSINESS_ZONE).date()
    day = st.date_input(
        text["digest_day"], value=today - timedelta(days=1), max_value=today, key=KEY_DIGEST_DAY
    )
    digest = data_access.loop_digest(scope, day, now)
    st.caption(text["digest_note_all" if scope.kind == "all" else "digest_note_scope"])
    with st.container(horizontal=True):
        for name in ("opened", "breached", "resolved", "recovered", "open_now"):
            st.metric(text[f"digest_{name}"], f"{digest[name]:,}")
    stores = pd.DataFrame(
        digest["by_store"], columns=["store_id", "store_name", "opened", "breached", "open"]
    )
    if stores.empty:
        st.caption(text["digest_no_stores"])
    else:
        stores = stores.assign(store_name=stores["store_name"].map(labels.store_label))
        widgets.show_table(stores[["store_name", "store_id", "opened", "breached", "open"]])


def reading(recovery: pd.DataFrame) -> str:
    """The comparison in one sentence, when both groups have a 30-day return rate (the data access
    leaves it missing over fewer judged detractors than a reported figure needs)."""
    worked, not_worked = recovery[recovery["is_worked"]], recovery[~recovery["is_worked"]]
    if len(worked) != 1 or len(not_worked) != 1:
        return text["reading_too_few"]
    rate, other = worked["return_rate_30d"].iloc[0], not_worked["return_rate_30d"].iloc[0]
    counts = {
        "n_worked": int(worked["count_judged_30d"].fillna(0).iloc[0]),
        "n_not_worked": int(not_worked["count_judged_30d"].fillna(0).iloc[0]),
    }
    if pd.isna(rate) or pd.isna(other):
        return text["reading_too_few_n"].format(**counts, min=settings().min_responses)
    return text["reading"].format(worked=float(rate), not_worked=float(other), **counts)


def recovery_notes(recovery: pd.DataFrame) -> list[str]:
    """Per row, the rates and means left out for too few detractors, in words ("Back within 30
    days: n = 4, too few; ..."); "" for a row whose every figure is shown."""
    enough = settings().min_responses
    notes = []
    for row in recovery.to_dict("records"):
        counts = {
            measure: 0 if pd.isna(row[count]) else int(row[count])
            for measure, count in RECOVERY_MEASURES.items()
        }
        notes.append(
            "; ".join(
                text["hidden_measure"].format(
                    measure=labels.header(measure, language).removesuffix(" (%)"),
                    note=labels.too_few(n, language),
                )
                for measure, n in counts.items()
                if n < enough
            )
        )
    return notes


def recovery_section() -> None:
    st.subheader(text["recovery_title"], anchor=False)
    recovery = data_access.case_recovery(scope)
    if recovery is None:
        st.info(text["no_loop_marts"])
        return
    if recovery.empty:
        st.info(text["no_detractors"])
        return
    st.markdown(reading(recovery))
    st.caption(text["recovery_note"])
    widgets.show_table(recovery.assign(note=recovery_notes(recovery)), "loop_recovery", "loop")


language, text, principal = widgets.page_header(LABELS, "loop")
scope = principal.scope
now = datetime.now(UTC)

health_section()
breached_section()
failed_section()
digest_section()
recovery_section()
