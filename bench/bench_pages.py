"""Benchmark: each explorer page's load time in Chromium, side by side with an empty page of the same app.

Builds a demo home at a stated scale (`cxlake generate`, `cxlake run`, `cxlake cases replay-demo`) in a
temporary CXLAKE_HOME, or reuses one (``--home DIR --reuse``), serves the explorer with `cxlake serve`'s
own command on loopback and opens every page a CX director and a store manager may open the way a
shared link does: a fresh load of ``/<page>`` carrying the session cookie. A page counts as loaded when
Streamlit's script has finished (the app root's script state is ``notRunning``), the page's main
content is drawn (its title; the alert on the empty page), no element is still a skeleton and every
chart has drawn. The browser's own clock (``performance.now()``, zero at navigation start) says when.

The empty page is the app with nothing on the page, without adding one to the product: the address
of a page the role may not open (``/admin`` for the director, ``/sql`` for the store manager) runs the
whole entry script (page config, the session lookup, the navigation, the sidebar's account box) and
draws one "not available" alert. Every real page pays exactly that, plus its own script.

Both users share one server. After one visit of every page (the server's first runs import the
views' modules), ``--reps`` rounds of, per page: the empty page; Streamlit's own "Clear caches" (the
developer menu, shown for the bench only: st.cache_data and st.cache_resource, as after a publish or
once the 5-minute TTL has passed); the page, cold; the page again, warm. Each ratio is over the empty
load of its round, so load from other users of the machine hits both sides; the table gives medians.

Then the data-access layer is profiled in-process: every page runs once under Streamlit's AppTest
with an empty ``st.cache_data``, each public function of ``streamlit_app/data_access/`` is timed
where the page (or its sidebar) calls it, and every SQL statement it sent is run again alone through
the reader's door to the same serving copy (median of three). Results are appended to bench/RESULTS.md.

    python bench/bench_pages.py [--home DIR [--reuse]] [--scale medium] [--days 90] [--seed 42]
                                [--reps 5] [--pages voice,feedback] [--no-browser] [--no-profile]
                                [--no-write]
"""

from __future__ import annotations

import argparse
import functools
import os
import platform
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

import duckdb

from cxlake.access.accounts import Accounts
from cxlake.access.roles import ROLES, Scope
from cxlake.access.serving_door import Door, Reader, open_door
from cxlake.app_state import AppState
from cxlake.explorer_process import (
    CHROMIUM,
    CHROMIUM_ARGS,
    explorer_command,
    explorer_is_healthy,
    free_loopback_port,
)
from cxlake.paths import cxlake_paths

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "RESULTS.md"
VIEWS = REPO / "streamlit_app" / "views"
COOKIE = "cxlake_session"
SERVER_START_SECONDS = 90
LOAD_TIMEOUT_MS = 120_000
TARGET_RATIO = 1.3
EMPTY = "empty"
START_DAY = "2026-01-01"
# (account name, role, the page outside the role that serves as its empty page)
USERS = (("bench.director", "cx_director", "admin"), ("bench.manager", "store_manager", "sql"))

# True once the page is drawn: the script has stopped, `selector` is in the main area, nothing is a
# skeleton and every Vega chart has its canvas. Returns the browser's ms since navigation start; -1
# when the script stopped on an exception, -2 on the sign-in form (no sidebar sign-out button): a
# broken or signed-out page must not pass for a fast one.
LOADED = """(selector) => {
    const app = document.querySelector('[data-testid="stApp"]');
    if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
    const main = document.querySelector('[data-testid="stMain"]');
    if (main && main.querySelector('[data-testid="stException"]')) return -1;
    if (!main || !main.querySelector(selector)) return false;
    if (!document.querySelector('.st-key-sign_out')) return -2;
    if (document.querySelector('[data-testid="stSkeleton"]')) return false;
    // charts in a tab not shown are not drawn until it is: wait for the visible ones only
    const charts = Array.from(document.querySelectorAll('[data-testid="stVegaLiteChart"]'))
        .filter((chart) => chart.checkVisibility());
    if (!charts.every((chart) => chart.querySelector('canvas, svg'))) return false;
    return performance.now();
}"""
PAGE_CONTENT = "h1"
EMPTY_CONTENT = '[data-testid="stAlert"]'
SCHEMAS = {"marts", "dq", "staging", "intermediate", "ops", "main"}


