"""The warehouse's write lock between real processes: a second writer waits and names the first;
a holder killed with SIGKILL blocks nobody (the kernel drops its lock)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from cxlake.warehouse_lock import current_writer, lock_path, warehouse_writer

HOLDER = """
import sys, time
from pathlib import Path
from cxlake.warehouse_lock import warehouse_writer
with warehouse_writer(Path(sys.argv[1]), "run-A", command="cxlake run --landing L"):
    print("holding", flush=True)
    time.sleep(float(sys.argv[2]))
print("released", flush=True)
"""


def start_holder(warehouse: Path, seconds: float) -> subprocess.Popen:
    """A real process holding the lock; returns once it says it holds it."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(warehouse), str(seconds)], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None and holder.stdout.readline() == "holding\n"
    return holder


def test_a_second_writer_waits_naming_the_first_and_starts_when_it_ends(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    holder = start_holder(warehouse, 2.0)
    waited_for = []
    started = time.monotonic()
    with warehouse_writer(warehouse, "run-B", on_wait=waited_for.append, poll_seconds=0.1) as me:
        assert holder.stdout.readline() == "released\n"  # B got the lock only after A let it go
        assert current_writer(warehouse) == me
    assert holder.wait(timeout=30) == 0
    assert time.monotonic() - started > 0.5
    assert len(waited_for) == 1
    first = waited_for[0]
    assert (first.run, first.pid, first.command) == ("run-A", holder.pid, "cxlake run --landing L")
    assert first.describe().startswith(f"run run-A (pid {holder.pid}, started at ")
    assert current_writer(warehouse) is None  # released: nobody named
    assert lock_path(warehouse) == tmp_path / "warehouse.duckdb.lock"


def test_a_killed_holder_blocks_nobody(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    holder = start_holder(warehouse, 600.0)
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait(timeout=30)
    assert current_writer(warehouse).pid == holder.pid  # its words stay behind, its lock does not
    waited_for = []
    with warehouse_writer(warehouse, "run-B", on_wait=waited_for.append, poll_seconds=0.1) as me:
        assert current_writer(warehouse) == me
    assert waited_for == []


def test_the_holder_may_take_its_own_lock_again(tmp_path):
    """`cxlake run` holds the lock around a Dagster run whose warehouse resource takes it too."""
    warehouse = tmp_path / "warehouse.duckdb"
    with warehouse_writer(warehouse, "outer") as outer:
        with warehouse_writer(warehouse, "inner"):
            assert current_writer(warehouse) == outer
        assert current_writer(warehouse) == outer  # still held after the inner block
        probe = subprocess.run(
            [sys.executable, "-c", "import fcntl, os, sys\n"
             "fd = os.open(sys.argv[1], os.O_RDWR)\n"
             "try:\n    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)\nexcept BlockingIOError:\n"
             "    sys.exit(3)\n", str(lock_path(warehouse))],
        )  # fmt: skip
        assert probe.returncode == 3  # another process cannot take it
