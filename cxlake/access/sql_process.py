"""One analyst query in a child process whose memory, CPU time, temp space, wall time and result size
are bounded.

Why a process: DuckDB's own ``memory_limit`` covers its buffer manager only (``string_agg`` and
other operators allocate past it), and ``interrupt()`` cannot stop the parser or the binder. An
address-space limit (``RLIMIT_AS``) holds for every allocation of the process, and a process can be
killed at the deadline wherever it is, so the parent times the whole path (parse, check, execute,
fetch) and the host keeps its memory whatever the query does.

Each worker is a fresh interpreter that serves one job and exits. Forking the caller would copy
Streamlit's threads and whatever DuckDB connections it holds; multiprocessing (spawn or fork
server) would re-run the caller's ``__main__``, which under Streamlit is the page itself. The
imports cost about a second, so a warm spare waits for the next query (``keep_warm``).
"""

from __future__ import annotations

import importlib
import os
import pickle
import resource
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

# Environment variables that override the limits (read per query, not at import).
MEMORY_ENV = "CXLAKE_SQL_MEMORY_MB"
TIME_ENV = "CXLAKE_SQL_TIME_LIMIT_SECONDS"
# DuckDB's own limit is this share of the budget, so its buffer-managed operators spill (or fail with
# its message) before the address-space limit is reached; the rest holds what DuckDB does not count:
# its threads' arenas, allocations outside its buffer manager (string_agg), pandas' copy of the rows.
# At 0.75 a sort ran out of address space instead of spilling.
_DUCKDB_SHARE = 0.5
# Room for the pickled envelope around a result of ``result_bytes``.
_ENVELOPE_BYTES = 1 << 16
# What a worker runs: import the target's module (named on the command line), then serve one job.
_WORKER_CODE = "import sys; from cxlake.access.sql_process import serve_one; serve_one(sys.argv[1])"
# Length prefix of the messages between caller and worker.
_HEADER_BYTES = 8
# How often the parent looks at the child's spill folder while it waits.
_WATCH_SECONDS = 0.1
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
            values["memory_bytes"] = _env_number(environ, MEMORY_ENV, int, "whole number of MiB") << 20
        if environ.get(TIME_ENV, "").strip():
            values["time_seconds"] = _env_number(environ, TIME_ENV, float, "number of seconds")
        return cls(**{**values, **overrides})


def _env_number(environ: dict[str, str], name: str, kind: type, meaning: str) -> Any:
    text = environ[name].strip()
    try:
        return kind(text)
    except ValueError:
        raise ValueError(f"{name}={text!r} is not a {meaning}") from None


def human_bytes(count: int) -> str:
    """1073741824 -> '1 GiB', 805306368 -> '768 MiB' (the figures users read in messages)."""
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if count >= size:
            return f"{count / size:.3g} {unit}"
    return f"{count} B"


def memory_message(limits: SqlLimits) -> str:
    return f"stopped: the query needs more than {human_bytes(limits.memory_bytes)} of memory (the limit)"


def result_message(limits: SqlLimits) -> str:
    return (
        f"refused: the result is larger than {human_bytes(limits.result_bytes)}; select fewer rows or columns"
    )


def temp_message(limits: SqlLimits) -> str:
    return f"stopped: the query spills more than {human_bytes(limits.temp_bytes)} to disk (the limit)"


def one_line(text: str) -> str:
    """The first non-empty line of ``text``, at most ``MESSAGE_CHARS`` characters."""
    line = next((part.strip() for part in str(text).splitlines() if part.strip()), "")
    return line if len(line) <= MESSAGE_CHARS else line[: MESSAGE_CHARS - 1] + "…"


@dataclass(frozen=True)
class ChildOutcome:
    """What the child reports: the target's value or a one-line refusal, with its memory figures."""

    value: object
    refusal: str | None
    peak_rss_bytes: int


