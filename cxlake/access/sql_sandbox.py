"""The analysts' SQL box: one SELECT over the marts, as the user may see them, in a throwaway DuckDB.

Each query gets a fresh door to the serving copy (:mod:`cxlake.access.serving_door`, the same one
every page reads through): an in-memory database whose views show the marts as the user may see
them (PII masked, scope applied), file access off, configuration locked. The marts are also named
without their schema (``select * from dim_store``). The statement is checked on duckdb's own parse
tree before it runs: exactly one SELECT, every table it names a view of ours or one of its CTEs, no
table function outside a short allow-list, no function that shows the server's configuration, no
catalog-qualified name (so the attached copy itself cannot be named).

Each query, its check included, runs in a child process (:mod:`cxlake.access.sql_process`) with a
memory budget, a private spill folder, a deadline over the whole path and a cap on the rows and
bytes it hands back, so no statement can take the host's memory or time, or crash the caller.
Error text reaches the user without the host's paths.
"""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import duckdb
import pandas as pd

from cxlake.access.roles import Principal
from cxlake.access.serving_door import MARTS, Reader, ServingCopyMissing, ident, open_door
from cxlake.access.sql_process import (
    QueryRefused,
    SqlLimits,
    memory_message,
    one_line,
    run_bounded,
    temp_message,
)

__all__ = ["QueryRefused", "QueryResult", "SqlLimits", "check_statement", "exposed_relations", "run_query"]

# The one schema of the serving copy the SQL box exposes (raw, staging, dq, quarantine... are not).
EXPOSED_SCHEMA = MARTS
# Schemas a user may write before an exposed view's name: none, the default one, or `marts.`.
_USER_SCHEMAS = ("", "main", EXPOSED_SCHEMA)
# A statement that is a PIVOT or UNPIVOT (DuckDB's own statement forms, and their long names).
_PIVOT = re.compile(
    r"(?:\s|\(|/\*.*?\*/|--[^\n]*(?:\n|$))*(un)?pivot(_wider|_longer)?\b",  # after comments, brackets
    re.IGNORECASE | re.DOTALL,
)
# Table functions that only generate values and cannot reach a file or the catalog.
ALLOWED_TABLE_FUNCTIONS = frozenset({"range", "generate_series", "unnest"})
# Scalar functions that show the server rather than the data: settings hold its folders (temp,
# secrets, allowed directories), getenv its environment, version its software.
HOST_FUNCTIONS = frozenset({"current_setting", "getenv", "version", "pragma_version"})


@dataclass(frozen=True)
class QueryResult:
    """At most ``row_cap`` rows of a query's result; ``truncated`` says whether more rows existed.

    ``elapsed_seconds`` is the whole path as the caller waited for it (process, check, run, fetch);
    ``peak_rss_bytes`` is the query process's peak resident memory, start-up included.
    """

    frame: pd.DataFrame
    truncated: bool
    row_cap: int
    elapsed_seconds: float
    peak_rss_bytes: int | None = None


def run_query(
    principal: Principal,
    sql: str,
    serving: Path,
    *,
    limits: SqlLimits | None = None,
    keep_warm: bool = True,
) -> QueryResult:
    """Run one SELECT with ``principal``'s rights over the marts of ``serving``, within ``limits``.

    ``limits`` defaults to :meth:`SqlLimits.from_env`. Every way the query can fail raises
    :class:`QueryRefused` with a one-line message. ``keep_warm`` leaves a worker process ready for
    the next query (the page); a one-shot command passes False.
    """
    limits = limits if limits is not None else SqlLimits.from_env()
    started = time.monotonic()
    _require_sql_page(principal)
    _check_size(sql, limits)
    serving = Path(serving)
    if not serving.is_file():
        raise QueryRefused(f"no serving copy at {serving}; run `cxlake run` first")
    outcome = run_bounded(_query_in_child, (principal, sql, str(serving)), limits, keep_warm=keep_warm)
    if outcome.refusal is not None:
        raise QueryRefused(outcome.refusal, peak_rss_bytes=outcome.peak_rss_bytes)
    result = outcome.value
    if not isinstance(result, QueryResult):
        raise QueryRefused(f"failed: the query's process answered with a {type(result).__name__}")
    return replace(result, elapsed_seconds=time.monotonic() - started, peak_rss_bytes=outcome.peak_rss_bytes)


def _check_size(sql: str, limits: SqlLimits) -> None:
    """Refuse what no parser should see: an oversized statement, text that is not UTF-8, a NUL."""
    size = len(sql.encode("utf-8", "surrogatepass"))
    if size > limits.statement_bytes:
        raise QueryRefused(
            f"refused: the statement is {size:,} bytes; at most {limits.statement_bytes:,} are allowed"
        )
    if "\x00" in sql:  # the parser would stop reading at it
        raise QueryRefused("refused: the statement contains a NUL character")
    try:
        sql.encode("utf-8")
    except UnicodeEncodeError as error:
        raise QueryRefused(f"refused: the statement is not UTF-8 text (at character {error.start})") from None


