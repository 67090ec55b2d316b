"""A dbt-duckdb plugin (profiles.yml ``plugins``) that gives dbt's connections the SQL function
``cxlake_pseudonym(text)``: :func:`cxlake.privacy.pseudonym.pseudonym` with the home's key, which
never appears in SQL, compiled models, logs or the warehouse's catalog."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dbt.adapters.duckdb.plugins import BasePlugin
from duckdb import DuckDBPyConnection

from cxlake.privacy.pseudonym import pseudonym, pseudonym_key


class Plugin(BasePlugin):
    def initialize(self, plugin_config: dict[str, Any]) -> None:
        # The home is the warehouse's folder, as everywhere else (cxlake.pipeline.resources).
        self.key = pseudonym_key(Path(plugin_config["warehouse"]).resolve().parent)

    def configure_connection(self, conn: DuckDBPyConnection) -> None:
        key = self.key
        conn.create_function(
            "cxlake_pseudonym",
            lambda value: pseudonym(value, key),
            ["VARCHAR"],
            "VARCHAR",
            null_handling="special",
            side_effects=False,
        )
