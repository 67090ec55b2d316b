"""A real HTTP server on loopback that answers like a survey / review platform's list API.

It serves recorded records (tests/fixtures/<source>/*.json) the way the platforms do: filtered by
``modified_since`` (inclusive), sorted by (modified time, id), ``per_page`` at a time, each page
linking to the next, a bearer token required. Faults are queued per page number and served once
each, in order: ``429`` (Retry-After), ``quota`` (429 with the daily-remaining header at 0),
``500``, ``cut`` (fewer bytes than Content-Length, then the connection closes) and ``cut-json`` (a
page cut short but with a matching Content-Length, as a proxy that truncates would send).
"""

from __future__ import annotations

import csv
import json
import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cxlake import landing as contract

FIXTURES = Path(__file__).parents[1] / "fixtures"
TOKEN = "test-token-not-a-secret"


def recorded(source: str, name: str) -> list[dict]:
    return json.loads((FIXTURES / source / name).read_text("utf-8"))


def _utc(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(UTC)


@dataclass
class RecordedApi:
    """The server's state: records per collection id, queued faults, and every request it saw."""

    id_field: str = "id"
    modified_field: str = "modified_at"
    records: dict[str, list[dict]] = field(default_factory=dict)
    faults: list[tuple[int, str]] = field(default_factory=list)  # (page number, fault), served once
    retry_after: str = "2"
    requests: list[str] = field(default_factory=list)
    base_url: str = ""

    def publish(self, item_id: str, changed: list[dict]) -> None:
        """The platform's current state after ``changed`` were submitted or edited (by id)."""
        current = {r[self.id_field]: r for r in self.records.get(item_id, [])}
        current.update({r[self.id_field]: r for r in changed})
        self.records[item_id] = list(current.values())

    def page(self, item_id: str, query: dict[str, str]) -> dict:
        since = _utc(query.get("modified_since", "1970-01-01T00:00:00+00:00"))
        per_page, number = int(query.get("per_page", "100")), int(query.get("page", "1"))
        matching = sorted(
            (r for r in self.records.get(item_id, []) if _utc(r[self.modified_field]) >= since),
            key=lambda r: (_utc(r[self.modified_field]), r[self.id_field]),
        )
        chunk = matching[(number - 1) * per_page : number * per_page]
        more = len(matching) > number * per_page
        nxt = {**query, "page": str(number + 1)}
        path = self.path_of(item_id)
        return {
            "data": chunk,
            "page": number,
            "total": len(matching),
            "links": {"next": f"{path}?{urllib.parse.urlencode(nxt)}" if more else None},
        }

    def path_of(self, item_id: str) -> str:
        raise NotImplementedError


@dataclass
class SurveyApi(RecordedApi):
    def path_of(self, item_id: str) -> str:
        return f"/surveys/{item_id}/responses"


def _handler(api: RecordedApi):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # keep the test output quiet
            pass

        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            api.requests.append(self.path)
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                return self._send(401, {"error": {"message": "invalid access token"}})
            parts = urllib.parse.urlsplit(self.path)
            segments = parts.path.strip("/").split("/")
            if len(segments) != 3:
                return self._send(404, {"error": {"message": "no such resource"}})
            query = dict(urllib.parse.parse_qsl(parts.query))
            number = int(query.get("page", "1"))
            fault = next((f for f in api.faults if f[0] == number), None)
            if fault:
                api.faults.remove(fault)
                return self._fault(fault[1], api.page(segments[1], query))
            return self._send(200, api.page(segments[1], query))

        def _fault(self, kind: str, page: dict) -> None:
            if kind == "429":
                return self._send(429, {"error": "too many requests"}, {"Retry-After": api.retry_after})
            if kind == "quota":
                headers = {"Retry-After": "3600", "X-Ratelimit-App-Global-Day-Remaining": "0"}
                return self._send(429, {"error": "daily limit reached"}, headers)
            if kind == "500":
                return self._send(500, {"error": "internal error"})
            body = json.dumps(page).encode()
            if kind == "cut":
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[: len(body) // 2])
                self.close_connection = True
                return None
            assert kind == "cut-json", kind
            return self._send_bytes(200, body[: len(body) // 2])

        def _send(self, status: int, payload: dict, headers: dict | None = None) -> None:
            self._send_bytes(status, json.dumps(payload, ensure_ascii=False).encode(), headers)

        def _send_bytes(self, status: int, body: bytes, headers: dict | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

    return Handler


def serve(api: RecordedApi) -> Iterator[RecordedApi]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(api))
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    api.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def write_roster(landing: Path, day: str) -> None:
    """The two stores the recorded responses and reviews name, delivered on ``day``."""
    folder = landing / "reference" / day
    folder.mkdir(parents=True)
    rows = {
        contract.STORES: [
            ["S001", "人民广场店", "R1", "华东", "上海", "2020-01-01"],
            ["S002", "徐家汇店", "R1", "华东", "上海", "2021-06-01"],
        ],
        contract.STAFF: [["E001", "S001", "王芳", "barista", "2022-01-01"]],
    }
    for delivered, lines in rows.items():
        with (folder / delivered.file_name).open("w", newline="", encoding="utf-8") as handle:
            csv.writer(handle).writerows([delivered.columns, *lines])


@dataclass
class ReviewApi(RecordedApi):
    id_field: str = "review_id"
    modified_field: str = "updated_at"

    def path_of(self, item_id: str) -> str:
        return f"/shops/{item_id}/reviews"
