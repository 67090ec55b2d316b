"""The landing contract for CSV deliveries: which file each source delivers and its columns.

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
