"""Exports for people: text a spreadsheet would run as a formula is defused; everything else is kept."""

from __future__ import annotations

import io
import os
import stat
from datetime import datetime, timedelta, timezone

import openpyxl
import pandas as pd
import pytest

from cxlake.exports import excel_safe, to_csv_bytes, to_xlsx_bytes, write_csv


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+8613800000000", "'+8613800000000"),  # a phone in international form is still text to Excel
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ('=HYPERLINK("http://evil","点我")', '\'=HYPERLINK("http://evil","点我")'),
        ("上海 = 好", "上海 = 好"),  # only the first character matters
        ("13800000000", "13800000000"),
        ("", ""),
        # regression (issue #12): only ASCII = + - @ were caught
        ("＝1+1", "'＝1+1"),  # full-width, as a Chinese IME types it
        ("＋86 138", "'＋86 138"),
        ("－2", "'－2"),
        ("＠SUM(A1)", "'＠SUM(A1)"),
        ("﹦1+1", "'﹦1+1"),  # small form variants
        ("﹢1", "'﹢1"),
        ("﹣1", "'﹣1"),
        ("﹫SUM(A1)", "'﹫SUM(A1)"),
        ("⁼1", "'⁼1"),  # superscript equals, NFKC '='
        ("\u22121", "'\u22121"),  # MINUS SIGN
        ("\u2796 1", "'\u2796 1"),  # HEAVY MINUS SIGN
        (" =1+1", "' =1+1"),  # behind a space
        ("\u3000＝1+1", "'\u3000＝1+1"),  # behind an ideographic space
        ("\u00a0=1", "'\u00a0=1"),  # behind a no-break space
        ("\u200b=1", "'\u200b=1"),  # behind a zero-width space
        ("\ufeff@x", "'\ufeff@x"),  # behind a byte-order mark
        ("\n=1", "'\n=1"),  # a line feed first
        ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),  # DDE
        ("＝cmd|' /C calc'!A0", "'＝cmd|' /C calc'!A0"),  # DDE, full-width
        ("@cmd|'/c calc'!A0", "'@cmd|'/c calc'!A0"),
        ("   ", "   "),  # only spaces: nothing to run
        ("a=1", "a=1"),
        ("好＝1", "好＝1"),
        ("１＋１", "１＋１"),  # full-width digits first: a number, not a formula
        ("'=1", "'=1"),  # already quoted
    ],
    ids=[
        "equals", "plus", "minus", "at", "tab", "cr", "hyperlink", "inner-equals", "digits", "empty",
        "fullwidth-equals", "fullwidth-plus", "fullwidth-minus", "fullwidth-at", "small-equals",
        "small-plus", "small-minus", "small-at", "superscript-equals", "minus-sign", "heavy-minus",
        "space-equals", "ideographic-space", "nbsp", "zero-width-space", "bom", "line-feed", "dde",
        "dde-fullwidth", "dde-at", "only-spaces", "inner-ascii", "inner-fullwidth", "fullwidth-digits",
        "quoted",
    ],
)  # fmt: skip
def test_text_cells_that_start_a_formula_get_a_quote(value, expected):
    frame = pd.DataFrame({"text": [value]})
    assert excel_safe(frame)["text"].tolist() == [expected]


def test_numbers_dates_missing_values_and_the_input_are_untouched():
    frame = pd.DataFrame(
        {
            "amount": [-12.5, 3.0],
            "count": [-1, 2],
            "day": pd.to_datetime(["2026-01-05", "2026-01-06"]),
            "text": pd.array(["-1", None], dtype="string"),
            "mixed": ["=x", 5],
        }
    )
    safe = excel_safe(frame)
    assert safe["amount"].tolist() == [-12.5, 3.0]
    assert safe["count"].tolist() == [-1, 2]
    assert safe["day"].equals(frame["day"])
    assert safe["text"].tolist()[0] == "'-1" and pd.isna(safe["text"].tolist()[1])
    assert safe["mixed"].tolist() == ["'=x", 5]
    assert frame["text"].tolist()[0] == "-1"  # a copy, not the caller's frame


def test_column_names_are_defused_too():
    assert excel_safe(pd.DataFrame({"=cmd": ["a"]})).columns.tolist() == ["'=cmd"]


def test_csv_bytes_have_a_bom_and_can_keep_values_for_machines():
    frame = pd.DataFrame({"name": ["王芳"], "phone": ["=1"]})
    assert to_csv_bytes(frame) == "\ufeffname,phone\n王芳,'=1\n".encode()
    assert to_csv_bytes(frame, excel_safe_cells=False).decode("utf-8-sig") == "name,phone\n王芳,=1\n"


def test_xlsx_bytes_hold_text_not_formulas_and_keep_numbers_and_times():
    shanghai = timezone(timedelta(hours=8))
    frame = pd.DataFrame(
        {
            "phone": ["=1+1"],
            "amount": [-12.5],
            "at": pd.Series([datetime(2026, 1, 5, 20, 0, tzinfo=shanghai)]),
        }
    )
    sheet = openpyxl.load_workbook(io.BytesIO(to_xlsx_bytes(frame))).active
    phone, amount, at = (cell for cell in sheet[2])
    assert (phone.value, phone.data_type) == ("'=1+1", "s")
    assert amount.value == -12.5
    assert at.value == datetime(2026, 1, 5, 12, 0)  # written in UTC: Excel has no time zones


def test_a_full_width_formula_stays_text_in_csv_and_xlsx():
    """Regression (issue #12): ``＝HYPERLINK(…)`` passed the ASCII-only check."""
    frame = pd.DataFrame({"comment": ['＝HYPERLINK("http://evil","点我")'], "＝col": ["x"]})
    parsed = pd.read_csv(io.BytesIO(to_csv_bytes(frame)), encoding="utf-8-sig", dtype=str)
    assert parsed.columns.tolist() == ["comment", "'＝col"]
    assert parsed["comment"].tolist() == ['\'＝HYPERLINK("http://evil","点我")']
    sheet = openpyxl.load_workbook(io.BytesIO(to_xlsx_bytes(frame))).active
    assert [cell.value for cell in sheet[1]] == ["comment", "'＝col"]
    assert (sheet["A2"].value, sheet["A2"].data_type) == ('\'＝HYPERLINK("http://evil","点我")', "s")


def test_a_written_export_is_readable_by_its_owner_only_even_when_it_replaces_an_open_file(tmp_path):
    # An export holds customers' rows; under the usual umask 022 it was readable by every local user.
    out = tmp_path / "scores.csv"
    out.write_text("old", encoding="utf-8")
    out.chmod(0o644)
    previous = os.umask(0o022)
    try:
        write_csv(pd.DataFrame({"phone": ["13800000000"]}), out, "gb18030")
    finally:
        os.umask(previous)
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert out.read_text(encoding="gb18030") == "phone\n13800000000\n"