def _query_in_child(
    principal: Principal, sql: str, serving: str, *, limits: SqlLimits, temp_dir: str
) -> QueryResult:
    """The query's whole path, run in the bounded child: sandbox, check, execute, fetch."""
    config = {
        "memory_limit": f"{limits.duckdb_memory_bytes >> 20}MiB",
        "threads": limits.threads,
        "temp_directory": temp_dir,
        "max_temp_directory_size": f"{limits.temp_bytes >> 20}MiB",
    }
    hidden = _host_paths(serving, temp_dir)
    try:
        with _sandbox(principal, Path(serving), config) as (connection, exposed):
            # The check's refusals quote only the statement; DuckDB's errors may name host paths.
            check_statement(sql, frozenset(exposed))
            try:
                return _execute(connection, sql, limits)
            except QueryRefused as failure:
                raise QueryRefused(_scrub(str(failure), hidden)) from None
    except duckdb.Error as error:  # the sandbox itself failed (a damaged serving copy, the spill folder)
        raise QueryRefused(_scrub(f"failed: {_first_line(error)}", hidden)) from None


def exposed_relations(principal: Principal, serving: Path) -> dict[str, list[str]]:
    """View name -> column names, as ``principal`` can query them (for the page's schema browser)."""
    _require_sql_page(principal)
    with _sandbox(principal, serving) as (_, exposed):
        return exposed


def create_user_views(connection: duckdb.DuckDBPyConnection, exposed: dict[str, list[str]]) -> None:
    """Name each mart's view of ``connection`` without its schema too (``main.dim_store``)."""
    for table in exposed:
        source = f"{EXPOSED_SCHEMA}.{ident(table)}"
        connection.execute(f"create view main.{ident(table)} as select * from {source}")


def check_statement(sql: str, exposed: frozenset[str]) -> None:
    """Refuse anything but one SELECT that reads only the ``exposed`` views and its own CTEs.

    The parser itself reads files (IMPORT DATABASE reads the folder's schema.sql and quotes it in
    its errors), so it runs on a scratch connection without file access.
    """
    with closing(duckdb.connect(config={"enable_external_access": False})) as scratch:
        try:
            statements = scratch.extract_statements(sql)
        except duckdb.Error as error:
            raise QueryRefused(_scrub(f"refused: {_first_line(error)}", ())) from None
        if _PIVOT.match(sql):
            # DuckDB runs a PIVOT as statements of its own (listing the values, then the query),
            # which the checks cannot follow
            raise QueryRefused("refused: PIVOT cannot be checked; write it with GROUP BY and FILTER")
        if len(statements) != 1:
            raise QueryRefused(f"refused: exactly one statement is allowed, got {len(statements)}")
        if statements[0].type != duckdb.StatementType.SELECT:
            raise QueryRefused(f"refused: only SELECT is allowed, got {statements[0].type.name}")
        serialized = scratch.execute("select json_serialize_sql(?)", [sql]).fetchone()[0]
    try:
        tree = json.loads(serialized)
        if tree.get("error"):
            # PRAGMA and PIVOT parse as SELECT but cannot be serialized; unchecked means refused.
            raise QueryRefused(f"refused: statement cannot be checked ({tree.get('error_message', '')})")
        _walk(tree["statements"], frozenset(), frozenset(name.lower() for name in exposed))
    except RecursionError:
        # An expression nested hundreds deep parses, but its tree is deeper than Python can walk.
        raise QueryRefused("refused: the statement is nested too deeply to check") from None


def _walk(node: object, ctes: frozenset[str], exposed: frozenset[str]) -> None:
    """Check every table reference and function call under ``node``; ``ctes`` are the names in scope."""
    if isinstance(node, list):
        for item in node:
            _walk(item, ctes, exposed)
        return
    if not isinstance(node, dict):
        return
    if "cte_map" in node:
        ctes = _walk_ctes(node["cte_map"]["map"], ctes, exposed)
    if "class" in node:  # an expression
        if node["class"] == "FUNCTION" and (node.get("catalog") or node.get("schema") not in ("", "main")):
            raise QueryRefused(f"refused: function {_qualified(node, 'catalog', 'schema', 'function_name')}")
        if node["class"] == "FUNCTION" and str(node.get("function_name", "")).lower() in HOST_FUNCTIONS:
            raise QueryRefused(f"refused: function {node['function_name']} shows the server, not the marts")
    else:
        _check_table_ref(node, ctes, exposed)
    for key, value in node.items():
        if key != "cte_map":
            _walk(value, ctes, exposed)


