"""A home only its owner can read: after a real pipeline run every file cxlake wrote under it is 0600
and every folder 0700, and a process that starts on a home other users can open says so, naming it.

Before: the warehouse, the serving copy, the app-state store (password hashes), Dagster's logs and
the folders holding them were 0644 / 0755, so any local account could read customers' data.
"""

from __future__ import annotations

import os
import pwd
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

OWNER_ONLY = {"file": 0o600, "folder": 0o700}


def modes_under(home: Path) -> dict[str, str]:
    """Every path below ``home`` (relative) -> its kind and mode, e.g. ``"file 0644"``."""
    found = {}
    for path in sorted(home.rglob("*")):
        if path.is_symlink():
            continue
        kind = "folder" if path.is_dir() else "file"
        found[str(path.relative_to(home))] = f"{kind} {stat.S_IMODE(path.lstat().st_mode):04o}"
    return found


@pytest.mark.slow
def test_everything_a_pipeline_run_wrote_under_the_home_is_owner_only(demo_build):
    # The session's demo build: generated, loaded, built and published in-process by the same
    # Definitions the Dagster code location and `cxlake run` use. The test's fixture, not cxlake,
    # makes the home folder and writes the landing files (as a delivery would) before the pipeline
    # starts; those are left out here and covered by the start-up warning below.
    assert demo_build.run_success
    written = {
        path: mode for path, mode in modes_under(demo_build.home).items() if not path.startswith("landing")
    }
    for expected in ("warehouse.duckdb", "serving.duckdb", "app_state.sqlite", "gx", "outbox"):
        assert expected in written, f"the build wrote no {expected}: {sorted(written)[:20]}"
    open_ones = {
        path: mode for path, mode in written.items() if int(mode.split()[1], 8) != OWNER_ONLY[mode.split()[0]]
    }
    assert open_ones == {}, f"{len(open_ones)} of {len(written)} paths are not owner-only"


# Run as another local account: tries to open every path it is given (a file for reading, a folder
# for listing) and prints the ones it could. The shell's tools: that account cannot reach the venv.
READ_AS_OTHER = """
while IFS= read -r path; do
    if [ -d "$path" ]; then ls -- "$path" >/dev/null 2>&1 && echo "$path"
    else head -c 1 -- "$path" >/dev/null 2>&1 && echo "$path"; fi
done
"""


def readable_by(account: pwd.struct_passwd, paths: list[Path]) -> list[str]:
    result = subprocess.run(
        ["/bin/sh", "-c", READ_AS_OTHER],
        input="".join(f"{path}\n" for path in paths),  # every line ends, or `read` drops the last
        user=account.pw_uid,
        group=account.pw_gid,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return result.stdout.splitlines()


@pytest.mark.slow
@pytest.mark.skipif(os.geteuid() != 0, reason="acting as a second local account needs root")
def test_a_second_local_account_can_read_nothing_a_pipeline_run_wrote(demo_build):
    other = pwd.getpwnam("nobody")
    # The home's copy, modes kept, in a folder every account may pass through (pytest's own
    # temporary folders are root's alone, which would hide the home before its modes are tried).
    shared = Path(tempfile.mkdtemp(prefix="cxlake-second-account-", dir="/tmp"))
    try:
        shared.chmod(0o755)
        home = shared / "data"
        shutil.copytree(demo_build.home, home, symlinks=True, ignore=shutil.ignore_patterns("landing"))
        home.chmod(0o700)  # as cxlake makes a home (the fixture made this one)
        everything = [home, *sorted(home.rglob("*"))]
        control = shared / "left_open.txt"
        control.write_text("readable by every account")
        control.chmod(0o644)
        assert readable_by(other, [*everything, control]) == [str(control)]
        assert len(everything) > 50  # the warehouse, serving copy, app state, gx, dagster, outbox...
        # A home someone opened (`chmod 755 data`): it lists, and every file and folder in it still
        # holds on its own mode.
        home.chmod(0o755)
        assert readable_by(other, [*everything, control]) == [str(home), str(control)]
    finally:
        shutil.rmtree(shared, ignore_errors=True)


def start_up(home: Path) -> subprocess.CompletedProcess:
    """A fresh process with CXLAKE_HOME=home starting as an entry point does, then writing a file
    and a folder there; it prints their modes."""
    script = (
        "import os, stat\n"
        "from cxlake.paths import cxlake_paths, owner_only_process\n"
        "owner_only_process()\n"
        "home = cxlake_paths().home\n"
        "home.mkdir(parents=True, exist_ok=True)\n"
        "(home / 'log.txt').write_text('x')\n"
        "(home / 'sub').mkdir()\n"
        "def mode(name): return oct(stat.S_IMODE((home / name).stat().st_mode))\n"
        "print(mode('log.txt'), mode('sub'))\n"
    )
    environment = {**os.environ, "CXLAKE_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-c", script],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )


def test_a_home_open_to_other_users_is_named_with_its_mode_at_start_up(tmp_path):
    home = tmp_path / "data"
    home.mkdir()
    home.chmod(0o755)  # as an older cxlake, or `mkdir data` under umask 022, left it
    started = start_up(home)
    assert f"{home} is open to its group and every local user (mode 0755)" in started.stderr
    assert f"chmod -R go-rwx {home}" in started.stderr
    assert started.stdout.split() == ["0o600", "0o700"]  # what the process writes is closed anyway


def test_a_closed_home_starts_silently_and_a_new_one_is_created_owner_only(tmp_path):
    closed = tmp_path / "closed"
    closed.mkdir()
    closed.chmod(0o700)
    assert start_up(closed).stderr == ""
    created = tmp_path / "new" / "data"
    assert start_up(created).stderr == ""
    assert stat.S_IMODE(created.stat().st_mode) == 0o700
    assert stat.S_IMODE(created.parent.stat().st_mode) == 0o700
