"""The app event stream as the collector writes it (read back from the files, not the generator's state):
volume, one ordering session per app order, the delivery defects and the planted payment error."""

from __future__ import annotations

import json
import re
import statistics
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from cxlake.generator import generate
from cxlake.landing import APP_EVENT_FIELDS as COLUMNS

_STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+08:00$")
_GAP = timedelta(minutes=30)


def _at(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp)


@pytest.fixture(scope="module")
def lines(demo) -> list[tuple[str, str, str, dict]]:
    """(folder day, file name, raw line, event) for every delivered line."""
    out = []
    for path in sorted((demo.root / "app_events").glob("*/*.jsonl")):
        text = path.read_bytes().decode("utf-8")
        assert text.endswith("\n") and "\r" not in text
        for line in text.splitlines():
            out.append((path.parent.name, path.name, line, json.loads(line)))
    return out


@pytest.fixture(scope="module")
def events(lines) -> list[dict]:
    """Each event once (the first delivery of a duplicated one)."""
    seen, out = set(), []
    for _day, _name, _line, e in lines:
        if e["event_id"] not in seen:
            seen.add(e["event_id"])
            out.append(e)
    return out


@pytest.fixture(scope="module")
def sessions(events) -> list[list[dict]]:
    """Sessionised as the pipeline does: per device, a new session after 30 minutes without an event."""
    by_device = defaultdict(list)
    for e in events:
        by_device[e["device_id"]].append(e)
    out = []
    for device_events in by_device.values():
        device_events.sort(key=lambda e: e["occurred_at"])
        current = [device_events[0]]
        for previous, e in zip(device_events, device_events[1:], strict=False):
            if _at(e["occurred_at"]) - _at(previous["occurred_at"]) > _GAP:
                out.append(current)
                current = []
            current.append(e)
        out.append(current)
    return out


def _device_lag(events) -> dict[str, float]:
    """Median (received - occurred) per device: minus its clock skew, plus the network delay."""
    lags = defaultdict(list)
    for e in events:
        lags[e["device_id"]].append((_at(e["received_at"]) - _at(e["occurred_at"])).total_seconds())
    return {d: statistics.median(v) for d, v in lags.items()}


def test_every_line_is_one_object_with_the_contract_keys_and_formats(lines):
    assert len(lines) > 100_000
    for _day, _name, line, e in lines[::97]:
        assert tuple(e) == COLUMNS
        assert re.fullmatch(r"[0-9a-f]{32}", e["event_id"]) and re.fullmatch(r"d[0-9a-f]{12}", e["device_id"])
        assert _STAMP.match(e["occurred_at"]) and _STAMP.match(e["received_at"])
        assert e["session_hint"].isdigit() and e["app_version"] in {"5.3.0", "5.2.1", "5.1.4"}
        assert (e["dwell_ms"] is not None) == (e["event_type"] == "page_view")
        assert (e["error_code"] == "PAY_TIMEOUT") == (e["event_type"] == "app_error")
        if e["event_type"] in ("add_to_cart", "remove_from_cart") or (e["page"] == "item"):
            assert re.fullmatch(r"P\d{3}", e["item"])
        if "栖" in line or "咖" in line:
            pytest.fail("no free text in events")


def test_each_file_holds_the_events_received_in_its_local_hour(lines):
    for day, name, _line, e in lines:
        assert e["received_at"][:10] == day
        assert name == f"events_{e['received_at'][11:13]}.jsonl"


def test_about_ten_events_per_pos_transaction_every_day(demo, lines):
    per_day = Counter(day for day, *_ in lines)
    transactions = Counter(t["ordered_at"][:10] for t in demo.transactions)
    ratios = {day: per_day[day] / transactions[day] for day in transactions}
    assert all(8 <= r <= 12 for r in ratios.values()), ratios


def test_every_app_order_has_exactly_one_order_placed_with_its_total(demo, events):
    placed = Counter(e["order_id"] for e in events if e["event_type"] == "order_placed")
    assert None not in placed and max(placed.values()) == 1
    by_id = {t["transaction_id"]: t for t in demo.transactions}
    assert all(by_id[o]["channel"] == "app" for o in placed)
    # a late tail arrives at most 36 h after it happened: the orders of all but the last two days are in
    last = max(t["ordered_at"][:10] for t in demo.transactions)
    settled = datetime.fromisoformat(last).date() - timedelta(days=2)
    app = {
        t["transaction_id"]
        for t in demo.transactions
        if t["channel"] == "app" and t["ordered_at"][:10] < settled.isoformat()
    }
    assert app <= set(placed) and len(app) > 5_000
    for e in events:
        if e["event_type"] == "order_placed":
            assert f"{e['price']:.2f}" == by_id[e["order_id"]]["amount"]
            assert e["store_id"] == by_id[e["order_id"]]["store_id"]


def test_ordering_sessions_walk_to_the_order_and_sign_in_on_the_way(sessions):
    ordering = [s for s in sessions if any(e["event_type"] == "order_placed" for e in s)]
    assert len(ordering) > 5_000
    pages = Counter()
    signed_from_start = members = 0
    for s in ordering:
        kinds = [e["event_type"] for e in s]
        assert kinds.count("order_placed") == 1 and "checkout_start" in kinds and "add_to_cart" in kinds
        pages.update({e["page"] for e in s})
        if any(e["member_id"] for e in s):
            members += 1
            signed_from_start += s[0]["member_id"] is not None
            assert len({e["member_id"] for e in s if e["member_id"]}) == 1
    assert pages["payment"] == pages["cart"] == len(ordering)
    assert 0.7 < signed_from_start / members < 0.8


