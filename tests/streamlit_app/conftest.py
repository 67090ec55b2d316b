"""A tiny serving copy with the marts' exact columns, written to tmp_path with DuckDB SQL.

Countable NPS answers, by store (hand counts the tests rely on):
  S001 (region R01, in_store): 20 answers, 10 promoters, 4 passives, 6 detractors
  S002 (region R01, app):      12 answers,  4 promoters, 6 passives, 2 detractors (+1 without an NPS)
  S003 (region R02, delivery):  8 answers,  3 promoters, 1 passive,  4 detractors
  all: n = 40, 17 / 11 / 12, NPS 12.5
Non-countable rows (test submissions, duplicates) would change every number if they leaked in.

marts.fct_journeys has its own hand counts (see JOURNEYS below; the Journey page reads only it and
marts.dim_touchpoint): S001 48 journeys, S002 12, S003 8; countable CSAT ratings speed 52,
staff 40, value 60, app 12 (below the minimum of 30).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import duckdb
import pytest
import streamlit as st

SHANGHAI = timezone(timedelta(hours=8))
FIRST_DAY = date(2026, 1, 5)

SCHEMA = """
create schema marts;
create table marts.dim_store (
    store_id varchar, store_name varchar, region_id varchar, region_name varchar, city varchar, opened_on date
);
create table marts.dim_touchpoint (
    touchpoint_id varchar, touchpoint_name_zh varchar, touchpoint_name_en varchar, stage_id varchar,
    stage_name_zh varchar, stage_name_en varchar, stage_order int, touchpoint_order int,
    channels varchar, operational_metric varchar, survey_measure varchar, pos_events varchar,
    review_aspect_keywords varchar
);
create table marts.fct_survey_responses (
    response_key varchar, survey_id varchar, response_id varchar, source_system varchar,
    responded_at timestamptz, response_date date, store_id varchar, region_id varchar, channel varchar,
    transaction_id varchar, nps_score int, nps_category varchar, ces_score int, comment varchar,
    status varchar, is_countable boolean
);
create table marts.fct_touchpoint_ratings (
    response_key varchar, survey_id varchar, response_id varchar, touchpoint_id varchar, csat_score int,
    is_top_box boolean, store_id varchar, region_id varchar, channel varchar, response_date date,
    is_countable boolean
);
create table marts.fct_journeys (
    journey_id varchar, transaction_id varchar, customer_id varchar, store_id varchar, region_id varchar,
    channel varchar, staff_id varchar, ordered_at timestamp, ready_at timestamp, journey_date date,
    wait_minutes double, amount decimal(10, 2), refund_amount decimal(10, 2), is_refunded boolean,
    is_remake boolean, response_key varchar, responded_at timestamp, nps_score int, nps_category varchar,
    is_countable_response boolean, ces_score int, csat_app int, csat_value int, csat_speed int,
    csat_staff int, review_key varchar, review_rating int, peak_low_csat int, peak_high_csat int,
    end_csat int
);
"""

STORES = [
    ("S001", "人民广场店", "R01", "华东", "上海", date(2021, 3, 1)),
    ("S002", "徐家汇店", "R01", "华东", "上海", date(2022, 6, 15)),
    ("S003", "福田店", "R02", "华南", "深圳", date(2023, 9, 9)),
]

# Inserted out of journey order on purpose: the page must sort by stage, then touchpoint order.
TOUCHPOINTS = [
    ("staff", "店员服务", "Staff", "fulfil", "等待取餐", "Fulfil", 3, 4, "in_store,app", None, "csat", "",
     "店员,服务"),
    ("app", "小程序/App", "App", "order", "下单", "Order", 2, 1, "app,delivery", None, "csat", "",
     "小程序,app"),
    ("speed", "出餐速度", "Speed", "fulfil", "等待取餐", "Fulfil", 3, 3, "in_store,app", "wait_minutes",
     "csat", "", "出餐,慢"),
    ("value", "性价比", "Value", "order", "下单", "Order", 2, 2, "in_store,app,delivery", "amount", "csat",
     "refund", "价格,贵"),
]  # fmt: skip

# store -> (region, channel, countable scores, non-countable scores)
ANSWERS = {
    "S001": ("R01", "in_store", [10, 10, 10, 9, 9, 8, 7, 6, 5, 0] * 2, [10, 10, 10]),
    "S002": ("R01", "app", [10, 9, 8, 8, 7, 3] * 2 + [None], []),
    "S003": ("R02", "delivery", [9, 9, 6, 6, 2, 8, 10, 1], [0]),
}

# (store, index of that store's countable answer, touchpoint, csat, countable)
RATINGS = [
    ("S001", 0, "speed", 5, True),
    ("S001", 1, "speed", 4, True),
    ("S001", 2, "speed", 3, True),
    ("S001", 3, "speed", 2, True),
    ("S001", 0, "staff", 5, True),
    ("S001", 1, "staff", 5, True),
    ("S001", 2, "staff", 4, True),
    ("S002", 0, "app", 2, True),
    ("S002", 1, "app", 4, True),
    ("S003", 0, "value", 1, True),
    ("S003", 0, "value", 5, False),
]

# store -> [(journeys, wait_minutes, amount, is_refunded, is_remake, survey)], survey =
# (is_countable, nps, {touchpoint: csat}) or None when no survey followed the purchase.
JOURNEYS = {
    "S001": [
        (30, 4.0, 30, False, False, (True, 10, {"speed": 5, "staff": 5, "value": 4})),
        (10, 12.0, 30, False, True, (True, 5, {"speed": 2, "staff": 4, "value": 2})),
        (3, 4.0, 30, False, False, (False, 0, {"speed": 1, "staff": 1, "value": 1})),
        (5, 20.0, 30, False, False, None),
    ],
    "S002": [
        (8, 6.0, 40, False, False, (True, 9, {"app": 4, "speed": 4, "value": 5})),
        (4, 10.0, 40, True, False, (True, 7, {"app": 2, "speed": 3, "value": 3})),
    ],
    "S003": [
        (5, 30.0, 50, False, False, (True, 9, {"value": 4})),
        (3, 45.0, 50, True, False, (True, 2, {"value": 1})),
    ],
}
# Journey order of the fixture's touchpoints, last first: the end experience is the last one rated.
LAST_FIRST = ("staff", "speed", "value", "app")


def _category(score: int | None) -> str | None:
    if score is None:
        return None
    return "promoter" if score >= 9 else "detractor" if score <= 6 else "passive"


def _response_rows() -> list[tuple]:
    rows = []
    for store, (region, channel, countable, not_countable) in ANSWERS.items():
        answers = [(score, True) for score in countable] + [(score, False) for score in not_countable]
        for index, (score, is_countable) in enumerate(answers):
            day = FIRST_DAY + timedelta(days=index % 10)
            key = f"{store}-{index:03d}"
            rows.append(
                (
                    key, "SV_cxlakeApp", key, "qualtrics",
                    datetime(day.year, day.month, day.day, 12, 0, tzinfo=SHANGHAI), day,
                    store, region, channel, f"T{key}", score, _category(score), 3, "还不错",
                    "complete" if is_countable else "test", is_countable,
                )
            )  # fmt: skip
    return rows


def _rating_rows() -> list[tuple]:
    rows = []
    for store, index, touchpoint, csat, is_countable in RATINGS:
        region, channel, _, _ = ANSWERS[store]
        key = f"{store}-{index:03d}"
        day = FIRST_DAY + timedelta(days=index % 10)
        rows.append(
            (key, "SV_cxlakeApp", key, touchpoint, csat, csat >= 4, store, region, channel, day, is_countable)
        )
    return rows


def _journey_rows() -> list[tuple]:
    rows = []
    for store, patterns in JOURNEYS.items():
        region, channel, _, _ = ANSWERS[store]
        index = 0
        for count, wait, amount, is_refunded, is_remake, survey in patterns:
            for _ in range(count):
                day = FIRST_DAY + timedelta(days=index % 10)
                key = f"J{store}-{index:03d}"
                ordered = datetime(day.year, day.month, day.day, 9, 0)
                countable, nps, csat = survey or (None, None, {})
                rated = [csat[tp] for tp in LAST_FIRST if tp in csat]
                rows.append(
                    (
                        key, key, f"C{store}-{index:03d}", store, region, channel, f"{store}-E1",
                        ordered, ordered + timedelta(minutes=wait), day, wait, amount,
                        amount if is_refunded else 0, is_refunded, is_remake,
                        f"R{key}" if survey else None, ordered + timedelta(hours=2) if survey else None,
                        nps, _category(nps), countable, 5 if survey else None,
                        csat.get("app"), csat.get("value"), csat.get("speed"), csat.get("staff"),
                        None, None, min(rated, default=None), max(rated, default=None),
                        rated[0] if rated else None,
                    )
                )  # fmt: skip
                index += 1
    return rows


def write_serving_copy(path: Path, *, with_rows: bool = True) -> Path:
    """Create a serving copy at ``path``: the five marts, filled with the rows above or left empty."""
    with duckdb.connect(str(path)) as connection:
        connection.execute(SCHEMA)
        connection.executemany("insert into marts.dim_store values (?, ?, ?, ?, ?, ?)", STORES)
        connection.executemany(
            f"insert into marts.dim_touchpoint values ({', '.join(['?'] * 13)})", TOUCHPOINTS
        )
        if with_rows:
            connection.executemany(
                f"insert into marts.fct_survey_responses values ({', '.join(['?'] * 16)})", _response_rows()
            )
            connection.executemany(
                f"insert into marts.fct_touchpoint_ratings values ({', '.join(['?'] * 11)})", _rating_rows()
            )
            connection.executemany(
                f"insert into marts.fct_journeys values ({', '.join(['?'] * 30)})", _journey_rows()
            )
    return path


@pytest.fixture(autouse=True)
def fresh_streamlit_caches():
    """Cached answers from one test's database must never reach the next test."""
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture
def serving_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """CXLAKE_HOME with the filled serving copy."""
    write_serving_copy(tmp_path / "serving.duckdb")
    monkeypatch.setenv("CXLAKE_HOME", str(tmp_path))
    return tmp_path


@pytest.fixture
def empty_serving_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """CXLAKE_HOME whose serving copy has the marts but no responses."""
    write_serving_copy(tmp_path / "serving.duckdb", with_rows=False)
    monkeypatch.setenv("CXLAKE_HOME", str(tmp_path))
    return tmp_path


@pytest.fixture
def missing_serving_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """CXLAKE_HOME before the pipeline has published anything."""
    monkeypatch.setenv("CXLAKE_HOME", str(tmp_path))
    return tmp_path
