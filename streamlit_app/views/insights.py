"""Insights: what to fix first, who is about to leave and what experience is worth in money.

Six tabs over the insight models' marts, each within the user's scope (the door's): the key-driver
matrix and ranked importance per chain, region or store; the Kano verdicts on the chain's features;
the churn watch list of the user's stores (names and phones as the role may see them); the money
of experience per NPS category; peak and end per journey stage (does the worst or the last moment
explain recommendation beyond the average?); the frontline staff of a manager's stores. A tab whose
mart the serving copy lacks says so; the others still show. Every model's verdict below its minimum
n is said in words, never drawn as a fact. Under each chart, the comments behind it.

This file is the page's frame; each tab is a module of :mod:`streamlit_app.insight_tabs`.
"""

from __future__ import annotations

import streamlit as st

from streamlit_app import data_access, widgets
from streamlit_app.insight_tabs import churn, drivers, frontline, kano, money, peak_end
from streamlit_app.insight_tabs.common import PAGE, Tab
from streamlit_app.insight_tabs.words import LABELS

# Tab order: the label key of each tab and the module drawing it.
TABS = (
    ("tab_drivers", drivers),
    ("tab_kano", kano),
    ("tab_churn", churn),
    ("tab_money", money),
    ("tab_peak_end", peak_end),
    ("tab_frontline", frontline),
)

language, text, principal = widgets.page_header(LABELS, PAGE)
if not data_access.serving_copy_exists():
    st.warning(text["no_serving"])
    st.stop()
tab = Tab(language, text, principal)
for drawn, (_, module) in zip(st.tabs([text[label] for label, _ in TABS]), TABS, strict=True):
    with drawn:
        module.show(tab)
