"""问卷星's push delivery (答卷 API 推送): an HTTP endpoint that lands each pushed response as a file.

问卷星 POSTs every submitted response as one JSON object to a URL the survey owner sets
(``{"activity": "5657754", "name": ..., "index": "12", "joinid": "101812480275", "submittime":
"2016-08-23 10:01:59", "timetaken": "528", "q1": "1", "q2": "测试", "q3": "1,2", ..., "sign": ...}``)
and signs it with ``sign = sha1(activity + index + 推送密钥)`` (hex). Choice questions carry option
numbers, as in the "按选项序号" download; ``index`` is the response's 序号, the id the downloads carry.

The endpoint checks the signature, keeps the first delivery of each (survey, index) and writes the
body as delivered to ``landing/wjx/<submit day>/<survey_id>_push_<index>.json`` (written beside the
day folders, then linked in, so the landing sensor never sees half a file). From there the 问卷星
landing source reads it like a download: :func:`parse_push` turns it into the numeric download's
table and the 问卷星 reader (``cxlake.surveys.wjx``) reads it with the survey's mapping, so the gate,
quarantine and the load audit treat a push like any delivered file. The request does no pipeline
work: check, write, answer.

The signature covers only the survey and the index, not the answers: anyone who saw a signed push
can resend its sign with other answers for that index. The first delivery wins (a resend lands
nothing), so serve the endpoint over HTTPS only.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import re
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from cxlake.paths import cxlake_paths
from cxlake.surveys import wjx
from cxlake.surveys.records import ParsedExport
from cxlake.surveys.table import RawTable, UnreadableExport
from cxlake.surveys.timestamps import parse_timestamp

KEY_VARIABLE = "CXLAKE_WJX_PUSH_KEY"  # the 推送密钥 问卷星 gives the survey owner
SURVEYS_VARIABLE = "CXLAKE_WJX_PUSH_SURVEYS"  # "5657754=wjx_instore,..." (问卷星 activity -> survey id)
SOURCE = "wjx"  # pushes land beside the downloads, read by the same landing source
LAYOUT = "wjx-push"
PATH = "/wjx/push"
MAX_BODY_BYTES = 256 * 1024  # a response of 100 questions with long comments is a few kB
DEFAULT_ZONE = "Asia/Shanghai"  # 问卷星 prints local time without a zone
_ID = re.compile(r"^\d{1,20}$")
_QUESTION_KEY = re.compile(r"^q(\d+)$")
_SUB_QUESTION_KEY = re.compile(r"^q(\d+)_(\d+)$")  # a matrix row, as the downloads' 第N题(M)
_OPTION_LIST = re.compile(r"^\d+(?:,\d+)+$")  # a multi-select's chosen option numbers, "1,3"
# push fields the downloads have a column for: the reader finds them under the download's names
_METADATA_COLUMNS = {
    "index": "序号",
    "submittime": "提交答卷时间",
    "timetaken": "所用时间",
    "ipaddress": "来自IP",
}
_NOT_KEPT = {"sign"}  # valid for its index forever: never written to landing/

log = logging.getLogger(__name__)


class PushRefused(ValueError):
    """A push that is not landed: ``status`` is the HTTP answer, ``str()`` says why (names the field)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


@dataclass(frozen=True)
class PushSettings:
    """What the endpoint needs; the key comes from the environment only (never from the repo)."""

    landing: Path
    key: str
    surveys: dict[str, str]  # 问卷星 activity id -> cxlake survey id (its mapping)
    zones: dict[str, str]  # cxlake survey id -> its mapping's time zone
    max_body_bytes: int = MAX_BODY_BYTES

    def survey_id(self, activity: str) -> str:
        """The mapped survey, else ``wjx_<activity>``: kept in landing/ and left unread (with a
        warning) until a mapping names it, so a survey pushed before it is configured loses nothing."""
        return self.surveys.get(activity, f"wjx_{activity}")


@dataclass(frozen=True)
class Landed:
    file: str  # relative to landing/
    duplicate: bool


def sign_of(activity: str, index: str, key: str) -> str:
    """问卷星's push signature: sha1 of activity + index + push key, as lowercase hex."""
    return hashlib.sha1(f"{activity}{index}{key}".encode()).hexdigest()


