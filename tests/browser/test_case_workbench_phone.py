"""The case workbench on a phone: a store manager follows a message's link to a case on a 390 px
wide screen and reads the score, the comment and the phone number without scrolling sideways.

The server and the demo copy are tests/browser/conftest.py's; the case is opened here by the real
CaseStore with the shipped alert rules from a real fct_feedback_items row of the manager's store
(its time moved to just now, so the case is live), and the expected phone number comes from the
serving copy's dim_customer with DuckDB.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from playwright.sync_api import Browser, Locator
from test_explorer_in_chromium import PHONE, new_page, sign_in, wait_until_drawn

from cxlake.alerts.cases import CaseStore
from cxlake.alerts.config import load_alert_config
from cxlake.app_state import AppState

DETAIL = ".st-key-case_detail"


@dataclass(frozen=True)
class PhoneCase:
    case_id: str
    score: int
    comment: str
    phone: str


@pytest.fixture(scope="module")
def phone_case(explorer_home) -> PhoneCase:
    """A live case of the manager's store: its lowest-scored member response with the longest comment."""
    with duckdb.connect(str(explorer_home.serving), read_only=True) as connection:
        cursor = connection.execute(
            "select i.*, c.phone from marts.fct_feedback_items as i"
            " join marts.dim_customer as c on c.customer_id = i.customer_id"
            " where i.store_id = ? and i.source = 'survey' and i.nps_score <= 6 and length(i.text) > 0"
            " and c.phone is not null order by i.nps_score, length(i.text) desc, i.feedback_key limit 1",
            [explorer_home.store_id],
        )
        row = cursor.fetchone()
        item = dict(zip([column[0] for column in cursor.description], row, strict=True))
    assert item, f"the demo has no detractor with a comment in {explorer_home.store_id}"
    now = datetime.now(UTC)
    item["feedback_at"] = now - timedelta(minutes=20)
    store = CaseStore(AppState(explorer_home.path / "app_state.sqlite"))
    (case,) = store.open_cases([item], load_alert_config(), now).opened
    assert case.store_id == explorer_home.store_id and not case.is_historical
    return PhoneCase(case.case_id, int(item["nps_score"]), item["text"], item["phone"])


def box(locator: Locator) -> dict[str, float]:
    """The element's rectangle as the page lays it out (CSS pixels from the viewport's left edge)."""
    return locator.evaluate("(element) => element.getBoundingClientRect().toJSON()")


def test_a_store_manager_reads_a_case_on_a_phone_without_scrolling_sideways(
    chromium: Browser, explorer_url: str, explorer_home, phone_case: PhoneCase, screenshots: Path
):
    with new_page(chromium, PHONE) as page:
        sign_in(page, f"{explorer_url}/feedback?case={phone_case.case_id}", explorer_home.store_manager,
                explorer_home.password)  # fmt: skip
        detail = page.locator(DETAIL)
        detail.wait_for()
        wait_until_drawn(page)
        page.screenshot(path=screenshots / "1_case_on_a_phone.png", full_page=True)

        assert f"case={phone_case.case_id}" in page.url
        score = detail.get_by_text(f"Score {phone_case.score} / 10", exact=True).first
        comment = detail.locator('[data-testid="stText"]').filter(has_text=phone_case.comment).first
        phone = detail.locator(f'a[href="tel:{phone_case.phone}"]')
        shown = {
            name: element for name, element in (("score", score), ("comment", comment), ("phone", phone))
        }
        for element in shown.values():
            element.scroll_into_view_if_needed()
            assert element.is_visible()
        boxes = {name: box(element) for name, element in shown.items()}
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        page.screenshot(path=screenshots / "2_phone_number_in_view.png")
        assert phone.inner_text() == phone_case.phone
        assert comment.inner_text().strip() == phone_case.comment.strip()

    assert scroll_width <= PHONE["width"]
    for name, rectangle in boxes.items():
        assert rectangle["left"] >= 0 and rectangle["right"] <= PHONE["width"], (name, rectangle)
        assert rectangle["width"] > 0, name
