"""The Peak and end tab: does the worst moment, or the last one, explain recommendation beyond the
average CSAT (marts.mart_peak_end)?

Per journey stage of the picked scope: the verdict in plain words, the R² of the four nested models
as a bar chart where the stage has enough respondents (below, only its n), one table of every stage;
then the comments behind the charts: those of the journeys whose worst moment lay in the picked stage.
"""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from cxlake.insights.peak_end import FIX_LAST, FIX_WORST, JOURNEY, TOO_FEW
from cxlake.insights.peak_end import load_settings as peak_end_settings
from streamlit_app import charts
from streamlit_app.data_access import comments as comments_access
from streamlit_app.data_access import peak_end as peak_end_access
from streamlit_app.insight_tabs.common import Tab, no_mart, pick_scope, show_comments, table

KEY_PEAK_END_SCOPE = "insights_peak_end_scope"
KEY_PEAK_END_COMMENTS = "insights_peak_end_comments"
PEAK_END_MODELS = ("r2_mean", "r2_mean_lowest", "r2_mean_last", "r2_mean_lowest_last")


def p_words(p: float) -> str:
    """A p-value as a reader takes it: three decimals, tiny ones as < 0.001."""
    return "< 0.001" if p < 0.001 else f"= {p:.3f}"


def points(gain: float) -> str:
    """A gain in R² in percentage points, one decimal."""
    return f"{gain * 100:.1f}"


def peak_end_chart(tab: Tab, row: pd.Series) -> alt.Chart:
    """R² of the four nested models of one stage, the mean-only model first."""
    data = pd.DataFrame(
        {
            "model": [tab.text[f"model_{model.removeprefix('r2_')}"] for model in PEAK_END_MODELS],
            "r2": [row[model] * 100 for model in PEAK_END_MODELS],
        }
    )
    return (
        alt.Chart(data)
        .mark_bar(color="#4c78a8")
        .encode(
            y=alt.Y("model:N", title=tab.text["model"], sort=list(data["model"])),
            x=alt.X("r2:Q", title=tab.text["r2"]),
            tooltip=[
                alt.Tooltip("model:N", title=tab.text["model"]),
                alt.Tooltip("r2:Q", title=tab.text["r2"], format=".1f"),
            ],
        )
        .properties(height=150)
    )


def peak_end_sentence(tab: Tab, row: pd.Series, minimum: int) -> str:
    """The stage's verdict in plain words; below the minimum n only its n, never a model's figure."""
    if row["verdict"] == TOO_FEW:
        return tab.text["verdict_too_few"].format(too_few=tab.too_few(row["n"]), min=minimum)
    return tab.text[f"verdict_{row['verdict']}"].format(
        gain_low=points(row["lowest_r2_gain"]),
        p_low=p_words(row["lowest_p_value"]),
        gain_last=points(row["last_r2_gain"]),
        p_last=p_words(row["last_p_value"]),
        lowest=row[f"lowest_name_{tab.language}"] if row["verdict"] == FIX_WORST else "",
        last=row[f"last_name_{tab.language}"] if row["verdict"] == FIX_LAST else "",
    )


def show(tab: Tab) -> None:
    """Per stage of the picked scope: the verdict in words, the four models' R² where reportable,
    the table of every stage, and the comments behind the charts."""
    scopes = peak_end_access.peak_end_scopes(tab.scope)
    if scopes is None:
        no_mart(tab, "mart_peak_end")
        return
    if scopes.empty:
        st.info(tab.text["no_peak_end_rows"])
        return
    level, scope_id, scope_name = pick_scope(tab, scopes, tab.text["drivers_scope"], KEY_PEAK_END_SCOPE)
    rows = peak_end_access.peak_end_stages(tab.scope, level, scope_id)
    settings = peak_end_settings()
    st.caption(
        tab.text["peak_end_note"].format(
            significance=settings.significance, min_gain=points(settings.min_r2_gain)
        )
    )
    stage_names = [
        tab.text["whole_journey"] if stage == JOURNEY else name
        for stage, name in zip(rows["stage"], rows[f"stage_name_{tab.language}"], strict=True)
    ]
    for name, (_, row) in zip(stage_names, rows.iterrows(), strict=True):
        st.subheader(name, anchor=False)
        sentence = peak_end_sentence(tab, row, settings.min_responses)
        if row["is_reportable"]:
            st.markdown(sentence)
            charts.show(peak_end_chart(tab, row))
        else:
            st.info(sentence)
    reportable = rows["is_reportable"].to_numpy()
    shown = pd.DataFrame(
        {
            "stage": stage_names,
            "verdict": [
                tab.text[f"word_{verdict}"] if ok else tab.too_few(n)
                for verdict, ok, n in zip(rows["verdict"], reportable, rows["n"], strict=True)
            ],
            "n": rows["n"],
            **{model: rows[model] * 100 for model in PEAK_END_MODELS},
            "lowest_gain": rows["lowest_r2_gain"] * 100,
            "lowest_p": [
                p_words(p).removeprefix("= ") if ok else ""
                for p, ok in zip(rows["lowest_p_value"], reportable, strict=True)
            ],
            "last_gain": rows["last_r2_gain"] * 100,
            "last_p": [
                p_words(p).removeprefix("= ") if ok else ""
                for p, ok in zip(rows["last_p_value"], reportable, strict=True)
            ],
            "lowest_beta": rows["lowest_beta"],
            "last_beta": rows["last_beta"],
        }
    )
    table(tab, shown, f"insights_peak_end_{level}_{scope_id}")
    drawn = {
        stage: name for stage, name, ok in zip(rows["stage"], stage_names, reportable, strict=True) if ok
    }
    if drawn:
        worst_moment_comments(tab, drawn, level, scope_id, scope_name, settings.exclude_suspect)


def worst_moment_comments(
    tab: Tab, drawn: dict[str, str], level: str, scope_id: str, scope_name: str, exclude_suspect: bool
) -> None:
    """The comments behind the charts: a stage picked among those drawn (``drawn``: stage -> its
    name, the whole journey first), the comments of the scope's journeys whose worst moment lay in
    it; for the whole journey, every journey's, each with its worst moment named."""
    with st.expander(tab.text["comments_title"]):
        stage = st.selectbox(
            tab.text["col_stage"], list(drawn), format_func=drawn.__getitem__, key=KEY_PEAK_END_COMMENTS
        )
        comments = comments_access.worst_moment_comments(
            tab.scope,
            tab.principal.sees_pii,
            level,
            scope_id,
            None if stage == JOURNEY else stage,
            exclude_suspect,
        )
        note = (
            tab.text["journey_comments_note"].format(scope=scope_name)
            if stage == JOURNEY
            else tab.text["peak_end_comments_note"].format(scope=scope_name, stage=drawn[stage])
        )
        show_comments(tab, comments, note, f"insights_peak_end_comments_{level}_{scope_id}_{stage}")
