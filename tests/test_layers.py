"""Imports point one way (docs: /work/shared/DESIGN.md, "Which way imports point"):

    cxlake/cli/       the commands            -> anything below
    orchestration/    the wiring              -> assets, expectations, cxlake.pipeline, core
    assets/           the assets              -> expectations, cxlake.pipeline, core
    cxlake/pipeline/  resources, partitions, the dbt project -> core
    expectations/     the gate                -> core
    streamlit_app/    the explorer            -> core
    cxlake/ (core)    contracts, metrics, readers, ...      -> core only

Every import statement of every module, read with `ast` (a function-local import counts too: it is
still a dependency, only a later one), is checked against that table; a wrong one fails naming the
file, the line and the rule it breaks.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("assets", "cxlake", "expectations", "orchestration", "streamlit_app")

# Layer -> the layers it must not import. Listed as forbidden (not allowed) so a layer may freely
# use third-party packages and its own modules.
CORE, PIPELINE, EXPECTATIONS, ASSETS, WIRING, APP, CLI = (
    "cxlake core",
    "cxlake.pipeline",
    "expectations",
    "assets",
    "orchestration",
    "streamlit_app",
    "cxlake.cli",
)
FORBIDDEN = {
    CORE: {PIPELINE, EXPECTATIONS, ASSETS, WIRING, APP, CLI},
    PIPELINE: {EXPECTATIONS, ASSETS, WIRING, APP, CLI},
    EXPECTATIONS: {PIPELINE, ASSETS, WIRING, APP, CLI},
    ASSETS: {WIRING, APP, CLI},
    WIRING: {APP, CLI},
    APP: {PIPELINE, EXPECTATIONS, ASSETS, WIRING, CLI},
    CLI: set(),
}


def layer_of(module: str) -> str | None:
    """The layer a dotted module name belongs to; None for anything outside the product."""
    top = module.split(".")[0]
    if top == "cxlake":
        for sub in (CLI, PIPELINE):
            if module == sub or module.startswith(f"{sub}."):
                return sub
        return CORE
    return {
        "assets": ASSETS,
        "expectations": EXPECTATIONS,
        "orchestration": WIRING,
        "streamlit_app": APP,
    }.get(top)


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(tree: ast.Module, module: str, is_package: bool) -> list[tuple[int, str]]:
    """(line, absolute module) of every import in the tree, relative imports resolved."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".") if is_package else module.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            # `from cxlake import cli` imports cxlake.cli: judge each name as a possible submodule.
            found += [(node.lineno, f"{target}.{alias.name}") for alias in node.names]
    return found


@dataclass(frozen=True)
class WrongWay:
    path: str
    line: int
    imported: str
    rule: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: imports {self.imported} ({self.rule})"


def wrong_way_imports(root: Path = ROOT) -> list[WrongWay]:
    """Every import in the product's packages that points against the table above."""
    problems = []
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            module = module_name(path, root)
            importer = layer_of(module)
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for line, imported in imported_modules(tree, module, path.name == "__init__.py"):
                target = layer_of(imported)
                if target is not None and target in FORBIDDEN[importer]:
                    rule = f"{importer} may not import {target}"
                    problems.append(WrongWay(str(path.relative_to(root)), line, imported, rule))
    return problems


def test_no_import_points_the_wrong_way():
    problems = wrong_way_imports()
    assert not problems, "imports pointing the wrong way:\n" + "\n".join(map(str, problems))


# Each case is one arrow the table forbids, written one of the ways code spells an import.
@pytest.mark.parametrize(
    ("path", "source", "line", "rule"),
    [
        ("assets/x.py", "from orchestration.runner import run_pipeline", 3, (ASSETS, WIRING)),
        ("assets/x.py", "def f():\n    import orchestration.definitions", 4, (ASSETS, WIRING)),
        ("expectations/x.py", "from assets.dbt import dbt_project", 3, (EXPECTATIONS, ASSETS)),
        ("cxlake/pipeline/x.py", "from streamlit_app import labels", 3, (PIPELINE, APP)),
        ("orchestration/x.py", "import streamlit_app.data_access", 3, (WIRING, APP)),
        ("streamlit_app/x.py", "from assets.publish import serving_copy", 3, (APP, ASSETS)),
        ("streamlit_app/x.py", "from orchestration import runner", 3, (APP, WIRING)),
        ("cxlake/x.py", "from cxlake import cli", 3, (CORE, CLI)),
        ("cxlake/x.py", "from .pipeline.resources import Warehouse", 3, (CORE, PIPELINE)),
    ],
    ids=["from-import", "local-import", "gate-up", "pipeline-app", "wiring-app", "app-assets", "app-wiring",
         "core-cli", "relative"],
)  # fmt: skip
def test_a_wrong_way_import_is_named_with_its_file_line_and_rule(tmp_path, path, source, line, rule):
    for package in PACKAGES:
        (tmp_path / package).mkdir()
    (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / path).write_text(f'"""A module."""\n\n{source}\n', encoding="utf-8")
    [problem] = wrong_way_imports(tmp_path)
    assert (problem.path, problem.line, problem.rule) == (path, line, f"{rule[0]} may not import {rule[1]}")


@pytest.mark.parametrize(
    ("path", "source"),
    [
        ("cxlake/cli/x.py", "from orchestration.runner import run_pipeline"),  # the commands sit on top
        ("orchestration/x.py", "from assets.dbt import dbt_project"),  # the wiring wires the assets
        ("assets/x.py", "from cxlake.pipeline.resources import Warehouse"),  # what assets stand on
        ("streamlit_app/x.py", "from cxlake.contracts import BUSINESS_TIMEZONE"),  # the shared contract
    ],
)
def test_imports_that_point_down_pass(tmp_path, path, source):
    for package in PACKAGES:
        (tmp_path / package).mkdir()
    (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / path).write_text(source + "\n", encoding="utf-8")
    assert wrong_way_imports(tmp_path) == []
