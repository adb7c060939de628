"""Dependencies point one way: domain packages never import the CLI, web code or Django."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "prt"
DOMAIN = ("data", "instruments", "trial", "analysis", "program", "imaging", "attribution")
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


PUBLIC_PACKAGES = ("prt", "prt.analysis", "prt.attribution", "prt.data", "prt.errors", "prt.files", "prt.imaging",
                   "prt.instruments", "prt.program", "prt.trial", "prt.vocabulary")


@pytest.mark.parametrize("module_name", PUBLIC_PACKAGES)
def test_every_public_package_declares_its_entry_points_and_each_resolves(module_name):
    import importlib

    module = importlib.import_module(module_name)
    exported = getattr(module, "__all__", None)
    assert exported, f"{module_name} has no __all__"
    for name in exported:
        assert getattr(module, name, None) is not None, f"{module_name}.{name} does not resolve"


def test_the_notebook_entry_points_of_issue_11():
    import prt

    for name in ("read_trial", "run_analysis", "simulate_trial", "score", "AnalysisResults"):
        assert name in prt.__all__
    assert {"run_analysis", "fit_random_intercept", "write_analysis", "AnalysisResults"} <= set(prt.analysis.__all__)
    assert {"screen", "allocate"} <= set(prt.trial.__all__)
    assert {"score", "get"} <= set(prt.instruments.__all__)
    assert {"read_trial", "load_mapping", "TrialData"} <= set(prt.data.__all__)


def test_help_does_not_load_the_numerical_stack():
    """`prt --help` stays instant: building the parser imports neither numpy nor pandas."""
    import subprocess
    import sys

    code = ("import sys, prt.cli; prt.cli.build_parser(); "
            "print(sorted(m for m in ('numpy', 'pandas', 'scipy', 'matplotlib') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_error_hierarchy_and_exit_statuses():
    from prt import errors

    assert issubclass(errors.InputError, errors.PrtError) and issubclass(errors.InputError, ValueError)
    assert issubclass(errors.LogIntegrityError, errors.InputError)
    assert (errors.InputError.exit_status, errors.LogIntegrityError.exit_status) == (2, 3)
    assert issubclass(errors.ConvergenceWarning, errors.PrtWarning)
    assert issubclass(errors.AnalysisSkippedWarning, UserWarning)


def test_vocabulary_is_derived_from_the_instrument_definitions():
    """Outcome ranges and REDCap field names come from the instruments' YAML (defined once)."""
    from prt import instruments, vocabulary
    from prt.data import BOULDER_MAPPING

    for outcome, (instrument, score) in vocabulary.OUTCOME_SCORES.items():
        definition = instruments.get(instrument)
        assert vocabulary.outcome_range(outcome) == tuple(float(v) for v in definition.range_of(score))
        assert BOULDER_MAPPING.outcome_of(definition.data_fields[score]) == outcome
    assert vocabulary.outcome_label("pain_intensity") == "Pain intensity (BPI average pain, 0-10)"
