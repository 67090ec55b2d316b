"""The Integrity page: the CX director's (and admin's) view of manufactured survey scores.

The conftest's serving copy gets the integrity marts with planted verdicts, and its answers the
suspect marks and delays after the sale (the detection asset's contract):
  S002 (R01, app) flagged for excess_tens, fast_after_sale: its two 10s (answers 0 and 6) suspect;
       NPS 16.7 with them (4 promoters, 2 detractors of 12), 0.0 without (2 and 2 of 10);
       delay: answer 1 at 1 min, answers 0, 2-5 at 3 min, answers 6-12 at 30 min
  S001 (R01, in_store) and S003 (R02, delivery) not flagged; S001's answers 45 min after the sale,
       S003's delivery-platform orders without a linked sale
  staff S002-E1 flagged (excess_tens); S001-E1, S002-E2, S003-E1 not
Stored in the order S001, S002, S003: the page must put the flagged store first itself.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pytest
from conftest import define_csat_daily, define_nps_daily
from streamlit.testing.v1 import AppTest
from test_no_raw_codes import chart_problems, table_problems

from cxlake.access.roles import Scope
from cxlake.integrity import rule_labels
from cxlake.metrics import settings
from streamlit_app import charts, data_access
from streamlit_app.data_access import integrity as integrity_reads
from streamlit_app.widgets import KEY_LANGUAGE

PAGE = Path(__file__).resolve().parents[2] / "streamlit_app" / "views" / "integrity.py"
NOT_AVAILABLE = "This page is not available for your role."
NO_MARTS = "The serving copy has no integrity data yet"

INTEGRITY_DDL = """
alter table marts.fct_survey_responses add column is_suspect boolean default false;
alter table marts.fct_survey_responses add column suspect_reason varchar;
alter table marts.fct_survey_responses add column minutes_after_sale double;
create table marts.mart_integrity_store (
    store_id varchar, store_name varchar, region_id varchar, responses bigint, suspect_responses bigint,
    integrity_score double, is_flagged boolean, reasons varchar, nps double, nps_excluding_suspect double,
    share_tens double, peer_share_tens double, share_fast_after_sale double,
    peer_share_fast_after_sale double, top_device_share double
);
create table marts.mart_integrity_staff (
    staff_id varchar, staff_name varchar, store_id varchar, responses bigint, suspect_responses bigint,
    integrity_score double, is_flagged boolean, reasons varchar, share_tens double,
    share_fast_after_sale double
);
"""
STORE_ROWS = [
    ("S001", "人民广场店", "R01", 20, 0, 0.95, False, "", 20.0, 20.0, 0.3, 0.214286, 0.0, 0.5, 0.1),
    ("S002", "徐家汇店", "R01", 12, 2, 0.02, True, "excess_tens,fast_after_sale", 16.666667, 0.0,
     0.166667, 0.25, 0.5, 0.0, 0.6),
    ("S003", "福田店", "R02", 8, 0, 0.9, False, "", -12.5, -12.5, 0.125, 0.269231, None, None, 0.2),
]  # fmt: skip
STAFF_ROWS = [
    ("S001-E1", "王芳", "S001", 20, 0, 0.97, False, "", 0.3, 0.0),
    ("S002-E1", "李强", "S002", 8, 2, 0.03, True, "excess_tens", 0.25, 0.75),
    ("S002-E2", "赵敏", "S002", 4, 0, 0.8, False, "", 0.0, 0.0),
    ("S003-E1", "陈晨", "S003", 8, 0, 0.9, False, "", 0.125, None),
]
# S002's answers by index: the suspect ones and the minutes after the sale.
S002_SUSPECT = {0: "excess_tens", 6: "excess_tens"}
S002_MINUTES = {1: 1.0, **{i: 3.0 for i in (0, 2, 3, 4, 5)}, **{i: 30.0 for i in range(6, 13)}}


def add_integrity(home: Path) -> None:
    with duckdb.connect(str(home / "serving.duckdb")) as connection:
        connection.execute(INTEGRITY_DDL)
        define_nps_daily(connection)
        define_csat_daily(connection)
        connection.executemany(
            f"insert into marts.mart_integrity_store values ({', '.join(['?'] * 15)})", STORE_ROWS
        )
        connection.executemany(
            f"insert into marts.mart_integrity_staff values ({', '.join(['?'] * 10)})", STAFF_ROWS
        )
        connection.execute(
            "update marts.fct_survey_responses set minutes_after_sale = 45 where store_id = 'S001'"
        )
        for index, minutes in S002_MINUTES.items():
            connection.execute(
                "update marts.fct_survey_responses set minutes_after_sale = ? where response_key = ?",
                [minutes, f"S002-{index:03d}"],
            )
        for index, reason in S002_SUSPECT.items():
            connection.execute(
                "update marts.fct_survey_responses set is_suspect = true, suspect_reason = ?"
                " where response_key = ?",
                [reason, f"S002-{index:03d}"],
            )


@pytest.fixture
def integrity_home(serving_home: Path) -> Path:
    add_integrity(serving_home)
    return serving_home


def open_page(sign_in_as, role: str, language: str = "en") -> AppTest:
    at = AppTest.from_file(str(PAGE), default_timeout=30)
    at.session_state[KEY_LANGUAGE] = language
    return sign_in_as(at, role).run()


def tables_with(at: AppTest, header: str) -> list[pd.DataFrame]:
    """The tables drawn with a column ``header``, in page order."""
    return [table.value for table in at.dataframe if header in table.value.columns]


def table_with(at: AppTest, header: str) -> pd.DataFrame:
    """The first table drawn with a column ``header``."""
    return tables_with(at, header)[0]


@pytest.mark.parametrize("role", ["cx_director", "admin"])
def test_the_flagged_store_comes_first_with_its_reasons_in_words(integrity_home, sign_in_as, role):
    at = open_page(sign_in_as, role)

    assert not at.exception
    words = rule_labels("en")
    stores = table_with(at, "Integrity (1 = no evidence)")
    assert list(stores["Store id"]) == ["S002", "S003", "S001"]  # flagged, then the lowest score
    assert list(stores["Flagged"]) == ["Yes", "No", "No"]
    assert stores["Evidence"].iloc[0] == f"{words['excess_tens']}, {words['fast_after_sale']}"
    assert list(stores["Evidence"].iloc[1:]) == ["", ""]
    assert "**1 of 3 stores are flagged**, listed first." in [md.value for md in at.markdown]
    staff = table_with(at, "Staff id")
    assert list(staff["Staff id"]) == ["S002-E1"]
    assert list(staff["Evidence"]) == [words["excess_tens"]]


def test_the_evidence_opens_on_the_flagged_store_with_nps_with_and_without_suspect_answers(
    integrity_home, sign_in_as
):
    at = open_page(sign_in_as, "cx_director")

    assert at.selectbox(key="integrity_store").value == "S002"
    # 12 and 10 answers are under the 30 a reported NPS needs: no number, the count and "too few"
    assert [(metric.label, metric.value) for metric in at.metric] == [
        ("NPS, all answers (n = 12)", "—"),
        ("NPS without suspect answers (n = 10)", "—"),
    ]
    captions = [caption.value for caption in at.caption]
    assert {"n = 12, too few", "n = 10, too few"} <= set(captions)
    not_shown = "n = 10 is under the 30 answers a reported NPS needs, so it is not shown"
    assert any(not_shown in caption for caption in captions)
    assert not [md.value for md in at.markdown if "16.7" in md.value or "instead of" in md.value]
    stores = table_with(at, "Store id")
    assert stores["NPS"].isna().all() and stores["NPS without suspect answers"].isna().all()

    at.selectbox(key="integrity_store").select("S003").run()
    assert not at.exception
    assert [metric.value for metric in at.metric] == ["—", "—"]
    assert "Not flagged." in [md.value for md in at.markdown]
    assert "None of this store's 8 answers is marked suspect." in [md.value for md in at.markdown]


def test_the_evidence_counts_the_stores_answers_against_the_other_stores(integrity_home, sign_in_as):
    at = open_page(sign_in_as, "cx_director")

    measures = table_with(at, "Measure")
    # the store's own shares rest on 12 answers, too few for a reported figure: left empty, and said
    assert measures["This store (%)"].isna().all()
    assert list(measures["Other stores (%)"]) == [25.0, 0.0, 15.0]  # devices: median of 0.1, 0.2
    captions = [caption.value for caption in at.caption]
    assert "n = 12, too few" in captions
    assert "Share of each score 0–10. n = 12 answers at this store, 28 at the others." in captions
    assert (
        "Share of the answers linked to a sale. n = 13 linked answers at this store (0 without a linked"
        " sale), 20 at the others (8 without)."
    ) in captions
    reasons = table_with(at, "Why suspect")
    assert reasons.to_dict("records") == [{"Why suspect": rule_labels("en")["excess_tens"], "Responses": 2}]
    flagged_staff, store_staff = tables_with(at, "Staff member")
    assert list(flagged_staff["Staff id"]) == ["S002-E1"]
    assert list(store_staff["Staff id"]) == ["S002-E1", "S002-E2"]
    # the store's scores, delays and devices; then one staff member's scores and delays
    assert len(at.get("vega_lite_chart")) == 5


def test_score_and_delay_shares_are_counted_from_the_marked_answers(integrity_home):
    scope = Scope.everything()
    scores = data_access.integrity_score_shares(scope, "S002").set_index(["side", "score"])
    assert scores.loc[("store", 10), "responses"] == 2
    assert scores.loc[("store", 10), "share"] == pytest.approx(2 / 12)
    assert scores.loc[("peers", 10), "share"] == pytest.approx(7 / 28)  # S001's six 10s, S003's one
    assert scores.loc[("store", 0), "responses"] == 0
    delays = data_access.integrity_delay_shares(scope, "S002").set_index(["side", "delay_bin"])
    assert delays.loc[("store", "under_2_min"), "share"] == pytest.approx(1 / 13)
    assert delays.loc[("store", "2_to_6_min"), "share"] == pytest.approx(5 / 13)
    assert delays.loc[("store", "15_to_60_min"), "share"] == pytest.approx(7 / 13)
    assert delays.loc[("peers", "15_to_60_min"), "share"] == pytest.approx(1.0)
    assert delays.loc[("peers", "no_linked_sale"), "responses"] == 8
    assert pd.isna(delays.loc[("peers", "no_linked_sale"), "share"])


def test_a_narrow_scope_reads_only_its_own_stores(integrity_home):
    """The door applies the scope even though only all-scope roles open the page."""
    region = Scope("region", ("R02",))
    assert list(data_access.integrity_stores(region)["store_id"]) == ["S003"]
    assert list(data_access.integrity_staff(region)["staff_id"]) == ["S003-E1"]
    assert data_access.integrity_score_shares(region, "S002")["responses"].sum() == 8  # S003's, as peers
    assert data_access.integrity_suspect_reasons(region, "S002").empty


@pytest.mark.parametrize("language", ["en", "zh"])
def test_tables_and_charts_show_words_not_codes(integrity_home, sign_in_as, language):
    at = open_page(sign_in_as, "admin", language)

    assert not at.exception
    assert table_problems(at) + chart_problems(at) == []


@pytest.mark.parametrize("role", ["store_manager", "analyst"])
def test_store_managers_and_analysts_cannot_open_the_page(integrity_home, sign_in_as, role):
    at = open_page(sign_in_as, role)

    assert not at.exception
    assert [error.value for error in at.error] == [NOT_AVAILABLE]
    assert len(at.dataframe) == 0 and len(at.metric) == 0


def test_without_the_integrity_marts_the_page_says_so(serving_home, sign_in_as):
    at = open_page(sign_in_as, "cx_director")

    assert not at.exception
    assert len(at.info) == 1 and at.info[0].value.startswith(NO_MARTS)
    assert len(at.dataframe) == 0


# --- Small samples: no share of too few answers is drawn or listed as a fact --------------------------
def specs(at: AppTest) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("vega_lite_chart")]


def chart_rows(at: AppTest, index: int) -> list[dict]:
    """The rows the page hands the browser for its ``index``-th chart."""
    (dataset,) = at.get("vega_lite_chart")[index].proto.datasets
    return pa.ipc.open_stream(dataset.data.data).read_all().to_pandas().to_dict("records")


def too_few_layers(spec: dict) -> list[dict]:
    return [
        layer
        for layer in spec.get("layer", [])
        if {"filter": charts.TOO_FEW_FILTER} in layer.get("transform", [])
    ]


def test_distributions_of_too_few_answers_are_hollow_and_their_shares_left_out_of_the_tables(
    integrity_home, sign_in_as
):
    """S002's 12 scored answers and the other stores' 28 are both under the 30 a reported share
    needs: no bar of either is solid, and the tables behind the charts list counts, not shares."""
    assert settings().min_responses == 30
    at = open_page(sign_in_as, "cx_director")

    scores, delays, devices, staff_scores, staff_delays = specs(at)
    for spec in (scores, delays, staff_scores, staff_delays):
        solid, hollow = spec["layer"]
        assert solid["transform"] == [{"filter": "datum.reportable"}]
        assert (
            hollow["transform"] == [{"filter": charts.TOO_FEW_FILTER}] and hollow["mark"]["filled"] is False
        )
        assert "share" not in {item["field"] for item in hollow["encoding"]["tooltip"]}
    score_rows = chart_rows(at, 0)
    assert {row["side_responses"] for row in score_rows} == {12, 28}
    assert not any(row["reportable"] for row in score_rows)
    assert {row[charts.NOTE] for row in score_rows} == {"n = 12, too few", "n = 28, too few"}

    captions = [caption.value for caption in at.caption]
    hollow = "Hollow bars, too few answers to read as facts: {}."
    assert hollow.format("This store (n = 12, too few), Other stores (n = 28, too few)") in captions
    assert hollow.format("This staff member (n = 12, too few), Other staff (n = 20, too few)") in captions
    assert "Hollow bars: 3 stores with fewer than 30 answers, too few to read as facts." in captions
    distributions = tables_with(at, "Whose answers")
    assert len(distributions) == 4  # store scores, store delays, staff scores, staff delays
    for table in distributions:
        assert table["Share (%)"].isna().all()
        assert set(table["Enough responses to report"]) == {"No"}
    store_scores = distributions[0].set_index(["Whose answers", "Score"])
    assert store_scores.loc[("This store", 10), "Responses"] == 2  # counts are facts: kept
    assert store_scores.loc[("Other stores", 10), "Responses"] == 7


def test_a_side_with_enough_answers_is_drawn_solid_beside_a_hollow_one(integrity_home, sign_in_as):
    """Ten more countable S001 answers (copies) give the other stores 38: their bars are facts."""
    with duckdb.connect(str(integrity_home / "serving.duckdb")) as connection:
        connection.execute(
            "insert into marts.fct_survey_responses by name select * replace ('X' || response_key as"
            " response_key) from marts.fct_survey_responses where store_id = 'S001' and is_countable limit 10"
        )
    shares = data_access.integrity_score_shares(Scope.everything(), "S002")
    assert shares.groupby("side")["side_responses"].first().to_dict() == {"peers": 38, "store": 12}
    at = open_page(sign_in_as, "cx_director")

    score_rows = chart_rows(at, 0)
    assert {row["side"]: row["reportable"] for row in score_rows} == {"store": False, "peers": True}
    (table,) = [frame for frame in tables_with(at, "Whose answers") if "Score" in frame.columns][:1]
    peers = table[table["Whose answers"] == "Other stores"]
    assert peers["Share (%)"].notna().all() and set(peers["Enough responses to report"]) == {"Yes"}
    assert table[table["Whose answers"] == "This store"]["Share (%)"].isna().all()


def test_screen_readers_hear_the_note_not_the_share_of_a_hollow_bar(integrity_home, sign_in_as):
    at = open_page(sign_in_as, "cx_director")

    layers = [layer for spec in specs(at) for layer in too_few_layers(spec)]
    assert len(layers) == 5  # one hollow layer per chart
    allowed = {"side_name", "score", "delay_name", "store", charts.NOTE}
    for layer in layers:
        described = layer["mark"]["description"]["expr"]
        assert set(re.findall(r'datum\["([^"]+)"\]', described)) <= allowed, described
        assert "; Note: " in described


def test_the_staff_table_lists_no_share_of_too_few_answers(integrity_home, sign_in_as):
    at = open_page(sign_in_as, "cx_director")

    staff = table_with(at, "Staff id")  # S002-E1, flagged, 8 answers
    assert staff["Share of 10s (%)"].isna().all()
    assert staff["Answered within 6 min of the sale (%)"].isna().all()
    assert list(staff["Enough responses to report"]) == ["No"]
    assert list(staff["Responses"]) == [8]


def test_the_evidence_for_one_staff_member_opens_on_the_flagged_one(integrity_home, sign_in_as):
    at = open_page(sign_in_as, "cx_director")

    assert at.selectbox(key="integrity_staff").value == "S002-E1"
    said = [md.value for md in at.markdown]
    assert f"Flagged for: {rule_labels('en')['excess_tens']}." in said
    assert "8 answers linked to their sales, 2 of them marked suspect." in said
    captions = [caption.value for caption in at.caption]
    assert (
        "Share of each score 0–10. n = 12 answers linked to this staff member's sales, 20 to the other"
        " staff members'."
    ) in captions
    assert (
        "Share of the answers whose sale has an order time. n = 13 for this staff member (0 without),"
        " 20 for the others (0 without)."
    ) in captions

    at.selectbox(key="integrity_staff").select("S001-E1").run()
    assert not at.exception
    assert "Not flagged." in [md.value for md in at.markdown]
    captions = [caption.value for caption in at.caption]
    assert any("n = 20 answers linked to this staff member's sales, 12 to the other" in c for c in captions)


def test_staff_shares_are_counted_through_the_sales_they_served(integrity_home):
    scope = Scope.everything()
    scores = integrity_reads.integrity_staff_score_shares(scope, "S002-E1").set_index(["side", "score"])
    assert scores.loc[("staff", 10), "responses"] == 2
    assert scores.loc[("peers", 10), "responses"] == 6  # S001-E1's six countable 10s
    assert scores.loc[("staff", 10), "share"] == pytest.approx(2 / 12)
    assert scores.groupby(level="side")["side_responses"].first().to_dict() == {"peers": 20, "staff": 12}
    delays = integrity_reads.integrity_staff_delay_shares(scope, "S002-E1").set_index(["side", "delay_bin"])
    assert delays.loc[("staff", "2_to_6_min"), "responses"] == 5
    assert delays.loc[("peers", "15_to_60_min"), "share"] == pytest.approx(1.0)
    region = Scope("region", ("R02",))  # S003 sells through delivery platforms: no staff member
    assert integrity_reads.integrity_staff_score_shares(region, "S002-E1")["responses"].sum() == 0
