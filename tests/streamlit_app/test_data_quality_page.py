"""The Data quality page and its data-access questions, on the explorer's fixture copy plus dq tables.

Added to the conftest's serving copy:
  validation: crm 01-05 failed (2 rows quarantined); pos 01-05 passed; pos 01-06 blocked;
              crm 01-06 failed in run r1, then passed in the re-run r2 (the re-run must win).
  quarantine.crm_customers: customers.csv lines 8 and 12 of 01-05.
  the four non-countable responses of the conftest (S001 x3, S003 x1) get reason 'status:test'.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from assets.ingestion.loading import prepare_warehouse
from assets.ingestion.raw_tables import CRM_CUSTOMERS, REFERENCE_STORES
from cxlake import quarantine
from cxlake.app_state import AppState
from cxlake.landing import CUSTOMERS
from cxlake.privacy.purge import TaggedColumn, purge
from cxlake.privacy.retention import RetentionPolicy
from streamlit_app import data_access
from streamlit_app.data_access import Filters, Scope

PAGE = Path(__file__).resolve().parents[2] / "streamlit_app" / "views" / "data_quality.py"
EVERYTHING = Scope.everything()
DAY_1, DAY_2 = date(2026, 1, 5), date(2026, 1, 6)
AT = datetime(2026, 1, 5, 18, 0, tzinfo=UTC)

QUALITY_SCHEMA = """
alter table marts.fct_survey_responses add column exclusion_reason varchar;
update marts.fct_survey_responses set exclusion_reason = 'status:' || status where not is_countable;
"""
RUNS = [
    ("r1", "crm", "crm_customers", DAY_1, AT, False, False, None, 20, 18, 2),
    ("r1", "pos", "pos_transactions", DAY_1, AT, True, False, None, 50, 50, 0),
    ("r1", "pos", "pos_transactions", DAY_2, AT, False, True, "file has no header", 0, 0, 0),
    ("r1", "crm", "crm_customers", DAY_2, AT, False, False, None, 10, 9, 1),
    ("r2", "crm", "crm_customers", DAY_2, AT.replace(hour=20), True, False, None, 10, 10, 0),
]
RESULTS = [
    ("r1", "crm", "crm_customers", DAY_1, "expect_column_values_to_be_in_set:member_tier", "row", "error",
     False, 1, json.dumps(["diamond"])),
    ("r1", "crm", "crm_customers", DAY_1, "expect_column_values_to_not_be_null:customer_id", "row", "error",
     True, 0, "[]"),
    ("r1", "crm", "crm_customers", DAY_2, "expect_column_values_to_be_unique:customer_id", "row", "error",
     False, 1, json.dumps(["C0001"])),
]  # fmt: skip
AUDIT = [
    ("crm", DAY_1, "customers.csv", "crm_customers", 20, 18, 2, "abc", AT),
    ("pos", DAY_1, "transactions.csv", "pos_transactions", 50, 50, 0, "def", AT),
    ("crm", DAY_2, "customers.csv", "crm_customers", 10, 10, 0, "ghi", AT),
]
QUARANTINED = [
    ("C0007", "王芳", "=HYPERLINK(\"http://x\")", "wf@example.com", "gold", "2025-12-01", "上海", "S001",
     "2026-01-05T09:00:00+08:00", DAY_1, "customers.csv", 8,
     '["expect_column_values_to_match_regex:phone"]', AT),
    ("C0009", "李雷", "13800000000", "ll@example.com", "diamond", "2025-12-02", "上海", "S002",
     "2026-01-05T10:00:00+08:00", DAY_1, "customers.csv", 12,
     '["expect_column_values_to_be_in_set:member_tier"]', AT),
]  # fmt: skip


@pytest.fixture
def quality_home(serving_home: Path) -> Path:
    """The conftest's serving copy with the dq and quarantine tables of the docstring."""
    with duckdb.connect(str(serving_home / "serving.duckdb")) as connection:
        prepare_warehouse(connection, [CRM_CUSTOMERS])  # the pipeline's own dq and quarantine tables
        connection.execute(QUALITY_SCHEMA)
        for table, rows in [
            ("dq.validation_runs", RUNS),
            ("dq.expectation_results", RESULTS),
            ("dq.load_audit", AUDIT),
            ("quarantine.crm_customers", QUARANTINED),
        ]:
            # By position over the columns the rows name (the pipeline may add columns with defaults).
            columns = connection.execute(f"select * from {table} limit 0").fetchdf().columns[: len(rows[0])]
            connection.executemany(
                f"insert into {table} ({', '.join(columns)}) values ({', '.join(['?'] * len(rows[0]))})", rows
            )
    return serving_home


