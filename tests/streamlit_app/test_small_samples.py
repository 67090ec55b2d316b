"""Small samples are never shown as facts: one minimum n (metrics.yaml ``min_responses``, 30) for the
trend's points, the bars, the journey cards and the downloads. Below it a score is drawn hollow or
replaced by "n = 4, too few", and a trend's axis follows its data instead of the fixed -100..100.

The charts are checked in the Vega-Lite spec and data the page hands the browser, so a test fails
if a point over 4 answers reaches a solid layer or the line.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

from cxlake.metrics import nps_from_counts, settings
from streamlit_app import charts

APP_DIR = Path(__file__).resolve().parents[2] / "streamlit_app"
OVERVIEW = APP_DIR / "views" / "overview.py"
JOURNEY = APP_DIR / "views" / "journey.py"

# Store S001's answers by week (Mondays): (promoters, passives, detractors). The middle week has 4
# answers, all 10s: the NPS 100 that must not be drawn as a fact.
WEEKS = {
    date(2026, 1, 5): (24, 8, 8),  # n = 40, NPS 40
    date(2026, 1, 12): (4, 0, 0),  # n = 4, NPS 100
    date(2026, 1, 19): (20, 12, 8),  # n = 40, NPS 30
}
SMALL_WEEK = "2026-01-12"


@pytest.fixture
def small_week_home(serving_home: Path) -> Path:
    """The fixture serving copy with S001's answers replaced by WEEKS (one answer per row, each on
    the week's Tuesday), so the weekly trend has two weeks of 40 answers around one of 4."""
    rows = []
    for monday, counts in WEEKS.items():
        for score, count in zip((10, 8, 3), counts, strict=True):
            rows += [(monday + timedelta(days=1), score)] * count
    with duckdb.connect(str(serving_home / "serving.duckdb")) as connection:
        connection.execute("delete from marts.fct_survey_responses")
        connection.executemany(
            "insert into marts.fct_survey_responses (response_key, response_date, store_id, region_id,"
            " channel, nps_score, nps_category, status, is_countable)"
            " values (?, ?, 'S001', 'R01', 'in_store', ?, ?, 'complete', true)",
            [
                (
                    f"S001-{index:03d}",
                    day,
                    score,
                    "promoter" if score >= 9 else "passive" if score >= 7 else "detractor",
                )
                for index, (day, score) in enumerate(rows)
            ],
        )
    return serving_home


@pytest.fixture
def run_as_director(sign_in_as) -> Callable[..., AppTest]:
    def run(page: Path, language: str = "en") -> AppTest:
        at = sign_in_as(AppTest.from_file(str(page), default_timeout=30), "cx_director")
        at.session_state["lang"] = language
        return at.run()

    return run


def chart_of(at: AppTest, field: str) -> tuple[dict, pd.DataFrame]:
    """The spec and the data of the one chart on the page whose spec names ``field``."""
    (chart,) = [c.proto for c in at.get("vega_lite_chart") if f'"field": "{field}"' in c.proto.spec]
    (dataset,) = chart.datasets
    data = pa.ipc.open_stream(dataset.data.data).read_all().to_pandas()
    return json.loads(chart.spec), data


def layer_with(spec: dict, **mark: object) -> dict:
    """The one layer whose mark has every property of ``mark``."""
    (layer,) = [
        layer
        for layer in spec["layer"]
        if all(layer["mark"].get(key) == value for key, value in mark.items())
    ]
    return layer


def test_the_minimum_is_the_configured_one():
    assert settings().min_responses == 30  # the 4 and 40 below sit on either side of it


def test_the_weekly_trend_marks_the_week_of_four_answers_and_scales_its_axis(
    small_week_home, run_as_director
):
    at = run_as_director(OVERVIEW)
    assert not at.exception
    spec, data = chart_of(at, "ci_low")
    weeks = data.assign(period=pd.to_datetime(data["period"]).dt.strftime("%Y-%m-%d")).set_index("period")
    assert weeks["n"].to_dict() == {"2026-01-05": 40, SMALL_WEEK: 4, "2026-01-19": 40}
    assert weeks["reportable"].to_dict() == {"2026-01-05": True, SMALL_WEEK: False, "2026-01-19": True}
    assert weeks["too_few_note"].to_dict() == {
        "2026-01-05": "",
        SMALL_WEEK: "n = 4, too few",
        "2026-01-19": "",
    }
    assert weeks.loc[SMALL_WEEK, "nps"] == 100.0

    # Solid marks, the line and the band draw only reportable rows; the small week is a hollow,
    # dashed point whose tooltip gives the note, not the score.
    for mark in ("area", "line"):
        assert layer_with(spec, type=mark)["transform"] == [{"filter": "datum.reportable"}]
    assert layer_with(spec, type="point", filled=True)["transform"] == [{"filter": "datum.reportable"}]
    hollow = layer_with(spec, type="point", filled=False)
    assert hollow["transform"] == [{"filter": "!datum.reportable"}]
    assert hollow["mark"]["strokeDash"]
    assert [t["field"] for t in hollow["encoding"]["tooltip"]] == ["period", "too_few_note"]
    # The line's segments break at the small week: the weeks either side are not joined.
    assert weeks.loc["2026-01-05", "segment"] != weeks.loc["2026-01-19", "segment"]
    assert layer_with(spec, type="line")["encoding"]["detail"]["field"] == "segment"

    # The axis follows the reportable weeks' intervals, padded; the hollow NPS 100 of 4 answers
    # does not stretch it (it sits on the clamped edge).
    reportable = [nps_from_counts(*counts) for counts in WEEKS.values() if sum(counts) >= 30]
    low, high = min(r.ci_low for r in reportable), max(r.ci_high for r in reportable)
    scale = layer_with(spec, type="line")["encoding"]["y"]["scale"]
    assert low - 15 < scale["domain"][0] < low  # ~2.4 -> -5: a padding, not half the scale
    assert high < scale["domain"][1] < min(high + 15, 100)
    assert scale["clamp"] is True


