"""Loopback servers for the alerts tests: a real SMTP server (aiosmtpd) and a real HTTP server, each on
127.0.0.1 with an ephemeral port, recording what arrived and able to fail on request.

``smtp_server`` / ``smtp_server_factory(credentials=...)``: e-mails as parsed :class:`ReceivedMail`;
``reply_next("451 ...")`` answers the next DATA commands with the given replies, ``refuse_always``
answers every one, ``refuse_recipients`` answers RCPT for chosen addresses; with credentials the
server requires AUTH (PLAIN or LOGIN) and records who logged in.

``webhook_server``: POSTs as :class:`ReceivedRequest` (path, query, headers, JSON body);
``fail_first(n, status)``, ``fail_always(status)``, ``answer_errcode(code)`` (HTTP 200 with a
WeCom/DingTalk error), ``delay_first(n, seconds)``; with ``dingtalk_secret`` set it checks DingTalk's
signature as DingTalk does and answers errcode 310000 when it does not match.

Both record ``received_at`` (``time.time()``) and have ``wait_for(count)``, for end-to-end tests
that measure how long an alert takes to arrive.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

LOOPBACK = "127.0.0.1"
# How long wait_for() waits by default before failing the test: generous, never a measurement.
WAIT_SECONDS = 10.0


# -- SMTP ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReceivedMail:
    """One e-mail the SMTP server accepted: the envelope, the parsed message, who logged in."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage
    login: str | None
    received_at: float

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    def body(self, subtype: str = "plain") -> str:
        """The decoded text/plain (or text/html) part."""
        part = self.message.get_body(preferencelist=(subtype,))
        assert part is not None, f"the e-mail has no text/{subtype} part"
        return part.get_content()


