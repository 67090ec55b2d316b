"""What the messages say, and that a customer's words cannot turn into markup, links or mentions."""

from __future__ import annotations

import json

import pytest

from cxlake.alerts.messages import (
    COMMENT_MAX_CHARS,
    DIGEST_MAX_STORES,
    SLACK_SECTION_MAX_CHARS,
    WECOM_MARKDOWN_MAX_BYTES,
    Message,
    alert_message,
    digest_message,
    escalation_message,
    webhook_body,
)

LINK = "http://127.0.0.1:8501/Feedback?case=C-000042"


def rendered(message: Message) -> dict[str, str]:
    """Every text a recipient may see: the e-mail's text and each webhook body as sent."""
    return {
        "text": message.text,
        "wecom": webhook_body("wecom", message)["markdown"]["content"],
        "dingtalk": webhook_body("dingtalk", message)["markdown"]["text"],
        "slack": "\n".join(
            block["text"]["text"]
            for block in webhook_body("slack", message)["blocks"]
            if block["type"] == "section"
        ),
    }


def test_the_alert_names_store_score_comment_customer_deadlines_and_link(
    sample_case: dict[str, object],
) -> None:
    message = alert_message(sample_case)

    assert message.subject == "[cxlake 高] 栖云咖啡(上海静安寺店) NPS 1 — 请于 16:03 前确认"
    assert message.link == LINK
    assert message.text.split("\n") == [
        "【差评提醒 Alert】高 High",
        "极低分 Very low score (0–2)",
        "门店 Store: 栖云咖啡(上海静安寺店) · 华东区 East",
        "评分 Score: NPS 1 · 最低 lowest Speed 1/5",
        "时间 When: 2026-12-06 14:03 · 问卷 survey · app",
        "顾客留言 Comment:",
        "「等了四十分钟才拿到咖啡，而且是凉的。店员态度也很差。」",
        "顾客 Customer: gold · 入会 420 天 member 420 d",
        "近 90 天 Last 90 d: 到店 6 次 visits · 消费 spend ¥1,280",
        "过往评分 Past scores: 9, 8, 10",
        "到店 Visit: 交易 transaction T-20261206-0778 · 店员 staff 王小明",
        "确认时限 Ack by: 2026-12-06 16:03",
        "解决时限 Resolve by: 2026-12-08 14:03",
        "案例 Case: C-000042",
        f"打开案例 Open case: {LINK}",
    ]
    markdown = message.markdown.split("\n")
    assert markdown[0] == "#### 【差评提醒 Alert】高 High"
    assert "评分 Score: **NPS 1 · 最低 lowest Speed 1/5**" in markdown
    assert "> 等了四十分钟才拿到咖啡，而且是凉的。店员态度也很差。" in markdown
    assert markdown[-1] == f"[打开案例 Open case]({LINK})"


def test_lines_stay_short_enough_for_a_phone(sample_case: dict[str, object]) -> None:
    # The comment is the customer's and may be long; every line of ours fits a 390 px screen in 3 rows.
    lines = alert_message(sample_case).text.split("\n")

    assert max(len(line) for line in lines if not line.startswith(("「", "打开案例"))) <= 60


def test_a_guest_has_no_member_context_and_missing_fields_leave_no_empty_lines(
    sample_case: dict[str, object],
) -> None:
    case = sample_case | {"customer": None, "transaction_id": None, "staff_name": None, "csat_lowest": None}

    message = alert_message(case)

    assert "顾客 Customer: 非会员 guest" in message.text.split("\n")
    assert "到店 Visit" not in message.text and "最低 lowest" not in message.text
    assert "" not in message.text.split("\n")


def test_an_acknowledge_deadline_on_another_day_shows_the_date(sample_case: dict[str, object]) -> None:
    case = sample_case | {"feedback_local": "2026-12-06 21:40", "ack_due_local": "2026-12-07 09:00"}

    assert alert_message(case).subject.endswith("— 请于 12-07 09:00 前确认")


def test_a_long_comment_is_cut_and_says_how_long_it_was(sample_case: dict[str, object]) -> None:
    comment = "咖啡太凉了，" * 100  # 600 characters

    message = alert_message(sample_case | {"comment": comment})

    quoted = next(line for line in message.text.split("\n") if line.startswith("「"))
    assert len(quoted) == COMMENT_MAX_CHARS + 2  # the quote marks around it
    assert quoted.endswith("…」")
    assert "(留言共 600 字，全文见案例 / 600 characters, full text in the case)" in message.text
    assert "留言共 600 字" in message.markdown


