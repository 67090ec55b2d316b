"""问卷星's push delivery: a real uvicorn server on loopback receives signed pushes (real HTTP), lands
each once in landing/wjx/<day>/, refuses forged, unsigned, malformed and oversized ones, and what it
lands loads through the 问卷星 landing source, the gate and the load audit like a download."""

from __future__ import annotations

import json
import socket
import statistics
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
import requests
import uvicorn
from dagster import materialize
from loopback_api import write_roster
from typer.testing import CliRunner

from assets.ingestion.assets import build_ingestion_assets
from assets.ingestion.sources import SOURCES
from cxlake.cli import app as cli
from cxlake.pipeline.partitions import daily_partitions
from cxlake.pipeline.resources import LandingZone, Warehouse
from cxlake.sources.wjx_push import KEY_VARIABLE, PATH, PushSettings, build_app, sign_of

KEY = "push-key-of-the-tests-not-a-secret"
ACTIVITY = "5657754"  # 问卷星's id of the in-store survey (wjx_instore)
DAY = "2026-01-05"
WJX = next(source for source in SOURCES if source.name == "wjx")


def pushed(index: str, **answers: str) -> dict[str, str]:
    """A response as 问卷星 pushes it (the documented sample's fields; the in-store survey's
    questions: store, receipt, NPS option 1-11, five CSAT options 1-5, categories, comment)."""
    push = {
        "activity": ACTIVITY,
        "name": "栖云咖啡门店体验调查",
        "index": index,
        "joinid": f"1018124802{index}",
        "submittime": "2026-01-05 12:03:44",
        "timetaken": "125",
        "ipaddress": "116.22.3.4",
        "sojumpparm": "T00000123",
        "q1": "S001",
        "q2": "T00000123",
        "q3": "10",  # the 10th of 11 options: score 9
        "q4": "5",
        "q5": "4",
        "q6": "-3",  # skipped by the survey's logic
        "q7": "3",
        "q8": "4",
        "q9": "1,4",  # coffee and dessert
        "q10": "拿铁很好喝,下次还来",
        "totalvalue": "0",
    } | answers
    return push | {"sign": sign_of(push["activity"], push["index"], KEY)}


def body(push: dict[str, str]) -> bytes:
    return json.dumps(push, ensure_ascii=False).encode("utf-8")


@dataclass
class Endpoint:
    url: str
    landing: Path

    def post(self, data: bytes, **headers: str) -> requests.Response:
        return requests.post(
            self.url, data=data, headers={"Content-Type": "application/json", **headers}, timeout=10
        )

    def landed(self) -> list[str]:
        return sorted(str(p.relative_to(self.landing)) for p in self.landing.rglob("*") if p.is_file())


@pytest.fixture
def endpoint(tmp_path) -> Iterator[Endpoint]:
    """The push app served by uvicorn on a loopback port of its own."""
    landing = tmp_path / "landing"
    settings = PushSettings(landing, KEY, {ACTIVITY: "wjx_instore"}, {"wjx_instore": "Asia/Shanghai"}, 4096)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(build_app(settings), log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.started, "uvicorn did not start"
    yield Endpoint(f"http://127.0.0.1:{sock.getsockname()[1]}{PATH}", landing)
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


def test_a_signed_push_lands_once_as_delivered_and_a_replay_lands_nothing(endpoint):
    delivered = body(pushed("101"))
    first = endpoint.post(delivered)
    assert (first.status_code, first.json()) == (
        200,
        {"status": "landed", "file": f"wjx/{DAY}/wjx_instore_push_101.json"},
    )
    path = endpoint.landing / "wjx" / DAY / "wjx_instore_push_101.json"
    assert path.read_bytes() == delivered
    written = path.stat().st_mtime_ns

    replay = endpoint.post(delivered)
    assert (replay.status_code, replay.json()["status"]) == (200, "duplicate")
    # the same response resent with another submit time still lands nothing (dedup is per survey + index)
    moved = endpoint.post(body(pushed("101", submittime="2026-01-06 09:00:00", q10="改过的")))
    assert (moved.status_code, moved.json()) == (
        200,
        {"status": "duplicate", "file": f"wjx/{DAY}/wjx_instore_push_101.json"},
    )
    assert endpoint.landed() == [f"wjx/{DAY}/wjx_instore_push_101.json"]
    assert path.stat().st_mtime_ns == written and path.read_bytes() == delivered


def test_forged_and_unsigned_pushes_are_refused_with_401_and_nothing_written(endpoint):
    forged = pushed("102") | {"sign": sign_of(ACTIVITY, "102", "a-guessed-key")}
    moved_sign = pushed("103") | {"sign": pushed("102")["sign"]}  # a real sign, for another response
    unsigned = {k: v for k, v in pushed("104").items() if k != "sign"}
    for push, reason in (
        (forged, "sign: does not match"),
        (moved_sign, "sign: does not match"),
        (unsigned, "sign: missing"),
        (pushed("105") | {"sign": ""}, "sign: missing"),
    ):
        answer = endpoint.post(body(push))
        assert answer.status_code == 401
        assert answer.json()["error"].startswith(reason)
        assert KEY not in answer.text
    assert endpoint.landed() == []


def test_the_sign_is_checked_case_blind_as_hex(endpoint):
    push = pushed("106")
    answer = endpoint.post(body(push | {"sign": push["sign"].upper()}))
    assert (answer.status_code, answer.json()["status"]) == (200, "landed")


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b'{"activity": "5657754", "index": "1"', "body: not valid JSON (Expecting ',' delimiter: line 1"),
        (b"\xff\xfe{}", "body: not UTF-8 (undecodable byte at 0)"),
        (b'["activity", "index"]', "body: not a JSON object"),
        (body({k: v for k, v in pushed("107").items() if k != "index"}), "index: missing"),
        (body(pushed("108") | {"activity": "../../etc"}), "activity: not a 问卷星 id (digits)"),
        (body({k: v for k, v in pushed("109").items() if k != "submittime"}), "submittime: missing"),
        (body(pushed("110", submittime="yesterday noon")), "submittime: not a time like 2016-08-23 10:01:59"),
        (body(pushed("111") | {"q5": {"row": 1}}), "q5: a nested value where 问卷星 pushes text or a number"),
    ],
)
def test_malformed_pushes_are_refused_with_400_naming_the_field(endpoint, data, error):
    answer = endpoint.post(data)
    assert answer.status_code == 400
    assert answer.json()["error"].startswith(error)
    assert endpoint.landed() == []


