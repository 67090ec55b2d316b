"""A publish killed during its copy leaves a copy of the served tables under a hidden temporary name;
the next publish deletes it (only temporaries no live publish is writing), and every temporary and
the serving copy are the owner's alone, whatever the umask.

Before: ``.serving.duckdb.<pid>.tmp`` stayed for good (customers' data, and a warehouse's worth of
disk per killed run), and it and the serving copy were 0644 under the usual umask.
"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from dagster import materialize

from assets.publish import serving_copy
from cxlake.paths import UNTOUCHED_SECONDS, publish_temporary, stale_temporaries
from cxlake.pipeline.resources import Warehouse


@pytest.fixture
def usual_umask() -> Iterator[None]:
    """The umask most logins have (022), so owner-only modes must come from cxlake itself."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


@pytest.fixture
def warehouse(tmp_path: Path) -> Warehouse:
    database = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(database)) as connection:
        connection.execute("create schema marts")
        connection.execute(
            "create table marts.customers as select 'C' || i as customer_id from range(1000) t(i)"
        )
    return Warehouse(path=str(database))


def killed_during_the_copy(warehouse: Warehouse) -> Path:
    """A real process that starts a publish's copy (cxlake's own code) and is killed with SIGKILL
    before it renames the copy into place; the temporary it leaves."""
    script = textwrap.dedent(
        f"""
        import time
        from pathlib import Path
        from cxlake.paths import owner_only_files, publish_temporary
        from cxlake.pipeline.resources import write_served_copy
        target = publish_temporary(Path({str(warehouse.serving)!r}))
        with owner_only_files():  # as Warehouse.publish writes it
            write_served_copy(Path({str(warehouse.database)!r}), target)
        print("copied", flush=True)
        time.sleep(120)
        """
    )
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None and process.stdout.readline().strip() == "copied"
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    return publish_temporary(warehouse.serving, process.pid)


def publish(warehouse: Warehouse) -> dict:
    result = materialize([serving_copy], resources={"warehouse": warehouse})
    assert result.success
    (materialization,) = result.asset_materializations_for_node("serving__published_copy")
    return {key: value.value for key, value in materialization.metadata.items()}


def test_the_temporary_of_a_killed_publish_is_owner_only_and_gone_after_the_next_publish(
    warehouse, usual_umask
):
    left = killed_during_the_copy(warehouse)
    with duckdb.connect(str(left), read_only=True) as connection:  # a copy of the customers
        assert connection.execute("select count(*) from marts.customers").fetchone() == (1000,)
    assert stat.S_IMODE(left.stat().st_mode) == 0o600

    metadata = publish(warehouse)

    assert not left.exists()
    assert metadata["stale_temporaries_removed"] == [left.name]
    assert stat.S_IMODE(warehouse.serving.stat().st_mode) == 0o600
    with duckdb.connect(str(warehouse.serving), read_only=True) as connection:
        assert connection.execute("select count(*) from marts.customers").fetchone() == (1000,)
    assert [path.name for path in warehouse.home.iterdir() if path.name.endswith(".tmp")] == []


def test_a_live_publish_temporary_is_kept_unless_it_was_untouched_long_before_this_publish(
    warehouse, tmp_path
):
    # A live process (sleep) stands for another publish still copying; only its recent temporary
    # is left alone. The same pid's temporary last written long ago is a pid reused after a crash.
    live = subprocess.Popen(["sleep", "60"])
    try:
        writing = publish_temporary(warehouse.serving, live.pid)
        writing.write_bytes(b"being written")
        other_target = tmp_path / "other" / "serving.duckdb"
        other_target.parent.mkdir()
        unrelated = publish_temporary(other_target, 1)  # another folder's copy: not ours to judge
        unrelated.write_bytes(b"x")
        assert stale_temporaries(warehouse.serving) == []

        publish(warehouse)
        assert writing.exists() and unrelated.exists()

        long_ago = time.time() - UNTOUCHED_SECONDS - 600
        os.utime(writing, (long_ago, long_ago))
        assert publish(warehouse)["stale_temporaries_removed"] == [writing.name]
        assert not writing.exists()
    finally:
        live.kill()
        live.wait()


def test_files_that_only_look_like_temporaries_are_left_alone(warehouse):
    # Not "<dot><serving name>.<pid>.tmp": a user's file, another copy's name, a pid that is not a number.
    names = [
        ".serving.duckdb.tmp",
        ".serving.duckdb.abc.tmp",
        ".warehouse.duckdb.1.tmp",
        "serving.duckdb.1.tmp",
    ]
    for name in names:
        (warehouse.home / name).write_bytes(b"x")
    publish(warehouse)
    assert all((warehouse.home / name).exists() for name in names)


def test_the_serving_copy_holds_the_served_schemas_only_and_no_freed_bytes(tmp_path, usual_umask):
    database = tmp_path / "warehouse.duckdb"
    phone = "13912345678"
    with duckdb.connect(str(database)) as connection:
        for schema in ("raw", "staging", "marts", "dq", "quarantine", "enrich"):
            connection.execute(f"create schema {schema}")
        connection.execute(f"create table raw.crm_customers as select 'C1' as id, '{phone}' as phone")
        connection.execute("create view staging.stg_customers as from raw.crm_customers")
        connection.execute("create table marts.dim_customer as select 'C1' as customer_id, 'S1' as store_id")
        connection.execute("create table dq.load_audit as select 'crm' as source, 1 as row_count")
        connection.execute(f"create table quarantine.crm_customers as select 'C2' as id, '{phone}' as phone")
        connection.execute(f"create table enrich.comment_scores as select '{phone}' as comment")
        # a value updated away stays in the warehouse file's freed blocks; the copy is fresh
        connection.execute("create table marts.notes as select repeat('call 13900000000 back ', 500) as note")
        connection.execute("update marts.notes set note = 'called back'")
    warehouse = Warehouse(path=str(database))
    publish(warehouse)
    with duckdb.connect(str(warehouse.serving), read_only=True) as connection:
        relations = connection.execute(
            "select table_schema || '.' || table_name from information_schema.tables order by 1"
        ).fetchall()
        assert [name for (name,) in relations] == [
            "dq.load_audit", "marts.dim_customer", "marts.notes", "quarantine.crm_customers",
        ]  # fmt: skip
        assert connection.execute("select phone from quarantine.crm_customers").fetchall() == [(phone,)]
        assert connection.execute("select note from marts.notes").fetchall() == [("called back",)]
    data = warehouse.serving.read_bytes()
    assert b"13900000000" not in data
    assert data.count(phone.encode()) <= 1  # the quarantined row only (the steward's viewer masks it)
    assert stat.S_IMODE(warehouse.serving.stat().st_mode) == 0o600


def test_a_view_in_a_served_schema_stops_the_publish_naming_it(tmp_path):
    database = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(database)) as connection:
        connection.execute("create schema marts")
        connection.execute("create table marts.t as select 1 as x")
        connection.execute("create view marts.v as from marts.t")
    warehouse = Warehouse(path=str(database))
    with pytest.raises(ValueError, match="served schemas hold views, not tables: marts.v"):
        warehouse.publish()
    assert not warehouse.serving.exists()
