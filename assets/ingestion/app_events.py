"""The ordering app's event stream: one JSON object per line, one file per hour the collector received.

A day's folder holds ``events_<HH>.jsonl`` (or ``.jsonl.gz``, as collectors often compress). A line
that is not a JSON object, not UTF-8, or whose fields are not plain values is kept as a row of its
own with only its lineage and the reason in ``_record_problem``: the gate quarantines that line
alone (file and line number named) and the day's other events load. Fields are kept as text, as
delivered (numbers too); fields the contract does not know are named in a warning per file.
"""

from __future__ import annotations

import gzip
import json
import zlib
from pathlib import Path

import pandas as pd

from assets.ingestion import raw_tables as rt
from assets.ingestion.delivery import FileAudit, PartitionLoad
from cxlake.delivered_files import (
    DeliveredFileError,
    file_checksum,
    json_value_text,
    landing_name,
    read_delivered,
)
from expectations.suites.base import RECORD_PROBLEM

FILE_PATTERNS = ("*.jsonl", "*.jsonl.gz", "*.ndjson", "*.ndjson.gz")
COLUMNS = rt.APP_EVENTS.columns
KNOWN = frozenset(COLUMNS)
MAX_EXTRA_NAMED = 5
MAX_LINES_NAMED = 20  # per file: the rest are counted (each is in quarantine with its line number)


def load_app_events(landing_root: Path, folder: Path, day: str) -> PartitionLoad:
    """Every events file of one day's folder as raw.app_events rows, with their audit rows."""
    load = PartitionLoad(day)
    present = (
        sorted({p for pattern in FILE_PATTERNS for p in folder.glob(pattern)}) if folder.is_dir() else []
    )
    others = sorted(set(folder.iterdir()) - set(present)) if folder.is_dir() else []
    for path in others:
        load.warnings.append(f"{landing_name(path, landing_root)}: not an events file (*.jsonl); left unread")
    for path in present:
        name = landing_name(path, landing_root)
        data = read_delivered(path, landing_root)
        frame, extra = events_frame(path, _decompressed(path, data), name)
        load.add(rt.APP_EVENTS, frame)
        load.audits.append(FileAudit(name, rt.APP_EVENTS.name, len(frame), len(frame), file_checksum(data)))
        broken = frame.loc[frame[RECORD_PROBLEM].notna(), ["_source_row", RECORD_PROBLEM]]
        for line, problem in broken.head(MAX_LINES_NAMED).itertuples(index=False):
            load.warnings.append(f"{name}:{line}: {problem}; quarantined")
        if len(broken) > MAX_LINES_NAMED:
            load.warnings.append(f"{name}: {len(broken) - MAX_LINES_NAMED} more broken lines quarantined")
        if extra:
            named = ", ".join(sorted(extra)[:MAX_EXTRA_NAMED]) + (
                ", ..." if len(extra) > MAX_EXTRA_NAMED else ""
            )
            load.warnings.append(f"{name}: field(s) the contract does not know, not loaded: {named}")
    return load


def events_frame(path: Path, text: bytes, name: str) -> tuple[pd.DataFrame, set[str]]:
    """The file's lines as rows of the raw table's columns plus lineage; blank lines are skipped
    (their numbers are not reused), so ``_source_row`` is the line a reader opens."""
    rows: list[list[str | None]] = []
    lines: list[int] = []
    problems: list[str | None] = []
    extra: set[str] = set()
    for number, raw_line in enumerate(text.split(b"\n"), start=1):
        if number == 1 and raw_line.startswith(b"\xef\xbb\xbf"):
            raw_line = raw_line[3:]
        if not raw_line.strip():
            continue
        values, problem = _parse_line(raw_line)
        if values is not None:
            if not values.keys() <= KNOWN:
                extra.update(values.keys() - KNOWN)
            fields = [values.get(column) for column in COLUMNS]
            # most fields are text or missing already: only numbers and true/false need writing out
            rows.append([v if v is None or type(v) is str else json_value_text(v) for v in fields])
        else:
            rows.append([None] * len(COLUMNS))
        lines.append(number)
        problems.append(problem)
    frame = pd.DataFrame(rows, columns=list(COLUMNS), dtype="string")
    frame["_source_file"] = name
    frame["_source_row"] = lines
    frame[RECORD_PROBLEM] = pd.array(problems, dtype="string")
    return frame, extra


def _parse_line(raw_line: bytes) -> tuple[dict | None, str | None]:
    """(the event's fields, None) or (None, why the line is not an event)."""
    try:
        line = raw_line.decode("utf-8")
    except UnicodeDecodeError as error:
        return None, f"not valid UTF-8 (undecodable byte at column {error.start + 1})"
    if "\x00" in line:
        return None, "holds a NUL byte"
    try:
        value = json.loads(line)
    except json.JSONDecodeError as error:  # its message says where, never what
        return None, f"not valid JSON ({error.msg} at column {error.colno})"
    if not isinstance(value, dict):
        return None, f"a JSON {type(value).__name__}, not an event object"
    # A nested field needs a bracket after the line's first one: most lines skip the per-field look.
    if "[" in line or "{" in line[line.index("{") + 1 :]:
        nested = sorted(key for key in COLUMNS if isinstance(value.get(key), dict | list))
        if nested:
            return None, f"field(s) {', '.join(nested)} hold an object or list, not a value"
    return value, None


def _decompressed(path: Path, data: bytes) -> bytes:
    if not path.name.endswith(".gz"):
        return data
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as error:
        raise DeliveredFileError(path, f"not a complete gzip file ({error})") from None
