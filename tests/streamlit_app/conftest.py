"""A tiny serving copy with the marts' exact columns, written to tmp_path with DuckDB SQL.

Countable NPS answers, by store (hand counts the tests rely on):
  S001 (region R01, in_store): 20 answers, 10 promoters, 4 passives, 6 detractors
  S002 (region R01, app):      12 answers,  4 promoters, 6 passives, 2 detractors (+1 without an NPS)
  S003 (region R02, delivery):  8 answers,  3 promoters, 1 passive,  4 detractors
  all: n = 40, 17 / 11 / 12, NPS 12.5
Non-countable rows (test submissions, duplicates) would change every number if they leaked in.

marts.fct_journeys has its own hand counts (see JOURNEYS below; the Journey page reads only it,
marts.dim_touchpoint and marts.fct_touchpoint_daily, a view whose orders are these journeys):
S001 48 journeys, S002 12, S003 8; countable CSAT ratings speed 52,
staff 40, value 60, app 12 (below the minimum of 30).

Who answered: every S001 and S002 response has a transaction (marts.fct_transactions, id T<key>) of a
member in marts.dim_customer (see _customer); S003's delivery-platform orders have no member, so
its responses have no customer.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import duckdb
import pytest
import streamlit as st
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest

from cxlake.access.accounts import Accounts
from cxlake.app_state import AppState
from cxlake.contracts import OPERATIONAL_FLAGS, OPERATIONAL_QUANTITIES
from cxlake.text.keywords import review_cooccurrences
from streamlit_app.session import KEY_TOKEN

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
create table marts.dim_customer (
    customer_id varchar, home_store_id varchar, customer_name varchar, phone varchar, email varchar,
    member_tier varchar, city varchar, signed_up_on date, updated_at timestamp
);
create table marts.fct_transactions (
    transaction_id varchar, store_id varchar, region_id varchar, staff_id varchar, customer_id varchar,
    channel varchar, ordered_at timestamp, ready_at timestamp, transaction_date date, wait_minutes double,
    amount decimal(10, 2), refund_amount decimal(10, 2), is_refunded boolean, is_remake boolean,
    count_lines int, count_items int
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


# Stores whose survey responses come from members' transactions (S003's delivery orders do not).
MEMBER_STORES = ("S001", "S002")
# A store's number in member ids and phone numbers: S001 -> 01.
STORES_BY_ID = {store[0]: position + 1 for position, store in enumerate(STORES)}


def _customer(store: str, index: int) -> tuple[str, str, str, str]:
    """(customer_id, name, phone, email) of the member behind a store's response ``index``."""
    number = f"{STORES_BY_ID[store]:02d}{index:03d}"
    return f"C{store}-{index:03d}", f"顾客{number}", f"138000{number}", f"member{number}@example.com"


def _customer_rows() -> list[tuple]:
    rows = []
    for store in MEMBER_STORES:
        _, _, countable, not_countable = ANSWERS[store]
        for index in range(len(countable) + len(not_countable)):
            customer_id, name, phone, email = _customer(store, index)
            rows.append(
                (customer_id, store, name, phone, email, "basic", "上海", FIRST_DAY, datetime(2026, 1, 1, 9))
            )
    return rows


