"""The raw tables: columns as delivered (all text; staging casts), plus lineage columns."""

from __future__ import annotations

from dataclasses import dataclass

from cxlake import landing

LINEAGE_COLUMNS = ("_partition_date", "_source_file", "_source_row", "_loaded_at")


@dataclass(frozen=True)
class RawTable:
    name: str
    columns: tuple[str, ...]
    description: str


REFERENCE_STORES = RawTable("reference_stores", landing.STORES.columns, "Store roster as delivered.")
REFERENCE_STAFF = RawTable("reference_staff", landing.STAFF.columns, "Staff roster as delivered.")
CRM_CUSTOMERS = RawTable(
    "crm_customers", landing.CUSTOMERS.columns, "CRM customers created or changed each day."
)
POS_TRANSACTIONS = RawTable("pos_transactions", landing.TRANSACTIONS.columns, "POS transactions.")
POS_TRANSACTION_LINES = RawTable(
    "pos_transaction_lines", landing.TRANSACTION_LINES.columns, "POS transaction lines."
)
SURVEY_INVITATIONS = RawTable(
    "survey_invitations", landing.INVITATIONS.columns, "Survey invitations sent after transactions."
)
SURVEY_RESPONSE_COLUMNS = (
    "survey_id",
    "response_id",
    "layout",
    "submitted_at",
    "started_at",
    "duration_seconds",
    "status",
    "ip_address",
    "metadata",
)
SURVEY_ANSWER_COLUMNS = (
    "survey_id",
    "response_id",
    "submitted_at",
    "status",
    "question_id",
    "question_text",
    "answer",
)
QUALTRICS_RESPONSES = RawTable("qualtrics_responses", SURVEY_RESPONSE_COLUMNS, "Qualtrics responses, parsed.")
QUALTRICS_ANSWERS = RawTable("qualtrics_answers", SURVEY_ANSWER_COLUMNS, "Qualtrics answers, long form.")
WJX_RESPONSES = RawTable("wjx_responses", SURVEY_RESPONSE_COLUMNS, "问卷星 responses, parsed.")
WJX_ANSWERS = RawTable("wjx_answers", SURVEY_ANSWER_COLUMNS, "问卷星 answers, long form.")
# Survey exports of any tool `cxlake read-survey` reads, dropped in landing/surveys/: the file's survey
# mapping names its tool and what its questions mean, so one pair of tables takes every layout.
SURVEY_RESPONSES = RawTable(
    "survey_responses", SURVEY_RESPONSE_COLUMNS, "Survey export responses of any tool, parsed."
)
SURVEY_ANSWERS = RawTable(
    "survey_answers", SURVEY_ANSWER_COLUMNS, "Survey export answers of any tool, long form."
)
KANO_RESPONSES = RawTable("kano_responses", SURVEY_RESPONSE_COLUMNS, "Kano survey responses, parsed.")
KANO_ANSWERS = RawTable("kano_answers", SURVEY_ANSWER_COLUMNS, "Kano survey answers, long form.")
REVIEWS = RawTable(
    "reviews",
    (
        "platform",
        "review_id",
        "shop_id",
        "shop_name",
        "brand",
        "store_id",
        "rating",
        "posted_at",
        "content",
        "order_id",
        "user_nickname",
        "fetched_at",
    ),
    "Review posts fetched from review platforms.",
)
# The survey API source keeps every version of a response: an edit pulled later is a new row.
SURVEY_API_RESPONSES = RawTable(
    "survey_api_responses",
    (*SURVEY_RESPONSE_COLUMNS, "modified_at"),
    "Survey API responses, one row per version (response x last-modified time).",
)
SURVEY_API_ANSWERS = RawTable(
    "survey_api_answers",
    (*SURVEY_ANSWER_COLUMNS, "modified_at"),
    "Survey API answers, long form, per response version.",
)
# The ordering app's behaviour events, one row per delivered JSON line (a re-sent event is a second
# row until the gate holds it back by its event_id).
APP_EVENTS = RawTable(
    "app_events",
    landing.APP_EVENT_FIELDS,
    "Ordering-app events (page views, searches, cart, checkout, orders, errors) as the collector delivered.",
)
