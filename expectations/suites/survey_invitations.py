"""raw.survey_invitations: one row per survey invitation."""

from expectations.suites.base import (
    RuleContext,
    TableSuite,
    already_loaded,
    in_set,
    is_false,
    not_null,
    repeated,
    timestamp_checks,
    timestamp_rules,
)

INVITE_CHANNELS = ("sms", "app_push", "receipt_qr", "email")


def derive(frame, context: RuleContext):
    frame = timestamp_checks(frame, "invited_at", context, "invited_at")
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
    ]


SUITE = TableSuite("survey_invitations", derive, expectations, record_key=lambda f: f["invitation_id"])
