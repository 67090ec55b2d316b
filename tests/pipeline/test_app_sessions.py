"""The app's events on the demo build: sessions cut by inactivity on corrected clocks, every app order
found as an ordered session, re-sent events loaded once, and the planted payment-page error visible
as a drop in the funnel and a dip in the App touchpoint's CSAT."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import duckdb
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from cxlake.access.accounts import Accounts
from cxlake.app_state import AppState
from streamlit_app.session import KEY_TOKEN

GAP_SECONDS = 30 * 60


@pytest.fixture(scope="module")
def warehouse(demo_build):
    assert demo_build.run_success
    with duckdb.connect(str(demo_build.warehouse), read_only=True) as connection:
        yield connection


@pytest.fixture(scope="module")
def planted(demo_build) -> dict:
    truth = json.loads((demo_build.landing / "truth.json").read_text(encoding="utf-8"))
    return truth["planted"]["app_error"]


def one(connection, sql: str, params=()):
    return connection.execute(sql, list(params)).fetchone()


def test_each_app_order_is_one_ordered_session_and_no_other_order_is(warehouse):
    app_orders, ordered, other_channels, twice = one(
        warehouse,
        """
        select
            (select count(*) from marts.fct_transactions where channel = 'app'),
            (select count(*) from marts.fct_app_sessions where is_ordered),
            (select count(*) from marts.fct_app_sessions as s join marts.fct_transactions as t
                on t.transaction_id = s.journey_id where t.channel <> 'app'),
            (select count(*) from (select journey_id from marts.fct_app_sessions where is_ordered
                group by journey_id having count(*) > 1))
        """,
    )
    assert app_orders > 1000
    # the last day's late events (offline phones) arrive after the range and are not delivered
    assert 0.97 * app_orders <= ordered <= app_orders
    assert (other_channels, twice) == (0, 0)


def test_sessions_of_a_device_are_more_than_half_an_hour_apart_and_never_overlap(warehouse):
    sessions, too_close = one(
        warehouse,
        f"""
        with ordered as (
            select device_pseudonym, started_at, ended_at,
                lag(ended_at) over (partition by device_pseudonym order by started_at) as previous_end
            from marts.fct_app_sessions
        )
        select count(*),
            count(*) filter (where date_diff('second', previous_end, started_at) <= {GAP_SECONDS})
        from ordered
        """,
    )
    assert sessions > 5000
    assert too_close == 0


def test_a_phone_hours_off_is_corrected_to_the_collectors_clock(warehouse):
    """Most events are received within 3 s of happening, so after correction a skewed phone's events
    sit within seconds of their receipt (all but its few flushed late, about 2% of sessions' tails)."""
    skewed_devices, events, within_seconds = one(
        warehouse,
        """
        with skewed as (
            select * from intermediate.int_app__events_clock_corrected where abs(clock_offset_seconds) >= 120
        )
        select count(distinct device_id), count(*),
            count(*) filter (where abs(date_diff('second', event_at, received_at)) <= 5)
        from skewed
        """,
    )
    assert skewed_devices > 20
    assert within_seconds >= 0.95 * events


def test_a_re_sent_event_loads_once_and_its_copies_wait_in_quarantine(warehouse):
    loaded, distinct, resent = one(
        warehouse,
        """
        select count(*), count(distinct event_id),
            (select count(*) from quarantine.app_events
             where _failed_expectations like '%event_id_repeated%'
                or _failed_expectations like '%event_loaded_before%')
        from raw.app_events
        """,
    )
    assert loaded == distinct
    assert resent > 0.003 * loaded


def test_the_planted_payment_error_shows_in_the_funnel_and_in_the_app_csat(warehouse, planted):
    start = date.fromisoformat(planted["start_date"])
    before, after = (
        one(
            warehouse,
            f"""
            select sum(count_sessions_ordered) / sum(count_sessions_payment),
                sum(count_sessions_payment_error)
            from marts.mart_app_funnel_daily where date_day {comparison} ?
            """,
            [start],
        )
        for comparison in ("<", ">=")
    )
    assert before[1] == 0  # no payment errors before the planted start
    assert after[1] > 50
    assert after[0] < before[0] - 0.08  # conversion at the payment page drops visibly
    errored, clean = (
        one(
            warehouse,
            f"""
            select avg(j.csat_app), count(j.csat_app)
            from marts.fct_app_sessions as s join marts.fct_journeys as j on j.journey_id = s.journey_id
            where s.is_ordered and s.session_date >= ? and s.count_payment_errors {comparison} 0
            """,
            [start],
        )
        for comparison in (">", "=")
    )
    assert errored[1] >= 15 and clean[1] >= 30  # the demo: 21 rated errored orders, 155 others
    assert errored[0] < clean[0] - 0.5  # the app's CSAT is lower where the payment page failed


JOURNEY = Path(__file__).resolve().parents[2] / "streamlit_app" / "views" / "journey.py"
PASSWORD = "a long app-sessions-test password"


@pytest.fixture
def journey_page(demo_build, monkeypatch):
    """``journey_page(role, scope_id)``: the Journey page run on the demo build's serving copy by a
    fresh account of that role."""
    monkeypatch.setenv("CXLAKE_HOME", str(demo_build.home))
    st.cache_data.clear()
    st.cache_resource.clear()
    accounts = Accounts(AppState(demo_build.home / "app_state.sqlite"))

    def run(role: str, scope_id: str | None = None) -> AppTest:
        name = f"app_{role}"
        accounts.reset(name, role, PASSWORD, scope_id)
        at = AppTest.from_file(str(JOURNEY), default_timeout=90)
        at.session_state[KEY_TOKEN] = accounts.sign_in(name, PASSWORD).token
        at.run()
        assert not at.exception, at.exception
        return at

    yield run
    st.cache_data.clear()
    st.cache_resource.clear()


def app_summary(at: AppTest) -> str:
    return next(element.value for element in at.markdown if "app sessions;" in element.value)


def test_the_journey_page_shows_the_app_steps_of_each_users_scope(journey_page, demo_build):
    with duckdb.connect(str(demo_build.serving), read_only=True) as serving:
        chain_sessions, store_id, store_sessions = serving.execute(
            """
            with stores as (select store_id, sum(count_sessions) as sessions
                            from marts.mart_app_funnel_daily group by store_id)
            select (select sum(sessions) from stores), arg_max(store_id, sessions), max(sessions) from stores
            """
        ).fetchone()
    director = app_summary(journey_page("cx_director"))
    assert director.startswith(f"{int(chain_sessions):,} app sessions;")
    manager = app_summary(journey_page("store_manager", store_id))
    assert manager.startswith(f"{int(store_sessions):,} app sessions;")
    assert int(store_sessions) < int(chain_sessions)
