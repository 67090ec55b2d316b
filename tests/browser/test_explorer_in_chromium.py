"""The explorer in a real browser: sign-in, scoped numbers, the leaderboard and a phone screen.

The server is a real `streamlit run` on a copy of the demo build (tests/browser/conftest.py); the
expected numbers come straight from that copy with DuckDB and cxlake.metrics, so a scope leak or a
different roll-up in the page shows up as a wrong number. Screenshots of every step land in
test-results/browser/<test name>/.
"""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pandas as pd
from playwright.sync_api import Browser, Page

from cxlake.metrics import NpsResult, nps_from_counts, settings
from streamlit_app.labels import store_label

TIMEOUT_MS = 30_000
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
METRIC_VALUE = '[data-testid="stMetricValue"]'
IDLE_APP = '[data-testid="stApp"][data-test-script-state="notRunning"]'
# Elements whose code loads lazily show a skeleton first; Vega draws a chart after its data arrives.
ALL_DRAWN = """() =>
    document.querySelectorAll('[data-testid="stSkeleton"]').length === 0
    && Array.from(document.querySelectorAll('[data-testid="stVegaLiteChart"]'))
        .every((chart) => chart.querySelector('canvas, svg'))"""


def expected_nps(serving: Path, store_id: str | None = None) -> NpsResult:
    """The NPS of every countable response (of one store, if given): the Overview's default range."""
    with duckdb.connect(str(serving), read_only=True) as connection:
        promoters, passives, detractors = connection.execute(
            """
            select count(*) filter (where nps_score >= 9),
                   count(*) filter (where nps_score between 7 and 8),
                   count(*) filter (where nps_score <= 6)
            from marts.fct_survey_responses
            where is_countable and (cast(? as varchar) is null or store_id = ?)
            """,
            [store_id, store_id],
        ).fetchone()
    return nps_from_counts(promoters, passives, detractors)


def store_name(serving: Path, store_id: str) -> str:
    with duckdb.connect(str(serving), read_only=True) as connection:
        return connection.execute(
            "select store_name from marts.dim_store where store_id = ?", [store_id]
        ).fetchone()[0]


@contextmanager
def new_page(chromium: Browser, viewport: dict[str, int] = DESKTOP) -> Iterator[Page]:
    """A fresh browser context per user, so no Streamlit session is shared between sign-ins."""
    context = chromium.new_context(viewport=viewport, accept_downloads=True)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


def wait_until_drawn(page: Page) -> None:
    """The script has finished (Streamlit marks its root element) and every element is drawn."""
    page.locator(IDLE_APP).wait_for()
    page.wait_for_function(ALL_DRAWN, timeout=TIMEOUT_MS)


def sign_in(page: Page, url: str, name: str, password: str) -> None:
    page.goto(url)
    page.get_by_label("User name").fill(name)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()


def shown_nps(page: Page) -> str:
    """The Overview's headline NPS as displayed (one decimal), once the page has drawn it."""
    metric = page.locator(METRIC_VALUE).first
    metric.wait_for()
    wait_until_drawn(page)
    return metric.inner_text().strip()


def test_director_and_store_manager_each_see_the_nps_of_their_scope(
    chromium: Browser, explorer_url: str, explorer_home, screenshots: Path
):
    everything = expected_nps(explorer_home.serving)
    one_store = expected_nps(explorer_home.serving, explorer_home.store_id)
    # The store must clear the minimum sample, or its page shows "—" and compares nothing.
    assert one_store.n >= settings().min_responses
    assert 0 < one_store.n < everything.n
    assert f"{one_store.nps:.1f}" != f"{everything.nps:.1f}"  # else the scopes could not be told apart

    director, manager = explorer_home.director, explorer_home.store_manager
    shown = {}
    for step, name in enumerate((director, manager), start=1):
        with new_page(chromium) as page:
            sign_in(page, explorer_url, name, explorer_home.password)
            shown[name] = shown_nps(page)
            page.get_by_text(f"n = {(everything if name == director else one_store).n:,}").first.wait_for()
            page.screenshot(path=screenshots / f"{step}_{name}_overview.png", full_page=True)

    assert shown == {director: f"{everything.nps:.1f}", manager: f"{one_store.nps:.1f}"}


def test_store_manager_leaderboard_lists_only_their_store(
    chromium: Browser, explorer_url: str, explorer_home, screenshots: Path
):
    with new_page(chromium) as page:
        sign_in(page, explorer_url, explorer_home.store_manager, explorer_home.password)
        shown_nps(page)
        page.screenshot(path=screenshots / "1_overview.png", full_page=True)

        page.locator('[data-testid="stSidebarNavLink"]', has_text="Store leaderboard").click()
        page.get_by_role("heading", name="Store leaderboard").wait_for()
        download_button = page.get_by_role("button", name="Download CSV").first  # the placed stores
        download_button.wait_for()
        wait_until_drawn(page)
        page.screenshot(path=screenshots / "2_leaderboard.png", full_page=True)

        # The table is drawn on a canvas; its CSV download is the same rows as text.
        with page.expect_download() as download:
            download_button.click()
        board = pd.read_csv(download.value.path(), encoding="utf-8-sig")

    expected = expected_nps(explorer_home.serving, explorer_home.store_id)
    assert board["Store"].tolist() == [store_label(store_name(explorer_home.serving, explorer_home.store_id))]
    assert board["Store id"].tolist() == [explorer_home.store_id]
    assert board["Responses"].tolist() == [expected.n]


