"""SQL: analysts query the marts as their role may see them (masked, scoped) in a throwaway sandbox.

The sandbox (:mod:`cxlake.access.sql_sandbox`) refuses anything but one SELECT over the exposed
views and runs it in a child process with bounded memory and time; every query, run or refused,
lands in the audit log (a bounded prefix and a hash), so an admin can tell who read what.
The last result is kept in the session (with whose it is), so a download does not run the query
again and a later sign-in in the same browser never sees it.
"""

import streamlit as st

from cxlake.access.audit import AuditLog, statement_detail
from cxlake.access.sql_sandbox import QueryRefused, QueryResult, SqlLimits, run_query
from streamlit_app import data_access, widgets

KEY_SQL = "sql_text"
KEY_RESULT = "sql_result"

LABELS = {
    "en": {
        "title": "SQL",
        "intro": "One SELECT over the marts; personal data is masked and rows are limited to your scope.",
        "query": "Query",
        "run": "Run",
        "empty_query": "Write a query first.",
        "refused": "Query not run: {reason}",
        "summary": "{rows:,} rows in {seconds:.2f} s.",
        "truncated": "Only the first {cap:,} rows are shown and exported; narrow the query to see the rest.",
        "schema": "Tables and columns you can query",
    },
    "zh": {
        "title": "SQL 查询",
        "intro": "对数据集市执行一条 SELECT；个人信息已脱敏，行范围限于您的权限。",
        "query": "查询语句",
        "run": "运行",
        "empty_query": "请先输入查询语句。",
        "refused": "查询未执行：{reason}",
        "summary": "{rows:,} 行，用时 {seconds:.2f} 秒。",
        "truncated": "仅显示并导出前 {cap:,} 行；请缩小查询范围以查看其余行。",
        "schema": "可查询的表和列",
    },
}

language, text, principal = widgets.page_header(LABELS, "sql")
if not data_access.serving_copy_exists():
    st.warning(text["no_serving"])
    st.stop()
serving = data_access.serving_path()
st.caption(text["intro"])

with st.expander(text["schema"]):
    for relation, columns in data_access.mart_columns(principal.scope).items():
        st.markdown(f"**{relation}**: {', '.join(columns)}")

sql = st.text_area(text["query"], key=KEY_SQL, height=160, placeholder="select * from dim_store limit 10")
if st.button(text["run"], key="sql_run", type="primary"):
    st.session_state.pop(KEY_RESULT, None)
    if not sql.strip():
        st.info(text["empty_query"])
        st.stop()
    try:
        result = run_query(principal, sql, serving, limits=SqlLimits.from_env())
    except (QueryRefused, ValueError) as refusal:  # ValueError: a limit set wrong in the environment
        AuditLog().record(principal.name, "sql_refused", {**statement_detail(sql), "reason": str(refusal)})
        st.error(text["refused"].format(reason=refusal))
        st.stop()
    AuditLog().record(
        principal.name,
        "sql_query",
        {**statement_detail(sql), "rows": len(result.frame), "truncated": result.truncated},
    )
    st.session_state[KEY_RESULT] = (principal.name, result)

owner, result = st.session_state.get(KEY_RESULT, (None, None))
if owner == principal.name and isinstance(result, QueryResult):
    st.caption(text["summary"].format(rows=len(result.frame), seconds=result.elapsed_seconds))
    if result.truncated:
        st.warning(text["truncated"].format(cap=result.row_cap))
    st.dataframe(result.frame, hide_index=True)
    widgets.download_buttons(result.frame, "sql_result", "sql")
