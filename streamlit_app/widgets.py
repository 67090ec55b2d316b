"""The frame every page shares: language, the signed-in user and their page rights, sidebar
filters (also from the URL), download buttons and headline formatting.

Widgets carry fixed keys, so their values survive reruns and tests can set them by key. Shared
words live in COMMON_LABELS; a page's own labels are merged over them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pandas as pd
import streamlit as st

from cxlake.access.accounts import Accounts
from cxlake.access.audit import AuditLog
from cxlake.access.roles import Principal
from cxlake.exports import to_csv_bytes, to_xlsx_bytes
from cxlake.metrics import NpsResult, settings
from streamlit_app import data_access, labels, session
from streamlit_app.data_access import FilterOptions, Filters, Scope
from streamlit_app.data_access.freshness import stale_sources
from streamlit_app.labels import store_label

LANGUAGES = {"en": "English", "zh": "中文"}
KEY_LANGUAGE = "lang"
KEY_DATES = "filter_dates"
KEY_REGIONS = "filter_regions"
KEY_STORES = "filter_stores"
KEY_CHANNELS = "filter_channels"
# Query-string names a link may carry (?region=R01&store=S001&channel=app&from=2026-01-01&to=...).
URL_REGION, URL_STORE, URL_CHANNEL, URL_FROM, URL_TO = "region", "store", "channel", "from", "to"
# File format -> (builder, MIME type). Both builders defuse formula-like text (cxlake.exports).
EXPORT_FORMATS: dict[str, tuple[Callable[[pd.DataFrame], bytes], str]] = {
    "csv": (to_csv_bytes, "text/csv"),
    "xlsx": (to_xlsx_bytes, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
}

COMMON_LABELS: dict[str, dict[str, str]] = {
    "en": {
        "no_serving": "No published data yet. Run `cxlake run` or `make demo` first.",
        "no_data": "No data found",
        "filters": "Filters",
        "date_range": "Date range",
        "region": "Region",
        "store": "Store",
        "channel": "Channel",
        "channel_in_store": "In store",
        "channel_app": "App",
        "channel_delivery": "Delivery",
        "download_csv": "Download CSV",
        "download_xlsx": "Download Excel",
        "show_data": "Show data",
        "not_available": "This page is not available for your role.",
        "signed_in_as": "Signed in as **{name}** · {role} · {scope}",
        "sign_out": "Sign out",
        "sign_in_title": "Sign in to cxlake",
        "sign_in": "Sign in",
        "user_name": "User name",
        "password": "Password",
        "sign_in_failed": "Sign-in refused: {error}.",
        "session_expired": "Your session has ended. Please sign in again.",
        "scope_all": "all stores",
        "scope_region": "region {id}",
        "scope_store": "store {id}",
        "role_admin": "Administrator",
        "role_cx_director": "CX director",
        "role_regional_manager": "Regional manager",
        "role_store_manager": "Store manager",
        "role_analyst": "Analyst",
        "role_steward": "Data steward",
        "page_overview": "Overview",
        "page_leaderboard": "Store leaderboard",
        "page_integrity": "Survey integrity",
        "page_feedback": "Feedback",
        "page_loop": "Loop",
        "page_journey": "Journey",
        "page_voice": "Voice of customer",
        "page_insights": "Insights",
        "page_sql": "SQL",
        "page_data_quality": "Data quality",
        "page_admin": "Admin",
        "gaps_title": "Some days are incomplete, so the numbers below leave them out:",
        "gap_held_back": "{source}: held back by the quality gate on {days}",
        "gap_missing": "{source}: no delivery on {days}",
        "stale_title": "Some sources have not delivered for longer than expected; numbers may lag:",
        "stale_source": "{source}: last delivery {since}, silent {silent} of {limit} {counted} allowed",
        "stale_never": "{source}: no delivery recorded",
        "counted_business_hours": "business hours",
        "counted_all_hours": "hours",
    },
    "zh": {
        "no_serving": "尚无已发布的数据。请先运行 `cxlake run` 或 `make demo`。",
        "no_data": "未找到数据",
        "filters": "筛选",
        "date_range": "日期范围",
        "region": "区域",
        "store": "门店",
        "channel": "渠道",
        "channel_in_store": "到店",
        "channel_app": "小程序/App",
        "channel_delivery": "外卖",
        "download_csv": "下载 CSV",
        "download_xlsx": "下载 Excel",
        "show_data": "查看数据",
        "not_available": "您的角色无法访问此页面。",
        "signed_in_as": "当前用户 **{name}** · {role} · {scope}",
        "sign_out": "退出登录",
        "sign_in_title": "登录 cxlake",
        "sign_in": "登录",
        "user_name": "用户名",
        "password": "密码",
        "sign_in_failed": "登录失败：{error}。",
        "session_expired": "您的会话已结束，请重新登录。",
        "scope_all": "全部门店",
        "scope_region": "区域 {id}",
        "scope_store": "门店 {id}",
        "role_admin": "管理员",
        "role_cx_director": "客户体验总监",
        "role_regional_manager": "区域经理",
        "role_store_manager": "店长",
        "role_analyst": "分析师",
        "role_steward": "数据管理员",
        "page_overview": "概览",
        "page_leaderboard": "门店排行",
        "page_integrity": "问卷可信度",
        "page_feedback": "客户反馈",
        "page_loop": "闭环",
        "page_journey": "客户旅程",
        "page_voice": "客户之声",
        "page_insights": "洞察",
        "page_sql": "SQL 查询",
        "page_data_quality": "数据质量",
        "page_admin": "系统管理",
        "gaps_title": "以下日期的数据不完整，下方数字未包含：",
        "gap_held_back": "{source}：{days} 未通过质量检查，暂缓加载",
        "gap_missing": "{source}：{days} 未收到数据",
        "stale_title": "以下数据源超过预期时间未送达，最新数字可能滞后：",
        "stale_source": "{source}：最近一次送达 {since}，已 {silent} 未送达（允许 {limit} {counted}）",
        "stale_never": "{source}：尚无送达记录",
        "counted_business_hours": "营业小时",
        "counted_all_hours": "小时",
    },
}

# The columns that say whether a row's scores are facts (charts.reportable, dbt's is_reportable).
REPORTABILITY = ("reportable", "is_reportable")


@dataclass(frozen=True)
class PageContext:
    language: str
    text: Mapping[str, str]
    scope: Scope
    filters: Filters
    principal: Principal


def current_language() -> str:
    """The language picked so far (English before any pick), without drawing the picker."""
    picked = st.session_state.get(KEY_LANGUAGE)
    return picked if picked in LANGUAGES else "en"


def page_text(labels: Mapping[str, Mapping[str, str]], language: str) -> dict[str, str]:
    """The shared words with the page's own labels over them."""
    return {**COMMON_LABELS[language], **labels.get(language, {})}


