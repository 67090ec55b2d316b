"""Delivery against real servers on loopback: what arrives, how failures are retried, what is recorded.

Waits between tries go to a list instead of ``time.sleep``, so the backoff is asserted exactly and
no test sleeps through it.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

import pytest

from cxlake.alerts.delivery import Channel, ChannelError, DeliveryResult, RetryPolicy, send
from cxlake.alerts.messages import Message, alert_message, webhook_body

if TYPE_CHECKING:  # fixtures' types; pytest loads conftest.py itself
    from conftest import SmtpServer, WebhookServer

MANAGER = "manager.s001@stores.example.com"
WECOM_KEY = "693a91f6-7aoc-4bc4-97a0-0ec2sifa5aaa"
DINGTALK_TOKEN = "e9a8118c8a3dc0b1685fab41df25b9dc865fd74"
DINGTALK_SECRET = "SEC10d6e79b42bd94be0d0d603843651aa2ccd7186db6edbc"
SLACK_PATH = "/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX"
POLICY = RetryPolicy(attempts=3, backoff_seconds=2.0, timeout_seconds=5.0)


@pytest.fixture
def message(sample_case: dict[str, object]) -> Message:
    return alert_message(sample_case)


def deliver(
    channel: Channel, message: Message, recipients: tuple[str, ...] = (), policy: RetryPolicy = POLICY
) -> tuple[DeliveryResult, list[float]]:
    """Send, recording the waits between tries instead of sleeping them."""
    waits: list[float] = []
    result = send(channel, message, recipients, retry=policy, sleep=waits.append)
    return result, waits


def smtp_channel(server: SmtpServer, environ: Mapping[str, str] | None = None, **settings: object) -> Channel:
    return Channel.from_config("email", server.channel_config(**settings), environ or {})


def webhook_channel(kind: str, url: str, **environ: str) -> Channel:
    config: dict[str, object] = {"kind": kind, "url_env": "CXLAKE_TEST_WEBHOOK_URL"}
    if "CXLAKE_TEST_SECRET" in environ:
        config["secret_env"] = "CXLAKE_TEST_SECRET"
    return Channel.from_config(f"{kind}_group", config, {"CXLAKE_TEST_WEBHOOK_URL": url, **environ})


def closed_port() -> int:
    """A loopback port nobody listens on: connecting is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# -- e-mail --------------------------------------------------------------------------------------


def test_an_email_arrives_with_utf8_subject_and_a_body_naming_store_score_comment_and_link(
    smtp_server: SmtpServer, message: Message
) -> None:
    result, waits = deliver(smtp_channel(smtp_server), message, (MANAGER,))

    assert result == DeliveryResult(
        ok=True, attempts=1, error=None, response="250 Message accepted for delivery"
    )
    assert waits == []
    [mail] = smtp_server.wait_for(1)
    assert mail.mail_from == "alerts@example.com"
    assert mail.rcpt_tos == (MANAGER,)
    assert mail.message["To"] == MANAGER
    assert mail.subject == "[cxlake 高] 栖云咖啡(上海静安寺店) NPS 1 — 请于 16:03 前确认"
    text = mail.body("plain")
    for expected in (
        "栖云咖啡(上海静安寺店)",
        "NPS 1",
        "等了四十分钟才拿到咖啡，而且是凉的。店员态度也很差。",
        "gold",
        "¥1,280",
        "http://127.0.0.1:8501/Feedback?case=C-000042",
    ):
        assert expected in text
    html = mail.body("html")
    assert '<a href="http://127.0.0.1:8501/Feedback?case=C-000042">' in html
    assert "栖云咖啡(上海静安寺店)" in html


def test_one_email_goes_to_all_recipients_at_once(smtp_server: SmtpServer, message: Message) -> None:
    regional = "manager.east@regions.example.com"

    result, _ = deliver(smtp_channel(smtp_server), message, (MANAGER, regional))

    assert result.ok
    [mail] = smtp_server.wait_for(1)
    assert mail.rcpt_tos == (MANAGER, regional)
    assert mail.message["To"] == f"{MANAGER}, {regional}"


