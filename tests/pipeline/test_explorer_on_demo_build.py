"""The explorer on the real published demo build: the NPS it shows is the one the raw rows give."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from cxlake.access.accounts import Accounts
from cxlake.app_state import AppState
from cxlake.metrics import nps_from_counts
from streamlit_app.session import KEY_TOKEN

OVERVIEW = Path(__file__).resolve().parents[2] / "streamlit_app" / "views" / "overview.py"
PASSWORD = "a long demo-test password"


@pytest.fixture
def demo_home(demo_build, monkeypatch):
    monkeypatch.setenv("CXLAKE_HOME", str(demo_build.home))
    st.cache_data.clear()
    st.cache_resource.clear()
    yield demo_build
    st.cache_data.clear()
    st.cache_resource.clear()


def test_overview_shows_the_demo_nps_for_the_fixed_seed(demo_home):
    """The number on the page equals the metric applied to the published countable responses."""
    with duckdb.connect(str(demo_home.serving), read_only=True) as connection:
        promoters, passives, detractors = connection.execute(
            """
            select count(*) filter (where nps_score >= 9),
                   count(*) filter (where nps_score between 7 and 8),
                   count(*) filter (where nps_score <= 6)
            from marts.fct_survey_responses
            where is_countable
            """
        ).fetchone()
    expected = nps_from_counts(promoters, passives, detractors)
    assert expected.n > 300

    accounts = Accounts(AppState(demo_home.home / "app_state.sqlite"))
    accounts.reset("director_e2e", "cx_director", PASSWORD)
    at = AppTest.from_file(str(OVERVIEW), default_timeout=60)
    at.session_state[KEY_TOKEN] = accounts.sign_in("director_e2e", PASSWORD).token
    at.run()
    assert not at.exception
    assert at.metric[0].value == f"{expected.nps:.1f}"
    assert any(f"n = {expected.n:,}" in element.value for element in at.markdown)
