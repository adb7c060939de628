"""prt.program is a domain package: no Django, web or CLI imports outside its cli module; every
public name resolves; importing the curriculum does not load the numerical stack."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import prt.program

SRC = Path(prt.program.__file__).resolve().parent
FORBIDDEN = ("django", "prt.web", "prt.cli")


def test_no_edge_code_imported():
    offenders = []
    for path in sorted(SRC.rglob("*.py")):
        if path.name == "cli.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module] if isinstance(node, ast.ImportFrom) and node.module else [])
            offenders += [f"{path.name} imports {n}" for n in names
                          if any(n == f or n.startswith(f + ".") for f in FORBIDDEN)]
    assert offenders == []


def test_every_public_name_resolves():
    assert prt.program.__all__
    for name in prt.program.__all__:
        assert getattr(prt.program, name, None) is not None, name


def test_the_curriculum_and_records_load_without_pandas():
    code = ("import sys, prt.program as p; p.default_curriculum(); p.fidelity_sample({'A': [1]}, 1); "
            "p.exposure_progress(p.Hierarchy.from_dict({'steps': [{'id': 'a', 'movement': 'm', 'fear': 1}]}), []); "
            "print(sorted(m for m in ('numpy', 'pandas', 'django') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_the_packaged_markdown_is_exactly_what_the_curriculum_names():
    """No stray or missing handout beside content/curriculum.yaml (both ship as package data)."""
    content = SRC / "content"
    assert (content / "curriculum.yaml").is_file()
    assert sorted(p.name for p in content.glob("*.md")) == sorted(prt.program.default_curriculum().texts())
