"""The frontline marts on the 45-day chain (tests/conftest.py ``chain_build``) find the generator's
named staff: fct_staff_mentions recovers the mentions truth.json lists (which staff member, praise
or complaint), and the planted praised and coached baristas stand out on the Insights page of their
store's manager, who reads their names as the roster writes them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from cxlake.access.accounts import Accounts
from cxlake.app_state import AppState
from streamlit_app.session import KEY_TOKEN

INSIGHTS = Path(__file__).resolve().parents[2] / "streamlit_app" / "views" / "insights.py"
PASSWORD = "a long frontline-test password"


@pytest.fixture(scope="module")
def chain(chain_build):
    assert chain_build.success
    truth = json.loads((chain_build.landing / "truth.json").read_text("utf-8"))
    with duckdb.connect(str(chain_build.serving), read_only=True) as connection:
        mentions = connection.execute(
            "select response_key, staff_id, mention_sentiment from marts.fct_staff_mentions"
        ).fetchall()
        mart = connection.execute(
            "select * from marts.mart_frontline_staff where touchpoint_id = 'staff'"
        ).df()
        responses = {
            key
            for (key,) in connection.execute("select response_key from marts.fct_survey_responses").fetchall()
        }
    return truth["planted"]["frontline"], mentions, mart, responses


def test_the_mentions_mart_recovers_the_named_staff(chain):
    frontline, mentions, _, responses = chain
    planted = {
        (m["response_key"], m["staff_id"]): m["polarity"]
        for m in frontline["mentions"]
        if m["response_key"] in responses
    }
    found = {(key, staff): sentiment for key, staff, sentiment in mentions}
    assert len(planted) > 100
    recall = len(planted.keys() & found.keys()) / len(planted)
    precision = len(planted.keys() & found.keys()) / len(found)
    assert recall >= 0.85, recall  # a name written in traditional characters is not looked for
    assert precision >= 0.98, precision
    agreeing = sum(found[pair] == polarity for pair, polarity in planted.items() if pair in found)
    assert agreeing / len(planted.keys() & found.keys()) >= 0.9  # the text model's staff aspect


def test_the_planted_praised_and_coached_baristas_stand_out(chain):
    frontline, _, mart, _ = chain
    by_staff = mart.set_index("staff_id")
    praised, coached = (
        by_staff.loc[frontline["praised_staff_id"]],
        by_staff.loc[frontline["coached_staff_id"]],
    )
    store = mart[mart["store_id"] == frontline["store_id"]]
    assert praised["praise_mentions"] == store["praise_mentions"].max() > praised["complaint_mentions"]
    assert coached["complaint_mentions"] == store["complaint_mentions"].max() > coached["praise_mentions"]
    others = mart[~mart["staff_id"].isin([frontline["praised_staff_id"], frontline["coached_staff_id"]])]
    assert praised["praise_mentions"] > others["praise_mentions"].max()
    # a staff CSAT is shown only from the reportable n, and then with its interval
    shown = mart[mart["is_reportable"]]
    assert (shown["ci_low"] <= shown["csat_mean"]).all() and (shown["csat_mean"] <= shown["ci_high"]).all()
    assert mart.loc[~mart["is_reportable"], "csat_mean"].isna().all()


@pytest.fixture
def manager_page(chain_build, chain, tmp_path, monkeypatch):
    """The Insights page as the manager of the planted store, on a copy of the chain's serving copy."""
    frontline = chain[0]
    shutil.copyfile(chain_build.serving, tmp_path / "serving.duckdb")
    monkeypatch.setenv("CXLAKE_HOME", str(tmp_path))
    accounts = Accounts(AppState(tmp_path / "app_state.sqlite"))
    accounts.add("frontline_manager", "store_manager", PASSWORD, frontline["store_id"])
    st.cache_data.clear()
    st.cache_resource.clear()
    at = AppTest.from_file(str(INSIGHTS), default_timeout=90)
    at.session_state[KEY_TOKEN] = accounts.sign_in("frontline_manager", PASSWORD).token
    yield at.run()
    st.cache_data.clear()
    st.cache_resource.clear()


def test_the_store_manager_sees_the_praised_and_the_coached_barista(manager_page, chain):
    frontline, _, mart, _ = chain
    at = manager_page
    assert not at.exception, at.exception
    (tab,) = [tab for tab in at.tabs if tab.label == "Frontline"]
    rows = {row["Staff id"]: row for row in tab.dataframe[0].value.to_dict("records")}
    store_staff = mart[mart["store_id"] == frontline["store_id"]]
    assert set(rows) == set(store_staff["staff_id"])  # only their store's staff
    praised, coached = rows[frontline["praised_staff_id"]], rows[frontline["coached_staff_id"]]
    assert praised["Praise"] > praised["Complaints"] and coached["Complaints"] > coached["Praise"]
    names = dict(zip(store_staff["staff_id"], store_staff["staff_name"], strict=True))
    assert praised["Staff member"] == names[frontline["praised_staff_id"]]  # unmasked for the manager
