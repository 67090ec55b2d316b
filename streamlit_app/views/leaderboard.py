"""Store leaderboard: each store's NPS with its interval, placed in tiers the intervals can tell apart.

Stores whose intervals overlap are not distinguishable, so the page never numbers them 1, 2, 3: a
store is in the top tier when no store is separably better, in the bottom tier when none is
separably worse, and its place is the range of ranks the data allows ("could rank 2nd-9th of 30").
Places are among the whole chain, whoever looks, so a store manager sees where their store stands
(against their region and the chain, as aggregates) without seeing any other store. Stores under
the minimum sample are listed apart, never placed. With the survey-integrity asset published,
flagged stores carry a mark and the ranking can leave suspect responses out.
"""

from collections.abc import Mapping

import altair as alt
import pandas as pd
import streamlit as st

from cxlake.integrity import rule_labels
from cxlake.metrics import settings
from streamlit_app import charts, data_access, labels, widgets

LABELS = {
    "en": {
        "title": "Store leaderboard",
        "chart_title": "NPS with its 95% interval",
        "table_title": "Stores placed by their intervals",
        "too_few_title": "Too few responses to place",
        "too_few_note": "too few responses (n = {n})",
        "all_top": "The intervals cannot tell these stores apart: every one is in the top tier.",
        "none_placed": "No store has the {min} responses a place needs.",
        "place_value": "{range} of {count}",
        "store_name": "Store",
        "nps": "NPS",
        "tier": "Tier",
        "peers_title": "Your stores against the chain",
        "store_peers_title": "Your store against its region and the chain",
        "your_store": "Your store: {name}",
        "region": "Region {name} (all its stores)",
        "chain": "The chain (all stores)",
        "benchmark": "Benchmark",
        "interval_caption": "95% CI {low:.1f} – {high:.1f}, n = {n:,}",
        "too_few_caption": "n = {n}, too few",
        "position_placed": "**{store}**: {tier}. With these intervals it could rank {range} of the"
        " {count} stores with enough responses.",
        "position_alone": "**{store}** is the only store with enough responses: there is no other to place it"
        " against.",
        "position_too_few": "**{store}**: too few responses (n = {n}) to place among the {count} stores with"
        " enough.",
        "trend_title": "Your NPS by week",
        "period": "Week",
        "ci_low": "95% CI low",
        "ci_high": "95% CI high",
        "responses": "Responses",
        "without_suspect": "Rank without suspect responses",
        "without_suspect_help": "Leaves out the answers the survey-integrity checks mark as suspect,"
        " for every store, and places the stores again.",
        "without_suspect_on": "Ranked without the responses marked suspect.",
        "flagged": "Flagged: {reasons}",
        "flagged_chart": "{store} (flagged)",
    },
    "zh": {
        "title": "门店排行",
        "chart_title": "NPS 及其 95% 置信区间",
        "table_title": "按置信区间分梯队的门店",
        "too_few_title": "答卷过少，不参与排名",
        "too_few_note": "答卷过少（n = {n}）",
        "all_top": "置信区间无法区分这些门店：全部属于第一梯队。",
        "none_placed": "没有门店达到排名所需的 {min} 份答卷。",
        "place_value": "{range}（共 {count} 家）",
        "store_name": "门店",
        "nps": "NPS",
        "tier": "梯队",
        "peers_title": "您的门店与全连锁对比",
        "store_peers_title": "您的门店与所在区域、全连锁对比",
        "your_store": "本店：{name}",
        "region": "区域 {name}（全部门店）",
        "chain": "全连锁（全部门店）",
        "benchmark": "对比基准",
        "interval_caption": "95% 区间 {low:.1f} – {high:.1f}，n = {n:,}",
        "too_few_caption": "n = {n}，样本过少",
        "position_placed": "**{store}**：{tier}。按这些置信区间，它在 {count} 家答卷充足的门店中"
        "可能排{range}。",
        "position_alone": "**{store}** 是唯一答卷充足的门店，没有可比较的门店。",
        "position_too_few": "**{store}**：答卷过少（n = {n}），不在 {count} 家答卷充足的门店中排名。",
        "trend_title": "本店每周 NPS",
        "period": "周",
        "ci_low": "95% 区间下限",
        "ci_high": "95% 区间上限",
        "responses": "答卷数",
        "without_suspect": "排除可疑答卷后排名",
        "without_suspect_help": "对所有门店排除问卷可信度检查标记为可疑的答卷，并重新分梯队。",
        "without_suspect_on": "已排除标记为可疑的答卷。",
        "flagged": "已标记：{reasons}",
        "flagged_chart": "{store}（已标记）",
    },
}
PLACED_COLUMNS = (
    "tier", "place", "store_name", "store_id", "region_name", "nps", "ci_low", "ci_high", "n",
    "promoters", "passives", "detractors",
)  # fmt: skip
TOO_FEW_COLUMNS = ("store_name", "store_id", "region_name", "n", "note")
TIER_COLOURS = {"top": "#2ca02c", "middle": "#9e9e9e", "bottom": "#d62728"}
BENCHMARK_COLOUR = "#1f77b4"


