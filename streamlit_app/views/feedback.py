"""Feedback: the case workbench first, then the newest answers.

An unhappy customer opens a case (cxlake.alerts); here the owner works it: their own open cases
first, each with its service-level clocks, then the rest of their scope. A case opens beside the
customer's context, with who to call and one button per step the case's state allows; every step
goes through the data access to the case store, which audits it. Messages link straight to a case
(``/feedback?case=<id>``); an id outside the user's scope reads as no case at all.

A store manager works this on a phone: cards, not wide tables, and every customer-typed text drawn
as plain text (``st.text``), never as markdown, so a comment cannot turn into a link or a layout.
Names, phones and e-mails are masked by the data layer for roles that do not call customers back.
"""

import re
from collections.abc import Mapping
from datetime import UTC, datetime

import streamlit as st

from cxlake.alerts.cases import CONTACT_METHODS, RESOLUTION_CODES, Case, CaseError
from streamlit_app import data_access, labels, widgets

# The newest answers are the ones worth a call; older ones are in the exports of the marts.
FEEDBACK_LIMIT = 500
# Cards drawn per group (the newest first); a phone should not scroll through a year of cases.
CASES_SHOWN = 30
# A card shows the start of the comment; the case shows all of it.
PREVIEW_CHARS = 140
URL_CASE = "case"  # /feedback?case=C-20260305-1a2b3c4d, the link every message carries
KEY_SEARCH = "case_search"
KEY_HISTORICAL = "case_show_historical"
KEY_OUTCOME = "case_outcome"  # what the last click did (or why it was refused), shown once
SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}
SEVERITY_COLOURS = {"high": "red", "medium": "orange", "low": "gray"}
STATUS_COLOURS = {"open": "blue", "escalated": "violet", "acknowledged": "green", "resolved": "gray"}
# Markdown's and Streamlit's markup characters, escaped in names from other systems (store, staff,
# account names) where they sit inside our own markdown.
_MARKUP = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>:$~])")
_DIALABLE = re.compile(r"\+?[0-9][0-9 -]{4,}")