@pytest.fixture
def run_page(sign_in_as):
    """Runs the page signed in as the data steward steward.li, whose name each decision carries."""
    return lambda: sign_in_as(AppTest.from_file(str(PAGE), default_timeout=30), "steward").run()


def test_the_grid_uses_each_days_latest_validation(quality_home):
    grid = data_access.validation_grid(EVERYTHING)
    assert grid[["source", "partition_date", "status", "rows_quarantined"]].values.tolist() == [
        ["crm", DAY_1, "failed", 2],
        ["pos", DAY_1, "passed", 0],
        ["crm", DAY_2, "passed", 0],  # r1 failed, the re-run r2 passed
        ["pos", DAY_2, "blocked", 0],
    ]
    assert data_access.validation_grid(EVERYTHING, DAY_2, DAY_2)["source"].tolist() == ["crm", "pos"]


def test_failing_expectations_come_from_the_latest_run_with_samples(quality_home):
    failing = data_access.failing_expectations(EVERYTHING)
    assert failing[
        ["partition_date", "expectation", "unexpected_count", "sample_values"]
    ].values.tolist() == [[DAY_1, "expect_column_values_to_be_in_set:member_tier", 1, '["diamond"]']]


def test_quarantine_volume_and_non_countable_responses(quality_home):
    volume = data_access.quarantine_volume(EVERYTHING)
    assert volume[["partition_date", "source", "rows_quarantined"]].values.tolist() == [
        [DAY_1, "crm", 2],
        [DAY_1, "pos", 0],
        [DAY_2, "crm", 0],
    ]
    excluded = data_access.non_countable_responses(EVERYTHING, Filters())
    assert sorted(excluded["store_id"]) == ["S001", "S001", "S001", "S003"]
    assert set(excluded["exclusion_reason"]) == {"status:test"}
    assert data_access.non_countable_responses(Scope("region", ("R02",)), Filters())["store_id"].tolist() == [
        "S003"
    ]


def test_a_narrower_scope_sees_no_quality_data(quality_home):
    store = Scope("store", ("S001",))
    assert data_access.validation_grid(store).empty
    assert data_access.failing_expectations(store).empty
    assert data_access.quarantine_volume(store).empty
    assert data_access.quarantine_tables(store) == ()
    assert data_access.quarantined_rows(store, "crm_customers").empty


def test_only_allow_listed_tables_reach_sql(quality_home):
    assert data_access.quarantine_tables(EVERYTHING) == ("crm_customers",)
    assert data_access.quarantined_rows(EVERYTHING, "reviews").empty  # allowed, not published yet
    with pytest.raises(quarantine.QuarantineError):
        data_access.quarantined_rows(EVERYTHING, 'crm_customers"; drop table marts.dim_store; --')


@pytest.mark.parametrize(
    ("edited", "expected"),
    [
        ({"member_tier": "gold"}, {"member_tier": "gold"}),
        ({"member_tier": "diamond"}, {}),  # unchanged cells are not corrections
        ({"city": None}, {"city": ""}),  # a cleared cell
        ({"_source_row": "1", "member_tier": "gold"}, {"member_tier": "gold"}),  # lineage is not editable
    ],
    ids=["changed", "unchanged", "cleared", "lineage"],
)
def test_corrections_are_the_changed_delivered_cells(edited, expected):
    delivered = dict(zip(CUSTOMERS.columns, QUARANTINED[1][:9], strict=True))
    assert quarantine.corrections_from_edit(delivered, edited) == expected