def language_picker() -> str:
    """The UI language code; English unless the user picks Chinese."""
    if KEY_LANGUAGE in st.session_state:
        # Streamlit forgets a widget's value on a run that does not draw it (a page switch);
        # writing it back makes the pick survive moving between pages.
        st.session_state[KEY_LANGUAGE] = st.session_state[KEY_LANGUAGE]
    return st.sidebar.selectbox(
        "Language / 语言", options=list(LANGUAGES), format_func=LANGUAGES.__getitem__, key=KEY_LANGUAGE
    )


def require_page(page_key: str) -> Principal:
    """The signed-in user if their role opens ``page_key``; else the sign-in form or "not available",
    and the page stops. Navigation lists only allowed pages; this guards deep links and direct runs."""
    principal = _signed_in()
    if not principal.may_open(page_key):
        st.error(COMMON_LABELS[current_language()]["not_available"])
        st.stop()
    return principal


def page_header(
    labels: Mapping[str, Mapping[str, str]], page_key: str
) -> tuple[str, dict[str, str], Principal]:
    """The top of a page without filters (SQL, admin): language, words and the user allowed here."""
    language = language_picker()
    principal = require_page(page_key)
    text = page_text(labels, language)
    st.title(text["title"])
    return language, text, principal


def filtered_page(labels: Mapping[str, Mapping[str, str]], page_key: str | None = None) -> PageContext:
    """The top of every filtered page: language, title, the user's scope and the sidebar filters.

    ``page_key`` checks the role may open the page (pages that call :func:`require_page` themselves
    may leave it out; a signed-in user is required either way). Stops the page with ``no_serving`` /
    ``no_data`` when there is nothing to show.
    """
    language = language_picker()
    principal = require_page(page_key) if page_key else _signed_in()
    text = page_text(labels, language)
    st.title(text["title"])
    if not data_access.serving_copy_exists():
        st.warning(text["no_serving"])
        st.stop()
    scope = principal.scope
    options = data_access.filter_options(scope)
    if options.date_min is None:
        st.info(text["no_data"])
        st.stop()
    preset_filters_from_url(options)
    filters = sidebar_filters(options, text)
    data_gaps_banner(scope, filters, text, language)
    freshness_banner(scope, text, language)
    return PageContext(language, text, scope, filters, principal)


def day_ranges(days: Sequence[date]) -> str:
    """Days as compact runs: ``2026-03-04..2026-03-06, 2026-03-09`` (sorted, duplicates dropped)."""
    runs: list[list[date]] = []
    for day in sorted(set(days)):
        if runs and (day - runs[-1][-1]).days == 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    return ", ".join(
        run[0].isoformat() if len(run) == 1 else f"{run[0].isoformat()}..{run[-1].isoformat()}"
        for run in runs
    )


