"""The one door to the serving copy: every read on behalf of a person goes through it.

DuckDB has no grants, so the rights are built, not granted. A door is a fresh in-memory DuckDB that
attaches the serving copy read-only under an alias no checked statement may name and defines, schema
by schema, one view per relation of the copy: the rows of the reader's scope only, personal data
masked unless the reader's role needs it. File access is then switched off and the configuration
locked. Whoever holds the door's connection (a page's question, the SQL box, the steward's
quarantine viewer, a command line) reads those views, so a query that forgets a condition gets the
reader's rows, not everyone's, and an unmasked phone number never reaches pandas.

What each schema shows:
- ``marts``: every mart, its rows filtered by the reader's scope column (``store_id`` /
  ``region_id``; marts modelled per scope, ``scope_level`` / ``scope_id``, show the chain's rows and
  those of the reader's regions and stores), names / phones / e-mails / customer text masked
  (:func:`cxlake.access.roles.column_sql`) but for a reader with PII rights in a follow-up view
  (:class:`Reader`). A mart without a column to scope it shows a narrow
  scope nothing: a half-built rule fails closed.
- ``dq`` and ``quarantine``: the quality gate's results and the rows it held back are raw and
  unscoped (a bad row's store id is itself suspect), so only a reader of the whole chain sees them;
  delivered text is masked by its column's kind (:func:`cxlake.access.roles.quarantine_kind`). A
  narrower reader sees of ``dq`` only which source's day was delivered and held back (the data
  gaps every page warns about), not what failed or why.
- ``peers``: what comparisons need from the stores a reader may not see, without their identity:
  ``peers.fct_nps_daily`` is the daily NPS mart of every store, the store id kept only on the
  reader's own rows and every other store known by a key that means nothing outside this door.
  The data-access layer turns it into places and aggregates; no store of another scope is named.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

import duckdb

from cxlake.access import pii
from cxlake.access.roles import (
    SCOPE_COLUMNS,
    STAFF_PII_COLUMNS,
    Principal,
    Scope,
    mart_pii_kind,
    masked_sql,
    quarantine_kind,
    scope_condition,
)
from cxlake.contracts import QUARANTINE_LINEAGE_COLUMNS

# Alias of the attached serving copy; the SQL box refuses every catalog-qualified name, so users
# cannot name it, and the underscore keeps it apart from any schema a user might guess.
SERVING_ALIAS = "_serving"
MARTS = "marts"
DQ = "dq"
QUARANTINE = "quarantine"
PEERS = "peers"
# What the explorer's pages read; the SQL box exposes the marts only.
PAGE_SCHEMAS = (MARTS, DQ, QUARANTINE, PEERS)
# What a publish copies from the warehouse into the serving copy (peers are views a door builds).
SERVED_SCHEMAS = (MARTS, DQ, QUARANTINE)
# Columns the gate adds to quarantined rows (the contract's): ours, never masked.
_QUARANTINE_LINEAGE = frozenset(QUARANTINE_LINEAGE_COLUMNS)
# Text the gate copied from the delivered rows into its results (a sample of the failing values).
_DQ_TEXT_COLUMNS = frozenset({"sample_values"})
# Marts that hold no store's data and mean the same to every reader (the calendar, the journey map,
# what the chain's customers expect of its features): every scope sees them whole.
SHARED_MARTS = frozenset({"dim_date", "dim_touchpoint", "mart_kano"})
# Reviews carry these: a competitor's review is scoped by the cities of the reader's stores.
_COMPETITOR_COLUMNS = frozenset({"is_competitor", "city"})
# What a reader of less than the whole chain sees of the quality gate's results: which source's
# day was delivered, validated and held back (the data gaps every page warns about), not what
# failed or why (samples of delivered values, reasons naming files and rows).
_DQ_FOR_NARROW_SCOPES = {
    "load_audit": frozenset({"source", "partition_date"}),
    "validation_runs": frozenset(
        {"run_id", "source", "raw_table", "partition_date", "validated_at", "blocked"}
    ),
}
# Marts modelled per scope (mart_key_drivers, mart_experience_value) carry these instead of store_id.
_SCOPE_LEVEL_COLUMNS = frozenset({"scope_level", "scope_id"})

# Applied after the views exist, in this order: the lock comes last so nothing can undo the rest.
LOCKDOWN = (
    "set enable_external_access = false",
    "set autoinstall_known_extensions = false",
    "set autoload_known_extensions = false",
    # The Python client would otherwise resolve an unknown table name to a DataFrame in scope.
    "set python_enable_replacements = false",
    "set lock_configuration = true",
)


@dataclass(frozen=True)
class Reader:
    """Who reads: the rows they may see and whether personal data reaches them unmasked.

    A customer's contact details (name, phone, e-mail, and those written into a comment or review)
    reach a reader with PII rights only in a follow-up view (``follow_up``: the closed loop's
    feedback cards and cases, the churn watch list), the places they call a customer back from;
    elsewhere (the Voice page, the Insights tabs' comments, Frontline) they stay masked for them
    too. Staff names need PII rights alone: managers thank and coach their staff by name.
    """

    scope: Scope
    sees_pii: bool = False
    follow_up: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.scope, Scope):
            raise TypeError(f"a Scope is required, got {type(self.scope).__name__}")

    @classmethod
    def of(cls, principal: Principal) -> Reader:
        return cls(principal.scope, principal.sees_pii)


@dataclass
class Door:
    """An open door: its connection (views only, locked down) and the relations it shows.

    ``relations`` maps (schema, name) to the column names, in table order, as the reader sees them.
    """

    connection: duckdb.DuckDBPyConnection
    relations: dict[tuple[str, str], list[str]]
    reader: Reader

    def columns(self, schema: str, table: str) -> list[str]:
        """The relation's columns; empty when the serving copy does not have it (yet)."""
        return self.relations.get((schema, table), [])

    def tables(self, schema: str) -> dict[str, list[str]]:
        """Name -> columns of the relations the door shows in ``schema``."""
        return {name: columns for (owner, name), columns in self.relations.items() if owner == schema}

    def close(self) -> None:
        with suppress(duckdb.Error):
            self.connection.close()

    def __enter__(self) -> Door:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


class ServingCopyMissing(FileNotFoundError):
    """Nothing is published yet."""


def open_door(
    serving: Path,
    reader: Reader,
    *,
    schemas: Iterable[str] = PAGE_SCHEMAS,
    config: Mapping[str, object] | None = None,
) -> Door:
    """A locked-down in-memory DuckDB showing ``serving`` as ``reader`` may see it.

    ``config`` is applied at connect (memory limit, threads, spill folder), before anything is read.
    Raises :class:`ServingCopyMissing` when ``serving`` is not a file.
    """
    serving = Path(serving)
    if not serving.is_file():
        raise ServingCopyMissing(f"no serving copy at {serving}; run `cxlake run` first")
    schemas = tuple(schemas)
    unknown = set(schemas) - set(PAGE_SCHEMAS)
    if unknown:
        raise ValueError(f"unknown schema(s) {sorted(unknown)}; a door shows {PAGE_SCHEMAS}")
    connection = duckdb.connect(":memory:", config=dict(config or {}))
    try:
        # ATTACH takes no bound parameters; the path is ours (settings), still quoted as a literal.
        connection.execute(f"attach {literal(str(serving))} as {SERVING_ALIAS} (read_only)")
        pii.register(connection)
        relations = _define_views(connection, reader, schemas)
        connection.execute(";\n".join(LOCKDOWN))
    except BaseException:
        connection.close()
        raise
    return Door(connection, relations, reader)


def served_relations(serving: Path) -> dict[tuple[str, str], list[str]]:
    """(schema, name) -> column names of the serving copy's marts, dq and quarantine relations, read
    from its catalog alone: no row is read and no view built, so asking which marts a copy has (and
    with which columns) costs an attach, not a door. The names are the copy's; what a reader may
    read of them is still only what their door shows.

    Raises :class:`ServingCopyMissing` when ``serving`` is not a file.
    """
    serving = Path(serving)
    if not serving.is_file():
        raise ServingCopyMissing(f"no serving copy at {serving}; run `cxlake run` first")
    with duckdb.connect(":memory:") as connection:
        connection.execute(f"attach {literal(str(serving))} as {SERVING_ALIAS} (read_only)")
        served = _served_columns(connection, [schema for schema in PAGE_SCHEMAS if schema != PEERS])
    return {relation: [name for name, _ in columns] for relation, columns in served.items()}


def _define_views(
    connection: duckdb.DuckDBPyConnection, reader: Reader, schemas: tuple[str, ...]
) -> dict[tuple[str, str], list[str]]:
    # peers' views are built over the marts' fct_nps_daily, so its columns are read with the rest
    wanted = {schema for schema in schemas if schema != PEERS} | ({MARTS} if PEERS in schemas else set())
    served = _served_columns(connection, sorted(wanted))
    relations: dict[tuple[str, str], list[str]] = {}
    # One script of DDL, sent once: a door defines a view per relation (dozens), and a round trip
    # per statement was most of the time a page waited for its door.
    statements = [f"create schema if not exists {ident(schema)}" for schema in schemas if schema != PEERS]
    marts = frozenset(table for schema, table in served if schema == MARTS and MARTS in schemas)
    for (schema, table), columns in served.items():
        if schema not in schemas:
            continue
        select, shown = _view_select(reader, schema, table, columns, marts)
        statements.append(f"create view {ident(schema)}.{ident(table)} as {select}")
        relations[(schema, table)] = shown
    if PEERS in schemas:
        peers = _peer_views(reader, [name for name, _ in served.get((MARTS, "fct_nps_daily"), [])])
        statements += [f"create schema if not exists {PEERS}"] if peers else []
        for relation, (select, shown) in peers.items():
            statements.append(f"create view {PEERS}.{relation} as {select}")
            relations[(PEERS, relation)] = shown
    connection.execute(";\n".join(statements))
    return relations


def _served_columns(
    connection: duckdb.DuckDBPyConnection, schemas: list[str]
) -> dict[tuple[str, str], list[tuple[str, str]]]:
    """(schema, table) -> [(column, type)] of the serving copy's relations in ``schemas``."""
    rows = connection.execute(
        "select schema_name, table_name, column_name, data_type from duckdb_columns()"
        " where database_name = ? and list_contains(?::varchar[], schema_name)"
        " order by schema_name, table_name, column_index",
        [SERVING_ALIAS, schemas],
    ).fetchall()
    tables: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for schema, table, column, data_type in rows:
        tables.setdefault((schema, table), []).append((column, data_type))
    return tables


def _view_select(
    reader: Reader, schema: str, table: str, columns: list[tuple[str, str]], marts: frozenset[str]
) -> tuple[str, list[str]]:
    """The SELECT behind one view (every column as the reader may read it, rows of the scope only)
    and the columns it shows."""
    if schema == DQ and reader.scope.kind != "all":
        shown = _DQ_FOR_NARROW_SCOPES.get(table, frozenset())
        columns = [(name, data_type) for name, data_type in columns if name in shown] or columns[:1]
        condition = "true" if shown else "false"
    else:
        condition = row_condition(reader.scope, schema, table, {name for name, _ in columns}, marts)
    select_list = ", ".join(_readable(reader, schema, name, data_type) for name, data_type in columns)
    sql = f"select {select_list} from {SERVING_ALIAS}.{ident(schema)}.{ident(table)} where {condition}"
    return sql, [name for name, _ in columns]


def _readable(reader: Reader, schema: str, column: str, data_type: str) -> str:
    """``column`` as the reader may read it (masked where it is, or may hold, personal data)."""
    quoted = ident(column)
    if reader.sees_pii and (reader.follow_up or (schema == MARTS and column in STAFF_PII_COLUMNS)):
        return quoted
    if schema == MARTS and (kind := mart_pii_kind(column)) is not None:
        return f"{masked_sql(quoted, kind)} as {quoted}"
    if schema == QUARANTINE and data_type == "VARCHAR" and column not in _QUARANTINE_LINEAGE:
        return f"{masked_sql(quoted, quarantine_kind(column))} as {quoted}"
    if schema == DQ and column in _DQ_TEXT_COLUMNS:
        return f"{masked_sql(quoted, 'free_text')} as {quoted}"
    return quoted


def row_condition(scope: Scope, schema: str, table: str, columns: set[str], marts: frozenset[str]) -> str:
    """The rows of a relation ``scope`` may see, as inlined SQL (a view holds no bound parameters).

    ``marts`` are the serving copy's marts: a rule that needs one the copy lacks shows nothing.
    """
    if scope.kind == "all":
        return "true"
    if schema != MARTS:  # dq, quarantine: raw and unscoped (a bad row's store id is itself suspect)
        return "false"
    if table in SHARED_MARTS:
        return "true"
    if columns >= _SCOPE_LEVEL_COLUMNS and "store_id" not in columns and "region_id" not in columns:
        return _scope_level_condition(scope) if "dim_store" in marts else "false"
    if "customer_id" in columns and not columns & set(SCOPE_COLUMNS.values()):
        # A customer (their record, their 360) belongs to every store they bought at.
        if "fct_transactions" not in marts:
            return "false"
        sales = f"{SERVING_ALIAS}.{MARTS}.fct_transactions"
        return f"customer_id in (select customer_id from {sales} where {inline(*scope_condition(scope))})"
    if (
        scope.kind == "region"
        and "region_id" not in columns
        and "store_id" in columns
        and "dim_store" in marts
    ):
        # A store's rows (a staff member's verdict) are its region's.
        stores = f"{SERVING_ALIAS}.{MARTS}.dim_store"
        return f"store_id in (select store_id from {stores} where {inline(*scope_condition(scope))})"
    condition = inline(*scope_condition(scope, frozenset(columns)))
    if columns >= _COMPETITOR_COLUMNS and "dim_store" in marts:
        # A competitor's review has no store of ours: a narrow scope sees the shops next door, those
        # in the cities of its stores, to compare with.
        stores = f"{SERVING_ALIAS}.{MARTS}.dim_store"
        cities = f"(select city from {stores} where {inline(*scope_condition(scope))})"
        return f"((not is_competitor and {condition}) or (is_competitor and city in {cities}))"
    return condition


def _scope_level_condition(scope: Scope) -> str:
    """Rows of a mart modelled per scope: the chain's, and those of the reader's regions and stores
    (a store manager also sees their own region's row, an aggregate)."""
    ids = literal(list(scope.ids))
    stores = f"{SERVING_ALIAS}.{MARTS}.dim_store"
    if scope.kind == "region":
        regions = ids
        own_stores = f"(select store_id from {stores} where list_contains({ids}::varchar[], region_id))"
    else:
        regions = (
            f"(select list(distinct region_id) from {stores} where list_contains({ids}::varchar[], store_id))"
        )
        own_stores = f"(select unnest({ids}::varchar[]))"
    return (
        "(scope_level = 'chain'"
        f" or (scope_level = 'region' and list_contains({regions}::varchar[], scope_id))"
        f" or (scope_level = 'store' and scope_id in {own_stores}))"
    )


def _peer_views(reader: Reader, columns: list[str]) -> dict[str, tuple[str, list[str]]]:
    """``peers.fct_nps_daily`` (name -> its SELECT and columns), given the mart's ``columns``: every
    store's daily NPS rows, other scopes' stores anonymous. None when the copy lacks the mart."""
    if "store_id" not in columns:
        return {}
    mine = row_condition(reader.scope, MARTS, "fct_nps_daily", set(columns), frozenset({"fct_nps_daily"}))
    # A fresh salt per door: the key tells one store's rows from another's and nothing else.
    salt = literal(secrets.token_hex(16))
    others = ", ".join(ident(name) for name in columns if name != "store_id")
    select = (
        f"select case when {mine} then store_id end as store_id, md5(store_id || {salt}) as peer_key,"
        f" {others} from {SERVING_ALIAS}.{MARTS}.fct_nps_daily"
    )
    return {"fct_nps_daily": (select, ["store_id", "peer_key", *[n for n in columns if n != "store_id"]])}


def inline(condition: str, parameters: list[object]) -> str:
    """``condition`` with its ``?`` replaced by literals: a view cannot hold bound parameters."""
    parts = condition.split("?")
    if len(parts) != len(parameters) + 1:
        raise ValueError(f"condition {condition!r} does not match {len(parameters)} parameter(s)")
    inlined = parts[0]
    for parameter, rest in zip(parameters, parts[1:], strict=True):
        inlined += literal(parameter) + rest
    return inlined


def literal(value: object) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(literal(item) for item in value) + "]"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    raise TypeError(f"cannot inline a {type(value).__name__} into a view")


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
