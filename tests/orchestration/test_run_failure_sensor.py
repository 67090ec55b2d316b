"""A failed run reaches the data team once, by e-mail through the closed loop's own outbox and SMTP
channel, with the failing step and the first line of the reason: a job that really fails, in a real
(ephemeral) Dagster instance, evaluated by the sensor as the daemon does, sent to a real SMTP server
on loopback. With the mail server down, the notice stays in the outbox, failed with the reason."""

import socket
import threading
import time
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy

import pytest
from aiosmtpd.controller import Controller
from dagster import (
    DagsterEventType,
    DagsterInstance,
    Definitions,
    Failure,
    OpExecutionContext,
    build_run_status_sensor_context,
    build_sensor_context,
    job,
    op,
)

from cxlake.alerts.cases import CaseStore
from cxlake.alerts.config import ALERTS_YAML
from cxlake.alerts.outbox import notifications
from cxlake.alerts.run_failures import run_failure_routing
from cxlake.app_state import AppState
from cxlake.pipeline.resources import Warehouse
from orchestration.sensors import build_run_failure_sensor, describe_failure

REASON = "pos/2026-03-05/transactions.csv: missing column(s) amount"


class Inbox:
    """aiosmtpd handler keeping every accepted e-mail (envelope recipients, parsed message)."""

    def __init__(self) -> None:
        self.mails: list[tuple[tuple[str, ...], EmailMessage]] = []
        self.arrived = threading.Condition()

    async def handle_DATA(self, server, session, envelope) -> str:
        message = message_from_bytes(envelope.original_content or envelope.content, policy=default_policy)
        with self.arrived:
            self.mails.append((tuple(envelope.rcpt_tos), message))
            self.arrived.notify_all()
        return "250 Message accepted for delivery"