def _transaction_rows() -> list[tuple]:
    rows = []
    for store in MEMBER_STORES:
        region, channel, countable, not_countable = ANSWERS[store]
        for index in range(len(countable) + len(not_countable)):
            day = FIRST_DAY + timedelta(days=index % 10)
            ordered = datetime(day.year, day.month, day.day, 11, 0)
            rows.append(
                (
                    f"T{store}-{index:03d}", store, region, f"{store}-E1", _customer(store, index)[0],
                    channel, ordered, ordered + timedelta(minutes=5), day, 5.0, 30, 0, False, False, 1, 1,
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
    """Create a serving copy at ``path``: the seven marts, filled with the rows above or left empty,
    and fct_nps_daily and fct_csat_daily over them."""
    with duckdb.connect(str(path)) as connection:
        connection.execute(SCHEMA)
        connection.executemany("insert into marts.dim_store values (?, ?, ?, ?, ?, ?)", STORES)
        connection.executemany(
            f"insert into marts.dim_touchpoint values ({', '.join(['?'] * 13)})", TOUCHPOINTS
        )
        connection.executemany(
            f"insert into marts.dim_customer values ({', '.join(['?'] * 9)})", _customer_rows()
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
            connection.executemany(
                f"insert into marts.fct_transactions values ({', '.join(['?'] * 16)})", _transaction_rows()
            )
        define_nps_daily(connection)
        define_csat_daily(connection)
        define_touchpoint_daily(connection)
    return path


def define_nps_daily(connection: duckdb.DuckDBPyConnection) -> None:
    """marts.fct_nps_daily as dbt builds it from the marts above (its unit tests pin the model), as
    a view, so a test that inserts or deletes responses needs nothing more; a test that adds
    fct_survey_responses.is_suspect calls this again to have the view read it."""
    columns = {row[0] for row in connection.execute("describe marts.fct_survey_responses").fetchall()}
    suspect = "coalesce(r.is_suspect, false)" if "is_suspect" in columns else "false"
    connection.execute(
        f"""create or replace view marts.fct_nps_daily as
        with counts as (
            select r.response_date as date_day, r.store_id, r.region_id, r.channel,
                coalesce(c.member_tier, 'non_member') as member_tier, {suspect} as is_suspect,
                count(*) filter (where r.nps_category = 'promoter') as promoters,
                count(*) filter (where r.nps_category = 'passive') as passives,
                count(*) filter (where r.nps_category = 'detractor') as detractors,
                count(r.ces_score) filter (where r.ces_score between 1 and 7) as count_ces,
                sum(r.ces_score) filter (where r.ces_score between 1 and 7) as sum_ces,
                sum(r.ces_score * r.ces_score) filter (where r.ces_score between 1 and 7)
                    as sum_squares_ces
            from marts.fct_survey_responses as r
            left join marts.fct_transactions as t on t.transaction_id = r.transaction_id
            left join marts.dim_customer as c on c.customer_id = t.customer_id
            where r.is_countable
            group by all
        )
        select *, promoters + passives + detractors as count_responses from counts"""
    )


def define_csat_daily(connection: duckdb.DuckDBPyConnection) -> None:
    """marts.fct_csat_daily as dbt builds it from the ratings and responses above (its unit tests
    pin the model), as a view like fct_nps_daily; a test that adds fct_survey_responses.is_suspect
    calls this again to have the view read it."""
    columns = {row[0] for row in connection.execute("describe marts.fct_survey_responses").fetchall()}
    suspect = "coalesce(r.is_suspect, false)" if "is_suspect" in columns else "false"
    connection.execute(
        f"""create or replace view marts.fct_csat_daily as
        select t.response_date as date_day, t.store_id, t.region_id, t.channel, t.touchpoint_id,
            {suspect} as is_suspect,
            count(t.csat_score) filter (where t.csat_score between 1 and 5) as count_ratings,
            count(t.csat_score) filter (where t.csat_score between 1 and 5 and t.is_top_box)
                as count_top_box,
            sum(t.csat_score) filter (where t.csat_score between 1 and 5) as sum_csat,
            sum(t.csat_score * t.csat_score) filter (where t.csat_score between 1 and 5)
                as sum_squares_csat
        from marts.fct_touchpoint_ratings as t
        left join marts.fct_survey_responses as r on r.response_key = t.response_key
        where t.is_countable
        group by all"""
    )


def define_touchpoint_daily(connection: duckdb.DuckDBPyConnection) -> None:
    """marts.fct_touchpoint_daily as dbt builds it (its unit tests pin the model), as a view: the
    orders are marts.fct_journeys here (one journey per transaction in a real build, with the same
    day, channel and measures), so the Journey page's operations come from the JOURNEYS hand counts,
    and a touchpoint a test adds to dim_touchpoint gets rows with no more setup."""
    quantities = ",\n".join(
        f"count(j.{m}) as count_{m}, sum(j.{m}) as sum_{m}, sum(j.{m} * j.{m}) as sum_squares_{m}"
        for m in OPERATIONAL_QUANTITIES
    )
    flags = ",\n".join(
        f"count(j.{m}) as count_{m}, count(*) filter (where j.{m}) as sum_{m}" for m in OPERATIONAL_FLAGS
    )
    connection.execute(
        f"""create or replace view marts.fct_touchpoint_daily as
        with orders as (
            select j.*, x.count_items, x.count_lines
            from marts.fct_journeys as j
            left join marts.fct_transactions as x using (transaction_id)
        ),
        operations as (
            select t.touchpoint_id, j.store_id, j.region_id, j.channel, j.journey_date as date_day,
                count(*) as count_orders,
                {quantities},
                {flags}
            from orders as j
            join marts.dim_touchpoint as t
                on t.channels is null or list_contains(string_split(t.channels, ','), j.channel)
            group by all
        ),
        ratings as (
            select touchpoint_id, store_id, region_id, channel, response_date as date_day,
                count(csat_score) filter (where csat_score between 1 and 5) as count_ratings,
                count(csat_score) filter (where csat_score between 1 and 5 and is_top_box) as count_top_box,
                sum(csat_score) filter (where csat_score between 1 and 5) as sum_csat
            from marts.fct_touchpoint_ratings where is_countable group by all
        )
        select touchpoint_id, store_id, region_id, channel, date_day,
            coalesce(r.count_ratings, 0) as count_ratings, coalesce(r.count_top_box, 0) as count_top_box,
            r.sum_csat, coalesce(o.count_orders, 0) as count_orders, o.* exclude (
                touchpoint_id, store_id, region_id, channel, date_day, count_orders
            )
        from operations as o
        full join ratings as r using (touchpoint_id, store_id, region_id, channel, date_day)"""
    )


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


# One account per role (role -> account name, scope id), the scope ids being the fixture's own:
# store_s001 sees n = 20 on the overview, region_r01 n = 32, everyone with scope "all" n = 40.
PASSWORD = "correct horse battery staple"
ACCOUNTS = {
    "admin": ("admin", None),
    "cx_director": ("director", None),
    "regional_manager": ("region_r01", "R01"),
    "store_manager": ("store_s001", "S001"),
    "analyst": ("analyst", None),
    "steward": ("steward.li", None),
}


@pytest.fixture(scope="session")
def accounts_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An app-state file holding ACCOUNTS, hashed once per test run (argon2 is slow on purpose)."""
    path = tmp_path_factory.mktemp("accounts") / "app_state.sqlite"
    accounts = Accounts(AppState(path))
    for role, (name, scope_id) in ACCOUNTS.items():
        accounts.add(name, role, PASSWORD, scope_id)
    return path


@pytest.fixture
def accounts_home(tmp_path: Path, accounts_template: Path) -> Path:
    """tmp_path (the home the *_serving_home fixtures point CXLAKE_HOME at) with ACCOUNTS in its app state."""
    shutil.copyfile(accounts_template, tmp_path / "app_state.sqlite")
    return tmp_path


@pytest.fixture
def signed_in_page(request: pytest.FixtureRequest) -> Callable[..., AppTest]:
    """``signed_in_page(home, role, scope_id=None)``: the test module's ``PAGE`` run by a fresh
    ``role`` account signed in through the app-state store under ``home`` (which the page finds via
    CXLAKE_HOME)."""
    page = request.module.PAGE

    def open_page(home: Path, role: str, scope_id: str | None = None) -> AppTest:
        accounts = Accounts(AppState(home / "app_state.sqlite"))
        accounts.add(role, role, PASSWORD, scope_id)
        at = AppTest.from_file(str(page), default_timeout=30)
        at.session_state[KEY_TOKEN] = accounts.sign_in(role, PASSWORD).token
        return at.run()

    return open_page


@pytest.fixture
def sign_in_as(accounts_home: Path) -> Callable[[AppTest, str], AppTest]:
    """``sign_in_as(at, role)``: presets the AppTest's session with a fresh sign-in of that role's account."""

    def sign_in(at: AppTest, role: str) -> AppTest:
        name, _ = ACCOUNTS[role]
        session = Accounts(AppState(accounts_home / "app_state.sqlite")).sign_in(name, PASSWORD)
        at.session_state[KEY_TOKEN] = session.token
        return at

    return sign_in


@pytest.fixture
def account_password() -> str:
    """The password of every account in ACCOUNTS (test modules cannot import the conftest)."""
    return PASSWORD


# --- Reviews: the Voice of customer page's marts, added only by the ``reviews_home`` fixture ----
# (kept out of write_serving_copy, so pages and tests that count the fixture's marts are unchanged),
# with marts.fct_review_keywords as a view over the reviews.
# Our brand is 栖云咖啡 (S001, S002 in 上海, S003 in 深圳); 港湾咖啡 has shops in 上海 and 深圳,
# 山野茶铺 only in 深圳. Hand counts the tests rely on (our reviews, scope "all"):
#   keywords 慢 5 (5 negative), 好喝 4 (1), 贵 3 (3), 店员 3 (2), 排队 2, 冷漠 2, 小程序 2 (1), others 1;
#   "不好喝" is a keyword of its own, never a match for 好喝;
#   rating_disagrees: R03 only (1 of the 9 rated other than 3 stars);
#   positive R01, R05, R09 (3 of 10, avg rating 2.9).
REVIEWS_DDL = """
create table marts.fct_reviews (
    review_key varchar, platform varchar, review_id varchar, shop_id varchar, shop_name varchar,
    brand varchar, is_competitor boolean, store_id varchar, region_id varchar, city varchar,
    transaction_id varchar, posted_at timestamptz, posted_date date, rating int, content varchar,
    sentiment_score double, sentiment_label varchar, aspects varchar, keywords varchar,
    rating_disagrees boolean, model_version varchar, delivered_on date
);
create table marts.fct_review_aspects (
    review_key varchar, touchpoint_id varchar, aspect_sentiment varchar, platform varchar, brand varchar,
    is_competitor boolean, store_id varchar, region_id varchar, city varchar, posted_date date
);
"""
OUR_BRAND = "栖云咖啡"
# (key, platform, store or None, brand, city, posted_at, rating, score, aspects, keywords, disagrees)
REVIEWS = [
    ("R01", "dianping", "S001", OUR_BRAND, "上海", datetime(2026, 1, 5, 10), 5, 0.90,
     "staff:positive", "好喝 店员 热情", False),
    ("R02", "meituan", "S001", OUR_BRAND, "上海", datetime(2026, 1, 6, 12), 2, 0.10,
     "speed:negative;staff:negative", "排队 慢 店员 冷漠", False),
    ("R03", "dianping", "S001", OUR_BRAND, "上海", datetime(2026, 1, 7, 9), 4, 0.20,
     "speed:negative", "慢 好喝 排队", True),
    ("R04", "xiaohongshu", "S001", OUR_BRAND, "上海", datetime(2026, 1, 12, 18), 1, 0.05,
     "value:negative;speed:negative", "贵 慢 <script>", False),
    ("R05", "dianping", "S002", OUR_BRAND, "上海", datetime(2026, 1, 8, 11), 5, 0.95,
     "app:positive", "小程序 方便 好喝", False),
    ("R06", "meituan", "S002", OUR_BRAND, "上海", datetime(2026, 1, 9, 14), 1, 0.10,
     "app:negative;value:negative", "小程序 闪退 贵", False),
    ("R07", "meituan", "S002", OUR_BRAND, "上海", datetime(2026, 1, 13, 16), 2, 0.30,
     "value:negative", "贵 不好喝", False),
    ("R08", "dianping", "S003", OUR_BRAND, "深圳", datetime(2026, 1, 6, 15), 3, 0.20,
     "speed:negative", "慢 外卖", None),  # 3 stars take no side, as in fct_reviews
    ("R09", "meituan", "S003", OUR_BRAND, "深圳", datetime(2026, 1, 10, 10), 5, 0.90,
     "value:positive", "便宜 好喝", False),
    ("R10", "meituan", "S003", OUR_BRAND, "深圳", datetime(2026, 1, 11, 20), 1, 0.15,
     "staff:negative", "店员 冷漠 慢", False),
    ("C1", "dianping", None, "港湾咖啡", "上海", datetime(2026, 1, 5, 13), 5, 0.90,
     "staff:positive", "热情 好喝", False),
    ("C2", "meituan", None, "港湾咖啡", "上海", datetime(2026, 1, 8, 13), 2, 0.20,
     "speed:negative", "慢 排队", False),
    ("C3", "dianping", None, "港湾咖啡", "深圳", datetime(2026, 1, 7, 13), 4, 0.70,
     "value:positive", "便宜", False),
    ("C4", "meituan", None, "山野茶铺", "深圳", datetime(2026, 1, 9, 13), 1, 0.10,
     "staff:negative", "冷漠", False),
    ("C5", "dianping", None, "山野茶铺", "深圳", datetime(2026, 1, 10, 13), 5, 0.85,
     "value:positive;staff:positive", "好喝 便宜", False),
]  # fmt: skip
REGION_OF = {store: region for store, _, region, *_ in STORES}


def _review_rows() -> list[tuple]:
    rows = []
    for key, platform, store, brand, city, posted, rating, score, aspects, keywords, disagrees in REVIEWS:
        posted_at = posted.replace(tzinfo=SHANGHAI)
        rows.append(
            (
                key, platform, f"{platform}-{key}", store or f"G-{brand}-{city}", f"{brand}({city}店)",
                brand, store is None, store, REGION_OF.get(store), city, None, posted_at, posted.date(),
                rating, f"评论{key}：{keywords}", score, "positive" if score >= 0.5 else "negative",
                aspects, keywords, disagrees, "test-1", posted.date() + timedelta(days=1),
            )
        )  # fmt: skip
    return rows


def define_review_cooccurrences(connection: duckdb.DuckDBPyConnection) -> None:
    """marts.fct_review_cooccurrences as the pipeline builds it from marts.fct_reviews: each of our
    reviews' TextRank edges as the review_scores asset stores them
    (cxlake.text.keywords.review_cooccurrences), with the review's store and day."""
    reviews = connection.execute(
        "select review_key, store_id, region_id, posted_date, posted_at, content from marts.fct_reviews"
        " where not is_competitor and content is not null"
    ).fetchall()
    connection.execute(
        "create or replace table marts.fct_review_cooccurrences (review_key varchar, store_id varchar,"
        " region_id varchar, posted_date date, posted_at timestamptz, keyword varchar,"
        " other_keyword varchar, pair_count integer)"
    )
    connection.executemany(
        "insert into marts.fct_review_cooccurrences values (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (*review, keyword, other, count)
            for *review, content in reviews
            for (keyword, other), count in review_cooccurrences(content).items()
        ],
    )


def _review_aspect_rows() -> list[tuple]:
    rows = []
    for key, platform, store, brand, city, posted, *_, aspects, _, _ in REVIEWS:
        for aspect in aspects.split(";"):
            touchpoint, sentiment = aspect.split(":")
            rows.append(
                (key, touchpoint, sentiment, platform, brand, store is None, store, REGION_OF.get(store),
                 city, posted.date())
            )  # fmt: skip
    return rows


def add_review_marts(path: Path) -> Path:
    """Add marts.fct_reviews and marts.fct_review_aspects with REVIEWS to the serving copy at
    ``path``, and marts.fct_review_keywords and marts.mart_competitor_benchmark over them."""
    with duckdb.connect(str(path)) as connection:
        connection.execute(REVIEWS_DDL)
        connection.executemany(
            f"insert into marts.fct_reviews values ({', '.join(['?'] * 22)})", _review_rows()
        )
        connection.executemany(
            f"insert into marts.fct_review_aspects values ({', '.join(['?'] * 10)})", _review_aspect_rows()
        )
        define_review_cooccurrences(connection)
        define_review_keywords(connection)
        define_competitor_benchmark(connection)
    return path


def define_review_keywords(connection: duckdb.DuckDBPyConnection) -> None:
    """marts.fct_review_keywords as dbt builds it from marts.fct_reviews (its unit test pins the
    model), as a view like fct_nps_daily, so a test that adds reviews needs nothing more."""
    connection.execute(
        """create or replace view marts.fct_review_keywords as
        with review_keywords as (
            select distinct review_key, store_id, region_id, posted_date, sentiment_label,
                sentiment_score, unnest(string_split(keywords, ' ')) as keyword
            from marts.fct_reviews
            where not is_competitor and keywords <> ''
        )
        select posted_date, store_id, region_id, keyword, count(*) as count_reviews,
            count(*) filter (where sentiment_label = 'positive') as count_positive,
            count(*) filter (where sentiment_label = 'negative') as count_negative,
            round(avg(sentiment_score), 6) as avg_sentiment
        from review_keywords
        where keyword <> ''
        group by all"""
    )


def define_competitor_benchmark(connection: duckdb.DuckDBPyConnection) -> None:
    """marts.mart_competitor_benchmark as dbt builds it from the review marts (its unit tests pin
    the model), as a view, so a test that adds reviews needs nothing more."""
    connection.execute(
        """create or replace view marts.mart_competitor_benchmark as
        with mentions as (
            select posted_date, platform, city, region_id, store_id, brand, is_competitor,
                'overall' as aspect, rating, sentiment_label is not null as is_scored,
                sentiment_label = 'positive' as is_positive, sentiment_label = 'negative' as is_negative
            from marts.fct_reviews
            union all
            select a.posted_date, a.platform, a.city, a.region_id, a.store_id, a.brand, a.is_competitor,
                a.touchpoint_id, r.rating, true, a.aspect_sentiment = 'positive',
                a.aspect_sentiment = 'negative'
            from marts.fct_review_aspects as a join marts.fct_reviews as r using (review_key)
        )
        select posted_date, platform, city, region_id, store_id, brand, is_competitor, aspect,
            count(*) as count_reviews, count(*) filter (where is_scored) as count_scored,
            count(*) filter (where is_positive) as count_positive,
            count(*) filter (where is_negative) as count_negative,
            count(rating) as count_rated, sum(rating) as sum_rating
        from mentions
        group by all"""
    )


@pytest.fixture
def reviews_home(serving_home: Path) -> Path:
    """CXLAKE_HOME with the filled serving copy plus the review marts."""
    add_review_marts(serving_home / "serving.duckdb")
    return serving_home


@pytest.fixture
def deferred_downloads(monkeypatch: pytest.MonkeyPatch) -> dict[str, Callable[[], bytes]]:
    """File name -> the real file builder of each download button drawn (the latest wins).

    A download is built when the browser asks for it, in Streamlit's media manager, which AppTest
    drops after each run; this keeps the builder the page registered so a test can "click" it."""
    builders: dict[str, Callable[[], bytes]] = {}
    register = MediaFileManager.add_deferred

    def keep(self, callable_, mimetype, coordinates, file_name=None, **kwargs):
        builders[file_name] = callable_
        return register(self, callable_, mimetype, coordinates, file_name=file_name, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add_deferred", keep)
    return builders