@pytest.mark.parametrize(
    "comment",
    [
        "<@U024BE7LH> 你看看",  # Slack and WeCom user mention
        "<!channel> 都来看",  # Slack: notify everyone
        "@all 大家注意",  # WeCom / DingTalk: everyone
        "@13800001111 老板",  # DingTalk: mention by phone
        "[领取优惠券](http://evil.example/x)",  # a link dressed as text
        "![](http://evil.example/pixel.png)",  # an image that calls home
        '<font color="warning">假通知</font>',  # WeCom markup
        "看这里 https://evil.example/x",  # a bare URL clients would link
        "**加粗** _斜体_ ~删除~ `代码`",  # emphasis that would break our bold
        "# 标题\n> 引用\n- 列表",  # block markup at the start of lines
    ],
)
def test_a_customers_words_cannot_become_markup_links_or_mentions(
    sample_case: dict[str, object], comment: str
) -> None:
    # Without the case link, whose own "](http" would hide an injected one.
    case = sample_case | {"comment": comment, "store_name": "店<@U1>[x](http://e)", "link": None}

    message = alert_message(case)

    for service, text in rendered(message).items():
        if service == "text":
            continue  # plain text: the words as typed, nothing parses them
        for dangerous in (
            "<@",
            "<!",
            "@all",
            "@138",
            "](http",
            "<font",
            "http://evil",
            "https://evil",
            "**加粗",
        ):
            assert dangerous not in text, (service, dangerous)
        assert "# 标题" not in text and "> 引用" not in text
    slack = webhook_body("slack", message)
    assert "<@" not in slack["text"] and "<!channel>" not in slack["text"]  # escaped: &lt;@…&gt;


def test_the_only_links_are_the_case_link(sample_case: dict[str, object]) -> None:
    message = alert_message(sample_case | {"comment": "[x](http://evil.example) <http://evil.example|y>"})

    assert rendered(message)["wecom"].count("](") == 1
    assert rendered(message)["slack"].count("<") == 0  # the button carries the link in Slack


@pytest.mark.parametrize(
    ("link", "expected"),
    [
        (LINK, LINK),
        (
            "https://cx.example.com/Feedback?case=C 1 (new)",
            "https://cx.example.com/Feedback?case=C%201%20%28new%29",
        ),
        ("javascript:alert(1)", ""),  # not a web address: no link at all
        (None, ""),
    ],
)
def test_the_case_link_is_kept_only_when_it_is_a_web_address(
    sample_case: dict[str, object], link: str | None, expected: str
) -> None:
    message = alert_message(sample_case | {"link": link})

    assert message.link == expected
    assert ("打开案例 Open case" in message.text) == bool(expected)


def test_the_escalation_says_how_long_past_due_and_who_had_the_case(sample_case: dict[str, object]) -> None:
    case = sample_case | {"owner": "李店长 (manager.s001)", "overdue_minutes": 75}

    message = escalation_message(case)

    assert message.subject == "[cxlake 升级 高] 栖云咖啡(上海静安寺店) NPS 1 — 超时 1 小时 15 分钟未确认"
    lines = message.text.split("\n")
    assert lines[:3] == [
        "【升级 Escalation】高 High",
        "确认时限已过 1 小时 15 分钟 / acknowledge SLA passed 1 h 15 min ago (时限 due 2026-12-06 16:03)",
        "负责人 Owner: 李店长 (manager.s001) — 尚未确认 not acknowledged",
    ]
    assert "「等了四十分钟才拿到咖啡，而且是凉的。店员态度也很差。」" in lines
    assert message.link == LINK


@pytest.mark.parametrize(
    ("minutes", "zh", "en"),
    [(5, "5 分钟", "5 min"), (60, "1 小时 0 分钟", "1 h 0 min"), (26 * 60 + 10, "1 天 2 小时", "1 d 2 h")],
)
def test_overdue_time_is_said_in_the_two_largest_units(
    sample_case: dict[str, object], minutes: int, zh: str, en: str
) -> None:
    message = escalation_message(sample_case | {"owner": "x", "overdue_minutes": minutes})

    assert f"确认时限已过 {zh} / acknowledge SLA passed {en} ago" in message.text


def test_an_escalation_without_the_overdue_time_still_says_the_sla_passed(
    sample_case: dict[str, object],
) -> None:
    message = escalation_message(sample_case | {"owner": None})

    assert message.subject.endswith("— 超时未确认")
    assert "确认时限已过 / acknowledge SLA passed" in message.text
    assert "负责人 Owner: 未分配 unassigned — 尚未确认 not acknowledged" in message.text


