"""Data quality: what the gate found per source and day, and the steward's review of quarantined rows.

Decisions are recorded in app state (they outlive warehouse rebuilds) and reach the warehouse when
the row's partition is re-run; the page says so. Each decision carries the signed-in user's name.
"""

import streamlit as st

from cxlake import quarantine
from cxlake.app_state import AppState, DecisionError
from cxlake.config.quality import quality_settings
from streamlit_app import charts, data_access, labels, session, widgets

LABELS = {
    "en": {
        "title": "Data quality",
        "grid": "Quality gate by source and day",
        "grid_help": "Passed (green) · Rows quarantined (amber) · Held back: load blocked (red);"
        " the latest validation of each day",
        "no_results": "No validation results yet.",
        "share_rule": "A day of a source is held back (it keeps its previous data) when more than "
        "{share:.0%} of its rows are quarantined and at least {min_rows} rows are; below that only the "
        "failing rows are quarantined and the rest of the day loads.",
        "failing": "Failing expectations",
        "no_failing": "Every expectation passed.",
        "volume": "Quarantined rows per day",
        "no_volume": "Nothing quarantined yet.",
        "excluded": "Survey responses left out of the metrics",
        "no_excluded": "Every survey response counts.",
        "browser": "Quarantined rows",
        "table": "Raw table",
        "no_quarantine": "No quarantined rows.",
        "row": "Row to review",
        "edit_help": "Correct cells in the row below before releasing it (optional).",
        "reason": "Reason (required to reject)",
        "release": "Release",
        "reject": "Reject",
        "released": "Released {file}:{row}. It is loaded when partition {day} is re-run: "
        "`cxlake run --landing <folder> --start {day} --end {day}`.",
        "rejected": "Rejected {file}:{row}; it stays quarantined.",
        "refused": "Not recorded: {error}.",
        "history": "Decision history",
        "no_history": "No decisions yet.",
        "retention": "Retention: what was purged when",
        "retention_help": "Personal data past its period in cxlake/config/retention.yaml is emptied "
        "(comments, IP addresses, respondent metadata, nicknames) and old quarantined rows are deleted, "
        "at the end of every run and nightly; the rows stay, so counts and scores do not change.",
        "no_retention": "The retention purge has not run on this warehouse yet.",
        "last_pass": "Last pass {at}: {rows} rows purged.",
    },
    "zh": {
        "title": "数据质量",
        "grid": "各数据源每日质量检查",
        "share_rule": "某数据源某日超过 {share:.0%} 的行被隔离且隔离行数不少于 {min_rows} 行时，"
        "该日暂缓加载（保留之前的数据）；否则只隔离出错的行，其余照常加载。",
        "grid_help": "通过（绿）· 有隔离行（黄）· 已暂缓：加载被阻止（红）；当天最近一次校验",
        "no_results": "尚无校验结果。",
        "failing": "未通过的检查",
        "no_failing": "所有检查均已通过。",
        "volume": "每日隔离行数",
        "no_volume": "尚无隔离数据。",
        "excluded": "未计入指标的问卷答卷",
        "no_excluded": "所有答卷均计入指标。",
        "browser": "隔离数据",
        "table": "原始表",
        "no_quarantine": "没有隔离的数据行。",
        "row": "待审核行",
        "edit_help": "放行前可在下方直接修正单元格（可选）。",
        "reason": "原因（驳回时必填）",
        "release": "放行",
        "reject": "驳回",
        "released": "已放行 {file}:{row}。重新运行分区 {day} 后生效："
        "`cxlake run --landing <folder> --start {day} --end {day}`。",
        "rejected": "已驳回 {file}:{row}，该行保持隔离。",
        "refused": "未记录：{error}。",
        "history": "审核记录",
        "no_history": "尚无审核记录。",
        "retention": "保留期限：何时清除了什么",
        "retention_help": "超过 cxlake/config/retention.yaml 所定保留期限的个人信息"
        "（评论、IP 地址、答题者元数据、昵称）会被清空，过期的隔离数据行会被删除；"
        "每次运行结束时及每晚执行。数据行保留，计数与分数不变。",
        "no_retention": "该数据仓库尚未执行过保留期限清除。",
        "last_pass": "最近一次 {at}：清除 {rows} 行。",
    },
}
# Status in words with a colour behind it: emoji need a font the reader may lack.
STATUS_COLOURS = {"passed": "#d8f0d8", "failed": "#fbe8b4", "blocked": "#f6c9c9"}
KEY_TABLE = "dq_table"
KEY_ROW = "dq_row"
KEY_REASON = "dq_reason"
KEY_OUTCOME = "dq_outcome"


def record_decision(decision: str, table: str, row: dict[str, object], editor_key: str) -> None:
    """Button callback: runs before the rerun, so the listing below already shows the new decision.

    The steward is whoever is signed in at the click (their session may have ended since the page was drawn).
    """
    steward = session.acting_as("data_quality")
    if steward is None:
        st.session_state[KEY_OUTCOME] = ("error", text["not_available"])
        return
    edits = st.session_state.get(editor_key) or {}
    edited = (edits.get("edited_rows") or {}).get(0, {})
    corrections = quarantine.corrections_from_edit(row, edited) if decision == "release" else None
    try:
        AppState.shared().record_decision(
            table,
            str(row["_source_file"]),
            int(row["_source_row"]),
            decision,
            steward.name,
            reason=st.session_state.get(KEY_REASON) or None,
            corrections=corrections,
        )
    except DecisionError as error:
        st.session_state[KEY_OUTCOME] = ("error", text["refused"].format(error=error))
        return
    message = text["released" if decision == "release" else "rejected"].format(
        file=row["_source_file"], row=row["_source_row"], day=row["_partition_date"]
    )
    st.session_state[KEY_OUTCOME] = ("success", message)


