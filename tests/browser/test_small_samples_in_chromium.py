"""Small samples are never shown as facts (issue 14), checked page by page in a real browser.

A store manager looks at their store over three days, where every score rests on a handful of
answers. What chromium draws is read back: metric tiles and captions from the DOM, chart marks from
the SVG Vega draws (each mark's aria-label is its tooltip in words, its fill says solid or hollow),
tables from the grid's accessible table. The expected counts come from the test's serving copy with
DuckDB, so a page that draws a solid score over 12 answers, or labels the wrong n, fails here.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
from playwright.sync_api import Browser, Page
from test_explorer_in_chromium import DESKTOP, TIMEOUT_MS, sign_in, wait_until_drawn

from cxlake.metrics import settings
from streamlit_app.labels import store_label, too_few
from streamlit_app.session import COOKIE

MINIMUM = settings().min_responses
PERIOD_DAYS = 3
METRIC = '[data-testid="stMetric"]'
CHARTS = '[data-testid="stVegaLiteChart"]'
GRID = '[data-testid="stDataFrame"] table'
NAV = '[data-testid="stSidebarNavLink"]'
# Every mark Vega draws with a description: role, its tooltip in words, fill.
MARKS_JS = """(charts) => charts.map((chart) => Array.from(chart.querySelectorAll('[aria-roledescription]'))
    .filter((mark) => ['point', 'bar', 'circle'].includes(mark.getAttribute('aria-roledescription')))
    .map((mark) => ({role: mark.getAttribute('aria-roledescription'),
                     label: mark.getAttribute('aria-label') || '', fill: mark.getAttribute('fill')})))"""
GRID_JS = """(table) => [Array.from(table.querySelectorAll('thead th')).map((cell) => cell.innerText),
    ...Array.from(table.querySelectorAll('tbody tr')).map((row) =>
        Array.from(row.querySelectorAll('td')).map((cell) => cell.innerText))]"""


@dataclass(frozen=True)
class Mark:
    """One drawn mark: its role, its tooltip fields and whether it is solid (filled)."""

    role: str
    fields: dict[str, str]
    solid: bool


@dataclass(frozen=True)
class View:
    """The manager's store and the short period every page of the module is opened on."""

    store_id: str
    region_id: str
    date_from: date
    date_to: date

    @property
    def query(self) -> str:
        return f"from={self.date_from.isoformat()}&to={self.date_to.isoformat()}"


def query(serving: Path, sql: str, params: list[object]) -> list[tuple]:
    with duckdb.connect(str(serving), read_only=True) as connection:
        return connection.execute(sql, params).fetchall()


@pytest.fixture(scope="module")
def view(explorer_home) -> View:
    """The last PERIOD_DAYS days up to the store's newest review (so Voice has something to show),
    checked to hold fewer answers than the minimum: a small sample for real."""
    serving, store_id = explorer_home.serving, explorer_home.store_id
    ((last_review, region_id),) = query(
        serving,
        "select max(r.posted_date), any_value(s.region_id) from marts.fct_reviews as r"
        " join marts.dim_store as s using (store_id) where not r.is_competitor and r.store_id = ?",
        [store_id],
    )
    chosen = View(store_id, region_id, last_review - timedelta(days=PERIOD_DAYS - 1), last_review)
    ((answers,),) = query(
        serving,
        "select count(*) from marts.fct_survey_responses where is_countable and store_id = ?"
        " and response_date between ? and ?",
        [store_id, chosen.date_from, chosen.date_to],
    )
    assert 0 < answers < MINIMUM, f"{store_id} has {answers} answers in {chosen.query}: no small sample"
    return chosen


def _signed_in_page(chromium: Browser, url: str, name: str, password: str) -> Iterator[Page]:
    context = chromium.new_context(viewport=DESKTOP)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        sign_in(page, url, name, password)
        page.locator(NAV).first.wait_for()
        # Tests open pages by their address: a new Streamlit session that finds the sign-in through
        # the cookie the server sets when the signed-in run posts its token. Leaving before it is set
        # signs the page out. The cookie is HttpOnly, so it is looked for in the context, not the page.
        deadline = time.monotonic() + TIMEOUT_MS / 1000
        while not any(cookie["name"] == COOKIE for cookie in context.cookies()):
            assert time.monotonic() < deadline, "the sign-in cookie was never set"
            page.wait_for_timeout(100)
        yield page
    finally:
        context.close()


