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

import logging
import os
import stat
from dataclasses import dataclass
from pathlib import Path

# Files 0600 and folders 0700: nobody but the owner reads, writes or lists anything cxlake creates.
OWNER_ONLY_UMASK = 0o077
OWNER_ONLY_FILE = 0o600
OWNER_ONLY_FOLDER = 0o700

log = logging.getLogger(__name__)


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
    """Make this process create files 0600 and folders 0700 (umask 077), and warn (log, at WARNING)
    when the home is open to other local users. Returns the warning, or None.

    Called at the start of each entry point rather than on import, so importing cxlake (a notebook,
    a test) does not change a process it does not own. The umask covers every file the process and
    its children write (DuckDB's, SQLite's journals, dbt's, Dagster's logs); the modes that matter
    most are also set explicitly where they are created (:func:`owner_only_folder`, the serving
    copy's temporary)."""
    os.umask(OWNER_ONLY_UMASK)
    warning = open_to_others(cxlake_paths(home).home)
    if warning is not None:
        log.warning("cxlake: customer data readable by others: %s", warning)
    return warning


def owner_only_folder(path: Path) -> Path:
    """``path`` as a folder, created (with its missing parents) 0700 whatever the process's umask;
    an existing folder keeps its mode (:func:`owner_only_process` warns about an open home)."""
    missing = [folder for folder in (path, *path.parents) if not folder.exists()]
    for folder in reversed(missing):
        folder.mkdir(mode=OWNER_ONLY_FOLDER, exist_ok=True)
        os.chmod(folder, OWNER_ONLY_FOLDER)  # mkdir's mode passes through the umask
    return path
