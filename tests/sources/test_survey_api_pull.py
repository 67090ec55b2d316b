"""The survey API connector against a real HTTP server on loopback (tests/sources/conftest.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from loopback_api import TOKEN, recorded

from cxlake.sources.paged_api import (
    ApiConfigError,
    ApiSettings,
    Cursor,
    PullResult,
    cursors_after,
    pull,
    pull_all,
    retry_after_seconds,
)
from cxlake.sources.survey_api import SURVEY_API

SURVEY = "SV_cxlakeApp"
FIRST_PULL = datetime(2026, 3, 4, 6, 0, tzinfo=UTC)  # 14:00 in Shanghai: landing/survey_api/2026-03-04
SECOND_PULL = datetime(2026, 3, 5, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai: landing/survey_api/2026-03-05


def settings(api, **options) -> ApiSettings:
    options = {"page_size": 2, "backoff_seconds": 0.5, **options}
    return ApiSettings(api.base_url, TOKEN, (SURVEY,), **options)


class Clock:
    """Records the pauses asked for instead of sleeping them, so a Retry-After of 2 s costs nothing."""

    def __init__(self) -> None:
        self.pauses: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.pauses.append(seconds)


def landed(files: list[Path]) -> list[tuple[str, str]]:
    """(id, modified_at) of every response in the landed files, in landing order."""
    return [
        (r["id"], r["modified_at"])
        for path in files
        for r in json.loads(path.read_text("utf-8"))["responses"]
    ]


def all_landed(root: Path) -> list[tuple[str, str]]:
    return landed(sorted((root / "survey_api").glob("*/*.json")))


def test_a_first_pull_lands_every_page_and_keeps_the_last_modified_as_cursor(survey_api, tmp_path):
    result = pull(SURVEY_API, settings(survey_api), SURVEY, None, tmp_path, FIRST_PULL, Clock())
    assert (result.error, result.quota_spent) == (None, None)
    assert result.pages == 3 and result.records == 5
    assert [p.relative_to(tmp_path).as_posix() for p in result.files] == [
        f"survey_api/2026-03-04/{SURVEY}_20260304T060000000000Z_{n:04d}.json" for n in (1, 2, 3)
    ]
    assert [i for i, _ in landed(result.files)] == ["R_1aa", "R_2bb", "R_3cc", "R_4dd", "R_5ee"]
    delivery = json.loads(result.files[0].read_text("utf-8"))
    assert delivery["source"] == "survey_api" and delivery["id"] == SURVEY and delivery["page"] == 1
    assert delivery["responses"][0]["answers"][2]["answer"] == "拿铁很好喝"
    assert result.cursor == Cursor("2026-03-04T04:45:10.000000Z", "R_5ee")
    assert TOKEN not in result.files[0].read_text("utf-8")
    assert sorted(p.name for p in (tmp_path / "survey_api").iterdir()) == ["2026-03-04"]  # no .partial left


def test_an_edited_response_is_pulled_again_by_its_modified_time_and_nothing_else_is(survey_api, tmp_path):
    first = pull(SURVEY_API, settings(survey_api), SURVEY, None, tmp_path, FIRST_PULL, Clock())
    survey_api.publish(SURVEY, recorded("survey_api", "SV_cxlakeApp_edited.json"))
    second = pull(SURVEY_API, settings(survey_api), SURVEY, first.cursor, tmp_path, SECOND_PULL, Clock())
    assert second.error is None
    # R_2bb was recorded on the 4th, edited on the 5th: its new version lands; R_6ff is new
    assert landed(second.files) == [
        ("R_2bb", "2026-03-05T08:30:00+08:00"),
        ("R_6ff", "2026-03-05T09:02:00+08:00"),
    ]
    assert all(p.parent.name == "2026-03-05" for p in second.files)
    assert "modified_since=2026-03-04T04%3A45%3A10.000000Z" in survey_api.requests[-1]
    third = pull(SURVEY_API, settings(survey_api), SURVEY, second.cursor, tmp_path, SECOND_PULL, Clock())
    assert (third.records, third.files, third.cursor) == (0, [], second.cursor)


def test_responses_sharing_the_cursors_second_are_neither_skipped_nor_landed_twice(survey_api, tmp_path):
    # R_3cc and R_4dd share 11:20:00; with one response a page the first run stops between them
    survey_api.faults.append((4, "quota"))
    first = pull(SURVEY_API, settings(survey_api, page_size=1), SURVEY, None, tmp_path, FIRST_PULL, Clock())
    assert first.cursor == Cursor("2026-03-04T03:20:00.000000Z", "R_3cc")
    assert [i for i, _ in landed(first.files)] == ["R_1aa", "R_2bb", "R_3cc"]
    second = pull(
        SURVEY_API, settings(survey_api, page_size=1), SURVEY, first.cursor, tmp_path, SECOND_PULL, Clock()
    )
    # asked again from 11:20:00 inclusive: R_3cc comes back from the server but is not landed again
    assert [i for i, _ in landed(second.files)] == ["R_4dd", "R_5ee"]
    assert sorted(i for i, _ in all_landed(tmp_path)) == ["R_1aa", "R_2bb", "R_3cc", "R_4dd", "R_5ee"]


def test_a_429_waits_as_long_as_retry_after_says_then_gets_the_same_page(survey_api, tmp_path):
    survey_api.faults.append((2, "429"))
    clock = Clock()
    result = pull(SURVEY_API, settings(survey_api), SURVEY, None, tmp_path, FIRST_PULL, clock)
    assert result.error is None and result.records == 5
    assert clock.pauses == [2.0]  # Retry-After: 2, longer than the 0.5 s backoff
    assert result.retries == 1
    second_page = [q for q in survey_api.requests if q.endswith("&page=2")]
    assert len(second_page) == 2 and second_page[0] == second_page[1]


def test_retry_after_as_an_http_date_and_absent():
    now = datetime(2026, 3, 4, 6, 0, tzinfo=UTC)
    assert retry_after_seconds("Wed, 04 Mar 2026 06:00:30 GMT", now) == 30.0
    assert retry_after_seconds("120", now) == 120.0
    assert retry_after_seconds(None, now) is None
    assert retry_after_seconds("soon", now) is None


def test_server_errors_back_off_doubling_and_the_page_is_fetched_whole(survey_api, tmp_path):
    survey_api.faults += [(2, "500"), (2, "500"), (2, "429")]
    survey_api.retry_after = "0"
    clock = Clock()
    result = pull(SURVEY_API, settings(survey_api), SURVEY, None, tmp_path, FIRST_PULL, clock)
    assert result.error is None
    assert clock.pauses == [0.5, 1.0, 2.0]  # backoff doubles; Retry-After 0 does not shorten it
    assert [i for i, _ in all_landed(tmp_path)] == ["R_1aa", "R_2bb", "R_3cc", "R_4dd", "R_5ee"]


@pytest.mark.parametrize(
    "fault",
    [
        "cut",  # fewer bytes than Content-Length: the connection closed mid-page
        "cut-json",  # the length matches but the JSON stops half-way (a truncating proxy)
    ],
)
def test_a_truncated_page_is_asked_for_again_never_landed_half(survey_api, tmp_path, fault):
    survey_api.faults.append((2, fault))
    result = pull(SURVEY_API, settings(survey_api), SURVEY, None, tmp_path, FIRST_PULL, Clock())
    assert result.error is None and result.retries == 1
    assert [i for i, _ in all_landed(tmp_path)] == ["R_1aa", "R_2bb", "R_3cc", "R_4dd", "R_5ee"]


def test_a_page_that_keeps_failing_stops_the_pull_at_the_page_before_it(survey_api, tmp_path):
    survey_api.faults += [(2, "500")] * 3
    result = pull(
        SURVEY_API, settings(survey_api, max_attempts=3), SURVEY, None, tmp_path, FIRST_PULL, Clock()
    )
    assert result.error == (
        "survey_api: gave up on /surveys/SV_cxlakeApp/responses"
        "?modified_since=1970-01-01T00%3A00%3A00%2B00%3A00&sort_by=modified_at&sort_order=asc&per_page=2"
        "&page=2 after 3 attempts, last: HTTP 500; "
        "nothing after the previous page landed, the next run resumes there"
    )
    assert result.cursor == Cursor("2026-03-04T02:01:30.000000Z", "R_2bb")
    again = pull(SURVEY_API, settings(survey_api), SURVEY, result.cursor, tmp_path, SECOND_PULL, Clock())
    assert [i for i, _ in all_landed(tmp_path)] == ["R_1aa", "R_2bb", "R_3cc", "R_4dd", "R_5ee"]
    assert again.error is None


def test_a_spent_daily_quota_stops_with_a_message_and_the_next_run_resumes(survey_api, tmp_path):
    survey_api.faults.append((3, "quota"))
    clock = Clock()
    first = pull(SURVEY_API, settings(survey_api), SURVEY, None, tmp_path, FIRST_PULL, clock)
    assert first.error is None and clock.pauses == []  # no waiting for tomorrow inside a run
    assert first.quota_spent is not None
    assert first.quota_spent.startswith("survey_api: the daily request quota is spent")
    assert first.quota_spent.endswith("the next run resumes from the cursor")
    assert first.cursor == Cursor("2026-03-04T03:20:00.000000Z", "R_4dd")
    second = pull(SURVEY_API, settings(survey_api), SURVEY, first.cursor, tmp_path, SECOND_PULL, Clock())
    assert [i for i, _ in landed(second.files)] == ["R_5ee"]
    assert [i for i, _ in all_landed(tmp_path)] == ["R_1aa", "R_2bb", "R_3cc", "R_4dd", "R_5ee"]


def test_a_retry_after_longer_than_a_run_waits_counts_as_a_spent_quota(survey_api, tmp_path):
    survey_api.faults.append((1, "429"))
    survey_api.retry_after = "7200"
    result = pull(SURVEY_API, settings(survey_api), SURVEY, None, tmp_path, FIRST_PULL, Clock())
    assert result.quota_spent is not None and "rate limited for 7200 s (Retry-After)" in result.quota_spent
    assert result.files == [] and result.cursor is None


@pytest.mark.parametrize("token", ["wrong-token", ""])
def test_a_refused_token_names_the_source_and_the_variable_to_set(survey_api, tmp_path, token):
    config = ApiSettings(survey_api.base_url, token, (SURVEY, "SV_other"), page_size=2)
    results = pull_all(SURVEY_API, config, {}, tmp_path, FIRST_PULL, Clock())
    assert len(results) == 1  # the token holds for the whole account: the second survey is not tried
    assert results[0].error == (
        "survey_api: the API refused the token (HTTP 401) at /surveys/SV_cxlakeApp/responses"
        "?modified_since=1970-01-01T00%3A00%3A00%2B00%3A00&sort_by=modified_at&sort_order=asc&per_page=2; "
        "set CXLAKE_SURVEY_API_TOKEN to a valid API token with read access"
    )
    assert not (tmp_path / "survey_api").exists()


def test_missing_settings_name_every_variable_to_set():
    with pytest.raises(ApiConfigError) as raised:
        ApiSettings.from_env(SURVEY_API, {"CXLAKE_SURVEY_API_URL": "http://127.0.0.1:1"})
    assert str(raised.value) == (
        "survey_api: set CXLAKE_SURVEY_API_TOKEN, CXLAKE_SURVEY_API_IDS (the API's base URL, an API token "
        "with read access, and the survey ids to pull, comma-separated)"
    )
    chosen = ApiSettings.from_env(
        SURVEY_API,
        {
            "CXLAKE_SURVEY_API_URL": "http://h/v3/",
            "CXLAKE_SURVEY_API_TOKEN": "t",
            "CXLAKE_SURVEY_API_IDS": "a, b",
        },
    )
    assert (chosen.base_url, chosen.ids) == ("http://h/v3", ("a", "b"))


def test_a_page_out_of_modified_order_is_refused_before_the_cursor_can_pass_a_response(survey_api, tmp_path):
    survey_api.records[SURVEY][4]["modified_at"] = "2026-03-01T00:00:00+08:00"  # R_5ee, now listed...
    survey_api.page = _unsorted(survey_api.page)  # ...last although it is the oldest change
    result = pull(SURVEY_API, settings(survey_api, page_size=10), SURVEY, None, tmp_path, FIRST_PULL, Clock())
    assert result.error is not None and "record 5 (R_5ee) is older than the one before it" in result.error
    assert result.files == [] and result.cursor is None


def _unsorted(page):
    def answer(item_id, query):
        body = page(item_id, query)
        body["data"] = body["data"][1:] + body["data"][:1]
        return body

    return answer


def test_the_kept_cursors_move_only_for_the_surveys_pulled():
    kept = {"SV_a": {"modified_at": "x", "last_id": "1"}, "SV_b": {"modified_at": "y", "last_id": "2"}}
    moved = cursors_after(
        kept, [PullResult("survey_api", "SV_a", Cursor("z", "3")), PullResult("s", "SV_c", None)]
    )
    assert moved == {
        "SV_a": {"modified_at": "z", "last_id": "3"},
        "SV_b": {"modified_at": "y", "last_id": "2"},
    }


@pytest.mark.parametrize(
    ("modified_at", "reason"),
    [
        (None, "None is not an ISO time"),  # a record without its last-modified time
        ("2026-03-04T09:15:02", "'2026-03-04T09:15:02' has no UTC offset"),  # a local time, zone unknown
    ],
)
def test_a_record_whose_modified_time_cannot_order_it_stops_the_pull_naming_it(
    survey_api, tmp_path, modified_at, reason
):
    first_page = survey_api.page

    def page(item_id, query):
        body = first_page(item_id, query)
        body["data"][0] = {**body["data"][0], "modified_at": modified_at}
        return body

    survey_api.page = page
    result = pull(SURVEY_API, settings(survey_api), SURVEY, None, tmp_path, FIRST_PULL, Clock())
    assert result.error is not None
    assert result.error.startswith("survey_api: /surveys/SV_cxlakeApp/responses?")
    assert result.error.endswith(f"page 1: record 1 modified_at: {reason}")
    assert result.files == [] and result.cursor is None
