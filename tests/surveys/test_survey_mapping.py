"""Survey mappings: loading and validating them, their frames, and the check-survey dry run."""

from __future__ import annotations

from pathlib import Path

import pytest

from cxlake.surveys.mapping import (
    SurveyMappingError,
    check_survey,
    load_mapping,
    load_mappings,
    mapping_for_file,
    question_map_frame,
    value_map_frame,
)

FIXTURES = Path(__file__).parents[1] / "fixtures" / "surveys"
GOOD = """\
survey_id: {name}
tool: wjx
files: "{name}_*.csv"
fields: {{nps: Q3, store_id: Q1}}
constants: {{channel: in_store}}
csat: {{Q4: taste}}
scales: {{csat: {{满意: 4}}}}
"""


@pytest.fixture
def mappings():
    return {mapping.survey_id: mapping for mapping in load_mappings()}


def write_mapping(tmp_path: Path, text: str, name: str = "my_survey") -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_package_ships_the_demo_mappings_and_the_in_store_survey_on_other_tools(mappings):
    assert sorted(mappings) == ["SV_cxlakeApp", "sm_instore", "tencent_instore", "wjx_instore"]
    # the in-store survey as SurveyMonkey and 腾讯问卷 run it: the same roles and touchpoints
    for other in (mappings["sm_instore"], mappings["tencent_instore"]):
        assert set(other.fields) == {"store_id", "transaction_id", "nps", "comment"}
        assert sorted(other.csat.values()) == ["environment", "speed", "staff", "taste", "value"]
        assert other.constants == {"channel": "in_store"}
    assert (mappings["sm_instore"].tool, mappings["tencent_instore"].tool) == ("surveymonkey", "tencent")
    app, instore = mappings["SV_cxlakeApp"], mappings["wjx_instore"]
    assert app.fields == {
        "nps": "Q1", "ces": "Q3", "comment": "Q5",
        "store_id": "store_id", "transaction_id": "transaction_id", "channel": "channel",
    }  # fmt: skip
    assert app.csat == {"Q2_1": "taste", "Q2_2": "speed", "Q2_3": "staff", "Q2_4": "value", "Q2_5": "app",
                        "Q2_6": "delivery"}  # fmt: skip
    assert app.scales["nps"] == {"0 - 完全不可能": 0, "10 - 极有可能": 10}
    assert instore.constants == {"channel": "in_store"}
    assert instore.csat == {"Q4": "taste", "Q5": "speed", "Q6": "staff", "Q7": "environment", "Q8": "value"}
    assert instore.timezone == "Asia/Shanghai"


def test_landing_files_find_their_mapping_by_name_in_any_folder(mappings):
    found = list(mappings.values())
    assert mapping_for_file("landing/qualtrics/2026-01-05/SV_cxlakeApp_2026-01-05.csv", found).survey_id == (
        "SV_cxlakeApp"
    )
    assert mapping_for_file("/elsewhere/wjx_instore_2026-01-05.csv", found).survey_id == "wjx_instore"
    assert mapping_for_file("landing/wjx/2026-01-05/other_2026-01-05.csv", found) is None


def test_question_and_value_frames(mappings):
    questions = question_map_frame(list(mappings.values()))
    row = questions[(questions.survey_id == "wjx_instore") & (questions.question_id == "Q7")].iloc[0]
    assert (row.role, row.touchpoint_id) == ("csat", "environment")
    assert questions[questions.role == "csat"].groupby("survey_id").size().to_dict() == {
        "SV_cxlakeApp": 6, "sm_instore": 5, "tencent_instore": 5, "wjx_instore": 5,
    }  # fmt: skip
    assert questions.loc[questions.role != "csat", "touchpoint_id"].isna().all()
    values = value_map_frame(list(mappings.values()))
    ces = values[(values.survey_id == "SV_cxlakeApp") & (values.role == "ces")]
    assert dict(zip(ces.answer_text, ces.score, strict=True)) == {"1 - 非常困难": 1, "7 - 非常容易": 7}
    assert values.score.dtype == "int64"


