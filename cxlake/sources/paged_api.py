"""Pull a paginated JSON API incrementally and land each page in ``landing/`` as a delivery.

The shape the big survey and review platforms share (SurveyMonkey's response lists, the review
sites' open APIs): ``GET <base>/<collection>/<id>/<items>?modified_since=<time>&sort=modified``
answers ``{"data": [...], "links": {"next": <url or null>}}``, oldest change first. Every record
carries its id and its last-modified time.

Why the cursor is the last-modified time and not the recorded time: a response or review edited
after it was first pulled has a new last-modified time, so the next pull fetches it again and the
new version lands beside the old one (the warehouse keeps both as history). The cursor is the
(last-modified, id) of the last record landed: the next pull asks from that time inclusive and
drops what is not after it, so records sharing the cursor's second are neither skipped nor landed
twice.

Why pages land one by one: each page is written before the next is asked for, and the cursor only
moves past pages that are on disk. A run stopped by the daily quota, a server that keeps failing or
a page that never arrives whole resumes from the cursor next time and never skips a page.
"""

from __future__ import annotations

import contextlib
import email.utils
import http.client
import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from cxlake.contracts import BUSINESS_TIMEZONE

BUSINESS_ZONE = ZoneInfo(BUSINESS_TIMEZONE)
# SurveyMonkey's name for the requests left today; 0 on a 429 means wait for tomorrow, not seconds.
DAILY_REMAINING_HEADER = "X-Ratelimit-App-Global-Day-Remaining"
PARTIAL_FOLDER = ".partial"  # under landing/<source>/ while a page is written: no sensor or load reads it


@dataclass(frozen=True)
class ApiSource:
    """What differs between two APIs of this shape: names, paths and record fields."""

    name: str  # the landing folder, landing/<name>/<day>/
    env_prefix: str  # <prefix>_URL, <prefix>_TOKEN, <prefix>_IDS
    items_path: str  # "/surveys/{id}/responses"
    id_field: str
    modified_field: str
    items_key: str  # the list's key in a delivery file ("responses", "reviews")
    what: str  # "surveys", "shops": what <prefix>_IDS lists, for messages
    platform: str | None = None  # review pages say which platform they come from, as the files do
    day_field: str | None = None  # land each record on this time's day (reviews: posted that day)

    @property
    def label(self) -> str:
        """The source as messages name it: ``survey_api``, ``reviews (dianping)``."""
        return f"{self.name} ({self.platform})" if self.platform else self.name


@dataclass(frozen=True)
class ApiSettings:
    """Where the API is and how to ask it; the token only ever comes from the environment."""

    base_url: str
    token: str
    ids: tuple[str, ...]
    page_size: int = 100
    max_attempts: int = 5  # per page, for 429 / 5xx / truncated answers
    backoff_seconds: float = 1.0  # doubled on each retry of a page
    max_backoff_seconds: float = 60.0
    max_wait_seconds: float = 900.0  # a Retry-After longer than this means the quota is spent
    timeout_seconds: float = 30.0
    start: str = "1970-01-01T00:00:00+00:00"  # modified_since of the very first pull

    @classmethod
    def from_env(cls, source: ApiSource, environ: dict[str, str] | None = None, **options) -> ApiSettings:
        """Settings from ``<prefix>_URL``, ``<prefix>_TOKEN`` and ``<prefix>_IDS`` (comma-separated)."""
        env = os.environ if environ is None else environ
        missing = [
            f"{source.env_prefix}_{k}"
            for k in ("URL", "TOKEN", "IDS")
            if not env.get(f"{source.env_prefix}_{k}")
        ]
        if missing:
            raise ApiConfigError(
                f"{source.label}: set {', '.join(missing)} (the API's base URL, an API token with read "
                f"access, and the {source.what} to pull, comma-separated)"
            )
        ids = tuple(i.strip() for i in env[f"{source.env_prefix}_IDS"].split(",") if i.strip())
        return cls(
            env[f"{source.env_prefix}_URL"].rstrip("/"), env[f"{source.env_prefix}_TOKEN"], ids, **options
        )


