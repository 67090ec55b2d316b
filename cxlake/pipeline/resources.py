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

from cxlake.paths import copy_owner_only, cxlake_paths, publish_temporary
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
        """Copy the warehouse to the serving path atomically.

        CHECKPOINT folds the WAL into the file first (a copy of a file with a pending WAL misses
        commits); the copy goes to a temp name in the same folder and is renamed into place, so
        a reader sees the old copy or the new one, never half of one.
        """
        with self.connect() as connection:
            connection.execute("CHECKPOINT")
        target = self.serving
        target.parent.mkdir(parents=True, exist_ok=True)
        temp = publish_temporary(target)
        copy_owner_only(self.database, temp)  # 0600: the copy holds every customer's data
        os.replace(temp, target)
        return target
