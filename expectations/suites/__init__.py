"""One suite per raw table (answers tables are judged through their response)."""

from expectations.suites import (
    app_events,
    crm_customers,
    kano_responses,
    pos_transaction_lines,
    pos_transactions,
    reference,
    reviews,
    survey_api_responses,
    survey_invitations,
    survey_responses,
)
from expectations.suites.base import TableSuite

SUITES: dict[str, TableSuite] = {
    suite.raw_table: suite
    for suite in (
        reference.STORES_SUITE,
        reference.STAFF_SUITE,
        crm_customers.SUITE,
        pos_transactions.SUITE,
        pos_transaction_lines.SUITE,
        survey_invitations.SUITE,
        survey_responses.QUALTRICS_SUITE,
        survey_responses.WJX_SUITE,
        survey_responses.SURVEY_FILES_SUITE,
        reviews.SUITE,
        kano_responses.SUITE,
        survey_api_responses.SUITE,
        app_events.SUITE,
    )
}