def read_push(body: bytes) -> dict[str, str]:
    """The pushed object with every value as text; refuses (400) what is not 问卷星's flat object."""
    try:
        push = json.loads(body.decode("utf-8-sig"))
    except UnicodeDecodeError as error:
        raise PushRefused(400, f"body: not UTF-8 (undecodable byte at {error.start})") from None
    except json.JSONDecodeError as error:  # its message says where, never what
        raise PushRefused(400, f"body: not valid JSON ({error})") from None
    if not isinstance(push, dict):
        raise PushRefused(400, "body: not a JSON object")
    nested = [name for name, value in push.items() if isinstance(value, dict | list)]
    if nested:
        raise PushRefused(400, f"{nested[0]}: a nested value where 问卷星 pushes text or a number")
    return {str(name): "" if value is None else str(value) for name, value in push.items()}


def verify(push: dict[str, str], key: str) -> None:
    """The ids the signature covers are well formed (400), and the signature is there and right (401)."""
    for name in ("activity", "index"):
        if not push.get(name, "").strip():
            raise PushRefused(400, f"{name}: missing")
        if not _ID.match(push[name].strip()):
            raise PushRefused(400, f"{name}: not a 问卷星 id (digits)")
    given = push.get("sign", "").strip().lower()
    if not given:
        raise PushRefused(401, "sign: missing (an unsigned push)")
    expected = sign_of(push["activity"].strip(), push["index"].strip(), key)
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise PushRefused(401, "sign: does not match sha1(activity + index + push key)")


def submit_day(push: dict[str, str], zone: str) -> str:
    """The day folder: the submission's local date (问卷星 prints local time; 400 when unreadable)."""
    text = push.get("submittime", "").strip()
    if not text:
        raise PushRefused(400, "submittime: missing")
    moment = parse_timestamp(text, ZoneInfo(zone))
    if moment is None:
        raise PushRefused(400, "submittime: not a time like 2016-08-23 10:01:59")
    return moment.date().isoformat()


def is_push(data: bytes) -> bool:
    """Whether delivered bytes are a landed push (a JSON object with 问卷星's activity and index)."""
    if not data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):
        return False
    try:
        push = read_push(data)
    except PushRefused:
        return False
    return "activity" in push and "index" in push


def push_table(push: dict[str, str]) -> RawTable:
    """The push as the "按选项序号" download's table: one header row and one response row.

    ``qN`` is question ``N、第N题`` (the push has no question texts), ``qN_M`` the sub-column
    ``第N题(M)``; a multi-select's ``1,3`` becomes the download's ``1┋3`` (one answer per chosen
    option); index / submittime / timetaken / ipaddress go under the download's column names and
    every other field (activity, joinid, name, sojumpparm, ...) is kept as response metadata.
    """
    questions, metadata = [], []
    for name, value in push.items():
        if match := _QUESTION_KEY.match(name):
            number = int(match.group(1))
            questions.append(((number, 0), f"{number}、第{number}题", value))
        elif match := _SUB_QUESTION_KEY.match(name):
            number, row = int(match.group(1)), int(match.group(2))
            questions.append(((number, row), f"第{number}题({row})", value))
        elif name not in _NOT_KEPT:
            metadata.append((_METADATA_COLUMNS.get(name, name), value))
    questions.sort(key=lambda question: question[0])
    answers = [
        "┋".join(value.split(",")) if _OPTION_LIST.match(value.strip()) else value
        for _, _, value in questions
    ]
    header = [name for name, _ in metadata] + [column for _, column, _ in questions]
    return RawTable([header, [value for _, value in metadata] + answers], [1, 1], "json")


def parse_push(data: bytes, zone: ZoneInfo) -> ParsedExport:
    """A landed push read by the 问卷星 reader as a one-response numeric download (layout wjx-push)."""
    try:
        push = read_push(data)
    except PushRefused as refused:
        raise UnreadableExport(f"a 问卷星 push: {refused}") from None
    parsed = wjx.parse(push_table(push), "wjx-numeric", zone)
    return ParsedExport(parsed.tool, LAYOUT, parsed.responses, parsed.questions, parsed.warnings)


_landing_lock = threading.Lock()  # one check-then-write at a time (serve with a single worker)


def land(body: bytes, settings: PushSettings, survey_id: str, index: str, day: str) -> Landed:
    """Write the body as delivered into landing/wjx/<day>/, unless this survey's index landed before
    (on any day). Atomic: the file is written and synced beside the day folders, then hard-linked
    into its day folder (a link never replaces a file), so a reader sees all of it or nothing."""
    source = settings.landing / SOURCE
    name = f"{survey_id}_push_{index}.json"
    with _landing_lock:
        earlier = next(source.glob(f"*/{name}"), None) if source.is_dir() else None
        if earlier is not None:
            return Landed(str(earlier.relative_to(settings.landing)), duplicate=True)
        folder = source / day
        folder.mkdir(parents=True, exist_ok=True)
        partial = source / f".{name}.{uuid.uuid4().hex}.partial"  # a file: no day folder, never read
        try:
            with partial.open("xb") as handle:
                handle.write(body)
                handle.flush()
                os.fsync(handle.fileno())
            os.link(partial, folder / name)
        finally:
            partial.unlink(missing_ok=True)
        _sync_folder(folder)
    return Landed(str((folder / name).relative_to(settings.landing)), duplicate=False)


