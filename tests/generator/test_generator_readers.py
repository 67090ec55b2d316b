"""The real survey readers accept one generated file of each demo survey, response for response."""

from __future__ import annotations

from generator_demo import read_qualtrics, read_wjx

from cxlake.surveys.readers import read_survey


def test_qualtrics_reader_reads_a_generated_day_with_its_previews(demo):
    path = demo.root / "qualtrics/2026-01-01/SV_cxlakeApp_2026-01-01.csv"
    export = read_survey(path)
    rows = read_qualtrics(path)
    assert (export.survey_id, export.tool, export.layout) == (
        "SV_cxlakeApp",
        "qualtrics",
        "qualtrics-current",
    )
    assert list(export.responses["response_id"]) == [r["ResponseId"] for r in rows]
    assert (export.responses["status"] == "preview").sum() == 2
    first = export.answers[export.answers["response_id"] == rows[0]["ResponseId"]]
    assert set(first.loc[first["question_id"] == "transaction_id", "answer"]) == {rows[0]["transaction_id"]}


def test_wjx_reader_reads_a_generated_day_in_gb18030(demo):
    path = demo.root / "wjx/2026-01-05/wjx_instore_2026-01-05.csv"
    export = read_survey(path)
    rows = read_wjx(path)
    assert (export.survey_id, export.tool, export.layout) == ("wjx_instore", "wjx", "wjx-text")
    assert list(export.responses["response_id"]) == [r["序号"] for r in rows]
    assert set(export.responses["status"]) == {"ok"}
    nps = export.answers[export.answers["question_id"] == "Q3"]
    assert list(nps["answer"]) == [r["3、您有多大可能向朋友或同事推荐栖云咖啡？"] for r in rows]
