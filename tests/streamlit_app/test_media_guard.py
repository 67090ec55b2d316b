"""The media guard in a real HTTP server: a download file answers only to a live session's cookie.

The guard sits in front of a Starlette app with Streamlit's own media route (``media/{file_id:path}``
under a ``server.baseUrlPath``), served by uvicorn as ``cxlake serve`` serves it, and requests go out
through ``http.client`` with the request target written byte for byte, so uvicorn's own decoding
(percent-escapes, dot segments, doubled slashes) is what the guard sees. A path that reaches the
media route without a live session is a leak, whatever it looks like.
"""

from __future__ import annotations

import http.client
import os
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import uvicorn
from argon2 import PasswordHasher
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from cxlake.access.accounts import Accounts
from cxlake.app_state import AppState
from streamlit_app.media_guard import SignedInMediaOnly, is_media_path, session_token
from streamlit_app.session import COOKIE

BASE = "/explorer"  # a server.baseUrlPath; Streamlit puts its routes below it
FILE_BODY = "Store id,NPS\nS001,12.5\n"
PASSWORD = "correct horse battery staple"
CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


async def media_file(request: Request) -> PlainTextResponse:
    """Stands in for Streamlit's media endpoint: whoever reaches it gets the file."""
    return PlainTextResponse(FILE_BODY)


async def other_page(request: Request) -> PlainTextResponse:
    return PlainTextResponse("page")


def guarded_app() -> SignedInMediaOnly:
    routes = [
        Route(f"{BASE}/media/{{file_id:path}}", media_file, methods=["GET", "HEAD", "OPTIONS"]),
        Route(f"{BASE}/{{page:path}}", other_page),
    ]
    return SignedInMediaOnly(Starlette(routes=routes))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """CXLAKE_HOME for the whole module: the server thread reads the app state the guard checks."""
    path = tmp_path_factory.mktemp("media_guard_home")
    before = os.environ.get("CXLAKE_HOME")
    os.environ["CXLAKE_HOME"] = str(path)
    Accounts(AppState(path / "app_state.sqlite"), hasher=CHEAP_HASHER).add(
        "director", "cx_director", PASSWORD
    )
    yield path
    if before is None:
        del os.environ["CXLAKE_HOME"]
    else:
        os.environ["CXLAKE_HOME"] = before


