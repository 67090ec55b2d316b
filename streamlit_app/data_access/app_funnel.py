"""The Journey page's digital steps: the ordering app's funnel (browse > cart > checkout > payment >
ordered) with its operations (abandonment, errors, time to checkout) beside the App touchpoint's CSAT.

Everything is read from marts.mart_app_funnel_daily, whose columns are counts and sums per store and
day, so every sidebar filter is a sum of its rows. The funnel belongs to the app channel: a channel
filter that leaves the app out leaves it empty.
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import streamlit as st

from cxlake.access.roles import Scope
from streamlit_app.data_access import core
from streamlit_app.data_access.core import CACHE_TTL_SECONDS, Filters

APP_FUNNEL = "app_funnel_daily"
# The funnel's steps in order and the count of sessions that reached each.
APP_STEPS = {
    "browse": "count_sessions",
    "cart": "count_sessions_cart",
    "checkout": "count_sessions_checkout",
    "payment": "count_sessions_payment",
    "ordered": "count_sessions_ordered",
}
SUMS = (
    *APP_STEPS.values(),
    "count_abandoned",
    "count_sessions_with_error",
    "count_sessions_payment_error",
    "count_abandoned_after_payment_error",
    "count_errors",
    "count_checkout_timed",
    "sum_seconds_to_checkout",
    "count_ratings_app",
    "count_top_box_app",
)


def app_funnel_published() -> bool:
    return core.mart_published(f"mart_{APP_FUNNEL}")


def _where(scope: Scope, filters: Filters) -> tuple[str, list[object]] | None:
    """The filters over the mart's store-day rows; None when the channel filter leaves the app out."""
    if filters.channels and "app" not in filters.channels:
        return None
    return core.scoped_filters(scope, replace(filters, channels=()), "date_day")


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def app_funnel(scope: Scope, filters: Filters) -> pd.DataFrame:
    """One row per step of :data:`APP_STEPS` (step, sessions, share_of_start, share_of_previous)
    over the days and stores in scope; no rows when nothing is published or selected."""
    totals = app_funnel_totals(scope, filters)
    if totals is None or totals["count_sessions"] == 0:
        return pd.DataFrame({"step": pd.Series(dtype="string"), "sessions": pd.Series(dtype="int64")})
    sessions = [int(totals[column]) for column in APP_STEPS.values()]
    previous = [sessions[0], *sessions[:-1]]
    return pd.DataFrame(
        {
            "step": list(APP_STEPS),
            "sessions": sessions,
            "share_of_start": [s / sessions[0] for s in sessions],
            "share_of_previous": [s / p if p else None for s, p in zip(sessions, previous, strict=True)],
        }
    )


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def app_funnel_totals(scope: Scope, filters: Filters) -> pd.Series | None:
    """The mart's sums over the selection (see :data:`SUMS`), or None when nothing is published or
    the channel filter leaves the app out."""
    if not app_funnel_published() or (where := _where(scope, filters)) is None:
        return None
    condition, params = where
    sums = ", ".join(f"coalesce(sum({column}), 0) as {column}" for column in SUMS)
    return core.frame(scope, f"select {sums} from marts.mart_{APP_FUNNEL} where {condition}", params).iloc[0]


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def app_funnel_by_week(scope: Scope, filters: Filters) -> pd.DataFrame:
    """One row per week (its Monday; a week cut by the date filter holds only its selected days):
    sessions, the share of sessions reaching payment that ordered (payment_conversion), the share
    of sessions with an app error (error_share), and the App touchpoint's ratings of the week's app
    orders (n, top_box, top2_share: missing where none). Weeks, not days: a store rates its app a
    few times a day, far below the reportable n."""
    columns = ["week", "sessions", "payment_conversion", "error_share", "n", "top_box", "top2_share"]
    if not app_funnel_published() or (where := _where(scope, filters)) is None:
        return pd.DataFrame(columns=columns)
    condition, params = where
    days = core.frame(
        scope,
        "select cast(date_trunc('week', date_day) as date) as week, sum(count_sessions) as sessions,"
        " sum(count_sessions_payment) as payment,"
        " sum(count_sessions_ordered) as ordered, sum(count_sessions_with_error) as errored,"
        " sum(count_ratings_app) as n, sum(count_top_box_app) as top_box"
        f" from marts.mart_{APP_FUNNEL} where {condition} group by week order by week",
        params,
    )
    return days.assign(
        payment_conversion=_share(days["ordered"], days["payment"]),
        error_share=_share(days["errored"], days["sessions"]),
        top2_share=_share(days["top_box"], days["n"]),
    )[columns]


def _share(part: pd.Series, whole: pd.Series) -> pd.Series:
    return (part.astype("float64") / whole.astype("float64").where(whole > 0)).astype("float64")
