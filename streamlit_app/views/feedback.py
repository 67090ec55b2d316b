"""Recent feedback: what customers just said, so a store manager can call the unhappy ones back.

Names, phones and e-mails are masked by the data layer for roles that do not follow up with
customers; the table and its downloads are the same masked frame.
"""

import streamlit as st

from streamlit_app import data_access, widgets

# The newest answers are the ones worth a call; older ones are in the exports of the marts.
FEEDBACK_LIMIT = 500

LABELS = {
    "en": {
        "title": "Recent feedback",
        "detractors_only": "Detractors only",
        "shown": "The newest {n:,} responses (at most {limit:,}).",
        "masked": "Customer names, phones and e-mails are masked for your role.",
    },
    "zh": {
        "title": "最新反馈",
        "detractors_only": "仅看贬损者",
        "shown": "最新 {n:,} 条答卷（最多 {limit:,} 条）。",
        "masked": "按您的角色，顾客姓名、电话和邮箱已脱敏。",
    },
}

page = widgets.filtered_page(LABELS, "feedback")
text = page.text
sees_pii = page.principal.sees_pii
detractors_only = st.toggle(text["detractors_only"], key="feedback_detractors_only")
feedback = data_access.recent_feedback(page.scope, page.filters, sees_pii, FEEDBACK_LIMIT, detractors_only)
if feedback.empty:
    st.info(text["no_data"])
    st.stop()

st.caption(text["shown"].format(n=len(feedback), limit=FEEDBACK_LIMIT))
if not sees_pii:
    st.caption(text["masked"])
widgets.show_table(feedback, "feedback", "feedback")
