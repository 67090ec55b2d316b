"""ASGI middleware: Streamlit's media files (``/media/...``) go only to a browser with a live session.

Streamlit serves every file it holds for a download button at ``/media/<id>.<ext>`` to anyone who
asks, session or not: a copied link would hand out a table after its owner signed out, or to
someone who never signed in. The explorer's downloads are built only on an audited click
(:func:`streamlit_app.widgets.download_buttons`); this guard makes the file they produce answer only
to a request carrying the sign-in cookie of a session that is still valid.
"""

from __future__ import annotations

import re
from http.cookies import CookieError, SimpleCookie
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.responses import PlainTextResponse

from cxlake.access.accounts import Accounts
from streamlit_app.session import COOKIE

MEDIA_PREFIX = "/media/"

Scope = dict[str, Any]


def session_token(headers: list[tuple[bytes, bytes]]) -> str | None:
    """The sign-in cookie's value from raw ASGI headers (None when absent or unreadable)."""
    for name, value in headers:
        if name.lower() != b"cookie":
            continue
        try:
            cookies = SimpleCookie(value.decode("latin-1"))
        except CookieError:
            continue
        if COOKIE in cookies and cookies[COOKIE].value:
            return cookies[COOKIE].value
    return None


def is_media_path(path: str) -> bool:
    """Whether ``path`` (as the server decoded it) may reach Streamlit's media route, below any
    ``server.baseUrlPath``, however its slashes are doubled and in any letter case (a proxy in front
    may match paths without case): broader than the route on purpose, as the explorer has no other
    path with a ``media`` folder."""
    return MEDIA_PREFIX in re.sub("/+", "/", path).lower()


class SignedInMediaOnly:
    """Refuse ``/media/...`` (403) unless the request's cookie names a session
    :meth:`Accounts.principal` still accepts (not expired, idle, signed out or disabled)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and is_media_path(scope.get("path", "")):
            token = session_token(scope.get("headers", []))
            principal = await run_in_threadpool(Accounts().principal, token) if token else None
            if principal is None:
                response = PlainTextResponse("Sign in to download.", status_code=403)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
