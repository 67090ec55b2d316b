"""Minimisation (issue 19): past raw, an IP address travels only as a keyed pseudonym, made with a
key kept in the home and never written into SQL; what needs only to compare addresses (duplicates,
integrity's devices) still can."""

from __future__ import annotations

import re
import stat

import duckdb

from cxlake.privacy.pseudonym import KEY_FILE, pseudonym, pseudonym_key

IPV4 = re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}\b")


def test_a_pseudonym_is_keyed_stable_and_empty_for_no_address(tmp_path):
    key = pseudonym_key(tmp_path)
    assert stat.S_IMODE((tmp_path / KEY_FILE).stat().st_mode) == 0o600
    assert pseudonym_key(tmp_path) == key  # made once, then read
    assert pseudonym("1.2.3.4", key) == pseudonym(" 1.2.3.4 ", key)
    assert pseudonym("1.2.3.4", key) != pseudonym("1.2.3.5", key)
    assert pseudonym("1.2.3.4", key) != pseudonym("1.2.3.4", b"another home's key")
    assert re.fullmatch(r"pn:[0-9a-f]{32}", pseudonym("1.2.3.4", key))
    assert pseudonym("", key) is None and pseudonym(None, key) is None


def test_no_table_past_raw_holds_an_address_and_pseudonyms_match_raw(demo_build):
    key = pseudonym_key(demo_build.home)
    # the warehouse holds every table past raw (the serving copy a subset of its marts, dq and quarantine)
    with duckdb.connect(str(demo_build.warehouse), read_only=True) as connection:
        columns = connection.execute(
            "select c.table_schema, c.table_name, c.column_name from information_schema.columns c"
            " join information_schema.tables t using (table_catalog, table_schema, table_name)"
            " where t.table_type = 'BASE TABLE' and c.data_type = 'VARCHAR'"
            " and c.table_schema not in ('raw', 'quarantine', 'dq')"
        ).fetchall()
        leaks = []
        for schema, table, column in columns:
            values = connection.execute(
                f'select "{column}" from "{schema}"."{table}" where regexp_matches("{column}",'
                r" '(^|[^0-9.])\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}([^0-9.]|$)') limit 3"
            ).fetchall()
            leaks += [f"{schema}.{table}.{column}: {value}" for (value,) in values if IPV4.search(value)]
        raw = dict(
            connection.execute(
                "select survey_id || ':' || response_id, ip_address from raw.qualtrics_responses"
                " where ip_address is not null"
            ).fetchall()
        )
        pseudonyms = dict(
            connection.execute(
                "select response_key, ip_pseudonym from intermediate.int_surveys__responses_unioned"
                " where source_system = 'qualtrics'"
            ).fetchall()
        )
        catalog = " ".join(
            sql for (sql,) in connection.execute("select sql from duckdb_views()").fetchall() if sql
        )
    assert leaks == []
    assert len(raw) > 50
    assert all(pseudonyms[response] == pseudonym(address, key) for response, address in raw.items())
    assert key.decode() not in catalog