LABELS = {
    "en": {
        "title": "Feedback",
        "colon": ": ",
        "search": "Search the comments",
        "search_hint": "a word the customer wrote",
        "show_historical": "Show historical cases",
        "historical_hidden": "{n:,} historical cases (older feedback loaded later) are hidden.",
        "mine": "My open cases",
        "open_in_scope": "Other open cases",
        "open_all": "Open cases",
        "acknowledged": "Acknowledged",
        "resolved": "Resolved",
        "historical": "Historical",
        "none_mine": "No open case of yours.",
        "no_cases": "No cases in your stores.",
        "no_match": "No case's comment contains “{search}”.",
        "showing": "The newest {shown:,} of {n:,}.",
        "open_case": "Open case",
        "close_case": "Back to the list",
        "no_such_case": "No such case. It may have been mistyped, or it belongs to a store outside yours.",
        "historical_badge": "Historical",
        "acknowledge_clock": "Acknowledge",
        "resolve_clock": "Resolve",
        "historical_note": "Historical case: its feedback was loaded late, so it alerted nobody.",
        "nps": "Score {score} / 10",
        "stars": "{rating} / 5 stars",
        "lowest_csat": "Lowest rating: {touchpoint} {score} / 5",
        "no_comment": "No comment written.",
        "customer": "Customer",
        "no_customer": "No member behind this feedback (a guest or a delivery platform's order).",
        "context": "Context",
        "tier": "Tier",
        "tenure": "Member for",
        "visits": "Visits (90 days)",
        "spend": "Spend (90 days)",
        "past_scores": "Earlier scores",
        "order": "Order",
        "staff": "Staff",
        "feedback_at": "Feedback",
        "sentiment": "Comment reads",
        "owner": "Owner",
        "history": "History",
        "acknowledge": "Acknowledge",
        "contact_method": "How the customer was reached",
        "contact": "Called back",
        "note": "Note",
        "add_note": "Add a note",
        "resolution": "Resolution",
        "resolve_note": "What was done",
        "resolve": "Resolve",
        "done_acknowledge": "Case {case_id} acknowledged.",
        "done_contact": "Call-back recorded on case {case_id}.",
        "done_comment": "Note added to case {case_id}.",
        "done_resolve": "Case {case_id} resolved.",
        "refused": "Not done: {error}.",
        "read_only": "Your role reads cases; the store and regional managers work them.",
        "masked_cases": "Comments, customer names, phones and e-mails are masked for your role.",
        "recent_title": "Recent feedback",
        "detractors_only": "Detractors only",
        "shown": "The newest {n:,} responses (at most {limit:,}).",
        "masked": "Customer names, phones and e-mails are masked for your role.",
    },
    "zh": {
        "title": "客户反馈",
        "colon": "：",
        "search": "搜索留言",
        "search_hint": "顾客写的词",
        "show_historical": "显示历史案例",
        "historical_hidden": "已隐藏 {n:,} 个历史案例（补录的旧反馈）。",
        "mine": "我的待处理案例",
        "open_in_scope": "其他待处理案例",
        "open_all": "待处理案例",
        "acknowledged": "已确认",
        "resolved": "已解决",
        "historical": "历史案例",
        "none_mine": "您没有待处理的案例。",
        "no_cases": "您的门店暂无案例。",
        "no_match": "没有留言包含“{search}”的案例。",
        "showing": "最新 {shown:,} 个，共 {n:,} 个。",
        "open_case": "打开案例",
        "close_case": "返回列表",
        "no_such_case": "没有此案例。可能链接有误，或案例属于您权限以外的门店。",
        "historical_badge": "历史",
        "acknowledge_clock": "确认时限",
        "resolve_clock": "解决时限",
        "historical_note": "历史案例：反馈补录较晚，未通知任何人。",
        "nps": "评分 {score} / 10",
        "stars": "{rating} / 5 星",
        "lowest_csat": "最低评分：{touchpoint} {score} / 5",
        "no_comment": "顾客未留言。",
        "customer": "顾客",
        "no_customer": "此反馈没有对应的会员（散客或外卖平台订单）。",
        "context": "背景",
        "tier": "会员等级",
        "tenure": "入会时长",
        "visits": "到访次数（90 天）",
        "spend": "消费金额（90 天）",
        "past_scores": "以往评分",
        "order": "订单",
        "staff": "店员",
        "feedback_at": "反馈时间",
        "sentiment": "留言情感",
        "owner": "负责人",
        "history": "处理记录",
        "acknowledge": "确认",
        "contact_method": "联系方式",
        "contact": "已回访",
        "note": "备注",
        "add_note": "添加备注",
        "resolution": "处理结果",
        "resolve_note": "处理说明",
        "resolve": "解决",
        "done_acknowledge": "案例 {case_id} 已确认。",
        "done_contact": "已记录案例 {case_id} 的回访。",
        "done_comment": "已为案例 {case_id} 添加备注。",
        "done_resolve": "案例 {case_id} 已解决。",
        "refused": "未完成：{error}。",
        "read_only": "您的角色可查看案例；由店长和区域经理处理。",
        "masked_cases": "按您的角色，留言、顾客姓名、电话和邮箱已脱敏。",
        "recent_title": "最新反馈",
        "detractors_only": "仅看贬损者",
        "shown": "最新 {n:,} 条答卷（最多 {limit:,} 条）。",
        "masked": "按您的角色，顾客姓名、电话和邮箱已脱敏。",
    },
}


def md(value: object) -> str:
    """Text from another system made inert inside our markdown."""
    return _MARKUP.sub(r"\\\1", str(value))


def when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def sla_line(case: Case, now: datetime) -> str:
    """``Acknowledge: 40 min left · Resolve: 47 h 20 min left``, a breached clock in red."""
    clocks = [
        ("acknowledge_clock", case.ack_due_at, case.acknowledged_at or case.resolved_at),
        ("resolve_clock", case.resolve_due_at, case.resolved_at),
    ]
    parts = []
    for name, due, done in clocks:
        words, breached = labels.sla(when(due), when(done), now, language)
        parts.append(f"{text[name]}{text['colon']}" + (f":red[**{words}**]" if breached else words))
    return " · ".join(parts)


