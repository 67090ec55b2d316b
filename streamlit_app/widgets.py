"""Sidebar widgets and headline formatting shared by the pages.

Widgets carry fixed keys, so their values survive reruns and tests can set them by key.
Wording comes from the calling page's labels; only the language names live here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

import streamlit as st

from cxlake.metrics import NpsResult, settings
from streamlit_app import data_access
from streamlit_app.data_access import FilterOptions, Filters, Scope

LANGUAGES = {"en": "English", "zh": "中文"}
KEY_LANGUAGE = "lang"
KEY_DATES = "filter_dates"
KEY_REGIONS = "filter_regions"
KEY_STORES = "filter_stores"
KEY_CHANNELS = "filter_channels"


@dataclass(frozen=True)
class PageContext:
    language: str
    text: Mapping[str, str]
    scope: Scope
    filters: Filters


def filtered_page(labels: Mapping[str, Mapping[str, str]]) -> PageContext:
    """The top of every filtered page: language, title, the user's scope and the sidebar filters.

    Stops the page with the labels' ``no_serving`` / ``no_data`` message when there is nothing to show.
    """
    language = language_picker()
    text = labels[language]
    st.title(text["title"])
    if not data_access.serving_copy_exists():
        st.warning(text["no_serving"])
        st.stop()
    scope = Scope.everything()  # until sign-in exists
    options = data_access.filter_options(scope)
    if options.date_min is None:
        st.info(text["no_data"])
        st.stop()
    return PageContext(language, text, scope, sidebar_filters(options, text))


def language_picker() -> str:
    """The UI language code; English unless the user picks Chinese."""
    return st.sidebar.selectbox(
        "Language / 语言", options=list(LANGUAGES), format_func=LANGUAGES.__getitem__, key=KEY_LANGUAGE
    )


def _date_bounds(picked: object) -> tuple[date | None, date | None]:
    """A date_input range is a tuple of 0, 1 or 2 dates while the user is still picking."""
    if isinstance(picked, date):
        return picked, picked
    dates = tuple(picked or ())
    if len(dates) == 2:
        return dates[0], dates[1]
    if len(dates) == 1:
        return dates[0], None
    return None, None


def sidebar_filters(options: FilterOptions, labels: Mapping[str, str]) -> Filters:
    """Date range, region, store and channel pickers; the stores offered follow the regions picked."""
    sidebar = st.sidebar
    sidebar.header(labels["filters"])
    picked_dates = sidebar.date_input(
        labels["date_range"],
        value=(options.date_min, options.date_max),
        min_value=options.date_min,
        max_value=options.date_max,
        key=KEY_DATES,
    )
    regions = sidebar.multiselect(
        labels["region"],
        options=list(options.regions),
        format_func=options.regions.__getitem__,
        key=KEY_REGIONS,
    )
    stores = sidebar.multiselect(
        labels["store"],
        options=[
            store for store, region in options.store_regions.items() if not regions or region in regions
        ],
        format_func=lambda store: f"{options.stores[store]} ({store})",
        key=KEY_STORES,
    )
    channels = sidebar.multiselect(
        labels["channel"],
        options=list(options.channels),
        format_func=lambda channel: labels.get(f"channel_{channel}", channel),
        key=KEY_CHANNELS,
    )
    date_from, date_to = _date_bounds(picked_dates)
    return Filters(date_from, date_to, tuple(regions), tuple(stores), tuple(channels))


def nps_headline_text(result: NpsResult, labels: Mapping[str, str]) -> str:
    """``NPS 32.1 (95% CI 28.0 – 36.2), n = 1,234``: the score is never shown without its interval."""
    return labels["nps_headline"].format(nps=result.nps, low=result.ci_low, high=result.ci_high, n=result.n)


def nps_headline(result: NpsResult, labels: Mapping[str, str]) -> None:
    """The NPS as ``st.metric`` (label "NPS", value like "32.1") plus its interval, or a too-few note.

    Tests (and the end-to-end test) read the number from ``at.metric[0].value``.
    """
    if result.too_few_responses:
        st.metric(labels["nps"], "—")
        st.markdown(labels["too_few"].format(n=result.n, min=settings().min_responses))
        return
    st.metric(labels["nps"], f"{result.nps:.1f}")
    st.markdown(nps_headline_text(result, labels))
