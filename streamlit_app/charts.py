"""Altair chart builders: data frames from :mod:`streamlit_app.data_access` in, charts out.

They take their titles from the page's labels and never query or compute a metric themselves.
"""

from __future__ import annotations

from collections.abc import Mapping

import altair as alt
import pandas as pd

# Detractors red, passives grey, promoters green: the convention readers of NPS reports expect.
CATEGORY_COLOURS = {"detractor": "#d62728", "passive": "#9e9e9e", "promoter": "#2ca02c"}


def nps_trend_chart(trend: pd.DataFrame, labels: Mapping[str, str]) -> alt.LayerChart:
    """NPS per period as a line over its 95% interval band (on the fixed -100..100 scale)."""
    base = alt.Chart(trend).encode(x=alt.X("period:T", title=labels["period"]))
    band = base.mark_area(opacity=0.25).encode(
        y=alt.Y("ci_low:Q", title=labels["nps"], scale=alt.Scale(domain=[-100, 100])),
        y2="ci_high:Q",
    )
    line = base.mark_line(point=True).encode(
        y="nps:Q",
        tooltip=[
            alt.Tooltip("period:T", title=labels["period"]),
            alt.Tooltip("nps:Q", title=labels["nps"], format=".1f"),
            alt.Tooltip("ci_low:Q", title=labels["ci_low"], format=".1f"),
            alt.Tooltip("ci_high:Q", title=labels["ci_high"], format=".1f"),
            alt.Tooltip("n:Q", title=labels["responses"], format=","),
        ],
    )
    return band + line


def score_histogram(distribution: pd.DataFrame, labels: Mapping[str, str]) -> alt.Chart:
    """Responses per 0-10 score, coloured by NPS category (names translated via ``category_<x>``)."""
    names = {category: labels[f"category_{category}"] for category in CATEGORY_COLOURS}
    data = distribution.assign(category_name=distribution["category"].map(names))
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X("score:O", title=labels["score"], sort=list(range(11)), axis=alt.Axis(labelAngle=0)),
            y=alt.Y("responses:Q", title=labels["responses"]),
            color=alt.Color(
                "category_name:N",
                title=labels["category"],
                scale=alt.Scale(domain=list(names.values()), range=list(CATEGORY_COLOURS.values())),
            ),
            tooltip=[
                alt.Tooltip("score:O", title=labels["score"]),
                alt.Tooltip("responses:Q", title=labels["responses"], format=","),
                alt.Tooltip("category_name:N", title=labels["category"]),
            ],
        )
    )


def csat_by_touchpoint_chart(csat: pd.DataFrame, name_column: str, labels: Mapping[str, str]) -> alt.Chart:
    """Top-2-box share per rated touchpoint, bars in journey order (the order of ``csat``)."""
    rated = csat[csat["n"] > 0]
    return (
        alt.Chart(rated)
        .mark_bar()
        .encode(
            x=alt.X(
                "top2_share:Q",
                title=labels["csat"],
                scale=alt.Scale(domain=[0, 1]),
                axis=alt.Axis(format="%"),
            ),
            y=alt.Y(f"{name_column}:N", title=labels["touchpoint"], sort=list(rated[name_column])),
            tooltip=[
                alt.Tooltip(f"{name_column}:N", title=labels["touchpoint"]),
                alt.Tooltip("top2_share:Q", title=labels["csat"], format=".1%"),
                alt.Tooltip("mean_csat:Q", title=labels["mean_csat"], format=".2f"),
                alt.Tooltip("n:Q", title=labels["responses"], format=","),
            ],
        )
    )


def emotion_curve_chart(stages: pd.DataFrame, name_column: str, labels: Mapping[str, str]) -> alt.Chart:
    """Mean CSAT per stage as a line over the stages in journey order (the order of ``stages``),
    on the fixed 1-5 scale so a dip reads the same for every selection."""
    rated = stages[stages["ratings"] > 0]
    return (
        alt.Chart(rated)
        .mark_line(point=True)
        .encode(
            x=alt.X(
                f"{name_column}:N",
                title=labels["stage"],
                sort=list(rated[name_column]),
                axis=alt.Axis(labelAngle=0),
            ),
            y=alt.Y("mean_csat:Q", title=labels["mean_csat"], scale=alt.Scale(domain=[1, 5])),
            tooltip=[
                alt.Tooltip(f"{name_column}:N", title=labels["stage"]),
                alt.Tooltip("mean_csat:Q", title=labels["mean_csat"], format=".2f"),
                alt.Tooltip("ratings:Q", title=labels["ratings"], format=","),
            ],
        )
    )


def experience_vs_operations_chart(
    stores: pd.DataFrame, measure_title: str, value_format: str, labels: Mapping[str, str]
) -> alt.LayerChart:
    """One labelled point per store: the operational measure (x) against the touchpoint's top-2-box
    CSAT (y), so stores where waiting longer goes with lower satisfaction stand out."""
    base = alt.Chart(stores).encode(
        x=alt.X(
            "operational_value:Q",
            title=measure_title,
            axis=alt.Axis(format=value_format),
            scale=alt.Scale(zero=False),
        ),
        y=alt.Y("top2_share:Q", title=labels["csat"], axis=alt.Axis(format="%")),
    )
    points = base.mark_circle(size=80).encode(
        tooltip=[
            alt.Tooltip("store_name:N", title=labels["store"]),
            alt.Tooltip("operational_value:Q", title=measure_title, format=value_format),
            alt.Tooltip("top2_share:Q", title=labels["csat"], format=".1%"),
            alt.Tooltip("n:Q", title=labels["ratings"], format=","),
        ]
    )
    names = base.mark_text(align="left", dx=7).encode(text="store_name:N")
    return points + names
