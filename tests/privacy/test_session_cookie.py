"""The sign-in cookie, set by the real explorer server (``cxlake serve``'s command on a loopback port):
HttpOnly and SameSite=Strict always, Secure when the request came over TLS through a trusted proxy,
and only for a live session's token posted by the explorer's own pages.

Before: a page script wrote it with ``document.cookie``, so it could never be HttpOnly, and it was
Secure only when the page itself was https (never behind a TLS proxy that talks http to the server).
"""

from __future__ import annotations

import http.client
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from cxlake.access.accounts import Accounts
from cxlake.app_state import AppState
from cxlake.explorer_process import explorer_command, explorer_is_healthy, free_loopback_port
from streamlit_app.session import COOKIE
from streamlit_app.session_cookie import came_over_tls

PASSWORD = "correct horse battery staple"
CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
SERVER_START_SECONDS = 60
SESSION_SECONDS = 480 * 60


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cookie_home")
    Accounts(AppState(path / "app_state.sqlite"), hasher=CHEAP_HASHER).add(
        "director", "cx_director", PASSWORD
    )
    return path


@pytest.fixture(scope="module")
def server(home: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """The explorer as `cxlake serve` starts it, its own process, reading ``home``'s accounts."""
    port = free_loopback_port()
    log_path = tmp_path_factory.mktemp("cookie_server") / "server.log"
    environment = {**os.environ, "CXLAKE_HOME": str(home)}
    environment.pop("CXLAKE_TRUSTED_PROXIES", None)  # the default: a proxy on this machine
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            explorer_command("127.0.0.1", port),
            cwd=home,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + SERVER_START_SECONDS
        while not explorer_is_healthy(f"http://127.0.0.1:{port}"):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the explorer did not start: {log_path.read_text(errors='replace')}")
            time.sleep(0.5)
        yield "127.0.0.1", port
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def token(home: Path) -> str:
    return (
        Accounts(AppState(home / "app_state.sqlite"), hasher=CHEAP_HASHER).sign_in("director", PASSWORD).token
    )


def post(
    server: tuple[str, int],
    body: str,
    *,
    origin: str | None = "same",
    path: str = "/_cxlake/session",
    **headers,
) -> tuple[int, str | None]:
    """POST ``body`` as a page of the explorer would (``origin="same"``); the status and Set-Cookie."""
    host = f"{server[0]}:{server[1]}"
    sent = {
        "Host": host,
        "Content-Type": "text/plain",
        **{k.replace("_", "-"): v for k, v in headers.items()},
    }
    if origin is not None:
        sent["Origin"] = f"http://{host}" if origin == "same" else origin
    connection = http.client.HTTPConnection(*server, timeout=10)
    try:
        connection.request("POST", path, body=body.encode(), headers=sent)
        response = connection.getresponse()
        response.read()
        return response.status, response.getheader("Set-Cookie")
    finally:
        connection.close()


def attributes(set_cookie: str) -> dict[str, str]:
    """``name=value; Path=/; HttpOnly`` -> {"cxlake_session": value, "path": "/", "httponly": ""}."""
    parts = [part.strip() for part in set_cookie.split(";")]
    name, value = parts[0].split("=", 1)
    found = {name: value}
    for part in parts[1:]:
        key, _, setting = part.partition("=")
        found[key.lower()] = setting
    return found


def test_a_live_token_gets_an_httponly_strict_cookie_not_secure_over_plain_http(server, home):
    live = token(home)
    status, set_cookie = post(server, live)
    assert status == 204
    assert attributes(set_cookie) == {
        COOKIE: live,
        "path": "/",
        "max-age": str(SESSION_SECONDS),
        "httponly": "",
        "samesite": "Strict",
    }


def test_behind_a_tls_proxy_on_this_machine_the_cookie_is_secure(server, home):
    live = token(home)
    status, set_cookie = post(server, live, X_Forwarded_Proto="https")
    assert status == 204
    found = attributes(set_cookie)
    assert found[COOKIE] == live and "secure" in found and "httponly" in found
    assert found["samesite"] == "Strict"


def test_the_endpoint_answers_below_a_base_path_too(server, home):
    # A page at /explorer/overview posts to /explorer/_cxlake/session (server.baseUrlPath).
    status, set_cookie = post(server, token(home), path="/explorer/_cxlake/session")
    assert status == 204 and "HttpOnly" in set_cookie


@pytest.mark.parametrize("body", ["forged-token-0123456789abcdef", "x" * 2000], ids=["forged", "too-long"])
def test_a_token_that_names_no_live_session_gets_no_cookie(server, body):
    status, set_cookie = post(server, body)
    assert status in (400, 403) and set_cookie is None


def test_a_signed_out_token_gets_no_cookie(server, home):
    ended = token(home)
    Accounts(AppState(home / "app_state.sqlite"), hasher=CHEAP_HASHER).sign_out(ended)
    assert post(server, ended) == (403, None)


@pytest.mark.parametrize(
    "origin", ["http://evil.example", None, "null"], ids=["another-site", "no-origin", "opaque-origin"]
)
def test_another_site_cannot_set_the_cookie(server, home, origin):
    # Else a page elsewhere could sign a visitor's browser in as the attacker's own account.
    assert post(server, token(home), origin=origin) == (403, None)


def test_an_empty_post_clears_the_cookie(server):
    status, set_cookie = post(server, "")
    assert status == 204
    found = attributes(set_cookie)
    assert found[COOKIE] == "" and found["max-age"] == "0" and "httponly" in found


def test_x_forwarded_proto_counts_only_from_a_trusted_proxy(monkeypatch):
    # uvicorn turns a loopback proxy's header into the scheme itself; this is the check for a proxy
    # elsewhere, named in CXLAKE_TRUSTED_PROXIES.
    monkeypatch.setenv("CXLAKE_TRUSTED_PROXIES", "10.0.0.5")
    forwarded = [(b"x-forwarded-proto", b"https")]
    assert came_over_tls({"scheme": "http", "client": ("10.0.0.5", 4000), "headers": forwarded})
    assert not came_over_tls({"scheme": "http", "client": ("10.0.0.9", 4000), "headers": forwarded})
    assert not came_over_tls({"scheme": "http", "client": ("10.0.0.5", 4000), "headers": []})
    assert came_over_tls({"scheme": "https", "client": ("10.0.0.9", 4000), "headers": []})
