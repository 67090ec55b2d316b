"""raw.survey_api_responses: one row per response version (survey x response x last-modified time).

The file exports' rules (expectations.suites.survey_responses) apply with two differences that
come from pulling by last-modified time:
- the key is the version, not the response: an edited response pulled again is a new row, and
  only the same version delivered twice (a cursor lost or reset) is held back as a repeat;
- the partition is the day of the pull, so the submission time need not fall on it: it must be a
  timestamp in the past, and the last-modified time must lie between it and the end of the pull's day.
"""

from expectations.suites.base import (
    RuleContext,
    TableSuite,
    already_loaded,
    between,
    id_rules,
    in_set,
    is_false,
    length_rules,
    not_null,
    repeated,
    text_lengths,
    timestamp_checks,
)
from expectations.suites.survey_responses import STATUSES, answer_rules, limits

VERSION_DAYS_BACK = -100_000  # how far before the pull a version may have been modified: any time


def version_key(frame):
    return (
        frame["survey_id"].fillna("")
        + ":"
        + frame["response_id"].fillna("")
        + "@"
        + frame["modified_at"].fillna("")
    )


VERSION_KEY_SQL = (
    "coalesce(survey_id, '') || ':' || coalesce(response_id, '') || '@' || coalesce(modified_at, '')"
)


def derive(frame, context: RuleContext):
    frame = timestamp_checks(frame, "submitted_at", context, "submitted_at")
    frame = timestamp_checks(frame, "modified_at", context, "modified_at")
    limited = limits(context) | {"modified_at": limits(context)["submitted_at"]}
    frame = text_lengths(frame, {c: n for c, n in limited.items() if not c.startswith("_")})
    return frame.assign(
        _longest_answer_length=frame["_longest_answer"],
        _longest_question_length=frame["_longest_question"],
        modified_before_submitted=frame["modified_at_ts"] < frame["submitted_at_ts"],
        version_repeated=repeated(version_key(frame)),
        version_loaded_before=already_loaded(version_key(frame), context),
    )


def expectations(context: RuleContext) -> list:
    return [
        not_null("response_id", "response_id is present"),
        is_false("version_repeated", "survey_id + response_id + modified_at is unique (first kept)"),
        is_false("version_loaded_before", "the response version was not loaded from another day"),
        in_set("status", STATUSES, "status is ok, preview, test, imported, spam or offline"),
        not_null("submitted_at_ts", "submitted_at is a timestamp"),
        is_false("submitted_at_in_future", "submitted_at is not in the future"),
        not_null("modified_at_ts", "modified_at is a timestamp"),
        between("modified_at_day_offset", VERSION_DAYS_BACK, 0, "modified_at is not after the pull's day"),
        is_false("modified_before_submitted", "modified_at is not before submitted_at"),
        *answer_rules(context),
        *id_rules("survey_id", "response_id"),
        *length_rules(limits(context) | {"modified_at": limits(context)["submitted_at"]}),
    ]


SUITE = TableSuite(
    "survey_api_responses", derive, expectations, record_key=version_key, record_key_sql=VERSION_KEY_SQL
)
