"""One analyst query in a child process whose memory, CPU time, temp space, wall time and result size
are bounded.

Why a process: DuckDB's own ``memory_limit`` covers its buffer manager only (``string_agg`` and
other operators allocate past it), and ``interrupt()`` cannot stop the parser or the binder. An
address-space limit (``RLIMIT_AS``) holds for every allocation of the process, and a process can be
killed at the deadline wherever it is, so the parent times the whole path (parse, check, execute,
fetch) and the host keeps its memory whatever the query does.

Children come from a fork server (a fresh interpreter that imported the sandbox once and holds no
DuckDB connection, no thread of the parent's): forking the caller itself would copy Streamlit's
threads and whatever DuckDB connections it holds, and a spawned interpreter per query would pay
the imports (about a second) each time.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import resource
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

# Environment variables that override the limits (read per query, not at import).
MEMORY_ENV = "CXLAKE_SQL_MEMORY_MB"
TIME_ENV = "CXLAKE_SQL_TIME_LIMIT_SECONDS"
# DuckDB's own limit is this share of the budget: its buffer-managed operators then fail (or spill)
# with DuckDB's message before the address-space limit, which catches everything else, is reached.
_DUCKDB_SHARE = 0.75
# Room for the pickled envelope around a result of ``result_bytes``.
_ENVELOPE_BYTES = 1 << 16
# Modules the fork server imports once, so a child starts warm (imported by name: no import cycle).
_PRELOAD = ["__main__", "cxlake.access.sql_sandbox"]
# Longest one-line message shown to the user and written to the audit log.
MESSAGE_CHARS = 500


class QueryRefused(ValueError):
    """The query did not run to the end: refused by the checks, stopped at a limit, or failed.

    ``str()`` is always one line, ready for the user and the audit log.
    """

    def __init__(self, message: str, *, peak_rss_bytes: int | None = None) -> None:
        super().__init__(one_line(message))
        self.peak_rss_bytes = peak_rss_bytes


@dataclass(frozen=True)
class SqlLimits:
    """What one query may use; the defaults are the figures the README states."""

    memory_bytes: int = 1 << 30  # growth of the query's process over its start-up size (RLIMIT_AS)
    time_seconds: float = 30.0  # wall clock over the whole path: start, parse, check, run, fetch
    row_cap: int = 10_000  # rows returned; one more is fetched to tell whether there were more
    statement_bytes: int = 100_000  # UTF-8 size of the statement, refused before anything parses it
    result_bytes: int = 64 << 20  # pickled size of the rows handed back to the caller
    temp_bytes: int = 1 << 30  # what DuckDB may spill to the query's private temp folder
    threads: int = 2

    def __post_init__(self) -> None:
        for name in ("memory_bytes", "row_cap", "statement_bytes", "result_bytes", "temp_bytes", "threads"):
            if getattr(self, name) < 1:
                raise ValueError(f"SQL limit {name} must be at least 1, got {getattr(self, name)}")
        if not self.time_seconds > 0:
            raise ValueError(f"SQL limit time_seconds must be above 0, got {self.time_seconds}")

    @property
    def duckdb_memory_bytes(self) -> int:
        return int(self.memory_bytes * _DUCKDB_SHARE)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: Any) -> SqlLimits:
        """The defaults, with ``CXLAKE_SQL_MEMORY_MB`` / ``CXLAKE_SQL_TIME_LIMIT_SECONDS`` if set."""
        environ = dict(os.environ if environ is None else environ)
        values: dict[str, Any] = {}
        if environ.get(MEMORY_ENV, "").strip():
            values["memory_bytes"] = _env_number(environ, MEMORY_ENV, int) << 20
        if environ.get(TIME_ENV, "").strip():
            values["time_seconds"] = _env_number(environ, TIME_ENV, float)
        return cls(**{**values, **overrides})


def _env_number(environ: dict[str, str], name: str, kind: type) -> Any:
    text = environ[name].strip()
    try:
        return kind(text)
    except ValueError:
        raise ValueError(f"{name}={text!r} is not a {kind.__name__} number") from None


def human_bytes(count: int) -> str:
    """1073741824 -> '1 GiB', 805306368 -> '768 MiB' (the figures users read in messages)."""
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if count >= size:
            return f"{count / size:.3g} {unit}"
    return f"{count} B"


def memory_message(limits: SqlLimits) -> str:
    return f"stopped: the query needs more than {human_bytes(limits.memory_bytes)} of memory (the limit)"


def one_line(text: str) -> str:
    """The first non-empty line of ``text``, at most ``MESSAGE_CHARS`` characters."""
    line = next((part.strip() for part in str(text).splitlines() if part.strip()), "")
    return line if len(line) <= MESSAGE_CHARS else line[: MESSAGE_CHARS - 1] + "…"


@dataclass(frozen=True)
class ChildOutcome:
    """What the child reports: the target's value or a one-line refusal, with its memory figures."""

    value: object
    refusal: str | None
    start_rss_bytes: int
    peak_rss_bytes: int


