"""Sending one rendered :class:`~cxlake.alerts.messages.Message` through one channel: e-mail over SMTP,
or a POST to a WeCom, DingTalk or Slack webhook, retried with backoff when the failure may pass.

A channel is configured in alerts.yaml, but its secrets never are: a webhook URL carries the robot's
key, so it is a secret like a password, and both only come from environment variables named by
``*_env`` keys. :meth:`Channel.from_config` refuses a literal secret, so none can be committed by
mistake, and every error and server answer that leaves this module has the secrets cut out.

:func:`send` never raises for a failed delivery: the caller records the :class:`DeliveryResult` (the
alert stays owed and visible) instead of losing the case in a traceback. Whether to try again is the
server's answer: SMTP 4xx, HTTP 5xx and 429, a refused or timed-out connection and the WeCom/DingTalk
``errcode`` values for "busy" and "too many messages" may pass; SMTP 5xx, HTTP 4xx and every other
``errcode`` (a wrong key, a bad signature, a missing keyword, an address not on the allow list) will
not, so they stop at once instead of repeating a request the robot will refuse the same way.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import http.client
import json
import re
import smtplib
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import formatdate, make_msgid, parseaddr
from types import MappingProxyType
from typing import Literal, cast, get_args
from urllib.parse import parse_qsl, urlencode, urlsplit

from cxlake.alerts.messages import Message, webhook_body

ChannelKind = Literal["smtp", "wecom", "dingtalk", "slack"]
KINDS: tuple[str, ...] = get_args(ChannelKind)

# Settings that are secrets: only ever read from the environment (``password_env: VAR``).
SECRET_KEYS = frozenset({"password", "url", "secret"})
_ALLOWED = {
    "smtp": frozenset(
        {"host", "port", "sender", "username", "password", "starttls", "ssl", "timeout_seconds"}
    ),
    "wecom": frozenset({"url", "timeout_seconds"}),
    "dingtalk": frozenset({"url", "secret", "timeout_seconds"}),
    "slack": frozenset({"url", "timeout_seconds"}),
}
# Without these a channel cannot send; an unset variable for one leaves the channel unconfigured.
# The rest fall back to defaults when their variable is unset (an SMTP relay without AUTH, a DingTalk
# robot secured by keywords instead of a signature).
_REQUIRED = {"smtp": ("host", "sender"), "wecom": ("url",), "dingtalk": ("url",), "slack": ("url",)}
_TRUE, _FALSE = frozenset({"true", "yes", "on", "1"}), frozenset({"false", "no", "off", "0", ""})

# Robot answers that may pass on a later try: -1 system busy (both), 45009 API frequency out of limit
# (WeCom: 20 messages a minute per robot), 130101 sending too fast (DingTalk: 20 a minute).
TRANSIENT_ERRCODES = frozenset({-1, 45009, 130101})
# A server's Retry-After is honoured up to this long; longer waits are the outbox's job, not a sleep.
MAX_RETRY_AFTER_SECONDS = 60.0
# Errors and answers are kept to one short line in the case history.
_MAX_NOTE_CHARS = 300
_WHITESPACE = re.compile(r"\s+")


class ChannelError(ValueError):
    """A channel's configuration cannot work; the message names the channel and the key or variable."""


