"""The Key drivers tab: which touchpoint to fix first, per chain, region or store.

Johnson's relative weights of each touchpoint's CSAT for likelihood to recommend
(marts.mart_key_drivers) as an importance-performance matrix and a ranked bar chart with intervals;
a scope without enough responses is said in words, never drawn. Under them, the comments behind the
charts: those of the responses in the scope that rated the picked touchpoint low.
"""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from cxlake.insights.drivers import NOT_ENOUGH_RESPONSES
from cxlake.insights.drivers import load_settings as driver_settings
from cxlake.metrics import settings as metric_settings
from streamlit_app import charts, data_access, labels
from streamlit_app.data_access import comments as comments_access
from streamlit_app.insight_tabs.common import Tab, no_mart, pick_scope, show_comments, table

KEY_DRIVER_SCOPE = "insights_driver_scope"
KEY_DRIVER_COMMENTS = "insights_driver_comments"
# Quadrant colours: the one to act on stands out, the rest recede.
QUADRANT_COLOURS = {
    "concentrate_here": "#d62728",
    "keep_up_the_good_work": "#2ca02c",
    "low_priority": "#9e9e9e",
    "possible_overkill": "#1f77b4",
}
# Where each quadrant's label sits in the matrix: (satisfaction side, importance side).
QUADRANT_CORNERS = {
    "concentrate_here": ("low", "high"),
    "keep_up_the_good_work": ("high", "high"),
    "low_priority": ("low", "low"),
    "possible_overkill": ("high", "low"),
}


def matrix_chart(tab: Tab, estimated: pd.DataFrame) -> alt.LayerChart:
    """Satisfaction across, share of explained variance up, cross-hairs at the means (where the mart
    split the quadrants), each quadrant named in its corner."""
    mean_x, mean_y = estimated["satisfaction"].mean(), estimated["relative_weight_share"].mean()
    x_domain = charts.padded_domain(estimated["satisfaction"], (1, 5), 0.2, 0.5)
    y_domain = charts.padded_domain(estimated["relative_weight_share"], (0, 1), 0.05, 0.05)
    data = estimated.assign(
        quadrant_word=estimated["quadrant"].map(lambda q: labels.code("quadrant", q, tab.language))
    )
    base = alt.Chart(data).encode(
        x=alt.X("satisfaction:Q", title=tab.text["satisfaction"], scale=alt.Scale(domain=x_domain)),
        y=alt.Y(
            "relative_weight_share:Q",
            title=tab.text["importance"],
            scale=alt.Scale(domain=y_domain),
            axis=alt.Axis(format="%"),
        ),
    )
    points = base.mark_circle(size=120).encode(
        color=alt.Color(
            "quadrant:N",
            scale=alt.Scale(domain=list(QUADRANT_COLOURS), range=list(QUADRANT_COLOURS.values())),
            legend=None,
        ),
        tooltip=[
            alt.Tooltip("driver_name:N", title=tab.text["touchpoint"]),
            alt.Tooltip("quadrant_word:N", title=tab.text["quadrant"]),
            alt.Tooltip("relative_weight_share:Q", title=tab.text["importance"], format=".1%"),
            alt.Tooltip("satisfaction:Q", title=tab.text["satisfaction"], format=".2f"),
            alt.Tooltip("n:Q", title=labels.header("n", tab.language), format=","),
        ],
    )
    names = base.mark_text(align="left", dx=8).encode(text="driver_name:N")
    hairs = pd.DataFrame({"x": [mean_x], "y": [mean_y]})
    vertical = alt.Chart(hairs).mark_rule(strokeDash=[4, 3], color="#666").encode(x="x:Q")
    horizontal = alt.Chart(hairs).mark_rule(strokeDash=[4, 3], color="#666").encode(y="y:Q")
    corners = pd.DataFrame(
        [
            {
                "x": x_domain[0] if side_x == "low" else x_domain[1],
                "y": y_domain[0] if side_y == "low" else y_domain[1],
                "align": "left" if side_x == "low" else "right",
                "baseline": "bottom" if side_y == "low" else "top",
                "word": labels.code("quadrant", quadrant, tab.language),
            }
            for quadrant, (side_x, side_y) in QUADRANT_CORNERS.items()
        ]
    )
    corner_marks = [
        alt.Chart(corners[(corners["align"] == align) & (corners["baseline"] == baseline)])
        .mark_text(
            align=align, baseline=baseline, dx=4 if align == "left" else -4, color="#888", fontStyle="italic"
        )
        .encode(x="x:Q", y="y:Q", text="word:N")
        for align in ("left", "right")
        for baseline in ("top", "bottom")
    ]
    return alt.layer(vertical, horizontal, *corner_marks, points, names).properties(
        title=tab.text["matrix_title"], height=380
    )


