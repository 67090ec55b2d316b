"""Telling the data team a pipeline run failed, through the closed loop's own channels.

The same :func:`cxlake.alerts.delivery.send` (SMTP or webhook, secrets from the environment, retried
while the failure may pass) carries it, so a team that set up the alerts has nothing else to set up.
Who hears it is the ``run_failures`` section of cxlake/config/pipeline.yaml; Dagster's
run_failure_sensor decides *when* (once per failed run, by its cursor), this module *what* and *to
whom*.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources

import yaml

from cxlake.alerts.config import AlertConfig
from cxlake.alerts.delivery import Channel, DeliveryResult, RetryPolicy, send
from cxlake.alerts.messages import run_failure_message

CONFIG_NAME = "cxlake/config/pipeline.yaml"


class RunFailureConfigError(ValueError):
    """The ``run_failures`` section cannot be used; the message names the key."""


@dataclass(frozen=True)
class RunFailureRouting:
    """Addresses e-mailed through the alerts' ``email`` channel, webhook channel names, the UI's URL."""

    emails: tuple[str, ...]
    webhooks: tuple[str, ...]
    dagster_url: str

    def run_link(self, run_id: str) -> str:
        return f"{self.dagster_url.rstrip('/')}/runs/{run_id}"


def run_failure_routing(document: Mapping[str, object] | None = None) -> RunFailureRouting:
    """``run_failures`` of pipeline.yaml (or of ``document``), checked."""
    if document is None:
        text = resources.files("cxlake.config").joinpath("pipeline.yaml").read_text("utf-8")
        document = yaml.safe_load(text) or {}
    section = document.get("run_failures") or {}
    if not isinstance(section, Mapping):
        raise RunFailureConfigError(f"{CONFIG_NAME}: run_failures: expected a mapping")
    lists = {}
    for key in ("email", "webhooks"):
        value = section.get(key) or []
        if isinstance(value, str) or not all(isinstance(item, str) for item in value):
            raise RunFailureConfigError(f"{CONFIG_NAME}: run_failures.{key}: expected a list of names")
        lists[key] = tuple(value)
    return RunFailureRouting(lists["email"], lists["webhooks"], str(section.get("dagster_url") or ""))


def notify_run_failure(
    failure: Mapping[str, object],
    alerts: AlertConfig,
    routing: RunFailureRouting,
    environ: Mapping[str, str] | None = None,
) -> dict[str, DeliveryResult]:
    """Send one message about ``failure`` to every configured target; channel name -> result.

    A channel whose variables are unset is reported as not sent (never raised): a failed run must
    not also fail the sensor that reports it.
    """
    environ = os.environ if environ is None else environ
    message = run_failure_message(failure)
    retry = RetryPolicy(
        attempts=alerts.delivery_attempts,
        backoff_seconds=alerts.delivery_backoff_seconds,
        timeout_seconds=alerts.delivery_timeout_seconds,
    )
    targets: list[tuple[str, tuple[str, ...]]] = []
    if routing.emails:
        targets.append(("email", routing.emails))
    targets += [(name, ()) for name in routing.webhooks]
    results: dict[str, DeliveryResult] = {}
    for name, recipients in targets:
        settings = alerts.channels.get(name)
        if settings is None:
            results[name] = DeliveryResult(False, 0, f"{alerts.source_file.name}: no channel named {name!r}")
            continue
        channel = Channel.from_config(name, settings, environ)
        if not channel.configured:
            results[name] = DeliveryResult(
                False, 0, f"channel {name!r} is not configured: {', '.join(channel.missing_env)} not set"
            )
            continue
        results[name] = send(channel, message, recipients, retry=retry)
    return results
