"""The raw tables: columns as delivered (all text; staging casts), plus lineage columns."""

from __future__ import annotations

from dataclasses import dataclass

LINEAGE_COLUMNS = ("_partition_date", "_source_file", "_source_row", "_loaded_at")


@dataclass(frozen=True)
class RawTable:
    name: str
    columns: tuple[str, ...]
    description: str


REFERENCE_STORES = RawTable(
    "reference_stores",
    ("store_id", "store_name", "region_id", "region_name", "city", "opened_on"),
    "Store roster as delivered.",
)
REFERENCE_STAFF = RawTable(
    "reference_staff",
    ("staff_id", "store_id", "staff_name", "role", "hired_on"),
    "Staff roster as delivered.",
)
CRM_CUSTOMERS = RawTable(
    "crm_customers",
    (
        "customer_id",
        "name",
        "phone",
        "email",
        "member_tier",
        "signup_date",
        "city",
        "home_store_id",
        "updated_at",
    ),
    "CRM customers created or changed each day.",
)
POS_TRANSACTIONS = RawTable(
    "pos_transactions",
    (
        "transaction_id",
        "store_id",
        "staff_id",
        "customer_id",
        "channel",
        "ordered_at",
        "ready_at",
        "amount",
        "refund_amount",
        "is_remake",
    ),
    "POS transactions.",
)
POS_TRANSACTION_LINES = RawTable(
    "pos_transaction_lines",
    (
        "transaction_id",
        "line_number",
        "product_id",
        "product_name",
        "category",
        "quantity",
        "unit_price",
        "line_amount",
    ),
    "POS transaction lines.",
)
SURVEY_INVITATIONS = RawTable(
    "survey_invitations",
    (
        "invitation_id",
        "survey_id",
        "transaction_id",
        "customer_id",
        "store_id",
        "invite_channel",
        "invited_at",
    ),
    "Survey invitations sent after transactions.",
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
