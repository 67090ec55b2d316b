"""The planted case work in truth.json: one entry per detractor response delivered, consistent
times, and stores that never work a case never do."""

from __future__ import annotations

import numpy as np
import pytest

from cxlake.generator.case_work import StoreCaseWork, draw_case_work
from cxlake.generator.planted import Planted


def test_every_delivered_detractor_has_exactly_one_case_work_entry(demo, responses):
    """Previews, tests and duplicate submissions open no case, so the stores have nothing to work."""
    quality = demo.truth["planted"]["quality"]
    testers = set(quality["previews"]) | set(quality["tests"])
    duplicates = {entry["response_key"] for entry in quality["duplicates"]}
    detractors = {r["key"] for r in responses if r["nps"] <= 6 and r["key"] not in testers | duplicates}
    keys = [entry["response_key"] for entry in demo.truth["case_work"]]
    assert len(keys) == len(set(keys))
    assert set(keys) == detractors


def test_planted_times_run_in_order_and_codes_match_the_outcome(demo):
    entries = demo.truth["case_work"]
    worked = [e for e in entries if e["worked"]]
    tried = [e for e in entries if not e["worked"] and e["ack_after_minutes"] is not None]
    untouched = [e for e in entries if e["ack_after_minutes"] is None]
    assert worked and tried and untouched
    for e in worked:
        assert 1 <= e["ack_after_minutes"] < e["contact_after_minutes"] < e["resolve_after_minutes"]
        assert e["resolve_after_minutes"] < 2 * 24 * 60  # within the replay's two days
        assert e["contact_method"] in {"phone", "wechat"}
        assert e["resolution_code"] in {"recovered", "apologised", "compensated"}
    for e in tried:
        assert e["contact_after_minutes"] is None and e["contact_method"] is None
        assert e["resolution_code"] == "could_not_reach"
        assert e["ack_after_minutes"] < e["resolve_after_minutes"]
    for e in untouched:
        assert e["resolve_after_minutes"] is None and e["resolution_code"] is None


def test_stores_that_never_work_cases_never_do_and_the_rest_work_about_their_rate(demo):
    stores = demo.truth["planted"]["case_work_stores"]
    never = {store for store, plan in stores.items() if plan["rate"] == 0}
    assert never and len(never) < len(stores)
    entries = demo.truth["case_work"]
    assert not any(e["worked"] or e["ack_after_minutes"] for e in entries if e["store_id"] in never)
    working = [e for e in entries if e["store_id"] not in never]
    expected = np.mean([stores[e["store_id"]]["rate"] for e in working])
    assert np.mean([e["worked"] for e in working]) == pytest.approx(expected, abs=0.06)


@pytest.mark.parametrize(
    ("rate", "worked"),
    [
        (0.0, False),  # a store that never works a case: never, whatever the draw
        (1.0, True),  # a store that works every case
    ],
)
def test_a_store_works_by_its_rate(rate, worked):
    stores = StoreCaseWork(rate=np.array([rate]), ack_median_minutes=np.array([30.0]))
    rng = np.random.default_rng(0)
    ids = {"response_key": "SV:R1", "survey_id": "SV", "response_id": "R1", "store_id": "S001"}
    draws = [draw_case_work(rng, stores, Planted(), 0, ids) for _ in range(50)]
    assert {d["worked"] for d in draws} == {worked}
    assert all(d["store_id"] == "S001" and d["response_key"] == "SV:R1" for d in draws)
