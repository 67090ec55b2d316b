"""Back up and restore a cxlake home's stores: the warehouse, the serving copy and the app state.

A copy of a DuckDB file taken while a run writes it may be torn, and so may a plain copy of a SQLite
file while the explorer writes a case note. So a backup holds the warehouse's writer lock (runs,
backfills, erasures and the Dagster runs wait for it, see :mod:`cxlake.warehouse_lock`) while it
copies the two DuckDB files, and copies the app state with SQLite's online backup, which is
consistent however busy the explorer is. Each file's SHA-256 goes into ``MANIFEST``, which restore
checks before it touches anything: a damaged or partial backup is refused naming the file, and the
home stays as it was.

Restore also holds the writer lock, writes each DuckDB file beside its target and renames it into
place (an open explorer keeps reading the copy it has until it reopens, as after a publish), and
writes the app state through SQLite's backup API into the live store, so signed-in sessions see the
restored accounts at their next request. Landing files are not part of a backup: they are the
source of truth, delivered once and kept by whatever keeps the deliveries (docs/landing.md).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cxlake.paths import Paths
from cxlake.privacy.pseudonym import KEY_FILE as PSEUDONYM_KEY_FILE
from cxlake.warehouse_lock import Writer, warehouse_writer

MANIFEST = "cxlake-backup.json"
_CHUNK = 1 << 20


class BackupError(RuntimeError):
    """A backup that cannot be taken or restored: says which file and why."""


@dataclass(frozen=True)
class BackedUpFile:
    name: str  # file name under the home and in the backup folder
    size: int
    sha256: str


def _stores(paths: Paths) -> dict[str, Path]:
    """The stores a backup holds, by file name: DuckDB files, the app state, and the pseudonym key
    (without it, addresses seen after a restore get other pseudonyms than before)."""
    stores = (paths.warehouse, paths.serving, paths.app_state, paths.home / PSEUDONYM_KEY_FILE)
    return {path.name: path for path in stores}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _copy_sqlite(source: Path, target: Path) -> None:
    """SQLite's online backup: a consistent copy while other connections read and write."""
    with sqlite3.connect(source) as origin, sqlite3.connect(target) as copy:
        origin.backup(copy)
    copy.close()


def back_up(
    paths: Paths, target: Path, *, on_wait: Callable[[Writer | None], None] | None = None
) -> list[BackedUpFile]:
    """Copy the home's stores into ``target`` (a new or empty folder) and write its manifest."""
    if target.exists() and any(target.iterdir()):
        raise BackupError(f"{target}: not empty; a backup goes into a new folder")
    stores = {name: path for name, path in _stores(paths).items() if path.exists()}
    if paths.warehouse.name not in stores:
        raise BackupError(f"{paths.warehouse}: no warehouse to back up")
    target.mkdir(parents=True, exist_ok=True)
    taken_at = datetime.now(UTC)
    with warehouse_writer(paths.warehouse, f"backup to {target}", on_wait=on_wait):
        for name, path in stores.items():
            if name == paths.app_state.name:
                _copy_sqlite(path, target / name)
                continue
            shutil.copyfile(path, target / name)
            wal = path.with_name(name + ".wal")  # a killed writer's log: DuckDB replays it on open
            if wal.exists():
                shutil.copyfile(wal, target / wal.name)
    files = [
        BackedUpFile(path.name, path.stat().st_size, _sha256(path))
        for path in sorted(target.iterdir())
        if path.name != MANIFEST
    ]
    manifest = {
        "taken_at": taken_at.isoformat(timespec="seconds"),
        "home": str(paths.home),
        "files": [file.__dict__ for file in files],
    }
    (target / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return files


def checked_backup(source: Path) -> tuple[str, list[BackedUpFile]]:
    """The backup's time and files, each checked against its manifest, or a BackupError naming the
    first file that is missing or changed."""
    manifest_path = source / MANIFEST
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        files = [BackedUpFile(**entry) for entry in manifest["files"]]
        taken_at = str(manifest["taken_at"])
    except FileNotFoundError:
        raise BackupError(f"{manifest_path}: missing; not a cxlake backup folder") from None
    except (ValueError, KeyError, TypeError) as error:
        raise BackupError(f"{manifest_path}: unreadable manifest ({error})") from None
    for file in files:
        path = source / file.name
        if not path.is_file():
            raise BackupError(f"{path}: listed in the manifest but missing")
        if path.stat().st_size != file.size or _sha256(path) != file.sha256:
            raise BackupError(f"{path}: its bytes differ from the manifest's checksum (damaged or changed)")
    return taken_at, files


def restore(
    paths: Paths, source: Path, *, on_wait: Callable[[Writer | None], None] | None = None
) -> tuple[str, list[BackedUpFile]]:
    """Put the backup in ``source`` back in place of the home's stores; returns its time and files."""
    taken_at, files = checked_backup(source)
    names = {file.name for file in files}
    stores = _stores(paths)
    if paths.warehouse.name not in names:
        raise BackupError(f"{source}: holds no {paths.warehouse.name}")
    paths.home.mkdir(parents=True, exist_ok=True)
    with warehouse_writer(paths.warehouse, f"restore from {source}", on_wait=on_wait):
        for name, path in stores.items():
            if name not in names:
                continue
            if name == paths.app_state.name:
                _copy_sqlite(source / name, path)
                continue
            wal = path.with_name(name + ".wal")
            temp = path.with_name(f".{name}.{os.getpid()}.restoring")
            try:
                shutil.copyfile(source / name, temp)
                os.chmod(temp, 0o600)
                wal.unlink(missing_ok=True)  # a log of the replaced file must not replay onto the backup
                os.replace(temp, path)
            finally:
                temp.unlink(missing_ok=True)
            if wal.name in names:
                shutil.copyfile(source / wal.name, wal)
    return taken_at, files