class ApiConfigError(Exception):
    """A setting is missing: nothing was asked of the API."""


@dataclass(frozen=True, order=True)
class Cursor:
    """The (last-modified time in UTC, id) of the last record landed; ordered like the API sorts."""

    modified_at: str
    last_id: str = ""

    def to_json(self) -> dict:
        return {"modified_at": self.modified_at, "last_id": self.last_id}

    @classmethod
    def from_json(cls, value: dict | None) -> Cursor | None:
        return cls(value["modified_at"], value.get("last_id", "")) if value else None


@dataclass
class PullResult:
    """One id's pull: what landed, where the cursor stands, and why it stopped if it stopped early."""

    source: str
    id: str
    cursor: Cursor | None
    files: list[Path] = field(default_factory=list)
    records: int = 0
    pages: int = 0
    retries: int = 0
    waited_seconds: float = 0.0
    quota_spent: str | None = None  # a stop to resume tomorrow, not a failure
    error: str | None = None  # a stop that needs a person (token, URL, a page that never came whole)


class _QuotaSpent(Exception):
    pass


class _Refused(Exception):
    pass


def utc_text(value: str, where: str) -> str:
    """An ISO time with an offset as UTC text with a fixed width, so text order is time order."""
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (TypeError, ValueError, AttributeError):
        raise _Refused(f"{where}: {value!r} is not an ISO time") from None
    if moment.tzinfo is None:
        raise _Refused(f"{where}: {value!r} has no UTC offset")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """Retry-After as seconds (RFC 9110: delay-seconds or an HTTP date); None if absent or unreadable."""
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - now).total_seconds())


