"""The retention purge: personal data older than its period emptied where the warehouse keeps it.

Where: the raw and quarantine tables (the fields each source delivers, listed here once), and every
model dbt tags with ``meta.personal_data`` (``{day: <date column>, columns: {<column>: <field>},
sources: [...], where: <rows>}``; :func:`tagged_models` reads them from dbt's manifest), so a mart
that copies a comment is purged with its source. Views follow their tables. A field is set to NULL,
never the row deleted: a response purged of its comment still counts in NPS and in the comment
counts' sentiment. Quarantined rows are deleted whole once a steward's rejection, or the delivery
of a row nobody decided on, is older than the quarantine's periods: they count in nothing.

Each pass is recorded in ``dq.retention_purges`` (what, where, up to which day, how many rows; no
value), zero counts included, so the Steward page shows that retention ran as well as what it took.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb

from cxlake.contracts import QUARANTINE_SCHEMA, RAW_SCHEMA, RAW_TABLES
from cxlake.privacy.retention import SURVEY_SOURCES, RetentionPolicy

COMMENT_QUESTIONS = (
    "(survey_id, question_id) in"
    " (select survey_id, question_id from raw.survey_questions where role = 'comment')"
)
QUARANTINE_FIELDS = ("quarantine_after_decision", "quarantine_undecided")


@dataclass(frozen=True)
class TaggedColumn:
    """A column holding one kind of personal data, dated by ``day``, in rows ``where`` selects."""

    relation: str  # schema.table
    column: str
    field: str
    day: str
    sources: tuple[str, ...]
    where: str | None = None


@dataclass(frozen=True)
class QuarantineDecisionAge:
    """A quarantined row's latest decision, as the purge needs it."""

    raw_table: str
    source_file: str
    source_row: int
    decision: str
    decided_on: date


@dataclass(frozen=True)
class PurgeRecord:
    field: str
    relation: str
    column: str | None
    cutoff: date
    rows: int


def raw_columns() -> list[TaggedColumn]:
    """The fields each source delivers, in raw and quarantine (dated by their delivery day)."""
    tagged = []
    for table in RAW_TABLES:
        if table.source in SURVEY_SOURCES and table.follows is None:
            fields = {"ip_address": "ip_addresses", "metadata": "respondent_metadata"}
            where = None
        elif table.source in SURVEY_SOURCES:
            fields, where = {"answer": "comments"}, COMMENT_QUESTIONS
        elif table.source == "reviews":
            fields, where = {"content": "comments", "user_nickname": "reviewer_nicknames"}, None
        else:
            continue
        for schema in (RAW_SCHEMA, QUARANTINE_SCHEMA):
            tagged += [
                TaggedColumn(
                    f"{schema}.{table.name}", column, field, "_partition_date", (table.source,), where
                )
                for column, field in fields.items()
            ]
    return tagged


def tagged_models(manifest: Mapping) -> list[TaggedColumn]:
    """Columns of dbt models (tables, not views) tagged ``meta.personal_data`` in their yml."""
    tagged = []
    for node in manifest.get("nodes", {}).values():
        config = node.get("config") or {}
        tag = (config.get("meta") or {}).get("personal_data") or (node.get("meta") or {}).get("personal_data")
        if node.get("resource_type") != "model" or not tag or config.get("materialized") == "view":
            continue
        relation = f"{node['schema']}.{node.get('alias') or node['name']}"
        sources = tuple(tag.get("sources") or SURVEY_SOURCES)
        tagged += [
            TaggedColumn(relation, column, field, tag["day"], sources, tag.get("where"))
            for column, field in tag["columns"].items()
        ]
    return tagged


