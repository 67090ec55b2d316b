"""Altair chart builders: data frames from :mod:`streamlit_app.data_access` in, charts out, and
:func:`show`, the one way a page draws a chart.

They take their titles from the page's labels, the words for coded values (NPS category, platform,
sentiment, source) from :mod:`streamlit_app.labels`, and never query or compute a metric themselves.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Iterable, Mapping, Sequence

import altair as alt
import pandas as pd
import streamlit as st

from cxlake.metrics import settings
from streamlit_app.labels import code, header, too_few

# Streamlit (1.67) already embeds charts with Vega-Embed's ``actions: false`` and keeps only theme,
# renderer and padding of a chart's ``usermeta.embedOptions``, so no "…" menu can come back. Its own
# chart toolbar, though, offers "Show data" (the frame behind the chart, raw codes and all),
# "Download as PNG" and, on localhost, "Copy Vega-Lite spec" (the spec with its data), with no
# option to turn them off: this style hides the three (full screen stays). Data leaves a page only
# through the audited download buttons (streamlit_app.widgets.show_table).
CHART_TOOLBAR_STYLE = (
    "<style>"
    + ",".join(
        f'[data-testid="stElementToolbarButton"]:has(button[aria-label^="{label}"])'
        for label in ("Show data", "Download as PNG", "Copy Vega-Lite spec")
    )
    + "{display:none !important}</style>"
)


def show(chart: alt.TopLevelMixin) -> None:
    """Draw ``chart`` across the column, its toolbar without a way to take its data or picture, and
    every mark over too few answers described to screen readers as it is drawn (:func:`described`),
    whichever page built it."""
    st.html(CHART_TOOLBAR_STYLE)
    st.altair_chart(described(chart), width="stretch")


# Detractors red, passives grey, promoters green: the convention readers of NPS reports expect.
CATEGORY_COLOURS = {"detractor": "#d62728", "passive": "#9e9e9e", "promoter": "#2ca02c"}


# --- Small samples -------------------------------------------------------------------------------
# One rule for every score a chart draws: over fewer than metrics.yaml's min_responses answers it is
# not a fact. Each chart builder passes its frame through :func:`with_reportability` and draws the
# rows through :func:`facts` (solid, with their values) and :func:`too_few_rows` (hollow, dashed,
# labelled "n = 4, too few" with no value), so no chart can draw a small sample as a solid NPS 100.
NOTE = "too_few_note"  # the label column with_reportability adds, empty on reportable rows
HOLLOW = {"filled": False, "strokeDash": [3, 2], "strokeWidth": 1.5}


def reportable(n: pd.Series) -> pd.Series:
    """True where ``n`` reaches min_responses: the score may be shown as a fact (as dbt's
    ``is_reportable``). Pages add it to their downloads, charts through :func:`with_reportability`."""
    return n.fillna(0) >= settings().min_responses


def with_reportability(frame: pd.DataFrame, language: str, n_column: str = "n") -> pd.DataFrame:
    """``frame`` with ``reportable`` and the note a hollow mark carries ("n = 4, too few")."""
    enough = reportable(frame[n_column])
    notes = [
        "" if ok else too_few(int(n), language)
        for ok, n in zip(enough, frame[n_column].fillna(0), strict=True)
    ]
    return frame.assign(reportable=enough, **{NOTE: notes})


def facts(chart: alt.Chart) -> alt.Chart:
    """The rows of ``chart`` whose score is reportable."""
    return chart.transform_filter("datum.reportable")


def too_few_rows(chart: alt.Chart) -> alt.Chart:
    """The rows of ``chart`` over too few answers, to be drawn hollow with :data:`HOLLOW`."""
    return chart.transform_filter(TOO_FEW_FILTER)


def too_few_tooltip(name: alt.Tooltip, language: str) -> list[alt.Tooltip]:
    """What hovering a hollow mark says: which one, and "n = 4, too few" instead of its value."""
    return [name, alt.Tooltip(f"{NOTE}:N", title=header("note", language))]


# --- What a screen reader hears ---------------------------------------------------------------------
# Vega-Lite describes each mark (its SVG aria-label) by every field the layer encodes: a hollow
# point's "Period: Mar 09, 2026; NPS: 100; Note: n = 4, too few" would read out the score the mark
# hides. :func:`described` gives every layer of too-few rows its tooltip's words instead.
TOO_FEW_FILTER = "!datum.reportable"
# Vega-Lite's default format of a date in a tooltip (config.timeFormat).
TOOLTIP_TIME_FORMAT = "%b %d, %Y"


def _value_expression(tooltip: Mapping[str, object]) -> str:
    """A Vega expression writing the tooltip's field as vega-tooltip shows it ("" when missing)."""
    value = f"datum[{json.dumps(tooltip['field'])}]"
    if tooltip.get("type") == "temporal":
        shown = f"timeFormat({value}, {json.dumps(tooltip.get('format', TOOLTIP_TIME_FORMAT))})"
    elif tooltip.get("type") == "quantitative" and "format" in tooltip:
        shown = f"format({value}, {json.dumps(tooltip['format'])})"
    else:
        shown = f"'' + {value}"
    return f"(isValid({value}) ? {shown} : '')"