@pytest.fixture(scope="module")
def manager(chromium: Browser, explorer_url: str, explorer_home) -> Iterator[Page]:
    """One signed-in store manager for the module; each test opens its page by its address."""
    yield from _signed_in_page(chromium, explorer_url, explorer_home.store_manager, explorer_home.password)


@pytest.fixture(scope="module")
def director(chromium: Browser, explorer_url: str, explorer_home) -> Iterator[Page]:
    yield from _signed_in_page(chromium, explorer_url, explorer_home.director, explorer_home.password)


def open_page(page: Page, url: str, key: str, link_query: str = "") -> None:
    """The page's address with the period in its query string (a fresh session reads it), drawn."""
    page.goto(f"{url}/{key}" + (f"?{link_query}" if link_query else ""))
    page.locator(NAV).first.wait_for()
    wait_until_drawn(page)
    assert page.get_by_text("Page not found").count() == 0


def metrics(page: Page) -> list[tuple[str, str]]:
    """Every metric tile as (label, value) as drawn."""
    tiles = page.locator(METRIC)
    return [
        (tile.locator('[data-testid="stMetricLabel"]').inner_text().strip(),
         tile.locator('[data-testid="stMetricValue"]').inner_text().strip())
        for tile in tiles.all()
    ]  # fmt: skip


def chart_marks(page: Page) -> list[list[Mark]]:
    """The marks of every chart on the page, chart by chart, read from the SVG Vega drew."""
    drawn = page.locator(CHARTS).evaluate_all(MARKS_JS)
    return [
        [
            Mark(mark["role"], _fields(mark["label"]), mark["fill"] not in ("transparent", "none", None))
            for mark in chart
        ]
        for chart in drawn
    ]


def _fields(label: str) -> dict[str, str]:
    """``Period: Mar 09, 2026; NPS: 33.3; Note: n = 12, too few`` as a dict."""
    pairs = (part.split(": ", 1) for part in label.split("; ") if ": " in part)
    return {key.strip(): value.strip() for key, value in pairs}


def grid(page: Page, index: int = 0) -> list[list[str]]:
    """A table's header and its drawn rows, from the grid's accessible table."""
    table = page.locator(GRID).nth(index)
    table.wait_for(state="attached")
    return table.evaluate(GRID_JS)


def n_of(text: str) -> int:
    return int(text.replace(",", ""))


def assert_scores_are_facts_only_over_enough(marks: list[Mark], score: str, count: str) -> list[Mark]:
    """Every solid mark carrying ``score`` rests on ``count`` >= the minimum; a hollow mark says
    "n = 4, too few" and reads out neither the score nor the count; returns the hollow ones."""
    hollow = []
    for mark in marks:
        if mark.solid:
            if score not in mark.fields:
                continue
            assert count in mark.fields, f"a solid {mark.role} shows {score} without its n: {mark.fields}"
            assert n_of(mark.fields[count]) >= MINIMUM, (
                f"a solid {mark.role} over too few answers: {mark.fields}"
            )
        elif "Note" in mark.fields:
            # A hollow mark is described by its tooltip: what it is and its n, never its score.
            assert re.fullmatch(r"n = [\d,]+, too few", mark.fields["Note"]), mark.fields
            assert score not in mark.fields and count not in mark.fields, mark.fields
            hollow.append(mark)
    return hollow


def note_counts(marks: list[Mark], key: str) -> dict[str, int]:
    """Hollow marks' key field -> the n of their "too few" note."""
    return {mark.fields[key]: n_of(re.search(r"n = ([\d,]+)", mark.fields["Note"])[1]) for mark in marks}


