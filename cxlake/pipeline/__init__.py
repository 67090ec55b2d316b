"""What the pipeline's assets stand on: the Dagster resources (landing folder, warehouse), the
daily partitions and the dbt project with its command lines.

It sits below `assets/` and `orchestration/` (both import it, it imports neither), so the assets
no longer reach up into the wiring for the things they are built from.
"""
