"""The explorer's pages under Streamlit's AppTest, on the fixture serving copy."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

APP_DIR = Path(__file__).resolve().parents[2] / "streamlit_app"
ENTRY = APP_DIR / "app.py"
OVERVIEW = APP_DIR / "views" / "overview.py"
PAGES = sorted((APP_DIR / "views").glob("*.py"))
TIMEOUT_SECONDS = 30


@pytest.fixture
def run(sign_in_as):
    """Runs a script signed in as the admin, whose role opens every page."""

    def run_signed_in(script: Path) -> AppTest:
        return sign_in_as(AppTest.from_file(str(script), default_timeout=TIMEOUT_SECONDS), "admin").run()

    return run_signed_in


def markdown_texts(at: AppTest) -> list[str]:
    return [element.value for element in at.markdown]


@pytest.mark.parametrize("page", PAGES, ids=[page.name for page in PAGES])
def test_every_page_renders_without_an_exception(serving_home, page, run):
    at = run(page)
    assert not at.exception


def test_the_entry_point_opens_the_overview(serving_home, run):
    at = run(ENTRY)
    assert not at.exception
    assert at.title[0].value == "Overview"
    assert at.metric[0].value == "12.5"


def test_overview_shows_the_nps_with_its_interval(serving_home, run):
    at = run(OVERVIEW)
    assert not at.exception
    assert at.metric[0].label == "NPS"
    assert at.metric[0].value == "12.5"  # 17 promoters, 12 detractors of 40
    assert "NPS 12.5 (95% CI -13.3 – 36.6), n = 40" in markdown_texts(at)
    assert len(at.get("vega_lite_chart")) == 3


def test_overview_says_too_few_responses_below_the_minimum(serving_home, run):
    at = run(OVERVIEW)
    at.multiselect(key="filter_stores").select("S001").run()
    assert not at.exception
    assert at.metric[0].value == "—"
    assert any("Too few responses" in text and "n = 20" in text for text in markdown_texts(at))


def test_overview_speaks_chinese_when_asked(serving_home, run):
    at = run(OVERVIEW)
    at.selectbox(key="lang").select("zh").run()
    assert not at.exception
    assert at.title[0].value == "概览"
    assert "NPS 12.5（95% 置信区间 -13.3 – 36.6），n = 40" in markdown_texts(at)


def test_overview_without_responses_says_no_data_found(empty_serving_home, run):
    at = run(OVERVIEW)
    assert not at.exception
    assert [info.value for info in at.info] == ["No data found"]
    assert len(at.metric) == 0


def test_overview_before_the_first_publish_says_how_to_get_data(missing_serving_home, run):
    at = run(OVERVIEW)
    assert not at.exception
    assert "cxlake run" in at.warning[0].value
    assert "make demo" in at.warning[0].value