def description_expression(tooltips: Sequence[alt.Tooltip]) -> str:
    """A Vega expression saying what ``tooltips`` say, as Vega-Lite words a mark's description:
    "Period: Mar 09, 2026; Note: n = 4, too few"."""
    parts = []
    for tooltip in tooltips:
        spec = tooltip.to_dict()
        title = spec.get("title", spec["field"])
        parts.append(f"{json.dumps(('; ' if parts else '') + f'{title}: ')} + {_value_expression(spec)}")
    return " + ".join(parts)


def _tooltips(layer: alt.Chart) -> list[alt.Tooltip]:
    encoding = layer.encoding
    given = alt.Undefined if encoding is alt.Undefined else encoding.tooltip
    if given is alt.Undefined:
        return []
    return [
        tooltip if isinstance(tooltip, alt.Tooltip) else alt.Tooltip(tooltip)
        for tooltip in (given if isinstance(given, list) else [given])
    ]


def _draws_too_few(layer: alt.Chart) -> bool:
    transforms = [] if layer.transform is alt.Undefined else layer.transform
    return any(
        getattr(transform, "filter", None) == TOO_FEW_FILTER
        or (isinstance(transform, Mapping) and transform.get("filter") == TOO_FEW_FILTER)
        for transform in transforms
    )


def described(chart: alt.TopLevelMixin) -> alt.TopLevelMixin:
    """``chart`` with each layer of too-few rows (:func:`too_few_rows`) described by its tooltip
    (which names the mark and says "n = 4, too few", never the score) instead of by every field it
    encodes; a layer without a tooltip is described by the note alone. A layer that already has a
    description keeps it. ``chart`` itself is left as it is."""
    if isinstance(chart, alt.LayerChart):
        layered = chart.copy(deep=False)
        layered.layer = [described(layer) for layer in chart.layer]
        return layered
    if not isinstance(chart, alt.Chart) or not _draws_too_few(chart):
        return chart
    mark = alt.MarkDef(type=chart.mark) if isinstance(chart.mark, str) else chart.mark.copy(deep=False)
    if mark.description is not alt.Undefined:
        return chart
    tooltips = _tooltips(chart)
    words = description_expression(tooltips) if tooltips else f"'' + datum[{json.dumps(NOTE)}]"
    mark.description = {"expr": words}
    marked = chart.copy(deep=False)
    marked.mark = mark
    return marked


def with_segments(frame: pd.DataFrame, by: str | None = None) -> pd.DataFrame:
    """A ``segment`` per run of consecutive reportable rows (in the frame's order, within each line
    ``by`` names): a line drawn with ``detail=segment`` joins facts only, never across a point over
    too few answers."""
    too_few_so_far = ~frame["reportable"]
    grouped = too_few_so_far.groupby(frame[by]) if by else too_few_so_far
    return frame.assign(segment=grouped.cumsum())


