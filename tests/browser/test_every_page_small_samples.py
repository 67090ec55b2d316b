"""Every page of the explorer, as a store manager and as the CX director, on a period where most
scores rest on a handful of answers: no value below the reportable n is shown as a fact (issue 14).

test_small_samples_in_chromium.py checks named figures page by page; this module sweeps what every
page draws, tab by tab, with its "Show data" folds open, and every CSV its download buttons serve
(fetched through chromium's own downloads). One rule is read back from the DOM and the files:

- a chart mark over fewer than min_responses answers is hollow, its tooltip "n = 4, too few";
- what a screen reader hears of such a mark (its aria-label), or of its "n = 4, too few" label,
  names the mark and its n, never its score;
- a table row (on screen or downloaded) whose count is below min_responses shows no score as a
  number, unless the row itself says so ("Enough responses to report: No", "n = 4, too few");
- a keyword of the word cloud over too few reviews says so instead of its share.

Both roles reuse the module's one server (tests/browser/conftest.py) and one signed-in page each.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import test_small_samples_in_chromium as small_samples
from playwright.sync_api import Locator, Page
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from test_explorer_in_chromium import IDLE_APP, TIMEOUT_MS, wait_until_drawn
from test_small_samples_in_chromium import CHARTS, GRID_JS, MARKS_JS, MINIMUM, NAV, query

from streamlit_app.labels import store_label

# The headers a table names the n of its row's scores with, and the headers of scores resting on it.
COUNT_HEADERS = ("Responses", "Ratings", "Reviews", "Answers", "Members")
SCORE_HEADER = re.compile(r"NPS|CSAT|Share|Mean|Average|Better|Worse|Top-2-box|R²|rate", re.IGNORECASE)
# Where a row says its score is not a fact: a yes/no column, or a cell with the too-few note.
REPORTABLE_HEADERS = ("Enough responses to report", "Reportable")
TOO_FEW_CELL = re.compile(r"n = [\d,]+, too few|too few responses")
# Integrity's share of each score (or delay) among one side's answers: a distribution, its count
# column each bar's own count, not the n of a score (the side's n stands in the caption above it).
DISTRIBUTION = "Whose answers"
# The pages a role's navigation lists, so a page added later is swept without touching this file.
NAV_KEYS_JS = "(links) => links.map((link) => new URL(link.href).pathname.split('/').pop())"
# test_explorer_in_chromium's wait_until_drawn within one panel: charts in a tab not shown are not
# drawn until it is.
PANEL_DRAWN = """(panel) => panel.querySelectorAll('[data-testid="stSkeleton"]').length === 0
    && Array.from(panel.querySelectorAll('[data-testid="stVegaLiteChart"]'))
        .filter((chart) => chart.offsetParent !== null)
        .every((chart) => chart.querySelector('canvas, svg'))"""
# The other module's signed-in pages and short period, one of each per module here too.
manager, director, view = small_samples.manager, small_samples.director, small_samples.view
# A page's first run in a server process (its queries not cached yet) on two busy CI cores.
PAGE_LOAD_MS = 90_000
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-results" / "browser" / "every_page"
CLOUD_WORDS = '[data-testid="stHtml"] span[title]'
TOOLTIP = "#vg-tooltip-element"
# Every mark of any kind (points, bars, text labels) that is hollow or says it rests on too few
# answers, with what a screen reader hears of it.
TOO_FEW_MARKS_JS = """(charts) => charts.flatMap((chart) => Array.from(
        chart.querySelectorAll('[aria-roledescription][aria-label]'))
    .filter((mark) => mark.getAttribute('fill') === 'transparent'
        || /too few/.test(mark.getAttribute('aria-label')))
    .map((mark) => ({role: mark.getAttribute('aria-roledescription'),
                     label: mark.getAttribute('aria-label')})))"""
# A share or mean written out: "41.7%", "0.85".
WRITTEN_VALUE = re.compile(r"\d+\.\d+|\d+%")


@dataclass
class Sweep:
    """What one page drew, every tab and fold open: marks, tables and downloaded CSV files."""

    page: str
    marks: list[list[dict[str, str]]] = field(default_factory=list)
    grids: list[list[list[str]]] = field(default_factory=list)
    files: dict[str, list[list[str]]] = field(default_factory=dict)
    cloud: list[str] = field(default_factory=list)
    too_few: list[dict[str, str]] = field(default_factory=list)


def nav_keys(page: Page) -> list[str]:
    return page.locator(NAV).evaluate_all(NAV_KEYS_JS)


def _drawn(page: Page, panel: Locator) -> None:
    page.locator(IDLE_APP).wait_for()
    page.wait_for_function(PANEL_DRAWN, arg=panel.element_handle(), timeout=TIMEOUT_MS)


def sweep(page: Page, url: str, key: str, link_query: str) -> Sweep:
    """Open ``key`` with ``link_query``, then each of its tabs in turn, every fold open, and read back
    what is drawn and what each "Download CSV" button serves."""
    page.goto(f"{url}/{key}" + (f"?{link_query}" if link_query else ""))
    try:
        page.locator(NAV).first.wait_for(timeout=PAGE_LOAD_MS)
        page.locator(IDLE_APP).wait_for(timeout=PAGE_LOAD_MS)
    except PlaywrightTimeoutError:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SCREENSHOTS / f"{key}.png", full_page=True)
        pytest.fail(f"/{key}?{link_query} did not finish drawing; screenshot in {SCREENSHOTS}")
    found = Sweep(key)
    tabs = page.get_by_role("tab")
    panels = [None] if tabs.count() == 0 else list(range(tabs.count()))
    for index in panels:
        if index is None:
            panel = page.locator('[data-testid="stMain"]')
        else:
            tabs.nth(index).click()
            panel = page.locator('[role="tabpanel"]:visible')
        _drawn(page, panel)
        folded = panel.locator('[data-testid="stExpander"] details:not([open]) summary')
        while folded.count():
            folded.first.click()
        _drawn(page, panel)
        for grid in panel.locator('[data-testid="stDataFrame"]').all():
            table = grid.locator("table")
            table.wait_for(state="attached")
            found.grids.append(table.evaluate(GRID_JS))
        found.marks += panel.locator(CHARTS).evaluate_all(MARKS_JS)
        found.too_few += panel.locator(CHARTS).evaluate_all(TOO_FEW_MARKS_JS)
        found.cloud += [word.get_attribute("title") or "" for word in panel.locator(CLOUD_WORDS).all()]
        for button in panel.locator('[data-testid="stDownloadButton"] button', has_text="CSV").all():
            with page.expect_download() as download:
                button.click()
            served = download.value
            text = Path(served.path()).read_text(encoding="utf-8-sig")
            found.files[served.suggested_filename] = list(csv.reader(io.StringIO(text)))
    return found


def _number(cell: str) -> bool:
    try:
        float(cell.replace(",", "").rstrip("%"))
    except ValueError:
        return False
    return True


def table_facts_over_too_few(rows: list[list[str]]) -> list[str]:
    """Rows of one table that show a score as a number over fewer than MINIMUM answers without
    saying so; the table's first count column is the n its scores rest on."""
    if not rows:
        return []
    header, *body = rows
    counts = [i for i, name in enumerate(header) if name in COUNT_HEADERS]
    if not counts or DISTRIBUTION in header:
        return []
    scores = [i for i, name in enumerate(header) if SCORE_HEADER.search(name) and i not in counts]
    marks = [i for i, name in enumerate(header) if name in REPORTABLE_HEADERS]
    wrong = []
    for row in body:
        n = row[counts[0]].replace(",", "")
        if not n.isdigit() or int(n) >= MINIMUM:
            continue
        if any(row[i] == "No" for i in marks) or any(TOO_FEW_CELL.search(cell) for cell in row):
            continue
        shown = {header[i]: row[i] for i in scores if _number(row[i])}
        if shown:
            wrong.append(f"{header[counts[0]]} {n}: {shown} in {dict(zip(header, row, strict=False))}")
    return wrong