def run_bounded(target: Callable[..., object], args: tuple, limits: SqlLimits) -> ChildOutcome:
    """``target(*args, limits=limits, temp_dir=...)`` in a bounded child; refusals come back as text.

    Raises :class:`QueryRefused` when the child could not report: killed at the deadline, crashed,
    or its result was over ``limits.result_bytes``.
    """
    context = _context()
    reader, writer = context.Pipe(duplex=False)
    temp_dir = tempfile.mkdtemp(prefix="cxlake-sql-")
    process = context.Process(
        target=_child_main, args=(writer, target, args, limits, temp_dir), name="cxlake-sql", daemon=True
    )
    deadline = time.monotonic() + limits.time_seconds
    try:
        try:
            process.start()
        except OSError as error:
            raise QueryRefused(f"failed: the query's process could not start ({error})") from None
        finally:
            writer.close()
        if not reader.poll(max(deadline - time.monotonic(), 0.0)):
            peak = _peak_rss(process.pid)
            process.kill()
            raise QueryRefused(
                f"stopped after {limits.time_seconds:g} s (the time limit)", peak_rss_bytes=peak
            )
        try:
            payload = reader.recv_bytes(limits.result_bytes + _ENVELOPE_BYTES)
        except EOFError:
            process.join(5)
            raise QueryRefused(_death_message(process.exitcode, limits)) from None
        except OSError:
            # recv_bytes refuses a message over its maximum length before reading it
            raise QueryRefused(
                f"refused: the result is larger than {human_bytes(limits.result_bytes)};"
                " select fewer rows or columns"
            ) from None
        return pickle.loads(payload)
    finally:
        reader.close()
        if process.is_alive():
            process.kill()
        process.join(5)
        process.close()
        shutil.rmtree(temp_dir, ignore_errors=True)


_context_lock = threading.Lock()


def _context() -> multiprocessing.context.BaseContext:
    """The fork-server context, its preload set once (pages call this from several threads)."""
    with _context_lock:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(_PRELOAD)
        return context


def _death_message(exitcode: int | None, limits: SqlLimits) -> str:
    if exitcode is not None and exitcode < 0:
        name = signal.Signals(-exitcode).name
        if -exitcode in (signal.SIGXCPU, signal.SIGKILL):
            return f"stopped after {limits.time_seconds:g} s of CPU time (the time limit)"
        return (
            f"failed: the query's process ended with {name}; the statement may be nested too deeply"
            f" or need more than {human_bytes(limits.memory_bytes)} of memory"
        )
    return f"failed: the query's process ended without an answer (exit code {exitcode})"


def _child_main(
    writer: Connection, target: Callable[..., object], args: tuple, limits: SqlLimits, temp_dir: str
) -> None:
    """Limit this process, run ``target`` and send back one pickled :class:`ChildOutcome`."""
    # pyarrow's default pool (mimalloc) reserves a 1 GiB arena up front, which would count against
    # the address-space limit without holding anything; the system allocator reserves nothing.
    os.environ["ARROW_DEFAULT_MEMORY_POOL"] = "system"
    start_rss = _rss_field("VmRSS")
    _limit_resources(limits)
    value: object = None
    refusal: str | None = None
    try:
        value = target(*args, limits=limits, temp_dir=temp_dir)
    except QueryRefused as error:
        refusal = str(error)
    except MemoryError:
        refusal = memory_message(limits)
    except RecursionError:
        refusal = "refused: the statement is nested too deeply to check"
    except Exception as error:  # noqa: BLE001 - whatever failed, the user gets one line, not a traceback
        refusal = f"failed: {type(error).__name__}: {one_line(str(error))}"
    try:
        payload = pickle.dumps(
            ChildOutcome(value, refusal, start_rss, _rss_field("VmHWM")), protocol=pickle.HIGHEST_PROTOCOL
        )
    except MemoryError:
        payload = b""
    if not payload or len(payload) > limits.result_bytes:
        value = None
        refusal = (
            f"refused: the result is larger than {human_bytes(limits.result_bytes)};"
            " select fewer rows or columns"
        )
        payload = pickle.dumps(ChildOutcome(None, refusal, start_rss, _rss_field("VmHWM")))
    writer.send_bytes(payload)
    writer.close()


def _limit_resources(limits: SqlLimits) -> None:
    """Address space (start-up size + budget), CPU seconds, file size and no core dumps."""
    address_space = _rss_field("VmSize") + limits.memory_bytes
    resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))
    # A backstop for a child the parent failed to kill: SIGXCPU a little after the wall-clock limit.
    cpu = int(limits.time_seconds * limits.threads) + 5
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
    # Spill files cannot outgrow the temp budget even if DuckDB's own cap failed; with SIGXFSZ
    # ignored, an oversized write fails with an error instead of killing the process.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits.temp_bytes, limits.temp_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _rss_field(field: str, pid: int | str = "self") -> int:
    """A ``Vm*`` figure of ``/proc/<pid>/status`` in bytes (0 if the process is gone)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        return 0
    return 0


def _peak_rss(pid: int | None) -> int | None:
    return _rss_field("VmHWM", pid) or None if pid is not None else None
