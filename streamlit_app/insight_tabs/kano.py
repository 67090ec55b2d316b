"""The Kano tab: which features customers take for granted, which delight them, which leave them cold.

marts.mart_kano's verdict per feature as the Better-Worse diagram (features with too few answers
named in words, never placed) and a table; under them, the comments behind the diagram: the survey
comments that name the picked feature (the Kano survey asks no open question of its own).
"""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from streamlit_app import charts, data_access, labels
from streamlit_app.data_access import comments as comments_access
from streamlit_app.insight_tabs.common import Tab, no_mart, show_comments, table

KEY_KANO_COMMENTS = "insights_kano_comments"
# The standard Better-Worse diagram's split: coefficients above one half place a feature.
KANO_SPLIT = 0.5


def kano_chart(tab: Tab, reportable: pd.DataFrame) -> alt.LayerChart:
    """The Better-Worse diagram: |Worse| across, Better up, split at one half into must-be (right,
    low), one-dimensional (right, high), attractive (left, high) and indifferent (left, low)."""
    data = reportable.assign(
        dissatisfaction=-reportable["worse"],
        category_word=reportable["kano_category"].map(
            lambda c: labels.code("kano_category", c, tab.language)
        ),
    )
    unit = alt.Scale(domain=[0, 1])
    base = alt.Chart(data).encode(
        x=alt.X("dissatisfaction:Q", title=tab.text["worse"], scale=unit),
        y=alt.Y("better:Q", title=tab.text["better"], scale=unit),
    )
    points = base.mark_circle(size=120).encode(
        color=alt.Color("category_word:N", title=tab.text["kano_category"]),
        tooltip=[
            alt.Tooltip("feature_label:N", title=tab.text["feature"]),
            alt.Tooltip("category_word:N", title=tab.text["kano_category"]),
            alt.Tooltip("better:Q", title="Better", format=".2f"),
            alt.Tooltip("worse:Q", title="Worse", format=".2f"),
            alt.Tooltip("n:Q", title=labels.header("n", tab.language), format=","),
        ],
    )
    names = base.mark_text(align="left", dx=8).encode(text="feature_label:N")
    split = pd.DataFrame({"at": [KANO_SPLIT]})
    vertical = alt.Chart(split).mark_rule(strokeDash=[4, 3], color="#666").encode(x="at:Q")
    horizontal = alt.Chart(split).mark_rule(strokeDash=[4, 3], color="#666").encode(y="at:Q")
    return alt.layer(vertical, horizontal, points, names).properties(height=380)


def show(tab: Tab) -> None:
    """The Better-Worse diagram of the chain's features, their table and the comments naming one."""
    kano = data_access.kano_features(tab.scope)
    if kano is None:
        no_mart(tab, "mart_kano")
        return
    if kano.empty:
        st.info(tab.text["no_kano_rows"])
        return
    st.caption(tab.text["kano_note"])
    reportable = kano[kano["is_reportable"]]
    if not reportable.empty:
        charts.show(kano_chart(tab, reportable))
    too_few = kano[~kano["is_reportable"]]
    if not too_few.empty:
        st.caption(
            tab.text["kano_too_few"].format(
                features=", ".join(
                    f"{label} ({tab.too_few(n)})"
                    for label, n in zip(too_few["feature_label"], too_few["n"], strict=True)
                )
            )
        )
    counts = [column for column in kano.columns if column.startswith("count_")]
    shown = kano[
        ["feature_label", "kano_category", "n", "better", "worse", *counts, "is_reportable", "feature"]
    ]
    table(tab, shown, "insights_kano")
    if not reportable.empty:
        feature_comments(tab, reportable)


def feature_comments(tab: Tab, reportable: pd.DataFrame) -> None:
    """The comments behind the diagram: a feature picked among those placed, the comments naming it."""
    names = dict(zip(reportable["feature"], reportable["feature_label"], strict=True))
    with st.expander(tab.text["comments_title"]):
        feature = st.selectbox(
            tab.text["feature"], list(names), format_func=names.__getitem__, key=KEY_KANO_COMMENTS
        )
        comments = comments_access.feature_comments(tab.scope, tab.principal.sees_pii, names[feature])
        note = tab.text["kano_comments_note"].format(feature=names[feature])
        show_comments(tab, comments, note, f"insights_kano_comments_{feature}")
