"""Dagster wiring: the one Definitions object, its resources, partitions and jobs."""
