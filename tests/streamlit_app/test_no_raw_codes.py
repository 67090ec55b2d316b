"""Every page's tables and charts read words in both languages: no column name, code or "None".

Issue #12: ``in_store`` in Feedback, ``promoter`` in the Overview data, "None" as the Rank of an
unranked store, ``partition_date`` as a header. Each page is run as the admin (who opens every
page) on a serving copy with survey, review and quality data; every read-only table and every chart
it draws is checked. The fixture's stores all have fewer than 30 answers, so the leaderboard's
Rank column is empty for every store: the case that used to read "None".
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df
from streamlit.testing.v1 import AppTest
from test_data_quality_page import quality_home  # noqa: F401  (a fixture, used by name)

from streamlit_app.widgets import KEY_LANGUAGE

VIEWS = Path(__file__).resolve().parents[2] / "streamlit_app" / "views"
# The SQL page shows the analyst's own columns, as the analyst named them.
PAGES = ["overview", "leaderboard", "feedback", "journey", "voice", "data_quality", "admin"]
LANGUAGES = ["en", "zh"]
RAW_CODES = frozenset(
    {
        "in_store", "app", "delivery", "promoter", "passive", "detractor", "positive", "negative",
        "dianping", "meituan", "partition_date", "ci_low", "ci_high", "store_id", "store_name",
        "nps_category", "top2_share", "count_reviews", "release", "reject", "crm", "pos",
        "None", "none", "nan", "NaN", "NaT", "<NA>", "null",
    }
)  # fmt: skip
SNAKE_CASE = re.compile(r"[a-z][a-z0-9]*(_[a-z0-9]+)+")
# Nominal and ordinal encodings are where a chart writes values (axis labels, legend entries);
# these channels also write their title (an axis, a legend, a facet header).
VALUE_CHANNELS = ("x", "y", "color", "row", "column", "xOffset", "text")
TITLED_CHANNELS = ("x", "y", "color", "row", "column")
# Id columns keep the data's ids beside the names (a touchpoint's id "app" is not a channel code).
ID_HEADERS = frozenset(
    {"Store id", "门店编号", "Touchpoint id", "触点编号", "Stage id", "阶段编号", "Review key", "评论编号"}
)


@pytest.fixture
def full_home(reviews_home: Path, quality_home: Path) -> Path:  # noqa: F811
    """One serving copy with the survey marts, the review marts and the quality tables."""
    assert reviews_home == quality_home
    return reviews_home


def page_in(page: str, language: str, sign_in_as) -> AppTest:
    at = AppTest.from_file(str(VIEWS / f"{page}.py"), default_timeout=60)
    at.session_state[KEY_LANGUAGE] = language
    return sign_in_as(at, "admin").run()


def raw_headers(frame: pd.DataFrame) -> list[str]:
    names = [str(column) for column in frame.columns] + [str(name) for name in frame.index.names if name]
    return [name for name in names if name in RAW_CODES or SNAKE_CASE.fullmatch(name)]


def raw_cells(frame: pd.DataFrame) -> list[str]:
    """Text cells that are a code or a missing value written out; numbers and dates are typed."""
    cells = frame.drop(columns=[column for column in frame.columns if column in ID_HEADERS])
    cells = cells.astype("object").to_numpy().ravel()
    return sorted({str(cell) for cell in cells if isinstance(cell, str) and cell.strip() in RAW_CODES})


def table_problems(at: AppTest) -> list[str]:
    problems = []
    for number, table in enumerate(at.dataframe):
        if table.editing_mode != "read_only":
            continue  # the steward's editable row: delivered values, edited as delivered
        frame = table.value
        # The quarantine listing keeps the delivered file's own column names beside the lineage.
        as_delivered = any(str(column) in ("Failed expectations", "未通过的检查") for column in frame.columns)
        if not as_delivered and raw_headers(frame):
            problems.append(f"table {number} headers {raw_headers(frame)}")
        if raw_cells(frame):
            problems.append(f"table {number} cells {raw_cells(frame)}")
        if frame.isna().to_numpy().any() and table.proto.placeholder != "":
            problems.append(f"table {number} draws missing values as 'None' (no empty placeholder)")
    return problems


def chart_frames(proto) -> dict[str, pd.DataFrame]:
    frames = {dataset.name: convert_arrow_bytes_to_pandas_df(dataset.data.data) for dataset in proto.datasets}
    if proto.data.data:
        frames[""] = convert_arrow_bytes_to_pandas_df(proto.data.data)
    return frames


def encodings(spec: dict) -> list[dict]:
    """Every encoding of the spec, its layers and facets included."""
    found = [spec.get("encoding", {})]
    for part in ("layer", "concat", "hconcat", "vconcat"):
        for child in spec.get(part, []):
            found += encodings(child)
    if "spec" in spec:
        found += encodings(spec["spec"])
    return found


def chart_problems(at: AppTest) -> list[str]:
    problems = []
    for number, chart in enumerate(at.get("vega_lite_chart")):
        spec = json.loads(chart.proto.spec)
        frames = chart_frames(chart.proto)
        for encoding in encodings(spec):
            for channel, definition in encoding.items():
                if not isinstance(definition, dict):
                    continue
                title = definition.get("title")
                if isinstance(title, str) and (title in RAW_CODES or SNAKE_CASE.fullmatch(title)):
                    problems.append(f"chart {number} {channel} title {title!r}")
                if "field" in definition and "title" not in definition and channel in TITLED_CHANNELS:
                    problems.append(f"chart {number} {channel} titled by its field {definition['field']!r}")
                if channel in VALUE_CHANNELS and definition.get("type") in ("nominal", "ordinal"):
                    for frame in frames.values():
                        if definition.get("field") in frame.columns:
                            raw = raw_cells(frame[[definition["field"]]])
                            if raw:
                                problems.append(f"chart {number} {channel} values {raw}")
            for tooltip in encoding.get("tooltip", []) if isinstance(encoding.get("tooltip"), list) else []:
                if tooltip.get("title") is None or SNAKE_CASE.fullmatch(str(tooltip.get("title"))):
                    problems.append(
                        f"chart {number} tooltip titled {tooltip.get('title') or tooltip['field']!r}"
                    )
    return problems


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("page", PAGES)
def test_tables_and_charts_show_words_not_codes(full_home, sign_in_as, page, language):
    at = page_in(page, language, sign_in_as)

    assert not at.exception
    assert len(at.dataframe) > 0  # the page drew its tables (not an early "no data")
    assert table_problems(at) + chart_problems(at) == []


def test_the_check_catches_what_the_pages_used_to_show():
    """The checks themselves: the frames the pages drew before issue #12 fail them."""
    before = pd.DataFrame(
        {"partition_date": ["2026-01-05"], "channel": ["in_store"], "rank": [None], "ci_low": [1.5]}
    )
    assert raw_headers(before) == ["partition_date", "ci_low"]
    assert raw_cells(before) == ["in_store"]  # None is a missing value: caught by the placeholder check
    assert raw_cells(pd.DataFrame({"c": ["in_store", "None", "nan", "Promoter"]})) == [
        "None",
        "in_store",
        "nan",
    ]