# --- expected counts from the serving copy -------------------------------------------------------
def weekly_answers(serving: Path, view: View) -> list[int]:
    rows = query(
        serving,
        "select date_trunc('week', date_day), sum(count_responses) from marts.fct_nps_daily"
        " where store_id = ? and date_day between ? and ? group by 1 having sum(count_responses) > 0"
        " order by 1",
        [view.store_id, view.date_from, view.date_to],
    )
    return [int(n) for _, n in rows]


def touchpoint_ratings(serving: Path, view: View) -> dict[str, int]:
    """English touchpoint name -> countable ratings by response day (the Overview's CSAT)."""
    rows = query(
        serving,
        "select t.touchpoint_name_en, count(*) from marts.fct_touchpoint_ratings as r"
        " join marts.dim_touchpoint as t using (touchpoint_id) where r.is_countable"
        " and r.csat_score is not null and r.store_id = ? and r.response_date between ? and ?"
        " group by 1",
        [view.store_id, view.date_from, view.date_to],
    )
    return {name: int(n) for name, n in rows}


def answers(serving: Path, view: View, column: str = "store_id", value: str | None = None) -> int:
    ((n,),) = query(
        serving,
        f"select coalesce(sum(count_responses), 0) from marts.fct_nps_daily where {column} = ?"
        " and date_day between ? and ?",
        [value or view.store_id, view.date_from, view.date_to],
    )
    return int(n)


# --- the store manager's pages ---------------------------------------------------------------------
def test_overview_shows_no_score_of_the_few_answers_as_a_fact(manager, explorer_url, explorer_home, view):
    serving = explorer_home.serving
    open_page(manager, explorer_url, "overview", view.query)
    n = answers(serving, view)
    ((ces_n,),) = query(
        serving,
        "select coalesce(sum(count_ces), 0) from marts.fct_nps_daily where store_id = ?"
        " and date_day between ? and ?",
        [view.store_id, view.date_from, view.date_to],
    )
    ratings = touchpoint_ratings(serving, view)
    assert ratings and max(ratings.values()) < MINIMUM

    tiles = dict(metrics(manager))
    # Every tile stands for a small sample: none may show a number.
    assert set(tiles.values()) == {"—"}, tiles
    assert set(tiles) == {"NPS", "CES (1-7)", *(f"CSAT · {name}" for name in ratings)}
    manager.get_by_text(
        f"Too few responses to report an NPS (n = {n}; at least {MINIMUM} needed)."
    ).wait_for()
    captions = manager.locator('[data-testid="stCaptionContainer"]').all_inner_texts()
    expected_notes = [too_few(ces_n, "en"), *(too_few(count, "en") for count in ratings.values())]
    assert sorted(caption.strip() for caption in captions if "too few" in caption) == sorted(expected_notes)

    trend, _histogram, csat = chart_marks(manager)
    hollow_weeks = assert_scores_are_facts_only_over_enough(trend, "NPS", "Responses")
    assert sorted(note_counts(hollow_weeks, "Period").values()) == sorted(weekly_answers(serving, view))
    assert not any(mark.solid for mark in trend if "NPS" in mark.fields)
    hollow_bars = assert_scores_are_facts_only_over_enough(csat, "CSAT (top-2-box)", "Responses")
    assert note_counts(hollow_bars, "Touchpoint") == ratings


