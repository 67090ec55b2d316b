"""raw.kano_responses: one row per response to the Kano survey (its answers are judged through it).

The Kano loader (assets/ingestion/kano.py) adds ``_kano_problem``: every answer to a Kano question
that is not one of the five answers of ``kano.answers`` (cxlake/config/insights.yaml), named by
question id, feature and side with the answer as delivered. Such a response is quarantined with its
answers: a pair off the scale has no category, and a respondent who typed into the matrix is not
answering the scale. The other rules are those every survey response meets (survey_responses.py):
a unique response id, submitted on the partition's day, ids and lengths.
"""

import great_expectations.expectations as gxe

from expectations.suites import survey_responses
from expectations.suites.base import (
    RuleContext,
    TableSuite,
    id_rules,
    in_set,
    is_false,
    length_rules,
    not_null,
    rule,
    timestamp_rules,
)


def expectations(context: RuleContext) -> list:
    return [
        not_null("response_id", "response_id is present"),
        is_false("response_key_repeated", "survey_id + response_id is unique (first kept)"),
        is_false("response_loaded_before", "the response was not loaded from another day"),
        in_set("status", survey_responses.STATUSES, "status is ok, preview, test, imported, spam or offline"),
        *timestamp_rules("submitted_at", "submitted_at"),
        rule(
            gxe.ExpectColumnValuesToBeNull(column="_kano_problem"),
            "every Kano answer is one of the five answers of kano.answers (cxlake/config/insights.yaml)",
        ),
        *id_rules("survey_id", "response_id"),
        *length_rules(survey_responses.limits(context)),
    ]


SUITE = TableSuite(
    "kano_responses",
    survey_responses.derive,
    expectations,
    record_key=survey_responses.response_key,
    record_key_sql=survey_responses.RESPONSE_KEY_SQL,
)
