"""Resources: where deliveries land and where the warehouse lives.

Both default to the cxlake home (``data/`` or ``$CXLAKE_HOME``), resolved when a run uses them,
so the same Definitions serve `dagster dev`, `cxlake run` and tests pointed at a temp folder.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
from dagster import ConfigurableResource, InitResourceContext

from cxlake.access.serving_door import SERVED_SCHEMAS, ident, literal
from cxlake.paths import cxlake_paths, owner_only_files, publish_temporary
from cxlake.warehouse_lock import warehouse_writer


class LandingZone(ConfigurableResource):
    """A local folder of deliveries laid out as ``<source>/<yyyy-mm-dd>/<files>``."""

    root: str | None = None

    @property
    def path(self) -> Path:
        return Path(self.root).resolve() if self.root else cxlake_paths().landing

    def partition_dir(self, source: str, day: str) -> Path:
        return self.path / source / day

    def files(self, source: str, day: str, pattern: str = "*") -> list[Path]:
        """The partition's files matching ``pattern``, sorted so loads are deterministic."""
        folder = self.partition_dir(source, day)
        return sorted(p for p in folder.glob(pattern) if p.is_file()) if folder.is_dir() else []


class Warehouse(ConfigurableResource):
    """The pipeline's DuckDB file and the serving copy the explorer reads."""

    path: str | None = None
    serving_path: str | None = None

    @property
    def database(self) -> Path:
        return Path(self.path).resolve() if self.path else cxlake_paths().warehouse

    @property
    def home(self) -> Path:
        """The folder beside the warehouse: GX project (gx/) and app state live there too."""
        return self.database.parent

    @property
    def app_state(self) -> Path:
        """The app-state store (cases, audit, load cursors) beside the warehouse."""
        return self.home / "app_state.sqlite"

    @property
    def serving(self) -> Path:
        if self.serving_path:
            return Path(self.serving_path).resolve()
        return self.database.with_name("serving.duckdb") if self.path else cxlake_paths().serving

    @contextmanager
    def yield_for_execution(self, context: InitResourceContext) -> Iterator[Warehouse]:
        """Hold the warehouse's write lock for the run (one writer at a time, whoever launched it:
        the daemon's queue, the UI or `cxlake run`, which already holds it and takes it again)."""

        def say(holder) -> None:
            context.log.info(f"waiting for {holder.describe() if holder else 'another writer'} to finish")

        run = context.run.run_id if context.run else "outside a run"
        with warehouse_writer(self.database, run, command=f"dagster run {run}", on_wait=say):
            yield self

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-write connection, closed on exit so dbt (another process) can open the file."""
        self.database.parent.mkdir(parents=True, exist_ok=True)
        connection = duckdb.connect(str(self.database))
        try:
            yield connection
        finally:
            connection.close()

    def publish(self) -> Path:
        """Write the served schemas of the warehouse to the serving path atomically.

        Only what the explorer's door reads (:data:`SERVED_SCHEMAS`: marts, dq, quarantine) is
        copied, table by table into a fresh file: raw, staging, intermediate and enrichment tables
        (phones, IP addresses, every version of every row) stay in the warehouse alone, and a fresh
        file holds no freed block with a value an erasure or a purge removed. The copy goes to a
        temp name in the same folder, owner-only, and is renamed into place, so a reader sees the
        old copy or the new one, never half of one.
        """
        with self.connect() as connection:
            connection.execute("CHECKPOINT")
        target = self.serving
        target.parent.mkdir(parents=True, exist_ok=True)
        temp = publish_temporary(target)
        temp.unlink(missing_ok=True)
        try:
            with owner_only_files():  # the copy holds every customer's contact details
                write_served_copy(self.database, temp)
            os.replace(temp, target)
        finally:
            temp.unlink(missing_ok=True)
        return target


def write_served_copy(warehouse: Path, destination: Path) -> None:
    """Copy every table of the warehouse's :data:`SERVED_SCHEMAS` into a new database at
    ``destination``, in one transaction (the served marts are tables: dbt's views live in staging)."""
    with duckdb.connect() as connection:
        # ATTACH takes no bound parameters; the paths are ours, quoted as literals
        connection.execute(f"attach {literal(str(warehouse))} as source (read_only)")
        connection.execute(f"attach {literal(str(destination))} as served")
        tables = connection.execute(
            "select schema_name, table_name from duckdb_tables()"
            " where database_name = 'source' and schema_name in (select unnest(?))"
            " order by schema_name, table_name",
            [list(SERVED_SCHEMAS)],
        ).fetchall()
        views = connection.execute(
            "select schema_name || '.' || view_name from duckdb_views()"
            " where database_name = 'source' and schema_name in (select unnest(?))",
            [list(SERVED_SCHEMAS)],
        ).fetchall()
        if views:  # a view would read schemas the copy leaves out: make its model a table
            raise ValueError(f"served schemas hold views, not tables: {', '.join(v for (v,) in views)}")
        statements = [f"create schema served.{ident(schema)}" for schema in SERVED_SCHEMAS]
        for schema, table in tables:
            name = f"{ident(schema)}.{ident(table)}"
            statements.append(f"create table served.{name} as from source.{name}")
        connection.execute("begin")
        connection.execute(";\n".join(statements))
        connection.execute("commit")
        connection.execute("detach served")
        connection.execute("detach source")
