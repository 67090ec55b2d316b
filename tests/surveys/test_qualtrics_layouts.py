"""One survey exported in each Qualtrics layout reads as the same responses and answers.

The fixtures (tests/fixtures/surveys/SV_storeVisit_*.csv, written by make_layout_fixtures.py) hold
the same five responses in the legacy, 2017 "Insights platform" and 2016+ layouts.
"""

from __future__ import annotations

import codecs
import json
from pathlib import Path

import pandas as pd
import pytest

from cxlake.surveys.readers import read_survey

FIXTURES = Path(__file__).parents[1] / "fixtures" / "surveys"
LAYOUTS = {"legacy": "qualtrics-legacy", "2017": "qualtrics-2017", "current": "qualtrics-current"}
RESPONSE_FIELDS = [
    "survey_id", "response_id", "submitted_at", "started_at", "duration_seconds", "status", "ip_address",
]  # fmt: skip
ANSWER_FIELDS = [
    "survey_id", "response_id", "submitted_at", "status", "question_id", "question_text", "answer",
]  # fmt: skip
SIDE_BY_SIDE = {"Q44#1_1": "Q44_1_1", "Q44#1_2": "Q44_1_2"}  # the 2016+ id -> the legacy id


def export(name: str, path: Path | None = None):
    return read_survey(path or FIXTURES / f"SV_storeVisit_{name}.csv", survey_id="SV_storeVisit")


@pytest.mark.parametrize("name", LAYOUTS)
def test_each_layout_is_told_from_its_header_rows(name):
    assert export(name).layout == LAYOUTS[name]


def test_the_2017_import_id_row_is_a_header_not_a_response():
    responses = export("2017").responses
    assert responses.response_id.tolist() == [
        "R_0OXnRbA2cXQtpvT", "R_1AbCdEfGhIjKlMn", "R_2BcDeFgHiJkLmNo",
        "R_3CdEfGhIjKlMnOp", "R_4DeFgHiJkLmNoPq",
    ]  # fmt: skip
    assert not export("2017").answers.answer.str.contains("ImportId").any()


def test_the_2017_export_and_its_legacy_twin_give_the_same_responses_and_answers():
    insights, legacy = export("2017"), export("legacy")
    pd.testing.assert_frame_equal(insights.responses[RESPONSE_FIELDS], legacy.responses[RESPONSE_FIELDS])
    pd.testing.assert_frame_equal(insights.answers[ANSWER_FIELDS], legacy.answers[ANSWER_FIELDS])
    pd.testing.assert_frame_equal(insights.questions, legacy.questions)
    assert insights.answers.question_id.unique().tolist() == [
        "Q1", "Q2_1", "Q2_2", "Q2_3", "Q44_1_1", "Q44_1_2", "Q3", "store_id",
    ]  # fmt: skip
    # each row where it starts in its own file: the 2017 layout has one header row more
    assert (insights.responses.source_row - legacy.responses.source_row).tolist() == [1] * 5
    for mine, theirs in zip(insights.responses.metadata, legacy.responses.metadata, strict=True):
        mine, theirs = json.loads(mine), json.loads(theirs)
        shared = sorted(set(mine) & set(theirs))
        assert shared == [
            "EndDate", "ExternalDataReference", "Finished", "IPAddress", "LocationAccuracy",
            "LocationLatitude", "LocationLongitude", "ResponseID", "ResponseSet", "StartDate", "Status",
        ]  # fmt: skip
        assert {k: mine[k] for k in shared} == {k: theirs[k] for k in shared}


def test_the_2016_export_gives_the_same_responses_and_answers_as_the_legacy_one():
    current, legacy = export("current"), export("legacy")
    pd.testing.assert_frame_equal(current.responses[RESPONSE_FIELDS], legacy.responses[RESPONSE_FIELDS])
    renamed = current.answers.assign(question_id=current.answers.question_id.replace(SIDE_BY_SIDE))
    pd.testing.assert_frame_equal(renamed[ANSWER_FIELDS], legacy.answers[ANSWER_FIELDS])


def test_the_answers_are_the_ones_in_the_file():
    answers = export("2017").answers
    pick = answers[answers.response_id == "R_3CdEfGhIjKlMnOp"].set_index("question_id").answer
    assert pick.to_dict() == {
        "Q1": "6", "Q2_1": "2", "Q2_2": "1", "Q2_3": "3", "Q44_1_1": "2", "Q44_1_2": "4",
        "Q3": "等了二十分钟\n店员态度不太友好", "store_id": "S003",
    }  # fmt: skip
    assert export("2017").responses.status.tolist() == ["ok", "preview", "ok", "ok", "ok"]


def test_a_2017_export_saved_as_utf16_tab_separated_reads_the_same(tmp_path):
    # Qualtrics' TSV download: UTF-16 LE with BOM, tab-separated
    text = (FIXTURES / "SV_storeVisit_2017.csv").read_bytes().decode("utf-8-sig")
    rows = pd.read_csv(pd.io.common.StringIO(text), header=None, dtype=str, keep_default_na=False)
    path = tmp_path / "SV_storeVisit_2017.tsv"
    tab_separated = rows.to_csv(sep="\t", header=False, index=False)
    path.write_bytes(codecs.BOM_UTF16_LE + tab_separated.encode("utf-16-le"))
    tsv, csv = export("2017", path), export("2017")
    assert tsv.layout == "qualtrics-2017"
    pd.testing.assert_frame_equal(tsv.answers[ANSWER_FIELDS], csv.answers[ANSWER_FIELDS])


def test_a_2016_export_without_its_import_id_row_reads_the_same(tmp_path):
    lines = (FIXTURES / "SV_storeVisit_current.csv").read_bytes().split(b"\r\n")
    path = tmp_path / "SV_storeVisit_current.csv"
    path.write_bytes(b"\r\n".join(lines[:2] + lines[3:]))
    shorter, full = export("current", path), export("current")
    assert shorter.layout == "qualtrics-current"
    pd.testing.assert_frame_equal(shorter.answers[ANSWER_FIELDS], full.answers[ANSWER_FIELDS])


def test_a_2016_export_with_only_the_id_row_keeps_its_first_response(tmp_path):
    lines = (FIXTURES / "SV_storeVisit_current.csv").read_bytes().split(b"\r\n")
    path = tmp_path / "SV_storeVisit_current.csv"
    path.write_bytes(b"\r\n".join(lines[:1] + lines[3:]))
    assert export("current", path).responses.response_id.iloc[0] == "R_0OXnRbA2cXQtpvT"


def test_two_2017_exports_joined_into_one_file_skip_the_second_header_and_say_where(tmp_path):
    first = (FIXTURES / "SV_storeVisit_2017.csv").read_bytes()
    second = first.replace(b"R_", b"R_x")  # the same survey, other responses; its own BOM and headers
    path = tmp_path / "SV_storeVisit_2017.csv"
    path.write_bytes(first + second)
    joined = export("2017", path)
    assert len(joined.responses) == 10
    assert joined.responses.response_id.str.startswith("R_").all()
    assert not joined.responses.response_id.str.contains("\ufeff|ImportId|ResponseID").any()
    assert joined.responses.source_row.tolist()[5] == 13  # 9 lines, then 3 header lines, then line 13
    assert joined.warnings == [
        "line 10, column 1: removed a byte-order mark (U+FEFF) (a joined-on file?)",
        "line 10: a copy of a header row (two exports joined?); skipped",
        "line 11: a copy of a header row (two exports joined?); skipped",
        "line 12: a copy of a header row (two exports joined?); skipped",
    ]
