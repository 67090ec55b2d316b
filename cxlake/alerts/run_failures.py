"""Telling the data team a pipeline run failed, through the closed loop's own channels.

The notice goes through the alerts' outbox (:mod:`cxlake.alerts.outbox`: SMTP or webhook, secrets
from the environment, retried, kept with its outcome), so a team that set up the alerts has nothing
else to set up.
Who hears it is the ``run_failures`` section of cxlake/config/pipeline.yaml; Dagster's
run_failure_sensor decides *when* (once per failed run, by its cursor), this module *what* and *to
whom*.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from importlib import resources

import yaml

from cxlake.alerts.cases import CaseStore
from cxlake.alerts.outbox import RUN_FAILURE_KIND, queue_notices

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


def queue_run_failure(
    store: CaseStore, failure: Mapping[str, object], routing: RunFailureRouting, now: datetime
) -> int:
    """Queue one notice about ``failure`` per configured target in the outbox (cxlake.alerts.outbox)
    and return how many were new.

    The outbox sends it as it sends the cases' alerts: claimed, retried, marked sent or failed with
    the reason (and the failed ones listed for the CX director), so a notice is never lost to a mail
    server that was down for a minute, and a run is never announced twice (one row per run, channel
    and recipient). ``failure`` is :func:`cxlake.alerts.messages.run_failure_message`'s fields.
    """
    targets: list[tuple[str, str | None]] = [("email", address) for address in routing.emails]
    targets += [(name, None) for name in routing.webhooks]
    subject = f"{RUN_FAILURE_KIND}:{failure.get('run_id')}"
    return queue_notices(store, RUN_FAILURE_KIND, subject, targets, failure, now)
