"""Survey export readers, run on fixtures written byte for byte in the tools' layouts."""

from __future__ import annotations

import codecs
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from cxlake.surveys.qualtrics import status_of
from cxlake.surveys.readers import SurveyReadError, read_survey, write_answers_csv
from cxlake.surveys.timestamps import iso, parse_duration, parse_timestamp

FIXTURES = Path(__file__).parents[1] / "fixtures" / "surveys"
APP = FIXTURES / "SV_cxlakeApp_2026-01-05.csv"
WJX_TEXT = FIXTURES / "wjx_instore_2026-01-05.csv"
WJX_NUMERIC = FIXTURES / "wjx_instore_numeric.csv"
SHANGHAI = ZoneInfo("Asia/Shanghai")


def answers_of(export, response_id: str, question_id: str) -> list[str]:
    rows = export.answers
    return rows.loc[(rows.response_id == response_id) & (rows.question_id == question_id), "answer"].tolist()


# --- Qualtrics current layout, choice text (the demo survey) ------------------------------------------


def test_the_app_fixture_is_bom_crlf_with_three_header_rows():
    data = APP.read_bytes()
    assert data.startswith(codecs.BOM_UTF8)
    assert data.split(b"\r\n")[2].startswith(b'"{""ImportId"":""startDate"",""timeZone"":""Asia/Shanghai""}"')


def test_qualtrics_current_gives_ids_statuses_and_times_with_offset():
    export = read_survey(APP)
    responses = export.responses
    assert (export.survey_id, export.tool, export.layout) == (
        "SV_cxlakeApp",
        "qualtrics",
        "qualtrics-current",
    )
    assert responses.response_id.tolist() == [
        "R_1a2B3c4D5e6F7g8", "R_2b3C4d5E6f7G8h9", "R_3c4D5e6F7g8H9i0",
        "R_4d5E6f7G8h9I0j1", "R_5e6F7g8H9i0J1k2",
    ]  # fmt: skip
    assert responses.status.tolist() == ["ok", "ok", "preview", "test", "ok"]
    first = responses.iloc[0]
    assert first.submitted_at == "2026-01-05T12:03:44+08:00"
    assert first.started_at == "2026-01-05T12:01:40+08:00"
    assert first.duration_seconds == 124.0
    assert first.ip_address == "116.22.3.4"
    assert '"UserLanguage": "ZH-S"' in first.metadata


def test_a_choice_text_multi_select_gives_one_row_per_option_but_prose_commas_stay():
    export = read_survey(APP)
    assert answers_of(export, "R_5e6F7g8H9i0J1k2", "Q4") == ["咖啡", "茶饮", "轻食"]
    assert answers_of(export, "R_5e6F7g8H9i0J1k2", "Q5") == ["好喝, 下次再来"]


def test_a_multi_line_comment_is_one_answer_and_the_next_response_starts_on_its_real_line():
    export = read_survey(APP)
    assert answers_of(export, "R_1a2B3c4D5e6F7g8", "Q5") == ['拿铁很好喝\n就是"燕麦奶"没了']
    # the first record spans lines 4-5, so the second starts on physical line 6
    assert export.responses.source_row.tolist() == [4, 6, 7, 8, 9]
    assert set(export.answers.loc[export.answers.response_id == "R_2b3C4d5E6f7G8h9", "source_row"]) == {6}


def test_empty_cells_give_no_answer_rows_and_nps_group_and_embedded_data_are_questions():
    export = read_survey(APP)
    delivery = export.answers[export.answers.response_id == "R_2b3C4d5E6f7G8h9"]
    assert delivery.question_id.tolist() == [
        "Q1", "Q1_NPS_GROUP", "Q2_1", "Q2_4", "Q2_5", "Q2_6", "Q4", "store_id", "transaction_id", "channel",
    ]  # fmt: skip
    assert answers_of(export, "R_2b3C4d5E6f7G8h9", "Q1_NPS_GROUP") == ["Detractor"]
    assert (
        export.answers.question_text[export.answers.question_id == "Q2_6"].iloc[0]
        == "请对本次体验的以下方面打分 - 外卖配送"
    )


# --- Qualtrics current layout, numeric values and status codes ----------------------------------------


