"""`cxlake pull-surveys` against the recorded survey API on loopback: the cursor is kept in the
cxlake home's Dagster instance between two commands, and a refused token is one clear line."""

from __future__ import annotations

from loopback_api import TOKEN, recorded
from typer.testing import CliRunner

from cxlake.cli import app

SURVEY = "SV_cxlakeApp"


def settings(survey_api, tmp_path, token: str = TOKEN) -> dict[str, str]:
    return {
        "CXLAKE_HOME": str(tmp_path / "home"),
        "CXLAKE_SURVEY_API_URL": survey_api.base_url,
        "CXLAKE_SURVEY_API_TOKEN": token,
        "CXLAKE_SURVEY_API_IDS": SURVEY,
    }


def test_two_pulls_share_the_cursor_kept_in_the_homes_dagster_instance(survey_api, tmp_path):
    runner = CliRunner()
    first = runner.invoke(app, ["pull-surveys"], env=settings(survey_api, tmp_path))
    assert first.exit_code == 0, first.output
    landing = (tmp_path / "home" / "landing").resolve()
    assert first.stdout == f"{SURVEY}: 5 responses in 1 files under {landing}\n"
    survey_api.publish(SURVEY, recorded("survey_api", "SV_cxlakeApp_edited.json"))
    second = runner.invoke(app, ["pull-surveys"], env=settings(survey_api, tmp_path))
    assert second.stdout == f"{SURVEY}: 2 responses in 1 files under {landing}\n"
    assert len(list(landing.glob("survey_api/*/*.json"))) == 2


def test_a_refused_token_is_one_line_naming_what_to_set(survey_api, tmp_path):
    result = CliRunner().invoke(app, ["pull-surveys"], env=settings(survey_api, tmp_path, token="expired"))
    assert result.exit_code == 1
    assert (
        result.stdout
        == f"{SURVEY}: 0 responses in 0 files under {(tmp_path / 'home' / 'landing').resolve()}\n"
    )
    assert result.stderr == (
        "error: survey_api: the API refused the token (HTTP 401) at /surveys/SV_cxlakeApp/responses"
        "?modified_since=1970-01-01T00%3A00%3A00%2B00%3A00&sort_by=modified_at&sort_order=asc&per_page=100; "
        "set CXLAKE_SURVEY_API_TOKEN to a valid API token with read access\n"
    )
    assert "expired" not in result.output
