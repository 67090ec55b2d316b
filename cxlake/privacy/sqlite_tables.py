"""Erasing a person from a SQLite store: the app state (cases, their notes and events, owed messages,
quarantine decisions' corrections, the audit log's query texts) or any other SQLite file under the home.

Every table's every text column is read through a pre-filter (a Python function registered on the
connection) and rewritten row by row (see :mod:`cxlake.privacy.records`); a text that is a JSON
object or list (a case's context, an audit event's detail, a message's payload) is rewritten object by
object and dumped again, so it stays JSON.

Three tables are append-only by trigger (case_events, audit_log, quarantine_decisions): a row, once
written, stays as written. Erasure is the one exception the law requires: in the same transaction
that rewrites their rows, the triggers are dropped and re-created exactly as they were (their SQL
read from ``sqlite_master``), so no other writer ever sees the log unguarded. An audit event whose
statement text changed loses its SHA-256 (a hash of a text quoting a phone confirms a guess of it)
and says it was erased. ``secure_delete`` zeroes what the old rows held, and a VACUUM afterwards
leaves no free page with their text in the file.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from contextlib import closing
from pathlib import Path

from cxlake.privacy.records import Keys, erased_json, erased_value, is_theirs

_BUSY_TIMEOUT_SECONDS = 30.0
SQLITE_MAGIC = b"SQLite format 3\x00"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _text_columns(connection: sqlite3.Connection, table: str) -> list[str]:
    """Columns declared as text (or without a type, which may hold text)."""
    return [
        name
        for _, name, declared, *_ in connection.execute(f"pragma table_info({_quote(table)})").fetchall()
        if not declared or any(word in declared.upper() for word in ("TEXT", "CHAR", "CLOB"))
    ]


def _erased_json(text: str, keys: Keys, erasure_id: str, *, theirs: bool) -> str | None:
    """A JSON object/list text with the person erased from it, or None when it is no such text."""
    if not text.lstrip().startswith(("{", "[")):
        return None
    try:
        document = json.loads(text)
    except json.JSONDecodeError:
        return None
    new, changed = erased_json(document, keys, theirs=theirs)
    if not changed:
        return text
    if isinstance(new, dict) and "sql_sha256" in new:
        new["sql_sha256"] = None
        new["erased_by"] = erasure_id
    return json.dumps(new, ensure_ascii=False, sort_keys=isinstance(document, dict) and _sorted(document))


def _sorted(document: dict) -> bool:
    return list(document) == sorted(document)


def _erased_row(keys: Keys, values: list[object], columns: list[str], erasure_id: str) -> list[object] | None:
    """The row's values once the person is erased (JSON texts object by object), or None."""
    theirs = is_theirs(keys, values, columns)
    new_values: list[object] = []
    for value, column in zip(values, columns, strict=True):
        if (
            isinstance(value, str)
            and (as_json := _erased_json(value, keys, erasure_id, theirs=theirs)) is not None
        ):
            new_values.append(as_json)
        else:
            new_values.append(erased_value(keys, value, theirs=theirs, column=column))
    return new_values if new_values != values else None


def erase_in_sqlite(path: Path, keys: Keys, erasure_id: str, *, apply: bool) -> Counter[str]:
    """Rows holding the person per table of the SQLite file at ``path``, rewritten when ``apply``."""
    counts: Counter[str] = Counter()
    with closing(sqlite3.connect(path, timeout=_BUSY_TIMEOUT_SECONDS, isolation_level=None)) as connection:
        matcher = keys.person.matcher
        linked = keys.linked
        connection.create_function(
            "cx_may_hold",
            1,
            lambda value: (
                isinstance(value, str)
                and (value.strip() in linked or matcher.may_mention(value) or any(k in value for k in linked))
            ),
            deterministic=True,
        )
        connection.execute("pragma secure_delete = on")
        connection.execute("begin immediate")
        try:
            tables = [
                name
                for (name,) in connection.execute(
                    "select name from sqlite_master"
                    " where type = 'table' and name not like 'sqlite_%' order by name"
                ).fetchall()
            ]
            for table in tables:
                columns = _text_columns(connection, table)
                if not columns:
                    continue
                where = " or ".join(f"cx_may_hold({_quote(c)})" for c in columns)
                names = ", ".join(_quote(c) for c in columns)
                rows = connection.execute(
                    f"select rowid, {names} from {_quote(table)} where {where}"
                ).fetchall()
                updates = []
                for rowid, *values in rows:
                    new = _erased_row(keys, values, columns, erasure_id)
                    if new is not None:
                        updates.append([*new, rowid])
                if not updates:
                    continue
                counts[table] += len(updates)
                if apply:
                    _update_guarded(connection, table, columns, updates)
            connection.execute("commit")
        except BaseException:
            connection.execute("rollback")
            raise
        if apply and counts:
            connection.execute("vacuum")
    return counts


def _update_guarded(
    connection: sqlite3.Connection, table: str, columns: list[str], updates: list[list]
) -> None:
    """Update rows of ``table``, lifting its triggers for the statement and putting them back as they were."""
    triggers = connection.execute(
        "select name, sql from sqlite_master where type = 'trigger' and tbl_name = ?", [table]
    ).fetchall()
    for name, _ in triggers:
        connection.execute(f"drop trigger {_quote(name)}")
    assignments = ", ".join(f"{_quote(c)} = ?" for c in columns)
    connection.executemany(f"update {_quote(table)} set {assignments} where rowid = ?", updates)
    for _, sql in triggers:
        connection.execute(sql)


def is_sqlite(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(len(SQLITE_MAGIC)) == SQLITE_MAGIC
    except OSError:
        return False
