"""The Dagster instance under $CXLAKE_HOME runs one run at a time (DuckDB has one writer), and a
dagster.yaml the operator wrote keeps their settings: the one-run limit is added only where they
said nothing about concurrency."""

from __future__ import annotations

from dagster import DagsterInstance
from dagster._core.run_coordinator import QueuedRunCoordinator

from orchestration.runner import install_instance_config


def queue(home) -> tuple[str, int | None]:
    with DagsterInstance.from_config(str(home)) as instance:
        config = instance.get_concurrency_config().run_queue_config
        return type(instance.run_coordinator).__name__, config.max_concurrent_runs if config else None


def test_the_instance_queues_runs_one_at_a_time(tmp_path):
    install_instance_config(tmp_path)
    assert queue(tmp_path) == (QueuedRunCoordinator.__name__, 1)


def test_an_operators_own_settings_are_kept_and_the_limit_added(tmp_path):
    (tmp_path / "dagster.yaml").write_text("# ours\ntelemetry:\n  enabled: true\n", encoding="utf-8")
    install_instance_config(tmp_path)
    install_instance_config(tmp_path)  # every `cxlake run` calls it: the limit is added once
    text = (tmp_path / "dagster.yaml").read_text(encoding="utf-8")
    assert text.startswith("# ours\ntelemetry:\n  enabled: true\n")
    assert text.count("max_concurrent_runs: 1") == 1
    assert queue(tmp_path) == (QueuedRunCoordinator.__name__, 1)
    with DagsterInstance.from_config(str(tmp_path)) as instance:
        assert instance.telemetry_enabled


def test_a_limit_the_operator_chose_is_theirs(tmp_path):
    own = "concurrency:\n  runs:\n    max_concurrent_runs: 3\n"
    (tmp_path / "dagster.yaml").write_text(own, encoding="utf-8")
    install_instance_config(tmp_path)
    assert (tmp_path / "dagster.yaml").read_text(encoding="utf-8") == own
    assert queue(tmp_path) == (QueuedRunCoordinator.__name__, 3)