def test_a_good_mapping_loads(tmp_path):
    mapping = load_mapping(write_mapping(tmp_path, GOOD.format(name="my_survey")))
    assert mapping.question_roles() == {"Q3": "nps", "Q1": "store_id", "Q4": "csat"}


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (("taste", "tasty"), "touchpoint(s) tasty not in the journey map"),
        (("tool: wjx", "tool: typeform"), "tool 'typeform' is not one of"),
        (("nps: Q3", "npss: Q3"), "fields: unknown role(s) npss"),
        (("满意: 4", "满意: 6"), "scales.csat: '满意' -> 6 is not a whole number in 1..5"),
        (("in_store", "kiosk"), "constants.channel 'kiosk'"),
        (("Q4: taste", "Q3: taste"), "question(s) Q3 given more than one role"),
        (("survey_id: my_survey", "survey_id: other"), "differs from the file name"),
        (("files:", "filez:"), "missing files"),
        (("{nps: Q3", "[nps: Q3"), "cannot read"),
    ],
)
def test_a_bad_mapping_names_the_file_and_the_reason(tmp_path, change, reason):
    path = write_mapping(tmp_path, GOOD.format(name="my_survey").replace(*change))
    with pytest.raises(SurveyMappingError) as caught:
        load_mapping(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert reason in str(caught.value)


def test_check_survey_reports_an_extra_question_and_an_unknown_csat_text(mappings):
    check = check_survey(FIXTURES / "SV_cxlakeApp_check_2026-01-06.csv", mappings["SV_cxlakeApp"])
    assert check.responses == 2
    assert check.layout == "qualtrics-current"
    assert [question for question, _ in check.unmapped_questions] == ["Q1_NPS_GROUP", "Q4", "Q6"]
    assert check.missing_questions == []
    assert check.unmapped_values == [("Q2_1", "csat", "超级满意", 1)]
    assert not check.ok
    report = check.render()
    assert "  Q6  您是会员吗？" in report
    assert "  Q2_1 (csat): '超级满意' x1" in report
    assert report.endswith("result: problems found")


def test_check_survey_passes_both_wjx_downloads_and_flags_questions_the_file_lacks(mappings, tmp_path):
    instore = mappings["wjx_instore"]
    assert check_survey(FIXTURES / "wjx_instore_2026-01-05.csv", instore).ok
    numeric = check_survey(FIXTURES / "wjx_instore_numeric.csv", instore)  # CSAT as numbers 1-5
    assert numeric.ok and numeric.layout == "wjx-numeric"
    # a question column that exists but was never answered is not missing; one that is absent is
    text = (FIXTURES / "wjx_instore_2026-01-05.csv").read_bytes().decode("gb18030")
    header, *rows = text.split("\r\n")
    trimmed = tmp_path / "wjx_instore_2026-01-07.csv"
    trimmed.write_bytes("\r\n".join([",".join(header.split(",")[:-1])] + rows).encode("gb18030"))
    check = check_survey(trimmed, instore)
    assert check.missing_questions == ["Q10"]
    assert not check.ok


def test_a_file_matching_two_mappings_is_an_error(tmp_path):
    first = load_mapping(write_mapping(tmp_path, GOOD.format(name="my_survey"), "my_survey"))
    second = load_mapping(
        write_mapping(tmp_path, GOOD.format(name="my").replace("my_*", "my_survey_*"), "my")
    )
    with pytest.raises(SurveyMappingError, match="matches more than one mapping"):
        mapping_for_file("my_survey_2026-01-05.csv", [first, second])


def test_check_survey_names_the_rows_the_pipeline_will_quarantine_for_their_shape(mappings, tmp_path):
    text = (FIXTURES / "wjx_instore_2026-01-05.csv").read_bytes().decode("gb18030")
    header, first, second, *rest = text.split("\r\n")
    path = tmp_path / "wjx_instore_2026-01-08.csv"
    path.write_bytes("\r\n".join([header, first, second + ",x,y,z,w,v", *rest]).encode("gb18030"))
    check = check_survey(path, mappings["wjx_instore"])
    assert check.malformed_rows == [(3, "21 fields where the header has 16 (5 more)")]
    assert not check.ok
    assert "  line 3: 21 fields where the header has 16 (5 more)" in check.render()