def test_a_server_that_defers_twice_gets_the_email_on_the_third_try_after_2_and_4_seconds(
    smtp_server: SmtpServer, message: Message
) -> None:
    smtp_server.reply_next("451 4.3.0 Try again later", "451 4.3.0 Try again later")

    result, waits = deliver(smtp_channel(smtp_server), message, (MANAGER,))

    assert (result.ok, result.attempts, result.error) == (True, 3, None)
    assert waits == [2.0, 4.0]
    assert smtp_server.data_commands == 3
    assert len(smtp_server.wait_for(1)) == 1  # accepted once: the deferred tries left nothing behind


def test_a_server_that_always_defers_is_a_recorded_failure_after_every_attempt(
    smtp_server: SmtpServer, message: Message
) -> None:
    smtp_server.refuse_always("451 4.7.1 Greylisted, please retry")

    result, waits = deliver(smtp_channel(smtp_server), message, (MANAGER,))

    assert (result.ok, result.attempts) == (False, 3)
    assert result.error is not None and result.error.startswith("SMTP 451 4.7.1 Greylisted")
    assert result.response == "451 4.7.1 Greylisted, please retry"
    assert waits == [2.0, 4.0]
    assert smtp_server.received == []


def test_a_refused_recipient_stops_at_once_and_nobody_gets_a_copy(
    smtp_server: SmtpServer, message: Message
) -> None:
    # All or none: had the manager received it, the caller's later retry would send it twice.
    smtp_server.refuse_recipients["left.the.company@stores.example.com"] = "550 5.1.1 No such user"

    result, waits = deliver(
        smtp_channel(smtp_server), message, (MANAGER, "left.the.company@stores.example.com")
    )

    assert (result.ok, result.attempts) == (False, 1)
    assert result.error == (
        "SMTP 550 5.1.1 No such user (RCPT TO refused for left.the.company@stores.example.com)"
    )
    assert waits == []
    assert smtp_server.data_commands == 0
    assert smtp_server.received == []


def test_login_uses_the_credentials_from_the_environment(
    smtp_server_factory: Callable[..., SmtpServer], message: Message
) -> None:
    server = smtp_server_factory(credentials={"alerts@example.com": "pa55-w0rd-from-env"})
    environ = {"CXLAKE_SMTP_USER": "alerts@example.com", "CXLAKE_SMTP_PASSWORD": "pa55-w0rd-from-env"}
    channel = smtp_channel(
        server, environ, username_env="CXLAKE_SMTP_USER", password_env="CXLAKE_SMTP_PASSWORD"
    )

    result, _ = deliver(channel, message, (MANAGER,))

    assert result.ok
    [mail] = server.wait_for(1)
    assert mail.login == "alerts@example.com"


def test_a_wrong_password_fails_at_once_and_the_password_is_nowhere_in_the_result(
    smtp_server_factory: Callable[..., SmtpServer], message: Message
) -> None:
    server = smtp_server_factory(credentials={"alerts@example.com": "the-right-one"})
    environ = {"CXLAKE_SMTP_USER": "alerts@example.com", "CXLAKE_SMTP_PASSWORD": "wrong-pa55-w0rd"}
    channel = smtp_channel(
        server, environ, username_env="CXLAKE_SMTP_USER", password_env="CXLAKE_SMTP_PASSWORD"
    )

    result, waits = deliver(channel, message, (MANAGER,))

    assert (result.ok, result.attempts, waits) == (False, 1, [])
    assert result.error is not None and result.error.startswith("SMTP 535")
    assert "wrong-pa55-w0rd" not in repr(result)
    assert "wrong-pa55-w0rd" not in repr(channel)
    assert server.received == []


def test_a_server_that_requires_login_refuses_an_anonymous_sender_for_good(
    smtp_server_factory: Callable[..., SmtpServer], message: Message
) -> None:
    server = smtp_server_factory(credentials={"alerts@example.com": "secret"})

    result, waits = deliver(smtp_channel(server), message, (MANAGER,))

    assert (result.ok, result.attempts, waits) == (False, 1, [])
    assert result.error is not None and result.error.startswith("SMTP 530")