def run_bounded(
    target: Callable[..., object], args: tuple, limits: SqlLimits, *, keep_warm: bool = True
) -> ChildOutcome:
    """``target(*args, limits=limits, temp_dir=...)`` in a bounded worker; refusals come back as text.

    Raises :class:`QueryRefused` when the worker could not report: killed at the deadline or over
    its spill budget, crashed, or its answer was over ``limits.result_bytes``. With ``keep_warm``, a
    fresh worker is started for the next call once this one is answered (pages run many queries;
    a one-shot command does not need one).
    """
    deadline = time.monotonic() + limits.time_seconds
    worker = _take_worker(target.__module__)
    temp_dir = ""
    try:
        temp_dir = tempfile.mkdtemp(prefix="cxlake-sql-")
        _send(worker, pickle.dumps((target, args, limits, temp_dir)), limits, deadline)
        header = _read(worker, _HEADER_BYTES, limits, deadline, temp_dir)
        if len(header) < _HEADER_BYTES:
            raise _death(worker, limits)
        size = int.from_bytes(header, "big")
        if size > limits.result_bytes + _ENVELOPE_BYTES:
            raise QueryRefused(result_message(limits))
        payload = _read(worker, size, limits, deadline, temp_dir)
        if len(payload) < size:
            raise _death(worker, limits)
        return pickle.loads(payload)
    finally:
        if worker.poll() is None:  # answered (or failed) and still shutting down: no need to wait
            worker.kill()
        worker.wait()
        for stream in (worker.stdin, worker.stdout):
            if stream is not None:
                stream.close()
        if temp_dir:
            shutil.rmtree(temp_dir, ignore_errors=True)
        if keep_warm:
            _prepare_spare(target.__module__)


