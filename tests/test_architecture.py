"""Dependencies point one way: domain packages never import the CLI, web code or Django."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "prt"
DOMAIN = ("data", "instruments", "trial", "analysis")
FORBIDDEN = ("django", "prt.web", "prt.cli")


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
    return names


@pytest.mark.parametrize("package", DOMAIN)
def test_domain_package_imports_no_edge_code(package):
    offenders = []
    for path in sorted((SRC / package).rglob("*.py")):
        if path.name == "cli.py" or path.name.startswith("cli_"):
            continue  # a package's own CLI module is the edge
        for name in _imports(path):
            if any(name == f or name.startswith(f + ".") for f in FORBIDDEN):
                offenders.append(f"{path.relative_to(SRC)} imports {name}")
    assert offenders == []


def test_cli_lists_every_subcommand_with_a_description(capsys):
    from prt.cli import build_parser

    parser = build_parser()
    help_text = parser.format_help()
    actions = [a for a in parser._subparsers._group_actions]  # noqa: SLF001 - argparse has no public API
    choices = actions[0].choices
    helps = {a.dest: a.help for a in actions[0]._choices_actions}  # noqa: SLF001
    for name in choices:
        assert helps.get(name), f"prt {name} has no one-line description"
        assert name in help_text


def test_unknown_subcommand_exits_2(capsys):
    from prt.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["no-such-command"])
    assert exc.value.code == 2