def test_an_unreachable_smtp_server_is_retried_then_recorded(message: Message) -> None:
    channel = Channel.from_config(
        "email", {"kind": "smtp", "host": "127.0.0.1", "port": closed_port(), "sender": "a@example.com"}, {}
    )

    result, waits = deliver(channel, message, (MANAGER,))

    assert (result.ok, result.attempts) == (False, 3)
    assert result.error is not None and "unreachable" in result.error and "refused" in result.error.lower()
    assert waits == [2.0, 4.0]


def test_an_email_without_recipients_is_not_attempted(smtp_server: SmtpServer, message: Message) -> None:
    result, _ = deliver(smtp_channel(smtp_server), message, ())

    assert (result.ok, result.attempts) == (False, 0)
    assert result.error == "channel 'email': no recipients for the e-mail"


# -- webhooks ------------------------------------------------------------------------------------


def test_wecom_gets_the_documented_markdown_body(webhook_server: WebhookServer, message: Message) -> None:
    channel = webhook_channel("wecom", webhook_server.url(f"/cgi-bin/webhook/send?key={WECOM_KEY}"))

    result, _ = deliver(channel, message, (MANAGER,))

    assert result == DeliveryResult(
        ok=True, attempts=1, error=None, response='{"errcode": 0, "errmsg": "ok"}'
    )
    [request] = webhook_server.wait_for(1)
    assert (request.method, request.path, request.query) == (
        "POST",
        "/cgi-bin/webhook/send",
        {"key": WECOM_KEY},
    )
    assert request.headers["content-type"] == "application/json; charset=utf-8"
    assert request.json == {"msgtype": "markdown", "markdown": {"content": message.markdown}}
    assert "mentioned_list" not in request.body.decode()  # recipients are never @mentioned


def test_dingtalk_gets_the_documented_markdown_body_on_a_url_the_server_verifies_as_signed(
    webhook_server: WebhookServer, message: Message
) -> None:
    webhook_server.dingtalk_secret = DINGTALK_SECRET
    channel = webhook_channel(
        "dingtalk",
        webhook_server.url(f"/robot/send?access_token={DINGTALK_TOKEN}"),
        CXLAKE_TEST_SECRET=DINGTALK_SECRET,
    )

    result, _ = deliver(channel, message)

    assert result.ok, result.error
    [request] = webhook_server.wait_for(1)
    assert request.signature_ok is True
    assert request.query["access_token"] == DINGTALK_TOKEN
    assert set(request.query) == {"access_token", "timestamp", "sign"}
    assert request.json == {
        "msgtype": "markdown",
        "markdown": {"title": message.subject, "text": message.markdown.replace("\n", "  \n")},
    }


def test_dingtalk_with_the_wrong_secret_is_refused_with_errcode_310000_and_recorded(
    webhook_server: WebhookServer, message: Message
) -> None:
    webhook_server.dingtalk_secret = DINGTALK_SECRET
    channel = webhook_channel(
        "dingtalk",
        webhook_server.url(f"/robot/send?access_token={DINGTALK_TOKEN}"),
        CXLAKE_TEST_SECRET="SECnot-the-one-the-robot-has",
    )

    result, waits = deliver(channel, message)

    # A wrong signature is refused the same way every time: one try, no waiting.
    assert (result.ok, result.attempts, result.error) == (False, 1, "errcode 310000: sign not match")
    assert waits == []
    assert [request.signature_ok for request in webhook_server.requests] == [False]
    assert "SECnot-the-one-the-robot-has" not in repr(result)


def test_slack_gets_text_and_blocks_with_a_button_to_the_case(
    webhook_server: WebhookServer, message: Message
) -> None:
    webhook_server.answer_like_slack()
    channel = webhook_channel("slack", webhook_server.url(SLACK_PATH))

    result, _ = deliver(channel, message)

    assert result == DeliveryResult(ok=True, attempts=1, error=None, response="ok")
    [request] = webhook_server.wait_for(1)
    assert request.path == SLACK_PATH
    assert request.json == webhook_body("slack", message)
    assert set(request.json) == {"text", "blocks"}
    assert request.json["blocks"][-1] == {
        "type": "actions",
        "elements": [
            {
                "type": "button",
                "text": {"type": "plain_text", "text": "打开案例 Open case"},
                "url": "http://127.0.0.1:8501/Feedback?case=C-000042",
            }
        ],
    }


