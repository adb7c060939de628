"""Fixtures of the program tests: the packaged curriculum, its spec as plain data, a CLI with
``prt program`` registered (until prt.cli lists prt.program.cli itself)."""

from __future__ import annotations

import copy

import pytest

from prt.program.curriculum import default_curriculum


@pytest.fixture
def curriculum():
    return default_curriculum()


@pytest.fixture
def spec(curriculum):
    """A fresh deep copy of the packaged curriculum as plain data (safe to change)."""
    return copy.deepcopy(curriculum.to_dict())


@pytest.fixture
def texts(curriculum):
    return curriculum.texts()


@pytest.fixture
def run(monkeypatch, capsys):
    """``run(*argv) -> (status, stdout, stderr)`` of the prt command line with ``prt program``."""
    import prt.cli

    if "prt.program.cli" not in prt.cli.REGISTRARS:
        monkeypatch.setattr(prt.cli, "REGISTRARS", (*prt.cli.REGISTRARS, "prt.program.cli"))

    def call(*argv):
        status = prt.cli.main([str(a) for a in argv])
        out, err = capsys.readouterr()
        return status, out, err

    return call
