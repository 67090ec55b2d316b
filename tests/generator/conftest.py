"""One generated demo (small scale, four weeks, seed 7) shared by the generator tests."""

from __future__ import annotations

import pytest
from generator_demo import DAYS, Demo, load_demo, unified_responses

from cxlake.generator import generate


@pytest.fixture(scope="session")
def demo(tmp_path_factory) -> Demo:
    root = tmp_path_factory.mktemp("demo") / "landing"
    generate(root, scale="small", seed=7, days=DAYS, progress=False)
    return load_demo(root)


@pytest.fixture(scope="session")
def responses(demo: Demo) -> list[dict]:
    return unified_responses(demo)