@dataclass(frozen=True)
class Channel:
    """Where a message goes, with its settings resolved from alerts.yaml and the environment.

    ``settings`` holds secrets, so it is left out of ``repr`` (and of logs and tracebacks with it).
    ``missing_env`` names the variables a required setting waits for; such a channel is not
    :attr:`configured` and the caller leaves it out.
    """

    name: str
    kind: ChannelKind
    settings: Mapping[str, str] = field(repr=False, hash=False)
    missing_env: tuple[str, ...] = ()

    @classmethod
    def from_config(cls, name: str, config: Mapping[str, object], environ: Mapping[str, str]) -> Channel:
        """Resolve one channel of alerts.yaml: each setting literally or as ``<key>_env: VARIABLE``."""
        if not isinstance(config, Mapping):
            raise ChannelError(
                f"channel {name!r}: expected a mapping of settings, got {type(config).__name__}"
            )
        kind = config.get("kind")
        if kind not in KINDS:
            raise ChannelError(f"channel {name!r}: kind {kind!r} is not one of {', '.join(KINDS)}")
        allowed = _ALLOWED[str(kind)]
        settings: dict[str, str] = {}
        origin: dict[str, str] = {}  # setting -> where it came from, for error messages
        declared: set[str] = set()
        missing: list[str] = []
        for key, value in config.items():
            if key == "kind":
                continue
            base = key[: -len("_env")] if key.endswith("_env") else key
            if base not in allowed:
                raise ChannelError(
                    f"channel {name!r}: unknown setting {key!r} for kind {kind} "
                    f"(expected {', '.join(sorted(allowed))}, each also as <name>_env)"
                )
            if base in declared:
                raise ChannelError(f"channel {name!r}: {base!r} is given twice (literally and as {base}_env)")
            declared.add(base)
            if key == base:
                if base in SECRET_KEYS:
                    raise ChannelError(
                        f"channel {name!r}: {base!r} is a secret and may not be written in the configuration;"
                        f" set an environment variable and name it with {base}_env"
                    )
                settings[base] = _literal(value)
                origin[base] = f"{base!r}"
                continue
            variable = str(value)
            resolved = environ.get(variable, "").strip()
            if resolved:
                settings[base] = resolved
                origin[base] = f"{base} from {variable}"
            elif base in _REQUIRED[str(kind)]:
                missing.append(variable)
        for required in _REQUIRED[str(kind)]:
            if required not in declared:
                raise ChannelError(f"channel {name!r}: kind {kind} needs {required!r} or {required}_env")
        _check(name, str(kind), settings, origin, config)
        return cls(name, cast(ChannelKind, kind), MappingProxyType(settings), tuple(missing))

    @property
    def configured(self) -> bool:
        """True when every required setting has a value (no variable it waits for is unset)."""
        return not self.missing_env


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try: ``attempts`` in all, waiting ``backoff_seconds * 2**(k-1)`` before try k+1."""

    attempts: int = 3
    backoff_seconds: float = 2.0
    timeout_seconds: float = 10.0

    def __post_init__(self) -> None:
        if self.attempts < 1 or self.backoff_seconds < 0 or self.timeout_seconds <= 0:
            raise ValueError(f"retry policy needs attempts >= 1, backoff >= 0 and timeout > 0, got {self}")


@dataclass(frozen=True)
class DeliveryResult:
    """What happened: ``error`` is the last failure, one line, with no secret in it."""

    ok: bool
    attempts: int
    error: str | None
    response: str | None = None


def send(
    channel: Channel,
    message: Message,
    recipients: Sequence[str] = (),
    *,
    retry: RetryPolicy = RetryPolicy(),
    sleep: Callable[[float], None] = time.sleep,
) -> DeliveryResult:
    """Deliver ``message`` through ``channel``, retrying what may pass; never raises for a failed send.

    SMTP sends one e-mail to all ``recipients`` or to none: if the server refuses any recipient the
    transaction is abandoned (RSET), so a retry can never give someone a second copy. Webhooks post
    to their group and ignore ``recipients`` (nobody is @mentioned).

    Raises :class:`ChannelError` only for a channel that is not configured: a caller's mistake, not
    a delivery failure (check :attr:`Channel.configured` first).
    """
    if not channel.configured:
        raise ChannelError(
            f"channel {channel.name!r} is not configured: {', '.join(channel.missing_env)} not set"
        )
    timeout = float(channel.settings.get("timeout_seconds", retry.timeout_seconds))
    if channel.kind == "smtp":
        if not recipients:
            return DeliveryResult(False, 0, f"channel {channel.name!r}: no recipients for the e-mail")
        try:
            email = _email(channel, message, recipients)
        except (ValueError, TypeError) as error:  # a header the e-mail package refuses
            return DeliveryResult(False, 0, _redact(channel, f"cannot build the e-mail: {error}"))

        def once() -> str:
            return _smtp_once(channel, email, recipients, timeout)
    else:
        body = json.dumps(webhook_body(channel.kind, message), ensure_ascii=False).encode("utf-8")

        def once() -> str:
            return _webhook_once(channel, body, timeout)

    failure = _Failure("not attempted")
    attempt = 0
    for attempt in range(1, retry.attempts + 1):
        try:
            return DeliveryResult(True, attempt, None, _redact(channel, once()))
        except _Failure as caught:
            failure = caught
        if failure.permanent or attempt == retry.attempts:
            break
        wait = retry.backoff_seconds * 2 ** (attempt - 1)
        if failure.retry_after is not None:
            wait = max(wait, min(failure.retry_after, MAX_RETRY_AFTER_SECONDS))
        sleep(wait)
    return DeliveryResult(
        False,
        attempt,
        _redact(channel, failure.error),
        _redact(channel, failure.response) if failure.response else None,
    )


# -- configuration -------------------------------------------------------------------------------


def _literal(value: object) -> str:
    """A YAML scalar as a setting: booleans as true/false (YAML's ``yes`` arrives as True)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value).strip()
    raise ChannelError(f"expected a single value, got {type(value).__name__}: {value!r}")


def _check(
    name: str, kind: str, settings: dict[str, str], origin: dict[str, str], config: Mapping[str, object]
) -> None:
    """Refuse settings that cannot work, naming where each came from (never showing a secret)."""
    where = f"channel {name!r}:"
    if "port" in settings and not (settings["port"].isdigit() and 0 < int(settings["port"]) < 65536):
        raise ChannelError(f"{where} {origin['port']} is not a port number: {settings['port']!r}")
    if "timeout_seconds" in settings:
        try:
            ok = float(settings["timeout_seconds"]) > 0
        except ValueError:
            ok = False
        if not ok:
            raise ChannelError(
                f"{where} {origin['timeout_seconds']} is not a positive number of seconds:"
                f" {settings['timeout_seconds']!r}"
            )
    for flag in ("starttls", "ssl"):
        if flag in settings:
            if settings[flag].lower() not in _TRUE | _FALSE:
                raise ChannelError(f"{where} {origin[flag]} is not true or false: {settings[flag]!r}")
            settings[flag] = "true" if settings[flag].lower() in _TRUE else "false"
    if settings.get("starttls") == "true" and settings.get("ssl") == "true":
        raise ChannelError(f"{where} starttls and ssl exclude each other (ssl is TLS from the first byte)")
    if kind == "smtp":
        if "sender" in settings and not parseaddr(settings["sender"])[1]:
            raise ChannelError(f"{where} {origin['sender']} is not an e-mail address: {settings['sender']!r}")
        if ("username" in settings) != ("password" in settings):
            have, lack = ("username", "password") if "username" in settings else ("password", "username")
            lacking = config.get(f"{lack}_env")
            raise ChannelError(
                f"{where} {origin[have]} is set but {lack} is not"
                + (f" ({lacking} is unset)" if lacking else f" (add {lack}_env)")
            )
    if "url" in settings and urlsplit(settings["url"]).scheme not in ("http", "https"):
        raise ChannelError(f"{where} {origin['url']} is not an http(s) URL")


# -- one try -------------------------------------------------------------------------------------


class _Failure(Exception):
    """One failed try: what went wrong, whether another try could help, and the server's answer."""

    def __init__(
        self,
        error: str,
        *,
        permanent: bool = False,
        response: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(error)
        self.error = error
        self.permanent = permanent
        self.response = response
        self.retry_after = retry_after


def _smtp_once(channel: Channel, email: EmailMessage, recipients: Sequence[str], timeout: float) -> str:
    """One SMTP transaction; the server's final reply (e.g. "250 OK") on success."""
    settings = channel.settings
    use_ssl = settings.get("ssl") == "true"
    starttls = settings.get("starttls") == "true"
    host = settings["host"]
    port = int(settings.get("port") or (465 if use_ssl else 587 if starttls else 25))
    sender = parseaddr(settings["sender"])[1]
    try:
        client = (
            smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
            if use_ssl
            else smtplib.SMTP(host, port, timeout=timeout)
        )
        with client:
            client.ehlo()
            if starttls:
                client.starttls(context=ssl.create_default_context())
                client.ehlo()
            if "username" in settings:
                client.login(settings["username"], settings["password"])
            code, reply = client.mail(sender)
            if code != 250:
                raise _smtp_failure(code, reply, "MAIL FROM")
            refused = {}
            for recipient in recipients:
                code, reply = client.rcpt(recipient)
                if code not in (250, 251):
                    refused[recipient] = (code, reply)
            if refused:
                client.rset()  # all or none: nobody gets a copy a retry would send again
                worst = max(refused.items(), key=lambda item: item[1][0])
                raise _smtp_failure(
                    worst[1][0],
                    worst[1][1],
                    f"RCPT TO refused for {', '.join(refused)}",
                )
            code, reply = client.data(email.as_bytes(policy=SMTP_POLICY))
            if code != 250:
                raise _smtp_failure(code, reply, "DATA")
            return _note(f"{code} {_decode(reply)}")
    except smtplib.SMTPResponseException as error:  # HELO, STARTTLS, AUTH, DATA refused
        raise _smtp_failure(error.smtp_code, error.smtp_error, type(error).__name__) from None
    except smtplib.SMTPNotSupportedError as error:  # AUTH or STARTTLS the server does not offer
        raise _Failure(f"SMTP {host}:{port}: {error}", permanent=True) from None
    except (smtplib.SMTPException, OSError) as error:  # refused, timed out, dropped: may pass
        raise _Failure(f"SMTP {host}:{port} unreachable: {error or type(error).__name__}") from None


def _smtp_failure(code: int, reply: bytes | str, step: str) -> _Failure:
    """4xx may pass (greylisting, a full queue), 5xx will not (unknown mailbox, refused login)."""
    text = _note(f"{code} {_decode(reply)}")
    return _Failure(f"SMTP {text} ({step})", permanent=code >= 500, response=text)


def _email(channel: Channel, message: Message, recipients: Sequence[str]) -> EmailMessage:
    """One e-mail: UTF-8 subject and body, plain text plus a simple HTML part for phones."""
    sender = channel.settings["sender"]
    email = EmailMessage()
    email["Subject"] = message.subject
    email["From"] = sender
    email["To"] = ", ".join(recipients)
    email["Date"] = formatdate(localtime=True)
    email["Message-ID"] = make_msgid(domain=parseaddr(sender)[1].rpartition("@")[2] or None)
    # base64 keeps the UTF-8 body safe through any relay, 8BITMIME or not.
    email.set_content(message.text, charset="utf-8", cte="base64")
    email.add_alternative(_html(message), subtype="html", charset="utf-8", cte="base64")
    return email


def _html(message: Message) -> str:
    """The text part as HTML: escaped lines, the case link clickable, readable on a phone."""
    link = html.escape(message.link)
    lines = []
    for line in message.text.split("\n"):
        escaped = html.escape(line)
        if link and escaped.endswith(link):
            escaped = escaped[: -len(link)] + f'<a href="{link}">{link}</a>'
        lines.append(escaped)
    return (
        '<!doctype html><html><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1"></head>'
        "<body style=\"font-family: -apple-system, 'PingFang SC', 'Microsoft YaHei', sans-serif;"
        ' font-size: 15px; line-height: 1.5; word-break: break-word">'
        + "<br>\n".join(lines)
        + "</body></html>"
    )


def _webhook_once(channel: Channel, body: bytes, timeout: float) -> str:
    """One POST; the service's answer on success. WeCom and DingTalk answer 200 with an errcode."""
    url = channel.settings["url"]
    if channel.kind == "dingtalk" and channel.settings.get("secret"):
        url = _dingtalk_signed(url, channel.settings["secret"], int(time.time() * 1000))
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": "application/json; charset=utf-8"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, text = response.status, response.read(4096).decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        answer = _note(error.read(2048).decode("utf-8", "replace"))
        may_pass = error.code in (408, 429) or error.code >= 500
        raise _Failure(
            f"HTTP {error.code}: {answer or error.reason}",
            permanent=not may_pass,
            response=answer or None,
            retry_after=_retry_after(error.headers.get("Retry-After")),
        ) from None
    except urllib.error.URLError as error:  # refused, DNS, TLS
        raise _Failure(f"webhook unreachable: {error.reason}") from None
    except (OSError, http.client.HTTPException) as error:  # timed out, dropped mid-answer
        raise _Failure(f"webhook unreachable: {error or type(error).__name__}") from None
    answer = _note(text)
    if channel.kind in ("wecom", "dingtalk"):
        try:
            parsed = json.loads(text)
        except ValueError:
            raise _Failure(
                f"HTTP {status}: not the JSON answer expected: {answer}", response=answer
            ) from None
        errcode = parsed.get("errcode") if isinstance(parsed, dict) else None
        if errcode != 0:
            errmsg = parsed.get("errmsg") if isinstance(parsed, dict) else None
            raise _Failure(
                f"errcode {errcode}: {_note(str(errmsg))}",
                permanent=errcode not in TRANSIENT_ERRCODES,
                response=answer,
            )
    return answer or f"HTTP {status}"


def _dingtalk_signed(url: str, secret: str, timestamp_ms: int) -> str:
    """The URL with DingTalk's signature: sign = base64(HMAC-SHA256(secret, f"{timestamp}\\n{secret}")),
    both appended url-encoded (钉钉开放平台《自定义机器人安全设置》: 加签,
    open.dingtalk.com/document/robots/customize-robot-security-settings). The timestamp is in
    milliseconds and must be within an hour of DingTalk's clock, so every try signs anew.
    """
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    query = urlencode({"timestamp": timestamp_ms, "sign": base64.b64encode(digest).decode()})
    return f"{url}{'&' if '?' in url else '?'}{query}"


def _retry_after(value: str | None) -> float | None:
    """Retry-After in seconds (the HTTP-date form is rare for webhooks and ignored)."""
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


# -- what leaves this module ---------------------------------------------------------------------


def _decode(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply


def _note(text: str) -> str:
    """One line, short enough for a case's history."""
    line = _WHITESPACE.sub(" ", text).strip()
    return line if len(line) <= _MAX_NOTE_CHARS else line[: _MAX_NOTE_CHARS - 1] + "…"


def _redact(channel: Channel, text: str) -> str:
    """``text`` with the channel's secrets cut out: the password, the signing secret, the webhook URL
    and the parts of it that carry its key (query values, long path segments as in Slack's URL)."""
    secrets = [channel.settings.get("password", ""), channel.settings.get("secret", "")]
    url = channel.settings.get("url", "")
    if url:
        parts = urlsplit(url)
        secrets += [url, parts.query, parts.path]
        secrets += [value for _, value in parse_qsl(parts.query)]
        secrets += [segment for segment in parts.path.split("/") if len(segment) >= 8]
    for secret in sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True):
        text = text.replace(secret, "***")
    return _note(text)
