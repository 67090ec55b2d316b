"""The Insights page's Frontline tab: a manager's staff with their CSAT and interval, praise and
complaints, and the comments naming them; a CSAT of too few answers is shown as its n only; the
list is no ranking; a store manager sees their own store's staff only, named as written.

The conftest's serving copy (S001, S002 in R01; S003 in R02) gets the frontline marts by hand:
  S001: E1 王伟芳 (barista) staff CSAT 4.52 (95% CI 4.31-4.73) over 40 answers, 6 praise, 0
        complaints, taste 4.10 over 35; E2 李娜 (store manager) 12 staff ratings (too few), 0 praise,
        3 complaints, some answers suspect; comments: two naming E1 (one with a phone number), one
        complaint naming E2;
  S002: E3 赵敏 staff CSAT 4.00 over 31, 1 praise, 1 complaint;  S003: E4 陈杰 35 answers.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from streamlit_app.widgets import KEY_LANGUAGE

PAGE = Path(__file__).resolve().parents[2] / "streamlit_app" / "views" / "insights.py"
TIMEOUT_SECONDS = 30

FRONTLINE_DDL = """
create table marts.mart_frontline_staff (
    staff_id varchar, staff_name varchar, staff_role varchar, store_id varchar, region_id varchar,
    touchpoint_id varchar, n_ratings bigint, is_reportable boolean, csat_mean double, ci_low double,
    ci_high double, top2_share double, n_suspect_ratings bigint, has_suspect_answers boolean,
    praise_mentions bigint, complaint_mentions bigint, all_mentions bigint
);
create table marts.fct_staff_mentions (
    response_key varchar, staff_id varchar, survey_id varchar, response_id varchar, store_id varchar,
    region_id varchar, channel varchar, responded_at timestamp, response_date date,
    is_serving_staff boolean, comment varchar, mention_sentiment varchar, is_countable boolean,
    is_suspect boolean, is_praise boolean, is_complaint boolean
);
"""
# (staff, name, role, store, region, touchpoint, n, mean, low, high, top-2, suspect, praise, complaints)
STAFF_ROWS = [
    ("E1", "王伟芳", "咖啡师", "S001", "R01", "staff", 40, 4.52, 4.31, 4.73, 0.9, False, 6, 0),
    ("E1", "王伟芳", "咖啡师", "S001", "R01", "speed", 35, 4.10, 3.80, 4.40, 0.7, False, 6, 0),
    ("E2", "李娜", "店长", "S001", "R01", "staff", 12, None, None, None, None, True, 0, 3),
    ("E2", "李娜", "店长", "S001", "R01", "speed", 10, None, None, None, None, True, 0, 3),
    ("E3", "赵敏", "咖啡师", "S002", "R01", "staff", 31, 4.00, 3.70, 4.30, 0.75, False, 1, 1),
    ("E4", "陈杰", "咖啡师", "S003", "R02", "staff", 35, 3.90, 3.60, 4.20, 0.6, False, 0, 0),
]  # fmt: skip
# (key, staff, store, region, channel, answered at, comment, sentiment)
MENTIONS = [
    ("m1", "E1", "S001", "R01", "in_store", datetime(2026, 1, 10, 9), "店员小王很热情", "positive"),
    ("m2", "E1", "S001", "R01", "app", datetime(2026, 1, 12, 9), "伟芳很周到，打 13800001234", "positive"),
    ("m3", "E2", "S001", "R01", "in_store", datetime(2026, 1, 11, 9), "收银的小李态度差", "negative"),
    ("m4", "E3", "S002", "R01", "in_store", datetime(2026, 1, 11, 9), "赵敏很耐心", "positive"),
]  # fmt: skip


def add_frontline_marts(home: Path) -> None:
    with duckdb.connect(str(home / "serving.duckdb")) as connection:
        connection.execute(FRONTLINE_DDL)
        connection.executemany(
            f"insert into marts.mart_frontline_staff values ({', '.join(['?'] * 17)})",
            [
                (
                    staff, name, role, store, region, touchpoint, n, n >= 30, mean, low, high, top2,
                    1 if suspect else 0, suspect, praise, complaints, praise + complaints,
                )
                for staff, name, role, store, region, touchpoint, n, mean, low, high, top2, suspect, praise,
                complaints in STAFF_ROWS
            ],
        )  # fmt: skip
        connection.executemany(
            f"insert into marts.fct_staff_mentions values ({', '.join(['?'] * 16)})",
            [
                (
                    key, staff, "SV", key, store, region, channel, at, at.date(), True, comment, sentiment,
                    True, False, sentiment == "positive", sentiment == "negative",
                )
                for key, staff, store, region, channel, at, comment, sentiment in MENTIONS
            ],
        )  # fmt: skip


@pytest.fixture
def frontline_home(serving_home: Path) -> Path:
    add_frontline_marts(serving_home)
    return serving_home


@pytest.fixture
def open_as(sign_in_as):
    def run(role: str, language: str = "en") -> AppTest:
        at = sign_in_as(AppTest.from_file(str(PAGE), default_timeout=TIMEOUT_SECONDS), role)
        at.session_state[KEY_LANGUAGE] = language
        at = at.run()
        assert not at.exception, at.exception
        return at

    return run


def frontline(at: AppTest, label: str = "Frontline"):
    (tab,) = [tab for tab in at.tabs if tab.label == label]
    return tab


def records(tab, index: int) -> list[dict[str, object]]:
    return tab.dataframe[index].value.to_dict("records")


def test_a_store_manager_sees_their_staff_with_csat_intervals_and_mentions(frontline_home, open_as):
    at = open_as("store_manager")
    tab = frontline(at)
    assert at.selectbox(key="insights_frontline_store").options == ["人民广场店 (S001)"]
    staff = records(tab, 0)
    assert [row["Staff id"] for row in staff] == ["E1", "E2"]  # roster order, not by score
    assert [row["Staff member"] for row in staff] == ["王伟芳", "李娜"]  # the manager may read names
    assert staff[0]["Staff service CSAT (1-5)"] == "4.52 (95% CI 4.31–4.73)"
    assert staff[1]["Staff service CSAT (1-5)"] == "n = 12, too few"
    assert [(row["Praise"], row["Complaints"]) for row in staff] == [(6, 0), (0, 3)]
    assert staff[1]["Integrity"] == "Some answers marked suspect (left out)"
    assert not any("rank" in column.lower() for column in staff[0])
    touchpoints = records(tab, 1)
    assert [(row["Touchpoint"], row["CSAT (1-5)"]) for row in touchpoints] == [
        ("Speed", "4.10 (95% CI 3.80–4.40)"),
        ("Staff", "4.52 (95% CI 4.31–4.73)"),
    ]
    comments = records(tab, 2)
    assert [(row["Mention"], row["Comment"]) for row in comments] == [
        ("Praise", "伟芳很周到，打 [phone]"),  # newest first; a customer's phone is for call-backs only
        ("Praise", "店员小王很热情"),
    ]


def test_picking_the_coached_staff_member_shows_their_complaint_and_no_score(frontline_home, open_as):
    at = open_as("store_manager")
    at.selectbox(key="insights_frontline_staff").select("E2").run()
    assert not at.exception
    tab = frontline(at)
    assert [row["CSAT (1-5)"] for row in records(tab, 1)] == ["n = 10, too few", "n = 12, too few"]
    assert [(row["Mention"], row["Comment"]) for row in records(tab, 2)] == [
        ("Complaint", "收银的小李态度差")
    ]


def test_the_director_reads_every_stores_staff_with_names_and_contacts_masked(frontline_home, open_as):
    at = open_as("cx_director")
    picker = at.selectbox(key="insights_frontline_store")
    assert picker.options == ["人民广场店 (S001)", "徐家汇店 (S002)", "福田店 (S003)"]
    staff = records(frontline(at), 0)
    assert [row["Staff member"] for row in staff] == ["王**", "李**"]
    comments = records(frontline(at), 2)
    assert all("13800001234" not in row["Comment"] for row in comments)
    picker.select("S002").run()
    assert [row["Staff id"] for row in records(frontline(at), 0)] == ["E3"]


def test_the_tab_speaks_chinese(frontline_home, open_as):
    at = open_as("store_manager", "zh")
    staff = records(frontline(at, "一线员工"), 0)
    assert staff[1]["店员服务满意度（1-5）"] == "n = 12，样本过少"
    assert staff[0]["表扬"] == 6


def test_an_older_serving_copy_says_the_frontline_mart_is_missing(serving_home, open_as):
    at = open_as("store_manager")
    assert any("marts.mart_frontline_staff" in info.value for info in frontline(at).info)