def test_a_webhook_failing_twice_with_500_gets_the_same_message_on_the_third_try(
    webhook_server: WebhookServer, message: Message
) -> None:
    webhook_server.fail_first(2, status=500)
    channel = webhook_channel("wecom", webhook_server.url(f"/cgi-bin/webhook/send?key={WECOM_KEY}"))

    result, waits = deliver(channel, message)

    assert (result.ok, result.attempts, result.error) == (True, 3, None)
    assert waits == [2.0, 4.0]
    requests = webhook_server.wait_for(3)
    assert [request.answered for request in requests] == [500, 500, 200]
    assert len({request.body for request in requests}) == 1


def test_a_webhook_that_always_answers_500_is_a_recorded_failure(
    webhook_server: WebhookServer, message: Message
) -> None:
    webhook_server.fail_always(500)
    channel = webhook_channel("slack", webhook_server.url(SLACK_PATH))

    result, waits = deliver(channel, message)

    assert (result.ok, result.attempts) == (False, 3)
    assert result.error == 'HTTP 500: {"error": "planted 500"}'
    assert waits == [2.0, 4.0]


def test_an_errcode_in_an_http_200_answer_is_a_failure(
    webhook_server: WebhookServer, message: Message
) -> None:
    webhook_server.answer_errcode(310000, "keywords not in content")
    channel = webhook_channel("dingtalk", webhook_server.url(f"/robot/send?access_token={DINGTALK_TOKEN}"))

    result, _ = deliver(channel, message)

    assert (result.ok, result.attempts) == (False, 1)
    assert result.error == "errcode 310000: keywords not in content"
    assert result.response == '{"errcode": 310000, "errmsg": "keywords not in content"}'


def test_an_errcode_once_then_success_is_delivered(webhook_server: WebhookServer, message: Message) -> None:
    webhook_server.answer_errcode(45009, "api freq out of limit", times=1)  # WeCom: 20 messages a minute
    channel = webhook_channel("wecom", webhook_server.url(f"/cgi-bin/webhook/send?key={WECOM_KEY}"))

    result, waits = deliver(channel, message)

    assert (result.ok, result.attempts, waits) == (True, 2, [2.0])


@pytest.mark.parametrize("status", [400, 403, 404, 410])
def test_a_client_error_is_not_retried(webhook_server: WebhookServer, message: Message, status: int) -> None:
    webhook_server.fail_always(status)
    channel = webhook_channel("slack", webhook_server.url(SLACK_PATH))

    result, waits = deliver(channel, message)

    assert (result.ok, result.attempts, waits) == (False, 1, [])
    assert result.error is not None and result.error.startswith(f"HTTP {status}")
    assert len(webhook_server.requests) == 1


def test_429_waits_as_long_as_retry_after_asks(webhook_server: WebhookServer, message: Message) -> None:
    webhook_server.fail_first(1, status=429, Retry_After="7")
    channel = webhook_channel("slack", webhook_server.url(SLACK_PATH))

    result, waits = deliver(channel, message)

    assert (result.ok, result.attempts, waits) == (True, 2, [7.0])


def test_an_answer_slower_than_the_timeout_is_retried(
    webhook_server: WebhookServer, message: Message
) -> None:
    webhook_server.delay_first(1, seconds=2.0)
    channel = webhook_channel("wecom", webhook_server.url(f"/cgi-bin/webhook/send?key={WECOM_KEY}"))

    result, waits = deliver(
        channel, message, policy=RetryPolicy(attempts=3, backoff_seconds=2.0, timeout_seconds=0.3)
    )

    assert (result.ok, result.attempts, waits) == (True, 2, [2.0])


def test_errors_never_show_the_webhook_key_even_when_the_server_echoes_it(
    webhook_server: WebhookServer, message: Message
) -> None:
    webhook_server.answer_errcode(93000, f"invalid webhook url, key={WECOM_KEY}, hint: [1714538355]")
    channel = webhook_channel("wecom", webhook_server.url(f"/cgi-bin/webhook/send?key={WECOM_KEY}"))

    result, _ = deliver(channel, message)

    assert not result.ok
    assert result.error == "errcode 93000: invalid webhook url, ***, hint: [1714538355]"
    assert WECOM_KEY not in repr(result) and WECOM_KEY not in repr(channel)