def padded_domain(
    values: Iterable[float], bounds: tuple[float, float], pad: float, step: float
) -> list[float]:
    """An axis range around ``values``: their span widened by ``pad`` (or a tenth of the span, if
    larger) each side, out to a multiple of ``step``, within ``bounds``. A trend of NPS 20..30 reads
    on 10..40, not on -100..100 where every move is flat; no values give the whole ``bounds``."""
    present = [float(v) for v in values if v is not None and not math.isnan(float(v))]
    if not present:
        return list(bounds)
    low, high = min(present), max(present)
    margin = max(pad, (high - low) / 10)
    return [
        max(bounds[0], math.floor((low - margin) / step) * step),
        min(bounds[1], math.ceil((high + margin) / step) * step),
    ]


def nps_trend_chart(trend: pd.DataFrame, labels: Mapping[str, str], language: str) -> alt.LayerChart:
    """NPS per period as a line over its 95% interval band, on an axis scaled to the data.

    Periods over too few answers are hollow dashed points labelled "n = 4, too few", outside the
    line and the band (whose interval would be most of the scale). The axis is scaled to the
    reportable periods only, and a too-few point beyond it sits on the axis's edge (clamped): one
    week of 3 promoters must not stretch the axis to NPS 100 and flatten every real move."""
    data = with_segments(with_reportability(trend, language))
    shown = data[data["reportable"]]
    domain = padded_domain([*shown["ci_low"], *shown["ci_high"]], bounds=(-100, 100), pad=5, step=5)
    y_scale = alt.Scale(domain=domain, nice=False, clamp=True)
    base = alt.Chart(data).encode(x=alt.X("period:T", title=labels["period"]))
    band = (
        facts(base)
        .mark_area(opacity=0.25)
        .encode(
            y=alt.Y("ci_low:Q", title=labels["nps"], scale=y_scale),
            y2="ci_high:Q",
            detail="segment:N",
        )
    )
    # Titled: without it the shared axis reads "NPS, nps".
    y = alt.Y("nps:Q", title=labels["nps"], scale=y_scale)
    line = facts(base).mark_line().encode(y=y, detail="segment:N")
    points = (
        facts(base)
        .mark_point(filled=True, size=40)
        .encode(
            y=y,
            tooltip=[
                alt.Tooltip("period:T", title=labels["period"]),
                alt.Tooltip("nps:Q", title=labels["nps"], format=".1f"),
                alt.Tooltip("ci_low:Q", title=labels["ci_low"], format=".1f"),
                alt.Tooltip("ci_high:Q", title=labels["ci_high"], format=".1f"),
                alt.Tooltip("n:Q", title=labels["responses"], format=","),
            ],
        )
    )
    hollow = (
        too_few_rows(base)
        .mark_point(size=60, **HOLLOW)
        .encode(y=y, tooltip=too_few_tooltip(alt.Tooltip("period:T", title=labels["period"]), language))
    )
    return band + line + points + hollow


def score_histogram(distribution: pd.DataFrame, labels: Mapping[str, str], language: str) -> alt.Chart:
    """Responses per 0-10 score, coloured by NPS category (in words of ``language``)."""
    names = {category: code("nps_category", category, language) for category in CATEGORY_COLOURS}
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


def csat_by_touchpoint_chart(
    csat: pd.DataFrame, name_column: str, labels: Mapping[str, str], language: str
) -> alt.LayerChart:
    """Top-2-box share per rated touchpoint, bars in journey order (the order of ``csat``); a
    touchpoint rated too few times is a hollow dashed bar labelled "n = 4, too few"."""
    rated = with_reportability(csat[csat["n"] > 0], language)
    name = alt.Tooltip(f"{name_column}:N", title=labels["touchpoint"])
    base = alt.Chart(rated).encode(
        x=alt.X(
            "top2_share:Q", title=labels["csat"], scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%")
        ),
        y=alt.Y(f"{name_column}:N", title=labels["touchpoint"], sort=list(rated[name_column])),
    )
    bars = (
        facts(base)
        .mark_bar()
        .encode(
            tooltip=[
                name,
                alt.Tooltip("top2_share:Q", title=labels["csat"], format=".1%"),
                alt.Tooltip("mean_csat:Q", title=labels["mean_csat"], format=".2f"),
                alt.Tooltip("n:Q", title=labels["responses"], format=","),
            ]
        )
    )
    says = too_few_tooltip(name, language)
    hollow = too_few_rows(base).mark_bar(**HOLLOW).encode(tooltip=says)
    note = too_few_rows(base).mark_text(align="left", dx=4).encode(text=f"{NOTE}:N", tooltip=says)
    return bars + hollow + note