def ranked_chart(tab: Tab, estimated: pd.DataFrame) -> alt.LayerChart:
    """Relative weight per touchpoint, largest first, with its bootstrap interval as an error bar."""
    order = list(estimated["driver_name"])
    base = alt.Chart(estimated).encode(
        y=alt.Y("driver_name:N", title=tab.text["touchpoint"], sort=order),
    )
    bars = base.mark_bar(color="#4c78a8").encode(
        x=alt.X("relative_weight:Q", title=tab.text["weight"]),
        tooltip=[
            alt.Tooltip("driver_name:N", title=tab.text["touchpoint"]),
            alt.Tooltip("relative_weight:Q", title=tab.text["weight"], format=".3f"),
            alt.Tooltip("ci_low:Q", title=f"{tab.text['ci']} ↓", format=".3f"),
            alt.Tooltip("ci_high:Q", title=f"{tab.text['ci']} ↑", format=".3f"),
        ],
    )
    errors = base.mark_errorbar(ticks=True, color="#333").encode(
        x=alt.X("ci_low:Q", title=tab.text["weight"]), x2="ci_high:Q"
    )
    return alt.layer(bars, errors).properties(
        title=tab.text["ranked_title"], height=max(120, 36 * len(order))
    )


def show(tab: Tab) -> None:
    """The key-driver matrix and ranked importance of the picked scope, their table and comments."""
    scopes = data_access.key_driver_scopes(tab.scope)
    if scopes is None:
        no_mart(tab, "mart_key_drivers")
        return
    if scopes.empty:
        st.info(tab.text["no_driver_rows"])
        return
    level, scope_id, scope_name = pick_scope(tab, scopes, tab.text["drivers_scope"], KEY_DRIVER_SCOPE)
    rows = data_access.key_drivers(tab.scope, level, scope_id)
    name_column = f"driver_name_{tab.language}"
    rows = rows.assign(driver_name=rows[name_column]).drop(columns=["driver_name_en", "driver_name_zh"])
    estimated = rows[rows["quadrant"] != NOT_ENOUGH_RESPONSES]
    if estimated.empty:
        st.info(tab.text["not_enough"].format(scope=scope_name, n=int(rows["n"].max() or 0)))
        return
    st.caption(tab.text["drivers_note"])
    charts.show(matrix_chart(tab, estimated))
    charts.show(ranked_chart(tab, estimated))
    left_out = rows[rows["quadrant"] == NOT_ENOUGH_RESPONSES]
    if not left_out.empty:
        st.caption(
            tab.text["drivers_left_out"].format(
                drivers=", ".join(
                    f"{name} (n = {n:,})"
                    for name, n in zip(left_out["driver_name"], left_out["n"], strict=True)
                )
            )
        )
    shown = rows.rename(columns={"ci_low": "weight_ci_low", "ci_high": "weight_ci_high"})[
        [
            "driver_name", "quadrant", "relative_weight_share", "relative_weight", "weight_ci_low",
            "weight_ci_high", "satisfaction", "n", "driver",
        ]
    ]  # fmt: skip
    table(tab, shown, "insights_key_drivers")
    driver_comments(tab, rows, estimated, level, scope_id, scope_name)


def driver_comments(
    tab: Tab, rows: pd.DataFrame, estimated: pd.DataFrame, level: str, scope_id: str, scope_name: str
) -> None:
    """The comments behind the matrix and the bars: a touchpoint picked among those drawn (most
    important first), the comments of the scope's responses that rated it below the top-2 box."""
    names = dict(zip(rows["driver"], rows["driver_name"], strict=True))
    with st.expander(tab.text["comments_title"]):
        driver = st.selectbox(
            tab.text["touchpoint"],
            list(estimated["driver"]),
            format_func=names.__getitem__,
            key=KEY_DRIVER_COMMENTS,
        )
        comments = comments_access.low_rating_comments(
            tab.scope, tab.principal.sees_pii, level, scope_id, driver, driver_settings().exclude_suspect
        )
        low, _ = metric_settings().csat_scale
        note = tab.text["driver_comments_note"].format(
            scope=scope_name, touchpoint=names[driver], low=low, high=metric_settings().csat_top_box_min - 1
        )
        show_comments(tab, comments, note, f"insights_driver_comments_{level}_{scope_id}_{driver}")
