"""The Churn watch list tab: the members the churn model expects to stop buying, among their
store's highest value (marts.mart_churn_risk), within the user's stores, names and phones as the
role may see them. A table, no chart: each row is already one customer to call."""

from __future__ import annotations

import streamlit as st

from streamlit_app import data_access, labels
from streamlit_app.insight_tabs.common import Tab, no_mart, table

KEY_WATCH_STORE = "insights_watch_store"
ALL_STORES = ""  # the watch-list picker's value for every store in scope


def show(tab: Tab) -> None:
    """The watch list of the picked store (or all the user's stores), most value at risk first."""
    stores = data_access.filter_options(tab.scope).stores
    store_ids = [ALL_STORES, *stores] if len(stores) > 1 else list(stores)
    picked = st.selectbox(
        tab.text["watch_store"],
        store_ids,
        format_func=lambda store: (
            tab.text["all_stores"]
            if store == ALL_STORES
            else f"{labels.store_label(stores[store])} ({store})"
        ),
        key=KEY_WATCH_STORE,
    )
    watch = data_access.churn_watch_list(tab.scope, tab.principal.sees_pii, picked or None, tab.language)
    if watch is None:
        no_mart(tab, "mart_churn_risk")
        return
    if watch.empty:
        st.info(tab.text["no_watch_list"])
        return
    st.caption(tab.text["watch_note"])
    shown = watch.assign(store_name=watch["store_name"].map(labels.store_label))
    table(tab, shown, "insights_churn_watch_list")
