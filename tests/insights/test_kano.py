"""Kano: the evaluation table on textbook pairs, and marts.mart_kano recovering the generator's planted
categories from real files through the real ingestion, gate, dbt staging and asset on DuckDB.

The slice is small and fast: six seeded days (the survey is fielded on days 3-5), only the roster and
the kano source ingested, only the two Kano staging views built. One answer of the delivered file is
broken on purpose, to show the gate quarantines that response with its file, line and field."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from dagster import materialize

from assets.ingestion.assets import build_ingestion_assets
from assets.kano import kano
from cxlake.generator import generate
from cxlake.insights.kano import (
    ANSWERS,
    MART_COLUMNS,
    NOT_ENOUGH_RESPONSES,
    KanoConfigError,
    answer_pairs,
    better_worse,
    classify,
    evaluate,
    load_kano_survey,
    modal_category,
)
from cxlake.pipeline.dbt_project import DBT_PROJECT_DIR, PARTIAL_PARSE_FILE, dbt_command
from cxlake.pipeline.partitions import daily_partitions
from cxlake.pipeline.resources import LandingZone, Warehouse

SEED, START, DAYS = 7, date(2026, 3, 2), 6
BROKEN_DAY = "2026-03-06"  # a wave day: days 3-5 of every 30
BROKEN_LINE = 5  # the file's fifth line: its fourth response
BROKEN_COLUMN = "9、如果门店提供燕麦奶，您的感受是？"  # Q9, oat milk's functional question
BROKEN_ANSWER = "还行吧"


@pytest.mark.parametrize(
    ("functional", "dysfunctional", "category"),
    [
        ("like", "dislike", "O"),  # wanted when there, missed when not: one-dimensional
        ("like", "neutral", "A"),  # delights, no loss without it: attractive
        ("like", "live_with", "A"),
        ("like", "must_be", "A"),
        ("must_be", "dislike", "M"),  # expected, its absence hurts: must-be
        ("neutral", "dislike", "M"),
        ("live_with", "dislike", "M"),
        ("neutral", "neutral", "I"),  # no feeling either way: indifferent
        ("must_be", "live_with", "I"),
        ("dislike", "like", "R"),  # wants it absent: reverse
        ("must_be", "like", "R"),
        ("dislike", "neutral", "R"),
        ("like", "like", "Q"),  # likes it present and absent: contradictory
        ("dislike", "dislike", "Q"),
    ],
)
def test_the_evaluation_table_gives_the_textbook_category(functional, dysfunctional, category):
    assert evaluate(functional, dysfunctional) == category


def test_every_cell_of_the_table_has_a_category_and_each_category_a_cell():
    cells = [evaluate(f, d) for f in ANSWERS for d in ANSWERS]
    assert len(cells) == 25
    assert {c: cells.count(c) for c in "AOMIRQ"} == {"A": 3, "O": 1, "M": 3, "I": 9, "R": 7, "Q": 2}


@pytest.mark.parametrize(
    ("counts", "category"),
    [
        ({"A": 5, "O": 2, "M": 1, "I": 1}, "A"),  # a clear mode wins
        ({"A": 3, "M": 3, "I": 1}, "M"),  # tie: M > O > A > I
        ({"A": 2, "O": 2}, "O"),
        ({"A": 2, "I": 2, "R": 2, "Q": 2}, "A"),
        ({"I": 4, "R": 4}, "I"),  # R and Q lose every tie
        ({"R": 1, "Q": 1}, "R"),
    ],
)
def test_the_modal_category_breaks_ties_by_m_o_a_i(counts, category):
    assert modal_category(counts) == category


def test_better_and_worse_leave_reverse_and_questionable_out_of_the_denominator():
    better, worse = better_worse({"A": 2, "O": 1, "M": 1, "I": 0, "R": 5, "Q": 3})
    assert better == pytest.approx(3 / 4) and worse == pytest.approx(-2 / 4)
    assert better_worse({"R": 4, "Q": 1}) == (None, None)


def test_the_scale_is_read_in_english_and_as_wjx_exports_it():
    survey = load_kano_survey()
    english = ["I like it", "I expect it", "I am neutral", "I can tolerate it", "I dislike it"]
    chinese = ["我很喜欢", "理所当然", "无所谓", "能忍受", "我很不喜欢"]
    assert [survey.answer(t) for t in english] == list(ANSWERS)
    assert [survey.answer(t) for t in chinese] == list(ANSWERS)
    assert survey.answer("  i LIKE it ") == "like"
    assert survey.answer("还行吧") is None


def test_a_kano_section_naming_a_question_twice_is_refused(tmp_path):
    config = tmp_path / "insights.yaml"
    config.write_text(
        "kano:\n  survey_id: k\n  files: 'k_*'\n"
        "  features:\n    a: {label: A, functional: Q1, dysfunctional: Q2}\n"
        "    b: {label: B, functional: Q2, dysfunctional: Q3}\n"
        "  answers: {like: [x], must_be: [y], neutral: [z], live_with: [v], dislike: [w]}\n",
        encoding="utf-8",
    )
    with pytest.raises(KanoConfigError, match=r"insights.yaml: kano.features: question\(s\) Q2 used more"):
        load_kano_survey(config)


def test_a_feature_below_the_minimum_n_keeps_its_counts_without_a_category():
    survey = load_kano_survey()
    pairs = pd.DataFrame(
        {
            "response_key": ["k:1", "k:2", "k:3"],
            "feature": ["oat_milk", "oat_milk", "oat_milk"],
            "functional": ["like", "like", "neutral"],
            "dysfunctional": ["neutral", "dislike", "neutral"],
        }
    )
    table = classify(pairs, survey, min_n=3).set_index("feature")
    assert tuple(table.reset_index().columns) == MART_COLUMNS
    oat = table.loc["oat_milk"]
    assert (oat["n"], oat["count_a"], oat["count_o"], oat["count_i"], oat["category"]) == (3, 1, 1, 1, "O")
    assert oat["better"] == pytest.approx(2 / 3) and bool(oat["is_reportable"])
    short = classify(pairs, survey, min_n=4).set_index("feature").loc["oat_milk"]
    assert short["category"] == NOT_ENOUGH_RESPONSES and not short["is_reportable"]
    assert short["n"] == 3 and pd.isna(short["better"]) and pd.isna(short["worse"])
    assert table.loc["latte_art", "n"] == 0  # every configured feature has its row


def test_pairs_join_each_features_two_answers_and_leave_out_a_half_answered_pair():
    survey = load_kano_survey()
    answers = pd.DataFrame(
        [
            ["s", "1", "Q9", "我很喜欢"],  # oat milk, functional
            ["s", "1", "Q10", "无所谓"],  # oat milk, dysfunctional: attractive
            ["s", "1", "Q1", "I expect it"],  # mobile ordering: the dysfunctional side skipped
            ["s", "2", "Q9", "I like it"],  # English answers pair as well
            ["s", "2", "Q10", "I dislike it"],
            ["s", "2", "Q99", "18-25岁"],  # a question the Kano section does not name
        ],
        columns=["survey_id", "response_id", "question_id", "answer"],
    )
    pairs = answer_pairs(answers, survey)
    assert pairs.values.tolist() == [
        ["s:1", "oat_milk", "like", "neutral"],
        ["s:2", "oat_milk", "like", "dislike"],
    ]
    table = classify(pairs, survey, min_n=1).set_index("feature")
    assert table.loc["oat_milk", ["count_a", "count_o", "n"]].tolist() == [1, 1, 2]
    assert table.loc["mobile_ordering", "n"] == 0


def test_without_any_kano_answer_every_feature_says_not_enough_responses():
    survey = load_kano_survey()
    empty = pd.DataFrame(columns=["survey_id", "response_id", "question_id", "answer"], dtype="str")
    table = classify(answer_pairs(empty, survey), survey, min_n=30)
    assert len(table) == len(survey.features) and (table["n"] == 0).all()
    assert (table["category"] == NOT_ENOUGH_RESPONSES).all() and not table["is_reportable"].any()


def _break_one_answer(path: Path) -> None:
    """Replace one answer of the 问卷星 download by a text off the scale, keeping its bytes as delivered."""
    lines = path.read_bytes().decode("gb18030").split("\r\n")
    header = lines[0].split(",")
    fields = lines[BROKEN_LINE - 1].split(",")
    fields[header.index(BROKEN_COLUMN)] = BROKEN_ANSWER
    lines[BROKEN_LINE - 1] = ",".join(fields)
    path.write_bytes("\r\n".join(lines).encode("gb18030"))


@pytest.fixture(scope="module")
def kano_build(tmp_path_factory) -> tuple[Path, dict]:
    """The slice, ingested, staged and classified: (warehouse, truth.json's planted section)."""
    home = tmp_path_factory.mktemp("kano")
    landing = home / "landing"
    generate(landing, scale="small", seed=SEED, start=START, days=DAYS, progress=False)
    _break_one_answer(landing / "kano" / BROKEN_DAY / f"wjx_kano_{BROKEN_DAY}.csv")
    warehouse = home / "warehouse.duckdb"
    ingestion = [
        a for a in build_ingestion_assets(daily_partitions("2020-01-01"))
        if a.node_def.name in ("ingest_reference", "ingest_kano")
    ]  # fmt: skip
    last = (START + timedelta(days=DAYS - 1)).isoformat()
    loaded = materialize(
        ingestion,
        tags={
            "dagster/asset_partition_range_start": START.isoformat(),
            "dagster/asset_partition_range_end": last,
        },
        resources={"landing": LandingZone(root=str(landing)), "warehouse": Warehouse(path=str(warehouse))},
    )
    assert loaded.success
    scratch = home / "dbt"
    (scratch / "target").mkdir(parents=True)
    if (state := DBT_PROJECT_DIR / "target" / PARTIAL_PARSE_FILE).is_file():
        shutil.copy2(state, scratch / "target" / PARTIAL_PARSE_FILE)  # a quick parse
    command = dbt_command(
        "run", "--select", "stg_kano__answers", "stg_kano__responses", warehouse=warehouse, scratch=scratch
    )
    built = subprocess.run(command, capture_output=True, text=True)
    assert built.returncode == 0, built.stdout[-3000:]
    assert materialize([kano], resources={"warehouse": Warehouse(path=str(warehouse))}).success
    return warehouse, json.loads((landing / "truth.json").read_text("utf-8"))["planted"]


def _query(warehouse: Path, sql: str, parameters: list | None = None) -> pd.DataFrame:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return connection.execute(sql, parameters).df()


def test_the_mart_recovers_every_planted_category(kano_build):
    warehouse, planted = kano_build
    mart = _query(warehouse, "select * from marts.mart_kano").set_index("feature")
    assert tuple(mart.reset_index().columns) == MART_COLUMNS
    assert mart["category"].to_dict() == planted["kano_categories"]
    assert set(planted["kano_categories"].values()) >= {"A", "O", "M", "I"}
    assert mart["is_reportable"].all()
    # every answered pair is counted once; the broken response is not among them
    respondents = planted["kano"]["respondents"]
    assert (mart["n"] == respondents - 1).all()
    counts = mart[[c for c in MART_COLUMNS if c.startswith("count_")]]
    assert (counts.sum(axis=1) == mart["n"]).all()
    assert (mart["better"].between(0, 1) & mart["worse"].between(-1, 0)).all()
    oat = mart.loc["oat_milk"]
    assert oat["better"] == pytest.approx(
        (oat["count_a"] + oat["count_o"]) / oat[["count_a", "count_o", "count_m", "count_i"]].sum()
    )
    # attractive features raise satisfaction more than they cost when absent, must-be ones the reverse
    assert mart.loc["oat_milk", "better"] > -mart.loc["oat_milk", "worse"]
    assert mart.loc["mobile_ordering", "better"] < -mart.loc["mobile_ordering", "worse"]


def test_the_survey_lands_only_on_its_wave_days(kano_build):
    warehouse, planted = kano_build
    days = _query(
        warehouse, "select distinct cast(_partition_date as varchar) as day from raw.kano_responses"
    )
    assert sorted(days["day"]) == planted["kano"]["days"] == ["2026-03-05", "2026-03-06", "2026-03-07"]


def test_an_answer_off_the_kano_scale_quarantines_its_response_naming_file_line_and_field(kano_build):
    warehouse, _ = kano_build
    file = f"kano/{BROKEN_DAY}/wjx_kano_{BROKEN_DAY}.csv"
    held = _query(warehouse, "select * from quarantine.kano_responses")
    assert held[["_source_file", "_source_row"]].values.tolist() == [[file, BROKEN_LINE]]
    assert "_kano_problem" in held["_failed_expectations"].iloc[0]
    response_id = held["response_id"].iloc[0]
    answers = _query(warehouse, "select * from quarantine.kano_answers")
    assert set(answers["response_id"]) == {response_id} and len(answers) == 16
    assert answers.set_index("question_id").loc["Q9", "answer"] == BROKEN_ANSWER
    loaded = _query(
        warehouse,
        "select count(*) as n from raw.kano_answers where response_id = ? and _partition_date = ?",
        [response_id, BROKEN_DAY],
    )
    assert loaded["n"].iloc[0] == 0
    samples = _query(
        warehouse,
        "select sample_values from dq.expectation_results where raw_table = 'kano_responses' "
        "and expectation like '%_kano_problem%' and not success",
    )
    assert json.loads(samples["sample_values"].iloc[0]) == [
        f"\"Q9 (oat_milk, functional): '{BROKEN_ANSWER}' is not a Kano answer\" @ {file}:{BROKEN_LINE}"
    ]


def test_the_asset_rerun_writes_the_same_table(kano_build):
    warehouse, _ = kano_build
    before = _query(warehouse, "select * from marts.mart_kano order by feature")
    assert materialize([kano], resources={"warehouse": Warehouse(path=str(warehouse))}).success
    pd.testing.assert_frame_equal(before, _query(warehouse, "select * from marts.mart_kano order by feature"))
