"""raw.reference_stores and raw.reference_staff: the roster, one row per store / staff per delivery."""

import pandas as pd

from cxlake import landing
from expectations.suites.base import (
    NAME_CHARS,
    RuleContext,
    TableSuite,
    column_limits,
    id_rules,
    in_set,
    is_false,
    length_rules,
    not_null,
    repeated,
    text_lengths,
)

STORE_LIMITS = column_limits(
    landing.STORES.columns, {"store_name": NAME_CHARS, "region_name": NAME_CHARS, "city": NAME_CHARS}
)
STAFF_LIMITS = column_limits(landing.STAFF.columns, {"staff_name": NAME_CHARS, "role": NAME_CHARS})


def per_delivery(frame, column):
    return frame[column].fillna("") + "@" + frame["_partition_date"].astype(str)


def derive_stores(frame, context: RuleContext):
    return text_lengths(frame, STORE_LIMITS).assign(
        store_in_delivery_repeated=repeated(per_delivery(frame, "store_id")),
        opened_on_value=pd.to_datetime(frame["opened_on"], errors="coerce", format="ISO8601"),
    )


def store_expectations(context: RuleContext) -> list:
    return [
        not_null("store_id", "store_id is present"),
        is_false("store_in_delivery_repeated", "a store appears once per delivery (first kept)"),
        not_null("region_id", "region_id is present"),
        not_null("store_name", "store_name is present"),
        not_null("opened_on_value", "opened_on is a date"),
        *id_rules("store_id", "region_id"),
        *length_rules(STORE_LIMITS),
    ]


def derive_staff(frame, context: RuleContext):
    frame = text_lengths(frame, STAFF_LIMITS)
    return frame.assign(staff_in_delivery_repeated=repeated(per_delivery(frame, "staff_id")))


def staff_expectations(context: RuleContext) -> list:
    return [
        not_null("staff_id", "staff_id is present"),
        is_false("staff_in_delivery_repeated", "a staff member appears once per delivery (first kept)"),
        in_set("store_id", context.store_ids, "store_id is in the roster"),
        *id_rules("staff_id", "store_id"),
        *length_rules(STAFF_LIMITS),
    ]


STORES_SUITE = TableSuite("reference_stores", derive_stores, store_expectations)
STAFF_SUITE = TableSuite("reference_staff", derive_staff, staff_expectations)
