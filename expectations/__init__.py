"""The quality gate: one Great Expectations suite per raw table, run as blocking asset checks.

Row rules (a value out of range, a missing key, an unknown store) send the row to
``quarantine.<raw_table>``; partition rules (unreadable file, volume band, too many rows
quarantined) block the partition. Suites live in ``expectations/suites/``, one file per table.
"""