@dataclass(frozen=True)
class User:
    name: str
    role: str
    empty_page: str
    token: str
    pages: tuple[str, ...]


def _by_page() -> dict[str, dict[str, list[float]]]:
    return {"cold": defaultdict(list), "warm": defaultdict(list)}


@dataclass
class Loads:
    """Seconds of the empty page; per cache ("cold", "warm") and page key, seconds and the paired
    ratios page / the empty load of its round; per page key, the machine's 1-minute load average at
    the start of each of its rounds (a shared machine's load stretches every figure)."""

    empty: list[float] = field(default_factory=list)
    load: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    seconds: dict[str, dict[str, list[float]]] = field(default_factory=_by_page)
    ratios: dict[str, dict[str, list[float]]] = field(default_factory=_by_page)


# --- the demo home --------------------------------------------------------------------------------


def cli(home: Path, *args: str) -> None:
    """One `cxlake` command with CXLAKE_HOME pointing at ``home``; its output only if it fails."""
    environment = {**os.environ, "CXLAKE_HOME": str(home)}
    done = subprocess.run(
        [sys.executable, "-m", "cxlake.cli", *args], env=environment, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"cxlake {' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")


def build_home(home: Path, scale: str, days: int, seed: int) -> float:
    """The demo as `make demo` builds it, at ``scale``: deliveries, the pipeline, the cases worked."""
    started = time.perf_counter()
    landing = home / "landing"
    cli(home, "generate", "--scale", scale, "--seed", str(seed), "--start", START_DAY, "--days", str(days),
        "--out", str(landing))  # fmt: skip
    cli(home, "run", "--landing", str(landing))
    cli(home, "cases", "replay-demo", "--truth", str(landing / "truth.json"))
    return time.perf_counter() - started


def busiest_store(serving: Path) -> str:
    """The store with the most countable responses, so the store manager's numbers are reportable."""
    with duckdb.connect(str(serving), read_only=True) as connection:
        return connection.execute(
            "select store_id from marts.fct_survey_responses where is_countable"
            " group by store_id order by count(*) desc, store_id limit 1"
        ).fetchone()[0]


def data_summary(serving: Path) -> str:
    with duckdb.connect(str(serving), read_only=True) as connection:
        transactions, responses, journeys, reviews = connection.execute(
            "select (select count(*) from marts.fct_transactions),"
            " (select count(*) from marts.fct_survey_responses),"
            " (select count(*) from marts.fct_journeys), (select count(*) from marts.fct_reviews)"
        ).fetchone()
    return (
        f"{transactions:,} transactions, {responses:,} survey responses, {journeys:,} journeys, "
        f"{reviews:,} reviews"
    )


def bench_users(home: Path, only: frozenset[str] = frozenset()) -> list[User]:
    """The bench's director and store manager (reset to a fresh random password), each signed in
    once, with the pages their role may open (only those in ``only``, when given)."""
    accounts = Accounts(AppState(cxlake_paths(home).app_state))
    store_id = busiest_store(cxlake_paths(home).serving)
    existing = {path.stem for path in VIEWS.glob("*.py")}
    users = []
    for name, role, empty_page in USERS:
        password = secrets.token_urlsafe(18)
        accounts.reset(name, role, password, store_id if role == "store_manager" else None, by="bench")
        token = accounts.sign_in(name, password).token
        pages = tuple(page for page in ROLES[role].pages if page in existing and (not only or page in only))
        users.append(User(name, role, empty_page, token, pages))
    return users


