"""raw.crm_customers: customers created or changed, one row per customer per delivery."""

import pandas as pd

from cxlake import landing
from expectations.suites.base import (
    NAME_CHARS,
    WARN,
    RuleContext,
    TableSuite,
    column_limits,
    id_rules,
    in_set,
    is_false,
    length_rules,
    matches,
    not_null,
    repeated,
    text_lengths,
    timestamp_checks,
)

TIERS = ("basic", "silver", "gold", "black")
MAINLAND_MOBILE = r"^1[3-9]\d{9}$"
EMAIL = r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$"
LIMITS = column_limits(
    landing.CUSTOMERS.columns, {"name": NAME_CHARS, "email": NAME_CHARS, "city": NAME_CHARS}
)


def derive(frame, context: RuleContext):
    signup = pd.to_datetime(frame["signup_date"], errors="coerce", format="ISO8601")
    frame = text_lengths(timestamp_checks(frame, "updated_at", context, "updated_at"), LIMITS)
    return frame.assign(
        customer_in_partition_repeated=repeated(
            frame["customer_id"] + "@" + frame["_partition_date"].astype(str)
        ),
        signup_date_value=signup,
        signed_up_after_delivery=signup > pd.to_datetime(frame["_partition_date"]),
    )


def expectations(context: RuleContext) -> list:
    return [
        not_null("customer_id", "customer_id is present"),
        is_false("customer_in_partition_repeated", "a customer appears once per delivery (first kept)"),
        in_set("member_tier", TIERS, "member_tier is basic, silver, gold or black"),
        not_null("signup_date_value", "signup_date is a date"),
        in_set("signed_up_after_delivery", [False], "signup_date is not after the delivery day"),
        in_set("home_store_id", context.store_ids, "home_store_id is in the roster"),
        # contact details: a malformed phone or e-mail is reported, the customer still loads
        matches("phone", MAINLAND_MOBILE, "phone is an 11-digit mainland mobile number", WARN),
        matches("email", EMAIL, "email looks like an address", WARN),
        not_null("updated_at_ts", "updated_at is a timestamp"),
        *id_rules("customer_id", "home_store_id"),
        *length_rules(LIMITS),
    ]


SUITE = TableSuite("crm_customers", derive, expectations)