class PageFetcher:
    """GETs one page, retrying what a retry can fix and naming the source in what it cannot."""

    def __init__(
        self, source: ApiSource, settings: ApiSettings, result: PullResult, sleep: Callable[[float], None]
    ):
        self.source, self.settings, self.result, self.sleep = source, settings, result, sleep

    def get(self, url: str) -> dict:
        delay = self.settings.backoff_seconds
        problem = ""
        for attempt in range(1, self.settings.max_attempts + 1):
            wait = None
            try:
                return self._get_once(url)
            except urllib.error.HTTPError as error:
                problem, wait = self._retryable(error, url)
            except (http.client.IncompleteRead, ConnectionError, TimeoutError) as error:
                problem = f"the page arrived incomplete ({type(error).__name__})"
            except json.JSONDecodeError as error:
                problem = f"the page is not whole JSON ({error.msg} at character {error.pos})"
            except urllib.error.URLError as error:
                raise _Refused(f"{self.source.label}: cannot reach {_shown(url)} ({error.reason})") from None
            if attempt == self.settings.max_attempts:
                break
            pause = max(wait or 0.0, delay)
            self.result.retries += 1
            self.result.waited_seconds += pause
            self.sleep(pause)
            delay = min(delay * 2, self.settings.max_backoff_seconds)
        raise _Refused(
            f"{self.source.label}: gave up on {_shown(url)} after {self.settings.max_attempts} attempts, "
            f"last: {problem}; nothing after the previous page landed, the next run resumes there"
        )

    def _retryable(self, error: urllib.error.HTTPError, url: str) -> tuple[str, float | None]:
        """What a 429 or 5xx was and how long it asks to wait; raises for what a retry cannot fix."""
        name, where = self.source.label, _shown(url)
        if error.code in (401, 403):
            raise _Refused(
                f"{name}: the API refused the token (HTTP {error.code}) at {where}; "
                f"set {self.source.env_prefix}_TOKEN to a valid API token with read access"
            ) from None
        if error.code >= 500:
            return f"HTTP {error.code}", None
        if error.code != 429:
            raise _Refused(f"{name}: HTTP {error.code} at {where}") from None
        if error.headers.get(DAILY_REMAINING_HEADER, "").strip() == "0":
            raise _QuotaSpent(
                f"{name}: the daily request quota is spent ({DAILY_REMAINING_HEADER}: 0) at {where}; "
                "the next run resumes from the cursor"
            ) from None
        wait = retry_after_seconds(error.headers.get("Retry-After"), datetime.now(UTC))
        if wait is not None and wait > self.settings.max_wait_seconds:
            raise _QuotaSpent(
                f"{name}: rate limited for {wait:.0f} s (Retry-After) at {where}, more than the "
                f"{self.settings.max_wait_seconds:.0f} s a run waits; the next run resumes from the cursor"
            ) from None
        return "HTTP 429 (rate limited" + (f", Retry-After {wait:g} s)" if wait is not None else ")"), wait

    def _get_once(self, url: str) -> dict:
        request = urllib.request.Request(
            url, headers={"Authorization": f"Bearer {self.settings.token}", "Accept": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=self.settings.timeout_seconds) as answer:
            body = answer.read()  # IncompleteRead when fewer bytes come than Content-Length says
        page = json.loads(body.decode("utf-8"))
        if not isinstance(page, dict) or not isinstance(page.get("data"), list):
            raise _Refused(f'{self.source.label}: {_shown(url)} answered without a "data" list')
        return page


def _shown(url: str) -> str:
    """A URL for messages: path and query only (a base URL may carry credentials)."""
    parts = urllib.parse.urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def first_url(source: ApiSource, settings: ApiSettings, item_id: str, cursor: Cursor | None) -> str:
    query = urllib.parse.urlencode(
        {
            "modified_since": cursor.modified_at if cursor else settings.start,
            "sort_by": "modified_at",
            "sort_order": "asc",
            "per_page": settings.page_size,
        }
    )
    path = source.items_path.format(id=urllib.parse.quote(item_id, safe=""))
    return f"{settings.base_url}{path}?{query}"


def pull(
    source: ApiSource,
    settings: ApiSettings,
    item_id: str,
    cursor: Cursor | None,
    landing_root: Path,
    now: datetime | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> PullResult:
    """Pull every record of ``item_id`` changed since ``cursor`` into landing/<source>/<day>/.

    Never raises for what the API answers: the result says how far it got (its cursor covers only
    landed pages) and why it stopped, so the caller keeps the cursor before reporting the stop.
    """
    pulled_at = (now or datetime.now(UTC)).astimezone(UTC)
    result = PullResult(source.name, item_id, cursor)
    fetcher = PageFetcher(source, settings, result, sleep)
    url: str | None = first_url(source, settings, item_id, cursor)
    try:
        while url:
            page = fetcher.get(url)
            result.pages += 1
            fresh, last = _after_cursor(
                source, page["data"], result.cursor, f"{_shown(url)} page {result.pages}"
            )
            for day, records in _by_day(source, fresh, pulled_at).items():
                result.files.append(
                    _land(source, item_id, records, pulled_at, day, result.pages, url, landing_root)
                )
                result.records += len(records)
            result.cursor = max(filter(None, (result.cursor, last)), default=None)
            url = _next_url(page, settings.base_url)
    except _QuotaSpent as stop:
        result.quota_spent = str(stop)
    except _Refused as stop:
        result.error = str(stop)
    return result


def _after_cursor(
    source: ApiSource, records: list, cursor: Cursor | None, where: str
) -> tuple[list[dict], Cursor | None]:
    """The page's records after the cursor, and the page's last (modified, id).

    A page out of modified order would let the cursor pass records not yet seen: refused.
    """
    fresh, previous = [], None
    for number, record in enumerate(records, start=1):
        if not isinstance(record, dict) or not record.get(source.id_field):
            raise _Refused(f"{source.label}: {where}: record {number} has no {source.id_field!r}")
        key = Cursor(
            utc_text(
                record.get(source.modified_field),
                f"{source.label}: {where}: record {number} {source.modified_field}",
            ),
            str(record[source.id_field]),
        )
        if previous is not None and key < previous:
            raise _Refused(
                f"{source.label}: {where}: record {number} ({key.last_id}) is older than the one before it; "
                "the API must list records oldest change first or the cursor would skip some"
            )
        previous = key
        if cursor is None or key > cursor:
            fresh.append(record)
    return fresh, previous


def _next_url(page: dict, base_url: str) -> str | None:
    """The ``links.next`` URL (absolute or relative to the base), or None on the last page."""
    nxt = (page.get("links") or {}).get("next")
    return urllib.parse.urljoin(base_url + "/", nxt) if nxt else None


def _by_day(source: ApiSource, records: list[dict], pulled_at: datetime) -> dict[str, list[dict]]:
    """The landing day of each record: the pull's business day, or for a source whose files hold a
    day's records (reviews posted that day) the business day of its ``day_field``. A record whose
    time cannot be read lands on the pull's day, where the gate quarantines it naming the rule."""
    pull_day = pulled_at.astimezone(BUSINESS_ZONE).date().isoformat()
    days: dict[str, list[dict]] = {}
    for record in records:
        day = pull_day
        if source.day_field:
            try:
                moment = datetime.fromisoformat(str(record.get(source.day_field)).replace("Z", "+00:00"))
                if moment.tzinfo is not None:
                    day = moment.astimezone(BUSINESS_ZONE).date().isoformat()
            except ValueError:
                pass
        days.setdefault(day, []).append(record)
    return dict(sorted(days.items()))


def _land(
    source: ApiSource,
    item_id: str,
    records: list[dict],
    pulled_at: datetime,
    day: str,
    page: int,
    url: str,
    landing_root: Path,
) -> Path:
    """Write one page as landing/<source>/<day>/[<platform>_]<id>_<pulled-at>_<page>.json, whole or
    not at all.

    ``day`` is the partition its rows load into (see :func:`_by_day`); the file is written beside
    the day folder and renamed in, so a sensor never reads half of it.
    """
    prefix = f"{source.platform}_{item_id}" if source.platform else item_id
    name = f"{prefix}_{pulled_at:%Y%m%dT%H%M%S%fZ}_{page:04d}.json"
    folder = landing_root / source.name / day
    partial = landing_root / source.name / PARTIAL_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    partial.mkdir(parents=True, exist_ok=True)
    stamp = pulled_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    delivery = {
        "source": source.name,
        "id": item_id,
        "pulled_at": stamp,
        "page": page,
        "request": _shown(url),
    }
    if source.platform:  # the review files' own envelope, so their loader reads a pulled page as a file
        delivery |= {"platform": source.platform, "fetched_at": stamp}
    delivery[source.items_key] = records
    temp = partial / name
    temp.write_text(json.dumps(delivery, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(temp, folder / name)
    # leave no folder that `cxlake run` would list as a skipped day folder; while another pull
    # writes beside this one the folder is not empty, and the last to finish removes it
    with contextlib.suppress(OSError):
        partial.rmdir()
    return folder / name


def pull_all(
    source: ApiSource,
    settings: ApiSettings,
    cursors: dict[str, dict],
    landing_root: Path,
    now: datetime | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> list[PullResult]:
    """Pull each configured id from its own cursor (``{id: Cursor json}``); a spent quota or a
    refused token stops the ids after it too, as both hold for the whole account."""
    results = []
    for item_id in settings.ids:
        result = pull(
            source, settings, item_id, Cursor.from_json(cursors.get(item_id)), landing_root, now, sleep
        )
        results.append(result)
        if result.quota_spent or (result.error and "refused the token" in result.error):
            break
    return results


def cursors_after(cursors: dict[str, dict], results: list[PullResult]) -> dict[str, dict]:
    """The cursors to keep: each pulled id's new position, the others' unchanged."""
    kept = dict(cursors)
    kept.update({r.id: r.cursor.to_json() for r in results if r.cursor is not None})
    return kept