def test_an_unreachable_webhook_is_retried_and_its_url_is_not_in_the_error(message: Message) -> None:
    url = f"http://127.0.0.1:{closed_port()}{SLACK_PATH}"
    channel = webhook_channel("slack", url)

    result, waits = deliver(channel, message)

    assert (result.ok, result.attempts, waits) == (False, 3, [2.0, 4.0])
    assert result.error is not None and result.error.startswith("webhook unreachable")
    assert "XXXXXXXXXXXXXXXXXXXXXXXX" not in result.error and SLACK_PATH not in result.error


# -- configuration -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        # Secrets are never written in alerts.yaml: each of them is refused as a literal.
        (
            {"kind": "smtp", "host": "h", "sender": "a@example.com", "username": "u", "password": "p"},
            "channel 'ch': 'password' is a secret and may not be written in the configuration;"
            " set an environment variable and name it with password_env",
        ),
        ({"kind": "wecom", "url": "https://qyapi.weixin.qq.com/x?key=k"}, "'url' is a secret"),
        ({"kind": "dingtalk", "url_env": "U", "secret": "SECxyz"}, "'secret' is a secret"),
        # Typos are caught rather than silently ignored.
        ({"kind": "smtp", "host": "h", "sender": "a@example.com", "prot": 25}, "unknown setting 'prot'"),
        ({"kind": "teams", "url_env": "U"}, "kind 'teams' is not one of smtp, wecom, dingtalk, slack"),
        ({"kind": "smtp", "sender": "a@example.com"}, "kind smtp needs 'host' or host_env"),
        ({"kind": "slack", "url_env": "U", "url": "x"}, "'url' is given twice"),
        ({"kind": "smtp", "host": "h", "sender": "a@example.com", "port_env": "PORT"}, "port from PORT"),
        ({"kind": "smtp", "host": "h", "sender": "a@example.com", "ssl": True, "starttls": True}, "exclude"),
        (
            {"kind": "smtp", "host": "h", "sender": "a@example.com", "username": "u", "password_env": "NOPE"},
            "channel 'ch': 'username' is set but password is not (NOPE is unset)",
        ),
        ({"kind": "wecom", "url_env": "U"}, "channel 'ch': url from U is not an http(s) URL"),
    ],
)
def test_configurations_that_cannot_work_are_refused_by_name(
    config: dict[str, object], expected: str
) -> None:
    environ = {"PORT": "smtp", "U": "ftp://example.com/key"}

    with pytest.raises(ChannelError) as caught:
        Channel.from_config("ch", config, environ)

    assert expected in str(caught.value)
    assert "example.com/key" not in str(caught.value)  # a URL from the environment is never shown


def test_a_channel_whose_variables_are_unset_is_unconfigured_and_says_which(message: Message) -> None:
    config = {
        "kind": "dingtalk",
        "url_env": "CXLAKE_DINGTALK_WEBHOOK_URL",
        "secret_env": "CXLAKE_DINGTALK_SECRET",
    }

    channel = Channel.from_config("region_group", config, {})

    assert not channel.configured
    assert channel.missing_env == ("CXLAKE_DINGTALK_WEBHOOK_URL",)  # the secret is optional: keyword robots
    with pytest.raises(
        ChannelError, match="channel 'region_group' is not configured: CXLAKE_DINGTALK_WEBHOOK_URL"
    ):
        send(channel, message)


def test_settings_come_literally_or_from_the_environment() -> None:
    config = {
        "kind": "smtp",
        "host_env": "CXLAKE_SMTP_HOST",
        "port_env": "CXLAKE_SMTP_PORT",
        "sender": "cxlake <alerts@example.com>",
        "username_env": "CXLAKE_SMTP_USER",
        "password_env": "CXLAKE_SMTP_PASSWORD",
        "starttls": True,
    }

    relay = Channel.from_config(
        "email", config, {"CXLAKE_SMTP_HOST": "mail.example.com", "CXLAKE_SMTP_PORT": "587"}
    )

    # A relay without AUTH: both credential variables unset is fine, half of them is not (see above).
    assert relay.configured
    assert dict(relay.settings) == {
        "host": "mail.example.com",
        "port": "587",
        "sender": "cxlake <alerts@example.com>",
        "starttls": "true",
    }
