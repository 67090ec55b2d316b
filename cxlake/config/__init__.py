"""The shipped configuration files (YAML beside this module) and the one way a loader reads one:
the file it is given, else the path in its environment variable, else the shipped file."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import yaml

CONFIG_DIR = Path(__file__).resolve().parent


def read_config(
    shipped: str,
    env_var: str,
    error: type[ValueError],
    what: str,
    path: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> tuple[Path, object]:
    """(the path read, its YAML; an empty file is ``{}``), or ``error`` naming the file and what
    it should have held when it cannot be read or parsed."""
    environ = os.environ if environ is None else environ
    chosen = Path(path or environ.get(env_var) or CONFIG_DIR / shipped)
    try:
        return chosen, yaml.safe_load(chosen.read_text("utf-8")) or {}
    except (OSError, yaml.YAMLError) as failure:
        raise error(f"{chosen}: cannot read {what}: {failure}") from failure