class SmtpServer:
    """A real SMTP server on loopback (aiosmtpd in a thread) that records every accepted e-mail."""

    def __init__(self, credentials: Mapping[str, str] | None = None) -> None:
        self.host = LOOPBACK
        self.port = 0
        self.credentials = dict(credentials or {})
        self.received: list[ReceivedMail] = []
        self.refuse_recipients: dict[str, str] = {}  # address -> RCPT reply, e.g. "550 5.1.1 no such user"
        self.data_commands = 0  # DATA commands answered, accepted or not: one per delivery attempt
        self._replies: list[str] = []
        self._always: str | None = None
        self._arrived = threading.Condition()
        self._controller: Controller | None = None

    def reply_next(self, *replies: str) -> None:
        """Answer the next DATA commands with these replies (e.g. "451 4.3.0 Try again later")."""
        self._replies.extend(replies)

    def refuse_always(self, reply: str) -> None:
        """Answer every DATA command with ``reply``."""
        self._always = reply

    def channel_config(self, **settings: object) -> dict[str, object]:
        """A channel mapping for :meth:`Channel.from_config` pointing here (add *_env keys for AUTH)."""
        return {
            "kind": "smtp",
            "host": self.host,
            "port": self.port,
            "sender": "cxlake <alerts@example.com>",
        } | (settings)

    def wait_for(self, count: int, timeout: float = WAIT_SECONDS) -> list[ReceivedMail]:
        """Block until ``count`` e-mails have arrived; fail the test after ``timeout`` seconds."""
        with self._arrived:
            if not self._arrived.wait_for(lambda: len(self.received) >= count, timeout):
                pytest.fail(
                    f"expected {count} e-mail(s) on {self.host}:{self.port}, got {len(self.received)}"
                )
            return list(self.received)

    # aiosmtpd handler hooks ----------------------------------------------------------------------

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, mail_options: list[str]
    ) -> str:
        # With credentials, no mail without AUTH. (aiosmtpd's auth_required does the same but warns
        # on every connection that AUTH without TLS is unsafe, which loopback is not.)
        if self.credentials and not session.authenticated:
            return "530 5.7.0 Authentication required"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if address in self.refuse_recipients:
            return self.refuse_recipients[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.data_commands += 1
        if self._replies:
            return self._replies.pop(0)
        if self._always:
            return self._always
        content = envelope.original_content or envelope.content
        assert isinstance(content, bytes)
        mail = ReceivedMail(
            mail_from=str(envelope.mail_from),
            rcpt_tos=tuple(envelope.rcpt_tos),
            message=message_from_bytes(content, policy=default_policy),  # type: ignore[arg-type]
            login=session.auth_data if session.authenticated else None,
            received_at=time.time(),
        )
        with self._arrived:
            self.received.append(mail)
            self._arrived.notify_all()
        return "250 Message accepted for delivery"

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        if isinstance(auth_data, LoginPassword):
            login, password = auth_data.login.decode(), auth_data.password.decode()
            if self.credentials.get(login) == password:
                return AuthResult(success=True, auth_data=login)
        return AuthResult(success=False, handled=False)

    # lifecycle ----------------------------------------------------------------------------------

    def start(self) -> None:
        # aiosmtpd connects to its own port once started, so it needs the number up front: take a
        # free one from the kernel, and try another should someone else grab it in between.
        for _ in range(3):
            self.port = _free_port()
            controller = Controller(
                self,
                hostname=self.host,
                port=self.port,
                authenticator=self._authenticate if self.credentials else None,
                auth_require_tls=False,  # loopback only; production relays use starttls or ssl
            )
            try:
                controller.start()
            except Exception:  # the port was taken meanwhile: pick another
                continue
            self._controller = controller
            return
        raise RuntimeError("could not start the loopback SMTP server")

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@pytest.fixture
def smtp_server_factory() -> Iterator[Callable[..., SmtpServer]]:
    """Start SMTP servers (``credentials={"user": "password"}`` to require AUTH); all stop after the test."""
    servers: list[SmtpServer] = []

    def start(credentials: Mapping[str, str] | None = None) -> SmtpServer:
        server = SmtpServer(credentials)
        server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def smtp_server(smtp_server_factory: Callable[..., SmtpServer]) -> SmtpServer:
    """An SMTP server without AUTH that accepts everything until told otherwise."""
    return smtp_server_factory()


# -- HTTP ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    """An HTTP answer the webhook server gives."""

    status: int
    body: bytes
    content_type: str = "application/json"
    headers: Mapping[str, str] = field(default_factory=dict)


def json_reply(status: int, document: object, **headers: str) -> Reply:
    return Reply(status, json.dumps(document).encode(), headers=headers)


OK_REPLY = json_reply(200, {"errcode": 0, "errmsg": "ok"})  # WeCom and DingTalk; Slack's is below
SLACK_OK_REPLY = Reply(200, b"ok", "text/plain")


@dataclass(frozen=True)
class ReceivedRequest:
    """One request the webhook server got, whatever it answered."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # names in lower case
    body: bytes
    received_at: float
    answered: int  # the HTTP status it got
    signature_ok: bool | None  # DingTalk signature check, None when no secret is set

    @property
    def json(self) -> Any:
        return json.loads(self.body)


class WebhookServer:
    """A real HTTP server on loopback that records every request and answers as it is told."""

    def __init__(self) -> None:
        self.ok_reply = OK_REPLY
        self.dingtalk_secret: str | None = None
        self.requests: list[ReceivedRequest] = []
        self._script: list[Reply] = []
        self._always: Reply | None = None
        self._delays: list[float] = []
        self._lock = threading.Condition()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                server._handle(self)

            def log_message(self, format: str, *args: object) -> None:
                pass

        class Quiet(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                # A client that timed out on a delayed answer has gone: writing to it fails, as expected.
                if not isinstance(sys.exc_info()[1], ConnectionError):
                    super().handle_error(request, client_address)

        self._httpd = Quiet((LOOPBACK, 0), Handler)
        self.host, self.port = LOOPBACK, self._httpd.server_address[1]
        # A short poll keeps shutdown() (which waits for the next poll) from adding half a second a test.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.02},
            name="webhook-server",
            daemon=True,
        )

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url(self, path: str = "/hook") -> str:
        """A webhook URL on this server, e.g. ``url("/cgi-bin/webhook/send?key=abc")``."""
        return self.base_url + path

    def answer_like_slack(self) -> None:
        """Answer success as Slack does: HTTP 200 with the plain text "ok"."""
        self.ok_reply = SLACK_OK_REPLY

    def fail_first(self, count: int, status: int = 500, **headers: str) -> None:
        """Answer the next ``count`` requests with ``status`` (e.g. 429 with Retry-After="7")."""
        self._script.extend([json_reply(status, {"error": f"planted {status}"}, **headers)] * count)

    def fail_always(self, status: int = 500) -> None:
        self._always = json_reply(status, {"error": f"planted {status}"})

    def answer_errcode(self, errcode: int, errmsg: str = "planted error", times: int | None = None) -> None:
        """HTTP 200 with ``{"errcode": errcode, "errmsg": errmsg}``, ``times`` times or always (None)."""
        reply = json_reply(200, {"errcode": errcode, "errmsg": errmsg})
        if times is None:
            self._always = reply
        else:
            self._script.extend([reply] * times)

    def delay_first(self, count: int, seconds: float) -> None:
        """Hold the next ``count`` answers for ``seconds`` (a client with a shorter timeout gives up)."""
        self._delays.extend([seconds] * count)

    def wait_for(self, count: int, timeout: float = WAIT_SECONDS) -> list[ReceivedRequest]:
        """Block until ``count`` requests have arrived; fail the test after ``timeout`` seconds."""
        with self._lock:
            if not self._lock.wait_for(lambda: len(self.requests) >= count, timeout):
                pytest.fail(f"expected {count} request(s) on {self.base_url}, got {len(self.requests)}")
            return list(self.requests)

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        body = handler.rfile.read(int(handler.headers.get("Content-Length") or 0))
        split = urlsplit(handler.path)
        query = dict(parse_qsl(split.query))
        with self._lock:
            delay = self._delays.pop(0) if self._delays else 0.0
            signature_ok = (
                None if self.dingtalk_secret is None else _dingtalk_sign_ok(self.dingtalk_secret, query)
            )
            if signature_ok is False:
                reply = json_reply(200, {"errcode": 310000, "errmsg": "sign not match"})
            elif self._script:
                reply = self._script.pop(0)
            else:
                reply = self._always or self.ok_reply
        if delay:
            time.sleep(delay)
        request = ReceivedRequest(
            method=handler.command,
            path=split.path,
            query=query,
            headers={name.lower(): value for name, value in handler.headers.items()},
            body=body,
            received_at=time.time(),
            answered=reply.status,
            signature_ok=signature_ok,
        )
        with self._lock:
            self.requests.append(request)
            self._lock.notify_all()
        handler.send_response(reply.status)
        handler.send_header("Content-Type", reply.content_type)
        handler.send_header("Content-Length", str(len(reply.body)))
        for name, value in reply.headers.items():
            handler.send_header(name.replace("_", "-"), value)
        handler.end_headers()
        handler.wfile.write(reply.body)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def _dingtalk_sign_ok(secret: str, query: Mapping[str, str]) -> bool:
    """DingTalk's check: sign == base64(HMAC-SHA256(secret, f"{timestamp}\\n{secret}")), timestamp in ms
    within an hour of now (钉钉开放平台, 自定义机器人安全设置: 加签)."""
    timestamp, sign = query.get("timestamp", ""), query.get("sign", "")
    if not timestamp.isdigit() or abs(time.time() * 1000 - int(timestamp)) > 3600 * 1000:
        return False
    expected = base64.b64encode(
        hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    ).decode()
    return hmac.compare_digest(expected, sign)


@pytest.fixture
def webhook_server() -> Iterator[WebhookServer]:
    """An HTTP server answering like WeCom and DingTalk (``{"errcode": 0}``) until told otherwise."""
    server = WebhookServer()
    server.start()
    yield server
    server.stop()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]


# -- a case --------------------------------------------------------------------------------------


@pytest.fixture
def sample_case() -> dict[str, object]:
    """A case as the rules hand it to the messages: a member's NPS 1 at a Shanghai store."""
    return {
        "case_id": "C-000042",
        "rule_id": "very_low_score",
        "rule_label": "极低分 Very low score (0–2)",
        "severity": "high",
        "source": "survey",
        "store_id": "S001",
        "store_name": "栖云咖啡(上海静安寺店)",
        "region_name": "华东区 East",
        "score_label": "NPS 1",
        "csat_lowest": "Speed 1/5",
        "comment": "等了四十分钟才拿到咖啡，而且是凉的。店员态度也很差。",
        "customer": {
            "tier": "gold",
            "tenure_days": 420,
            "visits_90d": 6,
            "spend_90d": 1280.0,
            "past_scores": [9, 8, 10],
        },
        "transaction_id": "T-20261206-0778",
        "channel": "app",
        "staff_name": "王小明",
        "feedback_local": "2026-12-06 14:03",
        "ack_due_local": "2026-12-06 16:03",
        "resolve_due_local": "2026-12-08 14:03",
        "link": "http://127.0.0.1:8501/Feedback?case=C-000042",
    }