# --- the explorer in a browser ----------------------------------------------------------------------


@contextmanager
def explorer(home: Path, log: Path) -> Iterator[str]:
    """`cxlake serve`'s command on a free loopback port, CXLAKE_HOME = ``home``; yields its URL."""
    port = free_loopback_port()
    url = f"http://127.0.0.1:{port}"
    environment = {**os.environ, "CXLAKE_HOME": str(home)}
    # The developer menu only for its "Clear caches" (see clear_caches); the served settings otherwise.
    command = [*explorer_command("127.0.0.1", port), "--client.toolbarMode", "developer"]
    with log.open("ab") as output:
        server = subprocess.Popen(command, cwd=home, env=environment, stdout=output, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + SERVER_START_SECONDS
        while not explorer_is_healthy(url):
            if server.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the explorer did not answer on {url}; see {log}")
            time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@contextmanager
def signed_in_page(browser, url: str, user: User) -> Iterator[object]:
    """A fresh browser context carrying ``user``'s session cookie, as a second tab or a shared link."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_cookies([{"name": COOKIE, "value": user.token, "url": url}])
    try:
        yield context.new_page()
    finally:
        context.close()


def load_seconds(page, url: str, key: str, user: User) -> float:
    """Seconds from navigating to ``/<key>`` until the page is drawn (EMPTY: the role's empty page)."""
    path, selector = (user.empty_page, EMPTY_CONTENT) if key == EMPTY else (key, PAGE_CONTENT)
    page.goto(f"{url}/{path}", wait_until="commit")
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        handle = page.wait_for_function(LOADED, arg=selector, polling="raf", timeout=LOAD_TIMEOUT_MS)
    except PlaywrightTimeout:
        raise SystemExit(
            f"/{path} as {user.role} was not drawn within {LOAD_TIMEOUT_MS / 1000:g} s"
            f" (no {selector} in the main area once the script stopped)"
        ) from None
    milliseconds = handle.json_value()
    if milliseconds == -1:
        shown = page.locator('[data-testid="stException"]').first.inner_text()
        raise SystemExit(f"/{path} as {user.role} stopped on an exception:\n{shown}")
    if milliseconds == -2:
        raise SystemExit(f"/{path} shows the sign-in form: {user.name}'s session ended (another bench run?)")
    return milliseconds / 1000


def clear_caches(page) -> None:
    """Streamlit's own "Clear caches" (the developer menu's key ``c``): st.cache_data and
    st.cache_resource of the whole server, as after a publish or once the cache's TTL has passed."""
    page.keyboard.press("c")
    button = page.get_by_role("button", name="Clear caches")
    button.click()
    button.wait_for(state="detached")


def page_loads(browser, url: str, user: User, reps: int) -> Loads:
    """After one visit of every page (not counted), ``reps`` rounds of, per page: the empty page, the
    caches cleared, the page (cold), the page again (warm); both ratios are over that empty load."""
    loads = Loads()
    with signed_in_page(browser, url, user) as page:
        for key in (EMPTY, *user.pages):  # the server's first runs import the views' modules
            load_seconds(page, url, key, user)
        for _ in range(reps):
            for key in user.pages:
                loads.load[key].append(os.getloadavg()[0])
                empty = load_seconds(page, url, EMPTY, user)
                clear_caches(page)
                cold = load_seconds(page, url, key, user)
                warm = load_seconds(page, url, key, user)
                loads.empty.append(empty)
                for cache, seconds in (("cold", cold), ("warm", warm)):
                    loads.seconds[cache][key].append(seconds)
                    loads.ratios[cache][key].append(seconds / empty)
    return loads


def measure_browser(home: Path, users: list[User], reps: int) -> dict[str, Loads]:
    """Per user name: the loads of their pages, both users on one server."""
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.is_file():
        raise SystemExit(
            f"{CHROMIUM} is missing: apt-get install chromium (browsers cannot be downloaded here)"
        )
    measured = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=list(CHROMIUM_ARGS))
        try:
            with explorer(home, home / "bench_pages_server.log") as url:
                for user in users:
                    measured[user.name] = page_loads(browser, url, user, reps)
                    print(f"measured {user.role}", flush=True)
        finally:
            browser.close()
    return measured


# --- the data-access layer, profiled ---------------------------------------------------------------


@dataclass
class Statement:
    function: str
    page: str
    sql: str
    params: list[object]
    reader: Reader


@dataclass
class Recorder:
    """Top-level calls into data_access (time, by function and page) and the SQL each one sent."""

    page: str = ""
    recording: bool = True  # off for warm runs, which only read st.cache_data
    stack: list[str] = field(default_factory=list)
    calls: dict[tuple[str, str], list[float]] = field(default_factory=lambda: defaultdict(list))
    statements: list[Statement] = field(default_factory=list)

    def wrap(self, name: str, function: Callable) -> Callable:
        @functools.wraps(function)
        def timed(*args, **kwargs):
            self.stack.append(name)
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                elapsed = time.perf_counter() - started
                self.stack.pop()
                if self.recording and not self.stack:  # the page's calls, not data_access's own
                    self.calls[(self.page, name)].append(elapsed)

        if hasattr(function, "clear"):
            timed.clear = function.clear
        return timed


class _RecordingCursor:
    """A DuckDB cursor that notes each statement (and the data_access function that sent it)."""

    def __init__(self, cursor: duckdb.DuckDBPyConnection, recorder: Recorder, reader: Reader) -> None:
        self._cursor = cursor
        self._recorder = recorder
        self._reader = reader

    def execute(self, sql: str, params: object = None):
        recorder = self._recorder
        if recorder.recording:
            caller = recorder.stack[0] if recorder.stack else "?"
            statement = Statement(caller, recorder.page, sql, list(params or []), self._reader)
            recorder.statements.append(statement)
        return self._cursor.execute(sql, params)

    def __getattr__(self, name: str):
        return getattr(self._cursor, name)


def instrument(recorder: Recorder) -> None:
    """Wrap every public function of data_access and its cursor; views call them as data_access.x."""
    from streamlit_app import data_access

    for name, value in list(vars(data_access).items()):
        if name.startswith("_") or isinstance(value, type) or not callable(value):
            continue
        if str(getattr(value, "__module__", "")).startswith(f"{data_access.__name__}."):
            setattr(data_access, name, recorder.wrap(name, value))
    original_cursor = data_access.core.cursor

    @contextmanager
    def recording_cursor(who: Scope | Reader):
        with original_cursor(who) as cursor:
            yield _RecordingCursor(cursor, recorder, who if isinstance(who, Reader) else Reader(who))

    data_access.core.cursor = recording_cursor


def sql_alone_ms(serving: Path, statements: list[Statement]) -> dict[int, float]:
    """Each statement alone through its reader's door (the views the page reads), on a warm cache:
    median of three runs, ms."""
    timings = {}
    doors: dict[Reader, Door] = {}
    try:
        for index, statement in enumerate(statements):
            if statement.reader not in doors:
                doors[statement.reader] = open_door(serving, statement.reader)
            connection = doors[statement.reader].connection
            runs = []
            for _ in range(3):
                started = time.perf_counter()
                connection.execute(statement.sql, statement.params).df()
                runs.append((time.perf_counter() - started) * 1000)
            timings[index] = statistics.median(runs)
    finally:
        for door in doors.values():
            door.close()
    return timings


@dataclass(frozen=True)
class HotSpot:
    function: str
    pages: tuple[str, ...]
    calls: int
    function_ms: float  # summed over the pages' calls, uncached, in the app's process
    sql_ms: float  # the statements it sent, each alone through the door
    statements: int
    tables: tuple[str, ...]


def tables_read(statements: Iterable[str]) -> tuple[str, ...]:
    """The schema-qualified relations the statements name, for the report's "reads" column."""
    named = {table for sql in statements for table in re.findall(r"\b[a-z_]+\.[a-z_]\w*", sql)}
    return tuple(sorted(table for table in named if table.split(".")[0] in SCHEMAS))


def profile_pages(home: Path, users: list[User]) -> tuple[list[HotSpot], dict[str, tuple[float, float]]]:
    """Hot spots ranked by uncached time, and per role/page the AppTest run's (cold, warm) seconds."""
    os.environ["CXLAKE_HOME"] = str(home)
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from streamlit_app.session import KEY_TOKEN

    recorder = Recorder()
    instrument(recorder)
    runs: dict[str, tuple[float, float]] = {}
    for user in users:
        for key in user.pages:
            recorder.page = f"{key} ({user.role})"
            times = []
            st.cache_data.clear()
            for recording in (True, False):  # cold, then warm
                recorder.recording = recording
                at = AppTest.from_file(str(VIEWS / f"{key}.py"), default_timeout=LOAD_TIMEOUT_MS / 1000)
                at.session_state[KEY_TOKEN] = user.token
                started = time.perf_counter()
                at.run()
                times.append(time.perf_counter() - started)
                if at.exception:
                    raise SystemExit(f"{key} failed for {user.role}: {at.exception[0].message}")
            runs[recorder.page] = (times[0], times[1])
    timings = sql_alone_ms(cxlake_paths(home).serving, recorder.statements)
    by_function: dict[str, dict] = defaultdict(lambda: {"pages": set(), "calls": 0, "ms": 0.0})
    for (page, function), seconds in recorder.calls.items():
        entry = by_function[function]
        entry["pages"].add(page)
        entry["calls"] += len(seconds)
        entry["ms"] += sum(seconds) * 1000
    sql_by_function: dict[str, list[int]] = defaultdict(list)
    for index, statement in enumerate(recorder.statements):
        sql_by_function[statement.function].append(index)
    spots = [
        HotSpot(
            function=function,
            pages=tuple(sorted(entry["pages"])),
            calls=entry["calls"],
            function_ms=entry["ms"],
            sql_ms=sum(timings[index] for index in sql_by_function[function]),
            statements=len(sql_by_function[function]),
            tables=tables_read(recorder.statements[index].sql for index in sql_by_function[function]),
        )
        for function, entry in by_function.items()
    ]
    spots.sort(key=lambda spot: spot.function_ms, reverse=True)
    return spots, runs


# --- the report --------------------------------------------------------------------------------------


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def browser_table(users: list[User], measured: dict[str, Loads]) -> str:
    lines = [
        "| role | page | cold s | warm s | cold ratio | warm ratio | within 1.3× cold / warm | load avg |",
        "| --- | --- | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for user in users:
        loads = measured[user.name]
        lines.append(
            f"| {user.role} | empty page (/{user.empty_page}) | | {_median(loads.empty):.2f} | | | | |"
        )
        for key in user.pages:
            cold, warm = (_median(loads.seconds[cache][key]) for cache in ("cold", "warm"))
            cold_ratio, warm_ratio = (_median(loads.ratios[cache][key]) for cache in ("cold", "warm"))
            within = " / ".join(
                "yes" if ratio <= TARGET_RATIO else "no" for ratio in (cold_ratio, warm_ratio)
            )
            load = loads.load[key]
            lines.append(
                f"| {user.role} | {key} | {cold:.2f} | {warm:.2f} | {cold_ratio:.2f} | {warm_ratio:.2f} "
                f"| {within} | {min(load):.1f}–{max(load):.1f} |"
            )
    return "\n".join(lines)


def hot_spot_table(spots: list[HotSpot], limit: int = 20) -> str:
    lines = [
        "| rank | data_access function | calls | ms uncached (in the page) | ms SQL alone (through the door)"
        " | statements | reads | pages |",
        "| ---: | --- | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for rank, spot in enumerate(spots[:limit], start=1):
        lines.append(
            f"| {rank} | `{spot.function}` | {spot.calls} | {spot.function_ms:.0f} | {spot.sql_ms:.0f} "
            f"| {spot.statements} | {', '.join(spot.tables) or '—'} | {', '.join(spot.pages)} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--home", type=Path, help="CXLAKE_HOME to build into (default: a temporary folder)")
    parser.add_argument("--reuse", action="store_true", help="use --home's serving copy as it is")
    parser.add_argument("--scale", default="medium")
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--reps", type=int, default=5, help="rounds: cold and warm loads per page")
    parser.add_argument("--pages", default="", help="comma-separated page keys to measure (default: all)")
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument("--no-profile", action="store_true")
    parser.add_argument("--no-write", action="store_true", help="print the report, leave RESULTS.md alone")
    args = parser.parse_args()
    if args.reuse and args.home is None:
        parser.error("--reuse needs --home")

    home = (args.home or Path(tempfile.mkdtemp(prefix="cxlake-bench-pages-"))).resolve()
    try:
        if args.reuse:
            if not cxlake_paths(home).serving.is_file():
                raise SystemExit(f"--reuse: no serving copy at {cxlake_paths(home).serving}")
            build = "reused"
        else:
            home.mkdir(parents=True, exist_ok=True)
            build = f"built in {build_home(home, args.scale, args.days, args.seed):.0f} s"
            print(f"demo home {build}: {home}", flush=True)
        users = bench_users(home, frozenset(filter(None, args.pages.split(","))))
        started = time.perf_counter()
        measured = {} if args.no_browser else measure_browser(home, users, args.reps)
        browser_seconds = time.perf_counter() - started
        spots, runs = ([], {}) if args.no_profile else profile_pages(home, users)
        data = data_summary(cxlake_paths(home).serving)
    finally:
        if args.home is None:
            shutil.rmtree(home, ignore_errors=True)

    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    machine = (
        f"{platform.machine()}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end, "
        f"Python {platform.python_version()}, duckdb {duckdb.__version__}, "
        f"streamlit {version('streamlit')}, playwright {version('playwright')}, {CHROMIUM} headless"
    )
    sections = [
        f"\n## Explorer page speed: {args.scale} scale, {args.days} days ({stamp})",
        f"Machine: {machine}.",
        f"Data: seed {args.seed} from {START_DAY}; {data} (demo home {build}).",
    ]
    if measured:
        sections += [
            "",
            f"Each page loaded as a shared link does (a fresh load of /<page> with the session cookie) until "
            f"the script has stopped and the page is drawn, {args.reps} rounds; in each, per page: the empty "
            "page, Streamlit's Clear caches, the page (cold), the page again (warm). Seconds are medians, "
            "ratios medians of page / the empty load of its round; load avg is the machine's 1-minute "
            "load average at the start of the page's rounds (lowest–highest). "
            f"Browser part: {browser_seconds:.0f} s.",
            "",
            browser_table(users, measured),
        ]
    if spots:
        sections += [
            "",
            "Hot spots: each page once under AppTest with an empty st.cache_data, the data_access functions "
            "it calls, summed over the pages that call them; each statement also alone through the "
            "reader's door.",
            "",
            hot_spot_table(spots),
            "",
            "AppTest runs of each page (cold / warm cache, s): "
            + "; ".join(f"{page} {cold:.2f} / {warm:.2f}" for page, (cold, warm) in runs.items())
            + ".",
        ]
    report = "\n".join(sections) + "\n"
    print(report)
    if not args.no_write:
        with RESULTS.open("a", encoding="utf-8") as results:
            results.write(report)


if __name__ == "__main__":
    main()
