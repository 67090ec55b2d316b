"""raw.pos_transactions: one row per POS transaction."""

from cxlake import landing
from expectations.suites.base import (
    RuleContext,
    TableSuite,
    already_loaded,
    between,
    column_limits,
    id_rules,
    in_set,
    is_false,
    length_rules,
    not_null,
    numbers,
    repeated,
    text_lengths,
    timestamp_checks,
    timestamp_rules,
)

CHANNELS = ("in_store", "app", "delivery")
MAX_AMOUNT_CNY = 10_000
MAX_WAIT_SECONDS = 4 * 3600
LIMITS = column_limits(landing.TRANSACTIONS.columns, {})


def derive(frame, context: RuleContext):
    frame = text_lengths(timestamp_checks(frame, "ordered_at", context, "ordered_at"), LIMITS)
    ready = timestamp_checks(frame, "ready_at", context, "ready_at")["ready_at_ts"]
    amount = numbers(frame["amount"])
    refund = numbers(frame["refund_amount"].where(frame["refund_amount"].fillna("") != "", "0"))
    return frame.assign(
        wait_seconds=(ready - frame["ordered_at_ts"]).dt.total_seconds(),
        amount_number=amount,
        refund_share=refund / amount.where(amount > 0),
        transaction_loaded_before=already_loaded(frame["transaction_id"], context),
        transaction_id_repeated=repeated(frame["transaction_id"]),
    )


def expectations(context: RuleContext) -> list:
    return [
        not_null("transaction_id", "transaction_id is present"),
        is_false("transaction_id_repeated", "transaction_id is unique (first kept)"),
        is_false("transaction_loaded_before", "transaction_id was not loaded from another day"),
        not_null("store_id", "store_id is present"),
        in_set("store_id", context.store_ids, "store_id is in the roster"),
        in_set("staff_id", context.staff_ids, "staff_id is in the roster"),
        in_set("channel", CHANNELS, "channel is in_store, app or delivery"),
        *timestamp_rules("ordered_at", "ordered_at"),
        between("wait_seconds", 0, MAX_WAIT_SECONDS, "ready_at is 0-4 h after ordered_at"),
        not_null("amount_number", "amount is a number"),
        between("amount_number", 0, MAX_AMOUNT_CNY, "amount is 0-10,000 CNY"),
        between("refund_share", 0, 1, "refund_amount is 0..amount"),
        in_set("is_remake", ("0", "1"), "is_remake is 0 or 1"),
        *id_rules("transaction_id", "store_id", "staff_id", "customer_id"),
        *length_rules(LIMITS),
    ]


SUITE = TableSuite(
    "pos_transactions",
    derive,
    expectations,
    record_key=lambda f: f["transaction_id"],
    record_key_sql="transaction_id",
)
