"""Which days a demo covers: by default the ``--days`` ending yesterday (the last whole day: no
visit later than now, and still fresh enough for live cases);
``--start`` keeps its old meaning (days counted from it)."""

from __future__ import annotations

import json
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from cxlake.cli import app
from cxlake.generator import generation_window

TODAY = date(2026, 12, 6)


@pytest.mark.parametrize(
    ("start", "end", "days", "expected"),
    [
        (None, None, None, (date(2026, 9, 7), 90)),  # the default: 90 days ending yesterday
        (None, None, 7, (date(2026, 11, 29), 7)),  # counted back from yesterday
        (None, date(2026, 3, 31), 31, (date(2026, 3, 1), 31)),  # counted back from --end
        (date(2026, 1, 1), None, 90, (date(2026, 1, 1), 90)),  # --start: counted from it, as before
        (date(2026, 1, 1), None, None, (date(2026, 1, 1), 90)),
        (date(2026, 1, 1), date(2026, 1, 10), None, (date(2026, 1, 1), 10)),  # both ends given
        (date(2026, 1, 1), date(2026, 1, 10), 10, (date(2026, 1, 1), 10)),  # all three agreeing
    ],
)
def test_the_window_ends_yesterday_unless_told_otherwise(start, end, days, expected):
    assert generation_window(start, end, days, TODAY) == expected


@pytest.mark.parametrize(
    ("start", "end", "days", "message"),
    [
        (date(2026, 1, 10), date(2026, 1, 1), None, "before start"),
        (date(2026, 1, 1), date(2026, 1, 10), 5, "10 days, not 5"),
        (None, None, 0, "at least 1"),
    ],
)
def test_a_window_that_cannot_be_is_refused_with_the_reason(start, end, days, message):
    with pytest.raises(ValueError, match=message):
        generation_window(start, end, days, TODAY)


def test_cxlake_generate_ends_the_demo_yesterday_in_the_chains_zone(tmp_path):
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    result = CliRunner().invoke(app, ["generate", "--out", str(tmp_path), "--days", "2", "--seed", "3"])
    assert result.exit_code == 0, result.output
    generator = json.loads((tmp_path / "truth.json").read_text(encoding="utf-8"))["generator"]
    assert generator["days"] == 2
    assert date.fromisoformat(generator["start"]) == date.fromordinal(today.toordinal() - 2)
    yesterday = date.fromordinal(today.toordinal() - 1).isoformat()
    assert (tmp_path / "pos" / yesterday / "transactions.csv").is_file()
    assert not (tmp_path / "pos" / today.isoformat()).exists()


def test_cxlake_generate_names_a_bad_window(tmp_path):
    result = CliRunner().invoke(
        app, ["generate", "--out", str(tmp_path), "--start", "2026-01-10", "--end", "2026-01-01"]
    )
    assert result.exit_code == 1
    assert "end 2026-01-01 is before start 2026-01-10" in result.output