def test_wrong_password_is_refused_with_the_reason(
    chromium: Browser, explorer_url: str, explorer_home, screenshots: Path
):
    with new_page(chromium) as page:
        sign_in(page, explorer_url, explorer_home.director, "not the password at all")
        page.get_by_text("Sign-in refused: wrong name or password.").wait_for()
        wait_until_drawn(page)
        page.screenshot(path=screenshots / "1_refused.png", full_page=True)
        assert page.locator(METRIC_VALUE).count() == 0
        assert page.get_by_label("User name").is_visible()


def test_store_manager_overview_on_a_phone_screen(
    chromium: Browser, explorer_url: str, explorer_home, screenshots: Path
):
    expected = expected_nps(explorer_home.serving, explorer_home.store_id)
    with new_page(chromium, PHONE) as page:
        sign_in(page, explorer_url, explorer_home.store_manager, explorer_home.password)
        shown = shown_nps(page)
        page.screenshot(path=screenshots / "1_phone_overview.png", full_page=True)
        metric_box = page.locator(METRIC_VALUE).first.bounding_box()

    assert shown == f"{expected.nps:.1f}"
    assert metric_box is not None and metric_box["x"] + metric_box["width"] <= PHONE["width"]


def test_tables_leave_only_through_the_audited_download_of_a_live_session(
    chromium: Browser, explorer_url: str, explorer_home, screenshots: Path
):
    requested: list[str] = []
    with new_page(chromium) as page:
        page.on("request", lambda request: requested.append(request.url))
        page.goto(f"{explorer_url}/leaderboard")  # a shared link, signed out
        page.get_by_label("User name").fill(explorer_home.director)
        page.get_by_label("Password", exact=True).fill(explorer_home.password)
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("heading", name="Store leaderboard").wait_for()
        wait_until_drawn(page)
        assert page.get_by_text("Page not found").count() == 0

        page.locator('[data-testid="stDataFrame"]').first.hover()
        page.get_by_role("button", name="Search").first.wait_for()
        page.screenshot(path=screenshots / "1_table_toolbar.png")
        labels = [button.get_attribute("aria-label") for button in page.locator("button").all()]
        assert "Download as CSV" not in labels
        assert {"Search", "Fullscreen"} <= set(labels)

        with page.expect_download() as download:
            page.get_by_role("button", name="Download CSV").first.click()
        board = pd.read_csv(download.value.path(), encoding="utf-8-sig")
        assert {"Tier", "Could rank", "Store id", "Store"} <= set(board.columns)
        file_url = download.value.url
        assert "/media/" in file_url
        assert page.context.request.get(file_url).status == 200  # the session's own cookie
        try:
            urllib.request.urlopen(file_url)  # no cookie: someone who was handed the link
            refused = None
        except urllib.error.HTTPError as error:
            refused = error.code
        assert refused == 403

        page.get_by_role("button", name="Sign out").click()
        page.get_by_label("User name").wait_for()
        assert page.context.request.get(file_url).status == 403  # the session has ended

        page.goto(f"{explorer_url}/overview")  # a deep link opens its page, no dialog over it
        page.get_by_label("User name").wait_for()
        assert page.get_by_text("Page not found").count() == 0

    hosts = {urllib.parse.urlsplit(url).netloc for url in requested if url.startswith("http")}
    assert hosts == {urllib.parse.urlsplit(explorer_url).netloc}


def test_a_shared_link_opens_its_page_for_a_signed_in_user(
    chromium: Browser, explorer_url: str, explorer_home, screenshots: Path
):
    with new_page(chromium) as page:
        sign_in(page, explorer_url, explorer_home.director, explorer_home.password)
        shown_nps(page)
        page.goto(f"{explorer_url}/overview")  # with the sign-in cookie, as a second tab would
        shown_nps(page)
        page.screenshot(path=screenshots / "1_overview_by_link.png", full_page=True)
        assert page.get_by_text("Page not found").count() == 0
        assert page.url.endswith("/overview")


# Streamlit's chart toolbar buttons that hand out a chart's data or picture (charts.CHART_TOOLBAR_STYLE).
CHART_EXPORT_BUTTONS = ("Show data", "Download as PNG", "Copy Vega-Lite spec")


def test_a_chart_offers_full_screen_but_no_way_to_take_its_data(
    chromium: Browser, explorer_url: str, explorer_home, screenshots: Path
):
    with new_page(chromium) as page:
        sign_in(page, f"{explorer_url}/overview", explorer_home.director, explorer_home.password)
        page.get_by_role("heading", name="Overview").wait_for()
        wait_until_drawn(page)
        charts = page.locator('[data-testid="stVegaLiteChart"]')
        assert charts.count() == 3
        for index in range(charts.count()):
            chart = charts.nth(index)
            chart.scroll_into_view_if_needed()
            chart.hover()
            page.get_by_role("button", name="Fullscreen").first.wait_for()  # the hovered chart's toolbar
            page.screenshot(path=screenshots / f"chart_{index}_toolbar.png")
            for label in CHART_EXPORT_BUTTONS:
                assert page.get_by_role("button", name=label).count() == 0, label  # none visible anywhere
        # Vega-Embed's own "…" menu (actions) is not drawn at all.
        assert page.locator(".vega-embed .vega-actions, .vega-embed summary").count() == 0
        # Streamlit still draws the buttons; the explorer's style is what keeps them out of reach.
        assert page.locator('button[aria-label^="Show data"]').count() > 0