def read_manifest(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def purge(
    connection: duckdb.DuckDBPyConnection,
    policy: RetentionPolicy,
    as_of: date,
    columns: Sequence[TaggedColumn],
    decisions: Iterable[QuarantineDecisionAge] = (),
    *,
    dry_run: bool = False,
) -> list[PurgeRecord]:
    """Empty every tagged column in rows older than its period and delete the quarantined rows past
    theirs, in one transaction; record the pass unless ``dry_run`` (which only counts)."""
    existing = _existing_relations(connection)
    records: list[PurgeRecord] = []
    connection.begin()
    try:
        for tagged in columns:
            cutoff = policy.cutoff(tagged.field, tagged.sources, as_of)
            # A table built before its model named the column (the next run rebuilds it) is skipped.
            if cutoff is None or not {tagged.column, tagged.day} <= existing.get(tagged.relation, set()):
                continue
            records.append(_purge_column(connection, tagged, cutoff, dry_run=dry_run))
        records += _purge_quarantine(connection, policy, as_of, list(decisions), existing, dry_run=dry_run)
        if not dry_run:
            _record(connection, as_of, records)
        connection.commit()
    except BaseException:
        connection.rollback()
        raise
    return records


def _purge_column(
    connection: duckdb.DuckDBPyConnection, tagged: TaggedColumn, cutoff: date, *, dry_run: bool
) -> PurgeRecord:
    schema, table = tagged.relation.split(".", 1)
    target, column, day = f"{_quoted(schema)}.{_quoted(table)}", _quoted(tagged.column), _quoted(tagged.day)
    condition = f"{column} is not null and {day} < ?" + (f" and ({tagged.where})" if tagged.where else "")
    if dry_run:
        (rows,) = connection.execute(f"select count(*) from {target} where {condition}", [cutoff]).fetchone()
    else:
        (rows,) = connection.execute(
            f"update {target} set {column} = null where {condition}", [cutoff]
        ).fetchone()
    return PurgeRecord(tagged.field, tagged.relation, tagged.column, cutoff, int(rows))


def _purge_quarantine(
    connection: duckdb.DuckDBPyConnection,
    policy: RetentionPolicy,
    as_of: date,
    decisions: list[QuarantineDecisionAge],
    existing: dict[str, set[str]],
    *,
    dry_run: bool,
) -> list[PurgeRecord]:
    """Rejected rows past ``after_decision`` and undecided rows past ``undecided``, each with the
    answers that follow its response (they share its file and line)."""
    followers = {t.follows: t.name for t in RAW_TABLES if t.follows}
    records = []
    for table in (t for t in RAW_TABLES if t.judged):
        own = f"{QUARANTINE_SCHEMA}.{table.name}"
        if own not in existing:
            continue
        follower = f"{QUARANTINE_SCHEMA}.{followers.get(table.name)}"
        tables = [own, follower] if follower in existing else [own]
        mine = [d for d in decisions if d.raw_table == table.name]
        if policy.quarantine_after_decision is not None:
            cutoff = as_of - timedelta(days=policy.quarantine_after_decision)
            rejected = [
                (d.source_file, d.source_row)
                for d in mine
                if d.decision == "reject" and d.decided_on < cutoff
            ]
            records += _delete_rows(
                connection, tables, "quarantine_after_decision", cutoff, rejected, dry_run
            )
        if policy.quarantine_undecided is not None:
            cutoff = as_of - timedelta(days=policy.quarantine_undecided)
            decided = [(d.source_file, d.source_row) for d in mine]
            records += _delete_rows(
                connection, tables, "quarantine_undecided", cutoff, decided, dry_run, keep=True
            )
    return records


def _delete_rows(
    connection: duckdb.DuckDBPyConnection,
    tables: list[str],
    field: str,
    cutoff: date,
    keys: list[tuple[str, int]],
    dry_run: bool,
    *,
    keep: bool = False,
) -> list[PurgeRecord]:
    """Delete from ``tables`` the rows (by file and line) in ``keys``; with ``keep``, instead those
    delivered before ``cutoff`` that are not in ``keys``."""
    connection.execute("create or replace temp table purge_keys (source_file varchar, source_row integer)")
    if keys:
        connection.executemany("insert into purge_keys values (?, ?)", keys)
    listed = (
        "exists (select 1 from purge_keys as k"
        " where k.source_file = t._source_file and k.source_row = t._source_row)"
    )
    condition, parameters = (f"t._partition_date < ? and not {listed}", [cutoff]) if keep else (listed, [])
    verb = "select count(*) from" if dry_run else "delete from"
    records = []
    for relation in tables:
        schema, table = relation.split(".", 1)
        target = f"{_quoted(schema)}.{_quoted(table)}"
        (rows,) = connection.execute(f"{verb} {target} as t where {condition}", parameters).fetchone()
        records.append(PurgeRecord(field, relation, None, cutoff, int(rows)))
    connection.execute("drop table purge_keys")
    return records


def _record(connection: duckdb.DuckDBPyConnection, as_of: date, records: list[PurgeRecord]) -> None:
    if not records:  # a policy that keeps everything purges nothing and has nothing to say
        return
    connection.execute("create schema if not exists dq")
    connection.execute(
        "create table if not exists dq.retention_purges (purged_at timestamptz not null, as_of date not null,"
        " field varchar not null, relation varchar not null, column_name varchar, cutoff date not null,"
        " rows_purged bigint not null)"
    )
    at = datetime.now(UTC)
    connection.executemany(
        "insert into dq.retention_purges values (?, ?, ?, ?, ?, ?, ?)",
        [(at, as_of, r.field, r.relation, r.column, r.cutoff, r.rows) for r in records],
    )


def _existing_relations(connection: duckdb.DuckDBPyConnection) -> dict[str, set[str]]:
    """schema.table -> its columns, for the base tables of the database."""
    rows = connection.execute(
        "select c.table_schema || '.' || c.table_name, c.column_name from information_schema.columns c"
        " join information_schema.tables t using (table_catalog, table_schema, table_name)"
        " where t.table_type = 'BASE TABLE' and c.table_catalog = current_database()"
    ).fetchall()
    columns: dict[str, set[str]] = {}
    for relation, column in rows:
        columns.setdefault(relation, set()).add(column)
    return columns


def _quoted(identifier: str) -> str:
    """Identifiers come from the registry above and the project's own yml, never from input."""
    return '"' + identifier.replace('"', '""') + '"'
