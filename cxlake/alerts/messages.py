"""What an alert says: one :class:`Message` per case (alert, escalation) or per day (digest), and the
exact JSON body each webhook service accepts for it.

A store manager reads these on a phone between customers, so the wording is Chinese first with the
English beside it, one fact per short line: store, score, the customer's words, who the customer is,
when to acknowledge, and the link to the case.

Everything that comes from a case (the comment above all, but also store names and staff names) is
text typed by someone else. In markdown it could open a link, shout ``@all`` or ``<@U123>`` at a whole
group, or break the layout, so :func:`_md_safe` turns each markup character into its full-width twin:
it reads the same on a phone and no service parses it. Slack's own control characters are escaped
as Slack documents in :func:`webhook_body`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote, urlsplit

# A phone screen shows about this much of a comment; the full text is one tap away in the case.
COMMENT_MAX_CHARS = 300
# Stores listed by name in the digest; the rest are counted on one line.
DIGEST_MAX_STORES = 15
# WeCom group robot: "markdown.content ... 最长不超过 4096 个字节，必须是 utf8 编码"
# (企业微信开发者中心《群机器人配置说明》, developer.work.weixin.qq.com/document/path/91770).
WECOM_MARKDOWN_MAX_BYTES = 4096
# Slack section block: text "maximum length is 3000 characters"
# (docs.slack.dev/reference/block-kit/blocks/section-block).
SLACK_SECTION_MAX_CHARS = 3000
# Slack messages carry at most 50 blocks; one is kept for the button.
SLACK_MAX_SECTIONS = 49

CASE_LINK_LABEL = "打开案例 Open case"
DIGEST_LINK_LABEL = "查看闭环看板 Open the loop page"
_CUT_NOTE = "…(内容过长已截断 / cut, see the page)"

SEVERITY_LABELS = {"high": "高 High", "medium": "中 Medium", "low": "低 Low"}
_SEVERITY_SHORT = {"high": "高", "medium": "中", "low": "低"}
SOURCE_LABELS = {"survey": "问卷 survey", "review": "点评 review"}

# Markup characters of the three dialects (CommonMark as WeCom and DingTalk read it, Slack mrkdwn)
# and the full-width forms that look alike on a phone but are never parsed. "@" starts mentions
# ("@all", DingTalk's "@138…"); "<" starts WeCom's <@userid> and <font>, Slack's <@U…> and <!channel>.
_MD_NEUTRAL = str.maketrans(
    {
        "\\": "＼",
        "*": "＊",
        "_": "＿",
        "`": "｀",
        "~": "～",
        "#": "＃",
        "[": "［",
        "]": "］",
        "<": "＜",
        ">": "＞",
        "|": "｜",
        "@": "＠",
    }
)
_WHITESPACE = re.compile(r"\s+")
_MD_LINK = re.compile(r"\[([^\]\n]+)\]\(([^)\s]+)\)")
_MD_BOLD = re.compile(r"\*\*(.+?)\*\*")
# The last line of every message's markdown: the link to the case or page.
_MD_LINK_LINE = re.compile(r"\[([^\]\n]+)\]\((\S+)\)")


@dataclass(frozen=True)
class Message:
    """One message, rendered once and sent through any channel.

    ``markdown`` uses the small CommonMark subset that WeCom and DingTalk robots both render
    (``####`` heading, ``**bold**``, ``> quote``, ``[label](url)``); :func:`webhook_body` turns it
    into Slack mrkdwn. Its last line is the link to the case.
    """

    subject: str
    text: str
    markdown: str
    link: str


def alert_message(case: Mapping[str, object]) -> Message:
    """The first message of a case, to the person responsible for the store."""
    severity = _str(case.get("severity"))
    due = _short_due(case.get("ack_due_local"), case.get("feedback_local"))
    subject = _one_line(
        f"[cxlake {_SEVERITY_SHORT.get(severity, severity or '?')}] {_store(case)} {_score(case)}"
        + (f" — 请于 {due} 前确认" if due else "")
    )
    head = [
        _Line("heading", "", f"【差评提醒 Alert】{_severity_label(severity)}"),
        _Line("strong", "", _str(case.get("rule_label"))),
    ]
    return _render(subject, head + _case_lines(case), _safe_url(case.get("link")), CASE_LINK_LABEL)


def escalation_message(case: Mapping[str, object]) -> Message:
    """The acknowledge SLA passed with nobody acknowledging: tell the next level up.

    The case mapping is the one :func:`alert_message` takes plus ``owner`` (who had the case) and
    ``overdue_minutes`` (how long past the acknowledge due time, counted by the caller's clock so a
    test controls it); without ``overdue_minutes`` the message says only that the time passed.
    """
    severity = _str(case.get("severity"))
    overdue = case.get("overdue_minutes")
    late_zh, late_en = _duration(overdue) if isinstance(overdue, int | float) else ("", "")
    due = _str(case.get("ack_due_local"))
    subject = _one_line(
        f"[cxlake 升级 {_SEVERITY_SHORT.get(severity, severity or '?')}] {_store(case)} {_score(case)}"
        + (f" — 超时 {late_zh}未确认" if late_zh else " — 超时未确认")
    )
    passed = (
        f"确认时限已过 {late_zh} / acknowledge SLA passed {late_en} ago"
        if late_zh
        else "确认时限已过 / acknowledge SLA passed"
    )
    head = [
        _Line("heading", "", f"【升级 Escalation】{_severity_label(severity)}"),
        _Line("strong", "", passed + (f" (时限 due {due})" if due else "")),
        _Line(
            "strong",
            "负责人 Owner",
            (_str(case.get("owner")) or "未分配 unassigned") + " — 尚未确认 not acknowledged",
        ),
        _Line("note", "", _str(case.get("rule_label"))),
    ]
    return _render(subject, head + _case_lines(case), _safe_url(case.get("link")), CASE_LINK_LABEL)


def digest_message(digest: Mapping[str, object]) -> Message:
    """The CX director's morning summary of the loop: the day's counts and the stores behind them.

    Stores come most-breached first (then most open), since those are the ones to call; beyond
    :data:`DIGEST_MAX_STORES` they are counted, not listed, to keep the message readable on a phone.
    """
    day = _str(digest.get("day"))
    counts = {
        key: _int(digest.get(key)) for key in ("opened", "breached", "resolved", "recovered", "open_now")
    }
    subject = _one_line(
        f"[cxlake] {day} 闭环日报 Daily digest — 新开 {counts['opened']} · 超时 {counts['breached']}"
        f" · 解决 {counts['resolved']} · 未结 {counts['open_now']}"
    )
    lines = [
        _Line("heading", "", f"【闭环日报 Daily digest】{day}"),
        _Line("item", "新开案例 Opened", str(counts["opened"])),
        _Line("item", "超时 Breached SLA", str(counts["breached"])),
        _Line("item", "已解决 Resolved", str(counts["resolved"])),
        _Line("item", "挽回顾客 Recovered", str(counts["recovered"])),
        _Line("item", "当前未结 Open now", str(counts["open_now"])),
    ]
    stores = sorted(
        _rows(digest.get("by_store")),
        key=lambda row: (-_int(row.get("breached")), -_int(row.get("open")), _str(row.get("store_id"))),
    )
    if stores:
        lines.append(_Line("strong", "", "门店 Stores (新开 opened · 超时 breached · 未结 open)"))
    for row in stores[:DIGEST_MAX_STORES]:
        lines.append(
            _Line(
                "item",
                _str(row.get("store_name")) or _str(row.get("store_id")) or "?",
                f"新开 {_int(row.get('opened'))} · 超时 {_int(row.get('breached'))}"
                f" · 未结 {_int(row.get('open'))}",
            )
        )
    rest = len(stores) - DIGEST_MAX_STORES
    if rest > 0:
        lines.append(_Line("note", "", f"…及另外 {rest} 家门店 / and {rest} more stores"))
    return _render(subject, lines, _safe_url(digest.get("link")), DIGEST_LINK_LABEL)


def run_failure_message(failure: Mapping[str, object]) -> Message:
    """A Dagster run failed: tell the data team which job, which step and why, in one look.

    ``failure``: ``job``, ``run_id``, ``step`` (the failing step, or empty when the run failed
    before any step), ``reason`` (the first line of the error), ``partitions`` and ``link`` (the
    run's page in the Dagster UI). The reason is text from an exception, so it is made inert in
    markdown like a customer's comment.
    """
    job, step, reason = _str(failure.get("job")), _str(failure.get("step")), _str(failure.get("reason"))
    where = f"{job} · {step}" if step else job
    subject = _one_line(f"[cxlake 运行失败 Run failed] {where}: {reason}")
    lines = [
        _Line("heading", "", f"【运行失败 Run failed】{job}"),
        _Line("strong", "步骤 Step", step or "(运行未开始 before any step)"),
        _Line("quote", "原因 Reason", reason),
        _Line("fact", "分区 Partitions", _str(failure.get("partitions"))),
        _Line("fact", "运行 Run", _str(failure.get("run_id"))),
    ]
    return _render(subject, lines, _safe_url(failure.get("link")), "查看运行 Open the run")


def webhook_body(kind: str, message: Message) -> dict:
    """The JSON body a webhook service accepts for ``message``; ``kind`` is wecom, dingtalk or slack.

    - WeCom group robot, markdown message: ``{"msgtype": "markdown", "markdown": {"content": ...}}``,
      content at most 4096 bytes of UTF-8 (企业微信《群机器人配置说明》,
      developer.work.weixin.qq.com/document/path/91770). Longer content is cut between lines.
    - DingTalk custom robot, markdown message: ``{"msgtype": "markdown", "markdown": {"title": ...,
      "text": ...}}``; the title is what the chat list and the notification show (钉钉开放平台
      《自定义机器人发送群消息》 and 《消息类型》, open.dingtalk.com/document/orgapp/custom-robot-access,
      open.dingtalk.com/document/development/robot-message-type). Its renderer wants "  \\n" (two
      spaces: a hard break) to break a line.
    - Slack incoming webhook: ``{"text": fallback, "blocks": [...]}``: with blocks, ``text`` is the
      notification fallback (docs.slack.dev/messaging/sending-messages-using-incoming-webhooks);
      ``section`` blocks of ``mrkdwn`` text and an ``actions`` block with a link ``button``
      (docs.slack.dev/reference/block-kit/blocks/section-block, .../block-elements/button-element).
      Slack parses ``&``, ``<`` and ``>`` as control characters, to be sent as ``&amp;`` ``&lt;``
      ``&gt;`` (api.slack.com/reference/surfaces/formatting, "Escaping text").
    """
    if kind == "wecom":
        return {
            "msgtype": "markdown",
            "markdown": {"content": _fit_bytes(message.markdown, WECOM_MARKDOWN_MAX_BYTES)},
        }
    if kind == "dingtalk":
        return {
            "msgtype": "markdown",
            "markdown": {"title": message.subject, "text": message.markdown.replace("\n", "  \n")},
        }
    if kind == "slack":
        return _slack_body(message)
    raise ValueError(f"no webhook body for channel kind {kind!r} (expected wecom, dingtalk or slack)")


# -- rendering -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Line:
    """One line of a message, rendered as plain text and as markdown from the same facts.

    ``kind``: heading, strong (bold value), fact, item (bulleted fact), quote (the customer's
    words), note. Labels are ours; values come from the case and are made safe for markdown.
    """

    kind: str
    label: str
    value: str


def _render(subject: str, lines: list[_Line], link: str, link_label: str) -> Message:
    text: list[str] = []
    markdown: list[str] = []
    for line in lines:
        if not line.value:
            continue
        prefix = f"{line.label}: " if line.label else ""
        md_prefix = f"{_md_safe(line.label)}: " if line.label else ""
        safe = _md_safe(line.value)
        if line.kind == "quote":
            text += [prefix.rstrip(), f"「{line.value}」"] if prefix else [f"「{line.value}」"]
            # The blank line ends the quote: CommonMark's lazy continuation would pull the next line in.
            markdown += [f"> {safe}", ""]
        elif line.kind == "heading":
            text.append(line.value)
            markdown.append(f"#### {safe}")
        elif line.kind == "item":
            text.append(f"- {prefix}{line.value}")
            markdown.append(f"- {md_prefix}{safe}")
        else:
            text.append(prefix + line.value)
            markdown.append(f"{md_prefix}**{safe}**" if line.kind == "strong" else md_prefix + safe)
    if link:
        text.append(f"{link_label}: {link}")
        markdown.append(f"[{link_label}]({link})")
    return Message(subject=subject, text="\n".join(text), markdown="\n".join(markdown), link=link)


def _case_lines(case: Mapping[str, object]) -> list[_Line]:
    """The lines every case message shares: store, score, words, customer, visit, deadlines, link."""
    region = _str(case.get("region_name"))
    lowest = _str(case.get("csat_lowest"))
    source = _str(case.get("source"))
    comment, cut_note = _cut_comment(_str(case.get("comment")))
    lines = [
        _Line("fact", "门店 Store", _store(case) + (f" · {region}" if region else "")),
        _Line("strong", "评分 Score", _score(case) + (f" · 最低 lowest {lowest}" if lowest else "")),
        _Line(
            "fact",
            "时间 When",
            _join(
                _str(case.get("feedback_local")), SOURCE_LABELS.get(source, source), _str(case.get("channel"))
            ),
        ),
        _Line("quote", "顾客留言 Comment", comment or "(无留言 no comment)"),
    ]
    if cut_note:
        lines.append(_Line("note", "", cut_note))
    lines += _customer_lines(case.get("customer"))
    transaction, staff = _str(case.get("transaction_id")), _str(case.get("staff_name"))
    if transaction or staff:
        lines.append(
            _Line(
                "fact",
                "到店 Visit",
                _join(
                    f"交易 transaction {transaction}" if transaction else "",
                    f"店员 staff {staff}" if staff else "",
                ),
            )
        )
    if _str(case.get("ack_due_local")):
        lines.append(_Line("strong", "确认时限 Ack by", _str(case.get("ack_due_local"))))
    if _str(case.get("resolve_due_local")):
        lines.append(_Line("fact", "解决时限 Resolve by", _str(case.get("resolve_due_local"))))
    if _str(case.get("case_id")):
        lines.append(_Line("fact", "案例 Case", _str(case.get("case_id"))))
    return lines


def _customer_lines(customer: object) -> list[_Line]:
    """Who the customer is to us: guest, or tier and tenure, the last 90 days, past scores."""
    if not isinstance(customer, Mapping):
        return [_Line("fact", "顾客 Customer", "非会员 guest")]
    tenure = customer.get("tenure_days")
    lines = [
        _Line(
            "fact",
            "顾客 Customer",
            _join(
                _str(customer.get("tier")) or "会员 member",
                f"入会 {_int(tenure)} 天 member {_int(tenure)} d" if tenure is not None else "",
            ),
        )
    ]
    visits, spend = customer.get("visits_90d"), customer.get("spend_90d")
    recent = _join(
        f"到店 {_int(visits)} 次 visits" if visits is not None else "",
        f"消费 spend ¥{spend:,.0f}" if isinstance(spend, int | float) else "",
    )
    if recent:
        lines.append(_Line("fact", "近 90 天 Last 90 d", recent))
    past = customer.get("past_scores")
    if isinstance(past, Sequence) and not isinstance(past, str) and past:
        lines.append(
            _Line("fact", "过往评分 Past scores", ", ".join(str(score) for score in list(past)[-5:]))
        )
    return lines


def _cut_comment(comment: str) -> tuple[str, str]:
    """The comment on one line, cut at :data:`COMMENT_MAX_CHARS` with a note saying how long it was."""
    if len(comment) <= COMMENT_MAX_CHARS:
        return comment, ""
    return (
        comment[: COMMENT_MAX_CHARS - 1].rstrip() + "…",
        f"(留言共 {len(comment)} 字，全文见案例 / {len(comment)} characters, full text in the case)",
    )


def _store(case: Mapping[str, object]) -> str:
    return _str(case.get("store_name")) or _str(case.get("store_id")) or "?"


def _score(case: Mapping[str, object]) -> str:
    return _str(case.get("score_label")) or _str(case.get("rule_label")) or "?"


def _severity_label(severity: str) -> str:
    return SEVERITY_LABELS.get(severity, severity or "?")


def _short_due(due: object, since: object) -> str:
    """The acknowledge due time as a phone shows it: "16:03" on the feedback's day, else "12-07 09:00"."""
    due_text = _str(due)
    try:
        due_at = datetime.strptime(due_text, "%Y-%m-%d %H:%M")
    except ValueError:
        return due_text
    try:
        same_day = datetime.strptime(_str(since), "%Y-%m-%d %H:%M").date() == due_at.date()
    except ValueError:
        same_day = False
    return due_at.strftime("%H:%M" if same_day else "%m-%d %H:%M")


def _duration(minutes: float) -> tuple[str, str]:
    """("1 小时 15 分钟", "1 h 15 min"): how long past due, in the two largest units that matter."""
    total = max(0, round(minutes))
    days, rest = divmod(total, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} 天 {hours} 小时", f"{days} d {hours} h"
    if hours:
        return f"{hours} 小时 {mins} 分钟", f"{hours} h {mins} min"
    return f"{mins} 分钟", f"{mins} min"


# -- text safety ---------------------------------------------------------------------------------


def _str(value: object) -> str:
    """A case field as one line of text; None is empty."""
    return "" if value is None else _WHITESPACE.sub(" ", str(value)).strip()


def _int(value: object) -> int:
    return int(value) if isinstance(value, int | float) else 0


def _rows(value: object) -> list[Mapping[str, object]]:
    return [row for row in value if isinstance(row, Mapping)] if isinstance(value, Sequence) else []


def _join(*parts: str) -> str:
    return " · ".join(part for part in parts if part)


def _one_line(text: str) -> str:
    return _WHITESPACE.sub(" ", text).strip()


def _md_safe(text: str) -> str:
    """Text from a case made inert in markdown and mrkdwn: one line, no markup, no mentions, no links.

    "://" becomes "：//" too, so a URL typed by a customer is not turned into a link by any client.
    """
    return _WHITESPACE.sub(" ", text).strip().translate(_MD_NEUTRAL).replace("://", "：//")


def _safe_url(value: object) -> str:
    """The case link if it is http(s); characters that would end a markdown or Slack link are encoded."""
    url = _str(value)
    if urlsplit(url).scheme not in ("http", "https"):
        return ""
    return quote(url, safe=":/?#[]@!$&'*+,;=%-._~")


# -- per service ---------------------------------------------------------------------------------


def _fit_bytes(markdown: str, limit: int) -> str:
    """``markdown`` within ``limit`` UTF-8 bytes, cut between lines so no markup is left half open.

    The link to the case (the last line) is kept; lines before it are dropped from the end and a
    note says the message was cut. A single line longer than the limit is cut on a character.
    """
    if len(markdown.encode()) <= limit:
        return markdown
    lines = markdown.split("\n")
    tail = [lines.pop()] if lines and _MD_LINK_LINE.fullmatch(lines[-1]) else []
    tail.insert(0, _CUT_NOTE)
    budget = limit - len("\n".join(tail).encode()) - 1
    kept: list[str] = []
    used = 0
    for line in lines:
        size = len(line.encode()) + (1 if kept else 0)
        if used + size > budget:
            if not kept:
                kept.append(line.encode()[:budget].decode(errors="ignore"))
            break
        kept.append(line)
        used += size
    return "\n".join(kept + tail)


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _to_mrkdwn(markdown: str) -> str:
    """Our markdown subset as Slack mrkdwn: headings and **bold** as *bold*, [l](u) as <u|l>.

    Case text went through :func:`_md_safe`, so the only ``<`` ``>`` are ours; ``&`` is escaped first.
    """
    lines = []
    for line in markdown.replace("&", "&amp;").split("\n"):
        if line.startswith("#### "):
            line = f"*{line[5:]}*"
        line = _MD_BOLD.sub(r"*\1*", line)
        line = _MD_LINK.sub(lambda m: f"<{m.group(2)}|{m.group(1)}>", line)
        lines.append(line)
    return "\n".join(lines)


def _slack_body(message: Message) -> dict:
    """Sections of at most 3000 characters, split between lines, and a button to the case."""
    lines = message.markdown.split("\n")
    last = _MD_LINK_LINE.fullmatch(lines[-1])
    label = "打开 Open"
    if message.link and last and last.group(2) == message.link:
        label = last.group(1)
        lines.pop()  # the button below carries the link
    sections: list[str] = []
    current = ""
    for line in _to_mrkdwn("\n".join(lines)).split("\n"):
        line = line[:SLACK_SECTION_MAX_CHARS]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > SLACK_SECTION_MAX_CHARS:
            sections.append(current)
            candidate = line
        current = candidate
    if current:
        sections.append(current)
    blocks: list[dict] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": section}}
        for section in sections[:SLACK_MAX_SECTIONS]
    ]
    if message.link:
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": label},
                        "url": message.link,
                    }
                ],
            }
        )
    return {"text": _slack_escape(message.text), "blocks": blocks}
