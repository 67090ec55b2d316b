"""raw.app_events: one row per event the ordering app sent (the collector's JSON lines).

The partition is the day the collector *received* an event: a phone that was offline sends its
events hours later, and a device clock can be hours off, so only ``received_at`` must fall on the
partition's day. ``occurred_at`` (the device's clock) must parse; an event received more than a
week after it says it happened, or claiming to happen a day after it was received, is reported
(warn) and loaded: the pipeline corrects each device's clock from its events (see
``int_app__events_clock_corrected``). An event the app re-sent (same ``event_id``) loads once.
"""

from cxlake import landing
from expectations.suites.base import (
    WARN,
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

EVENT_TYPES = (
    "page_view",
    "search",
    "add_to_cart",
    "remove_from_cart",
    "checkout_start",
    "order_placed",
    "app_error",
)
PAGES = ("home", "menu", "search", "item", "cart", "checkout", "payment", "order_status")
MAX_PRICE_CNY = 10_000
MAX_DWELL_MS = 6 * 3600 * 1000  # a page left open for hours is an app in the background, not reading
LATE_HOURS = 7 * 24
AHEAD_HOURS = 24
LIMITS = column_limits(landing.APP_EVENT_FIELDS, {})


def derive(frame, context: RuleContext):
    frame = timestamp_checks(frame, "received_at", context, "received_at")
    occurred = timestamp_checks(frame, "occurred_at", context, "occurred_at")["occurred_at_ts"]
    frame = text_lengths(frame.assign(occurred_at_ts=occurred), LIMITS)
    return frame.assign(
        received_after_hours=(frame["received_at_ts"] - occurred).dt.total_seconds() / 3600,
        price_number=numbers(frame["price"]),
        dwell_ms_number=numbers(frame["dwell_ms"]),
        price_not_a_number=frame["price"].notna() & numbers(frame["price"]).isna(),
        dwell_ms_not_a_number=frame["dwell_ms"].notna() & numbers(frame["dwell_ms"]).isna(),
        event_id_repeated=repeated(frame["event_id"]),
        event_loaded_before=already_loaded(frame["event_id"], context),
    )


def expectations(context: RuleContext) -> list:
    return [
        not_null("event_id", "event_id is present"),
        is_false("event_id_repeated", "event_id is unique (a re-sent event loads once)"),
        is_false("event_loaded_before", "event_id was not loaded from another day"),
        not_null("device_id", "device_id is present"),
        in_set("event_type", EVENT_TYPES, "event_type is one the app sends"),
        in_set("page", PAGES, "page is a page of the app", severity=WARN),
        in_set("store_id", context.store_ids, "store_id is in the roster"),
        not_null("occurred_at_ts", "occurred_at is a timestamp"),
        *timestamp_rules("received_at", "received_at"),
        between(
            "received_after_hours",
            -AHEAD_HOURS,
            LATE_HOURS,
            "received at most 7 days after occurred_at and not a day before it (device clock)",
            severity=WARN,
        ),
        is_false("price_not_a_number", "price, when present, is a number"),
        between("price_number", 0, MAX_PRICE_CNY, "price is 0-10,000 CNY"),
        is_false("dwell_ms_not_a_number", "dwell_ms, when present, is a number"),
        between("dwell_ms_number", 0, MAX_DWELL_MS, "dwell_ms is 0-6 hours"),
        *id_rules("event_id", "device_id", "member_id", "session_hint", "item", "order_id", "store_id"),
        *id_rules("error_code", "app_version"),
        *length_rules(LIMITS),
    ]


SUITE = TableSuite(
    "app_events",
    derive,
    expectations,
    record_key=lambda f: f["event_id"],
    record_key_sql="event_id",
)