def emotion_curve_chart(
    stages: pd.DataFrame, name_column: str, labels: Mapping[str, str], language: str
) -> alt.LayerChart:
    """Mean CSAT per stage as a line over the stages in journey order (the order of ``stages``),
    on the fixed 1-5 scale so a dip reads the same for every selection. A stage rated too few
    times is a hollow point labelled "n = 4, too few", and the line does not pass through it."""
    data = with_segments(with_reportability(stages[stages["ratings"] > 0], language, "ratings"))
    stage = alt.Tooltip(f"{name_column}:N", title=labels["stage"])
    base = alt.Chart(data).encode(
        x=alt.X(
            f"{name_column}:N",
            title=labels["stage"],
            sort=list(data[name_column]),
            axis=alt.Axis(labelAngle=0),
        ),
        y=alt.Y("mean_csat:Q", title=labels["mean_csat"], scale=alt.Scale(domain=[1, 5])),
    )
    line = facts(base).mark_line().encode(detail="segment:N")
    points = (
        facts(base)
        .mark_point(filled=True, size=40)
        .encode(
            tooltip=[
                stage,
                alt.Tooltip("mean_csat:Q", title=labels["mean_csat"], format=".2f"),
                alt.Tooltip("ratings:Q", title=labels["ratings"], format=","),
            ]
        )
    )
    hollow = too_few_rows(base).mark_point(size=60, **HOLLOW).encode(tooltip=too_few_tooltip(stage, language))
    return line + points + hollow


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


# --- Voice of customer ----------------------------------------------------------------------------
SENTIMENT_COLOURS = {"negative": "#d62728", "positive": "#2ca02c"}
# Font sizes of the word cloud's least and most frequent keyword, in pixels.
CLOUD_FONT_PX = (14, 44)


CLOUD_TOO_FEW = "#8a8a8a"  # a keyword whose share of negative reviews rests on too few reviews


def _cloud_colour(negative_share: float) -> str:
    """Green for praise through amber to red for complaints (hue 120 -> 0)."""
    return f"hsl({round(120 * (1 - negative_share))}, 65%, 38%)"


def keyword_cloud_html(keywords: pd.DataFrame, labels: Mapping[str, str]) -> str:
    """A word cloud drawn by the browser (which has CJK fonts): one ``<span>`` per keyword, sized by
    count_reviews and coloured by negative_share. Keywords are customer text, so every one is
    HTML-escaped, in the text and in the tooltip. A keyword whose :data:`NOTE` (from
    :func:`with_reportability`) says too few reviews is grey, its tooltip the note, not its share."""
    low, high = CLOUD_FONT_PX
    counts = keywords["count_reviews"].astype("int64")
    fewest = int(counts.min()) if len(counts) else 0
    spread = max(int(counts.max()) - fewest, 1) if len(counts) else 1
    notes = keywords[NOTE] if NOTE in keywords else pd.Series("", index=keywords.index)
    spans = []
    for keyword, count, share, note in zip(
        keywords["keyword"], counts, keywords["negative_share"], notes, strict=True
    ):
        size = low + (high - low) * (int(count) - fewest) / spread
        if note:  # a share of too few reviews is no fact: grey, and the note instead of the share
            tooltip, colour = (
                labels["cloud_tooltip_too_few"].format(keyword=keyword, note=note),
                CLOUD_TOO_FEW,
            )
        else:
            tooltip = labels["cloud_tooltip"].format(keyword=keyword, count=int(count), share=float(share))
            colour = _cloud_colour(float(share))
        spans.append(
            f'<span title="{html.escape(tooltip)}" style="font-size:{size:.0f}px;'
            f'color:{colour};line-height:1.1">{html.escape(keyword)}</span>'
        )
    return (
        '<div style="display:flex;flex-wrap:wrap;gap:0.3em 0.8em;align-items:center;'
        'justify-content:center;padding:0.5em">' + "".join(spans) + "</div>"
    )


