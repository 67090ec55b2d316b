"""The installed `cxlake` command run as a user runs it: its own process, output captured."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

CXLAKE = str(Path(sys.executable).with_name("cxlake"))


def cxlake(
    *args: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CXLAKE, *args], input=stdin, capture_output=True, text=True, timeout=600, check=False, env=env
    )
