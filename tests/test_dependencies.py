"""The base install runs the CLI: every third-party package the package imports at module
level is a base dependency in pyproject.toml (an extra only where the import is guarded).
A regression test: httpx was imported by the connectors at module level while only the
test extra installed it, so `pip install -e . && cxmetrics demo` failed on a fresh machine."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# import name -> distribution name where they differ
DISTRIBUTION = {"yaml": "pyyaml", "multipart": "python-multipart"}


def _module_level_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in tree.body:  # module level only: imports inside functions may be optional extras
        if isinstance(node, ast.Import):
            found |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def test_every_module_level_import_is_a_base_dependency() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    base = {re.split(r"[<>=!~\[ ;]", d, maxsplit=1)[0].lower() for d in project["dependencies"]}
    stdlib = set(sys.stdlib_module_names) | {"__future__"}
    missing: dict[str, list[str]] = {}
    for path in sorted((ROOT / "src" / "cxmetrics").rglob("*.py")):
        for name in _module_level_imports(path) - stdlib - {"cxmetrics"}:
            if DISTRIBUTION.get(name, name).lower() not in base:
                missing.setdefault(name, []).append(str(path.relative_to(ROOT)))
    assert not missing, f"imported at module level but not a base dependency: {missing}"
