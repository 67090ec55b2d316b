"""How the explorer is started as a process and how a starter knows it is up: `cxlake serve`, the
browser tests and the page-speed bench start it the same way, so they measure what users run."""

from __future__ import annotations

import socket
import sys
import urllib.error
import urllib.request
from pathlib import Path

# The browser that checks the explorer (tests/browser, bench/bench_pages.py): the system's Chromium,
# headless. --no-sandbox: the sandbox refuses to run as root; the rest keeps it off the network.
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
)


def explorer_command(host: str, port: int) -> list[str]:
    """`streamlit run` of the explorer as served: behind its media guard (streamlit_app/server.py),
    with the settings of streamlit_app/.streamlit/config.toml and ``host``/``port`` over them."""
    server_file = Path(__file__).resolve().parent.parent / "streamlit_app" / "server.py"
    return [
        sys.executable, "-m", "streamlit", "run", str(server_file),
        "--server.address", host, "--server.port", str(port),
    ]  # fmt: skip


def free_loopback_port() -> int:
    """A port nobody listens on at 127.0.0.1 now (the OS picks it), for a server started next."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def explorer_is_healthy(url: str) -> bool:
    """Whether the explorer at ``url`` answers Streamlit's health check (False while it starts)."""
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False
