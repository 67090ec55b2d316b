"""Store leaderboard: each store's NPS with its interval, ranked only where the sample allows it.

Overlapping intervals mean two stores are not distinguishable; the chart shows them, so nobody
reads rank 3 against rank 4 as a verdict. Stores under the minimum sample are listed, not ranked.
"""

import altair as alt
import pandas as pd
import streamlit as st

from cxlake.metrics import settings
from streamlit_app import charts, data_access, widgets

LABELS = {
    "en": {
        "title": "Store leaderboard",
        "chart_title": "NPS with its 95% interval, ranked stores",
        "table_title": "All stores",
        "rank": "Rank",
        "store_name": "Store",
        "nps": "NPS",
        "ci_low": "95% CI low",
        "ci_high": "95% CI high",
        "n": "Responses",
        "not_ranked": "n < {min}: not ranked",
        "none_ranked": "No store has the {min} responses a rank needs.",
    },
    "zh": {
        "title": "门店排行",
        "chart_title": "NPS 及其 95% 置信区间（参与排名的门店）",
        "table_title": "全部门店",
        "rank": "排名",
        "store_name": "门店",
        "nps": "NPS",
        "ci_low": "95% 区间下限",
        "ci_high": "95% 区间上限",
        "n": "答卷数",
        "not_ranked": "n < {min}：不参与排名",
        "none_ranked": "没有门店达到排名所需的 {min} 份答卷。",
    },
}
TABLE_COLUMNS = (
    "rank", "store_name", "region_name", "nps", "ci_low", "ci_high", "n",
    "promoters", "passives", "detractors", "note",
)  # fmt: skip


def interval_chart(ranked: pd.DataFrame, text: dict[str, str]) -> alt.LayerChart:
    """One row per ranked store, best first: the NPS as a point on its interval (fixed -100..100)."""
    data = ranked.assign(
        store=ranked["store_name"].fillna(ranked["store_id"]) + " (" + ranked["store_id"] + ")"
    )
    base = alt.Chart(data).encode(y=alt.Y("store:N", title=text["store_name"], sort=list(data["store"])))
    scale = alt.Scale(domain=[-100, 100])
    interval = base.mark_errorbar(ticks=True).encode(
        x=alt.X("ci_low:Q", title=text["nps"], scale=scale), x2="ci_high:Q"
    )
    points = base.mark_point(filled=True, size=70).encode(
        x=alt.X("nps:Q", title=text["nps"], scale=scale),  # else the shared axis reads "NPS, nps"
        tooltip=[
            alt.Tooltip("rank:Q", title=text["rank"]),
            alt.Tooltip("store:N", title=text["store_name"]),
            alt.Tooltip("nps:Q", title=text["nps"], format=".1f"),
            alt.Tooltip("ci_low:Q", title=text["ci_low"], format=".1f"),
            alt.Tooltip("ci_high:Q", title=text["ci_high"], format=".1f"),
            alt.Tooltip("n:Q", title=text["n"], format=","),
        ],
    )
    return interval + points


page = widgets.filtered_page(LABELS, "leaderboard")
text = page.text
board = data_access.store_leaderboard(page.scope, page.filters)
if board.empty:
    st.info(text["no_data"])
    st.stop()

minimum = settings().min_responses
ranked = board[~board["too_few"]]
st.subheader(text["chart_title"])
if ranked.empty:
    st.info(text["none_ranked"].format(min=minimum))
else:
    charts.show(interval_chart(ranked, text))

st.subheader(text["table_title"])
noted = board.assign(note=board["too_few"].map({True: text["not_ranked"].format(min=minimum), False: ""}))
widgets.show_table(noted[["store_id", *TABLE_COLUMNS]], "store_leaderboard", "leaderboard")