@pytest.fixture
def inbox(monkeypatch: pytest.MonkeyPatch):
    """A real SMTP server on 127.0.0.1, set as the alerts' ``email`` channel through its variables."""
    handler = Inbox()
    with socket.socket() as probe:  # aiosmtpd connects to its own port on start: it needs a number
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("CXLAKE_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("CXLAKE_SMTP_PORT", str(port))
    for unset in ("CXLAKE_SMTP_USER", "CXLAKE_SMTP_PASSWORD"):
        monkeypatch.delenv(unset, raising=False)
    yield handler
    controller.stop()


@op
def read_delivery(context: OpExecutionContext) -> int:
    return 3


@op
def load_day(context: OpExecutionContext, files: int) -> None:
    raise ValueError(f"{REASON}\n(header: store_id, staff_id, ordered_at)")


@job
def failing_pipeline_job():
    load_day(read_delivery())


def _failed_run(instance: DagsterInstance):
    result = failing_pipeline_job.execute_in_process(
        instance=instance,
        raise_on_error=False,
        tags={
            "dagster/asset_partition_range_start": "2026-03-04",
            "dagster/asset_partition_range_end": "2026-03-05",
        },
    )
    assert not result.success
    return result


def test_a_failed_run_is_described_by_its_step_and_the_first_line_of_its_reason():
    with DagsterInstance.ephemeral() as instance:
        result = _failed_run(instance)
        run = instance.get_run_by_id(result.run_id)
        failure_event = next(
            e for e in result.all_events if e.event_type == DagsterEventType.PIPELINE_FAILURE
        )
        context = build_run_status_sensor_context(
            sensor_name="run_failure_notifier",
            dagster_event=failure_event,
            dagster_instance=instance,
            dagster_run=run,
        ).for_run_failure()
        described = describe_failure(context)
    assert described == {
        "job": "failing_pipeline_job",
        "run_id": result.run_id,
        "step": "load_day",
        "reason": f"ValueError: {REASON}",  # the user's exception, not Dagster's wrapper; one line
        "partitions": "2026-03-04..2026-03-05",
    }


@op
def ingest_pos(context: OpExecutionContext) -> None:
    raise Failure(description=f"{REASON}\nsecond line")


@job
def held_back_job():
    ingest_pos()


def test_a_dagster_failure_reads_by_its_class_name_not_its_module_path():
    with DagsterInstance.ephemeral() as instance:
        result = held_back_job.execute_in_process(instance=instance, raise_on_error=False)
        failure_event = next(
            e for e in result.all_events if e.event_type == DagsterEventType.PIPELINE_FAILURE
        )
        context = build_run_status_sensor_context(
            sensor_name="run_failure_notifier",
            dagster_event=failure_event,
            dagster_instance=instance,
            dagster_run=instance.get_run_by_id(result.run_id),
        ).for_run_failure()
        described = describe_failure(context)
    assert (described["step"], described["reason"]) == ("ingest_pos", f"Failure: {REASON}")
    assert described["partitions"] == ""  # an unpartitioned run


def test_the_data_team_gets_one_email_per_failed_run(inbox: Inbox, tmp_path):
    warehouse = Warehouse(path=str(tmp_path / "warehouse.duckdb"))
    sensor = build_run_failure_sensor(warehouse)
    definitions = Definitions(jobs=[failing_pipeline_job], sensors=[sensor])
    routing = run_failure_routing()
    with DagsterInstance.ephemeral() as instance:
        # the daemon's first tick only sets where it starts reading (runs before it are not news)
        first = sensor.evaluate_tick(build_sensor_context(instance=instance, definitions=definitions))
        result = _failed_run(instance)
        tick = sensor.evaluate_tick(
            build_sensor_context(instance=instance, cursor=first.cursor, definitions=definitions)
        )
        with inbox.arrived:
            assert inbox.arrived.wait_for(lambda: len(inbox.mails) >= 1, timeout=10)
        # the next tick, from the cursor the daemon keeps, sends nothing more for the same run
        sensor.evaluate_tick(
            build_sensor_context(instance=instance, cursor=tick.cursor, definitions=definitions)
        )
        time.sleep(0.5)  # a second e-mail, were one sent, would be in by now
    assert len(inbox.mails) == 1
    recipients, mail = inbox.mails[0]
    assert recipients == routing.emails == ("data-team@example.com",)
    assert "failing_pipeline_job" in mail["Subject"] and "load_day" in mail["Subject"]
    body = mail.get_body(preferencelist=("plain",)).get_content()
    assert f"ValueError: {REASON}" in body
    assert "(header: store_id" not in body  # only the first line of the reason
    assert "2026-03-04..2026-03-05" in body
    assert f"{routing.dagster_url}/runs/{result.run_id}" in body
    (notice,) = notifications(CaseStore(AppState(warehouse.app_state)))
    assert (notice.kind, notice.status, notice.recipient) == ("run_failure", "sent", "data-team@example.com")


def test_with_the_mail_server_down_the_notice_is_kept_failed_with_the_reason(tmp_path, monkeypatch):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("CXLAKE_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("CXLAKE_SMTP_PORT", str(port))
    # the shipped alerts.yaml with quick retries (4 attempts 5 s apart would only slow the test)
    quick = tmp_path / "alerts.yaml"
    quick.write_text(
        ALERTS_YAML.read_text(encoding="utf-8")
        .replace("attempts: 4", "attempts: 2")
        .replace("backoff_seconds: 5", "backoff_seconds: 0.1"),
        encoding="utf-8",
    )
    monkeypatch.setenv("CXLAKE_ALERTS_YAML", str(quick))
    warehouse = Warehouse(path=str(tmp_path / "warehouse.duckdb"))
    sensor = build_run_failure_sensor(warehouse)
    definitions = Definitions(jobs=[failing_pipeline_job], sensors=[sensor])
    with DagsterInstance.ephemeral() as instance:
        first = sensor.evaluate_tick(build_sensor_context(instance=instance, definitions=definitions))
        result = _failed_run(instance)
        context = build_sensor_context(instance=instance, cursor=first.cursor, definitions=definitions)
        sensor.evaluate_tick(context)
    (notice,) = notifications(CaseStore(AppState(warehouse.app_state)))
    assert (notice.kind, notice.status) == ("run_failure", "failed")
    assert notice.attempts == 2 and "127.0.0.1" in notice.last_error, notice
    assert notice.dedupe_key == f"run_failure:{result.run_id}:email:data-team@example.com"