def score_words(info: Mapping[str, object]) -> str:
    if info.get("nps_score") is not None:
        return text["nps"].format(score=info["nps_score"])
    if info.get("rating") is not None:
        return text["stars"].format(rating=info["rating"])
    return ""


def badges(case: Case) -> None:
    with st.container(horizontal=True, gap="small"):
        st.badge(labels.code("case_severity", case.severity, language), color=SEVERITY_COLOURS[case.severity])
        st.badge(labels.code("case_status", case.status, language), color=STATUS_COLOURS[case.status])
        if case.is_historical:
            st.badge(text["historical_badge"], color="gray")


def open_case(case_id: str) -> None:
    st.query_params[URL_CASE] = case_id


def close_case() -> None:
    del st.query_params[URL_CASE]


def case_card(case: Case) -> None:
    """One case in the list: severity, rule, status, store, score, the start of the comment, clocks."""
    with st.container(border=True, key=f"case_card_{case.case_id}"):
        badges(case)
        store = labels.store_label(case.context.get("store_name")) or case.store_id or ""
        facts = [md(store), score_words(case.context), labels.local_time(case.feedback_at, language)]
        st.markdown(
            f"**{md(rules.get(case.rule_id, case.rule_id))}**  \n" + " · ".join(f for f in facts if f)
        )
        comment = str(case.context.get("text") or "")
        if comment:
            st.text(comment if len(comment) <= PREVIEW_CHARS else comment[:PREVIEW_CHARS] + "…")
        if not case.is_historical:
            st.markdown(sla_line(case, now))
        st.button(text["open_case"], key=f"open_{case.case_id}", on_click=open_case, args=[case.case_id])


def act(action: str, case_id: str) -> None:
    """A button's click: the step through the data access (which audits it), then what it did."""
    note = (st.session_state.get(f"case_note_{action}_{case_id}") or "").strip() or None
    try:
        if action == "acknowledge":
            data_access.acknowledge_case(principal, case_id)
        elif action == "contact":
            method = st.session_state[f"case_contact_method_{case_id}"]
            data_access.record_case_contact(principal, case_id, method, note)
        elif action == "comment":
            data_access.comment_on_case(principal, case_id, note or "")
        else:
            code = st.session_state[f"case_resolution_{case_id}"]
            data_access.resolve_case(principal, case_id, code, note)
    except CaseError as error:
        st.session_state[KEY_OUTCOME] = ("error", text["refused"].format(error=error))
        return
    st.session_state[f"case_note_{action}_{case_id}"] = ""
    st.session_state[KEY_OUTCOME] = ("success", text[f"done_{action}"].format(case_id=case_id))


def action_buttons(case: Case) -> None:
    """One control per step the case's state allows; the others are not offered."""
    allowed = data_access.allowed_case_actions(case)
    case_id = case.case_id
    if "acknowledge" in allowed:
        st.button(
            text["acknowledge"],
            key=f"case_acknowledge_{case_id}",
            type="primary",
            on_click=act,
            args=["acknowledge", case_id],
        )
    if "contact" in allowed:
        with st.container(border=True):
            st.selectbox(
                text["contact_method"],
                CONTACT_METHODS,
                format_func=lambda method: labels.code("contact_method", method, language),
                key=f"case_contact_method_{case_id}",
            )
            st.text_input(text["note"], key=f"case_note_contact_{case_id}")
            st.button(text["contact"], key=f"case_contact_{case_id}", on_click=act, args=["contact", case_id])
    if "resolve" in allowed:
        with st.container(border=True):
            st.selectbox(
                text["resolution"],
                RESOLUTION_CODES,
                format_func=lambda code: labels.code("resolution", code, language),
                key=f"case_resolution_{case_id}",
            )
            st.text_input(text["resolve_note"], key=f"case_note_resolve_{case_id}")
            st.button(text["resolve"], key=f"case_resolve_{case_id}", on_click=act, args=["resolve", case_id])
    if "comment" in allowed:
        with st.container(border=True):
            st.text_area(text["note"], key=f"case_note_comment_{case_id}", height=68)
            st.button(
                text["add_note"], key=f"case_comment_{case_id}", on_click=act, args=["comment", case_id]
            )