def marks_over_too_few(charts: list[list[dict[str, str]]]) -> list[str]:
    """Solid marks whose own count is below MINIMUM (a score drawn as a fact), and hollow marks
    without the "n = 4, too few" note."""
    wrong = []
    for chart in charts:
        for mark in chart:
            fields = dict(
                part.split(": ", 1) for part in mark["label"].split("; ") if ": " in part
            )  # "Period: Mar 02, 2026; NPS: 41.7; Note: n = 12, too few"
            if DISTRIBUTION in fields:
                continue
            solid = mark["fill"] not in ("transparent", "none", None)
            scored = any(SCORE_HEADER.search(name) for name in fields)
            counts = [fields[name] for name in COUNT_HEADERS if name in fields]
            if solid and scored and counts and int(counts[0].replace(",", "")) < MINIMUM:
                wrong.append(f"solid {mark['role']} over too few: {mark['label']}")
            if not solid and scored and not TOO_FEW_CELL.fullmatch(fields.get("Note", "")):
                wrong.append(f"hollow {mark['role']} without its note: {mark['label']}")
    return wrong


def described_with_a_value(marks: list[dict[str, str]]) -> list[str]:
    """Hollow or "too few" marks whose aria-label still names a score or count field, or writes a
    share or mean out ("NPS: 100", "CSAT (top-2-box): 100%"): the screen reader must hear what the
    eye sees, the mark and "n = 4, too few"."""
    wrong = []
    for mark in marks:
        fields = dict(part.split(": ", 1) for part in mark["label"].split("; ") if ": " in part)
        named = [name for name in fields if SCORE_HEADER.search(name) or name in COUNT_HEADERS]
        written = [value for name, value in fields.items() if name != "Note" and WRITTEN_VALUE.search(value)]
        if named or written or not TOO_FEW_CELL.search(mark["label"]):
            wrong.append(f"{mark['role']} described as {mark['label']!r}")
    return wrong


