"""raw.survey_invitations: one row per survey invitation."""

from cxlake import landing
from expectations.suites.base import (
    RuleContext,
    TableSuite,
    already_loaded,
    column_limits,
    id_rules,
    in_set,
    is_false,
    length_rules,
    not_null,
    repeated,
    text_lengths,
    timestamp_checks,
    timestamp_rules,
)

INVITE_CHANNELS = ("sms", "app_push", "receipt_qr", "email")
LIMITS = column_limits(landing.INVITATIONS.columns, {})


def derive(frame, context: RuleContext):
    frame = text_lengths(timestamp_checks(frame, "invited_at", context, "invited_at"), LIMITS)
    return frame.assign(
        invitation_loaded_before=already_loaded(frame["invitation_id"], context),
        invitation_id_repeated=repeated(frame["invitation_id"]),
    )


def expectations(context: RuleContext) -> list:
    return [
        not_null("invitation_id", "invitation_id is present"),
        is_false("invitation_id_repeated", "invitation_id is unique (first kept)"),
        is_false("invitation_loaded_before", "invitation_id was not loaded from another day"),
        not_null("transaction_id", "transaction_id is present"),
        in_set("survey_id", context.survey_ids, "survey_id has a survey mapping"),
        in_set("store_id", context.store_ids, "store_id is in the roster"),
        in_set("invite_channel", INVITE_CHANNELS, "invite_channel is sms, app_push, receipt_qr or email"),
        *timestamp_rules("invited_at", "invited_at"),
        *id_rules("invitation_id", "survey_id", "transaction_id", "customer_id", "store_id"),
        *length_rules(LIMITS),
    ]


SUITE = TableSuite(
    "survey_invitations",
    derive,
    expectations,
    record_key=lambda f: f["invitation_id"],
    record_key_sql="invitation_id",
)