language, text, principal = widgets.page_header(LABELS, "data_quality")
if not data_access.serving_copy_exists():
    st.warning(text["no_serving"])
    st.stop()

scope = principal.scope  # every role with this page sees "all"; a narrower scope would see nothing

st.subheader(text["grid"])
rules = quality_settings()
st.caption(
    text["share_rule"].format(share=rules.max_quarantined_share, min_rows=rules.min_quarantined_rows_to_block)
)
grid = data_access.validation_grid(scope)
if grid.empty:
    st.info(text["no_results"])
else:
    st.caption(text["grid_help"])
    statuses = grid.pivot(index="partition_date", columns="source", values="status").sort_index(
        ascending=False
    )
    words = {status: labels.code("dq_status", status, language) for status in STATUS_COLOURS}
    colours = {words[status]: colour for status, colour in STATUS_COLOURS.items()}
    shown = (
        statuses.map(lambda status: words.get(status, ""))
        .rename(columns=lambda source: labels.code("source", source, language))
        .rename_axis(index=labels.header("partition_date", language), columns=None)
    )
    st.dataframe(
        shown.style.map(lambda word: f"background-color: {colours.get(word, 'transparent')}"), placeholder=""
    )
    widgets.download_buttons(grid, "validation_grid", "data_quality")

st.subheader(text["failing"])
failing = data_access.failing_expectations(scope, sees_pii=principal.sees_pii)
if failing.empty:
    st.info(text["no_failing"])
else:
    widgets.show_table(failing, "failing_expectations", "data_quality")

st.subheader(text["volume"])
volume = data_access.quarantine_volume(scope)
if volume["rows_quarantined"].sum() == 0:
    st.info(text["no_volume"])
else:
    charts.show(charts.quarantine_volume_chart(volume, language))

st.subheader(text["excluded"])
excluded = data_access.non_countable_responses(scope, data_access.Filters())
if excluded.empty:
    st.info(text["no_excluded"])
else:
    widgets.show_table(excluded, "excluded_responses", "data_quality")

st.subheader(text["browser"])
tables = data_access.quarantine_tables(scope)
# Open on the first table that holds rows, not on an empty one while another has failures.
with_rows = [name for name in tables if not data_access.quarantined_rows(scope, name).empty]
first = tables.index(with_rows[0]) if with_rows else 0
table = st.selectbox(text["table"], options=tables, index=first, key=KEY_TABLE) if tables else None
# Masked (names, phones, e-mails, contact details in any text) unless the role has PII rights.
rows = data_access.quarantined_rows(scope, table, sees_pii=principal.sees_pii) if table else None
state = AppState.shared()
if rows is None or rows.empty:
    st.info(text["no_quarantine"])
else:
    listing = quarantine.with_latest_decisions(
        rows, state.latest_decisions(table), sees_pii=principal.sees_pii
    )
    shown = listing.assign(
        failed=listing["_failed_expectations"].map(quarantine.failed_expectations).str.join(", ")
    )
    shown = shown.drop(columns=["_failed_expectations", "_quarantined_at"]).rename(
        columns={"_partition_date": "partition_date", "_source_file": "file", "_source_row": "line"}
    )
    # Delivered columns keep the names they have in the delivered file the steward compares them with.
    delivered = [column for column in rows.columns if column not in quarantine.LINEAGE_COLUMNS]
    as_delivered = {column: column for column in delivered}
    widgets.show_table(
        shown, f"quarantine_{table}", "data_quality", as_delivered
    )  # formula-like cells defused

    choice = st.selectbox(
        text["row"],
        options=range(len(rows)),
        format_func=lambda i: f"{rows['_source_file'].iloc[i]}:{rows['_source_row'].iloc[i]}",
        key=KEY_ROW,
    )
    row = rows.iloc[choice].to_dict()
    row["_partition_date"] = quarantine.quarantined_day(row)
    editor_key = f"dq_edit_{table}_{row['_source_file']}_{row['_source_row']}"
    st.caption(text["edit_help"])
    st.data_editor(rows.iloc[[choice]][delivered], key=editor_key, hide_index=True, num_rows="fixed")
    st.text_input(text["reason"], key=KEY_REASON)
    release_column, reject_column = st.columns(2)
    release_column.button(
        text["release"],
        key="dq_release",
        on_click=record_decision,
        args=("release", table, row, editor_key),
    )
    reject_column.button(
        text["reject"],
        key="dq_reject",
        on_click=record_decision,
        args=("reject", table, row, editor_key),
    )
    outcome = st.session_state.pop(KEY_OUTCOME, None)
    if outcome is not None:
        kind, message = outcome
        (st.success if kind == "success" else st.error)(message)

st.subheader(text["history"])
history = quarantine.decisions_frame(state.decision_history(), sees_pii=principal.sees_pii)
if history.empty:
    st.info(text["no_history"])
else:
    widgets.show_table(history.iloc[::-1], "quarantine_decisions", "data_quality")

st.subheader(text["retention"])
st.caption(text["retention_help"])
last_pass = data_access.last_retention_pass(scope)
if last_pass is None:
    st.info(text["no_retention"])
else:
    st.caption(text["last_pass"].format(at=f"{last_pass[0]:%Y-%m-%d %H:%M} UTC", rows=last_pass[1]))
    purges = data_access.retention_purges(scope)
    if not purges.empty:
        widgets.show_table(purges, "retention_purges", "data_quality")
