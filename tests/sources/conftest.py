"""Fixtures: the recorded platforms served on loopback (tests/sources/loopback_api.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from loopback_api import ReviewApi, SurveyApi, recorded, serve


@pytest.fixture
def survey_api() -> Iterator[SurveyApi]:
    """The platform with the recorded survey's five responses."""
    api = SurveyApi()
    api.publish("SV_cxlakeApp", recorded("survey_api", "SV_cxlakeApp_responses.json"))
    yield from serve(api)


@pytest.fixture
def review_api() -> Iterator[ReviewApi]:
    """Dianping with the recorded four reviews of our shop 88001."""
    api = ReviewApi()
    api.publish("88001", recorded("review_api", "dianping_88001_reviews.json"))
    yield from serve(api)