def test_the_page_shows_grid_failures_volume_exclusions_and_quarantined_rows(quality_home, run_page):
    at = run_page()
    assert not at.exception
    assert at.title[0].value == "Data quality"
    grid, failing, excluded, rows = (frame.value for frame in at.dataframe[:4])
    assert grid.loc[DAY_2].to_dict() == {"CRM": "Passed", "POS": "Held back"}  # words, not emoji
    assert grid.loc[DAY_1].to_dict() == {"CRM": "Rows quarantined", "POS": "Passed"}
    assert failing["Sample values"].tolist() == ['["diamond"]']
    assert excluded["Reason left out"].tolist() == ["status:test"] * 4
    assert rows[["File", "Line", "Failed expectations"]].values.tolist() == [
        ["customers.csv", 8, "expect_column_values_to_match_regex:phone"],
        ["customers.csv", 12, "expect_column_values_to_be_in_set:member_tier"],
    ]
    assert at.selectbox(key="dq_table").value == "crm_customers"
    assert [info.value for info in at.info] == [
        "No decisions yet.",
        "The retention purge has not run on this warehouse yet.",
    ]


def test_a_release_through_the_page_is_recorded_and_shown(quality_home, run_page):
    at = run_page()
    at.selectbox(key="dq_row").set_value(1).run()  # the buttons act on the row picked in the last run
    at.button(key="dq_release").click().run()
    assert not at.exception
    (decision,) = AppState(quality_home / "app_state.sqlite").decision_history()
    assert (decision.raw_table, decision.source_file, decision.source_row) == (
        "crm_customers",
        "customers.csv",
        12,
    )
    assert (decision.decision, decision.decided_by, decision.corrections) == ("release", "steward.li", {})
    assert "--start 2026-01-05 --end 2026-01-05" in at.success[0].value
    rows = at.dataframe[3].value
    assert rows.set_index("Line")["Decision"].to_dict() == {8: "", 12: "Released"}
    history = at.dataframe[-1].value
    assert history[["Decision", "Decided by", "Line"]].values.tolist() == [["Released", "steward.li", 12]]


def test_a_cell_corrected_in_the_editable_row_is_released_with_the_correction(quality_home, run_page):
    at = run_page()
    at.selectbox(key="dq_row").set_value(1).run()
    # What the browser's data editor reports after the steward changes member_tier in the shown row.
    at.session_state["dq_edit_crm_customers_customers.csv_12"] = {
        "edited_rows": {0: {"member_tier": "gold", "city": "上海"}},
        "added_rows": [],
        "deleted_rows": [],
    }
    at.button(key="dq_release").click().run()
    assert not at.exception
    (decision,) = AppState(quality_home / "app_state.sqlite").decision_history()
    assert (decision.source_row, decision.corrections) == (12, {"member_tier": "gold"})  # city unchanged


def test_a_reject_without_a_reason_is_refused_on_the_page(quality_home, run_page):
    at = run_page()
    at.button(key="dq_reject").click().run()
    assert not at.exception
    assert "reject needs a reason" in at.error[0].value
    assert AppState(quality_home / "app_state.sqlite").decision_history() == []

    at.text_input(key="dq_reason").input("fake phone number")
    at.button(key="dq_reject").click().run()
    (decision,) = AppState(quality_home / "app_state.sqlite").decision_history()
    assert (decision.source_row, decision.decision, decision.reason) == (8, "reject", "fake phone number")


def test_the_page_without_quality_tables_says_so(serving_home, run_page):
    at = run_page()
    assert not at.exception
    assert "No validation results yet." in [info.value for info in at.info]
    assert "No quarantined rows." in [info.value for info in at.info]


# A quarantined CRM row with personal data in its own columns and in one that should hold a city.
PERSONAL_ROW_SQL = """
create schema if not exists quarantine;
create table quarantine.crm_customers (customer_id varchar, name varchar, phone varchar, email varchar,
    member_tier varchar, city varchar, _partition_date date, _source_file varchar, _source_row integer,
    _failed_expectations varchar, _quarantined_at timestamptz);
insert into quarantine.crm_customers values ('C0009', '李雷', '１３８００１３８０００', 'll＠example．com',
    'diamond', '上海 回电 一三八〇〇一三八〇〇〇', '2026-01-05', 'customers.csv', 12, '["member_tier"]',
    '2026-01-05 18:00:00+00');
"""
PERSONAL = ("李雷", "１３８００１３８０００", "ll＠example", "一三八〇〇")


@pytest.fixture
def personal_home(serving_home: Path) -> Path:
    with duckdb.connect(str(serving_home / "serving.duckdb")) as connection:
        connection.execute(PERSONAL_ROW_SQL)
    return serving_home