def test_numeric_export_maps_status_codes_and_uses_the_header_time_zone():
    export = read_survey(FIXTURES / "SV_numericDemo_2026-01-05.csv")
    assert export.responses.status.tolist() == ["ok", "preview", "test", "spam", "spam", "offline"]
    # row 3 says America/Denver: 08:02:01 local is UTC-7 in January
    assert export.responses.submitted_at.iloc[0] == "2026-01-05T08:02:01-07:00"
    assert answers_of(export, "R_aaaaaaaaaaaaaa1", "Q2") == ["1", "3"]
    assert answers_of(export, "R_aaaaaaaaaaaaaa3", "Q3_TEXT") == ["Faster, please"]
    assert answers_of(export, "R_aaaaaaaaaaaaaa1", "region") == ["west"]
    # Q_ fields are Qualtrics system metadata, not questions
    assert "Q_RecaptchaScore" not in set(export.answers.question_id)
    assert '"Q_RecaptchaScore": "0.9"' in export.responses.metadata.iloc[0]


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        ("0", "ok"), ("1", "preview"), ("2", "test"), ("4", "imported"), ("8", "spam"),
        ("9", "spam"),  # preview spam: spam wins, both are excluded anyway
        ("12", "spam"), ("16", "offline"), ("17", "preview"),  # offline preview is still a preview
        ("IP Address", "ok"), ("Survey Preview", "preview"), ("Survey Test", "test"),
        ("Imported", "imported"), ("Spam", "spam"), ("Offline", "offline"),
    ],
)  # fmt: skip
def test_status_codes_and_texts(raw, status):
    assert status_of(raw) == status


def test_an_unknown_status_names_the_file(tmp_path):
    text = APP.read_text(encoding="utf-8-sig").replace("Survey Test", "Mystery")
    path = tmp_path / "SV_cxlakeApp_2026-01-05.csv"
    path.write_text(text, encoding="utf-8-sig", newline="")
    with pytest.raises(
        SurveyReadError, match=r"SV_cxlakeApp_2026-01-05\.csv: unknown response status 'Mystery'"
    ):
        read_survey(path)


# --- Qualtrics legacy layout -----------------------------------------------------------------------------


def test_qualtrics_legacy_with_bom_and_trailing_commas():
    assert (FIXTURES / "qualtrics_legacy.csv").read_bytes().startswith(codecs.BOM_UTF8)
    export = read_survey(FIXTURES / "qualtrics_legacy.csv", timezone="UTC")
    assert export.layout == "qualtrics-legacy"
    assert export.responses.response_id.tolist() == [
        "R_0OXnRbA2cXQtpvT",
        "R_1AbCdEfGhIjKlMn",
        "R_2BcDeFgHiJkLmNo",
    ]
    assert export.responses.status.tolist() == ["ok", "preview", "ok"]
    assert export.responses.submitted_at.iloc[0] == "2013-05-03T10:17:02+00:00"
    assert export.responses.duration_seconds.iloc[0] == 76.0  # EndDate - StartDate: no duration column
    assert export.questions.question_id.tolist() == ["Q1", "Q2_1", "Q2_2", "Q3"]  # no column for the comma
    assert answers_of(export, "R_2BcDeFgHiJkLmNo", "Q3") == ["Fast, friendly"]
    assert '"ResponseSet": "Default Response Set"' in export.responses.metadata.iloc[0]


# --- 问卷星 -------------------------------------------------------------------------------------------------


def test_wjx_text_csv_in_gb18030_is_decoded_not_garbled():
    data = WJX_TEXT.read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    export = read_survey(WJX_TEXT)
    assert (export.survey_id, export.tool, export.layout) == ("wjx_instore", "wjx", "wjx-text")
    assert export.questions.question_text.tolist()[:2] == ["门店编号", "小票号"]
    assert answers_of(export, "101", "Q9") == ["咖啡", "甜品"]


def test_a_utf8_wjx_file_is_not_misread_as_gb18030(tmp_path):
    # UTF-8 Chinese also decodes as GB18030 without error, into garbage: UTF-8 must be tried first
    text = WJX_TEXT.read_bytes().decode("gb18030")
    utf8 = tmp_path / "wjx_instore_2026-01-05.csv"
    utf8.write_bytes(text.encode("utf-8"))
    pd.testing.assert_frame_equal(read_survey(utf8).answers, read_survey(WJX_TEXT).answers)


