"""Fixtures: the recorded platforms served on loopback (tests/sources/loopback_api.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from loopback_api import SurveyApi, recorded, serve


@pytest.fixture
def survey_api() -> Iterator[SurveyApi]:
    """The platform with the recorded survey's five responses."""
    api = SurveyApi()
    api.publish("SV_cxlakeApp", recorded("survey_api", "SV_cxlakeApp_responses.json"))
    yield from serve(api)