@pytest.fixture(scope="module")
def server(home: Path) -> Iterator[tuple[str, int]]:
    port = _free_port()
    config = uvicorn.Config(guarded_app(), host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not running.started:
        assert time.monotonic() < deadline, "the test server did not start"
        time.sleep(0.05)
    yield "127.0.0.1", port
    running.should_exit = True
    thread.join(timeout=10)


def accounts(home: Path, clock: datetime | None = None) -> Accounts:
    now = clock or datetime.now(UTC)
    return Accounts(AppState(home / "app_state.sqlite"), hasher=CHEAP_HASHER, clock=lambda: now)


def live_token(home: Path) -> str:
    return accounts(home).sign_in("director", PASSWORD).token


def get(
    server: tuple[str, int], target: str, cookie: str | None = None, method: str = "GET"
) -> tuple[int, str]:
    """``target`` sent exactly as written (no client-side normalising), with ``cookie`` as its
    Cookie header."""
    connection = http.client.HTTPConnection(*server, timeout=10)
    try:
        connection.putrequest(method, target, skip_accept_encoding=True)
        if cookie is not None:
            connection.putheader("Cookie", cookie)
        connection.endheaders()
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


# Ways to name the media route: each one reaches it in this server (see the "with a cookie" test).
MEDIA_TARGETS = [
    f"{BASE}/media/abc123.csv",
    f"{BASE}/%6Dedia/abc123.csv",  # percent-escaped letter
    f"{BASE}/%6d%65%64%69%61/abc123.csv",
    f"{BASE}/media%2Fabc123.csv",  # escaped slash, decoded by uvicorn
    f"{BASE}/media/./abc123.csv",
    f"{BASE}/media/abc123.csv?download=1",
    f"{BASE}/media/abc123.csv#fragment",
]
# Near misses (this server does not route them to the file, a proxy in front might): refused or not
# found, never the file.
OTHER_TARGETS = [
    f"{BASE}//media/abc123.csv",
    f"/{BASE}/media//abc123.csv",
    f"{BASE}/other/../media/abc123.csv",
    f"{BASE}/other/%2E%2E/media/abc123.csv",
    f"{BASE}/MEDIA/abc123.csv",
    f"{BASE}/Media/abc123.csv",
    f"{BASE}/%4D%45%44%49%41/abc123.csv",
    "/media/abc123.csv",  # outside the base path: no such route here
    f"{BASE}/media/../media/abc123.csv",
    f"{BASE}/media\\abc123.csv",
    f"{BASE}/%EF%BD%8Dedia/abc123.csv",  # a full-width letter, UTF-8 escaped
]


@pytest.mark.parametrize("target", MEDIA_TARGETS)
def test_a_live_session_gets_the_file_however_the_route_is_written(server, home, target):
    assert get(server, target, f"{COOKIE}={live_token(home)}") == (200, FILE_BODY)


@pytest.mark.parametrize("target", MEDIA_TARGETS + OTHER_TARGETS)
@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS"])
def test_without_a_cookie_no_way_of_writing_the_path_reaches_the_file(server, target, method):
    status, body = get(server, target, method=method)
    assert FILE_BODY not in body
    if target in MEDIA_TARGETS:
        assert status == 403


def test_other_pages_need_no_cookie(server):
    assert get(server, f"{BASE}/overview") == (200, "page")
    assert get(server, f"{BASE}/multimedia") == (200, "page")  # "media" alone is not the route


@pytest.mark.parametrize(
    "cookie",
    [
        f"{COOKIE}=forged-token-0123456789abcdef",
        f"{COOKIE}=",
        f'{COOKIE}=""',
        "other_cookie=1",
        f"{COOKIE.upper()}=x",
        "\x00\x01 not a cookie",
        f"{COOKIE}={'a' * 5000}",
    ],
    ids=["forged", "empty", "quoted-empty", "another-cookie", "wrong-case-name", "garbage", "huge"],
)
def test_a_forged_or_empty_cookie_is_refused(server, cookie):
    status, body = get(server, f"{BASE}/media/abc123.csv", cookie)
    assert status in (400, 403) and FILE_BODY not in body  # uvicorn itself refuses control bytes (400)


def test_an_expired_an_idle_a_signed_out_and_a_disabled_session_are_refused(server, home):
    expired = accounts(home, datetime.now(UTC) - timedelta(hours=9)).sign_in("director", PASSWORD).token
    idle = accounts(home, datetime.now(UTC) - timedelta(minutes=61)).sign_in("director", PASSWORD).token
    signed_out = live_token(home)
    accounts(home).sign_out(signed_out)
    for token in (expired, idle, signed_out):
        assert get(server, f"{BASE}/media/abc123.csv", f"{COOKIE}={token}")[0] == 403

    Accounts(AppState(home / "app_state.sqlite"), hasher=CHEAP_HASHER).add("leaver", "analyst", PASSWORD)
    leaver = accounts(home).sign_in("leaver", PASSWORD).token
    assert get(server, f"{BASE}/media/abc123.csv", f"{COOKIE}={leaver}")[0] == 200
    accounts(home).disable("leaver")
    assert get(server, f"{BASE}/media/abc123.csv", f"{COOKIE}={leaver}")[0] == 403


def test_the_live_cookie_counts_among_others_and_a_forged_one_beside_it_does_not_help(server, home):
    token = live_token(home)
    assert get(server, f"{BASE}/media/abc123.csv", f"theme=dark; {COOKIE}={token}; lang=zh")[0] == 200
    assert get(server, f"{BASE}/media/abc123.csv", f"theme=dark; {COOKIE}=forged; lang=zh")[0] == 403


def test_session_token_reads_only_the_sign_in_cookie():
    assert session_token([(b"cookie", f"a=1; {COOKIE}=tok".encode())]) == "tok"
    assert session_token([(b"Cookie", f"{COOKIE}=tok".encode())]) == "tok"
    assert session_token([(b"cookie", b"a=1"), (b"cookie", f"{COOKIE}=second".encode())]) == "second"
    assert session_token([(b"x-cookie", f"{COOKIE}=tok".encode())]) is None
    assert session_token([]) is None


@pytest.mark.parametrize(
    ("path", "guarded"),
    [
        ("/media/x.csv", True),
        ("/base/path/media/x.csv", True),
        ("//media//x.csv", True),
        ("/MEDIA/x.csv", True),
        ("/overview", False),
        ("/multimedia/x", False),
        ("/media", False),
    ],
)
def test_is_media_path(path, guarded):
    assert is_media_path(path) is guarded