def test_a_body_over_the_limit_is_refused_with_413_unread(endpoint):
    too_long = body(pushed("112", q10="很" * 2000))  # 6 kB of comment; the test endpoint takes 4,096 bytes
    answer = endpoint.post(too_long)
    assert (answer.status_code, answer.json()["error"]) == (
        413,
        f"body: {len(too_long):,} bytes, more than the 4,096 accepted",
    )
    streamed = requests.post(endpoint.url, data=iter([too_long[:3000], too_long[3000:]]), timeout=10)
    assert (streamed.status_code, streamed.json()["error"]) == (
        413,
        "body: more than the 4,096 bytes accepted",
    )
    assert endpoint.landed() == []


def test_concurrent_resends_of_one_response_land_one_file(endpoint):
    delivered = body(pushed("113"))
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda _: endpoint.post(delivered), range(16)))
    assert {a.status_code for a in answers} == {200}
    assert sorted(a.json()["status"] for a in answers) == ["duplicate"] * 15 + ["landed"]
    assert endpoint.landed() == [f"wjx/{DAY}/wjx_instore_push_113.json"]


def test_a_survey_not_yet_mapped_is_kept_under_its_activity_and_left_unread(endpoint):
    push = pushed("7") | {"activity": "9990001"}
    answer = endpoint.post(body(push | {"sign": sign_of("9990001", "7", KEY)}))
    assert answer.json() == {"status": "landed", "file": f"wjx/{DAY}/wjx_9990001_push_7.json"}
    load = WJX.load_partition(endpoint.landing, endpoint.landing / "wjx" / DAY, DAY)
    assert load.frames == {}
    assert load.warnings == [
        f"wjx/{DAY}/wjx_9990001_push_7.json: no survey mapping matches this file; left unread"
    ]


