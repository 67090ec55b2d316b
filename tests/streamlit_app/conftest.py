"""A tiny serving copy with the marts' exact columns, written to tmp_path with DuckDB SQL.

Countable NPS answers, by store (hand counts the tests rely on):
  S001 (region R01, in_store): 20 answers, 10 promoters, 4 passives, 6 detractors
  S002 (region R01, app):      12 answers,  4 promoters, 6 passives, 2 detractors (+1 without an NPS)
  S003 (region R02, delivery):  8 answers,  3 promoters, 1 passive,  4 detractors
  all: n = 40, 17 / 11 / 12, NPS 12.5
Non-countable rows (test submissions, duplicates) would change every number if they leaked in.
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
    stage_name_zh varchar, stage_name_en varchar, stage_order int, touchpoint_order int
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
"""

STORES = [
    ("S001", "人民广场店", "R01", "华东", "上海", date(2021, 3, 1)),
    ("S002", "徐家汇店", "R01", "华东", "上海", date(2022, 6, 15)),
    ("S003", "福田店", "R02", "华南", "深圳", date(2023, 9, 9)),
]

# Inserted out of journey order on purpose: the page must sort by stage, then touchpoint order.
TOUCHPOINTS = [
    ("staff", "店员服务", "Staff", "fulfil", "等待取餐", "Fulfil", 3, 4),
    ("app", "小程序/App", "App", "order", "下单", "Order", 2, 1),
    ("speed", "出餐速度", "Speed", "fulfil", "等待取餐", "Fulfil", 3, 3),
    ("value", "性价比", "Value", "order", "下单", "Order", 2, 2),
]

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


def write_serving_copy(path: Path, *, with_rows: bool = True) -> Path:
    """Create a serving copy at ``path``: the four marts, filled with the rows above or left empty."""
    with duckdb.connect(str(path)) as connection:
        connection.execute(SCHEMA)
        connection.executemany("insert into marts.dim_store values (?, ?, ?, ?, ?, ?)", STORES)
        connection.executemany(
            "insert into marts.dim_touchpoint values (?, ?, ?, ?, ?, ?, ?, ?)", TOUCHPOINTS
        )
        if with_rows:
            connection.executemany(
                f"insert into marts.fct_survey_responses values ({', '.join(['?'] * 16)})", _response_rows()
            )
            connection.executemany(
                f"insert into marts.fct_touchpoint_ratings values ({', '.join(['?'] * 11)})", _rating_rows()
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