@pytest.mark.parametrize("role", ["steward", "cx_director"])
def test_quarantined_rows_are_masked_on_screen_in_the_editor_and_in_the_history(
    personal_home, sign_in_as, role
):
    """Regression (issue #12): the viewer showed name, phone and e-mail of quarantined CRM rows unmasked."""
    at = sign_in_as(AppTest.from_file(str(PAGE), default_timeout=30), role).run()
    assert not at.exception
    listing, editor = at.dataframe[0].value, at.dataframe[1].value
    for frame in (listing, editor):
        assert frame[["name", "phone", "email"]].values.tolist() == [
            ["李**", "*******８０００", "***@example.com"]
        ]
        assert frame["city"].tolist() == ["上海 回电 [phone]"]
        assert frame["member_tier"].tolist() == ["diamond"]  # what the steward decides on stays readable
    shown = " ".join(str(element.value) for element in at.dataframe)
    assert not any(value in shown for value in PERSONAL)

    AppState(personal_home / "app_state.sqlite").record_decision(
        "crm_customers", "customers.csv", 12, "release", "steward.li",
        reason="客户说电话是 138 0013 8000", corrections={"phone": "13800138000", "member_tier": "gold"},
    )  # fmt: skip
    at.run()
    history = at.dataframe[-1].value
    assert history[["Corrections", "Reason"]].values.tolist() == [
        ['{"member_tier": "gold", "phone": "*******8000"}', "客户说电话是 [phone]"]
    ]


def test_the_quarantine_question_masks_contacts_even_for_a_role_with_pii_rights(personal_home):
    masked = data_access.quarantined_rows(EVERYTHING, "crm_customers")
    assert masked[["name", "email"]].values.tolist() == [["李**", "***@example.com"]]
    # contact details are for calling customers back (follow-up views), which quarantine is not
    rights = data_access.quarantined_rows(EVERYTHING, "crm_customers", sees_pii=True)
    assert rights[["name", "email"]].values.tolist() == [["李**", "***@example.com"]]


def test_the_viewer_opens_on_the_table_that_has_rows(quality_home, run_page):
    # reference_stores comes first in the allow-list but holds nothing; crm_customers has two rows.
    with duckdb.connect(str(quality_home / "serving.duckdb")) as connection:
        prepare_warehouse(connection, [REFERENCE_STORES])
    at = run_page()
    assert not at.exception
    assert at.selectbox(key="dq_table").options == ["reference_stores", "crm_customers"]
    assert at.selectbox(key="dq_table").value == "crm_customers"
    assert at.dataframe[3].value["Line"].tolist() == [8, 12]


def test_the_page_shows_what_retention_purged_and_when(quality_home, run_page):
    """A purge of the fixture copy's comments (all from January 2026) as of 2026-06-30 with a
    90-day period: its rows are listed with the field, table, column and day, and the last pass
    is named; a narrower scope reads none of it."""
    policy = RetentionPolicy(
        fields={"comments": 90, "ip_addresses": None, "respondent_metadata": None, "reviewer_nicknames": None}
    )
    comment = TaggedColumn(
        "marts.fct_survey_responses", "comment", "comments", "response_date", ("qualtrics",)
    )
    with duckdb.connect(str(quality_home / "serving.duckdb")) as connection:
        (with_comment,) = connection.execute(
            "select count(*) from marts.fct_survey_responses where comment is not null"
        ).fetchone()
        records = purge(connection, policy, date(2026, 6, 30), [comment])
        (left,) = connection.execute(
            "select count(*) from marts.fct_survey_responses where comment is not null"
        ).fetchone()
    assert with_comment > 0 and left == 0 and [r.rows for r in records] == [with_comment]
    purges = data_access.retention_purges(EVERYTHING)
    assert purges[["field", "relation", "column_name", "cutoff", "rows_purged"]].values.tolist() == [
        ["comments", "marts.fct_survey_responses", "comment", date(2026, 4, 1), with_comment]
    ]
    assert data_access.retention_purges(Scope("store", ("S001",))).empty
    at = run_page()
    assert not at.exception
    assert "Retention: what was purged when" in [header.value for header in at.subheader]
    assert any(f"{with_comment} rows purged" in caption.value for caption in at.caption)
    shown = at.dataframe[-1].value
    assert shown.iloc[0].tolist()[1:] == [
        "Comments",  # the field in words, not its code
        "marts.fct_survey_responses",
        "comment",
        date(2026, 4, 1),
        with_comment,
    ]
