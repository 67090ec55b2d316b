"""ASGI middleware: the server sets the sign-in cookie, so it can be HttpOnly (and Secure over TLS).

Streamlit gives a page no way to send a header, and a cookie a page's script writes with
``document.cookie`` cannot be HttpOnly: any script on the page (a stored XSS in a comment, a bad
browser extension) could read the session token for its whole eight hours. So the page, right after
a sign-in, posts the token once to ``<base>/_cxlake/session``; this middleware checks that the token
names a live session (:meth:`Accounts.principal`) and answers with the cookie:
``HttpOnly; SameSite=Strict; Path=/; Max-Age=<session length>``, plus ``Secure`` when the request
came over TLS. An empty post clears the cookie (sign-out; the session is ended in the store too).

Over TLS means: the server itself serves https (``server.sslCertFile``), or a proxy it trusts says
so in ``X-Forwarded-Proto``. Trusted proxies are the addresses in ``$CXLAKE_TRUSTED_PROXIES``
(comma-separated; default this machine's, ``127.0.0.1,::1``, where a TLS proxy in front of
``cxlake serve`` usually runs). uvicorn, which serves Streamlit, already turns a loopback proxy's
``X-Forwarded-Proto`` into the request's scheme; the variable covers a proxy on another host.

A post must come from the explorer's own pages (its ``Origin`` names the host it was sent to):
another site must not be able to sign a visitor's browser in as someone else.
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from cxlake.access.accounts import Accounts
from streamlit_app.session import COOKIE, COOKIE_PATH

DEFAULT_TRUSTED_PROXIES = "127.0.0.1,::1"
MAX_BODY_BYTES = 1024  # a token is 43 characters; anything much longer is not one

Scope = dict[str, Any]


def trusted_proxies() -> frozenset[str]:
    """The addresses whose ``X-Forwarded-Proto`` is believed (``$CXLAKE_TRUSTED_PROXIES``, read now)."""
    listed = os.environ.get("CXLAKE_TRUSTED_PROXIES", DEFAULT_TRUSTED_PROXIES)
    return frozenset(address.strip() for address in listed.split(",") if address.strip())


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def came_over_tls(scope: Scope) -> bool:
    """Whether the browser reached us over https: directly, or through a trusted proxy that says so
    (the first value of ``X-Forwarded-Proto``: the one the outermost proxy saw)."""
    if scope.get("scheme") in ("https", "wss"):
        return True
    client = (scope.get("client") or ("", 0))[0]
    forwarded = (_header(scope, b"x-forwarded-proto") or "").split(",")[0].strip().lower()
    return forwarded == "https" and client in trusted_proxies()


def same_origin(scope: Scope) -> bool:
    """Whether the request's ``Origin`` is the host it was sent to (a page of the explorer itself)."""
    origin, host = _header(scope, b"origin"), _header(scope, b"host")
    if not origin or not host:
        return False
    return urlsplit(origin).netloc.lower() == host.strip().lower()


def cookie_header(token: str, max_age: int, secure: bool) -> str:
    """The ``Set-Cookie`` value: never readable by scripts, never sent by another site's request."""
    parts = [f"{COOKIE}={token}", f"Path={COOKIE_PATH}", f"Max-Age={max_age}", "HttpOnly", "SameSite=Strict"]
    if secure:
        parts.append("Secure")
    return "; ".join(parts)


class SessionCookie:
    """Answer ``POST .../_cxlake/session`` (see the module's docstring); pass everything else on."""

    PATH_SUFFIX = "/_cxlake/session"

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope.get("path", "").endswith(self.PATH_SUFFIX):
            await self.app(scope, receive, send)
            return
        response = await self._answer(scope, Request(scope, receive))
        await response(scope, receive, send)

    async def _answer(self, scope: Scope, request: Request) -> Response:
        if request.method != "POST":
            return PlainTextResponse("POST only.", status_code=405, headers={"Allow": "POST"})
        if not same_origin(scope):
            return PlainTextResponse("Only the explorer's own pages may set its cookie.", status_code=403)
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            return PlainTextResponse("Not a session token.", status_code=400)
        token = body.decode("ascii", errors="replace").strip()
        secure = came_over_tls(scope)
        if not token:
            return Response(status_code=204, headers={"Set-Cookie": cookie_header("", 0, secure)})
        accounts = Accounts()
        if await run_in_threadpool(accounts.principal, token) is None:
            return PlainTextResponse("Not a live session.", status_code=403)
        max_age = int(accounts.session_length.total_seconds())
        return Response(status_code=204, headers={"Set-Cookie": cookie_header(token, max_age, secure)})