def sentiment_by_platform_chart(counts: pd.DataFrame, labels: Mapping[str, str], language: str) -> alt.Chart:
    """Reviews per platform, stacked by sentiment (platforms and sentiments in words of ``language``)."""
    names = {label: code("sentiment", label, language) for label in SENTIMENT_COLOURS}
    data = counts.assign(
        sentiment=counts["sentiment_label"].map(names),
        platform=counts["platform"].map(lambda platform: code("platform", platform, language)),
    )
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X("platform:N", title=labels["platform"], axis=alt.Axis(labelAngle=0)),
            y=alt.Y("count_reviews:Q", title=labels["reviews"]),
            color=alt.Color(
                "sentiment:N",
                title=labels["sentiment"],
                scale=alt.Scale(domain=list(names.values()), range=list(SENTIMENT_COLOURS.values())),
            ),
            tooltip=[
                alt.Tooltip("platform:N", title=labels["platform"]),
                alt.Tooltip("sentiment:N", title=labels["sentiment"]),
                alt.Tooltip("count_reviews:Q", title=labels["reviews"], format=","),
            ],
        )
    )


def negative_share_trend_chart(
    trend: pd.DataFrame, labels: Mapping[str, str], language: str
) -> alt.LayerChart:
    """Share of negative reviews per week, our brand beside the competitors, on an axis scaled to
    the data. A week with too few reviews is a hollow point labelled "n = 4, too few", off the line."""
    sides = trend.assign(
        side=trend["is_competitor"].map({False: labels["side_ours"], True: labels["side_competitors"]})
    ).sort_values(["side", "week_start"], kind="stable")
    data = with_segments(with_reportability(sides, language, "count_reviews"), by="side")
    domain = padded_domain(data["negative_share"], bounds=(0, 1), pad=0.05, step=0.05)
    base = alt.Chart(data).encode(
        x=alt.X("week_start:T", title=labels["week"]),
        y=alt.Y(
            "negative_share:Q",
            title=labels["negative_share"],
            scale=alt.Scale(domain=domain, nice=False),
            axis=alt.Axis(format="%"),
        ),
        color=alt.Color("side:N", title=labels["side"]),
    )
    week = alt.Tooltip("week_start:T", title=labels["week"])
    line = facts(base).mark_line().encode(detail="segment:N")
    points = (
        facts(base)
        .mark_point(filled=True, size=40)
        .encode(
            tooltip=[
                week,
                alt.Tooltip("side:N", title=labels["side"]),
                alt.Tooltip("negative_share:Q", title=labels["negative_share"], format=".1%"),
                alt.Tooltip("count_reviews:Q", title=labels["reviews"], format=","),
            ]
        )
    )
    hollow = (
        too_few_rows(base)
        .mark_point(size=60, **HOLLOW)
        .encode(tooltip=[*too_few_tooltip(week, language), alt.Tooltip("side:N", title=labels["side"])])
    )
    return line + points + hollow


def negative_keywords_chart(top: pd.DataFrame, name_column: str, labels: Mapping[str, str]) -> alt.Chart:
    """The top negative keywords of each touchpoint as bars, one panel per touchpoint in journey
    order (the order of ``top``), each panel with its own keywords."""
    return (
        alt.Chart(top)
        .mark_bar(color=SENTIMENT_COLOURS["negative"])
        .encode(
            x=alt.X("count_reviews:Q", title=labels["reviews"], axis=alt.Axis(tickMinStep=1)),
            y=alt.Y("keyword:N", title=None, sort=alt.EncodingSortField("rank")),
            row=alt.Row(
                f"{name_column}:N",
                title=None,
                sort=list(dict.fromkeys(top[name_column])),
                header=alt.Header(labelAngle=0, labelAlign="left"),
            ),
            tooltip=[
                alt.Tooltip(f"{name_column}:N", title=labels["touchpoint"]),
                alt.Tooltip("keyword:N", title=labels["keyword"]),
                alt.Tooltip("count_reviews:Q", title=labels["reviews"], format=","),
            ],
        )
        .resolve_scale(y="independent")
    )