def context_lines(info: Mapping[str, object]) -> list[str]:
    """The customer's context as ``**Label**: value`` lines, only those the feedback has."""
    tier = labels.code("member_tier", info.get("member_tier"), language)
    money = "¥{:,.0f}".format
    order = [
        md(info["transaction_id"]) if info.get("transaction_id") else "",
        money(float(info["amount"])) if info.get("amount") is not None else "",
        labels.code("channel", info.get("channel"), language),
        labels.local_time(info.get("ordered_at"), language),
    ]
    lines = [
        ("tier", tier),
        ("tenure", labels.tenure(info.get("tenure_days"), language)),
        ("visits", f"{int(info['visits_90d'])}" if info.get("visits_90d") is not None else ""),
        ("spend", money(float(info["spend_90d"])) if info.get("spend_90d") is not None else ""),
        ("past_scores", md(", ".join(str(info.get("past_nps_scores") or "").split(",")).strip(", "))),
        ("order", " · ".join(part for part in order if part)),
        ("staff", md(info["staff_name"]) if info.get("staff_name") else ""),
        ("feedback_at", labels.local_time(info.get("feedback_at"), language)),
        ("sentiment", labels.code("sentiment", info.get("sentiment_label"), language)),
    ]
    return [f"**{text[name]}**{text['colon']}{value}" for name, value in lines if value]


def customer_lines(customer: Mapping[str, object]) -> list[str]:
    """Name, phone (a tap dials it when it is a real number) and e-mail of the member."""
    phone = str(customer.get("phone") or "")
    dial = (
        f"[{md(phone)}](tel:{re.sub(r'[ -]', '', phone)})"
        if page.principal.sees_pii and _DIALABLE.fullmatch(phone)
        else md(phone)
    )
    lines = [md(customer["customer_name"])] if customer.get("customer_name") else []
    if phone:
        lines.append(dial)
    if customer.get("email"):
        lines.append(md(customer["email"]))
    return lines


def owner_words(owner: str) -> str:
    """``store_manager:S001`` as "Store manager S001" (店长 S001)."""
    position, _, scope_id = owner.partition(":")
    return f"{text.get(f'role_{position}', md(position))} {md(scope_id)}"


def case_detail(case: Case) -> None:
    """The case beside the customer's context, who to call, the clocks, the steps and the history."""
    scope, sees_pii = page.scope, page.principal.sees_pii
    item = data_access.case_feedback_item(scope, case.subject_key, sees_pii) or {}
    info = {**case.context, **{name: value for name, value in item.items() if value is not None}}
    if "feedback_at" not in item:
        info["feedback_at"] = case.feedback_at
    with st.container(border=True, key="case_detail"):
        badges(case)
        st.subheader(rules.get(case.rule_id, case.rule_id), anchor=False)
        store = labels.store_label(info.get("store_name")) or case.store_id or ""
        st.caption(f"{md(case.case_id)} · {md(store)}")
        score = [score_words(info)]
        if info.get("lowest_csat_score") is not None:
            touchpoint = info.get(f"touchpoint_name_{language}") or info.get("lowest_csat_touchpoint") or ""
            score.append(
                text["lowest_csat"].format(touchpoint=md(touchpoint), score=info["lowest_csat_score"])
            )
        st.markdown(" · ".join(f"**{part}**" for part in score if part))
        if case.is_historical:
            st.caption(text["historical_note"])
        else:
            st.markdown(sla_line(case, now))
        comment_column, context_column = st.columns([3, 2])
        with comment_column:
            comment = info.get("text")
            if comment:
                st.text(str(comment))
            else:
                st.caption(text["no_comment"])
            st.markdown(f"**{text['customer']}**")
            customer = (
                data_access.case_customer(scope, case.transaction_id, sees_pii)
                if case.transaction_id
                else None
            )
            if customer and any(customer.values()):
                st.markdown("  \n".join(customer_lines(customer)))
            else:
                st.caption(text["no_customer"])
        with context_column:
            st.markdown(f"**{text['context']}**")
            st.markdown("  \n".join(context_lines(info)))
            st.caption(f"{text['owner']}{text['colon']}{owner_words(case.owner)}")
        if data_access.may_work_cases(page.principal):
            action_buttons(case)
        else:
            st.caption(text["read_only"])
        st.markdown(f"**{text['history']}**")
        for event in data_access.scoped_case_events(scope, case.case_id, sees_pii):
            action = labels.code("case_action", event.action, language)
            detail = event.detail.get("method") or event.detail.get("code")
            kind = "contact_method" if "method" in event.detail else "resolution"
            extra = f" ({labels.code(kind, detail, language)})" if detail else ""
            st.markdown(f"**{action}**{extra} · {labels.local_time(event.at, language)} · {md(event.actor)}")
            if event.note:
                st.text(event.note)
        st.button(text["close_case"], key="case_close", on_click=close_case)


