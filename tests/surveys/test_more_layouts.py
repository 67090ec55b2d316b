"""SurveyMonkey, 腾讯问卷, zipped downloads and 问卷星's English and numeric variants, read from fixtures
written byte for byte as the tools write them (see tests/fixtures/surveys/README.md), and from
variants of them no tool wrote on purpose: other line ends and encodings, headers only, odd zips."""

from __future__ import annotations

import codecs
import io
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from assets.ingestion import raw_tables as rt
from assets.ingestion.sources import survey_loader
from cxlake.cli import app
from cxlake.surveys.mapping import check_survey, load_mapping, load_mappings
from cxlake.surveys.readers import SurveyReadError, read_survey

FIXTURES = Path(__file__).parents[1] / "fixtures" / "surveys"
SM = FIXTURES / "sm_cafe_expanded.csv"
SM_SPLIT = FIXTURES / "sm_cafe_split.zip"
TENCENT = FIXTURES / "tencent_store_visit.csv"
TENCENT_EXCEL = FIXTURES / "tencent_store_visit_excel.csv"
WJX_EN = FIXTURES / "wjx_instore_en.csv"
WJX_NUMERIC = FIXTURES / "wjx_instore_numeric.csv"
QUALTRICS_ZIP = FIXTURES / "SV_cxlakeApp_download.zip"


def answers_of(export, response_id: str, question_id: str) -> list[str]:
    rows = export.answers
    return rows.loc[(rows.response_id == response_id) & (rows.question_id == question_id), "answer"].tolist()


