"""The closed loop's recovery figures on a generated chain with planted case work: the pipeline
opens a case per detractor, the demo replay works them as the stores planted it (truth.json
"case_work"), and the loop marts built on the cases snapshot find what was planted: worked
detractors come back more often, and every worked flag and acknowledge time is the planted one.

45 days: answers of the first 15 days have a fully loaded 30-day window (about 220 detractors).
The whole data set lies in the past, so every case is historical (no message is sent) and old
enough to replay. The chain is the shared 45-day build of tests/pipeline/conftest.py; the replay,
the snapshot and the loop models change a copy of its warehouse and app state.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from cxlake.alerts.cases import CaseStore
from cxlake.app_state import AppState
from cxlake.generator.case_work import Replayed, load_case_work, replay_case_work


@dataclass(frozen=True)
class RecoveryBuild:
    truth: dict
    warehouse: Path
    first_replay: Replayed
    second_replay: Replayed


@pytest.fixture(scope="module")
def build(
    chain_build, copy_chain: Callable[[Path], Path], tmp_path_factory: pytest.TempPathFactory
) -> RecoveryBuild:
    from assets.alerts import snapshot_cases
    from cxlake.pipeline.dbt_project import dbt_command

    assert chain_build.complete
    home = tmp_path_factory.mktemp("case_recovery")
    warehouse = copy_chain(home)
    store = CaseStore(AppState(home / "app_state.sqlite"))
    plan = load_case_work(chain_build.landing / "truth.json")
    first, second = replay_case_work(store, plan), replay_case_work(store, plan)
    snapshot_cases(home / "app_state.sqlite", warehouse)
    # Until the loop models have a Dagster step of their own, build them the way it will.
    built = subprocess.run(
        dbt_command("build", "--select", "tag:loop", warehouse=warehouse, scratch=home / "dbt"),
        capture_output=True,
        text=True,
    )
    assert built.returncode == 0, built.stdout[-3000:]
    truth = json.loads((chain_build.landing / "truth.json").read_text(encoding="utf-8"))
    return RecoveryBuild(truth, warehouse, first, second)


def _query(build: RecoveryBuild, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(build.warehouse), read_only=True) as connection:
        return connection.execute(sql).df()


def test_worked_detractors_come_back_within_30_days_more_often_as_planted(build):
    summary = _query(build, "select * from marts.mart_case_recovery_summary where grain = 'chain'")
    rows = summary.set_index("is_worked")
    worked, not_worked = rows.loc[True], rows.loc[False]
    print(
        f"\n30-day return: worked {worked.return_rate_30d:.3f} of {worked.count_judged_30d}, "
        f"not worked {not_worked.return_rate_30d:.3f} of {not_worked.count_judged_30d}; "
        f"next NPS {worked.avg_next_nps} (n={worked.count_next_nps}) vs "
        f"{not_worked.avg_next_nps} (n={not_worked.count_next_nps})"
    )
    assert min(worked.count_judged_30d, not_worked.count_judged_30d) >= 80
    assert worked.return_rate_30d > not_worked.return_rate_30d + 0.1
    # Planted: a worked detractor buys at 0.9 of normal, an unworked one at 0.3. For any mix of
    # purchase rates the not-worked return rate is then at least 1 - (1 - worked) ** (0.3 / 0.9)
    # (equal only if all customers bought equally often); 0.05 leaves room for sampling noise.
    planted = build.truth["planted"]
    ratio = planted["churn_purchase_rate_factor"] / planted["recovered_purchase_rate_factor"]
    assert not_worked.return_rate_30d >= 1 - (1 - worked.return_rate_30d) ** ratio - 0.05


def test_the_marts_worked_flags_are_the_planted_case_work(build):
    recovery = _query(build, "select survey_id, response_id, is_worked from marts.mart_case_recovery")
    marts = {f"{r.survey_id}:{r.response_id}": bool(r.is_worked) for r in recovery.itertuples()}
    planted = {entry["response_key"]: entry["worked"] for entry in build.truth["case_work"]}
    # Detractor answers whose order sat in a quarantined POS row have no member: at most a few.
    assert len(planted.keys() & marts.keys()) >= 0.98 * len(planted)
    assert {key: marts[key] for key in planted.keys() & marts.keys()} == {
        key: planted[key] for key in planted.keys() & marts.keys()
    }
    assert set(marts) <= set(planted)  # every member detractor in the mart was planted


def test_acknowledge_times_and_codes_are_the_planted_ones(build):
    cases = _query(
        build,
        "select survey_id, response_id, hours_to_acknowledge, resolution_code, contact_method,"
        " is_ack_sla_met, acknowledged_by from marts.fct_cases where source = 'survey'",
    )
    by_key = {f"{r.survey_id}:{r.response_id}": r for r in cases.itertuples()}
    touched = [e for e in build.truth["case_work"] if e["ack_after_minutes"] is not None]
    assert touched
    for entry in touched:
        case = by_key[entry["response_key"]]
        # historical cases: the clock runs from the feedback, as the planted minutes do
        assert case.hours_to_acknowledge == pytest.approx(entry["ack_after_minutes"] / 60, abs=1e-6)
        assert case.resolution_code == entry["resolution_code"]
        assert (case.contact_method if isinstance(case.contact_method, str) else None) == entry[
            "contact_method"
        ]
        assert case.acknowledged_by == f"store_{entry['store_id']}"


def test_the_replay_works_each_planted_case_once_and_a_second_replay_changes_nothing(build):
    entries = build.truth["case_work"]
    first = build.first_replay
    assert first.acknowledged == first.resolved == sum(e["ack_after_minutes"] is not None for e in entries)
    assert first.contacted == sum(e["worked"] for e in entries)
    assert first.too_recent == first.not_yet_due == first.without_case == 0
    assert build.second_replay == Replayed()


def test_loop_health_adds_up_to_the_cases_and_the_planted_stores_differ(build):
    health = _query(build, "select * from marts.mart_loop_health")
    cases = _query(build, "select store_id, is_ack_sla_met, is_worked from marts.fct_cases")
    for grain in ("store", "region", "chain"):
        assert health.loc[health["grain"] == grain, "count_cases_opened"].sum() == len(cases)
    stores = build.truth["planted"]["case_work_stores"]
    never = {store for store, plan in stores.items() if plan["rate"] == 0}
    by_store = cases.groupby("store_id")["is_worked"].sum()
    assert (by_store[by_store.index.isin(never)] == 0).all()  # stores that never work a case
    assert (by_store[~by_store.index.isin(never)] > 0).all()
