"""The Dagster instance under $CXLAKE_HOME runs one run at a time (DuckDB has one writer), and a
dagster.yaml the operator wrote is theirs to keep."""

from __future__ import annotations

from dagster import DagsterInstance

from orchestration.runner import install_instance_config


def test_the_instance_queues_runs_one_at_a_time(tmp_path):
    install_instance_config(tmp_path)
    with DagsterInstance.local_temp(str(tmp_path)) as instance:
        assert instance.get_concurrency_config().run_queue_config.max_concurrent_runs == 1


def test_an_operators_own_instance_config_is_kept(tmp_path):
    (tmp_path / "dagster.yaml").write_text("telemetry:\n  enabled: true\n", encoding="utf-8")
    install_instance_config(tmp_path)
    assert (tmp_path / "dagster.yaml").read_text(encoding="utf-8") == "telemetry:\n  enabled: true\n"
