"""Recent feedback: the newest countable answers of the user's scope, with the customer behind each,
masked in SQL for roles that do not call customers back."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from cxlake.access.roles import Scope
from streamlit_app import data_access
from streamlit_app.data_access import Filters

PAGE = Path(__file__).resolve().parents[2] / "streamlit_app" / "views" / "feedback.py"

EVERYTHING = Scope.everything()
# S001's answer 7 (score 6, a detractor) came from member 顾客01007 (see conftest's _customer).
S001_DETRACTOR = {"customer_name": "顾客01007", "phone": "13800001007", "email": "member01007@example.com"}
S001_DETRACTOR_MASKED = {"customer_name": "顾**", "phone": "*******1007", "email": "***@example.com"}


# The page's headers of the customer columns (streamlit_app.labels, English).
ON_SCREEN = {"customer_name": "Customer", "phone": "Phone", "email": "E-mail"}


def customer_of(
    feedback: pd.DataFrame, phone_suffix: str, headers: dict[str, str] | None = None
) -> dict[str, object]:
    """The customer columns of the one row whose phone ends in ``phone_suffix``, by column name
    (``headers`` says what the frame calls them: ON_SCREEN for the page's table)."""
    headers = headers or {key: key for key in ON_SCREEN}
    (row,) = feedback[feedback[headers["phone"]].str.endswith(phone_suffix, na=False)].to_dict("records")
    return {key: row[header] for key, header in headers.items()}


def test_feedback_lists_countable_answers_newest_first(serving_home):
    feedback = data_access.recent_feedback(EVERYTHING, Filters(), sees_pii=False)

    # 40 countable NPS answers plus S002's countable answer without a score; test rows never.
    assert len(feedback) == 41
    assert list(feedback.columns) == list(data_access.FEEDBACK_COLUMNS)
    assert feedback["responded_at"].is_monotonic_decreasing
    assert feedback["store"].value_counts().to_dict() == {"人民广场店": 20, "徐家汇店": 13, "福田店": 8}


def test_feedback_is_masked_for_a_user_without_pii_rights(serving_home):
    feedback = data_access.recent_feedback(EVERYTHING, Filters(), sees_pii=False)

    assert customer_of(feedback, "1007") == S001_DETRACTOR_MASKED
    members = feedback.dropna(subset=["phone"])
    assert len(members) == 33  # S001 and S002 answers come from members; S003's delivery orders do not
    assert members["phone"].str.fullmatch(r"\*{7}\d{4}").all()
    assert not members["customer_name"].str.startswith("顾客").any()
    assert members["email"].str.startswith("***@").all()


def test_a_phone_or_email_written_in_a_comment_is_masked_like_the_customer_columns(serving_home):
    written = "太慢了！请回电13912345678，或写信 zhang.san@example.com"
    with duckdb.connect(str(serving_home / "serving.duckdb")) as connection:
        (key,) = connection.execute(
            "update marts.fct_survey_responses set comment = ?"
            " where response_key = (select min(response_key) from marts.fct_survey_responses"
            " where is_countable and store_id = 'S001') returning response_key",
            [written],
        ).fetchone()
    data_access.recent_feedback.clear()
    hidden = data_access.recent_feedback(EVERYTHING, Filters(), sees_pii=False)["comment"]
    shown = data_access.recent_feedback(Scope("store", ("S001",)), Filters(), sees_pii=True)["comment"]

    assert key and "太慢了！请回电[phone]，或写信 [email]" in hidden.tolist()
    assert not hidden.str.contains("13912345678|zhang.san", na=False).any()
    assert written in shown.tolist()


def test_feedback_is_unmasked_for_a_user_with_pii_rights(serving_home):
    feedback = data_access.recent_feedback(Scope("store", ("S001",)), Filters(), sees_pii=True)

    assert customer_of(feedback, "1007") == S001_DETRACTOR


@pytest.mark.parametrize(
    ("scope", "stores", "rows"),
    [
        (Scope("store", ("S001",)), {"人民广场店"}, 20),  # not its 3 test submissions
        (Scope("store", ("S002",)), {"徐家汇店"}, 13),
        (Scope("region", ("R02",)), {"福田店"}, 8),
        (Scope("store", ()), set(), 0),  # a store scope without ids fails closed
    ],
    ids=["store-S001", "store-S002", "region-R02", "empty-store-scope"],
)
def test_feedback_never_shows_another_stores_rows(serving_home, scope, stores, rows):
    feedback = data_access.recent_feedback(scope, Filters(), sees_pii=True)

    assert set(feedback["store"]) == stores
    assert len(feedback) == rows


def test_feedback_can_show_detractors_only(serving_home):
    feedback = data_access.recent_feedback(EVERYTHING, Filters(), sees_pii=False, detractors_only=True)

    assert len(feedback) == 12  # 6 + 2 + 4 detractors
    assert set(feedback["nps_category"]) == {"detractor"}
    assert feedback["nps_score"].max() == 6


def test_feedback_keeps_only_the_newest_rows_up_to_the_limit(serving_home):
    everything = data_access.recent_feedback(EVERYTHING, Filters(), sees_pii=False)
    newest = data_access.recent_feedback(EVERYTHING, Filters(), sees_pii=False, limit=5)

    assert newest["responded_at"].tolist() == everything["responded_at"].head(5).tolist()
    assert newest["phone"].tolist() == everything["phone"].head(5).tolist()


# --- The page ------------------------------------------------------------------------------------


def captions(at: AppTest) -> list[str]:
    return [caption.value for caption in at.caption]


def test_store_manager_sees_their_customers_unmasked_to_call_them_back(serving_home, signed_in_page):
    at = signed_in_page(serving_home, "store_manager", "S001")

    assert not at.exception
    assert at.title[0].value == "Feedback"
    assert "Recent feedback" in [subheader.value for subheader in at.subheader]
    table = at.dataframe[0].value
    assert set(table["Store"]) == {"人民广场店"} and set(table["Store id"]) == {"S001"}
    assert len(table) == 20
    assert customer_of(table, "1007", ON_SCREEN) == S001_DETRACTOR
    assert "Customer names, phones and e-mails are masked for your role." not in captions(at)
    assert [button.proto.label for button in at.get("download_button")] == ["Download CSV", "Download Excel"]


@pytest.mark.parametrize("role", ["analyst", "cx_director"])
def test_roles_without_pii_rights_see_customers_masked(serving_home, role, signed_in_page):
    at = signed_in_page(serving_home, role)

    assert not at.exception
    table = at.dataframe[0].value
    assert len(table) == 41
    assert customer_of(table, "1007", ON_SCREEN) == S001_DETRACTOR_MASKED
    phones = table["Phone"][table["Phone"] != ""]  # S003's delivery orders have no customer
    assert len(phones) > 0 and phones.str.fullmatch(r"\*{7}\d{4}").all()
    assert "Customer names, phones and e-mails are masked for your role." in captions(at)


def test_the_detractors_toggle_keeps_only_unhappy_customers(serving_home, signed_in_page):
    at = signed_in_page(serving_home, "regional_manager", "R01")
    at.toggle(key="feedback_detractors_only").set_value(True).run()

    assert not at.exception
    table = at.dataframe[0].value
    assert set(table["Category"]) == {"Detractor"}
    assert table["Store"].value_counts().to_dict() == {"人民广场店": 6, "徐家汇店": 2}


def test_a_steward_cannot_open_the_feedback_page(serving_home, signed_in_page):
    at = signed_in_page(serving_home, "steward")

    assert not at.exception
    assert [error.value for error in at.error] == ["This page is not available for your role."]
    assert len(at.dataframe) == 0
