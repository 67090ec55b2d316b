"""raw.qualtrics_responses and raw.wjx_responses: one row per survey response.

The scores are judged through the survey's mapping: the survey loader adds, per response,
_nps_score, _csat_min, _csat_max, _ces_score (mapped or numeric answers), _unscorable_answers
(scored questions whose answer is neither in the scale nor a number), _store_id, _comment_length.
"""

from expectations.suites.base import (
    RuleContext,
    TableSuite,
    already_loaded,
    between,
    in_set,
    is_false,
    not_null,
    repeated,
    timestamp_checks,
    timestamp_rules,
)

STATUSES = ("ok", "preview", "test", "imported", "spam", "offline")


def response_key(frame):
    return frame["survey_id"].fillna("") + ":" + frame["response_id"].fillna("")


def derive(frame, context: RuleContext):
    frame = timestamp_checks(frame, "submitted_at", context, "submitted_at")
    return frame.assign(
        response_key_repeated=repeated(response_key(frame)),
        response_loaded_before=already_loaded(response_key(frame), context),
    )


def expectations(context: RuleContext) -> list:
    return [
        not_null("response_id", "response_id is present"),
        is_false("response_key_repeated", "survey_id + response_id is unique (first kept)"),
        is_false("response_loaded_before", "the response was not loaded from another day"),
        in_set("status", STATUSES, "status is ok, preview, test, imported, spam or offline"),
        *timestamp_rules("submitted_at", "submitted_at"),
        between("_nps_score", 0, 10, "NPS answer is 0-10"),
        between("_csat_min", 1, 5, "CSAT answers are 1-5"),
        between("_csat_max", 1, 5, "CSAT answers are 1-5"),
        between("_ces_score", 1, 7, "CES answer is 1-7"),
        between("_unscorable_answers", 0, 0, "every NPS/CSAT/CES answer maps to a score"),
        in_set("_store_id", context.store_ids, "store_id is in the roster"),
        between(
            "_comment_length",
            0,
            context.max_text_length,
            f"comment is at most {context.max_text_length} chars",
        ),
    ]


QUALTRICS_SUITE = TableSuite("qualtrics_responses", derive, expectations, record_key=response_key)
WJX_SUITE = TableSuite("wjx_responses", derive, expectations, record_key=response_key)
