"""One writer per warehouse: a lock file beside the DuckDB file, taken by every run that writes it.

DuckDB lets one process write a database file. Without this lock a second `cxlake run` (or a
schedule's run next to a backfill) fails deep inside a step with DuckDB's "Could not set lock on
file" error; with it, the second writer says whom it waits for and starts when the first is done.

The lock is an advisory ``flock`` on ``<warehouse>.lock``: the kernel drops it when its holder's
process ends, however it ends (crash, kill -9, power cut of a container), so a dead holder can never
block the next run; there is no stale state to clean up. The file also holds the holder's run id,
pid, start time and command, for the waiting writer's message; those words are only read, never
trusted for the lock itself. A process that already holds the lock may take it again (the CLI holds
it around a Dagster run whose warehouse resource takes it too).
"""

from __future__ import annotations

import fcntl
import json
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

POLL_SECONDS = 1.0
_held: dict[Path, tuple[int, int]] = {}  # lock file -> (descriptor, depth) held by this process
_held_guard = threading.Lock()


@dataclass(frozen=True)
class Writer:
    """Who holds a warehouse: what a waiting run prints."""

    run: str
    pid: int
    started_at: str
    command: str

    def describe(self) -> str:
        return f"run {self.run} (pid {self.pid}, started at {self.started_at}, {self.command})"


def lock_path(warehouse: Path) -> Path:
    """``warehouse.duckdb`` -> ``warehouse.duckdb.lock`` in the same folder."""
    return warehouse.with_name(warehouse.name + ".lock")


def current_writer(warehouse: Path) -> Writer | None:
    """The holder as it wrote itself into the lock file, or None (free, or not written yet)."""
    try:
        fields = json.loads(lock_path(warehouse).read_text(encoding="utf-8"))
        return Writer(
            str(fields["run"]), int(fields["pid"]), str(fields["started_at"]), str(fields["command"])
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def this_command() -> str:
    """The command line of this process, shortened for one console line."""
    words = [Path(sys.argv[0]).name, *sys.argv[1:]] if sys.argv and sys.argv[0] else ["python"]
    line = " ".join(words)
    return line if len(line) <= 160 else line[:157] + "..."


def _try_lock(descriptor: int) -> bool:
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


@contextmanager
def warehouse_writer(
    warehouse: Path,
    run: str,
    command: str | None = None,
    on_wait: Callable[[Writer | None], None] | None = None,
    poll_seconds: float = POLL_SECONDS,
) -> Iterator[Writer]:
    """Hold the warehouse's write lock for the block, waiting (without a time limit) for a holder.

    ``on_wait`` is called once per holder waited for (None when the holder has not written its
    name yet), so the console says "waiting for run X ..." once, and again only if another run
    got the lock first.
    """
    path = lock_path(warehouse.resolve())
    me = Writer(
        run, os.getpid(), datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"), command or this_command()
    )
    with _held_guard:
        if path in _held:
            descriptor, depth = _held[path]
            _held[path] = (descriptor, depth + 1)
            reentered = True
        else:
            reentered = False
    if reentered:
        try:
            yield me
        finally:
            _release(path)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)  # not inherited by dbt's subprocess
    try:
        announced: Writer | None | bool = False
        while not _try_lock(descriptor):
            holder = current_writer(warehouse)
            # No name is either a holder that has not written it yet or one that is letting go
            # (it empties the file before closing it): worth a line only before any other.
            releasing = holder is None and announced is not False
            if holder != announced and not releasing and on_wait is not None:
                on_wait(holder)
            announced = holder
            time.sleep(poll_seconds)
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, json.dumps(asdict(me)).encode("utf-8"), 0)
    except BaseException:
        os.close(descriptor)
        raise
    with _held_guard:
        _held[path] = (descriptor, 1)
    try:
        yield me
    finally:
        _release(path)


def _release(path: Path) -> None:
    with _held_guard:
        descriptor, depth = _held[path]
        if depth > 1:
            _held[path] = (descriptor, depth - 1)
            return
        del _held[path]
    os.ftruncate(descriptor, 0)  # a later reader finds no holder named
    os.close(descriptor)  # closing the last descriptor drops the flock
