"""Targets from targets.yaml: the narrowest level wins, and a bad file names the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from cxlake.targets import TargetsError, load_targets

TARGETS = """
chain: {nps: 40, csat: 80, ces: 5.5}
regions:
  R01: {nps: 45}
stores:
  S001: {nps: 50, csat: 85}
  S009: {ces: 6}
"""


@pytest.fixture
def targets_file(tmp_path: Path) -> Path:
    path = tmp_path / "targets.yaml"
    path.write_text(TARGETS, "utf-8")
    return path


def test_a_store_takes_its_own_then_its_regions_then_the_chains_target(targets_file):
    targets = load_targets(targets_file)
    assert targets.for_chain() == {"nps": 40, "csat": 80, "ces": 5.5}
    assert targets.for_region("R01") == {"nps": 45, "csat": 80, "ces": 5.5}
    assert targets.for_region("R02") == {"nps": 40, "csat": 80, "ces": 5.5}
    assert targets.for_store("S001", "R01") == {"nps": 50, "csat": 85, "ces": 5.5}
    assert targets.for_store("S002", "R01") == {"nps": 45, "csat": 80, "ces": 5.5}
    # a store's own entry beats the chain even in a region without one
    assert targets.for_store("S009", "R02") == {"nps": 40, "csat": 80, "ces": 6}


def test_the_environment_names_another_file(targets_file):
    assert load_targets(environ={"CXLAKE_TARGETS_YAML": str(targets_file)}).for_region("R01")["nps"] == 45


def test_the_shipped_file_loads():
    targets = load_targets(environ={})
    assert set(targets.for_chain()) == {"nps", "csat", "ces"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # a metric the Overview does not know
        ("chain: {nsp: 40}", "chain: unknown metric 'nsp'"),
        # a target off the NPS scale
        ("stores: {S001: {nps: 140}}", "stores.S001.nps: expected a number from -100 to 100, got 140"),
        # a CES target off the 1-7 scale of metrics.yaml
        ("regions: {R02: {ces: 9}}", "regions.R02.ces: expected a number from 1 to 7, got 9"),
        # a quoted number is a typo, not a target
        ("chain: {csat: '80'}", "chain.csat: expected a number from 0 to 100, got '80'"),
        # a misspelt level would silently drop every region's target
        ("region: {R01: {nps: 45}}", "unknown key 'region'"),
        # a store given a number instead of its targets
        ("stores: {S001: 50}", "stores.S001: expected a mapping of metrics to targets, got int"),
    ],
)
def test_a_bad_file_names_the_file_and_the_key(tmp_path, text, message):
    path = tmp_path / "targets.yaml"
    path.write_text(text, "utf-8")
    with pytest.raises(TargetsError) as raised:
        load_targets(path)
    assert str(raised.value).startswith(f"{path}: ")
    assert message in str(raised.value)