def test_wjx_text_metadata_times_skips_and_ip():
    export = read_survey(WJX_TEXT)
    responses = export.responses
    assert responses.response_id.tolist() == ["101", "102", "103"]
    assert responses.status.tolist() == ["ok", "ok", "ok"]
    assert responses.submitted_at.tolist()[0] == "2026-01-05T12:03:44+08:00"
    assert responses.started_at.tolist()[0] == "2026-01-05T12:01:39+08:00"  # 125 s before submission
    assert responses.duration_seconds.tolist() == [125.0, 61.0, 125.0]  # "2分5秒" is 125 s
    assert responses.ip_address.tolist() == ["116.22.3.4", "223.104.9.77", ""]
    assert answers_of(export, "102", "Q6") == []  # (跳过)
    assert answers_of(export, "102", "Q10") == []  # (空)
    assert '"来自IP": "116.22.3.4(广东-广州)"' in responses.metadata.iloc[0]


def test_wjx_text_and_numeric_downloads_agree_on_responses_questions_and_options():
    text = read_survey(WJX_TEXT)
    # Q3 is the NPS question: the numeric download numbers its options 1-11 for the scores 0-10
    numeric = read_survey(WJX_NUMERIC, survey_id="wjx_instore", nps_questions=("Q3",))
    assert numeric.layout == "wjx-numeric"
    assert WJX_NUMERIC.read_bytes().startswith(codecs.BOM_UTF8)
    assert numeric.responses.response_id.tolist() == text.responses.response_id.tolist()
    assert numeric.questions.question_id.tolist() == text.questions.question_id.tolist()
    for response_id in ("101", "102", "103"):
        for question_id in ("Q1", "Q2", "Q3", "Q9", "Q10"):
            assert answers_of(numeric, response_id, question_id) == answers_of(text, response_id, question_id)
    assert answers_of(numeric, "101", "Q4") == ["5"]
    assert answers_of(numeric, "102", "Q6") == []  # -3: skipped


def test_a_real_xlsx_reads_like_the_csv_download():
    xlsx = read_survey(FIXTURES / "wjx_instore.xlsx")
    assert FIXTURES.joinpath("wjx_instore.xlsx").read_bytes()[:4] == b"PK\x03\x04"
    pd.testing.assert_frame_equal(xlsx.answers, read_survey(WJX_TEXT).answers)
    assert xlsx.responses.source_row.tolist() == [2, 3, 4]


def test_a_binary_xls_with_a_matrix_question():
    export = read_survey(FIXTURES / "wjx_matrix.xls")
    first = export.answers[export.answers.response_id == "1"]
    assert first.question_id.tolist() == ["Q1", "Q2", "Q2", "Q3_1", "Q3_2"]  # Q3_3 (跳过), Q4 (空)
    assert first.question_text.tolist()[3:] == ["3(口味)", "3(环境)"]
    assert answers_of(export, "2", "Q3_3") == ["满意"]
    assert export.responses.duration_seconds.tolist() == [30.0, 62.0]


def test_an_xls_that_is_really_html_is_read_by_its_bytes():
    export = read_survey(FIXTURES / "wjx_instore_web.xls", survey_id="wjx_instore")
    assert export.responses.response_id.tolist() == ["101", "102"]
    expected = read_survey(WJX_TEXT).answers
    pd.testing.assert_frame_equal(export.answers, expected[expected.response_id.isin(["101", "102"])])


def test_an_xls_named_file_holding_csv_is_read_as_csv(tmp_path):
    path = tmp_path / "wjx_instore.xls"
    path.write_bytes(WJX_TEXT.read_bytes())
    assert read_survey(path).layout == "wjx-text"


