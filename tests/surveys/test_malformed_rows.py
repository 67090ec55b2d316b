"""A data row that does not fit its header is read, kept and marked, never loaded as if it were fine
and never a reason to refuse the whole export: the quality gate quarantines it by its
``record_problem`` (as it does a malformed POS record), the rest of the file loads."""

from __future__ import annotations

import codecs
import csv
import io
from pathlib import Path

import openpyxl
import pytest
import xlwt

from cxlake.delivered_files import MAX_FIELD_CHARS
from cxlake.surveys.readers import SurveyReadError, read_survey

FIXTURES = Path(__file__).parents[1] / "fixtures" / "surveys"
APP = FIXTURES / "SV_cxlakeApp_2026-01-05.csv"  # 31 fields, UTF-8 with BOM, CRLF
WJX_TEXT = FIXTURES / "wjx_instore_2026-01-05.csv"  # 16 fields, GB18030
WJX_NUMERIC = FIXTURES / "wjx_instore_numeric.csv"  # 19 fields, UTF-8 with BOM
LEGACY = FIXTURES / "qualtrics_legacy.csv"  # 18 fields: the header's last one is the trailing comma
DELIVERY, PREVIEW = "R_2b3C4d5E6f7G8h9", "R_1AbCdEfGhIjKlMn"  # a response in APP, one in LEGACY


def edited(path: Path, tmp_path: Path, response_id: str, edit, encoding: str = "utf-8-sig") -> Path:
    """A copy of ``path`` whose record starting with, or holding, ``response_id`` went through ``edit``."""
    records = path.read_bytes().decode(encoding).split("\r\n")
    index = next(
        i
        for i, record in enumerate(records)
        if f",{response_id}," in record or record.startswith(f"{response_id},")
    )
    records[index] = edit(records[index])
    out = tmp_path / path.name
    out.write_bytes(
        (codecs.BOM_UTF8 if encoding == "utf-8-sig" else b"")
        + "\r\n".join(records).encode(encoding.removesuffix("-sig"))
    )
    return out


def problems(export) -> dict[str, str]:
    """response_id -> problem, for the responses that have one."""
    marked = export.responses[export.responses.record_problem.notna()]
    return dict(zip(marked.response_id, marked.record_problem, strict=True))


def with_extra(record: str) -> str:
    return record + ",x,y,z,w,v"


def without_last_three(record: str) -> str:
    return record.rsplit(",", 3)[0]


@pytest.mark.parametrize(
    ("path", "response_id", "edit", "encoding", "problem"),
    [
        # the lead's find: five fields appended to one response loaded it as if nothing were wrong
        (APP, DELIVERY, with_extra, "utf-8-sig", "36 fields where the header has 31 (5 more)"),
        # a record cut short (a transfer stopped, a tool dropping cells): its last answers are missing
        (APP, DELIVERY, without_last_three, "utf-8-sig", "28 fields where the header has 31 (3 fewer)"),
        (LEGACY, PREVIEW, with_extra, "utf-8-sig", "23 fields where the header has 18 (5 more)"),
        # a row that stops before the last named column (the legacy header's 18th field has no name)
        (LEGACY, PREVIEW, without_last_three, "utf-8-sig", "15 fields where the header has 18 (3 fewer)"),
        (WJX_TEXT, "102", with_extra, "gb18030", "21 fields where the header has 16 (5 more)"),
        (WJX_TEXT, "102", without_last_three, "gb18030", "13 fields where the header has 16 (3 fewer)"),
        (WJX_NUMERIC, "102", lambda r: r + ",1", "utf-8-sig", "20 fields where the header has 19 (1 more)"),
    ],
    ids=["qualtrics-5-extra", "qualtrics-3-missing", "legacy-5-extra", "legacy-3-missing",
         "wjx-text-5-extra", "wjx-text-3-missing", "wjx-numeric-1-extra"],
)  # fmt: skip
def test_a_row_with_another_field_count_than_its_header_is_marked_and_kept(
    tmp_path, path, response_id, edit, encoding, problem
):
    clean = read_survey(path, timezone="UTC")
    export = read_survey(edited(path, tmp_path, response_id, edit, encoding), timezone="UTC")
    assert problems(clean) == {}
    assert problems(export) == {response_id: problem}
    # nothing lost: every response is still there, the marked one with the answers it has
    assert export.responses.response_id.tolist() == clean.responses.response_id.tolist()
    assert (export.answers.response_id == response_id).any()


def test_the_trailing_comma_of_a_legacy_row_may_be_left_off(tmp_path):
    # the 18th header field has no name: a row without it loses nothing and is no malformed row
    export = read_survey(edited(LEGACY, tmp_path, "R_1AbCdEfGhIjKlMn", lambda r: r.removesuffix(",")))
    assert problems(export) == {}


