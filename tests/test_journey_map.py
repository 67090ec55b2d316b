"""The journey map file: read from the path the caller or $CXLAKE_JOURNEY_MAP names, validated,
and flattened into the tables dbt reads."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from assets.configuration import journey_measures_frame, journey_touchpoints_frame
from cxlake.journey import JOURNEY_MAP_ENV, load_stages, load_touchpoints

ISSUE_TOUCHPOINTS = {"taste", "speed", "staff", "environment", "value", "app", "delivery"}


def _write_map(tmp_path, stages) -> str:
    path = tmp_path / "journey_map.yaml"
    path.write_text(yaml.safe_dump({"version": 1, "stages": stages}, allow_unicode=True), encoding="utf-8")
    return str(path)


def _touchpoint(touchpoint_id: str, **measures) -> dict:
    return {"id": touchpoint_id, "name": {"zh": touchpoint_id, "en": touchpoint_id}, "measures": measures}


def test_the_packaged_map_has_the_six_stages_and_every_touchpoint_with_measures():
    stages = load_stages()
    assert [stage.id for stage in stages] == ["discover", "order", "fulfil", "consume", "service", "return"]
    assert stages[2].touchpoint_ids == ("speed", "staff", "delivery") and stages[0].touchpoint_ids == ()
    touchpoints = {tp.id: tp for tp in load_touchpoints()}
    assert set(touchpoints) == ISSUE_TOUCHPOINTS
    assert touchpoints["speed"].operational_metric == "wait_minutes"
    assert touchpoints["taste"].pos_events == ("remake", "refund")
    assert all(tp.survey_measure == "csat" and tp.review_aspect_keywords for tp in touchpoints.values())
    assert [tp.touchpoint_order for tp in load_touchpoints()] == list(range(1, 8))


def test_the_environment_variable_points_at_another_map_when_called(tmp_path, monkeypatch):
    path = _write_map(
        tmp_path,
        [{"id": "visit", "name": {"zh": "到店", "en": "Visit"}, "touchpoints": [_touchpoint("door")]}],
    )
    monkeypatch.setenv(JOURNEY_MAP_ENV, path)
    assert [tp.id for tp in load_touchpoints()] == ["door"]
    monkeypatch.delenv(JOURNEY_MAP_ENV)
    assert {tp.id for tp in load_touchpoints()} == ISSUE_TOUCHPOINTS


@pytest.mark.parametrize(
    ("touchpoints", "message"),
    [
        # ids become csat_<id> column names
        ([_touchpoint("Door Bell")], "lowercase ascii identifier"),
        ([_touchpoint("座位")], "lowercase ascii identifier"),
        # the same id twice would make two columns of one name
        ([_touchpoint("door"), _touchpoint("door")], "appear twice"),
        # only events the POS delivers
        ([_touchpoint("door", pos_events=["slammed"])], "unknown pos_events"),
    ],
)
def test_a_map_that_cannot_become_columns_fails_when_read(tmp_path, touchpoints, message):
    path = _write_map(
        tmp_path, [{"id": "visit", "name": {"zh": "到店", "en": "Visit"}, "touchpoints": touchpoints}]
    )
    with pytest.raises(ValueError, match=message):
        load_touchpoints(path)


def test_measures_flatten_to_one_row_per_touchpoint_and_measure(tmp_path, monkeypatch):
    stages = [
        {
            "id": "order",
            "name": {"zh": "下单", "en": "Order"},
            "touchpoints": [
                _touchpoint(
                    "till",
                    survey="csat",
                    operational="wait_minutes",
                    pos_events=["refund"],
                    review_aspect_keywords=["收银", "排队"],
                ),
            ],
        },
        {"id": "empty", "name": {"zh": "空", "en": "Empty"}, "touchpoints": []},
        {
            "id": "consume",
            "name": {"zh": "品尝", "en": "Consume"},
            "touchpoints": [_touchpoint("cup", survey=None)],
        },
    ]
    monkeypatch.setenv(JOURNEY_MAP_ENV, _write_map(tmp_path, stages))
    measures = journey_measures_frame()
    assert list(measures.itertuples(index=False, name=None)) == [
        ("till", "survey", "csat", 1),
        ("till", "operational", "wait_minutes", 2),
        ("till", "pos_event", "refund", 3),
        ("till", "review_aspect", "收银", 4),
        ("till", "review_aspect", "排队", 5),
    ]
    touchpoints = journey_touchpoints_frame().set_index("touchpoint_id")
    assert touchpoints.loc["till", "review_aspect_keywords"] == "收银,排队"
    assert touchpoints.loc["cup", "stage_order"] == 3
    assert pd.isna(touchpoints.loc["cup", "survey_measure"])