def cloud_over_too_few(words: list[str]) -> list[str]:
    """Word-cloud tooltips ("咖啡 · reviews: 10 · negative: 40%") giving a share over too few reviews."""
    wrong = []
    for title in words:
        counted = re.search(r"reviews: ([\d,]+)", title)
        if "%" in title and (not counted or int(counted[1].replace(",", "")) < MINIMUM):
            wrong.append(title)
    return wrong


def facts_over_too_few(found: Sweep) -> list[str]:
    wrong = [f"{found.page} chart: {line}" for line in marks_over_too_few(found.marks)]
    wrong += [f"{found.page} cloud: {line}" for line in cloud_over_too_few(found.cloud)]
    wrong += [f"{found.page} screen reader: {line}" for line in described_with_a_value(found.too_few)]
    for number, rows in enumerate(found.grids):
        wrong += [f"{found.page} table {number}: {line}" for line in table_facts_over_too_few(rows)]
    for name, rows in found.files.items():
        wrong += [f"{found.page} download {name}: {line}" for line in table_facts_over_too_few(rows)]
    return wrong


@pytest.fixture(scope="module")
def small_store(explorer_home) -> str:
    """A store with answers but fewer than MINIMUM over the whole build: the director's Integrity
    evidence is opened on it (the page reads the whole range, so a short period cannot shrink it)."""
    ((store_id,),) = query(
        explorer_home.serving,
        "select store_id from marts.fct_survey_responses where is_countable group by store_id"
        " having count(*) < ? order by count(*) desc, store_id limit 1",
        [MINIMUM],
    )
    return store_id


def _swept(page: Page, url: str, link_query: str, extra: dict[str, str] | None = None) -> Iterator[Sweep]:
    keys = nav_keys(page)
    assert {"overview", "leaderboard", "journey", "voice", "feedback", "insights"} <= set(keys), keys
    for key in keys:
        yield sweep(page, url, key, (extra or {}).get(key, link_query))


def _the_rule_was_exercised(swept: list[Sweep]) -> None:
    """The sweep saw small samples (hollow marks, marked rows, downloads), or it proved nothing."""
    files = [rows for found in swept for rows in found.files.values()]
    marked = [row for rows in files for row in rows[1:] if "No" in row or TOO_FEW_CELL.search(",".join(row))]
    hollow = [m for found in swept for chart in found.marks for m in chart if m["fill"] == "transparent"]
    described = [mark for found in swept for mark in found.too_few]
    assert len(files) >= 10 and marked and hollow and described, (
        len(files), len(marked), len(hollow), len(described),
    )  # fmt: skip


def test_store_manager_sees_no_fact_over_too_few_answers_on_any_page(manager, explorer_url, view):
    swept = list(_swept(manager, explorer_url, view.query))
    _the_rule_was_exercised(swept)
    wrong = [line for found in swept for line in facts_over_too_few(found)]
    assert not wrong, "\n".join(wrong)


