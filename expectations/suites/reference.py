"""raw.reference_stores and raw.reference_staff: the roster, one row per store / staff per delivery."""

import pandas as pd

from expectations.suites.base import RuleContext, TableSuite, in_set, is_false, not_null, repeated


def per_delivery(frame, column):
    return frame[column].fillna("") + "@" + frame["_partition_date"].astype(str)


def derive_stores(frame, context: RuleContext):
    return frame.assign(
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
    ]


def derive_staff(frame, context: RuleContext):
    return frame.assign(staff_in_delivery_repeated=repeated(per_delivery(frame, "staff_id")))


def staff_expectations(context: RuleContext) -> list:
    return [
        not_null("staff_id", "staff_id is present"),
        is_false("staff_in_delivery_repeated", "a staff member appears once per delivery (first kept)"),
        in_set("store_id", context.store_ids, "store_id is in the roster"),
    ]


STORES_SUITE = TableSuite("reference_stores", derive_stores, store_expectations)
STAFF_SUITE = TableSuite("reference_staff", derive_staff, staff_expectations)
