"""Entry point of the explorer: ``streamlit run streamlit_app/app.py``.

Pages live in ``views/``, each a thin script over :mod:`streamlit_app.data_access`. Not in
``pages/``: Streamlit would also register that folder's files, and a deep link to a page would
show them as a second, unnamed navigation.
"""

import streamlit as st

st.set_page_config(page_title="cxlake", page_icon=":material/insights:", layout="wide")
navigation = st.navigation(
    [
        st.Page("views/overview.py", title="Overview · 概览", icon=":material/speed:", default=True),
        st.Page("views/journey.py", title="Journey · 旅程", icon=":material/route:"),
        st.Page("views/data_quality.py", title="Data quality · 数据质量", icon=":material/rule:"),
    ]
)
navigation.run()
