"""`cxlake backup` / `cxlake restore` on a copy of the demo build, as an operator runs them: what
changed after the backup is gone after the restore, a damaged backup changes nothing, and a backup
waits for a writer holding the warehouse."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
from pathlib import Path

import duckdb
import pytest
from cxlake_command import cxlake
from test_warehouse_lock import start_holder

from cxlake.alerts.cases import CaseStore
from cxlake.app_state import AppState
from cxlake.backup import MANIFEST

STORES = ("warehouse.duckdb", "serving.duckdb", "app_state.sqlite", "pseudonym.key")


def digests(home: Path) -> dict[str, str]:
    return {name: hashlib.sha256((home / name).read_bytes()).hexdigest() for name in STORES}


def state(home: Path) -> tuple[int, int, int, int]:
    """(accounts, case events, marts.fct_nps_daily rows in the warehouse, in the serving copy)."""
    with sqlite3.connect(home / "app_state.sqlite") as connection:
        accounts = connection.execute("select count(*) from accounts").fetchone()[0]
        events = connection.execute("select count(*) from case_events").fetchone()[0]
    marts = []
    for name in ("warehouse.duckdb", "serving.duckdb"):
        with duckdb.connect(str(home / name), read_only=True) as connection:
            marts.append(connection.execute("select count(*) from marts.fct_nps_daily").fetchone()[0])
    return accounts, events, *marts


@pytest.fixture
def home(demo_build, tmp_path) -> Path:
    copy = tmp_path / "home"
    shutil.copytree(demo_build.home, copy, ignore=shutil.ignore_patterns("*.lock", "landing", "dagster"))
    return copy


def test_a_restore_brings_back_the_stores_as_they_were_backed_up(home, tmp_path):
    before = state(home)
    backup = tmp_path / "backup"
    taken = cxlake("backup", "--home", str(home), "--to", str(backup))
    assert taken.returncode == 0, taken.stderr
    manifest = json.loads((backup / MANIFEST).read_text(encoding="utf-8"))
    assert sorted(entry["name"] for entry in manifest["files"]) == sorted(STORES)
    # a backed-up DuckDB file and SQLite store open on their own and hold the same rows
    assert state(backup) == before

    # after the backup: an account, a case note, a mart emptied in both copies
    added = cxlake(
        "users", "add", "--name", "late.joiner", "--role", "cx_director", "--password-stdin",
        stdin="a long enough passphrase\n", env={**os.environ, "CXLAKE_HOME": str(home)},
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    with sqlite3.connect(home / "app_state.sqlite") as connection:
        (case_id, owner) = connection.execute("select case_id, owner from cases limit 1").fetchone()
    CaseStore(AppState(home / "app_state.sqlite")).add_comment(case_id, owner, "called back after the backup")
    for name in ("warehouse.duckdb", "serving.duckdb"):
        with duckdb.connect(str(home / name)) as connection:
            connection.execute("delete from marts.fct_nps_daily")
    key = (home / "pseudonym.key").read_bytes()
    (home / "pseudonym.key").unlink()  # lost with the disk: the restore brings it back
    changed = state(home)
    assert changed[0] == before[0] + 1 and changed[1] == before[1] + 1 and changed[2:] == (0, 0)

    restored = cxlake("restore", "--home", str(home), "--from", str(backup))
    assert restored.returncode == 0, restored.stderr
    assert restored.stdout == f"restored {', '.join(sorted(STORES))} as of {manifest['taken_at']}\n"
    assert state(home) == before
    assert (home / "pseudonym.key").read_bytes() == key
    assert not list(home.glob(".*restoring"))


def test_a_damaged_backup_is_refused_naming_the_file_and_changes_nothing(home, tmp_path):
    backup = tmp_path / "backup"
    assert cxlake("backup", "--home", str(home), "--to", str(backup)).returncode == 0
    with duckdb.connect(str(home / "warehouse.duckdb")) as connection:
        connection.execute("delete from marts.fct_nps_daily")  # the home moved on after the backup
    kept = digests(home)
    damaged = bytearray((backup / "serving.duckdb").read_bytes())
    damaged[len(damaged) // 2] ^= 0xFF
    (backup / "serving.duckdb").write_bytes(bytes(damaged))

    refused = cxlake("restore", "--home", str(home), "--from", str(backup))
    assert refused.returncode == 1
    damage = "its bytes differ from the manifest's checksum (damaged or changed)"
    assert refused.stderr.strip() == f"error: {backup / 'serving.duckdb'}: {damage}"
    assert digests(home) == kept
    (backup / MANIFEST).unlink()
    assert (
        "not a cxlake backup folder" in cxlake("restore", "--home", str(home), "--from", str(backup)).stderr
    )
    assert "not empty" in cxlake("backup", "--home", str(home), "--to", str(backup)).stderr


def test_a_backup_waits_for_the_writer_holding_the_warehouse(home, tmp_path):
    holder = start_holder(home / "warehouse.duckdb", 3.0)
    taken = cxlake("backup", "--home", str(home), "--to", str(tmp_path / "backup"))
    assert holder.wait(timeout=30) == 0
    assert taken.returncode == 0, taken.stderr
    assert f"waiting for run run-A (pid {holder.pid}, started at " in taken.stderr
    assert holder.stdout.read() == "released\n"