def data_gaps_banner(scope: Scope, filters: Filters, text: Mapping[str, str], language: str) -> None:
    """A warning naming each source and the days in the picked period it is missing or held back,
    so nobody reads a dip as a real one (in words: emoji need a font the reader may lack)."""
    gaps = data_access.data_gaps(scope, filters.date_from, filters.date_to)
    if gaps.empty:
        return
    lines = [
        text[f"gap_{gap}"].format(
            source=labels.code("source", source, language), days=day_ranges(list(group["partition_date"]))
        )
        for (gap, source), group in gaps.groupby(["gap", "source"], sort=True)
    ]
    st.warning("\n".join([text["gaps_title"], *(f"- {line}" for line in lines)]))


def freshness_banner(scope: Scope, text: Mapping[str, str], language: str) -> None:
    """A warning naming each source silent for longer than cxlake/config/pipeline.yaml allows (the
    rule Dagster's delivery_freshness checks use), so nobody reads yesterday's numbers as today's."""
    lines = []
    for state in stale_sources(scope):
        source = labels.code("source", state.rule.source, language)
        if state.last_delivery_at is None:
            lines.append(text["stale_never"].format(source=source))
            continue
        since = state.last_delivery_at.astimezone(ZoneInfo(state.rule.timezone)).strftime("%Y-%m-%d %H:%M")
        lines.append(
            text["stale_source"].format(
                source=source,
                since=since,
                silent=_hours(state.silence or timedelta()),
                limit=_hours(state.rule.max_silence),
                counted=text[f"counted_{state.rule.count}"],
            )
        )
    if lines:
        st.warning("\n".join([text["stale_title"], *(f"- {line}" for line in lines)]))


def _hours(span: timedelta) -> str:
    return f"{span.total_seconds() / 3600:.1f} h".replace(".0 h", " h")


def _signed_in() -> Principal:
    """The signed-in user, whatever the page; the sign-in form and a stop otherwise."""
    data_access.forget_answers_of_a_replaced_copy()
    principal = session.current_principal()
    if principal is None:
        text = COMMON_LABELS[current_language()]
        st.title(text["sign_in_title"])
        session.sign_in_form(text)
        st.stop()
    return principal


def scope_text(principal: Principal, text: Mapping[str, str]) -> str:
    """ "all stores", "region R01" or "store S001", in the page's language."""
    scope = principal.scope
    return text[f"scope_{scope.kind}"].format(id=", ".join(scope.ids))


def account_box(principal: Principal) -> None:
    """Sidebar: who is signed in, with which role and scope, and the sign-out button."""
    text = COMMON_LABELS[current_language()]
    st.sidebar.markdown(
        text["signed_in_as"].format(
            name=principal.name, role=text[f"role_{principal.role}"], scope=scope_text(principal, text)
        )
    )
    st.sidebar.button(text["sign_out"], key="sign_out", on_click=session.sign_out)


def _url_values(name: str) -> list[str]:
    """Every value of one query parameter, repeated (?store=a&store=b) or comma-joined (?store=a,b)."""
    return [
        part.strip() for value in st.query_params.get_all(name) for part in value.split(",") if part.strip()
    ]


def _url_date(name: str) -> date | None:
    values = _url_values(name)
    try:
        return date.fromisoformat(values[0]) if values else None
    except ValueError:
        return None