def response(export, response_id: str) -> pd.Series:
    return export.responses.set_index("response_id").loc[response_id]


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def written(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


# --- SurveyMonkey expanded ------------------------------------------------------------------------------


def test_the_surveymonkey_fixture_has_a_bom_crlf_and_nul_bytes_under_the_metadata():
    data = SM.read_bytes()
    assert data.startswith(codecs.BOM_UTF8)
    assert data.split(b"\r\n")[1].startswith(b"\x00,\x00,")


def test_surveymonkey_gives_ids_times_and_a_score():
    export = read_survey(SM)
    assert (export.tool, export.layout, export.survey_id) == (
        "surveymonkey",
        "surveymonkey-expanded",
        "sm_cafe_expanded",
    )
    assert export.responses.response_id.tolist() == ["10384592001", "10384592002", "10384592003"]
    first = response(export, "10384592001")
    assert first.submitted_at == "2026-01-05T12:03:44+08:00"  # EndDate 01/05/2026 12:03:44, Shanghai
    assert first.started_at == "2026-01-05T12:01:40+08:00"
    assert first.duration_seconds == 124.0
    assert first.ip_address == "116.22.3.4"
    assert '"Custom Data": "S007"' in first.metadata
    assert answers_of(export, "10384592001", "Q1") == ["9"]
    assert answers_of(export, "10384592003", "Q1") == ["10"]


def test_surveymonkey_multi_select_gives_one_answer_per_chosen_option_and_other_is_its_own_question():
    export = read_survey(SM)
    assert answers_of(export, "10384592003", "Q2") == ["Coffee", "Tea", "Pastry", "Sandwich"]
    assert answers_of(export, "10384592002", "Q2") == ["Tea"]
    assert answers_of(export, "10384592002", "Q2_5") == ["oat milk latte"]
    assert answers_of(export, "10384592002", "Q3_2") == ["Dissatisfied"]
    assert answers_of(export, "10384592002", "Q3_3") == []
    questions = dict(zip(export.questions.question_id, export.questions.question_text, strict=True))
    assert questions["Q3_2"] == "How satisfied were you with: - Speed"  # "Speed <br>" in row 2
    assert questions["Q2_5"].endswith(" - Other (please specify)")
    assert list(questions) == ["Q1", "Q2", "Q2_5", "Q3_1", "Q3_2", "Q3_3", "Q4", "custom_data_1"]


def test_surveymonkey_nul_bytes_nbsp_and_br_are_cleaned_and_line_breaks_in_answers_kept():
    export = read_survey(SM)
    assert answers_of(export, "10384592001", "Q4") == ["拿铁很好喝 下次再来"]  # U+00A0 -> space
    assert answers_of(export, "10384592002", "Q4") == ['Slow today, "20 min"\nwait']
    # "Pastry\xa0" and "Sandwich<br>" in row 2 are the options Pastry and Sandwich
    assert set(export.answers.answer) >= {"Pastry", "Sandwich"}
    text = (
        "".join(export.answers.answer)
        + "".join(export.responses.metadata)
        + "".join(export.questions.question_text)
    )
    assert "\x00" not in text and "\xa0" not in text and "<br" not in text
    assert export.warnings == ["line 2: removed 9 NUL byte(s) from the header"]


def test_surveymonkey_newer_names_and_lf_line_ends_read_the_same(tmp_path):
    text = SM.read_bytes().decode("utf-8-sig").replace("\r\n", "\n")
    newer = (
        "Respondent ID,Collector ID,Start Date,End Date,IP Address,Email Address,First Name,Last Name,"
        "Custom Data 1"
    )
    old = (
        "RespondentID,CollectorID,StartDate,EndDate,IP Address,Email Address,First Name,LastName,Custom Data"
    )
    path = written(tmp_path, "sm.csv", text.replace(old, newer).encode("utf-8"))
    export = read_survey(path)
    pd.testing.assert_frame_equal(  # the same answers; Custom Data's text is the header's
        export.answers.drop(columns=["survey_id", "question_text"]),
        read_survey(SM).answers.drop(columns=["survey_id", "question_text"]),
    )
    assert answers_of(export, "10384592001", "custom_data_1") == ["S007"]
    assert response(export, "10384592002").submitted_at == "2026-01-05T15:30:02+08:00"


def test_a_store_code_carried_in_custom_data_is_a_question_the_mapping_can_name(tmp_path):
    # A collector link per store (https://www.surveymonkey.com/r/XYZ?c=S007) puts the code in
    # Custom Data, the one place the store is then written; older and newer header names alike.
    mapping_file = tmp_path / "sm_cafe_expanded.yaml"
    mapping_file.write_text(
        "survey_id: sm_cafe_expanded\ntool: surveymonkey\nfiles: 'sm_cafe_*'\ntimezone: Asia/Shanghai\n"
        "fields: {store_id: custom_data_1, nps: Q1, comment: Q4}\nconstants: {channel: in_store}\n"
        "csat: {Q3_1: taste}\nscales: {csat: {Neutral: 3, Satisfied: 4, Very satisfied: 5}}\n",
        encoding="utf-8",
    )
    mapping = load_mapping(mapping_file)
    check = check_survey(SM, mapping)
    assert check.ok, check.render()
    assert check.mapped_questions == ["Q1", "Q3_1", "Q4", "custom_data_1"]
    export = read_survey(SM)
    stores = export.answers.query("question_id == 'custom_data_1'")
    assert dict(zip(stores.response_id, stores.answer, strict=True)) == {
        "10384592001": "S007", "10384592002": "S012", "10384592003": "S007",
    }  # fmt: skip
    second = "Custom Data 2"
    text = SM.read_bytes().decode("utf-8-sig").replace("Custom Data,", f"Custom Data 1,{second},")
    lines = text.split("\r\n")
    lines[1:] = [line.replace(",S0", ",,S0", 1) if line else line for line in lines[1:]]
    lines[1] = lines[1].replace(" , , , , , , , , ,", " , , , , , , , , , ,", 1)
    two = read_survey(written(tmp_path, "sm_two.csv", "\r\n".join(lines).encode("utf-8")))
    assert two.questions.question_id.tolist()[-2:] == ["custom_data_1", "custom_data_2"]
    assert answers_of(two, "10384592002", "custom_data_2") == ["S012"]
    assert answers_of(two, "10384592002", "custom_data_1") == []


def test_a_surveymonkey_export_with_headers_only_has_questions_and_no_responses(tmp_path):
    header = b"\r\n".join(SM.read_bytes().split(b"\r\n")[:2]) + b"\r\n"
    export = read_survey(written(tmp_path, "sm_empty.csv", header))
    assert export.layout == "surveymonkey-expanded"
    assert export.responses.empty and export.answers.empty
    assert export.questions.question_id.tolist()[:2] == ["Q1", "Q2"]


# --- zipped downloads ----------------------------------------------------------------------------------


def test_a_zipped_surveymonkey_export_reads_like_the_csv():
    zipped = read_survey(FIXTURES / "sm_cafe_expanded.zip", survey_id="sm_cafe_expanded")
    pd.testing.assert_frame_equal(zipped.answers, read_survey(SM).answers)
    assert zipped.warnings == ["CSV/Sheet_1.csv: line 2: removed 9 NUL byte(s) from the header"]


def test_a_split_export_is_joined_back_and_keeps_a_response_that_answered_nothing_in_one_part():
    with zipfile.ZipFile(SM_SPLIT) as archive:
        widths = [
            len(archive.read(n).decode("utf-8-sig").split("\r\n")[0].split(",")) for n in archive.namelist()
        ]
    assert widths == [256, 5]  # split at 256 columns, inside the store-rating matrix
    export = read_survey(SM_SPLIT)
    assert export.responses.response_id.tolist() == ["10384592001", "10384592002"]
    assert answers_of(export, "10384592001", "Q2_250") == ["4"]  # a column of Sheet_2.csv
    assert answers_of(export, "10384592001", "Q3") == ["拿铁很好喝"]
    assert answers_of(export, "10384592002", "Q2_12") == ["2"]
    assert export.questions.question_id.tolist()[-3:] == ["Q2_250", "Q3", "custom_data_1"]
    assert export.responses.source_row.tolist() == [3, 4]


def test_split_parts_that_repeat_the_metadata_are_joined_on_the_respondent_id(tmp_path):
    with zipfile.ZipFile(SM_SPLIT) as archive:
        first = archive.read("CSV/Sheet_1.csv").decode("utf-8-sig").split("\r\n")
        second = archive.read("CSV/Sheet_2.csv").decode("utf-8-sig").split("\r\n")
    lead = [",".join(line.split(",")[:9]) for line in first]
    repeated = (
        "\r\n".join(f"{meta},{rest}" for meta, rest in zip(lead[:-1], second[:-1], strict=True)) + "\r\n"
    )
    path = written(
        tmp_path,
        "split.zip",
        zip_bytes({"Sheet_1.csv": "\r\n".join(first).encode(), "Sheet_2.csv": repeated.encode()}),
    )
    pd.testing.assert_frame_equal(
        read_survey(path, survey_id="x").answers, read_survey(SM_SPLIT, survey_id="x").answers
    )
    swapped = (
        repeated.replace("10384592001", "X").replace("10384592002", "10384592001").replace("X", "10384592002")
    )
    path = written(
        tmp_path,
        "swapped.zip",
        zip_bytes({"Sheet_1.csv": "\r\n".join(first).encode(), "Sheet_2.csv": swapped.encode()}),
    )
    with pytest.raises(SurveyReadError, match=r"swapped\.zip: Sheet_2\.csv holds other respondents"):
        read_survey(path)


def test_a_zipped_qualtrics_download_reads_like_the_csv():
    export = read_survey(QUALTRICS_ZIP, survey_id="SV_cxlakeApp")
    plain = read_survey(FIXTURES / "SV_cxlakeApp_2026-01-05.csv")
    assert export.layout == "qualtrics-current"
    pd.testing.assert_frame_equal(export.answers, plain.answers)
    assert response(export, "R_1a2B3c4D5e6F7g8").submitted_at == "2026-01-05T12:03:44+08:00"


def test_a_zip_with_a_survey_and_other_files_reads_the_survey_and_names_the_rest():
    data = zip_bytes(
        {
            "export/survey.csv": TENCENT.read_bytes(),
            "export/SPSS编码.txt": b"VARIABLE LABELS",
            "__MACOSX/export/._survey.csv": b"\x00\x05\x16\x07",
        }
    )
    export = read_survey("download.zip", data=data)
    assert export.layout == "tencent-csv" and len(export.responses) == 3
    assert "export/SPSS编码.txt: not a survey export by its name; left unread" in export.warnings


@pytest.mark.parametrize(
    ("members", "reason"),
    [
        ({"readme.txt": b"hello"}, "a zip archive holding no survey export (it holds readme.txt)"),
        ({}, "a zip archive holding no survey export (it holds nothing)"),
        ({"orders.csv": b"order_id,amount\r\n1,35.5\r\n"}, "orders.csv in the zip: unknown layout"),
        ({"a.csv": b"", "b.csv": b"x"}, "a.csv: empty file"),
        (
            {"one.csv": TENCENT.read_bytes(), "two.csv": SM.read_bytes()},
            "holding 2 survey files (one.csv, two.csv)",
        ),
        (
            {"Sheet_1.csv": SM.read_bytes(), "Sheet_2.csv": b"Q9\r\nlabel\r\n1\r\n"},
            "Sheet_2.csv has 3 rows where Sheet_1.csv has 5",
        ),
    ],
)
def test_a_zip_without_one_readable_survey_is_one_line_naming_the_file(tmp_path, members, reason):
    path = written(tmp_path, "download.zip", zip_bytes(members))
    with pytest.raises(SurveyReadError) as caught:
        read_survey(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ") and reason in message and "\n" not in message


# --- 腾讯问卷 ------------------------------------------------------------------------------------------


def test_the_tencent_fixture_quotes_everything_and_ends_each_line_with_a_comma():
    lines = TENCENT.read_bytes().split(b"\n")
    assert not TENCENT.read_bytes().startswith(codecs.BOM_UTF8)
    assert lines[0].startswith('"编号","开始答题时间","结束答题时间"'.encode())
    assert all(line.endswith(b'",') for line in lines[:2])
    assert b'"\t0158"' in lines[1]


def test_tencent_is_its_own_layout_with_times_placed_on_a_day():
    export = read_survey(TENCENT)
    assert (export.tool, export.layout) == ("tencent", "tencent-csv")
    second = response(export, "2794")
    assert second.submitted_at == "2020-09-01T18:56:57+08:00"  # 结束答题时间 01-Sep-2020 18:56:57
    assert second.started_at == "2020-09-01T18:55:30+08:00"
    assert second.duration_seconds == 87.0  # 答题时长
    assert '"昵称": "山雾^O^"' in second.metadata
    assert export.responses.submitted_at.str.len().gt(0).all()


def test_tencent_cascade_levels_stay_in_order_and_tabs_and_formulas_are_stripped():
    export = read_survey(TENCENT)
    assert answers_of(export, "2794", "Q3_1") + answers_of(export, "2794", "Q3_2") + answers_of(
        export, "2794", "Q3_3"
    ) == ["上海市", "静安区", "S012 静安寺店"]
    order = export.answers[export.answers.response_id == "2794"].question_id.tolist()
    assert order[order.index("Q3_1") : order.index("Q3_1") + 3] == ["Q3_1", "Q3_2", "Q3_3"]
    assert answers_of(export, "2794", "Q1") == ["0042"]  # "\t0042": the TAB only keeps Excel off it
    assert answers_of(export, "2794", "Q4") == ["4"]
    assert answers_of(export, "2794", "Q5")[0].startswith(
        "https://wj.qq.com/api/files/download?survey_id=8812345"
    )
    assert answers_of(export, "2795", "Q2_1") == ["今天"]
    questions = dict(zip(export.questions.question_id, export.questions.question_text, strict=True))
    assert questions["Q3_2"] == "到访门店:请选择 [2]"


def test_tencent_saved_again_by_excel_in_gbk_reads_the_same_answers_at_minute_times():
    excel = read_survey(TENCENT_EXCEL, survey_id="tencent_store_visit")
    pd.testing.assert_frame_equal(
        excel.answers.drop(columns="submitted_at"), read_survey(TENCENT).answers.drop(columns="submitted_at")
    )
    assert response(excel, "2794").submitted_at == "2020-09-01T18:56:00+08:00"  # 2020/9/1 18:56


@pytest.mark.parametrize(
    ("encoding", "newline"),
    [("utf-8-sig", "\n"), ("utf-8", "\r\n"), ("gb18030", "\r\n"), ("gbk", "\n"), ("utf-8-sig", "\r\n")],
)
def test_tencent_in_other_encodings_and_line_ends_reads_the_same(tmp_path, encoding, newline):
    # line ends only: a line break inside a quoted answer stays as the tool wrote it
    text = TENCENT.read_bytes().decode("utf-8").replace('",\n', '",' + newline)
    path = written(tmp_path, "tencent_store_visit.csv", text.encode(encoding))
    pd.testing.assert_frame_equal(read_survey(path).answers, read_survey(TENCENT).answers)


def test_a_tencent_export_with_headers_only_and_one_read_as_wjx(tmp_path):
    header = TENCENT.read_bytes().split(b"\n")[0] + b"\n"
    empty = read_survey(written(tmp_path, "t.csv", header))
    assert empty.layout == "tencent-csv" and empty.responses.empty
    assert "Q3_3" in empty.questions.question_id.tolist()
    with pytest.raises(SurveyReadError) as caught:
        read_survey(TENCENT, format="wjx")
    message = str(caught.value)
    assert message.startswith(f"{TENCENT}: unknown layout: not a wjx (问卷星) export")
    assert message.endswith("it looks like a 腾讯问卷 export (tencent)")


# --- 问卷星 variants -----------------------------------------------------------------------------------


def test_wjx_english_headers_play_the_same_roles():
    export = read_survey(WJX_EN)
    assert (export.tool, export.layout) == ("wjx", "wjx-text")
    first = response(export, "101")
    assert first.submitted_at == "2026-01-05T12:03:44+08:00"
    assert first.duration_seconds == 125.0  # "125 seconds"
    assert first.started_at == "2026-01-05T12:01:39+08:00"
    assert first.ip_address == "116.22.3.4"
    assert answers_of(export, "101", "Q5") == ["Coffee", "Pastry"]
    assert answers_of(export, "102", "Q4") == []  # (skip)
    assert answers_of(export, "102", "Q6") == []  # (empty)


def test_wjx_numeric_nps_options_1_to_11_are_read_as_0_to_10_for_the_named_question():
    export = read_survey(WJX_NUMERIC, nps_questions=("Q3",))
    assert [answers_of(export, r, "Q3") for r in ("101", "102", "103")] == [["9"], ["4"], ["10"]]
    assert answers_of(export, "101", "Q4") == ["5"]  # CSAT option numbers are the scores
    unnamed = read_survey(WJX_NUMERIC)
    assert answers_of(unnamed, "103", "Q3") == ["11"]
    assert any(w.startswith("Q3: option number 11 in a numeric download") for w in unnamed.warnings)


def test_a_numeric_download_without_multi_selects_or_skips_is_told_by_an_nps_11(tmp_path):
    # Nothing in such a file says "numeric": no 0/1 option columns, no -3 for a skipped question.
    lines = WJX_NUMERIC.read_bytes().decode("utf-8-sig").split("\r\n")
    plain = [",".join(line.split(",")[:14] + line.split(",")[18:]) for line in lines if line]
    plain[2] = plain[2].replace(",-3,", ",4,")
    path = written(tmp_path, "wjx_plain.csv", ("\r\n".join(plain) + "\r\n").encode("utf-8"))
    export = read_survey(path, nps_questions=("Q3",))
    assert export.layout == "wjx-numeric"
    assert [answers_of(export, r, "Q3") for r in ("101", "102", "103")] == [["9"], ["4"], ["10"]]
    assert any("Q3 (NPS) holds 11, an option number" in w for w in export.warnings), export.warnings
    # a text download's NPS labels end at 10: read as scores, as written
    text = written(tmp_path, "wjx_text.csv", read_bytes_replaced(path, ",T00000789,11,", ",T00000789,10,"))
    assert read_survey(text, nps_questions=("Q3",)).layout == "wjx-text"


def read_bytes_replaced(path: Path, old: str, new: str) -> bytes:
    return path.read_bytes().decode("utf-8").replace(old, new).encode("utf-8")


def test_the_mapping_names_the_nps_question_for_check_survey_and_the_landing_loader(tmp_path):
    mapping = {m.survey_id: m for m in load_mappings()}["wjx_instore"]
    assert check_survey(WJX_NUMERIC, mapping).ok  # an option number 11 would be out of 0-10
    folder = tmp_path / "landing" / "wjx" / "2026-01-05"
    folder.mkdir(parents=True)
    (folder / "wjx_instore_2026-01-05.csv").write_bytes(WJX_NUMERIC.read_bytes())
    load = survey_loader(("wjx",), rt.WJX_RESPONSES, rt.WJX_ANSWERS)(
        tmp_path / "landing", folder, "2026-01-05"
    )
    answers = load.frames[rt.WJX_ANSWERS.name]
    assert answers.loc[answers.question_id == "Q3", "answer"].tolist() == ["9", "4", "10"]


def test_a_zipped_qualtrics_download_lands_like_its_csv(tmp_path):
    folder = tmp_path / "landing" / "qualtrics" / "2026-01-05"
    folder.mkdir(parents=True)
    (folder / "SV_cxlakeApp_2026-01-05.zip").write_bytes(QUALTRICS_ZIP.read_bytes())
    load = survey_loader(("qualtrics",), rt.QUALTRICS_RESPONSES, rt.QUALTRICS_ANSWERS)(
        tmp_path / "landing", folder, "2026-01-05"
    )
    responses = load.frames[rt.QUALTRICS_RESPONSES.name]
    assert responses.response_id.tolist()[0] == "R_1a2B3c4D5e6F7g8"
    assert responses.layout.unique().tolist() == ["qualtrics-current"]
    assert load.audits[0].file == "qualtrics/2026-01-05/SV_cxlakeApp_2026-01-05.zip"


# --- the command ---------------------------------------------------------------------------------------


def test_read_survey_command_reads_a_split_zip_and_the_nps_option_numbers(tmp_path):
    runner = CliRunner()
    out = tmp_path / "answers.csv"
    result = runner.invoke(app, ["read-survey", str(SM_SPLIT), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "surveymonkey-expanded, 2 responses, 8 answers" in result.output  # 2 of them Custom Data
    assert pd.read_csv(out, dtype=str).query("question_id == 'Q2_250'").answer.tolist() == ["4"]
    result = runner.invoke(app, ["read-survey", str(WJX_NUMERIC), "--out", str(out), "--nps-question", "Q3"])
    assert result.exit_code == 0, result.output
    assert pd.read_csv(out, dtype=str).query("question_id == 'Q3'").answer.tolist() == ["9", "4", "10"]
    bad = written(tmp_path, "notes.zip", zip_bytes({"notes.txt": b"x"}))
    result = runner.invoke(app, ["read-survey", str(bad), "--out", str(out)])
    assert result.exit_code == 1
    assert f"{bad}: a zip archive holding no survey export" in result.output


def test_a_row_that_does_not_fit_the_header_is_marked_for_quarantine_in_both_new_layouts():
    lines = SM.read_bytes().split(b"\r\n")
    lines[2] += b",extra"
    sm = read_survey("sm.csv", data=b"\r\n".join(lines))
    assert sm.responses.record_problem.tolist()[0] == "20 fields where the header has 19 (1 more)"
    lines = TENCENT.read_bytes().split(b"\n")
    lines[2] = lines[2].rsplit(b'","', 2)[0] + b'",'
    tencent = read_survey("t.csv", data=b"\n".join(lines))
    assert tencent.responses.record_problem.tolist()[1] == "20 fields where the header has 22 (2 fewer)"
    assert tencent.responses.record_problem.isna().tolist() == [True, False, True]