def test_a_malformed_row_with_an_unknown_status_is_marked_not_a_file_error(tmp_path):
    # a stray comma inside StartDate shifts the row: the Status cell then holds the EndDate
    shifted = edited(
        APP, tmp_path, DELIVERY, lambda r: r.replace("2026-01-05 18:20:05", "2026-01-05,18:20:05")
    )
    export = read_survey(shifted)
    marked = export.responses[export.responses.record_problem.notna()]
    assert marked[["source_row", "status", "record_problem"]].values.tolist() == [
        [6, "2026-01-05 18:21:15", "32 fields where the header has 31 (1 more)"]
    ]
    assert len(export.responses) == 5


def test_a_well_formed_row_with_an_unknown_status_still_names_the_file(tmp_path):
    renamed = edited(APP, tmp_path, DELIVERY, lambda r: r.replace(",IP Address,", ",Mystery,", 1))
    with pytest.raises(SurveyReadError, match="unknown response status 'Mystery'"):
        read_survey(renamed)


def test_a_field_past_the_reader_limit_marks_its_response_and_the_file_still_reads(tmp_path):
    long_comment = "好" * (MAX_FIELD_CHARS + 200_000)
    path = edited(APP, tmp_path, DELIVERY, lambda r: r.replace(",茶饮,,", f",茶饮,{long_comment},", 1))
    export = read_survey(path)
    assert problems(export) == {
        DELIVERY: "Q5 has 1,200,000 characters, more than the reader keeps (1,000,000)"
    }
    comment = export.answers[(export.answers.response_id == DELIVERY) & (export.answers.question_id == "Q5")]
    assert comment.answer.str.len().tolist() == [MAX_FIELD_CHARS]
    assert len(export.responses) == 5


# --- spreadsheets and HTML downloads ---------------------------------------------------------------------


def wjx_workbook(tmp_path: Path, extra: dict[int, list[object]]) -> Path:
    """The 问卷星 text download as .xlsx, with ``extra`` cells appended to the given data rows."""
    text = WJX_TEXT.read_bytes().decode("gb18030")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for number, row in enumerate(rows):
        sheet.append([*row, *extra.get(number, [])])
    path = tmp_path / "wjx_instore_2026-01-05.xlsx"
    workbook.save(path)
    return path


def test_an_xlsx_row_with_cells_right_of_the_header_is_marked(tmp_path):
    export = read_survey(wjx_workbook(tmp_path, {2: ["x", "y", "z", "w", "v"]}))
    assert problems(export) == {"102": "a value in column 17, which has no header"}
    assert export.responses.response_id.tolist() == ["101", "102", "103"]


def test_a_binary_xls_row_with_cells_right_of_the_header_is_marked(tmp_path):
    text = WJX_TEXT.read_bytes().decode("gb18030")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    rows[3] += ["x", "y"]
    workbook = xlwt.Workbook(encoding="utf-8")
    sheet = workbook.add_sheet("Sheet1")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            sheet.write(r, c, value)
    path = tmp_path / "wjx_instore_2026-01-05.xls"
    workbook.save(str(path))
    export = read_survey(path)
    assert problems(export) == {"103": "a value in column 17, which has no header"}


def test_an_xlsx_whose_header_has_a_hole_inside_still_blocks(tmp_path):
    # merged header cells leave unnamed columns between named ones: the header itself is broken
    path = wjx_workbook(tmp_path, {})
    workbook = openpyxl.load_workbook(path)
    workbook.active.cell(1, 10).value = None
    workbook.save(path)
    with pytest.raises(SurveyReadError, match="column.s. 10 hold answers but have no header"):
        read_survey(path)


def test_an_html_download_row_with_extra_cells_is_marked(tmp_path):
    page = (FIXTURES / "wjx_instore_web.xls").read_text(encoding="utf-8")
    first_row_end = page.index("</tr>", page.index("<td>101</td>"))
    path = tmp_path / "wjx_instore_web.xls"
    path.write_text(page[:first_row_end] + "<td>x</td><td>y</td>" + page[first_row_end:], encoding="utf-8")
    export = read_survey(path)
    assert problems(export) == {"101": "18 fields where the header has 16 (2 more)"}


def test_read_survey_names_a_row_that_does_not_fit_the_header_and_leaves_its_answers_out(tmp_path):
    from typer.testing import CliRunner

    from cxlake.cli import app

    delivered = (
        Path(__file__).parents[1] / "fixtures" / "bad_inputs" / "48_qualtrics_row_with_five_extra_fields"
        / "delivered" / "qualtrics" / "2026-03-04" / "SV_cxlakeApp_2026-03-04.csv"
    )  # fmt: skip
    out = tmp_path / "answers.csv"
    result = CliRunner().invoke(app, ["read-survey", str(delivered), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "line 24: 36 fields where the header has 31 (5 more); left out" in result.output
    malformed = read_survey(delivered).responses.query("record_problem.notna()")["response_id"].tolist()
    assert len(malformed) == 1 and malformed[0] not in out.read_text(encoding="utf-8")
