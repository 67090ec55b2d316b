"""Entry point of the explorer: ``streamlit run streamlit_app/app.py``.

Pages live in ``pages/``; each is a thin script over :mod:`streamlit_app.data_access`.
"""

import streamlit as st

st.set_page_config(page_title="cxlake", page_icon=":material/insights:", layout="wide")
navigation = st.navigation(
    [
        st.Page("pages/overview.py", title="Overview · 概览", icon=":material/speed:", default=True),
        st.Page("pages/journey.py", title="Journey · 旅程", icon=":material/route:"),
        st.Page("pages/data_quality.py", title="Data quality · 数据质量", icon=":material/rule:"),
    ]
)
navigation.run()