def test_the_trend_download_keeps_n_and_says_which_weeks_are_reportable(
    small_week_home, run_as_director, deferred_downloads
):
    at = run_as_director(OVERVIEW)
    csv = deferred_downloads["nps_trend_week.csv"]()
    rows = pd.read_csv(io.BytesIO(csv), encoding="utf-8-sig", dtype=str)
    assert rows[["Period", "Responses", "Enough responses to report"]].values.tolist() == [
        ["2026-01-05", "40", "Yes"],
        [SMALL_WEEK, "4", "No"],
        ["2026-01-19", "40", "Yes"],
    ]
    assert not at.exception


def test_the_note_is_in_chinese_on_the_chinese_page(small_week_home, run_as_director):
    at = run_as_director(OVERVIEW, "zh")
    assert not at.exception
    _, data = chart_of(at, "ci_low")
    assert sorted(set(data["too_few_note"])) == ["", "n = 4，样本过少"]


def test_a_touchpoint_bar_below_the_minimum_is_hollow_and_labelled(serving_home, run_as_director):
    at = run_as_director(OVERVIEW)
    spec, data = chart_of(at, "top2_share")
    # The fixture's overview ratings are 4 to 7 per touchpoint: every bar is below 30.
    assert data["n"].tolist() == [2, 1, 4, 3]  # app, value, speed, staff
    assert not data["reportable"].any()
    assert data["too_few_note"].tolist() == [
        "n = 2, too few",
        "n = 1, too few",
        "n = 4, too few",
        "n = 3, too few",
    ]
    hollow = layer_with(spec, type="bar", filled=False)
    assert hollow["transform"] == [{"filter": "!datum.reportable"}]
    note = layer_with(spec, type="text")
    assert note["encoding"]["text"]["field"] == "too_few_note"
    assert note["transform"] == [{"filter": "!datum.reportable"}]


def test_a_journey_card_below_the_minimum_shows_the_label_and_no_score(serving_home, run_as_director):
    at = run_as_director(JOURNEY)
    assert not at.exception
    cards = {metric.label: metric.value for metric in at.metric}
    assert cards["App"] == "n = 12, too few"  # 12 ratings: no "%" anywhere on the card
    assert cards["Value"] == "71.7%"  # 60 ratings: the score
    card_texts = [element.value for element in at.markdown] + [element.value for element in at.caption]
    assert not any("Mean" in text and "n = 12" in text for text in card_texts)
    zh = run_as_director(JOURNEY, "zh")
    assert {metric.label: metric.value for metric in zh.metric}["小程序/App"] == "n = 12，样本过少"


def test_the_journey_map_download_marks_the_small_touchpoint(
    serving_home, run_as_director, deferred_downloads
):
    run_as_director(JOURNEY)
    csv = deferred_downloads["journey_map.csv"]()
    rows = pd.read_csv(io.BytesIO(csv), encoding="utf-8-sig", dtype=str).set_index("Touchpoint id")
    assert rows["Responses"].to_dict() == {"app": "12", "value": "60", "speed": "52", "staff": "40"}
    assert rows["Enough responses to report"].to_dict() == {
        "app": "No",
        "value": "Yes",
        "speed": "Yes",
        "staff": "Yes",
    }


def test_the_emotion_curve_draws_a_stage_below_the_minimum_hollow_off_the_line():
    stages = pd.DataFrame(
        {
            "stage_name_en": ["Order", "Wait", "Fulfil"],
            "ratings": [40, 4, 52],
            "mean_csat": [3.5, 5.0, 4.1],
        }
    )
    chart = charts.emotion_curve_chart(
        stages, "stage_name_en", {"stage": "Stage", "mean_csat": "Mean", "ratings": "Ratings"}, "en"
    )
    spec = chart.to_dict()
    (data,) = spec["datasets"].values()
    assert [(row["reportable"], row["too_few_note"]) for row in data] == [
        (True, ""),
        (False, "n = 4, too few"),
        (True, ""),
    ]
    assert data[0]["segment"] != data[2]["segment"]  # Order and Fulfil are not joined across Wait
    assert layer_with(spec, type="point", filled=False)["transform"] == [{"filter": "!datum.reportable"}]


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([20.0, 31.0], [15, 40]),  # padded by 5, out to multiples of 5
        ([-90.0, 98.0], [-100, 100]),  # padded by a tenth of the span, within -100..100
        ([], [-100, 100]),  # nothing to scale to
        ([float("nan"), 12.0], [5, 20]),  # a missing value is no value
    ],
)
def test_padded_domain(values, expected):
    assert charts.padded_domain(values, bounds=(-100, 100), pad=5, step=5) == expected