def preset_filters_from_url(options: FilterOptions) -> None:
    """Start the filters from the link's query string, keeping only values the scope offers; without
    dates in the link, the last ``default_period_days`` (so the headline has a period to compare with).

    A value outside the options (another store, SQL text) is dropped silently; the data access
    applies the scope anyway. Filters the user already set in this session are left alone.
    """
    if KEY_REGIONS not in st.session_state:
        st.session_state[KEY_REGIONS] = [
            r for r in dict.fromkeys(_url_values(URL_REGION)) if r in options.regions
        ]
    if KEY_STORES not in st.session_state:
        regions = st.session_state[KEY_REGIONS]
        st.session_state[KEY_STORES] = [
            store
            for store in dict.fromkeys(_url_values(URL_STORE))
            if store in options.store_regions and (not regions or options.store_regions[store] in regions)
        ]
    if KEY_CHANNELS not in st.session_state:
        st.session_state[KEY_CHANNELS] = [
            c for c in dict.fromkeys(_url_values(URL_CHANNEL)) if c in options.channels
        ]
    if KEY_DATES not in st.session_state:
        low, high = options.date_min, options.date_max
        recent = max(low, high - timedelta(days=settings().default_period_days - 1))
        first = min(max(_url_date(URL_FROM) or recent, low), high)
        last = max(min(_url_date(URL_TO) or high, high), low)
        st.session_state[KEY_DATES] = (first, last) if first <= last else (low, high)


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
    """Date range, region, store and channel pickers; the stores offered follow the regions picked.

    Their starting values are in session state (see :func:`preset_filters_from_url`), so the
    widgets take no ``value``/``default`` of their own.
    """
    sidebar = st.sidebar
    sidebar.header(labels["filters"])
    picked_dates = sidebar.date_input(
        labels["date_range"], min_value=options.date_min, max_value=options.date_max, key=KEY_DATES
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
        format_func=lambda store: f"{store_label(options.stores[store])} ({store})",
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


def export_bytes(frame: pd.DataFrame, file_format: str) -> bytes:
    """The file a download button serves: formula-safe CSV (with BOM) or XLSX."""
    build, _ = EXPORT_FORMATS[file_format]
    return build(frame)


def record_export(actor: str, page_key: str, table: str, rows: int, file_format: str) -> None:
    """Every export is in the audit log, so an admin can answer "who took this?"."""
    AuditLog().record(
        actor, "export", {"page": page_key, "table": table, "rows": rows, "format": file_format}
    )


class ExportRefused(PermissionError):
    """The session behind a download button has ended, or its role no longer opens the page."""


def audited_export(
    frame: pd.DataFrame,
    table: str,
    page_key: str,
    file_format: str,
    token: str,
    language: str,
    headers: Mapping[str, str] | None = None,
) -> Callable[[], bytes]:
    """The file of one download button, built only when it is clicked.

    Streamlit runs it outside the page script (the browser asks for the file), so it checks the
    sign-in token again, records the export and only then builds the file: no file exists before
    an audited click, whatever part of the page the browser asked for.
    """

    def build() -> bytes:
        principal = Accounts().principal(token)
        if principal is None or not principal.may_open(page_key):
            raise ExportRefused(f"no export of {table}: the session has ended or may not open {page_key}")
        record_export(principal.name, page_key, table, len(frame), file_format)
        return export_bytes(labels.readable(frame, language, headers), file_format)

    return build


def show_table(
    frame: pd.DataFrame,
    file_stem: str | None = None,
    page_key: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> None:
    """Every table of the explorer: ``frame`` as :func:`streamlit_app.labels.readable` writes it (words
    for codes, readable headers, rounded numbers, empty cells empty) in the page's language, with
    its CSV and Excel downloads when ``file_stem`` and ``page_key`` are given. The screen and the
    files come from the same call, so they cannot drift apart.

    ``headers`` overrides the labels module's header of a column for this table only (a column
    whose meaning the page sets, like the operational measure picked on the Journey page).
    """
    shown = labels.readable(frame, current_language(), headers)
    # Whether a row's scores rest on enough answers leads the table on screen: a grid narrower than
    # its columns scrolls the right-hand ones out of view, and "NPS 41.7" must not be read there
    # without its "Enough responses to report: No". The files keep the frame's order.
    marks = [
        name for column, name in zip(frame.columns, shown.columns, strict=True) if column in REPORTABILITY
    ]
    order = [*marks, *(name for name in shown.columns if name not in marks)] if marks else None
    st.dataframe(shown, hide_index=True, placeholder="", column_order=order)
    if file_stem and page_key:
        download_buttons(frame, file_stem, page_key, headers)


def chart_data(frame: pd.DataFrame, file_stem: str, page_key: str, text: Mapping[str, str]) -> None:
    """The numbers behind a chart, folded away (phones stay short), with their downloads."""
    with st.expander(text["show_data"]):
        show_table(frame, file_stem, page_key)


def download_buttons(
    frame: pd.DataFrame, file_stem: str, page_key: str, headers: Mapping[str, str] | None = None
) -> None:
    """CSV and Excel buttons for ``frame`` (already limited to the user's scope by the data access),
    with readable headers and values (:func:`streamlit_app.labels.readable`), audited at the click."""
    # The page's run has already asked the app state who holds this token (require_page), and the
    # click asks again (audited_export): a third lookup per table (a write transaction each, for the
    # session's last-seen time) only slowed every page by its tables.
    token = st.session_state.get(session.KEY_TOKEN)
    if not token:
        return
    language = current_language()
    text = COMMON_LABELS[language]
    with st.container(horizontal=True):
        for file_format, (_, mime) in EXPORT_FORMATS.items():
            st.download_button(
                text[f"download_{file_format}"],
                data=audited_export(frame, file_stem, page_key, file_format, token, language, headers),
                file_name=f"{file_stem}.{file_format}",
                mime=mime,
                key=f"download_{page_key}_{file_stem}_{file_format}",
                on_click="ignore",
                icon=":material/download:",
            )


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