def ordinal(number: int, language: str) -> str:
    """1st, 2nd, 3rd, 11th, 22nd (第 1 名 in Chinese, which the range sentence words itself)."""
    if language == "zh":
        return str(number)
    suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


def rank_range(best: int, worst: int, language: str) -> str:
    """``2nd–9th`` or ``4th`` (第 2–9 名 / 第 4 名)."""
    span = (
        ordinal(best, language) if best == worst else f"{ordinal(best, language)}–{ordinal(worst, language)}"
    )
    return f"第 {span} 名" if language == "zh" else span


def integrity_words(board: pd.DataFrame, text: Mapping[str, str], language: str) -> pd.Series:
    """ "Flagged: Excess 10s, Fast after sale" for a flagged store (its rule ids in words), else ""."""
    words = rule_labels(language)

    def mark(flagged: bool, reasons: object) -> str:
        if not flagged:
            return ""
        ids = [reason.strip() for reason in str(reasons or "").split(",") if reason.strip()]
        return text["flagged"].format(reasons=", ".join(words.get(rule, rule) for rule in ids))

    return pd.Series(
        [mark(bool(f), r) for f, r in zip(board["is_flagged"], board["integrity_reasons"], strict=True)],
        index=board.index,
        dtype="object",
    )


def benchmark_name(row: Mapping[str, object], text: Mapping[str, str]) -> str:
    return text["chain"] if row["level"] == "chain" else text["region"].format(name=row["region_name"])


def interval_chart(
    placed: pd.DataFrame, benchmarks: pd.DataFrame, text: Mapping[str, str], language: str
) -> alt.LayerChart:
    """One row per placed store (coloured by tier) and per reportable benchmark (the user's region,
    the chain): the NPS as a point on its interval, on an axis scaled to the intervals."""
    tier_words = {tier: labels.code("tier", tier, language) for tier in data_access.TIERS}
    stores = pd.DataFrame(
        {
            "label": placed["label"],
            "group": placed["tier"].map(tier_words).fillna(""),
            "nps": placed["nps"],
            "ci_low": placed["ci_low"],
            "ci_high": placed["ci_high"],
            "n": placed["n"],
        }
    )
    shown = benchmarks[~benchmarks["too_few"]]
    rows = pd.concat(
        [
            stores,
            pd.DataFrame(
                {
                    "label": [benchmark_name(row, text) for row in shown.to_dict("records")],
                    "group": text["benchmark"],
                    "nps": shown["nps"].to_numpy(),
                    "ci_low": shown["ci_low"].to_numpy(),
                    "ci_high": shown["ci_high"].to_numpy(),
                    "n": shown["n"].to_numpy(),
                }
            ),
        ],
        ignore_index=True,
    )
    colours = {tier_words[tier]: colour for tier, colour in TIER_COLOURS.items()} | {
        text["benchmark"]: BENCHMARK_COLOUR
    }
    colour = alt.Color(
        "group:N",
        title=text["tier"],
        scale=alt.Scale(domain=list(colours), range=list(colours.values())),
        legend=alt.Legend(orient="bottom", columns=1),
    )
    domain = charts.padded_domain([*rows["ci_low"], *rows["ci_high"]], bounds=(-100, 100), pad=5, step=5)
    scale = alt.Scale(domain=domain, nice=False)
    base = alt.Chart(rows).encode(y=alt.Y("label:N", title=text["store_name"], sort=list(rows["label"])))
    interval = base.mark_errorbar(ticks=True).encode(
        x=alt.X("ci_low:Q", title=text["nps"], scale=scale), x2="ci_high:Q", color=colour
    )
    points = base.mark_point(filled=True, size=70).encode(
        x=alt.X("nps:Q", title=text["nps"], scale=scale),  # else the shared axis reads "NPS, nps"
        color=colour,
        tooltip=[
            alt.Tooltip("label:N", title=text["store_name"]),
            alt.Tooltip("group:N", title=text["tier"]),
            alt.Tooltip("nps:Q", title=text["nps"], format=".1f"),
            alt.Tooltip("ci_low:Q", title=text["ci_low"], format=".1f"),
            alt.Tooltip("ci_high:Q", title=text["ci_high"], format=".1f"),
            alt.Tooltip("n:Q", title=text["responses"], format=","),
        ],
    )
    return interval + points


