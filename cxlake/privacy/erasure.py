"""`cxlake erase`: remove or irreversibly pseudonymise one person everywhere cxlake keeps them.

Everywhere is: the delivered files in landing/ (rewritten, and their new checksums recorded in the
load audit, so the landing sensor and the loader's checksum dedup take them for what was loaded,
not for a new delivery), every table of the warehouse (raw, quarantine, staging, marts, enrichment,
the cases snapshot) and of the serving copy, the app-state store (cases, their notes and events,
owed messages, quarantine decisions, the audit log's query texts), and every other file under the
home (the invitation outbox, exports kept there, data docs). Their customer id becomes a random
pseudonym (their purchases and scores still count in aggregates, linked to nobody); their phone,
e-mail, name and IP addresses are emptied or replaced by ``[erased]``.

It holds the warehouse's write lock for the whole erasure, like every writer, so no load reads a
landing file half way or writes the warehouse beside it. The serving copy is patched on a copy and
renamed into place, as a publish does, so the explorer never waits. The warehouse goes last: the
person is found from its CRM rows, so an erasure stopped half way can simply be run again.

A dry run opens everything read-only and reports the same counts. A real run appends an erasure
record to the audit log (:mod:`cxlake.privacy.record`), which holds no personal data.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from cxlake.app_state import AppState
from cxlake.paths import Paths
from cxlake.privacy.duckdb_tables import compact, erase_in_database, rerecord_checksums
from cxlake.privacy.files import FileChange, erased_file, files_under, replace_file
from cxlake.privacy.lookup import Request, keys_for
from cxlake.privacy.record import write_record
from cxlake.privacy.records import Keys
from cxlake.privacy.sqlite_tables import erase_in_sqlite, is_sqlite
from cxlake.warehouse_lock import Writer, warehouse_writer

MANIFEST_NAME = "manifest.sha256"  # a delivery's checksum list (docs/landing.md)
_DUCKDB_MAGIC_OFFSET, _DUCKDB_MAGIC = 8, b"DUCK"


@dataclass
class ErasureReport:
    """What an erasure touched: rows or files per place, in the order they were erased."""

    erasure_id: str
    dry_run: bool
    customers: int  # customer ids the request led to
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, place: str, count: int) -> None:
        if count:
            self.counts[place] = self.counts.get(place, 0) + count

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def lines(self) -> list[str]:
        """The report as printed: one line per place, then the total."""
        verb = "would change" if self.dry_run else "changed"
        head = f"erasure {self.erasure_id}: {self.customers} customer id(s) found; {verb}:"
        body = [f"  {place}: {count}" for place, count in self.counts.items()] or ["  nothing"]
        return [head, *body]


def _is_duckdb(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            head = handle.read(_DUCKDB_MAGIC_OFFSET + len(_DUCKDB_MAGIC))
    except OSError:
        return False
    return head[_DUCKDB_MAGIC_OFFSET:] == _DUCKDB_MAGIC


def _database_files(paths: Paths) -> set[Path]:
    """The stores erased table by table, with the journals and locks beside them."""
    stores = {paths.warehouse, paths.serving, paths.app_state}
    extras = {
        store.with_name(store.name + suffix)
        for store in stores
        for suffix in (".wal", "-wal", "-journal", "-shm", ".lock")
    }
    return {p.resolve() for p in stores | extras}


def _place(paths: Paths, path: Path) -> str:
    """``landing`` for deliveries, else the first folder under the home (``outbox``, ``exports``)."""
    relative = path.relative_to(paths.home)
    return relative.parts[0] if len(relative.parts) > 1 else "home"


def _update_manifest(folder: Path, changes: dict[str, str], *, apply: bool) -> None:
    """Rewrite the checksum of each changed file in its delivery's manifest.sha256, if it has one:
    the landing sensor waits for a folder whose files do not match their manifest."""
    manifest = folder / MANIFEST_NAME
    if not manifest.is_file():
        return
    lines = manifest.read_text("utf-8").splitlines(keepends=True)
    new_lines = []
    for line in lines:
        checksum, _, name = line.rstrip("\r\n").partition("  ")
        name = name.lstrip("*")
        if name in changes and len(checksum) == 64:
            line = f"{changes[name]}  {name}" + line[len(line.rstrip("\r\n")) :]
        new_lines.append(line)
    if apply and new_lines != lines:
        replace_file(manifest, "".join(new_lines).encode("utf-8"))


def _erase_files(paths: Paths, keys: Keys, report: ErasureReport, *, apply: bool) -> list[FileChange]:
    """Text files under the home; SQLite and DuckDB files other than the three stores, in place."""
    skip = _database_files(paths)
    landing_changes: list[FileChange] = []
    for path in files_under(paths.home, skip):
        place = _place(paths, path)
        if is_sqlite(path):
            report.add(
                f"{place} database rows",
                sum(erase_in_sqlite(path, keys, report.erasure_id, apply=apply).values()),
            )
            continue
        if _is_duckdb(path):
            with duckdb.connect(str(path), read_only=not apply) as connection:
                report.add(
                    f"{place} database rows", sum(erase_in_database(connection, keys, apply=apply).values())
                )
            continue
        change = erased_file(path, keys)
        if change is None:
            continue
        report.add(f"{place} files", 1)
        report.add(f"{place} records", change.records)
        if apply:
            replace_file(path, change.data)
        if path.is_relative_to(paths.landing):
            landing_changes.append(change)
    by_folder: dict[Path, dict[str, str]] = {}
    for change in landing_changes:
        by_folder.setdefault(change.path.parent, {})[change.path.name] = change.new_checksum
    for folder, changes in by_folder.items():
        _update_manifest(folder, changes, apply=apply)
    return landing_changes


def _audit_names(paths: Paths, changes: list[FileChange]) -> list[tuple[str, str, str]]:
    """(file as the load audit names it: relative to landing/, old sha256, new sha256)."""
    return [(str(c.path.relative_to(paths.landing)), c.old_checksum, c.new_checksum) for c in changes]


def _erase_serving(
    paths: Paths, keys: Keys, checksums: list[tuple[str, str, str]], report: ErasureReport, *, apply: bool
) -> None:
    """The serving copy, patched on a copy beside it and renamed into place (readers keep the old
    copy until they reopen, as after a publish)."""
    if not paths.serving.exists():
        return
    if not apply:
        with duckdb.connect(str(paths.serving), read_only=True) as connection:
            report.add("serving rows", sum(erase_in_database(connection, keys, apply=False).values()))
            report.add("serving load audit checksums", rerecord_checksums(connection, checksums, apply=False))
        return
    temp = paths.serving.with_name(f".{paths.serving.name}.{os.getpid()}.erasing")
    try:
        shutil.copyfile(paths.serving, temp)
        os.chmod(temp, paths.serving.stat().st_mode & 0o7777)
        with duckdb.connect(str(temp)) as connection:
            rows = sum(erase_in_database(connection, keys, apply=True).values())
            audited = rerecord_checksums(connection, checksums, apply=True)
            connection.execute("CHECKPOINT")
        report.add("serving rows", rows)
        report.add("serving load audit checksums", audited)
        if rows or audited:
            compact(temp)
            os.replace(temp, paths.serving)
    finally:
        temp.unlink(missing_ok=True)


def erase(
    request: Request,
    paths: Paths,
    *,
    actor: str,
    dry_run: bool = False,
    on_wait: Callable[[Writer | None], None] | None = None,
) -> ErasureReport:
    """Erase the person ``request`` names from everything under ``paths.home``; see the module."""
    apply = not dry_run
    erasure_id = uuid.uuid4().hex[:12]
    with warehouse_writer(paths.warehouse, f"erase {erasure_id}", on_wait=on_wait):
        connection = (
            duckdb.connect(str(paths.warehouse), read_only=dry_run) if paths.warehouse.exists() else None
        )
        try:
            keys = keys_for(connection, request)
            report = ErasureReport(erasure_id, dry_run, len(keys.person.customer_ids))
            if paths.app_state.exists():
                for table, count in erase_in_sqlite(paths.app_state, keys, erasure_id, apply=apply).items():
                    report.add(f"app state {table}", count)
            changes = _erase_files(paths, keys, report, apply=apply)
            checksums = _audit_names(paths, changes)
            _erase_serving(paths, keys, checksums, report, apply=apply)
            if connection is not None:
                for schema, count in erase_in_database(connection, keys, apply=apply).items():
                    report.add(f"warehouse {schema} rows", count)
                report.add(
                    "warehouse load audit checksums", rerecord_checksums(connection, checksums, apply=apply)
                )
                if apply:
                    connection.execute("CHECKPOINT")
        finally:
            if connection is not None:
                connection.close()
        if apply and paths.warehouse.exists():
            compact(paths.warehouse)  # under the writer lock: no run holds the old file open
        if apply:
            write_record(
                AppState(paths.app_state),
                erasure_id=erasure_id,
                actor=actor,
                kind=request.kind,
                normalised=request.normalised,
                counts=report.counts,
            )
    return report
