"""`cxlake quarantine ...` on a small serving copy: list, show, release, reject, export, history.

The fixture copy holds two quarantined CRM rows of 2026-01-05 (one with a formula-like city, one
with an unknown member tier and contact details written in full-width forms) and one POS row of
2026-01-06, with the dq tables beside them. The CLI names no user, so it shows them masked.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import openpyxl
import pytest
from typer.testing import CliRunner

from assets.ingestion.loading import prepare_warehouse
from assets.ingestion.raw_tables import CRM_CUSTOMERS
from cxlake.app_state import AppState
from cxlake.cli import app
from cxlake.landing import CUSTOMERS

DAY = date(2026, 1, 5)
QUARANTINED_AT = datetime(2026, 1, 5, 18, 0, tzinfo=UTC)
CRM_COLUMNS = CUSTOMERS.columns
CRM_ROWS = [
    # a city a spreadsheet would run as a formula: the export must defuse it, list must keep it
    ("C0007", "王芳", "1391234567", "wf@example.com", "gold", "2025-12-01", "=HYPERLINK(\"http://x\")",
     "S001", "2026-01-05T09:00:00+08:00", "customers.csv", 8,
     '["expect_column_values_to_match_regex:phone"]'),
    # a full-width e-mail, and a phone in Chinese numerals where the city should be (a shifted row)
    ("C0009", "李雷", "13800000000", "ll＠example．com", "diamond", "2025-12-02",
     "上海（电话：一三八〇〇一三八〇〇〇）", "S002", "2026-01-05T10:00:00+08:00", "customers.csv", 12,
     '["expect_column_values_to_be_in_set:member_tier"]'),
]  # fmt: skip
SCHEMA = """
create table quarantine.pos_transactions (transaction_id varchar, store_id varchar, amount varchar,
    _partition_date date, _source_file varchar, _source_row integer, _failed_expectations varchar,
    _quarantined_at timestamptz);
