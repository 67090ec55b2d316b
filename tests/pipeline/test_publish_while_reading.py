"""The explorer is never blocked by the pipeline (DESIGN.md, "Contracts worth keeping").

While a real materialization rewrites the warehouse and publishes, the explorer's data module keeps
reading the serving copy in a loop: no lock error, never a state between the old and the new build,
and the new numbers once the copy is renamed into place.
"""

from __future__ import annotations

import csv
import shutil
import threading
import time
from datetime import date
from pathlib import Path

import duckdb
import pytest
import streamlit as st

from cxlake.access.roles import Scope
from cxlake.pipeline.resources import Warehouse
from orchestration.runner import landed_days, run_pipeline
from streamlit_app import data_access

QUALTRICS_HEADER_ROWS = 3  # column ids, question texts, ImportId json
READ_PAUSE_SECONDS = 0.05  # the reader yields the two shared cores to the pipeline between reads
READS_AFTER_PUBLISH = 5
WAIT_SECONDS = 60

Totals = tuple[int, int, int]  # (countable responses, promoters, detractors)


def published_totals(serving: Path) -> Totals:
    """The totals straight from a serving copy, without the explorer's code."""
    with duckdb.connect(str(serving), read_only=True) as connection:
        return connection.execute(
            "select count(*), count(*) filter (where nps_score >= 9), count(*) filter (where nps_score <= 6)"
            " from marts.fct_survey_responses where is_countable"
        ).fetchone()


def drop_half_of_the_same_day_responses(export: Path, transactions: Path) -> int:
    """A corrected redelivery of a day's Qualtrics export: half of its same-day responses taken out.

    Only responses to that day's purchases go: a re-run of one day rebuilds that day's journeys,
    while journeys of earlier days would keep pointing at responses that no longer exist. Half stays
    inside the gate's volume band (0.2x-5x the trailing median), so the run is green. Returns the
    number of responses taken out.
    """
    with transactions.open(encoding="utf-8-sig", newline="") as handle:
        same_day = {row["transaction_id"] for row in csv.DictReader(handle)}
    with export.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    header, responses = rows[:QUALTRICS_HEADER_ROWS], rows[QUALTRICS_HEADER_ROWS:]
    column = header[0].index("transaction_id")
    dropped = set([i for i, row in enumerate(responses) if row[column] in same_day][::2])
    kept = [row for i, row in enumerate(responses) if i not in dropped]
    with export.open("w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle).writerows(header + kept)
    return len(dropped)


class Reader(threading.Thread):
    """The explorer's side: data_access.nps_summary for everything, read afresh each time."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.reads: list[Totals] = []
        self.errors: list[Exception] = []
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            st.cache_data.clear()  # the answers' cache, not the connection: the file is queried each time
            try:
                summary = data_access.nps_summary(Scope.everything(), data_access.Filters())
            except Exception as error:  # any failed read (a lock error above all) is the finding
                self.errors.append(error)
                return
            self.reads.append((summary.n, summary.promoters, summary.detractors))
            time.sleep(READ_PAUSE_SECONDS)

    def wait_for_reads(self, count: int) -> None:
        deadline = time.monotonic() + WAIT_SECONDS
        while len(self.reads) < count and not self.errors and time.monotonic() < deadline:
            time.sleep(READ_PAUSE_SECONDS)


@pytest.fixture
def republishable_home(demo_build, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the demo build's warehouse and landing as CXLAKE_HOME, published once."""
    assert demo_build.run_success
    shutil.copytree(demo_build.landing, tmp_path / "landing")
    shutil.copyfile(demo_build.warehouse, tmp_path / "warehouse.duckdb")
    monkeypatch.setenv("CXLAKE_HOME", str(tmp_path))
    Warehouse(path=str(tmp_path / "warehouse.duckdb")).publish()
    st.cache_data.clear()
    st.cache_resource.clear()
    yield tmp_path
    st.cache_data.clear()
    st.cache_resource.clear()


def test_the_explorer_reads_old_or_new_totals_while_the_pipeline_publishes(republishable_home: Path):
    landing, warehouse = republishable_home / "landing", republishable_home / "warehouse.duckdb"
    serving = republishable_home / "serving.duckdb"
    old = published_totals(serving)
    last_day = date.fromisoformat(landed_days(landing)[-1])
    (export,) = (landing / "qualtrics" / last_day.isoformat()).glob("*.csv")
    transactions = landing / "pos" / last_day.isoformat() / "transactions.csv"
    assert drop_half_of_the_same_day_responses(export, transactions) > 0

    reader = Reader()
    reader.start()
    try:
        reader.wait_for_reads(1)  # reading before the run starts, so the run overlaps the reads
        outcome = run_pipeline(landing, warehouse, start=last_day, end=last_day)
        reads_at_publish = len(reader.reads)
        reader.wait_for_reads(reads_at_publish + READS_AFTER_PUBLISH)
    finally:
        reader.stop.set()
        reader.join(timeout=WAIT_SECONDS)

    assert outcome.success
    new = published_totals(serving)
    assert new[0] < old[0]  # the redelivered day lost responses, so the two builds can be told apart
    assert reader.errors == []
    assert len(reader.reads) >= reads_at_publish + READS_AFTER_PUBLISH
    # Old totals until the rename, new ones from then on: nothing in between, no way back.
    assert new in reader.reads
    switch = reader.reads.index(new)
    assert switch > 0
    assert reader.reads == [old] * switch + [new] * (len(reader.reads) - switch)
