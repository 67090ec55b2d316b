"""Admin: the explorer's accounts (add, disable, new password) and the audit log.

Every change goes through :class:`cxlake.access.accounts.Accounts` with the admin's name, so the
log says who did it; password hashes never leave that module. Buttons act in callbacks, so the
tables below already show the change.
"""

import json

import pandas as pd
import streamlit as st

from cxlake.access.accounts import AccountError, Accounts
from cxlake.access.audit import ACTIONS, AuditLog
from cxlake.access.roles import ROLES, Scope
from streamlit_app import data_access, session, widgets

LABELS = {
    "en": {
        "title": "Admin",
        "users": "Accounts",
        "add_title": "Add an account",
        "name": "Name",
        "role": "Role",
        "scope_id": "Scope id",
        "scope_help": "A region id for a regional manager, a store id for a store manager; empty otherwise.",
        "new_password": "Password (at least 12 characters)",
        "add": "Add account",
        "added": "Added {name}.",
        "unknown_scope": "There is no {kind} {id!r} in the published data.",
        "kind_region": "region",
        "kind_store": "store",
        "disable_title": "Disable an account",
        "account": "Account",
        "disable": "Disable",
        "disabled_done": "Disabled {name}; their sessions have ended.",
        "not_yourself": "You cannot disable your own account.",
        "password_title": "Set a new password",
        "set_password": "Set password",
        "password_done": "New password set for {name}; their sessions have ended.",
        "refused": "Not done: {error}.",
        "audit": "Audit log (latest 500)",
        "action": "Action",
        "all_actions": "All actions",
        "no_events": "No events.",
    },
    "zh": {
        "title": "系统管理",
        "users": "账户",
        "add_title": "新增账户",
        "name": "用户名",
        "role": "角色",
        "scope_id": "权限范围编号",
        "scope_help": "区域经理填区域编号，店长填门店编号，其他角色留空。",
        "new_password": "密码（至少 12 个字符）",
        "add": "新增账户",
        "added": "已新增 {name}。",
        "unknown_scope": "已发布的数据中没有{kind} {id!r}。",
        "kind_region": "区域",
        "kind_store": "门店",
        "disable_title": "停用账户",
        "account": "账户",
        "disable": "停用",
        "disabled_done": "已停用 {name}，其会话已结束。",
        "not_yourself": "不能停用自己的账户。",
        "password_title": "重设密码",
        "set_password": "设置密码",
        "password_done": "已为 {name} 设置新密码，其会话已结束。",
        "refused": "未完成：{error}。",
        "audit": "审计日志（最近 500 条）",
        "action": "操作",
        "all_actions": "全部操作",
        "no_events": "没有记录。",
    },
}
KEY_OUTCOME = "admin_outcome"
KEY_NEW_NAME, KEY_NEW_ROLE, KEY_NEW_SCOPE, KEY_NEW_PASSWORD = (
    "admin_new_name",
    "admin_new_role",
    "admin_new_scope",
    "admin_new_password",
)
KEY_DISABLE = "admin_disable_name"
KEY_PASSWORD_NAME, KEY_PASSWORD = "admin_password_name", "admin_password"
KEY_ACTION = "admin_action"


def unknown_scope(role_key: str, scope_id: str) -> str | None:
    """Why ``scope_id`` names no region or store of the published data (None when it does, or when
    nothing is published yet): a typo would leave the new manager with an empty explorer."""
    kind = ROLES[role_key].scope_kind
    if kind == "all" or not scope_id or not data_access.serving_copy_exists():
        return None
    options = data_access.filter_options(Scope.everything())
    known = options.regions if kind == "region" else options.stores
    return None if scope_id in known else text["unknown_scope"].format(kind=text[f"kind_{kind}"], id=scope_id)


def outcome(kind: str, message: str) -> None:
    st.session_state[KEY_OUTCOME] = (kind, message)


def acting_admin() -> str | None:
    """The admin's name, checked again at the click; None (and a message) once they may no longer act."""
    admin = session.acting_as("admin")
    if admin is None:
        outcome("error", text["not_available"])
    return None if admin is None else admin.name


