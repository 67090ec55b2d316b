"""A real explorer server on a copy of the demo build, and Debian's chromium driven by Playwright.

Browsers cannot be downloaded here: the tests use /usr/bin/chromium (.ci/run installs it with apt).
In CI a missing chromium fails the tests; on a workstation it skips them with the reason.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from cxlake.access.accounts import Accounts
from cxlake.app_state import AppState
from cxlake.explorer_process import (
    CHROMIUM,
    CHROMIUM_ARGS,
    explorer_command,
    explorer_is_healthy,
    free_loopback_port,
)

REPO = Path(__file__).resolve().parents[2]
SERVER_START_SECONDS = 60
PASSWORD = "correct horse battery staple"
DIRECTOR = "director"
STORE_MANAGER = "store.manager"


@dataclass(frozen=True)
class ExplorerHome:
    """A CXLAKE_HOME holding a copy of the demo serving copy and two accounts (one password)."""

    path: Path
    serving: Path
    store_id: str  # the store manager's store
    director: str = DIRECTOR
    store_manager: str = STORE_MANAGER
    password: str = PASSWORD


def _busiest_store(serving: Path) -> str:
    """The demo store with the most countable responses, so its NPS clears the minimum sample."""
    with duckdb.connect(str(serving), read_only=True) as connection:
        (store_id,) = connection.execute(
            "select store_id from marts.fct_survey_responses where is_countable"
            " group by store_id order by count(*) desc, store_id limit 1"
        ).fetchone()
    return store_id


@pytest.fixture(scope="module")
def explorer_home(demo_build, tmp_path_factory: pytest.TempPathFactory) -> ExplorerHome:
    """A fresh home: the published demo copy (copied, so nothing here can touch the build) and accounts."""
    assert demo_build.run_success
    home = tmp_path_factory.mktemp("explorer_home")
    serving = home / "serving.duckdb"
    shutil.copyfile(demo_build.serving, serving)
    store_id = _busiest_store(serving)
    accounts = Accounts(AppState(home / "app_state.sqlite"))
    accounts.add(DIRECTOR, "cx_director", PASSWORD)
    accounts.add(STORE_MANAGER, "store_manager", PASSWORD, store_id)
    return ExplorerHome(home, serving, store_id)


def _stop(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


@pytest.fixture(scope="module")
def explorer_url(explorer_home: ExplorerHome, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`cxlake serve`'s command as its own process, CXLAKE_HOME pointing at the copy."""
    port = free_loopback_port()
    url = f"http://127.0.0.1:{port}"
    log_path = tmp_path_factory.mktemp("explorer_server") / "server.log"
    # The command `cxlake serve` runs, started outside the repo: the explorer's own settings must hold
    # wherever it is launched from.
    command = explorer_command("127.0.0.1", port)
    environment = {**os.environ, "CXLAKE_HOME": str(explorer_home.path)}
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            command, cwd=explorer_home.path, env=environment, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + SERVER_START_SECONDS
        while not explorer_is_healthy(url):
            if server.poll() is not None or time.monotonic() > deadline:
                _stop(server)
                output = log_path.read_text(encoding="utf-8", errors="replace")
                pytest.fail(f"the explorer did not answer on {url}; its output:\n{output}")
            time.sleep(0.5)
        yield url
    finally:
        if server.poll() is None:
            _stop(server)


@pytest.fixture(scope="module")
def chromium():
    """Debian's chromium through Playwright's sync API, launched once for the module."""
    if not CHROMIUM.is_file():
        reason = f"{CHROMIUM} is missing: apt-get install chromium (browsers cannot be downloaded here)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=list(CHROMIUM_ARGS))
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def screenshots(request: pytest.FixtureRequest) -> Path:
    """<repo>/test-results/browser/<test name>/ (git-ignored), emptied first so a rerun shows one run."""
    folder = REPO / "test-results" / "browser" / request.node.name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder
