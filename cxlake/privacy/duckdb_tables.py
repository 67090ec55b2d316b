"""Erasing a person from a DuckDB database (the warehouse, the serving copy): every base table, every
text column, every schema (raw, quarantine, staging, marts, enrich, dq, the cases snapshot).

Rows are found in SQL with a pre-filter that over-matches (a customer id or e-mail as a substring, a
phone's digits among a value's digits after full-width digits and Chinese numerals are folded, a
linked transaction or response id as a whole value), then judged and rewritten in Python, one row
at a time by ``rowid`` (see :mod:`cxlake.privacy.records`). Views need nothing: they read the tables.
Text lists (``VARCHAR[]``, e.g. a comment's words) are judged element by element. A database that
changed is then copied into a fresh file (:func:`compact`), so no freed block keeps the old values.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import duckdb

from cxlake.access.pii import CHINESE_DIGITS
from cxlake.privacy.records import Keys, erased_record

_FOLD_FROM = "０１２３４５６７８９" + "".join(CHINESE_DIGITS)
_FOLD_TO = "0123456789" + "".join(CHINESE_DIGITS.values())
_PHONE_GAP = "[^0-9A-Za-z]{0,3}"
_TEXT = "VARCHAR"
_TEXT_LIST = "VARCHAR[]"


@dataclass(frozen=True)
class TableColumns:
    schema: str
    table: str
    columns: tuple[tuple[str, str], ...]  # (name, type), text and text-list columns only

    @property
    def qualified(self) -> str:
        return f"{_quote(self.schema)}.{_quote(self.table)}"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def text_tables(connection: duckdb.DuckDBPyConnection) -> list[TableColumns]:
    """Every base table of the database with its text and text-list columns (tables without any skipped)."""
    rows = connection.execute(
        """
        select c.table_schema, c.table_name, c.column_name, c.data_type
        from information_schema.columns as c
        join information_schema.tables as t
            on t.table_catalog = c.table_catalog
            and t.table_schema = c.table_schema
            and t.table_name = c.table_name
        where t.table_type = 'BASE TABLE' and c.table_catalog = current_database()
            and c.data_type in (?, ?)
        order by c.table_schema, c.table_name, c.ordinal_position
        """,
        [_TEXT, _TEXT_LIST],
    ).fetchall()
    tables: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for schema, table, column, data_type in rows:
        tables.setdefault((schema, table), []).append((column, data_type))
    return [TableColumns(s, t, tuple(cols)) for (s, t), cols in tables.items()]


def _phone_pattern(phone: str) -> str:
    """An RE2 pattern for ``phone``'s digits, each in any width or as a Chinese numeral, with up to
    three separators between them (what :class:`~cxlake.privacy.identity.Matcher` then confirms)."""
    classes = {digit: {digit} for digit in "0123456789"}
    for wide, narrow in zip(_FOLD_FROM, _FOLD_TO, strict=True):
        classes[narrow].add(wide)
    return _PHONE_GAP.join("[" + "".join(sorted(classes[d])) + "]" for d in phone)


def _prefilter(table: TableColumns, keys: Keys) -> tuple[str, list[object]]:
    """A WHERE clause (and its parameters) true for every row that may hold the person: the row's
    text values are joined into one text (a unit separator between them), so each test reads every
    row once, not once per column."""
    person = keys.person
    values = [
        _quote(name) if data_type == _TEXT else f"array_to_string({_quote(name)}, chr(31))"
        for name, data_type in table.columns
    ]
    row = f"concat_ws(chr(31), {', '.join(values)})"
    terms: list[str] = []
    params: list[object] = []
    for customer_id in person.customer_ids:
        terms.append(f"strpos({row}, ?) > 0")
        params.append(customer_id)
    for email in person.emails:
        terms.append(f"strpos(lower({row}), ?) > 0")
        params.append(email)
    for phone in person.phones:
        terms.append(f"regexp_matches({row}, ?)")
        params.append(_phone_pattern(phone))
    if keys.linked:
        names = [name for name, data_type in table.columns if data_type == _TEXT]
        if names:
            terms.append(f"list_has_any(?, [{', '.join(f'trim({_quote(n)})' for n in names)}])")
            params.append(sorted(keys.linked))
        if {"survey_id", "response_id"} <= set(names):
            terms.append("list_contains(?, survey_id || ':' || response_id)")
            params.append(sorted(keys.linked))
    return " or ".join(terms) or "false", params


def _erased_row(keys: Keys, values: list[object], table: TableColumns) -> list[object] | None:
    """The row's text values once the person is erased (lists element by element), or None."""
    flat: list[object] = []
    names: list[str] = []
    shape: list[int | None] = []  # None: a text value; n: a list of n elements
    for value, (name, data_type) in zip(values, table.columns, strict=True):
        if data_type == _TEXT_LIST and value is not None:
            flat += list(value)
            names += [name] * len(value)
            shape.append(len(value))
        else:
            flat.append(value)
            names.append(name)
            shape.append(None)
    new = erased_record(keys, flat, names)
    if new is None:
        return None
    result: list[object] = []
    at = 0
    for size in shape:
        if size is None:
            # a value that was the detail itself becomes '', as an empty field of an erased file loads
            result.append(new[at])
            at += 1
        else:
            result.append(list(new[at : at + size]))
            at += size
    return result


def erase_in_database(connection: duckdb.DuckDBPyConnection, keys: Keys, *, apply: bool) -> Counter[str]:
    """Rows holding the person per schema (``raw``, ``marts``...), rewritten when ``apply``."""
    counts: Counter[str] = Counter()
    for table in text_tables(connection):
        where, params = _prefilter(table, keys)
        names = ", ".join(_quote(name) for name, _ in table.columns)
        candidates = connection.execute(
            f"select rowid, {names} from {table.qualified} where {where}", params
        ).fetchall()
        updates = []
        for rowid, *values in candidates:
            new = _erased_row(keys, values, table)
            if new is not None:
                updates.append([*new, rowid])
        if not updates:
            continue
        counts[table.schema] += len(updates)
        if apply:
            assignments = ", ".join(f"{_quote(name)} = ?" for name, _ in table.columns)
            connection.executemany(f"update {table.qualified} set {assignments} where rowid = ?", updates)
    return counts


def rerecord_checksums(
    connection: duckdb.DuckDBPyConnection, changed: list[tuple[str, str, str]], *, apply: bool
) -> int:
    """Point the load audit's rows for rewritten landing files at their new checksums, so neither the
    landing sensor nor the checksum dedup takes an erased file for a new delivery. ``changed`` is
    (file as the audit names it, old sha256, new sha256); returns the audit rows that name one."""
    exists = connection.execute(
        "select count(*) from information_schema.tables"
        " where table_schema = 'dq' and table_name = 'load_audit'"
    ).fetchone()[0]
    if not exists or not changed:
        return 0
    rows = 0
    for file, old, new in changed:
        rows += connection.execute(
            "select count(*) from dq.load_audit where file = ? and checksum = ?", [file, old]
        ).fetchone()[0]
        if apply:
            connection.execute(
                "update dq.load_audit set checksum = ? where file = ? and checksum = ?", [new, file, old]
            )
    return rows


def _literal(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def compact(path: Path) -> None:
    """Rewrite the database at ``path`` into a fresh file and rename it into place.

    An UPDATE leaves the old values in blocks DuckDB has freed but not overwritten: ``strings`` on
    the file still shows the erased phone. Copying the database (tables, views, constraints) into a
    new file writes only live rows; the copy keeps the old file's mode and replaces it atomically.
    """
    temp = path.with_name(f".{path.name}.{os.getpid()}.compacting")
    temp.unlink(missing_ok=True)
    try:
        with duckdb.connect() as connection:
            # ATTACH takes no parameters: the paths are quoted as SQL string literals
            connection.execute(f"attach {_literal(path)} as erased_source (read_only)")
            connection.execute(f"attach {_literal(temp)} as erased_target")
            connection.execute("copy from database erased_source to erased_target")
            connection.execute("detach erased_target")
            connection.execute("detach erased_source")
        os.chmod(temp, path.stat().st_mode & 0o7777)
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)