def _read(worker: subprocess.Popen, count: int, limits: SqlLimits, deadline: float, temp_dir: str) -> bytes:
    """Up to ``count`` bytes of the worker's answer (fewer at its end); kill it at the deadline or
    once its spill folder is over budget.

    DuckDB's ``max_temp_directory_size`` does not bound every spill (a sort went past it), and
    ``RLIMIT_FSIZE`` bounds one file, not the folder, so the parent measures the folder itself.
    """
    assert worker.stdout is not None
    descriptor = worker.stdout.fileno()
    chunks: list[bytes] = []
    received = 0
    while received < count:
        wait = max(min(_WATCH_SECONDS, deadline - time.monotonic()), 0.0)
        ready, _, _ = select.select([descriptor], [], [], wait)
        if ready:
            chunk = os.read(descriptor, min(count - received, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            received += len(chunk)
            continue
        if time.monotonic() >= deadline:
            message = f"stopped after {limits.time_seconds:g} s (the time limit)"
        elif _folder_bytes(temp_dir) > limits.temp_bytes:
            message = temp_message(limits)
        else:
            continue
        peak = _peak_rss(worker.pid)
        worker.kill()
        raise QueryRefused(message, peak_rss_bytes=peak)
    return b"".join(chunks)


def _reap(worker: subprocess.Popen) -> tuple[int, int | None]:
    """The worker's exit status and peak resident memory (the kernel's figure at its end), killing
    it if it has not ended within a few seconds."""
    deadline = time.monotonic() + 5
    while True:
        try:
            pid, status, usage = os.wait4(worker.pid, os.WNOHANG)
        except ChildProcessError:  # already reaped by Popen
            return worker.wait(), None
        if pid:
            worker.returncode = os.waitstatus_to_exitcode(status)
            return worker.returncode, usage.ru_maxrss * 1024
        if time.monotonic() > deadline:
            worker.kill()
            deadline = float("inf")
        time.sleep(0.01)


def _death(worker: subprocess.Popen, limits: SqlLimits) -> QueryRefused:
    """The refusal for a worker that ended without answering."""
    exitcode, peak = _reap(worker)
    return QueryRefused(_death_message(exitcode, limits, peak), peak_rss_bytes=peak)


def _send(worker: subprocess.Popen, job: bytes, limits: SqlLimits, deadline: float) -> None:
    """Hand ``job`` to the worker without waiting past the deadline (it may still be importing)."""
    assert worker.stdin is not None
    descriptor = worker.stdin.fileno()
    os.set_blocking(descriptor, False)
    pending = memoryview(len(job).to_bytes(_HEADER_BYTES, "big") + job)
    while pending:
        _, ready, _ = select.select([], [descriptor], [], max(deadline - time.monotonic(), 0.0))
        if not ready:
            worker.kill()
            raise QueryRefused(f"stopped after {limits.time_seconds:g} s (the time limit)")
        try:
            pending = pending[os.write(descriptor, pending[: 1 << 16]) :]
        except BlockingIOError:
            continue
        except OSError:  # the worker died before it read the job
            raise _death(worker, limits) from None


def _write_message(stream: IO[bytes] | None, payload: bytes) -> None:
    assert stream is not None
    stream.write(len(payload).to_bytes(_HEADER_BYTES, "big") + payload)
    stream.flush()


def _read_message(stream: IO[bytes]) -> bytes | None:
    header = stream.read(_HEADER_BYTES)
    if len(header) < _HEADER_BYTES:
        return None
    return stream.read(int.from_bytes(header, "big"))


_spares: dict[str, subprocess.Popen] = {}
_spares_lock = threading.Lock()


def _take_worker(module: str) -> subprocess.Popen:
    """The warm spare for ``module`` if there is a live one, else a worker started now."""
    with _spares_lock:
        spare = _spares.pop(module, None)
    if spare is not None and spare.poll() is None:
        return spare
    return _launch(module)


def _prepare_spare(module: str) -> None:
    with _spares_lock:
        if module not in _spares or _spares[module].poll() is not None:
            _spares[module] = _launch(module)


def _launch(module: str) -> subprocess.Popen:
    """A new interpreter that imports ``module`` and waits on stdin for one job.

    A fresh interpreter, not a fork: the caller may hold DuckDB connections and run threads
    (Streamlit), and multiprocessing would re-run the caller's ``__main__`` (the page) in the child.
    """
    package_root = str(Path(__file__).resolve().parents[2])
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")])),
        # pyarrow's default pool (mimalloc) reserves a 1 GiB arena up front, which would count
        # against the address-space limit without holding anything; the system allocator does not.
        "ARROW_DEFAULT_MEMORY_POOL": "system",
    }
    try:
        return subprocess.Popen(
            [sys.executable, "-c", _WORKER_CODE, module],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=environment,
        )
    except OSError as error:
        raise QueryRefused(f"failed: the query's process could not start ({error})") from None


# A worker that crashes on one of these after reaching this share of its memory budget ran out of
# memory: under the address-space limit DuckDB (seen with a recursive string doubling) sometimes
# dies on a failed allocation instead of raising one.
_MEMORY_CRASH_SIGNALS = (signal.SIGSEGV, signal.SIGBUS, signal.SIGABRT)
_MEMORY_CRASH_SHARE = 0.5


def _death_message(exitcode: int | None, limits: SqlLimits, peak_rss_bytes: int | None = None) -> str:
    if exitcode is not None and exitcode < 0:
        name = signal.Signals(-exitcode).name
        if -exitcode in (signal.SIGXCPU, signal.SIGKILL):
            return f"stopped after {limits.time_seconds:g} s of CPU time (the time limit)"
        near_budget = (
            peak_rss_bytes is not None and peak_rss_bytes >= _MEMORY_CRASH_SHARE * limits.memory_bytes
        )
        if -exitcode in _MEMORY_CRASH_SIGNALS and near_budget:
            return memory_message(limits)
        return (
            f"failed: the query's process ended with {name}; the statement may be nested too deeply"
            f" or need more than {human_bytes(limits.memory_bytes)} of memory"
        )
    return f"failed: the query's process ended without an answer (exit code {exitcode})"


def serve_one(module: str) -> None:
    """The worker: import ``module``, read one job from stdin, limit this process, run it, answer.

    Answers go to a private copy of stdout; stdout itself then points at /dev/null, so nothing a
    library prints can corrupt them.
    """
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
    importlib.import_module(module)
    job = _read_message(sys.stdin.buffer)
    if job is None:  # the caller went away without a job
        return
    target, args, limits, temp_dir = pickle.loads(job)
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
        payload = pickle.dumps(ChildOutcome(value, refusal, _rss_field("VmHWM")))
    except MemoryError:
        payload = b""
    if not payload or len(payload) > limits.result_bytes:
        payload = pickle.dumps(ChildOutcome(None, result_message(limits), _rss_field("VmHWM")))
    _write_message(answers, payload)
    answers.close()


def _folder_bytes(folder: str) -> int:
    """Bytes allocated on disk under ``folder`` (files vanish while we look; those count as 0)."""
    total = 0
    for root, _, files in os.walk(folder):
        for name in files:
            try:
                total += os.stat(os.path.join(root, name)).st_blocks * 512
            except OSError:
                continue
    return total


def _limit_resources(limits: SqlLimits) -> None:
    """Address space (start-up size + budget), CPU seconds, file size and no core dumps."""
    address_space = _rss_field("VmSize") + limits.memory_bytes
    resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))
    # A backstop for a child the parent failed to kill: SIGXCPU a little after the wall-clock limit.
    cpu = int(limits.time_seconds * limits.threads) + 5
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
    # No spill file outgrows the temp budget (with a margin, so DuckDB's own cap speaks first) even if
    # that cap failed; with SIGXFSZ ignored, the write fails with an error instead of killing us.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    file_size = limits.temp_bytes + (64 << 20)
    resource.setrlimit(resource.RLIMIT_FSIZE, (file_size, file_size))
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
