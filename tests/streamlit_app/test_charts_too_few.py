"""What a hollow mark says: on hover (its tooltip) and to a screen reader (its Vega description,
the SVG's aria-label), a mark over too few answers names itself and "n = 4, too few", never the
score it hides (issue 14).

Vega-Lite describes a mark by every field its layer encodes, so a hollow trend point over 4 answers
was read out as "Period: Jan 12, 2026; NPS: 100; Note: n = 4, too few". Each chart builder that
draws hollow marks is checked here on a frame with one row below the minimum, as the page draws it
(:func:`streamlit_app.charts.show` passes every chart through :func:`charts.described`); the
browser sweep (tests/browser/test_every_page_small_samples.py) reads the same words back from the
SVG chromium draws.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import altair as alt
import pandas as pd
import pytest

from cxlake.metrics import settings
from streamlit_app import charts

LANGUAGE = "en"
NOTE = "n = 4, too few"
# Each builder's words for its fields: the test needs only that they are there.
TITLES = {
    key: key.replace("_", " ").title()
    for key in (
        "period", "nps", "ci_low", "ci_high", "responses", "touchpoint", "csat", "mean_csat", "stage",
        "ratings", "week", "negative_share", "reviews", "side", "side_ours", "side_competitors", "brand",
        "aspect", "positive_share", "avg_rating",
    )
}  # fmt: skip


def trend() -> alt.TopLevelMixin:
    frame = pd.DataFrame(
        {
            "period": pd.to_datetime(["2026-01-05", "2026-01-12", "2026-01-19"]),
            "nps": [40.0, 100.0, 30.0],
            "ci_low": [20.0, 30.0, 10.0],
            "ci_high": [60.0, 100.0, 50.0],
            "n": [40, 4, 40],
        }
    )
    return charts.nps_trend_chart(frame, TITLES, LANGUAGE)


def csat() -> alt.TopLevelMixin:
    frame = pd.DataFrame(
        {"name": ["Speed", "App"], "top2_share": [0.8, 1.0], "mean_csat": [4.1, 5.0], "n": [40, 4]}
    )
    return charts.csat_by_touchpoint_chart(frame, "name", TITLES, LANGUAGE)


def emotion_curve() -> alt.TopLevelMixin:
    frame = pd.DataFrame(
        {"name": ["Order", "Wait", "Pick-up"], "mean_csat": [4.2, 1.0, 4.0], "ratings": [40, 4, 40]}
    )
    return charts.emotion_curve_chart(frame, "name", TITLES, LANGUAGE)


def negative_share() -> alt.TopLevelMixin:
    frame = pd.DataFrame(
        {
            "week_start": pd.to_datetime(["2026-01-05", "2026-01-12"] * 2),
            "is_competitor": [False, False, True, True],
            "negative_share": [0.2, 1.0, 0.3, 0.25],
            "count_reviews": [40, 4, 40, 40],
        }
    )
    return charts.negative_share_trend_chart(frame, TITLES, LANGUAGE)


def benchmark() -> alt.TopLevelMixin:
    frame = pd.DataFrame(
        {
            "brand": ["栖云咖啡", "港湾咖啡"],
            "is_competitor": [False, True],
            "aspect_name": ["Taste", "Taste"],
            "positive_share": [1.0, 0.6],
            "negative_share": [0.0, 0.3],
            "avg_rating": [5.0, 3.9],
            "count_reviews": [4, 40],
        }
    )
    return charts.benchmark_chart(frame, TITLES, LANGUAGE)


# builder -> the fields of its frame a hollow mark may name (which mark it is, and the note)
BUILDERS: dict[str, tuple[Callable[[], alt.TopLevelMixin], set[str]]] = {
    "nps_trend_chart": (trend, {"period"}),
    "csat_by_touchpoint_chart": (csat, {"name"}),
    "emotion_curve_chart": (emotion_curve, {"name"}),
    "negative_share_trend_chart": (negative_share, {"week_start", "side"}),
    "benchmark_chart": (benchmark, {"brand", "aspect_name"}),
}


def too_few_layers(spec: dict) -> list[dict]:
    """The layers of a compiled chart that draw the rows over too few answers."""
    return [
        layer for layer in spec["layer"] if {"filter": charts.TOO_FEW_FILTER} in layer.get("transform", [])
    ]


def test_the_rows_below_the_minimum_are_the_ones_tested():
    assert settings().min_responses == 30  # the 4 and 40 below sit on either side of it


@pytest.mark.parametrize("builder", sorted(BUILDERS))
def test_a_hollow_mark_names_itself_and_its_n_never_its_score(builder):
    build, names = BUILDERS[builder]
    spec = charts.described(build()).to_dict()
    layers = too_few_layers(spec)
    assert layers, f"{builder} draws no layer of too-few rows"
    allowed = {*names, charts.NOTE}
    for layer in layers:
        tooltip = {item["field"] for item in layer["encoding"]["tooltip"]}
        assert charts.NOTE in tooltip and tooltip <= allowed, (builder, layer["mark"], tooltip)
        description = layer["mark"]["description"]["expr"]
        assert set(re.findall(r'datum\["([^"]+)"\]', description)) <= allowed, description
        assert '"; Note: "' in description, description


def test_the_description_says_what_the_tooltip_says_in_vega_lites_words():
    spec = charts.described(trend()).to_dict()
    (hollow,) = too_few_layers(spec)
    assert hollow["mark"]["description"] == {
        "expr": '"Period: " + (isValid(datum["period"]) ? timeFormat(datum["period"], "%b %d, %Y") : \'\')'
        ' + "; Note: " + (isValid(datum["too_few_note"]) ? \'\' + datum["too_few_note"] : \'\')'
    }
    # the solid layers keep Vega-Lite's own description (score and n, as the tooltip has them)
    assert all(
        "description" not in layer["mark"] for layer in spec["layer"] if layer not in too_few_layers(spec)
    )


def test_the_data_says_too_few_on_the_row_below_the_minimum():
    (dataset,) = charts.described(trend()).to_dict()["datasets"].values()
    assert [row[charts.NOTE] for row in dataset] == ["", NOTE, ""]
    assert [row["reportable"] for row in dataset] == [True, False, True]


def test_a_label_beside_a_hollow_bar_says_the_same_as_the_bar():
    spec = charts.described(csat()).to_dict()
    bar, label = too_few_layers(spec)
    assert label["mark"]["type"] == "text" and label["encoding"]["text"]["field"] == charts.NOTE
    assert label["encoding"]["tooltip"] == bar["encoding"]["tooltip"]
    assert label["mark"]["description"] == bar["mark"]["description"]


def test_a_hollow_layer_built_elsewhere_is_described_when_shown_and_not_changed_in_place():
    """Pages that build their own hollow layers (too_few_rows, HOLLOW, too_few_tooltip, as the
    Integrity page's device chart does) get the same description from charts.show."""
    frame = charts.with_reportability(
        pd.DataFrame({"store": ["S001", "S002"], "share": [0.9, 0.1], "n": [4, 40]}), LANGUAGE
    )
    base = alt.Chart(frame).encode(x="share:Q", y="store:N")
    store = alt.Tooltip("store:N", title="Store")
    hollow = (
        charts.too_few_rows(base)
        .mark_bar(**charts.HOLLOW)
        .encode(tooltip=charts.too_few_tooltip(store, LANGUAGE))
    )
    untitled = charts.too_few_rows(base).mark_text()  # no tooltip: the note alone
    chart = charts.facts(base).mark_bar() + hollow + untitled

    described = charts.described(chart).to_dict()
    solid, bar, text = described["layer"]
    assert "description" not in solid["mark"]
    assert bar["mark"]["description"]["expr"] == (
        '"Store: " + (isValid(datum["store"]) ? \'\' + datum["store"] : \'\')'
        ' + "; Note: " + (isValid(datum["too_few_note"]) ? \'\' + datum["too_few_note"] : \'\')'
    )
    assert text["mark"] == {"type": "text", "description": {"expr": "'' + datum[\"too_few_note\"]"}}
    assert "description" not in chart.to_dict()["layer"][1]["mark"]  # the chart given is as it was


def test_a_description_a_page_gave_is_kept():
    frame = charts.with_reportability(pd.DataFrame({"store": ["S001"], "share": [0.9], "n": [4]}), LANGUAGE)
    own = charts.too_few_rows(alt.Chart(frame)).mark_bar(description="said by the page").encode(y="store:N")
    assert charts.described(own).to_dict()["mark"]["description"] == "said by the page"
