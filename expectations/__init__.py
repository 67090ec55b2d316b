"""Great Expectations suites, one per raw table, run as blocking Dagster asset checks.

The quality gate (suites, quarantine, validation history) is built on the load audit that
assets/ingestion already keeps: dq.load_audit with rows_in = rows_loaded + rows_quarantined.
"""