def test_leaderboard_places_no_store_and_shows_no_score_of_the_few_answers(
    manager, explorer_url, explorer_home, view
):
    serving = explorer_home.serving
    open_page(manager, explorer_url, "leaderboard", view.query)
    n = answers(serving, view)
    region_n = answers(serving, view, "region_id", view.region_id)
    ((chain_n,),) = query(
        serving,
        "select sum(count_responses) from marts.fct_nps_daily where date_day between ? and ?",
        [view.date_from, view.date_to],
    )
    name = store_label(
        query(serving, "select store_name from marts.dim_store where store_id = ?", [view.store_id])[0][0]
    )

    tiles = metrics(manager)
    own = [value for label, value in tiles if label.startswith("Your store")]
    assert own == ["—"]
    manager.get_by_text(f"n = {n}, too few", exact=True).first.wait_for()
    manager.get_by_text(f"too few responses (n = {n}) to place among").wait_for()
    # The region and the chain show a score only over enough answers, with the n it rests on.
    for prefix, count in (("Region", region_n), ("The chain", int(chain_n))):
        (value,) = [value for label, value in tiles if label.startswith(prefix)]
        assert (value == "—") == (count < MINIMUM), (prefix, value, count)
        caption = f"n = {count}, too few" if count < MINIMUM else f"n = {count:,}"
        assert manager.get_by_text(caption).count() >= 1, (prefix, caption)
    manager.get_by_text(f"No store has the {MINIMUM} responses a place needs.").wait_for()

    (trend,) = chart_marks(manager)  # no interval chart: nothing placed
    hollow = assert_scores_are_facts_only_over_enough(trend, "NPS", "Responses")
    assert sorted(note_counts(hollow, "Week").values()) == sorted(weekly_answers(serving, view))

    header, *rows = grid(manager)
    assert header == ["Store", "Store id", "Region", "Responses", "Note"]  # no NPS column
    assert rows == [[name, view.store_id, rows[0][2], str(n), f"too few responses (n = {n})"]]


def test_journey_cards_stages_and_stores_say_too_few(manager, explorer_url, explorer_home, view):
    serving = explorer_home.serving
    open_page(manager, explorer_url, "journey", view.query)
    ratings = dict(
        query(
            serving,
            "with ratings as (unpivot (select columns('^csat_') from marts.fct_journeys"
            " where is_countable_response and store_id = ? and journey_date between ? and ?)"
            " on columns('^csat_') into name touchpoint_column value csat)"
            " select t.touchpoint_name_en, count(*) from ratings"
            " join marts.dim_touchpoint as t on 'csat_' || t.touchpoint_id = touchpoint_column group by 1",
            [view.store_id, view.date_from, view.date_to],
        )
    )
    assert ratings and max(ratings.values()) < MINIMUM

    cards = {label: value for label, value in metrics(manager)}
    assert cards == {name: too_few(count, "en") for name, count in ratings.items()}
    assert manager.get_by_text(re.compile(r"NPS -?\d+\.\d \(95% CI")).count() == 0  # no stage NPS
    stage_lines = manager.get_by_text(re.compile(r"^(Satisfied with this stage|Not satisfied with it): "))
    assert stage_lines.count() > 0
    assert all(", too few, no NPS" in line for line in stage_lines.all_inner_texts())
    manager.get_by_text(
        f"Too few ratings in every stage to draw the curve (at least {MINIMUM} per stage)."
    ).wait_for()
    manager.get_by_text(re.compile(r"^Too few responses to plot \(fewer than \d+\): ")).wait_for()
    for marks in chart_marks(manager):  # the invitation funnel counts purchases, no score
        assert not any(mark.role in ("point", "circle") for mark in marks)

    header, *rows = grid(manager)
    row = dict(zip(header, rows[0], strict=False))
    assert n_of(row["Ratings"]) < MINIMUM
    assert row["CSAT (top-2-box) (%)"] == "" and row["Mean CSAT (1-5)"] == ""
    assert row["Enough responses to report"] == "No"


def test_voice_charts_draw_the_few_reviews_hollow(manager, explorer_url, explorer_home, view):
    open_page(manager, explorer_url, "voice", view.query)
    reviews = _reviews_in_view(explorer_home.serving, view)
    # The weekly trend's marks name the side ("Reviews of"), the benchmark's the aspect; hollow
    # marks carry no share, so the charts are told apart by those fields.
    drawn = chart_marks(manager)
    (trend,) = [marks for marks in drawn if any("Reviews of" in m.fields for m in marks)]
    (benchmark,) = [marks for marks in drawn if any("Aspect" in m.fields for m in marks)]
    hollow = assert_scores_are_facts_only_over_enough(trend, "Share negative", "Reviews")
    ours = [mark for mark in hollow if mark.fields.get("Reviews of") == "Our brand"]
    assert [n_of(re.search(r"n = (\d+)", mark.fields["Note"])[1]) for mark in ours] == [reviews]
    assert assert_scores_are_facts_only_over_enough(benchmark, "Share positive", "Reviews")