def _sync_folder(folder: Path) -> None:
    """The new name survives a crash once the sender has its 200."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def build_app(settings: PushSettings) -> Starlette:
    """The ASGI app: ``POST /wjx/push`` answers 200 (landed, or a repeat landing nothing), 400 (a
    field is missing or malformed, named), 401 (unsigned or forged), 413 (body too large)."""

    async def receive_push(request: Request) -> JSONResponse:
        try:
            body = await _bounded_body(request, settings.max_body_bytes)
            push = read_push(body)
            verify(push, settings.key)
            survey_id = settings.survey_id(push["activity"].strip())
            day = submit_day(push, settings.zones.get(survey_id, DEFAULT_ZONE))
        except PushRefused as refused:
            log.warning("wjx push refused (HTTP %s): %s", refused.status, refused)
            return JSONResponse({"error": str(refused)}, status_code=refused.status)
        index = push["index"].strip()
        landed = await run_in_threadpool(land, body, settings, survey_id, index, day)
        status = "duplicate" if landed.duplicate else "landed"
        log.info("wjx push %s %s: %s %s", survey_id, index, status, landed.file)
        return JSONResponse({"status": status, "file": landed.file})

    return Starlette(routes=[Route(PATH, receive_push, methods=["POST"])])


async def _bounded_body(request: Request, limit: int) -> bytes:
    """The body, refusing (413) one over ``limit`` bytes before reading it when it says its length,
    else as soon as the stream passes the limit."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PushRefused(413, f"body: {int(declared):,} bytes, more than the {limit:,} accepted")
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            raise PushRefused(413, f"body: more than the {limit:,} bytes accepted")
    return bytes(body)


def settings_from_environment(landing: Path | None = None) -> PushSettings:
    """Settings from ``CXLAKE_WJX_PUSH_KEY`` (required), ``CXLAKE_WJX_PUSH_SURVEYS`` and the cxlake
    home's landing/; a missing key or a malformed survey list fails naming the variable."""
    key = os.environ.get(KEY_VARIABLE, "")
    if not key:
        raise ValueError(f"set {KEY_VARIABLE} to the push key (推送密钥) 问卷星 gives for the survey")
    surveys: dict[str, str] = {}
    for pair in filter(None, (p.strip() for p in os.environ.get(SURVEYS_VARIABLE, "").split(","))):
        activity, _, survey_id = (part.strip() for part in pair.partition("="))
        if not _ID.match(activity) or not survey_id:
            raise ValueError(f"{SURVEYS_VARIABLE}: {pair!r} is not <问卷星 activity id>=<survey id>")
        surveys[activity] = survey_id
    # imported here: the mapping module reads surveys through the readers, which read pushes here
    from cxlake.surveys.mapping import load_mappings

    zones = {mapping.survey_id: mapping.timezone for mapping in load_mappings()}
    root = (landing or cxlake_paths().landing).resolve()
    return PushSettings(landing=root, key=key, surveys=surveys, zones=zones)


def app_from_environment() -> Starlette:
    """For ``uvicorn --factory cxlake.sources.wjx_push:app_from_environment``."""
    return build_app(settings_from_environment())


def serve_push_command(
    host: Annotated[str, typer.Option(help="Interface to listen on (a reverse proxy adds HTTPS).")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8090,
    landing: Annotated[
        Path | None, typer.Option(help="Landing folder (default: the cxlake home's landing/).")
    ] = None,
) -> None:
    """Receive 问卷星's pushed responses on POST /wjx/push and land each in landing/wjx/<day>/.

    Settings from the environment: CXLAKE_WJX_PUSH_KEY (the push key, required) and
    CXLAKE_WJX_PUSH_SURVEYS (``<activity id>=<survey id>,...``). One worker: the check for an
    earlier delivery of a response is made under a lock of this process.
    """
    import uvicorn

    try:
        settings = settings_from_environment(landing)
    except ValueError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(code=1) from None
    typer.echo(f"landing 问卷星 pushes under {settings.landing / SOURCE} (POST http://{host}:{port}{PATH})")
    uvicorn.run(build_app(settings), host=host, port=port, workers=1)