def test_events_of_a_session_are_minutes_apart_and_sessions_of_a_device_half_an_hour(events):
    by_device = defaultdict(list)
    for e in events:
        by_device[e["device_id"]].append(_at(e["occurred_at"]))
    gaps = [
        b - a for times in by_device.values() for a, b in zip(sorted(times), sorted(times)[1:], strict=False)
    ]
    assert not [g for g in gaps if timedelta(minutes=10) < g <= _GAP]
    assert sum(g > _GAP for g in gaps) > 1_000


def test_about_one_percent_of_events_arrive_twice_identical_and_later(lines):
    first: dict[str, tuple[str, dict]] = {}
    duplicates = 0
    for _day, _name, line, e in lines:
        if e["event_id"] in first:
            duplicates += 1
            original_line, original = first[e["event_id"]]
            assert {**e, "received_at": None} == {**original, "received_at": None}
            delay = _at(e["received_at"]) - _at(original["received_at"])
            assert timedelta(seconds=1) <= delay <= timedelta(seconds=120)
        else:
            first[e["event_id"]] = (line, e)
    assert 0.007 < duplicates / len(first) < 0.013


def test_late_tails_land_in_later_hours_and_days(events, sessions):
    lag = _device_lag(events)

    def is_late(e: dict) -> bool:
        return (_at(e["received_at"]) - _at(e["occurred_at"])).total_seconds() - lag[e["device_id"]] > 3600

    late = [e for e in events if is_late(e)]
    assert 0.005 < len(late) / len(events) < 0.02
    late_sessions = [s for s in sessions if any(is_late(e) for e in s)]
    assert 0.01 < len(late_sessions) / len(sessions) < 0.03
    # a tail: once late, the rest of the session is late too
    assert all(is_late(s[-1]) for s in late_sessions[:500])
    # by the true time (occurred minus the device's skew), a good share arrives on a later day
    later_day = [
        e
        for e in late
        if (_at(e["occurred_at"]) + timedelta(seconds=lag[e["device_id"]])).date()
        < _at(e["received_at"]).date()
    ]
    assert len(later_day) > 0.2 * len(late)


def test_most_device_clocks_are_seconds_off_and_some_minutes_to_hours(events):
    skews = [abs(v) for v in _device_lag(events).values()]
    assert 0.85 < sum(s < 5 for s in skews) / len(skews) < 0.96
    assert 0.05 < sum(s > 110 for s in skews) / len(skews) < 0.12
    assert max(skews) > 3600


def test_payment_error_lowers_payment_to_order_conversion_from_its_start_day(demo, sessions):
    planted = demo.truth["planted"]["app_error"]
    assert planted["page"] == "payment" and planted["error_code"] == "PAY_TIMEOUT"
    start = planted["start_date"]
    reached = {"before": [0, 0], "after": [0, 0]}
    errors = Counter()
    for s in sessions:
        if any(e["page"] == "payment" for e in s):
            period = "after" if s[0]["received_at"][:10] >= start else "before"
            reached[period][0] += 1
            reached[period][1] += any(e["event_type"] == "order_placed" for e in s)
            errors[period] += any(e["event_type"] == "app_error" for e in s)
    before, after = (ordered / total for total, ordered in reached.values())
    assert 0.86 < before < 0.94 and after < before - 0.1
    assert errors["before"] == 0 and 0.2 < errors["after"] / reached["after"][0] < 0.3
    assert planted["errored_ordering_sessions"] > 0 and planted["errored_abandoned_sessions"] > 0


def test_orders_whose_session_hit_the_error_rate_the_app_lower(demo, sessions, responses):
    errored = {
        e["order_id"]
        for s in sessions
        if any(e["event_type"] == "app_error" for e in s)
        for e in s
        if e["event_type"] == "order_placed"
    }
    quality = demo.truth["planted"]["quality"]
    junk = set(quality["speeders"]) | set(quality["straight_liners"]) | set(quality["previews"])
    junk |= set(quality["tests"]) | {d["response_key"] for d in quality["duplicates"]}
    start = datetime.fromisoformat(demo.truth["planted"]["app_error"]["start_date"])
    app = [
        r
        for r in responses
        if r["key"] not in junk and "app" in r["csat"] and r["transaction"] and r["submitted"] >= start
    ]
    hit = [r["csat"]["app"] for r in app if r["transaction"] in errored]
    other = [r["csat"]["app"] for r in app if r["transaction"] not in errored]
    assert len(hit) > 20 and len(other) > 100
    assert statistics.mean(other) - statistics.mean(hit) > 0.5


def test_same_seed_writes_byte_identical_event_files(tmp_path):
    def tree(root: Path) -> dict[str, bytes]:
        return {
            str(p.relative_to(root)): p.read_bytes() for p in sorted((root / "app_events").rglob("*.jsonl"))
        }

    generate(tmp_path / "a", seed=5, days=2, progress=False)
    generate(tmp_path / "b", seed=5, days=2, progress=False)
    generate(tmp_path / "c", seed=6, days=2, progress=False)
    a = tree(tmp_path / "a")
    assert a and a == tree(tmp_path / "b")
    assert a != tree(tmp_path / "c")