def _reviews_in_view(serving: Path, view: View) -> int:
    ((reviews,),) = query(
        serving,
        "select count(*) from marts.fct_reviews where not is_competitor and store_id = ?"
        " and posted_date between ? and ?",
        [view.store_id, view.date_from, view.date_to],
    )
    assert 0 < reviews < MINIMUM
    return int(reviews)


def test_voice_headline_shares_of_the_few_reviews_are_not_facts(manager, explorer_url, explorer_home, view):
    reviews = _reviews_in_view(explorer_home.serving, view)
    open_page(manager, explorer_url, "voice", view.query)
    tiles = dict(metrics(manager))
    assert n_of(tiles["Our reviews"]) == reviews
    for label in ("Share negative", "Stars disagree with text"):
        assert not re.search(r"\d", tiles[label]), f"{label}: {tiles[label]} over {reviews} reviews"


def test_feedback_lists_answers_one_by_one_and_computes_nothing(manager, explorer_url, view):
    open_page(manager, explorer_url, "feedback", view.query)
    manager.get_by_role("heading", name="Feedback").first.wait_for()
    assert manager.locator(METRIC).count() == 0
    assert manager.locator(CHARTS).count() == 0


# --- the director's pages --------------------------------------------------------------------------
def test_director_leaderboard_places_only_stores_with_enough_answers(director, explorer_url, explorer_home):
    open_page(director, explorer_url, "leaderboard")  # the default period: the demo's whole range
    rows = query(
        explorer_home.serving,
        "select s.store_name, sum(d.count_responses) from marts.fct_nps_daily as d"
        " join marts.dim_store as s using (store_id) group by 1",
        [],
    )
    enough = {store_label(name) for name, n in rows if n >= MINIMUM}
    few = {store_label(name) for name, n in rows if 0 < n < MINIMUM}
    assert enough and few  # both kinds, or the check proves nothing

    (intervals,) = chart_marks(director)
    points = [mark for mark in intervals if mark.role == "point"]
    assert all(mark.solid for mark in points)
    assert_scores_are_facts_only_over_enough(points, "NPS", "Responses")
    drawn = {re.sub(r" \(flagged\)$", "", mark.fields["Store"]) for mark in points}
    assert drawn - {"The chain (all stores)"} == enough
    header, *shown = grid(director, 1)  # the stores too few to place: their n, no NPS
    assert header == ["Store", "Store id", "Region", "Responses", "Note"]
    assert shown and all(row[0] in few and n_of(row[3]) < MINIMUM for row in shown)


def test_director_loop_compares_no_recovery_over_too_few_detractors(director, explorer_url, explorer_home):
    open_page(director, explorer_url, "loop")
    ((judged,),) = query(
        explorer_home.serving,
        "select coalesce(min(count_judged_30d), 0) from marts.mart_case_recovery_summary"
        " where grain = 'chain'",
        [],
    )
    if judged < MINIMUM:
        director.get_by_text("Too few detractors can be judged at 30 days yet").wait_for()
        assert director.get_by_text(re.compile(r"came back within 30 days \d")).count() == 0


def test_director_integrity_shows_no_nps_of_too_few_answers(director, explorer_url, explorer_home):
    open_page(director, explorer_url, "integrity")
    for label, value in metrics(director):
        n = n_of(re.search(r"n = ([\d,]+)", label)[1])
        assert n >= MINIMUM or value == "—", f"{label}: {value}"
    # Every table with a score beside its count (stores, the chosen store's staff) leaves the
    # score out over too few answers; the stores table is one of them.
    director.locator(GRID).first.wait_for(state="attached")  # the grids attach their tables late
    tables = [grid(director, index) for index in range(director.locator(GRID).count())]
    scored = [table for table in tables if "Responses" in table[0] and "NPS" in table[0]]
    assert scored, [table[0] for table in tables]
    for header, *rows in scored:
        for row in rows:
            cells = dict(zip(header, row, strict=False))
            if n_of(cells["Responses"]) < MINIMUM:
                assert cells["NPS"] == "", f"{row[:2]}: NPS {cells['NPS']} over {cells['Responses']}"
