"""The case workbench on the Feedback page: a manager's own open cases first, the case beside the
customer's context, one click per step, every step in the case store and the audit log, and never
another store's case, whatever id the link carries.

Cases are opened by the real CaseStore with the shipped alert rules on the conftest's serving copy
(plus marts.fct_feedback_items for the cases' feedback), with clocks set relative to now:
  A  S001 score 0 (very low, high severity), opened 3 h ago: acknowledge overdue by 2 h
  B  S001 score 6 (detractor), opened 10 min ago, a phone number written in the comment
  X  S001 score 5 (detractor), opened 5 h ago and escalated: owned by regional_manager:R01
  D  S002 score 3 (detractor): another store
  H  S001 score 1, feedback 10 days old: historical
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from cxlake.access.audit import AuditLog
from cxlake.access.roles import Principal, Scope
from cxlake.alerts.cases import CaseError, CaseStore
from cxlake.alerts.config import load_alert_config
from cxlake.app_state import AppState
from streamlit_app import data_access, labels
from streamlit_app.data_access import Filters
from streamlit_app.widgets import KEY_LANGUAGE

PAGE = Path(__file__).resolve().parents[2] / "streamlit_app" / "views" / "feedback.py"

WRITTEN_PHONE = "13912345678"
B_COMMENT = f"等了四十分钟，太慢了！请回电{WRITTEN_PHONE}"
# The conftest's member behind S001's answer 7 (its transaction TS001-007).
B_CUSTOMER = {"customer_name": "顾客01007", "phone": "13800001007", "email": "member01007@example.com"}
B_STAFF = "王小明"  # only in marts.fct_feedback_items: the page reads the serving copy for it
STORE_NAMES = {"S001": "人民广场店", "S002": "徐家汇店"}
REGIONS = {"S001": "R01", "S002": "R01"}

FEEDBACK_ITEMS_DDL = """
create table marts.fct_feedback_items (
    feedback_key varchar, source varchar, survey_id varchar, response_id varchar, platform varchar,
    review_id varchar, feedback_at timestamp, feedback_date date, store_id varchar, store_name varchar,
    region_id varchar, region_name varchar, channel varchar, transaction_id varchar, ordered_at timestamp,
    amount decimal(12, 2), staff_id varchar, staff_name varchar, customer_id varchar, member_tier varchar,
    tenure_days bigint, visits_90d bigint, spend_90d decimal(38, 2), past_nps_scores varchar,
    nps_score integer, lowest_csat_score integer, lowest_csat_touchpoint varchar, rating integer,
    text varchar, sentiment_label varchar, aspects varchar
)
"""


def item(store: str, index: int, score: int, text: str, feedback_at: datetime) -> dict[str, object]:
    """A survey item as fct_feedback_items has it (the conftest's response ``<store>-<index>``)."""
    key = f"{store}-{index:03d}"
    return {
        "source": "survey",
        "survey_id": "SV_cxlakeApp",
        "response_id": key,
        "feedback_at": feedback_at,
        "store_id": store,
        "store_name": STORE_NAMES[store],
        "region_id": REGIONS[store],
        "region_name": "华东",
        "channel": "in_store",
        "transaction_id": f"T{key}",
        "customer_id": f"C{key}",
        "member_tier": "gold" if index == 7 else "basic",
        "tenure_days": 400,
        "visits_90d": 4,
        "spend_90d": 180.0,
        "past_nps_scores": "9,8",
        "amount": 45.0,
        "nps_score": score,
        "text": text,
        "sentiment_label": "negative",
    }


@pytest.fixture
def cases_home(serving_home: Path) -> dict[str, str]:
    """The five cases (letter -> case id) in the app state under ``serving_home``."""
    now = datetime.now(UTC)
    config = load_alert_config()
    store = CaseStore(AppState(serving_home / "app_state.sqlite"))
    plan = {
        "X": (item("S001", 8, 5, "排队太久", now - timedelta(hours=5, minutes=30)), now - timedelta(hours=5)),
        "A": (
            item("S001", 9, 0, "咖啡是凉的", now - timedelta(hours=3, minutes=10)),
            now - timedelta(hours=3),
        ),
        "B": (item("S001", 7, 6, B_COMMENT, now - timedelta(minutes=20)), now - timedelta(minutes=10)),
        "D": (item("S002", 5, 3, "小程序闪退", now - timedelta(hours=1)), now - timedelta(minutes=50)),
        "H": (item("S001", 19, 1, "很久以前的差评", now - timedelta(days=10)), now - timedelta(hours=1)),
    }
    ids = {}
    for letter, (feedback, opened_at) in plan.items():
        (case,) = store.open_cases([feedback], config, opened_at).opened
        ids[letter] = case.case_id
    # Only X is past its 2 h acknowledge time 2 h 50 min ago (A's 1 h runs out 2 h ago): X escalates.
    escalated = store.escalate_overdue(config, now - timedelta(hours=2, minutes=50))
    assert [case.case_id for case in escalated] == [ids["X"]]
    with duckdb.connect(str(serving_home / "serving.duckdb")) as connection:
        connection.execute(FEEDBACK_ITEMS_DDL)
        feedback = plan["B"][0]
        connection.execute(
            "insert into marts.fct_feedback_items (feedback_key, source, survey_id, response_id, feedback_at,"
            " store_id, store_name, region_id, channel, transaction_id, ordered_at, amount, staff_name,"
            " member_tier, tenure_days, visits_90d, spend_90d, past_nps_scores, nps_score, text)"
            " values (?, 'survey', 'SV_cxlakeApp', ?, ?, 'S001', ?, 'R01', 'in_store', ?, ?, 45, ?, 'gold',"
            " 400, 4, 180, '9,8', 6, ?)",
            [
                f"survey:SV_cxlakeApp:{feedback['response_id']}",
                feedback["response_id"],
                datetime(2026, 3, 5, 14, 20),
                STORE_NAMES["S001"],
                feedback["transaction_id"],
                datetime(2026, 3, 5, 13, 55),
                B_STAFF,
                B_COMMENT,
            ],
        )
    return ids


def store_of(home: Path) -> CaseStore:
    return CaseStore(AppState(home / "app_state.sqlite"))


def listed(at: AppTest) -> list[str]:
    """Case ids of the cards on the page, top to bottom (each card has one "Open case" button)."""
    return [button.key.removeprefix("open_") for button in at.button if button.key.startswith("open_")]


def shown_text(at: AppTest) -> str:
    """Every word the page drew outside the recent-feedback table."""
    parts = []
    for kind in ("title", "subheader", "markdown", "text", "caption", "info", "warning", "error", "success"):
        parts += [str(element.value) for element in at.get(kind)]
    parts += [button.label for button in at.button]
    return "\n".join(parts)


def open_case_page(signed_in_page, home: Path, role: str, scope_id: str | None, case_id: str) -> AppTest:
    """The page as /feedback?case=<case_id> opens it (the link messages carry)."""
    at = signed_in_page(home, role, scope_id)
    at.query_params["case"] = case_id
    return at.run()


# --- The list -------------------------------------------------------------------------------------


def test_a_store_manager_sees_only_their_stores_cases_their_own_first(
    serving_home, cases_home, signed_in_page
):
    at = signed_in_page(serving_home, "store_manager", "S001")

    assert not at.exception
    ids = cases_home
    # Own (store_manager:S001) open cases by urgency, then X (escalated to the region): without the
    # own-first rule X, overdue by 3 h, would come before B.
    assert listed(at) == [ids["A"], ids["B"], ids["X"]]
    assert ids["D"] not in shown_text(at) and "小程序闪退" not in shown_text(at)
    subheaders = [element.value for element in at.subheader]
    assert subheaders[:2] == ["My open cases (2)", "Other open cases (1)"]
    assert "1 historical cases (older feedback loaded later) are hidden." in [c.value for c in at.caption]


def test_each_card_shows_severity_rule_status_and_its_clocks(serving_home, cases_home, signed_in_page):
    at = signed_in_page(serving_home, "store_manager", "S001")

    markdown = [element.value for element in at.markdown]
    assert "**Very low score \\(0–2\\)**  \n人民广场店 · Score 0 / 10 · " in "\n".join(markdown)
    # A opened 3 h ago with 1 h to acknowledge and 48 h to resolve; the minutes tick while the test
    # runs, and 44 h 59 min left reads 1 d 20 h.
    clocks_a = next(line for line in markdown if line.startswith("Acknowledge: :red[**overdue by 2 h"))
    assert re.fullmatch(
        r"Acknowledge: :red\[\*\*overdue by 2 h [01] min\*\*\] · Resolve: 1 d 2[01] h left", clocks_a
    )
    badges = [element.value for element in at.markdown if "-badge[" in element.value]
    assert ":red-badge[High]" in badges and ":violet-badge[Escalated]" in badges


def test_historical_cases_are_apart_and_shown_on_request(serving_home, cases_home, signed_in_page):
    at = signed_in_page(serving_home, "store_manager", "S001")
    at.toggle(key="case_show_historical").set_value(True).run()

    assert listed(at)[-1] == cases_home["H"]
    assert [element.value for element in at.subheader][-2] == "Historical (1)"


def test_the_search_keeps_the_cases_whose_comment_has_the_words(serving_home, cases_home, signed_in_page):
    at = signed_in_page(serving_home, "store_manager", "S001")
    at.text_input(key="case_search").input("太慢").run()

    assert listed(at) == [cases_home["B"]]
    at.text_input(key="case_search").input("小程序闪退").run()  # S002's comment: out of scope
    assert listed(at) == []
    assert "No case's comment contains “小程序闪退”." in [element.value for element in at.info]


def test_a_regional_manager_owns_the_escalated_case_and_sees_the_whole_region(
    serving_home, cases_home, signed_in_page
):
    at = signed_in_page(serving_home, "regional_manager", "R01")

    ids = cases_home
    assert listed(at)[0] == ids["X"]
    assert set(listed(at)) == {ids["X"], ids["A"], ids["B"], ids["D"]}


# --- A case by its link ---------------------------------------------------------------------------


def test_the_link_opens_the_case_with_the_customer_and_context(serving_home, cases_home, signed_in_page):
    at = open_case_page(signed_in_page, serving_home, "store_manager", "S001", cases_home["B"])

    assert not at.exception
    shown = shown_text(at)
    assert B_COMMENT in [element.value for element in at.text]  # whole and unmasked: they call back
    for value in (B_CUSTOMER["customer_name"], B_CUSTOMER["email"].replace(".", "\\.")):
        assert value in shown
    assert f"[{B_CUSTOMER['phone']}](tel:{B_CUSTOMER['phone']})" in shown
    context = next(element.value for element in at.markdown if element.value.startswith("**Tier**"))
    assert context.split("  \n") == [
        "**Tier**: Gold",
        "**Member for**: 13 months",
        "**Visits (90 days)**: 4",
        "**Spend (90 days)**: ¥180",
        "**Earlier scores**: 9, 8",
        "**Order**: TS001\\-007 · ¥45 · In store · Thu 2026-03-05 13:55",
        f"**Staff**: {B_STAFF}",
        "**Feedback**: Thu 2026-03-05 14:20",
        "**Comment reads**: Negative",
    ]
    assert "**Opened** · " in shown  # the history
    assert "Owner: Store manager S001" in [element.value for element in at.caption]
    buttons = {button.key for button in at.button}
    assert {
        f"case_{action}_{cases_home['B']}" for action in ("acknowledge", "contact", "resolve", "comment")
    } <= buttons


def test_open_case_puts_the_case_in_the_address_and_back_takes_it_out(
    serving_home, cases_home, signed_in_page
):
    case_id = cases_home["A"]
    at = signed_in_page(serving_home, "store_manager", "S001")
    assert f"case_acknowledge_{case_id}" not in {button.key for button in at.button}

    at.button(key=f"open_{case_id}").click().run()
    assert at.query_params["case"] == case_id
    assert f"case_acknowledge_{case_id}" in {button.key for button in at.button}
    assert "咖啡是凉的" in [element.value for element in at.text]

    at.button(key="case_close").click().run()
    assert "case" not in at.query_params
    assert f"case_acknowledge_{case_id}" not in {button.key for button in at.button}


@pytest.mark.parametrize(
    ("role", "scope_id", "letter", "secrets"),
    [
        # S002's case D: its comment and its member (the conftest's 顾客02005, 13800002005).
        ("store_manager", "S001", "D", ("小程序闪退", "顾客02005", "13800002005", "2005")),
        ("regional_manager", "R02", "B", (B_COMMENT, "太慢", "顾客01007", "13800001007", "1007")),
    ],
)
def test_another_stores_case_id_in_the_link_shows_nothing_of_it(
    serving_home, cases_home, signed_in_page, role, scope_id, letter, secrets
):
    other = cases_home[letter]
    at = open_case_page(signed_in_page, serving_home, role, scope_id, other)

    assert not at.exception
    assert [element.value for element in at.warning] == [
        "No such case. It may have been mistyped, or it belongs to a store outside yours."
    ]
    shown = shown_text(at)
    assert other not in shown and all(secret not in shown for secret in secrets)
    assert not [button for button in at.button if other in button.key]


def test_an_analyst_reads_the_case_masked_and_cannot_work_it(serving_home, cases_home, signed_in_page):
    at = open_case_page(signed_in_page, serving_home, "analyst", None, cases_home["B"])

    assert not at.exception
    shown = shown_text(at)
    assert "等了四十分钟，太慢了！请回电[phone]" in [element.value for element in at.text]
    assert WRITTEN_PHONE not in shown and B_CUSTOMER["phone"] not in shown
    assert "\\*\\*\\*\\*\\*\\*\\*1007" in shown and "顾\\*\\*" in shown
    assert "tel:" not in shown
    assert not [button for button in at.button if button.key.startswith(("case_acknowledge", "case_resolve"))]
    assert "Your role reads cases; the store and regional managers work them." in [
        c.value for c in at.caption
    ]


def test_the_workbench_reads_in_chinese(serving_home, cases_home, signed_in_page):
    at = signed_in_page(serving_home, "store_manager", "S001")
    at.session_state[KEY_LANGUAGE] = "zh"
    at.query_params["case"] = cases_home["X"]
    at.run()

    assert not at.exception
    assert [element.value for element in at.subheader][1:3] == ["我的待处理案例 (2)", "其他待处理案例 (1)"]
    assert "负责人：区域经理 R01" in [element.value for element in at.caption]
    assert any(re.match(r"确认时限：:red\[\*\*已超时 3 小时 \d+ 分钟", m.value) for m in at.markdown)


# --- Working a case -------------------------------------------------------------------------------


def test_acknowledge_from_the_page_changes_the_case_and_is_audited(serving_home, cases_home, signed_in_page):
    case_id = cases_home["A"]
    at = open_case_page(signed_in_page, serving_home, "store_manager", "S001", case_id)
    at.button(key=f"case_acknowledge_{case_id}").click().run()

    assert not at.exception
    case = store_of(serving_home).get(case_id)
    assert (case.status, case.acknowledged_by) == ("acknowledged", "store_manager")
    audit = AuditLog(AppState(serving_home / "app_state.sqlite")).events(action="case_acknowledged")
    assert [(event.actor, event.detail) for event in audit] == [("store_manager", {"case_id": case_id})]
    assert [element.value for element in at.success] == [f"Case {case_id} acknowledged."]
    # Acknowledged: the button is no longer offered, the acknowledge clock says it was late.
    assert f"case_acknowledge_{case_id}" not in {button.key for button in at.button}
    assert any(re.search(r"Acknowledge: :red\[\*\*done 2 h [01] min late", m.value) for m in at.markdown)


def test_called_back_records_the_method_and_acknowledges(serving_home, cases_home, signed_in_page):
    case_id = cases_home["B"]
    at = open_case_page(signed_in_page, serving_home, "store_manager", "S001", case_id)
    at.selectbox(key=f"case_contact_method_{case_id}").set_value("wechat")
    at.text_input(key=f"case_note_contact_{case_id}").input("已加微信道歉")
    at.button(key=f"case_contact_{case_id}").click().run()

    assert not at.exception
    case = store_of(serving_home).get(case_id)
    assert (case.status, case.customer_contacted, case.contact_method) == ("acknowledged", True, "wechat")
    events = store_of(serving_home).events(case_id)
    assert [(e.action, e.note, e.detail) for e in events][1] == (
        "contacted",
        "已加微信道歉",
        {"method": "wechat"},
    )
    audit = AuditLog(AppState(serving_home / "app_state.sqlite")).events(action="case_contacted")
    assert [event.detail for event in audit] == [{"case_id": case_id, "method": "wechat"}]
    assert "**Called back** (WeChat) · " in shown_text(at)


def test_resolve_with_a_code_closes_the_case_and_leaves_only_notes(serving_home, cases_home, signed_in_page):
    case_id = cases_home["B"]
    at = open_case_page(signed_in_page, serving_home, "store_manager", "S001", case_id)
    at.selectbox(key=f"case_resolution_{case_id}").set_value("apologised")
    at.text_input(key=f"case_note_resolve_{case_id}").input("电话致歉，送券")
    at.button(key=f"case_resolve_{case_id}").click().run()

    assert not at.exception
    case = store_of(serving_home).get(case_id)
    assert (case.status, case.resolution_code, case.resolved_by) == (
        "resolved",
        "apologised",
        "store_manager",
    )
    audit = AuditLog(AppState(serving_home / "app_state.sqlite")).events(action="case_resolved")
    assert [event.detail for event in audit] == [{"case_id": case_id, "code": "apologised"}]
    offered = {button.key for button in at.button if button.key.startswith("case_") and case_id in button.key}
    assert offered == {f"case_comment_{case_id}"}
    assert "电话致歉，送券" in [element.value for element in at.text]


def test_a_note_is_added_to_the_history(serving_home, cases_home, signed_in_page):
    case_id = cases_home["X"]
    at = open_case_page(signed_in_page, serving_home, "store_manager", "S001", case_id)
    at.text_area(key=f"case_note_comment_{case_id}").input("区域经理已知悉，明早回电")
    at.button(key=f"case_comment_{case_id}").click().run()

    assert not at.exception
    events = store_of(serving_home).events(case_id)
    assert [(event.action, event.actor, event.note) for event in events][-1] == (
        "commented",
        "store_manager",
        "区域经理已知悉，明早回电",
    )
    assert store_of(serving_home).get(case_id).status == "escalated"  # a note changes no state


# --- The data access behind it ----------------------------------------------------------------------


def test_the_data_access_never_hands_out_or_works_another_stores_case(serving_home, cases_home):
    s001 = Scope("store", ("S001",))
    other = cases_home["D"]

    assert data_access.scoped_case(s001, other, sees_pii=True) is None
    assert data_access.scoped_case_events(s001, other, sees_pii=True) == []
    assert {case.store_id for case in data_access.scoped_cases(s001, Filters(), sees_pii=True)} == {"S001"}
    assert data_access.scoped_cases(Scope("store", ()), Filters(), sees_pii=True) == []  # fails closed
    manager = Principal("store.s001", "store_manager", "S001")
    with pytest.raises(CaseError, match="no case"):
        data_access.acknowledge_case(manager, other)
    with pytest.raises(CaseError, match="reads cases but does not work them"):
        data_access.acknowledge_case(Principal("analyst", "analyst"), cases_home["A"])
    assert store_of(serving_home).get(other).status == "open"
    assert AuditLog(AppState(serving_home / "app_state.sqlite")).events(action="case_acknowledged") == []


def test_a_masked_comment_cannot_be_found_by_the_number_it_hides(serving_home, cases_home):
    everything = Scope.everything()

    assert data_access.scoped_cases(everything, Filters(), sees_pii=False, search=WRITTEN_PHONE) == []
    (found,) = data_access.scoped_cases(
        Scope("store", ("S001",)), Filters(), sees_pii=True, search=WRITTEN_PHONE
    )
    assert found.case_id == cases_home["B"]


@pytest.mark.parametrize(
    ("role", "scope_id", "position"),
    [
        ("store_manager", "S001", "store_manager:S001"),
        ("regional_manager", "R01", "regional_manager:R01"),
        ("cx_director", None, None),  # sees every case, owns none
        ("analyst", None, None),
    ],
)
def test_own_position_is_the_owner_key_of_a_managers_cases(role, scope_id, position):
    assert data_access.own_position(Principal("someone", role, scope_id)) == position


@pytest.mark.parametrize(
    ("due", "done", "language", "words", "breached"),
    [
        (timedelta(hours=1, minutes=20, seconds=59), None, "en", "1 h 20 min left", False),
        (-timedelta(hours=1, minutes=20), None, "en", "overdue by 1 h 20 min", True),
        (-timedelta(days=2, hours=3, minutes=5), None, "zh", "已超时 2 天 3 小时", True),
        (timedelta(seconds=30), None, "zh", "剩余 0 分钟", False),
        (timedelta(hours=1), timedelta(minutes=10), "en", "done in time", False),
        (timedelta(hours=1), timedelta(hours=1, minutes=45), "en", "done 45 min late", True),
    ],
)
def test_sla_clocks_read_as_time_left_or_overdue(due, done, language, words, breached):
    now = datetime(2026, 3, 5, 6, 0, tzinfo=UTC)
    done_at = now + done if done is not None else None
    assert labels.sla(now + due, done_at, now, language) == (words, breached)