def add_account() -> None:
    """Form callback; the password is cleared whatever happens, so it never lingers in the session."""
    name = st.session_state[KEY_NEW_NAME].strip()
    role_key = st.session_state[KEY_NEW_ROLE]
    scope_id = st.session_state[KEY_NEW_SCOPE].strip() or None
    password = st.session_state[KEY_NEW_PASSWORD]
    st.session_state[KEY_NEW_PASSWORD] = ""
    admin = acting_admin()
    if admin is None:
        return
    problem = unknown_scope(role_key, scope_id or "")
    if problem:
        outcome("error", text["refused"].format(error=problem))
        return
    try:
        Accounts().add(name, role_key, password, scope_id, by=admin)
    except AccountError as error:
        outcome("error", text["refused"].format(error=error))
        return
    st.session_state[KEY_NEW_NAME] = ""
    st.session_state[KEY_NEW_SCOPE] = ""
    outcome("success", text["added"].format(name=name))


def disable_account() -> None:
    name = st.session_state[KEY_DISABLE]
    admin = acting_admin()
    if admin is None:
        return
    if name.casefold() == admin.casefold():
        outcome("error", text["not_yourself"])
        return
    try:
        Accounts().disable(name, by=admin)
    except AccountError as error:
        outcome("error", text["refused"].format(error=error))
        return
    outcome("success", text["disabled_done"].format(name=name))


def set_password() -> None:
    name = st.session_state[KEY_PASSWORD_NAME]
    password = st.session_state[KEY_PASSWORD]
    st.session_state[KEY_PASSWORD] = ""
    admin = acting_admin()
    if admin is None:
        return
    try:
        Accounts().set_password(name, password, by=admin)
    except AccountError as error:
        outcome("error", text["refused"].format(error=error))
        return
    outcome("success", text["password_done"].format(name=name))


_, text, _ = widgets.page_header(LABELS, "admin")
role_name = {key: text[f"role_{key}"] for key in ROLES}

result = st.session_state.pop(KEY_OUTCOME, None)
if result is not None:
    kind, message = result
    (st.success if kind == "success" else st.error)(message)

st.subheader(text["users"])
accounts = Accounts().list()
users = pd.DataFrame(
    [(a.name, a.role, a.scope_id, a.disabled, a.created_at) for a in accounts],
    columns=["name", "role", "scope_id", "disabled", "created_at"],
)
widgets.show_table(users.assign(role=users["role"].map(role_name)), "accounts", "admin")

with st.expander(text["add_title"]), st.form("admin_add"):
    st.text_input(text["name"], key=KEY_NEW_NAME)
    st.selectbox(text["role"], options=list(ROLES), format_func=role_name.__getitem__, key=KEY_NEW_ROLE)
    st.text_input(text["scope_id"], help=text["scope_help"], key=KEY_NEW_SCOPE)
    st.text_input(text["new_password"], type="password", key=KEY_NEW_PASSWORD, autocomplete="new-password")
    st.form_submit_button(text["add"], on_click=add_account)

active = [a.name for a in accounts if not a.disabled]
with st.expander(text["disable_title"]):
    st.selectbox(text["account"], options=active, key=KEY_DISABLE)
    st.button(text["disable"], key="admin_disable", on_click=disable_account, disabled=not active)

with st.expander(text["password_title"]), st.form("admin_password_form"):
    st.selectbox(text["account"], options=[a.name for a in accounts], key=KEY_PASSWORD_NAME)
    st.text_input(text["new_password"], type="password", key=KEY_PASSWORD, autocomplete="new-password")
    st.form_submit_button(text["set_password"], on_click=set_password)

st.subheader(text["audit"])
action = st.selectbox(
    text["action"],
    options=["", *ACTIONS],
    format_func=lambda key: key or text["all_actions"],
    key=KEY_ACTION,
)
events = AuditLog().events(limit=500, action=action or None)
if not events:
    st.info(text["no_events"])
else:
    log = pd.DataFrame(
        [
            (e.event_id, e.at, e.actor, e.action, json.dumps(e.detail, ensure_ascii=False, sort_keys=True))
            for e in events
        ],
        columns=["event_id", "at", "actor", "action", "detail"],
    )
    widgets.show_table(log, f"audit_log_{action or 'all'}", "admin")
