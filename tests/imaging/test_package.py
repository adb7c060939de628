"""prt.imaging stays a domain package: no web, no CLI state, heavy imports only when used."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "prt" / "imaging"


def _imports(path: Path) -> list[tuple[str, bool]]:
    """(module, at top level) of every import in a file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top = {id(node) for node in tree.body}
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(a.name, id(node) in top) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.append((node.module, id(node) in top))
    return out


@pytest.mark.parametrize("path", sorted(SRC.glob("*.py")), ids=lambda p: p.name)
def test_no_web_no_cli_and_no_nilearn(path):
    for name, _ in _imports(path):
        assert not name.startswith(("django", "prt.web", "nilearn")), f"{path.name} imports {name}"
        if path.name != "cli.py":
            assert not name.startswith("prt.cli"), f"{path.name} imports {name}"


@pytest.mark.parametrize("path", sorted(SRC.glob("*.py")), ids=lambda p: p.name)
def test_nibabel_and_matplotlib_are_imported_only_inside_functions(path):
    for name, top in _imports(path):
        if name.split(".")[0] in ("nibabel", "matplotlib"):
            assert not top, f"{path.name} imports {name} at module level"


def test_the_cli_module_imports_no_numpy():
    code = "import sys, prt.imaging.cli, prt.imaging; print('numpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_every_entry_point_resolves():
    import prt.imaging

    for name in prt.imaging.__all__:
        assert getattr(prt.imaging, name) is not None