def metric(title: str, row: Mapping[str, object], text: Mapping[str, str]) -> None:
    """One comparison tile: the NPS with its interval, or "—" and "n = 4, too few"."""
    if row["too_few"]:
        st.metric(title, "—")
        st.caption(text["too_few_caption"].format(n=row["n"]))
    else:
        st.metric(title, f"{row['nps']:.1f}")
        st.caption(text["interval_caption"].format(low=row["ci_low"], high=row["ci_high"], n=row["n"]))


def position(row: Mapping[str, object], text: Mapping[str, str], language: str) -> str:
    """Where the user's store stands among the chain's, in words; never "rank 1 of 1"."""
    store, count = row["label"], int(row["ranked_stores"])
    if row["too_few"]:
        return text["position_too_few"].format(store=store, n=row["n"], count=count)
    if row["tier"] is None or pd.isna(row["tier"]):
        return text["position_alone"].format(store=store)
    return text["position_placed"].format(
        store=store,
        tier=labels.code("tier", row["tier"], language),
        range=rank_range(int(row["best_rank"]), int(row["worst_rank"]), language),
        count=count,
    )


def comparison(
    board: pd.DataFrame, benchmarks: pd.DataFrame, context: widgets.PageContext, text: Mapping[str, str]
) -> None:
    """A manager's own stores against their region and the chain: tiles, their place, their trend."""
    kind, language = context.scope.kind, context.language
    st.subheader(text["store_peers_title" if kind == "store" else "peers_title"])
    tiles = (
        [(text["your_store"].format(name=row["label"]), row) for row in board.to_dict("records")]
        if kind == "store"
        else []
    )
    tiles += [(benchmark_name(row, text), row) for row in benchmarks.to_dict("records")]
    for column, (title, row) in zip(st.columns(len(tiles)), tiles, strict=True):
        with column:
            metric(title, row, text)
    if kind != "store":
        return
    for row in board.to_dict("records"):
        st.markdown(position(row, text, language))
    st.subheader(text["trend_title"])
    trend = data_access.nps_trend(context.scope, context.filters, "week")
    charts.show(charts.nps_trend_chart(trend, text, language))


page = widgets.filtered_page(LABELS, "leaderboard")
text, language = page.text, page.language
features = data_access.integrity_features()
without_suspect = features.suspect_switch and st.toggle(
    text["without_suspect"], key="without_suspect", help=text["without_suspect_help"]
)
board = data_access.store_leaderboard(page.scope, page.filters, without_suspect)
if board.empty:
    st.info(text["no_data"])
    st.stop()
if without_suspect:
    st.caption(text["without_suspect_on"])

board = board.assign(label=board["store_name"].fillna(board["store_id"]).map(labels.store_label))
benchmarks = data_access.peer_benchmarks(page.scope, page.filters, without_suspect)
if page.scope.kind != "all":
    comparison(board, benchmarks, page, text)

minimum = settings().min_responses
placed = board[~board["too_few"]]
flagged = integrity_words(board, text, language) if features.marks else None
st.subheader(text["chart_title"])
if placed.empty:
    st.info(text["none_placed"].format(min=minimum))
else:
    marked = placed["label"]
    if flagged is not None:
        named = placed["label"].map(lambda store: text["flagged_chart"].format(store=store))
        marked = marked.where(flagged[placed.index] == "", named)
    charts.show(interval_chart(placed.assign(label=marked), benchmarks, text, language))
    if placed["tier"].eq("top").all() and len(placed) > 1:
        st.caption(text["all_top"])
    st.subheader(text["table_title"])
    places = [
        text["place_value"].format(
            range=rank_range(int(row["best_rank"]), int(row["worst_rank"]), language),
            count=int(row["ranked_stores"]),
        )
        if pd.notna(row["tier"])
        else ""
        for row in placed.to_dict("records")
    ]
    table = placed.assign(place=places, store_name=placed["label"])[list(PLACED_COLUMNS)]
    if flagged is not None:
        table = table.assign(integrity=flagged[placed.index])
    widgets.show_table(table, "store_leaderboard", "leaderboard")

too_few = board[board["too_few"]]
if not too_few.empty:
    st.subheader(text["too_few_title"])
    notes = too_few["n"].map(lambda n: text["too_few_note"].format(n=n))
    widgets.show_table(
        too_few.assign(store_name=too_few["label"], note=notes)[list(TOO_FEW_COLUMNS)],
        "store_leaderboard_too_few",
        "leaderboard",
    )