def digest(stores: int) -> dict[str, object]:
    return {
        "day": "2026-12-06",
        "opened": 12,
        "breached": 3,
        "resolved": 9,
        "recovered": 2,
        "open_now": 7,
        "by_store": [
            {"store_id": f"S{i:03}", "store_name": f"门店{i}", "opened": i, "breached": i % 3, "open": i % 4}
            for i in range(stores)
        ],
        "link": "http://127.0.0.1:8501/Loop",
    }


def test_the_digest_counts_the_day_and_lists_the_most_breached_stores_first() -> None:
    message = digest_message(digest(stores=4))

    assert message.subject == "[cxlake] 2026-12-06 闭环日报 Daily digest — 新开 12 · 超时 3 · 解决 9 · 未结 7"
    assert message.text.split("\n") == [
        "【闭环日报 Daily digest】2026-12-06",
        "- 新开案例 Opened: 12",
        "- 超时 Breached SLA: 3",
        "- 已解决 Resolved: 9",
        "- 挽回顾客 Recovered: 2",
        "- 当前未结 Open now: 7",
        "门店 Stores (新开 opened · 超时 breached · 未结 open)",
        "- 门店2: 新开 2 · 超时 2 · 未结 2",  # most breached first,
        "- 门店1: 新开 1 · 超时 1 · 未结 1",
        "- 门店3: 新开 3 · 超时 0 · 未结 3",  # then most open
        "- 门店0: 新开 0 · 超时 0 · 未结 0",
        "查看闭环看板 Open the loop page: http://127.0.0.1:8501/Loop",
    ]
    assert message.markdown.split("\n")[-1] == "[查看闭环看板 Open the loop page](http://127.0.0.1:8501/Loop)"


def test_the_digest_counts_the_stores_it_does_not_list() -> None:
    message = digest_message(digest(stores=DIGEST_MAX_STORES + 5))

    assert sum(line.startswith("- 门店") for line in message.text.split("\n")) == DIGEST_MAX_STORES
    assert "…及另外 5 家门店 / and 5 more stores" in message.text


def test_wecom_content_is_cut_between_lines_within_4096_bytes_keeping_the_link() -> None:
    lines = [f"- 门店{i}: 新开 {i} · 超时 0 · 未结 {i}" for i in range(400)]
    message = Message("s", "\n".join(lines), "\n".join([*lines, f"[打开案例 Open case]({LINK})"]), LINK)

    content = webhook_body("wecom", message)["markdown"]["content"]

    assert len(content.encode("utf-8")) <= WECOM_MARKDOWN_MAX_BYTES
    kept = content.split("\n")
    assert kept[-1] == f"[打开案例 Open case]({LINK})"
    assert kept[-2].startswith("…(内容过长已截断")
    assert kept[:-2] == lines[: len(kept) - 2]  # whole lines, in order, none cut in half


def test_slack_sections_stay_within_3000_characters() -> None:
    lines = [f"- 门店{i}: " + "很长的说明" * 20 for i in range(100)]
    message = Message("s", "t", "\n".join([*lines, f"[打开案例 Open case]({LINK})"]), LINK)

    blocks = webhook_body("slack", message)["blocks"]

    sections = [block["text"]["text"] for block in blocks if block["type"] == "section"]
    assert len(sections) > 1
    assert max(len(section) for section in sections) <= SLACK_SECTION_MAX_CHARS
    assert "\n".join(sections).split("\n") == lines  # nothing lost, nothing split mid-line
    assert blocks[-1]["elements"][0]["url"] == LINK


def test_slack_gets_mrkdwn_not_markdown(sample_case: dict[str, object]) -> None:
    message = alert_message(sample_case | {"comment": "咖啡 & 蛋糕"})

    body = webhook_body("slack", message)

    first = body["blocks"][0]["text"]
    assert first["type"] == "mrkdwn"
    assert first["text"].startswith("*【差评提醒 Alert】高 High*\n*极低分 Very low score (0–2)*\n")
    assert "咖啡 &amp; 蛋糕" in first["text"] and "咖啡 &amp; 蛋糕" in body["text"]
    assert "**" not in first["text"] and "####" not in first["text"]


def test_every_body_is_json_and_unknown_kinds_are_refused(sample_case: dict[str, object]) -> None:
    message = alert_message(sample_case)

    for kind in ("wecom", "dingtalk", "slack"):
        assert json.loads(json.dumps(webhook_body(kind, message), ensure_ascii=False)) == webhook_body(
            kind, message
        )
    with pytest.raises(ValueError, match="no webhook body for channel kind 'teams'"):
        webhook_body("teams", message)