def case_group(title: str, cases: list[Case], empty: str | None = None) -> None:
    if not cases and empty is None:
        return
    st.subheader(f"{title} ({len(cases):,})", anchor=False)
    if not cases:
        st.caption(empty)
    for case in cases[:CASES_SHOWN]:
        case_card(case)
    if len(cases) > CASES_SHOWN:
        st.caption(text["showing"].format(shown=CASES_SHOWN, n=len(cases)))


def urgency(case: Case) -> tuple:
    """Most severe first, then the clock that runs out first."""
    return (SEVERITY_ORDER.get(case.severity, 9), case.ack_due_at, case.case_id)


page = widgets.filtered_page(LABELS, "feedback")
text, language, principal = page.text, page.language, page.principal
sees_pii = principal.sees_pii
now = datetime.now(UTC)
rules = data_access.case_rule_labels(language)

outcome = st.session_state.pop(KEY_OUTCOME, None)
if outcome:
    kind, message = outcome
    (st.success if kind == "success" else st.error)(message)

case_id = st.query_params.get(URL_CASE)
if case_id:
    opened = data_access.scoped_case(page.scope, case_id, sees_pii)
    if opened is None:
        st.warning(text["no_such_case"])
        st.button(text["close_case"], key="case_close", on_click=close_case)
    else:
        case_detail(opened)

# The list is every case of the user's stores (the region / store filters narrow it), whatever the
# period: an open case must not hide behind a date filter.
search = st.text_input(text["search"], key=KEY_SEARCH, placeholder=text["search_hint"])
show_historical = st.toggle(text["show_historical"], key=KEY_HISTORICAL)
# Historical cases are read (and masked) only when shown; hidden, they are only counted.
cases = data_access.scoped_cases(
    page.scope, page.filters, sees_pii, search, include_historical=show_historical
)
hidden = 0 if show_historical else data_access.historical_case_count(page.scope, page.filters)
if not sees_pii:
    st.caption(text["masked_cases"])
live = [case for case in cases if not case.is_historical]
historical = [case for case in cases if case.is_historical]
mine = data_access.own_position(principal)
waiting = sorted((case for case in live if case.status in ("open", "escalated")), key=urgency)
if not cases and (search.strip() or not hidden):
    st.info(text["no_match"].format(search=search.strip()) if search.strip() else text["no_cases"])
if mine:
    case_group(text["mine"], [case for case in waiting if case.owner == mine], text["none_mine"])
    case_group(text["open_in_scope"], [case for case in waiting if case.owner != mine])
else:
    case_group(text["open_all"], waiting)
case_group(
    text["acknowledged"],
    sorted((case for case in live if case.status == "acknowledged"), key=lambda case: case.resolve_due_at),
)
case_group(
    text["resolved"],
    sorted(
        (case for case in live if case.status == "resolved"), key=lambda c: c.resolved_at or "", reverse=True
    ),
)
if show_historical:
    case_group(text["historical"], historical)
elif hidden:
    st.caption(text["historical_hidden"].format(n=hidden))

st.divider()
st.subheader(text["recent_title"], anchor=False)
detractors_only = st.toggle(text["detractors_only"], key="feedback_detractors_only")
feedback = data_access.recent_feedback(page.scope, page.filters, sees_pii, FEEDBACK_LIMIT, detractors_only)
if feedback.empty:
    st.info(text["no_data"])
    st.stop()

st.caption(text["shown"].format(n=len(feedback), limit=FEEDBACK_LIMIT))
if not sees_pii:
    st.caption(text["masked"])
widgets.show_table(feedback.assign(store=feedback["store"].map(labels.store_label)), "feedback", "feedback")