def _walk_ctes(entries: list[dict], outer: frozenset[str], exposed: frozenset[str]) -> frozenset[str]:
    """Check each CTE body with the names defined before it (and its own, if recursive) in scope."""
    visible = set(outer)
    for entry in entries:
        name = entry["key"].lower()
        body = entry["value"]["query"]
        recursive = body.get("node", {}).get("type") == "RECURSIVE_CTE_NODE"
        _walk(body, frozenset(visible | {name}) if recursive else frozenset(visible), exposed)
        visible.add(name)
    return frozenset(visible)


def _check_table_ref(node: dict, ctes: frozenset[str], exposed: frozenset[str]) -> None:
    kind = node.get("type")
    if kind == "BASE_TABLE":
        name = node["table_name"].lower()
        schema = node["schema_name"].lower()
        if node["catalog_name"] or schema not in _USER_SCHEMAS:
            raise QueryRefused(
                f"refused: table {_qualified(node, 'catalog_name', 'schema_name', 'table_name')}"
            )
        if name in exposed or (not schema and name in ctes):
            return
        raise QueryRefused(
            f"refused: table {_qualified(node, 'catalog_name', 'schema_name', 'table_name')}"
            " is not one of the exposed marts"
        )
    if kind == "TABLE_FUNCTION":
        function = node["function"]
        name = str(function.get("function_name", "")).lower()
        if function.get("catalog") or function.get("schema") or name not in ALLOWED_TABLE_FUNCTIONS:
            raise QueryRefused(
                f"refused: table function {_qualified(function, 'catalog', 'schema', 'function_name')}"
            )
    if kind == "SHOW_REF" and node.get("query") is None:
        # DESCRIBE/SUMMARIZE of a query is walked like any query; SHOW <name> lists the catalog.
        raise QueryRefused("refused: SHOW lists the catalog; use DESCRIBE <view>")


def _qualified(node: dict, *keys: str) -> str:
    return ".".join(str(node[key]) for key in keys if node.get(key))


def _require_sql_page(principal: Principal) -> None:
    if not principal.may_open("sql"):
        raise QueryRefused(f"refused: role {principal.role} has no SQL access")


@contextmanager
def _sandbox(
    principal: Principal, serving: Path, config: dict[str, object] | None = None
) -> Iterator[tuple[duckdb.DuckDBPyConnection, dict[str, list[str]]]]:
    """The user's door to the marts (views only, locked down), closed on exit.

    ``config`` is applied at connect (memory limit, threads, spill folder), before any view exists.
    """
    try:
        door = open_door(Path(serving), Reader.of(principal), schemas=(MARTS,), config=config)
    except ServingCopyMissing as missing:
        raise QueryRefused(str(missing)) from None
    try:
        exposed = door.tables(MARTS)
        create_user_views(door.connection, exposed)
        yield door.connection, exposed
    finally:
        door.close()


def _execute(connection: duckdb.DuckDBPyConnection, sql: str, limits: SqlLimits) -> QueryResult:
    """Fetch up to ``row_cap`` + 1 rows (to learn whether there were more); the parent keeps the time."""
    started = time.monotonic()
    try:
        frame = connection.sql(sql).limit(limits.row_cap + 1).df()
    except duckdb.OutOfMemoryException:
        raise QueryRefused(memory_message(limits)) from None
    except duckdb.Error as error:
        if "bad_alloc" in str(error):  # an allocation past the address-space limit, outside DuckDB's own
            raise QueryRefused(memory_message(limits)) from None
        if "File too large" in str(error):  # a spill file reached RLIMIT_FSIZE
            raise QueryRefused(temp_message(limits)) from None
        raise QueryRefused(f"failed: {_first_line(error)}") from None
    truncated = len(frame) > limits.row_cap
    return QueryResult(frame.head(limits.row_cap), truncated, limits.row_cap, time.monotonic() - started)


def _first_line(error: BaseException) -> str:
    return one_line(str(error)) or type(error).__name__


# An absolute path of two or more parts, not glued to a word (so `1/2` and `a / b` stay).
_ABSOLUTE_PATH = re.compile(r"(?<![\w.])(?:/[^\s'\"/:]+){2,}/?")


def _host_paths(*paths: str) -> tuple[str, ...]:
    """Folders of this host that must not appear in a message, longest first."""
    folders = {*paths, *(str(Path(path).parent) for path in paths)}
    folders |= {os.getcwd(), str(Path.home()), sys.prefix, tempfile.gettempdir()}
    return tuple(sorted((folder for folder in folders if len(folder) > 1), key=len, reverse=True))


def _scrub(message: str, hidden: tuple[str, ...]) -> str:
    """``message`` without the host's folders or any other absolute path."""
    for folder in hidden:
        message = message.replace(folder, "<path>")
    return _ABSOLUTE_PATH.sub("<path>", message)
