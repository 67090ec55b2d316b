"""Dagster assets: ingestion per source, configuration tables, dbt models, publish."""
