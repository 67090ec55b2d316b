"""Export variants the earlier fixtures did not cover, read as a checker on unseen exports would
(fixtures: ``make_variant_fixtures.py``): SurveyMonkey's "numerical value" cells beside the answer
text, 腾讯问卷's early segmented download with option letters, 问卷星's 答题时长 column, and a
Qualtrics export without import ids whose multi-select has a text-entry option."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cxlake.cli import app
from cxlake.surveys.mapping import check_survey, load_mappings
from cxlake.surveys.readers import SurveyReadError, read_survey

FIXTURES = Path(__file__).parents[1] / "fixtures" / "surveys"
SM_TEXT = FIXTURES / "sm_cafe_text.csv"
SM_NUMERIC = FIXTURES / "sm_cafe_numeric.csv"
TENCENT_SEGMENTS = FIXTURES / "tencent_2016_segments.zip"
WJX_DURATION = FIXTURES / "wjx_instore_duration.csv"
QUALTRICS_NO_IMPORT_IDS = FIXTURES / "qualtrics_no_import_ids.csv"


def answers_of(export, response_id: str, question_id: str) -> list[str]:
    rows = export.answers
    return rows.loc[(rows.response_id == response_id) & (rows.question_id == question_id), "answer"].tolist()


def zip_of(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


# --- SurveyMonkey: answer text and numerical value ---------------------------------------------------


def test_the_surveymonkey_variants_are_utf8_without_bom_with_lf_and_12_hour_times():
    data = SM_NUMERIC.read_bytes()
    assert not data.startswith(b"\xef\xbb\xbf") and b"\r\n" not in data
    assert data.startswith(b"Respondent ID,Collector ID,Start Date,End Date")
    assert b"01/06/2026 12:00:10 AM" in data


def test_surveymonkey_12_hour_times_place_a_response_after_midnight_on_the_next_day():
    export = read_survey(SM_TEXT)
    responses = export.responses.set_index("response_id")
    assert responses.loc["114118592001", "submitted_at"] == "2026-01-05T12:03:44+08:00"
    assert responses.loc["114118592001", "started_at"] == "2026-01-05T11:58:40+08:00"
    assert responses.loc["114118592002", "submitted_at"] == "2026-01-05T15:30:02+08:00"
    assert responses.loc["114118592003", "submitted_at"] == "2026-01-06T00:00:10+08:00"
    assert responses.loc["114118592003", "duration_seconds"] == 135.0


def test_a_numerical_value_export_keeps_the_multi_select_one_question_with_its_option_labels():
    numeric, text = read_survey(SM_NUMERIC), read_survey(SM_TEXT)
    assert numeric.layout == text.layout == "surveymonkey-expanded"
    # the same questions under the same ids, whichever cells the export was made with
    ids = ["Q1_1", "Q1_2", "Q2", "Q2_4", "Q3_1", "Q3_2", "Q3_3", "Q4", "custom_data_1"]
    assert numeric.questions.question_id.tolist() == text.questions.question_id.tolist() == ids
    for export in (numeric, text):
        assert answers_of(export, "114118592001", "Q2") == ["Coffee", "Pastry"]
        assert answers_of(export, "114118592003", "Q2") == ["Coffee", "Tea"]
        assert answers_of(export, "114118592002", "Q2") == ["Tea"]
        assert answers_of(export, "114118592002", "Q2_4") == ["oat milk"]  # "Other (please specify)"
        assert answers_of(export, "114118592002", "Q1_2") == ["S099, the new one"]
        assert answers_of(export, "114118592001", "Q4") == ["Great latte"]


def test_a_numerical_value_export_gives_matrix_ratings_and_single_choices_as_positions():
    numeric, text = read_survey(SM_NUMERIC), read_survey(SM_TEXT)
    assert [answers_of(numeric, "114118592001", f"Q3_{row}") for row in (1, 2, 3)] == [["5"], ["4"], ["4"]]
    assert [answers_of(text, "114118592001", f"Q3_{row}") for row in (1, 2, 3)] == [
        ["Very satisfied"], ["Satisfied"], ["Satisfied"],
    ]  # fmt: skip
    assert answers_of(numeric, "114118592002", "Q3_3") == []  # a matrix row left blank
    assert answers_of(numeric, "114118592003", "Q1_1") == ["2"]
    assert answers_of(text, "114118592003", "Q1_1") == ["S012 Jing'an"]


def test_a_one_respondent_numeric_matrix_is_not_taken_for_a_multi_select(tmp_path):
    rows = SM_NUMERIC.read_text(encoding="utf-8").split("\n")
    # the only respondent rated taste 1, speed 2, staff 3: each row's column holds its own position
    one = rows[2].split(",")
    one[11:15] = ["", "", "", ""]  # no multi-select option chosen
    one[15:18] = ["1", "5", "3"]
    path = tmp_path / "sm_one.csv"
    path.write_text("\n".join([rows[0], rows[1], ",".join(one), ""]), encoding="utf-8")
    export = read_survey(path)
    assert [answers_of(export, "114118592001", f"Q3_{row}") for row in (1, 2, 3)] == [["1"], ["5"], ["3"]]


def test_a_numerical_value_day_where_one_option_was_chosen_keeps_the_question_id(tmp_path):
    lines = SM_NUMERIC.read_text(encoding="utf-8").split("\n")
    path = tmp_path / "sm_one_day.csv"
    path.write_text("\n".join([*lines[:2], lines[3], ""]), encoding="utf-8")  # only 114118592002: Tea
    export = read_survey(path)
    assert answers_of(export, "114118592002", "Q2") == ["Tea"]
    assert "Q2" in export.questions.question_id.tolist()
    assert answers_of(export, "114118592002", "Q3_1") == ["3"]


def test_an_export_without_its_label_row_keeps_its_first_response(tmp_path):
    # the row of option labels deleted (by hand, or by a tool that writes one header row): the first
    # response is then line 2, and must not be taken for the labels
    lines = SM_TEXT.read_text(encoding="utf-8").split("\n")
    path = tmp_path / "sm_one_header.csv"
    path.write_text("\n".join([lines[0], *lines[2:]]), encoding="utf-8")
    export = read_survey(path)
    assert export.responses.response_id.tolist() == ["114118592001", "114118592002", "114118592003"]
    assert export.responses.source_row.tolist() == [2, 3, 4]
    assert export.warnings == [
        "line 2: a response, not the row of option labels; read with one header row (a multi-select's "
        "option columns are then one question each)"
    ]
    assert answers_of(export, "114118592001", "Q4") == ["Great latte"]
    assert answers_of(export, "114118592001", "Q1_1") == ["S007 Xujiahui"]
    assert answers_of(export, "114118592001", "Q2_1") == ["Coffee"]


# --- 腾讯问卷: an early segmented download ------------------------------------------------------------------


def test_tencent_segments_are_stacked_in_order_with_times_and_without_option_letters():
    export = read_survey(TENCENT_SEGMENTS)
    assert (export.tool, export.layout) == ("tencent", "tencent-csv")
    responses = export.responses.set_index("response_id")
    assert responses.index.tolist() == ["1", "2", "3"]
    assert responses.loc["3", "submitted_at"] == "2016-04-28T09:01:17+08:00"
    assert responses.loc["3", "started_at"] == "2016-04-28T09:00:02+08:00"
    assert responses.loc["1", "duration_seconds"] == 42.0  # no 答题时长: end - start
    assert responses.source_row.tolist() == [2, 3, 5]  # as if one file: segment 2's header is line 4
    assert answers_of(export, "1", "Q1") == ["使用过"]
    assert answers_of(export, "2", "Q1") == ["没有使用过"]
    assert answers_of(export, "3", "Q3") == ["31-40岁"]
    assert answers_of(export, "1", "Q4") == ["3"]
    # a text answer that starts like an option letter, in a column that is no choice, is kept whole
    assert answers_of(export, "3", "Q5") == ["A.B. 两家店都不错"]


def test_segments_with_another_header_or_a_gap_are_refused_naming_the_zip(tmp_path):
    with zipfile.ZipFile(TENCENT_SEGMENTS) as archive:
        first, second = archive.read("465864_seg_1.csv"), archive.read("465864_seg_2.csv")
    other = second.replace("5.您的建议".encode(), "5.其他".encode())
    path = tmp_path / "download.zip"
    path.write_bytes(zip_of({"465864_seg_1.csv": first, "465864_seg_2.csv": other}))
    with pytest.raises(SurveyReadError) as refused:
        read_survey(path)
    assert str(refused.value) == (
        f"{path}: 465864_seg_2.csv has another header than 465864_seg_1.csv; the segments of a "
        "download share one"
    )
    path.write_bytes(zip_of({"465864_seg_1.csv": first, "465864_seg_3.csv": second}))
    with pytest.raises(SurveyReadError, match=r"download.zip: a zip archive holding 2 survey files"):
        read_survey(path)


def gbk_named_zip(members: dict[str, bytes]) -> bytes:
    """A zip whose member names are GBK bytes without the UTF-8 flag, as Windows in Chinese writes
    them (Python's writer would set the flag, so the names are patched in after writing)."""
    buffer, names = io.BytesIO(), {}
    with zipfile.ZipFile(buffer, "w") as archive:
        for number, (name, data) in enumerate(members.items()):
            raw = name.encode("gbk")
            placeholder = f"{number}".ljust(len(raw), "x").encode()
            names[placeholder] = raw
            archive.writestr(placeholder.decode(), data)
    data = buffer.getvalue()
    for placeholder, raw in names.items():
        data = data.replace(placeholder, raw)
    return data


def test_member_names_written_in_gbk_are_named_as_written(tmp_path):
    with zipfile.ZipFile(TENCENT_SEGMENTS) as archive:
        parts = [archive.read("465864_seg_1.csv"), archive.read("465864_seg_2.csv")]
    path = tmp_path / "download.zip"
    path.write_bytes(gbk_named_zip({"门店问卷_seg_1.csv": parts[0], "门店问卷_seg_2.csv": parts[1]}))
    with zipfile.ZipFile(path) as archive:
        assert not archive.infolist()[0].flag_bits & 0x800  # no UTF-8 flag: the standard says cp437
    assert read_survey(path).responses.response_id.tolist() == ["1", "2", "3"]
    path.write_bytes(gbk_named_zip({"说明.txt": b"read me"}))
    with pytest.raises(SurveyReadError) as refused:
        read_survey(path)
    assert str(refused.value) == f"{path}: a zip archive holding no survey export (it holds 说明.txt)"


# --- 问卷星: 答题时长 --------------------------------------------------------------------------------------


def test_wjx_duration_headed_dati_shichang_gives_seconds_and_the_start():
    export = read_survey(WJX_DURATION)
    assert export.layout == "wjx-text"
    responses = export.responses.set_index("response_id")
    assert responses.loc["201", "duration_seconds"] == 120.0
    assert responses.loc["201", "started_at"] == "2026-01-05T12:01:44+08:00"
    assert responses.loc["202", "duration_seconds"] == 125.0  # 2分5秒
    assert responses.loc["202", "ip_address"] == "223.104.9.77"
    assert answers_of(export, "201", "Q9") == ["咖啡", "甜品"]
    assert answers_of(export, "202", "Q6") == []  # (跳过)
    assert answers_of(export, "202", "Q10") == []  # (空)
    mapping = {m.survey_id: m for m in load_mappings()}["wjx_instore"]
    assert check_survey(WJX_DURATION, mapping).ok


# --- Qualtrics without import ids -------------------------------------------------------------------------


def test_qualtrics_without_import_ids_splits_a_selected_choice_column_and_keeps_prose_whole():
    export = read_survey(QUALTRICS_NO_IMPORT_IDS)
    assert export.layout == "qualtrics-current"
    responses = export.responses.set_index("response_id")
    assert responses.loc["R_1pQvPreview0001", "status"] == "preview"
    assert responses.loc["R_2b3C4d5E6f7G8h9", "status"] == "ok"
    # no RecordedDate: EndDate is the submission
    assert responses.loc["R_2b3C4d5E6f7G8h9", "submitted_at"] == "2026-01-05T21:21:15+08:00"
    assert answers_of(export, "R_1pQvPreview0001", "Q3") == ["Coffee", "Other"]
    assert answers_of(export, "R_1pQvPreview0001", "Q3_4_TEXT") == ["matcha"]
    assert answers_of(export, "R_2b3C4d5E6f7G8h9", "Q4") == ["Slow, and cold"]
    assert answers_of(export, "R_2b3C4d5E6f7G8h9", "Q1") == ["6"]


# --- the command -------------------------------------------------------------------------------------------


def test_read_survey_command_reads_each_variant(tmp_path):
    runner = CliRunner()
    out = tmp_path / "answers.csv"
    expected = {
        SM_NUMERIC: "surveymonkey-expanded, 3 responses, 19 answers",
        TENCENT_SEGMENTS: "tencent-csv, 3 responses, 13 answers",
        WJX_DURATION: "wjx-text, 2 responses",
        QUALTRICS_NO_IMPORT_IDS: "qualtrics-current, 2 responses, 10 answers",
    }
    for path, summary in expected.items():
        result = runner.invoke(app, ["read-survey", str(path), "--out", str(out)])
        assert result.exit_code == 0, result.output
        assert summary in result.output
