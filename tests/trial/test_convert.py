"""prt.trial.convert: converting an export never replaces the export it reads."""

from __future__ import annotations

import os

import pytest

from prt.errors import InputError
from prt.trial.convert import convert_trial, write_trial
from prt.trial.simulation import simulate_trial


def test_convert_refuses_to_write_over_its_input(tmp_path):
    """Issue 12 round 2: ``convert x.csv --out x.csv`` replaced the export with the converted file."""
    export = tmp_path / "export.csv"
    write_trial(simulate_trial(12, seed=1), export)
    original = export.read_bytes()
    with pytest.raises(InputError, match="is the input file"):
        convert_trial(export, "long", export)
    link = tmp_path / "alias.csv"
    os.link(export, link)  # the same file under another name
    with pytest.raises(InputError, match="is the input file"):
        convert_trial(export, "long", link)
    assert export.read_bytes() == original
    assert convert_trial(export, "long", tmp_path / "long.csv").layout_in == "flat"
