"""The Overview's headline tiles: change against the previous period and the same days last year
with its verdict, the target beside the value and the mix / rate split of the NPS change.

The conftest's serving copy answers on 5-14 January 2026 (n = 40: 17 / 11 / 12, NPS 12.5; channels
in_store 10/4/6, app 4/6/2, delivery 3/1/4; CES 3 on every answer). This module adds hand counts
before it:
  previous 10 days (26 Dec - 4 Jan): n = 60, 12 / 18 / 30, NPS -30 -> +42.5, z = 2.54: significant;
    in_store 6/9/15, app 5/7/13, delivery 1/2/2 (shares .5 / .417 / .083, now .5 / .3 / .2);
    rate = .5 * 50 + .41667 * 48.667 + .08333 * 7.5 = 45.90, mix = -.11667 * 16.667 + .11667 * -12.5
    = -3.40; CES 2 and 3 alternating in each channel (31 x 2, 29 x 3: mean 2.483) -> +0.52,
    significant by Welch (all 3 now)
  same days last year (5-14 January 2025): n = 40, 16 / 12 / 12, NPS 10 -> +2.5, z = 0.13: no change
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

PAGE = Path(__file__).resolve().parents[2] / "streamlit_app" / "views" / "overview.py"
SHANGHAI = timezone(timedelta(hours=8))
CURRENT = (date(2026, 1, 5), date(2026, 1, 14))
STORE_OF = {"in_store": ("S001", "R01"), "app": ("S002", "R01"), "delivery": ("S003", "R02")}
# (first day, channel, promoters, passives, detractors)
PREVIOUS = [
    (date(2025, 12, 26), "in_store", 6, 9, 15),
    (date(2025, 12, 26), "app", 5, 7, 13),
    (date(2025, 12, 26), "delivery", 1, 2, 2),
]
LAST_YEAR = [(date(2025, 1, 5), "in_store", 16, 12, 12)]
TARGETS = "chain: {nps: 40, ces: 2.8}\nregions:\n  R01: {nps: 15}\n"


def _rows(periods: list[tuple]) -> list[tuple]:
    rows = []
    for first, channel, promoters, passives, detractors in periods:
        store, region = STORE_OF[channel]
        scores = [10] * promoters + [8] * passives + [3] * detractors
        for index, score in enumerate(scores):
            day = first + timedelta(days=index % 10)
            key = f"E{first:%y%m%d}-{channel}-{index:03d}"
            category = "promoter" if score >= 9 else "passive" if score >= 7 else "detractor"
            responded = datetime(day.year, day.month, day.day, 12, tzinfo=SHANGHAI)
            rows.append(
                (key, "SV_cxlakeApp", key, "qualtrics", responded, day, store, region, channel, None, score,
                 category, 2 + index % 2, None, "complete", True)
            )  # fmt: skip
    return rows


def _add_answers(home: Path, periods: list[tuple]) -> None:
    with duckdb.connect(str(home / "serving.duckdb")) as connection:
        connection.executemany(
            f"insert into marts.fct_survey_responses values ({', '.join(['?'] * 16)})", _rows(periods)
        )


@pytest.fixture
def targets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "targets.yaml"
    path.write_text(TARGETS, "utf-8")
    monkeypatch.setenv("CXLAKE_TARGETS_YAML", str(path))


@pytest.fixture
def history_home(serving_home: Path, targets) -> Path:
    """The serving copy with the previous period and the same days last year."""
    _add_answers(serving_home, PREVIOUS + LAST_YEAR)
    return serving_home


@pytest.fixture
def no_last_year_home(serving_home: Path, targets) -> Path:
    """The serving copy with the previous period only."""
    _add_answers(serving_home, PREVIOUS)
    return serving_home


@pytest.fixture
def overview(sign_in_as):
    """The Overview as the admin (the chain's view) on 5-14 January 2026."""

    def run(**state) -> AppTest:
        at = sign_in_as(AppTest.from_file(str(PAGE), default_timeout=30), "admin")
        at.session_state["filter_dates"] = CURRENT
        for key, value in state.items():
            at.session_state[key] = value
        at.run()
        assert not at.exception
        return at

    return run


def captions(at: AppTest) -> list[str]:
    return [caption.value for caption in at.caption]


def test_a_large_rise_against_the_previous_period_is_significant(history_home, overview):
    at = overview()
    assert at.metric[0].value == "12.5"
    assert "vs the previous 10 days: up 42.5 points, significant · was -30.0, n = 60" in captions(at)


def test_a_small_change_against_last_year_is_no_detectable_change(history_home, overview):
    at = overview()
    assert "vs the same days last year: no detectable change (+2.5 points) · was 10.0, n = 40" in captions(at)


def test_without_last_years_data_no_last_year_comparison_is_shown(no_last_year_home, overview):
    at = overview()
    lines = captions(at)
    assert any(line.startswith("vs the previous 10 days: up 42.5 points") for line in lines)
    assert not any("last year" in line for line in lines)


def test_without_any_earlier_data_the_tile_says_so(serving_home, targets, overview):
    at = overview()
    assert "No earlier period of the same length in the data to compare with." in captions(at)
    assert not any(line.startswith("vs ") for line in captions(at))


def test_the_target_and_the_distance_to_it_are_shown(history_home, overview):
    at = overview()
    # the chain's target 40 for NPS 12.5; CES 3.00 against 2.8
    assert "target 40, 27.5 below" in captions(at)
    assert "target 2.8, 0.20 above" in captions(at)


def test_a_region_in_view_takes_its_regions_target(history_home, overview):
    # R01's stores S001 + S002: 32 answers, NPS 18.75, against R01's own target 15
    at = overview(filter_regions=["R01"])
    assert at.metric[0].value == "18.8"
    assert "target 15, 3.8 above" in captions(at)
    assert "target 2.8, 0.20 above" in captions(at)  # R01 names no CES target: the chain's


def test_the_ces_tile_tests_its_change_by_welch(history_home, overview):
    at = overview()
    assert at.metric[1].label == "CES (1-7)"
    assert at.metric[1].value == "3.00"
    # the previous period's CES: 31 answers of 2 and 29 of 3 (mean 2.483), all 3 now
    assert "vs the previous 10 days: up 0.52 points, significant · was 2.48, n = 60" in captions(at)


def test_csat_tiles_below_the_minimum_say_too_few(history_home, overview):
    at = overview()
    speed = next(metric for metric in at.metric if metric.label == "CSAT · Speed")
    assert speed.value == "—"
    assert "n = 4, too few" in captions(at)


def test_the_nps_change_splits_into_rate_and_mix_that_sum_to_it(history_home, overview):
    at = overview()
    assert "Of +42.5: +45.9 from how customers scored, -3.4 from who answered (fewer App answers)." in [
        markdown.value for markdown in at.markdown
    ]
    table = at.dataframe[0].value
    assert list(table["Segment"]) == ["App", "Delivery", "In store"]
    assert table["From scores"].sum() + table["From who answered"].sum() == pytest.approx(42.5, abs=0.02)


def test_the_split_follows_the_segmentation_picked(history_home, overview):
    at = overview()
    at.selectbox(key="change_segment").select("member_tier").run()
    assert not at.exception
    table = at.dataframe[0].value
    # the earlier answers carry no transaction: all non-members then; S001 / S002's members now
    assert list(table["Segment"]) == ["Basic", "Not a member"]
    assert table["From scores"].sum() + table["From who answered"].sum() == pytest.approx(42.5, abs=0.02)


def test_the_verdicts_speak_chinese(history_home, overview):
    at = overview(lang="zh")
    assert "较前 10 天：上升 42.5 分，显著 · 当时 -30.0，n = 60" in captions(at)
    assert "较去年同期：无显著变化（+2.5 分） · 当时 10.0，n = 40" in captions(at)
    assert "目标 40，差 27.5" in captions(at)