def test_director_sees_no_fact_over_too_few_answers_on_any_page(director, explorer_url, view, small_store):
    # The manager's store over the short period: every filtered page works on a small sample. The
    # pages that read the whole build (Integrity, Loop, Insights) are opened as they are, Integrity's
    # evidence on a store with too few answers.
    store_query = f"{view.query}&store={view.store_id}"
    swept = list(_swept(director, explorer_url, store_query, {"integrity": f"store={small_store}"}))
    (integrity,) = [found for found in swept if found.page == "integrity"]
    (measures,) = [rows for rows in integrity.grids if rows and rows[0][:2] == ["Measure", "This store (%)"]]
    assert [row[1] for row in measures[1:]] == ["", "", ""], f"{small_store}'s shares over too few answers"
    assert "loop" in {found.page for found in swept}
    _the_rule_was_exercised(swept)
    wrong = [line for found in swept for line in facts_over_too_few(found)]
    assert not wrong, "\n".join(wrong)


def test_hovering_a_hollow_mark_says_too_few_and_shows_no_score(manager, explorer_url, view):
    """What the reader sees on hover (vega-tooltip's box) of each hollow point and bar, and that a
    screen reader hears the same words (the mark's aria-label), neither with a score."""
    manager.goto(f"{explorer_url}/overview?{view.query}")
    wait_until_drawn(manager)
    hollow = manager.locator(f'{CHARTS} [aria-roledescription][fill="transparent"]')
    roles = set()
    for index in range(hollow.count()):
        mark = hollow.nth(index)
        roles.add(mark.get_attribute("aria-roledescription"))
        mark.hover(force=True)
        tooltip = manager.locator(TOOLTIP)
        tooltip.wait_for(state="visible")
        said = tooltip.inner_text()
        assert re.search(r"n = \d+, too few", said), said
        assert not re.search(r"\d+(\.\d+)?%|NPS|CSAT", said), f"a score over too few answers on hover: {said}"
        # "Touchpoint\t\nApp\n\nNote\t\nn = 7, too few" -> the label's "Touchpoint: App; Note: ..."
        shown = "; ".join(
            f"{key.strip()}: {value.strip()}" for key, value in re.findall(r"([^\n]+)\t\n([^\n]+)", said)
        )
        assert mark.get_attribute("aria-label") == shown
        manager.mouse.move(0, 0)
    assert roles == {"point", "bar"}, roles  # the weekly trend's points and the CSAT bars


def test_store_manager_sees_their_place_among_peers(manager, explorer_url, explorer_home):
    """Over the default period (the whole demo) the manager's store has enough answers to be placed:
    the page says its tier and the places it could hold among the other stores, never "1 of 1"."""
    manager.goto(f"{explorer_url}/leaderboard")
    wait_until_drawn(manager)
    rows = query(
        explorer_home.serving,
        "select store_id, count(*) from marts.fct_survey_responses where is_countable group by store_id",
        [],
    )
    placed = {store for store, n in rows if n >= MINIMUM}
    assert explorer_home.store_id in placed and len(placed) > 1
    ((name,),) = query(
        explorer_home.serving,
        "select store_name from marts.dim_store where store_id = ?",
        [explorer_home.store_id],
    )
    name = store_label(name)
    sentence = manager.get_by_text(re.compile(rf"^{re.escape(name)}: .* could rank "))
    sentence.wait_for()
    said = sentence.inner_text()
    shown = re.search(r"could rank (\d+)\w*(?:–(\d+)\w*)? of the (\d+) stores", said)
    assert shown, said
    best, worst, count = int(shown[1]), int(shown[2] or shown[1]), int(shown[3])
    assert count == len(placed) > 1 and 1 <= best <= worst <= count, said
    assert not re.search(r"\b1\w* of 1\b", said)
    assert re.search(r"[Tt]ier", said), said
    tiles = dict(small_samples.metrics(manager))
    own = [value for label, value in tiles.items() if label.startswith("Your store")]
    assert len(own) == 1 and re.fullmatch(r"-?\d+\.\d", own[0]), tiles
    assert [label.split(" ")[0] for label in tiles] == ["Your", "Region", "The"], tiles
