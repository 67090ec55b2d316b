"""The Journey page's invitation funnel: invited / suppressed by rule / answered, within the user's
scope, from marts.mart_invitation_funnel added to the conftest's serving copy.

Hand counts: S001 (R01) in_store on 2026-01-05: 20 purchases, 12 eligible, 4 invited, suppressed
8 guests, 5 quota, 2 recently invited, 1 same day; 2 answered. S003 (R02) delivery the same day:
10 purchases, 10 eligible, 3 invited, 7 quota, 1 answered.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from cxlake.invitations import RULES
from streamlit_app import data_access
from streamlit_app.data_access import Filters, Scope

PAGE = Path(__file__).resolve().parents[2] / "streamlit_app" / "views" / "journey.py"
RULE_COLUMNS = [f"count_suppressed_{rule}" for rule in RULES]
COLUMNS = ["count_transactions", "count_eligible", "count_invited", "count_suppressed", *RULE_COLUMNS]
S001 = {"count_transactions": 20, "count_eligible": 12, "count_invited": 4, "count_suppressed": 16,
        "count_suppressed_guest": 8, "count_suppressed_quota": 5, "count_suppressed_recently_invited": 2,
        "count_suppressed_same_day": 1, "count_responses": 2}  # fmt: skip
S003 = {"count_transactions": 10, "count_eligible": 10, "count_invited": 3, "count_suppressed": 7,
        "count_suppressed_quota": 7, "count_responses": 1}  # fmt: skip


@pytest.fixture
def funnel_home(serving_home: Path) -> Path:
    with duckdb.connect(str(serving_home / "serving.duckdb")) as connection:
        connection.execute(
            "create table marts.mart_invitation_funnel (date_day date, store_id varchar, region_id varchar,"
            " channel varchar, "
            + ", ".join(f"{c} bigint" for c in [*COLUMNS, "count_responses"])
            + ", response_rate double)"
        )
        for store, region, channel, counts in (
            ("S001", "R01", "in_store", S001),
            ("S003", "R02", "delivery", S003),
        ):
            values = [counts.get(c, 0) for c in [*COLUMNS, "count_responses"]]
            connection.execute(
                "insert into marts.mart_invitation_funnel values (?, ?, ?, ?, "
                + ", ".join("?" for _ in values)
                + ", ?)",
                [
                    date(2026, 1, 5),
                    store,
                    region,
                    channel,
                    *values,
                    counts["count_responses"] / counts["count_invited"],
                ],
            )
    return serving_home


def _steps(frame) -> dict[str, int]:
    return dict(zip(frame["step"], frame["count"], strict=True))


def test_the_funnel_sums_every_step_in_scope_and_nothing_outside_it(funnel_home):
    everything = _steps(data_access.invitation_funnel(Scope.everything(), Filters()))
    assert everything["transactions"] == 30 and everything["invited"] == 7 and everything["responses"] == 3
    assert everything["suppressed_quota"] == 12 and everything["suppressed_guest"] == 8
    assert everything["transactions"] == everything["invited"] + sum(
        everything[f"suppressed_{r}"] for r in RULES
    )
    store = _steps(data_access.invitation_funnel(Scope("store", ("S001",)), Filters()))
    assert store["transactions"] == 20 and store["suppressed_quota"] == 5 and store["responses"] == 2
    assert (
        _steps(data_access.invitation_funnel(Scope.everything(), Filters(channels=("delivery",))))["invited"]
        == 3
    )
    later = data_access.invitation_funnel(Scope.everything(), Filters(date_from=date(2026, 1, 6)))
    assert set(_steps(later).values()) == {0}


def test_a_serving_copy_without_the_mart_gives_an_empty_funnel(serving_home):
    assert data_access.invitation_funnel(Scope.everything(), Filters()).empty


def test_the_journey_page_shows_the_store_managers_funnel(funnel_home, sign_in_as):
    at = sign_in_as(AppTest.from_file(str(PAGE), default_timeout=30), "store_manager").run()
    assert not at.exception
    markdown = [m.value for m in at.markdown]
    assert (
        "4 of 12 eligible purchases invited (20 purchases in all); 2 answered: response rate 50.0%."
        in markdown
    )
    assert "Survey invitations: who was asked, who was spared, who answered" in [
        s.value for s in at.subheader
    ]


def test_a_selection_without_decisions_says_so(funnel_home, sign_in_as):
    at = sign_in_as(AppTest.from_file(str(PAGE), default_timeout=30), "regional_manager").run()
    assert not at.exception
    at.multiselect(key="filter_stores").select("S002").run()  # in R01, but no decisions
    assert "No invitation decisions for this selection yet." in [i.value for i in at.info]
