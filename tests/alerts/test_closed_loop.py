"""The closed loop end to end: a detractor's survey response lands in landing/, the landing sensor
asks for a run of its day, the run opens one case and the message reaches real loopback servers;
a re-run and a second sensor tick open and send nothing more. Prints the measured time from the
file landing to the e-mail arriving (`pytest -s` shows it)."""

from __future__ import annotations

import csv
import hashlib
import os
import shutil
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from dagster import DagsterInstance, build_sensor_context

from cxlake.alerts.cases import CaseStore
from cxlake.alerts.outbox import notifications
from cxlake.app_state import AppState
from orchestration.sensors import MANIFEST_NAME

SHANGHAI = ZoneInfo("Asia/Shanghai")
SURVEY = "SV_cxlakeApp"


def one_detractor_export(source, target) -> str:
    """Copy a Qualtrics export keeping its three header rows and one real detractor response."""
    with source.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    header, data = rows[:3], rows[3:]
    nps, status, response_id = (header[0].index(name) for name in ("Q1", "Status", "ResponseId"))
    detractor = next(r for r in data if r[status] == "IP Address" and r[nps].split(" ")[0] in "0123456")
    with target.open("w", encoding="utf-8-sig", newline="") as f:
        csv.writer(f, lineterminator="\r\n").writerows([*header, detractor])
    return detractor[response_id]


def test_a_detractor_landing_reaches_its_manager_once(tmp_path, smtp_server, webhook_server):
    from cxlake.generator import generate
    from cxlake.pipeline.dbt_project import prepare_dbt_manifest
    from orchestration.definitions import build_definitions
    from orchestration.runner import run_pipeline

    # The newest whole day arrives after the one before it: a day still running would hold
    # visits later than now, which the quality gate quarantines.
    today = datetime.now(SHANGHAI).date()
    home = tmp_path
    generated, landing = home / "generated", home / "landing"
    generate(generated, scale="small", seed=5, start=today - timedelta(days=2), days=2, progress=False)
    earlier, day = (today - timedelta(days=2)).isoformat(), (today - timedelta(days=1)).isoformat()
    for source in generated.iterdir():
        if (source / earlier).is_dir():
            shutil.copytree(source / earlier, landing / source.name / earlier)
    env = {
        "CXLAKE_SMTP_HOST": smtp_server.host,
        "CXLAKE_SMTP_PORT": str(smtp_server.port),
        "CXLAKE_WECOM_WEBHOOK_URL": webhook_server.url("/wecom"),
        "CXLAKE_DINGTALK_WEBHOOK_URL": webhook_server.url("/dingtalk"),
        "CXLAKE_DINGTALK_SECRET": "SEC-loop",
        "CXLAKE_SLACK_WEBHOOK_URL": webhook_server.url("/slack"),
    }
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    try:
        warehouse = home / "warehouse.duckdb"
        first = run_pipeline(landing, warehouse)
        assert first.complete
        store = CaseStore(AppState(home / "app_state.sqlite"))
        before = {case.case_id for case in store.cases()}
        mails_before = len(smtp_server.received)

        prepare_dbt_manifest()
        definitions = build_definitions(str(landing), str(warehouse), first_partition=earlier)
        sensor = definitions.get_sensor_def("landing_sensor")
        job = definitions.resolve_job_def("daily_pipeline_job")
        with DagsterInstance.ephemeral() as instance:
            baseline = sensor.evaluate_tick(build_sensor_context(instance=instance, definitions=definitions))
            assert baseline.run_requests == []  # what the serving copy holds is not new

            # The delivery: today's POS files and one detractor's response.
            shutil.copytree(generated / "pos" / day, landing / "pos" / day)
            (landing / "qualtrics" / day).mkdir(parents=True)
            response_id = one_detractor_export(
                generated / "qualtrics" / day / f"{SURVEY}_{day}.csv",
                landing / "qualtrics" / day / f"{SURVEY}_{day}.csv",
            )
            landed_at = time.time()
            for path in (landing / "pos" / day).iterdir():  # delivered a moment ago: settled
                os.utime(path, (landed_at - 10, landed_at - 10))
            for path in (landing / "qualtrics" / day).iterdir():
                os.utime(path, (landed_at - 10, landed_at - 10))
            for folder in (landing / "pos" / day, landing / "qualtrics" / day):  # each says it is complete
                sums = [f"{hashlib.sha256(f.read_bytes()).hexdigest()}  {f.name}\n" for f in folder.iterdir()]
                (folder / MANIFEST_NAME).write_text("".join(sums))

            tick = sensor.evaluate_tick(
                build_sensor_context(instance=instance, cursor=baseline.cursor, definitions=definitions)
            )
            assert len(tick.run_requests) == 1
            request = tick.run_requests[0]
            result = job.execute_in_process(instance=instance, tags=request.tags, raise_on_error=False)
            arrived = smtp_server.wait_for(mails_before + 1)[-1].received_at
            new_cases = [case for case in store.cases() if case.case_id not in before]
            mails_after_run = len(smtp_server.received)
            posts_after_run = len(webhook_server.requests)

            rerun = job.execute_in_process(instance=instance, tags=request.tags, raise_on_error=False)
            second_tick = sensor.evaluate_tick(
                build_sensor_context(instance=instance, cursor=tick.cursor, definitions=definitions)
            )
        print(f"\nlanding -> e-mail on the loopback SMTP server: {arrived - landed_at:.1f} s")
        # The sensor asked for a run of exactly the new day, and the run succeeded.
        tags = request.tags
        assert tags["dagster/asset_partition_range_start"] == tags["dagster/asset_partition_range_end"] == day
        assert result.success
        # One case, fresh, for that response; one e-mail to its store's manager, one group-robot post.
        assert [(c.survey_id, c.response_id, c.is_historical) for c in new_cases] == [
            (SURVEY, response_id, False)
        ]
        case = new_cases[0]
        mails = smtp_server.received[mails_before:]
        assert len(mails) == 1 and mails[0].rcpt_tos == (f"manager.{case.store_id}@stores.example.com",)
        assert case.case_id in mails[0].body()
        sent = notifications(store, case.case_id)
        assert {(n.channel, n.status) for n in sent} == {("email", "sent"), ("store_group", "sent")}
        assert 0 < arrived - landed_at < 600
        # A re-run of the day and a second sensor tick open and send nothing.
        assert rerun.success
        assert [c.case_id for c in store.cases() if c.response_id == response_id] == [case.case_id]
        assert len(smtp_server.received) == mails_after_run
        assert len(webhook_server.requests) == posts_after_run
        assert second_tick.run_requests == []
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
