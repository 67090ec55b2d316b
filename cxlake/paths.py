"""Where cxlake writes: everything under one home folder (``data/`` or ``$CXLAKE_HOME``), readable
by its owner only.

The home holds customers' phones, e-mails and comments (landing files, the warehouse, the serving
copy), password hashes and cases (the app-state store), exports and logs. Each process that writes
there (the ``cxlake`` command, the Dagster code location and the runs it starts, the explorer)
calls :func:`owner_only_process` first: files and folders it creates are then 0600 / 0700, and a
home that other local users can open is reported at start-up.

An open home is *warned* about, not refused: refusing would stop the pipeline and the explorer of
every installation whose ``data/`` an older cxlake made 0755, in the middle of a run's schedule, and
an administrator may have opened the folder on purpose (an analysts' group reading the serving copy
with their own DuckDB). The warning names the folder, its mode and the command that closes it.
"""

from __future__ import annotations

import contextlib
import glob
import os
import re
import stat
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

# Files 0600 and folders 0700: nobody but the owner reads, writes or lists anything cxlake creates.
OWNER_ONLY_UMASK = 0o077
OWNER_ONLY_FILE = 0o600
OWNER_ONLY_FOLDER = 0o700


@dataclass(frozen=True)
class Paths:
    home: Path

    @property
    def warehouse(self) -> Path:
        return self.home / "warehouse.duckdb"

    @property
    def serving(self) -> Path:
        return self.home / "serving.duckdb"

    @property
    def app_state(self) -> Path:
        return self.home / "app_state.sqlite"

    @property
    def landing(self) -> Path:
        return self.home / "landing"

    @property
    def dagster_home(self) -> Path:
        return self.home / "dagster"


def cxlake_paths(home: str | Path | None = None) -> Paths:
    """The paths for ``home``, else ``$CXLAKE_HOME``, else ``./data`` (read when called)."""
    chosen = home or os.environ.get("CXLAKE_HOME") or "data"
    return Paths(Path(chosen).resolve())


def open_to_others(path: Path) -> str | None:
    """Why ``path`` is not owner-only (its mode, and who else may read it), or None when it is, or
    when it does not exist yet (it will be created owner-only)."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return None
    if not mode & 0o077:
        return None
    who = " and ".join(
        kind for kind, bits in (("its group", 0o070), ("every local user", 0o007)) if mode & bits
    )
    return f"{path} is open to {who} (mode {mode:04o}); close it with: chmod -R go-rwx {path}"


def owner_only_process(home: str | Path | None = None) -> str | None:
    """Make this process create files 0600 and folders 0700 (umask 077), and warn on stderr when
    the home is open to other local users. Returns the warning, or None.

    Called at the start of each entry point rather than on import, so importing cxlake (a notebook,
    a test) does not change a process it does not own. The umask covers every file the process and
    its children write (DuckDB's, SQLite's journals, dbt's, Dagster's logs); the modes that matter
    most are also set explicitly where they are created (:func:`owner_only_folder`, the serving
    copy's temporary)."""
    os.umask(OWNER_ONLY_UMASK)
    warning = open_to_others(cxlake_paths(home).home)
    if warning is not None:
        # Straight to stderr: the command, Dagster and Streamlit each set up logging their own way,
        # and this must reach the console of whoever started the process.
        print(f"cxlake: warning: customer data readable by others: {warning}", file=sys.stderr, flush=True)
    return warning


def owner_only_folder(path: Path) -> Path:
    """``path`` as a folder, created (with its missing parents) 0700 whatever the process's umask;
    an existing folder keeps its mode (:func:`owner_only_process` warns about an open home)."""
    missing = [folder for folder in (path, *path.parents) if not folder.exists()]
    for folder in reversed(missing):
        folder.mkdir(mode=OWNER_ONLY_FOLDER, exist_ok=True)
        os.chmod(folder, OWNER_ONLY_FOLDER)  # mkdir's mode passes through the umask
    return path


# A copy in progress writes all the time (1 GB in about 0.5 s): a temporary of a live process left
# untouched this long before a publish started is not being written (its pid was reused after a crash).
UNTOUCHED_SECONDS = 60.0
_TEMPORARY = re.compile(r"\.(?P<name>.+)\.(?P<pid>\d+)\.tmp")


def publish_temporary(target: Path, pid: int | None = None) -> Path:
    """Where a publish writes its copy of ``target`` before renaming it into place: a hidden
    ``.<name>.<pid>.tmp`` beside it (same folder, so the rename is atomic)."""
    return target.with_name(f".{target.name}.{os.getpid() if pid is None else pid}.tmp")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True


def stale_temporaries(target: Path, started: float | None = None) -> list[Path]:
    """Temporaries of ``target`` left by publishes that will never rename them: their process is
    gone (killed during the copy), or they were last written more than :data:`UNTOUCHED_SECONDS`
    before ``started`` (this publish's start, default now). This process's own is never stale."""
    started = time.time() if started is None else started
    stale = []
    for path in sorted(target.parent.glob(f".{glob.escape(target.name)}.*.tmp")):
        match = _TEMPORARY.fullmatch(path.name)
        if match is None or match["name"] != target.name or int(match["pid"]) == os.getpid():
            continue
        try:
            untouched = path.stat().st_mtime < started - UNTOUCHED_SECONDS
        except FileNotFoundError:  # renamed into place by its publish just now
            continue
        if untouched or not _alive(int(match["pid"])):
            stale.append(path)
    return stale


def remove_stale_temporaries(target: Path, started: float | None = None) -> list[Path]:
    """Delete :func:`stale_temporaries` (a copy of the served tables each: customers' data, and as
    much disk) and their WAL, and return what was deleted."""
    removed = []
    for path in stale_temporaries(target, started):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            removed.append(path)
        path.with_name(f"{path.name}.wal").unlink(missing_ok=True)  # DuckDB's log of the same copy
    return removed


@contextlib.contextmanager
def owner_only_files() -> Iterator[None]:
    """Files created inside the block are 0600 (folders 0700) whatever the process's umask: for
    files a library creates itself with no mode to pass (DuckDB's database and its WAL)."""
    previous = os.umask(OWNER_ONLY_UMASK)
    try:
        yield
    finally:
        os.umask(previous)