# --- errors: one line, naming the file ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("orders.csv", (FIXTURES / "unknown_layout.csv").read_bytes(), "unknown layout"),
        ("bad.csv", b"\x80\x81,\xff\n1,2\n", "encoding: neither UTF-8 nor GB18030"),
        ("bom.csv", codecs.BOM_UTF8 + "序号".encode("gb18030"), "encoding: UTF-8 BOM but invalid UTF-8"),
        ("empty.csv", b"\r\n", "empty file"),
        ("export.xlsx", b"PK\x03\x04 not really a zip", "not an .xlsx workbook"),
        (
            "login.xls",
            b"<!DOCTYPE html><html><body>please log in</body></html>",
            "HTML page without a data table",
        ),
    ],
)
def test_unreadable_files_give_one_line_naming_the_file(tmp_path, name, data, reason):
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(SurveyReadError) as caught:
        read_survey(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    assert reason in message
    assert "\n" not in message


def test_a_forced_format_that_does_not_fit_is_an_unknown_layout():
    with pytest.raises(
        SurveyReadError, match=r"wjx_instore_2026-01-05\.csv: unknown layout: not a qualtrics"
    ):
        read_survey(WJX_TEXT, format="qualtrics")


def test_a_missing_file_names_the_file(tmp_path):
    with pytest.raises(SurveyReadError, match="nope.csv: cannot open"):
        read_survey(tmp_path / "nope.csv")


# --- output and helpers ------------------------------------------------------------------------------


def test_a_header_only_export_gives_empty_frames_with_the_documented_columns(tmp_path):
    path = tmp_path / "wjx_instore_2026-01-06.csv"
    path.write_bytes(WJX_TEXT.read_bytes().split(b"\r\n")[0] + b"\r\n")
    export = read_survey(path)
    assert len(export.responses) == 0 and len(export.answers) == 0
    assert export.answers.columns.tolist()[-1] == "source_row"
    assert len(export.questions) == 10


def test_write_answers_csv_writes_the_seven_columns_in_utf8(tmp_path):
    out = tmp_path / "out" / "answers.csv"
    write_answers_csv(read_survey(WJX_TEXT), out)
    written = pd.read_csv(out, dtype=str, keep_default_na=False, encoding="utf-8")
    assert written.columns.tolist() == [
        "survey_id", "response_id", "submitted_at", "status", "question_id", "question_text", "answer",
    ]  # fmt: skip
    assert len(written) == 30
    assert written.iloc[0].tolist() == [
        "wjx_instore", "101", "2026-01-05T12:03:44+08:00", "ok", "Q1", "门店编号", "S007",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026/1/5 12:03:44", "2026-01-05T12:03:44+08:00"),  # 问卷星
        ("2026-01-05 12:03:44", "2026-01-05T12:03:44+08:00"),  # Qualtrics, zone from the header
        ("2026-01-05T04:03:44Z", "2026-01-05T04:03:44+00:00"),  # an explicit zone is kept
        ("2026-01-05 12:03:44+0900", "2026-01-05T12:03:44+09:00"),
        ("1/5/2026 3:04 PM", "2026-01-05T15:04:00+08:00"),  # an export re-saved by Excel
        ("2026-13-05 12:00:00", ""),  # not a date
        ("", ""),
    ],
)
def test_timestamps(text, expected):
    assert iso(parse_timestamp(text, SHANGHAI)) == expected


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("125秒", 125.0), ("2分5秒", 125.0), ("1小时2分", 3720.0), ("125", 125.0), ("", None), ("N/A", None)],
)
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


def test_a_current_export_without_the_import_id_row_is_still_current(tmp_path):
    # older "current" downloads have only the id and text rows; everything shifts up one line
    lines = APP.read_bytes().split(b"\r\n")
    path = tmp_path / "SV_cxlakeApp_2026-01-05.csv"
    path.write_bytes(b"\r\n".join(lines[:2] + lines[3:]))
    export, full = read_survey(path), read_survey(APP)
    assert export.layout == "qualtrics-current"
    not_q4 = ["survey_id", "response_id", "question_id", "answer"]
    assert export.answers.loc[export.answers.question_id != "Q4", not_q4].values.tolist() == (
        full.answers.loc[full.answers.question_id != "Q4", not_q4].values.tolist()
    )
    # without import ids a multi-select cannot be told from a text answer: the cell stays whole
    assert answers_of(export, "R_5e6F7g8H9i0J1k2", "Q4") == ["咖啡,茶饮,轻食"]
    assert export.responses.source_row.tolist() == [3, 5, 6, 7, 8]


def test_an_unknown_time_zone_in_the_header_names_the_file(tmp_path):
    path = tmp_path / "SV_cxlakeApp_2026-01-05.csv"
    path.write_bytes(APP.read_bytes().replace(b"Asia/Shanghai", b"Mars/Olympus", 1))
    with pytest.raises(SurveyReadError, match=r"\.csv: unknown time zone 'Mars/Olympus' in the header"):
        read_survey(path)


def test_a_data_row_shorter_than_the_header_is_read_as_far_as_it_goes_and_marked(tmp_path):
    # a record cut off (or re-saved without its last cells): what it has is read, and the gate
    # quarantines it for its record_problem, since what it lacks cannot be told from empty answers
    path = tmp_path / "qualtrics_legacy.csv"
    path.write_bytes(
        (FIXTURES / "qualtrics_legacy.csv").read_bytes().replace(b"Great coffee,39.9,116.4,-1,", b"")
    )
    export = read_survey(path)
    assert answers_of(export, "R_0OXnRbA2cXQtpvT", "Q1") == ["9"]
    assert answers_of(export, "R_0OXnRbA2cXQtpvT", "Q3") == []
    assert export.responses.record_problem.tolist()[0] == "14 fields where the header has 18 (4 fewer)"