def test_landed_pushes_read_like_a_numeric_download_with_the_survey_mapping(endpoint):
    endpoint.post(body(pushed("101")))
    endpoint.post(body(pushed("102", q1="S002", q3="1", q4="2", q9="2", q10="")))
    load = WJX.load_partition(endpoint.landing, endpoint.landing / "wjx" / DAY, DAY)
    responses = load.frames["wjx_responses"].set_index("response_id")
    assert list(responses.index) == ["101", "102"]
    assert set(responses["layout"]) == {"wjx-push"}
    assert responses.loc["101", "submitted_at"] == "2026-01-05T12:03:44+08:00"
    assert responses.loc["101", "started_at"] == "2026-01-05T12:01:39+08:00"
    assert responses["_nps_score"].tolist() == [9, 0]  # options 10 and 1 of 0-10
    assert responses["_csat_min"].tolist() == [3, 2]
    assert responses["_store_id"].tolist() == ["S001", "S002"]
    metadata = json.loads(responses.loc["101", "metadata"])
    assert (metadata["joinid"], metadata["sojumpparm"], metadata["activity"]) == (
        "1018124802101",
        "T00000123",
        ACTIVITY,
    )
    assert "sign" not in metadata
    answers = load.frames["wjx_answers"]
    first = answers[answers["response_id"] == "101"]
    assert first[["question_id", "answer"]].values.tolist() == [
        ["Q1", "S001"],
        ["Q2", "T00000123"],
        ["Q3", "9"],
        ["Q4", "5"],
        ["Q5", "4"],
        ["Q7", "3"],  # Q6 was skipped (-3): no answer
        ["Q8", "4"],
        ["Q9", "1"],  # one answer per chosen option, as the downloads give
        ["Q9", "4"],
        ["Q10", "拿铁很好喝,下次还来"],  # a comment's comma is no option list
    ]
    assert [a.file for a in load.audits] == [
        f"wjx/{DAY}/wjx_instore_push_101.json",
        f"wjx/{DAY}/wjx_instore_push_102.json",
    ]


def test_pushes_load_through_the_gate_and_the_audit_and_a_download_of_the_same_response_is_a_repeat(
    endpoint, tmp_path
):
    endpoint.post(body(pushed("201")))
    endpoint.post(body(pushed("202", q1="S002", q3="12")))  # option 12 of 11: the gate holds it back
    write_roster(endpoint.landing, DAY)
    # the day's download, delivered later beside the pushes, holds response 201 again
    download = (Path(__file__).parents[1] / "fixtures" / "surveys" / "wjx_instore_numeric.csv").read_text(
        "utf-8-sig"
    )
    header, *_ = download.splitlines()
    row = "201,2026/1/5 12:03:44,125秒,微信,N/A,116.22.3.4,S001,T00000123,10,5,4,4,3,4,1,0,0,1,拿铁很好喝"
    (endpoint.landing / "wjx" / DAY / f"wjx_instore_{DAY}.csv").write_text(
        f"{header}\n{row}\n", encoding="utf-8-sig"
    )
    assets = {a.node_def.name: a for a in build_ingestion_assets(daily_partitions("2020-01-01"))}
    warehouse = tmp_path / "w.duckdb"
    result = materialize(
        [assets["ingest_reference"], assets["ingest_wjx"]],
        partition_key=DAY,
        resources={
            "landing": LandingZone(root=str(endpoint.landing)),
            "warehouse": Warehouse(path=str(warehouse)),
        },
    )
    assert result.success
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        loaded = connection.execute(
            "select response_id, layout, _source_file from raw.wjx_responses order by 1"
        ).fetchall()
        held = connection.execute(
            "select response_id, layout, _failed_expectations from quarantine.wjx_responses order by 1, 2"
        ).fetchall()
        audit = connection.execute(
            "select file, rows_in, rows_loaded, rows_quarantined from dq.load_audit "
            "where raw_table = 'wjx_responses' order by file"
        ).fetchall()
    # one response, one row: the download is read first (file order), the push of 201 is the repeat
    assert loaded == [("201", "wjx-numeric", f"wjx/{DAY}/wjx_instore_{DAY}.csv")]
    assert [(r, layout) for r, layout, _ in held] == [("201", "wjx-push"), ("202", "wjx-push")]
    assert "response_key_repeated" in held[0][2]
    assert "_nps_score" in held[1][2]
    assert audit == [
        (f"wjx/{DAY}/wjx_instore_{DAY}.csv", 1, 1, 0),
        (f"wjx/{DAY}/wjx_instore_push_201.json", 1, 0, 1),
        (f"wjx/{DAY}/wjx_instore_push_202.json", 1, 0, 1),
    ]


def test_answers_in_milliseconds_well_within_a_senders_timeout(endpoint):
    timings = []
    for index in range(300, 320):
        started = time.perf_counter()
        answer = endpoint.post(body(pushed(str(index))))
        timings.append(time.perf_counter() - started)
        assert answer.status_code == 200
    median, longest = statistics.median(timings) * 1000, max(timings) * 1000
    print(f"push round trip: median {median:.1f} ms, max {longest:.1f} ms")
    assert statistics.median(timings) < 2.0  # generous: a loaded 2-core machine, still far below seconds


def test_serve_push_without_a_key_names_the_variable(monkeypatch, tmp_path):
    monkeypatch.delenv(KEY_VARIABLE, raising=False)
    result = CliRunner().invoke(cli, ["serve-push", "--landing", str(tmp_path)])
    assert result.exit_code == 1
    assert KEY_VARIABLE in result.output
