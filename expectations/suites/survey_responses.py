"""raw.qualtrics_responses, raw.wjx_responses and raw.survey_responses (exports of any tool):
one row per survey response.

The scores are judged through the survey's mapping: the survey loader adds, per response,
_nps_score, _csat_min, _csat_max, _ces_score (mapped or numeric answers), _unscorable_answers
(scored questions whose answer is neither in the scale nor a number), _store_id, _comment_length,
and _longest_answer / _longest_question (the longest answer and question id or text of the response:
the answers table is judged through its response, so its text limits are judged here).

The reader adds _record_problem to a response whose row does not fit the export's header (more or
fewer fields, a value under no header, a field past the reader limit); the well-formed-record rule
every suite gets (expectations.suites.base.well_formed_record) quarantines it with its answers.
"""

from expectations.suites.base import (
    ID_CHARS,
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
    timestamp_rules,
)

STATUSES = ("ok", "preview", "test", "imported", "spam", "offline")
SHORT_COLUMNS = (
    "survey_id", "response_id", "layout", "submitted_at", "started_at", "duration_seconds", "status",
    "ip_address",
)  # fmt: skip
METADATA_CHARS = 20_000  # the response's metadata columns as JSON (问卷星 sends source URLs among them)


def limits(context: RuleContext) -> dict[str, int]:
    return dict.fromkeys(SHORT_COLUMNS, ID_CHARS) | {
        "metadata": METADATA_CHARS,
        "_longest_answer": context.max_text_length,
        "_longest_question": context.max_text_length,
    }


def response_key(frame):
    return frame["survey_id"].fillna("") + ":" + frame["response_id"].fillna("")


RESPONSE_KEY_SQL = "coalesce(survey_id, '') || ':' || coalesce(response_id, '')"


def derive(frame, context: RuleContext):
    frame = timestamp_checks(frame, "submitted_at", context, "submitted_at")
    frame = text_lengths(frame, {c: n for c, n in limits(context).items() if not c.startswith("_")})
    frame = frame.assign(
        _longest_answer_length=frame["_longest_answer"], _longest_question_length=frame["_longest_question"]
    )
    return frame.assign(
        response_key_repeated=repeated(response_key(frame)),
        response_loaded_before=already_loaded(response_key(frame), context),
    )


def answer_rules(context: RuleContext) -> list:
    """What the answers of a response must be, however the survey reached us (file, API, push)."""
    return [
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


def expectations(context: RuleContext) -> list:
    return [
        not_null("response_id", "response_id is present"),
        is_false("response_key_repeated", "survey_id + response_id is unique (first kept)"),
        is_false("response_loaded_before", "the response was not loaded from another day"),
        in_set("status", STATUSES, "status is ok, preview, test, imported, spam or offline"),
        *timestamp_rules("submitted_at", "submitted_at"),
        *answer_rules(context),
        *id_rules("survey_id", "response_id"),
        *length_rules(limits(context)),
    ]


QUALTRICS_SUITE = TableSuite(
    "qualtrics_responses", derive, expectations, record_key=response_key, record_key_sql=RESPONSE_KEY_SQL
)
WJX_SUITE = TableSuite(
    "wjx_responses", derive, expectations, record_key=response_key, record_key_sql=RESPONSE_KEY_SQL
)
SURVEY_FILES_SUITE = TableSuite(
    "survey_responses", derive, expectations, record_key=response_key, record_key_sql=RESPONSE_KEY_SQL
)