def benchmark_chart(benchmark: pd.DataFrame, labels: Mapping[str, str], language: str) -> alt.LayerChart:
    """Positive share per aspect, one bar per brand side by side (grouped), our brand first; a bar
    over too few reviews is hollow and dashed, labelled "n = 4, too few" up its side.

    ``benchmark`` has an ``aspect_name`` column in the page's language, rows in display order.
    """
    brands = list(dict.fromkeys(benchmark.sort_values("is_competitor", kind="stable")["brand"]))
    data = with_reportability(benchmark, language, "count_reviews")
    brand = alt.Tooltip("brand:N", title=labels["brand"])
    base = alt.Chart(data).encode(
        x=alt.X(
            "aspect_name:N",
            title=labels["aspect"],
            sort=list(dict.fromkeys(data["aspect_name"])),
            axis=alt.Axis(labelAngle=0),
        ),
        xOffset=alt.XOffset("brand:N", sort=brands),
        y=alt.Y(
            "positive_share:Q",
            title=labels["positive_share"],
            scale=alt.Scale(domain=[0, 1]),
            axis=alt.Axis(format="%"),
        ),
        color=alt.Color("brand:N", title=labels["brand"], sort=brands),
    )
    bars = (
        facts(base)
        .mark_bar()
        .encode(
            tooltip=[
                brand,
                alt.Tooltip("aspect_name:N", title=labels["aspect"]),
                alt.Tooltip("positive_share:Q", title=labels["positive_share"], format=".1%"),
                alt.Tooltip("negative_share:Q", title=labels["negative_share"], format=".1%"),
                alt.Tooltip("avg_rating:Q", title=labels["avg_rating"], format=".2f"),
                alt.Tooltip("count_reviews:Q", title=labels["reviews"], format=","),
            ]
        )
    )
    says = [*too_few_tooltip(brand, language), alt.Tooltip("aspect_name:N", title=labels["aspect"])]
    hollow = too_few_rows(base).mark_bar(**HOLLOW).encode(tooltip=says)
    note = (
        too_few_rows(base)
        .mark_text(angle=270, align="left", dx=4, fontSize=9)
        .encode(text=f"{NOTE}:N", tooltip=says)
    )
    return bars + hollow + note


# --- Data quality ---------------------------------------------------------------------------------
def quarantine_volume_chart(volume: pd.DataFrame, language: str) -> alt.Chart:
    """Quarantined rows per day, stacked by source (sources and titles in words of ``language``)."""
    data = volume.assign(source=volume["source"].map(lambda source: code("source", source, language)))
    day, rows, source = (
        header(column, language) for column in ("partition_date", "rows_quarantined", "source")
    )
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X("partition_date:T", title=day),
            y=alt.Y("rows_quarantined:Q", title=rows),
            color=alt.Color("source:N", title=source),
            tooltip=[
                alt.Tooltip("partition_date:T", title=day),
                alt.Tooltip("source:N", title=source),
                alt.Tooltip("rows_quarantined:Q", title=rows, format=","),
            ],
        )
    )


