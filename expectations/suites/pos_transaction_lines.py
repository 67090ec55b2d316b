"""raw.pos_transaction_lines: one row per transaction line."""

from cxlake import landing
from expectations.suites.base import (
    NAME_CHARS,
    RuleContext,
    TableSuite,
    already_loaded,
    between,
    column_limits,
    id_rules,
    is_false,
    length_rules,
    not_null,
    numbers,
    repeated,
    text_lengths,
)

LIMITS = column_limits(
    landing.TRANSACTION_LINES.columns, {"product_name": NAME_CHARS, "category": NAME_CHARS}
)


def line_key(frame):
    return frame["transaction_id"].fillna("") + "#" + frame["line_number"].fillna("")


LINE_KEY_SQL = "coalesce(transaction_id, '') || '#' || coalesce(line_number, '')"


def derive(frame, context: RuleContext):
    return text_lengths(frame, LIMITS).assign(
        line_key_repeated=repeated(line_key(frame)),
        line_number_value=numbers(frame["line_number"]),
        quantity_value=numbers(frame["quantity"]),
        unit_price_value=numbers(frame["unit_price"]),
        line_amount_value=numbers(frame["line_amount"]),
        line_loaded_before=already_loaded(line_key(frame), context),
    )


def expectations(context: RuleContext) -> list:
    return [
        not_null("transaction_id", "transaction_id is present"),
        is_false("line_key_repeated", "transaction_id + line_number is unique (first kept)"),
        is_false("line_loaded_before", "the line was not loaded from another day"),
        not_null("line_number_value", "line_number is a number"),
        between("line_number_value", 1, 200, "line_number is 1-200"),
        between("quantity_value", 1, 100, "quantity is 1-100"),
        not_null("unit_price_value", "unit_price is a number"),
        between("unit_price_value", 0, 1000, "unit_price is 0-1,000 CNY"),
        between("line_amount_value", 0, 100_000, "line_amount is not negative"),
        *id_rules("transaction_id", "product_id"),
        *length_rules(LIMITS),
    ]


SUITE = TableSuite(
    "pos_transaction_lines", derive, expectations, record_key=line_key, record_key_sql=LINE_KEY_SQL
)