"""


def write_quarantine_copy(path: Path) -> Path:
    """A serving copy with the dq tables and quarantined rows of two raw tables."""
    with duckdb.connect(str(path)) as connection:
        prepare_warehouse(connection, [CRM_CUSTOMERS])  # the pipeline's own dq and quarantine tables
        connection.execute(SCHEMA)
        connection.executemany(
            f"insert into quarantine.crm_customers values ({', '.join(['?'] * 9)}, ?, ?, ?, ?, ?)",
            [(*row[:9], DAY, *row[9:], QUARANTINED_AT) for row in CRM_ROWS],
        )
        connection.execute(
            "insert into quarantine.pos_transactions values"
            " ('T1', 'S001', '-12.5', '2026-01-06', 'transactions.csv', 3, '[\"amount\"]', ?)",
            [QUARANTINED_AT],
        )
    return path


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    write_quarantine_copy(tmp_path / "serving.duckdb")
    monkeypatch.setenv("CXLAKE_HOME", str(tmp_path))
    return tmp_path


def cxlake(*args: str):
    return CliRunner().invoke(app, ["quarantine", *args])


def csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_list_shows_every_table_with_file_line_and_failures(home):
    result = cxlake("list")
    assert result.exit_code == 0, result.output
    rows = csv_rows(result.stdout)
    assert [(r["raw_table"], r["_source_file"], r["_source_row"]) for r in rows] == [
        ("crm_customers", "customers.csv", "8"),
        ("crm_customers", "customers.csv", "12"),
        ("pos_transactions", "transactions.csv", "3"),
    ]
    assert rows[1]["_failed_expectations"] == '["expect_column_values_to_be_in_set:member_tier"]'
    assert "3 quarantined row(s)" in result.stderr


def test_list_of_one_table_and_day_keeps_values_unless_asked_to_defuse(home):
    rows = csv_rows(cxlake("list", "--table", "crm_customers", "--day", "2026-01-05").stdout)
    assert rows[0]["city"] == '=HYPERLINK("http://x")'  # output for further processing: as delivered
    safe = csv_rows(cxlake("list", "--table", "crm_customers", "--excel-safe").stdout)
    assert safe[0]["city"] == '\'=HYPERLINK("http://x")'
    assert csv_rows(cxlake("list", "--table", "crm_customers", "--day", "2026-01-06").stdout) == []


def test_release_with_a_correction_is_recorded_and_says_how_it_takes_effect(home):
    result = cxlake(
        "release", "--table", "crm_customers", "--file", "customers.csv", "--row", "12",
        "--set", "member_tier=gold", "--by", "steward.li", "--reason", "tier renamed upstream",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "cxlake run --landing <folder> --start 2026-01-05 --end 2026-01-05" in result.stdout
    (decision,) = AppState(home / "app_state.sqlite").decision_history()
    assert (decision.raw_table, decision.source_file, decision.source_row) == (
        "crm_customers",
        "customers.csv",
        12,
    )
    assert (decision.decision, decision.decided_by) == ("release", "steward.li")
    assert decision.corrections == {"member_tier": "gold"}

    history = csv_rows(cxlake("history").stdout)
    assert [(h["decision"], h["source_row"], h["corrections"]) for h in history] == [
        ("release", "12", '{"member_tier": "gold"}')
    ]
    listed = csv_rows(cxlake("list", "--table", "crm_customers").stdout)
    assert [(r["_source_row"], r["decision"]) for r in listed] == [("8", ""), ("12", "release")]


def test_a_later_reject_wins_and_both_stay_in_the_history(home):
    base = ("--table", "crm_customers", "--file", "customers.csv", "--row", "8")
    assert cxlake("release", *base, "--by", "li").exit_code == 0
    result = cxlake("reject", *base, "--reason", "fake phone number", "--by", "wang")
    assert result.exit_code == 0, result.output
    assert "stays quarantined" in result.stdout
    assert [h["decision"] for h in csv_rows(cxlake("history", "--table", "crm_customers").stdout)] == [
        "release",
        "reject",
    ]
    latest = AppState(home / "app_state.sqlite").latest_decisions("crm_customers")
    assert latest[("customers.csv", 8)].reason == "fake phone number"
    shown = cxlake("show", *base)
    assert shown.exit_code == 0
    assert "王**" in shown.stdout and "expect_column_values_to_match_regex:phone" in shown.stdout
    assert "王芳" not in shown.stdout and "1391234567" not in shown.stdout
    assert "reject by wang" in shown.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        # an unknown table never reaches SQL
        (("release", "--table", "crm; drop table x", "--file", "customers.csv", "--row", "8", "--by", "li"),
         "unknown table"),
        # the row must be in quarantine (line 9 was loaded)
        (("release", "--table", "crm_customers", "--file", "customers.csv", "--row", "9", "--by", "li"),
         "no row customers.csv:9 in quarantine.crm_customers"),
        # corrections only for the table's delivered columns, not lineage or made-up ones
        (("release", "--table", "crm_customers", "--file", "customers.csv", "--row", "8", "--by", "li",
          "--set", "_source_row=1"), "unknown column(s) _source_row"),
        (("release", "--table", "crm_customers", "--file", "customers.csv", "--row", "8", "--by", "li",
          "--set", "phone"), "expected column=value"),
        # a blank reason is no reason
        (("reject", "--table", "crm_customers", "--file", "customers.csv", "--row", "8", "--by", "li",
          "--reason", "  "), "needs a reason"),
        (("list", "--table", "nope"), "unknown table 'nope'"),
        (("list", "--day", "5 Jan"), "does not match format"),
        (("export", "--table", "crm_customers", "--out", "rows.json"), "must end in .csv or .xlsx"),
        (("history", "--table", "nope"), "unknown table"),
    ],
    ids=["table", "row", "lineage-column", "no-equals", "blank-reason", "list-table", "list-day",
         "export-suffix", "history-table"],
)  # fmt: skip
def test_bad_requests_fail_with_one_line_and_record_nothing(home, args, message):
    result = cxlake(*args)
    assert result.exit_code == 1
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert AppState(home / "app_state.sqlite").decision_history() == []


def test_without_a_serving_copy_the_cli_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("CXLAKE_HOME", str(tmp_path))
    result = cxlake("list")
    assert result.exit_code == 1
    assert "no serving copy" in result.stderr


def test_export_csv_and_xlsx_are_formula_safe(home, tmp_path):
    cxlake("reject", "--table", "crm_customers", "--file", "customers.csv", "--row", "8",
           "--reason", "=cmd|' /C calc'!A0", "--by", "li")  # fmt: skip
    out_csv = tmp_path / "crm.csv"
    result = cxlake("export", "--table", "crm_customers", "--out", str(out_csv))
    assert result.exit_code == 0, result.output
    rows = csv_rows(out_csv.read_bytes().decode("utf-8-sig"))
    assert rows[0]["city"] == '\'=HYPERLINK("http://x")'
    assert rows[0]["reason"] == "'=cmd|' /C calc'!A0"
    assert rows[1]["phone"] == "*******0000"

    out_xlsx = tmp_path / "pos.xlsx"
    assert cxlake("export", "--table", "pos_transactions", "--out", str(out_xlsx)).exit_code == 0
    sheet = openpyxl.load_workbook(out_xlsx).active
    header = [cell.value for cell in sheet[1]]
    values = dict(zip(header, [cell.value for cell in sheet[2]], strict=True))
    assert values["amount"] == "'-12.5"  # delivered as text, so defused like any text
    assert values["_source_row"] == 3  # numbers stay numbers
    assert values["_partition_date"].date() == date(2026, 1, 6)


def test_rows_decisions_and_corrections_are_masked_in_every_command(home, tmp_path):
    """Regression: quarantined CRM rows showed name, phone and e-mail unmasked to stewards (issue #12)."""
    row = ("--table", "crm_customers", "--file", "customers.csv", "--row", "12")
    released = cxlake(
        "release", *row, "--set", "phone=13911112222", "--set", "name=李磊", "--by", "li",
        "--reason", "客户来电更正：１３９ １１１１ ２２２２",
    )  # fmt: skip
    assert released.exit_code == 0, released.output
    listed = csv_rows(cxlake("list", "--table", "crm_customers").stdout)[1]
    assert (listed["name"], listed["phone"], listed["email"]) == ("李**", "*******0000", "***@example.com")
    assert listed["city"] == "上海（电话：[phone]）"  # any text column: contact details masked, rest kept
    assert listed["reason"] == "客户来电更正：[phone]"
    history = csv_rows(cxlake("history").stdout)[0]
    assert history["corrections"] == '{"name": "李**", "phone": "*******2222"}'
    assert history["reason"] == "客户来电更正：[phone]"
    shown = cxlake("show", *row).stdout
    out = tmp_path / "crm.xlsx"
    assert cxlake("export", "--table", "crm_customers", "--out", str(out)).exit_code == 0
    exported = " ".join(str(cell.value) for line in openpyxl.load_workbook(out).active for cell in line)
    for everything in (shown, exported, cxlake("list").stdout):
        for personal in ("李雷", "13800000000", "ll＠example", "一三八〇〇", "13911112222", "李磊", "１３９"):
            assert personal not in everything
    # what the steward needs to decide stays readable
    assert "diamond" in shown and "S002" in shown
    # the stored decision keeps the correction as typed: the loader needs the real value
    (decision,) = AppState(home / "app_state.sqlite").decision_history()
    assert decision.corrections == {"phone": "13911112222", "name": "李磊"}