def invitation_funnel_chart(funnel: pd.DataFrame, labels: Mapping[str, str]) -> alt.Chart:
    """One bar per invitation-funnel step (``step_name``, ``count``) in the frame's order, the
    suppressions grey so the invited and answered stand out."""
    suppressed = funnel["step"].str.startswith("suppressed_")
    shown = funnel.assign(colour=suppressed.map({True: "#9e9e9e", False: "#1f77b4"}))
    return (
        alt.Chart(shown)
        .mark_bar()
        .encode(
            x=alt.X("count:Q", title=labels["count"]),
            y=alt.Y("step_name:N", title=labels["step"], sort=list(shown["step_name"])),
            color=alt.Color("colour:N", scale=None, legend=None),
            tooltip=[
                alt.Tooltip("step_name:N", title=labels["step"]),
                alt.Tooltip("count:Q", title=labels["count"], format=","),
            ],
        )
    )


def app_funnel_chart(funnel: pd.DataFrame, labels: Mapping[str, str]) -> alt.Chart:
    """One bar per app funnel step (``step_name``, ``sessions``, ``share_of_start``) in order."""
    return (
        alt.Chart(funnel)
        .mark_bar(color="#1f77b4")
        .encode(
            x=alt.X("sessions:Q", title=labels["app_sessions"]),
            y=alt.Y("step_name:N", title=labels["app_step"], sort=list(funnel["step_name"])),
            tooltip=[
                alt.Tooltip("step_name:N", title=labels["app_step"]),
                alt.Tooltip("sessions:Q", title=labels["app_sessions"], format=","),
                alt.Tooltip("share_of_start:Q", title=labels["app_share_of_start"], format=".1%"),
            ],
        )
    )


def app_weekly_chart(weeks: pd.DataFrame, labels: Mapping[str, str], language: str) -> alt.LayerChart:
    """Per week: the share of sessions reaching payment that ordered and the share of sessions with
    an app error (lines, left), and the App touchpoint's top-2-box CSAT (points, right), each week's
    CSAT hollow and labelled when rated too few times: a failing page shows as the conversion
    dropping, the errors rising and the CSAT dipping in the same weeks. Rates are lines without points
    (they are over sessions, not answers); no week rated enough times, no CSAT layer at all."""
    data = with_reportability(weeks, language)
    base = alt.Chart(data).encode(x=alt.X("week:T", title=labels["app_week"]))
    rates = (
        base.transform_fold(["payment_conversion", "error_share"], as_=["measure", "rate"])
        .transform_calculate(
            measure_name=f"datum.measure == 'error_share' ? {json.dumps(labels['app_error_share'])}"
            f" : {json.dumps(labels['app_payment_conversion'])}"
        )
        .mark_line()
        .encode(
            y=alt.Y("rate:Q", title=labels["app_rate"], axis=alt.Axis(format=".0%")),
            color=alt.Color("measure_name:N", title=None, legend=alt.Legend(orient="bottom")),
            tooltip=[
                alt.Tooltip("week:T", title=labels["app_week"]),
                alt.Tooltip("measure_name:N", title=labels["app_measure"]),
                alt.Tooltip("rate:Q", title=labels["app_rate"], format=".1%"),
            ],
        )
    )
    domain = padded_domain(data.loc[data["reportable"], "top2_share"], bounds=(0, 1), pad=0.05, step=0.05)
    csat_axis = alt.Y(
        "top2_share:Q",
        title=labels["app_csat"],
        axis=alt.Axis(format=".0%", orient="right"),
        scale=alt.Scale(domain=domain, nice=False, clamp=True),
    )
    csat = (
        facts(base)
        .mark_point(filled=True, size=60, shape="diamond", color="#2ca02c")
        .encode(
            y=csat_axis,
            tooltip=[
                alt.Tooltip("week:T", title=labels["app_week"]),
                alt.Tooltip("top2_share:Q", title=labels["app_csat"], format=".1%"),
                alt.Tooltip("n:Q", title=labels["ratings"], format=","),
            ],
        )
    )
    hollow = (
        too_few_rows(base)
        .mark_point(size=60, shape="diamond", color="#2ca02c", **HOLLOW)
        .encode(
            y=csat_axis, tooltip=too_few_tooltip(alt.Tooltip("week:T", title=labels["app_week"]), language)
        )
    )
    if not data["reportable"].any():
        return alt.layer(rates)
    return alt.layer(rates, csat + hollow).resolve_scale(y="independent")
