"""The landing contract: which CSV file each source delivers and its columns, and the fields of the
ordering app's JSON-lines events.

One definition for both sides of the contract: the demo generator writes these headers and the
ingestion assets expect them (docs/landing.md describes the same in prose).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DeliveredCsv:
    source: str
    file_name: str
    columns: tuple[str, ...]


STORES = DeliveredCsv(
    "reference", "stores.csv", ("store_id", "store_name", "region_id", "region_name", "city", "opened_on")
)
STAFF = DeliveredCsv("reference", "staff.csv", ("staff_id", "store_id", "staff_name", "role", "hired_on"))
CUSTOMERS = DeliveredCsv(
    "crm",
    "customers.csv",
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
)
TRANSACTIONS = DeliveredCsv(
    "pos",
    "transactions.csv",
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
)
TRANSACTION_LINES = DeliveredCsv(
    "pos",
    "transaction_lines.csv",
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
)
INVITATIONS = DeliveredCsv(
    "survey_invitations",
    "invitations.csv",
    (
        "invitation_id",
        "survey_id",
        "transaction_id",
        "customer_id",
        "store_id",
        "invite_channel",
        "invited_at",
    ),
)


# The ordering app's events (landing/app_events/<day>/events_<HH>.jsonl): one JSON object per line,
# one file per hour of the day the collector received the events in (docs/landing.md).
APP_EVENTS_SOURCE = "app_events"
APP_EVENT_FIELDS = (
    "event_id",
    "occurred_at",
    "received_at",
    "device_id",
    "member_id",
    "session_hint",
    "event_type",
    "page",
    "item",
    "price",
    "order_id",
    "dwell_ms",
    "store_id",
    "error_code",
    "app_version",
)
