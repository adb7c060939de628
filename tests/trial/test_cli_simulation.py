"""``prt simulate``, ``prt power``, ``prt trial redcap-dictionary`` and ``prt trial convert``."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from prt.cli import main
from prt.data import read_trial


def _same(a, b):
    pd.testing.assert_frame_equal(a.participants, b.participants, check_dtype=False)
    pd.testing.assert_frame_equal(a.measures, b.measures)
    pd.testing.assert_frame_equal(a.text.reset_index(drop=True), b.text.reset_index(drop=True), check_dtype=False)


def test_simulate_writes_a_readable_reproducible_export(tmp_path):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    assert main(["simulate", "--n", "60", "--seed", "7", "--out", str(a)]) == 0
    assert main(["simulate", "--n", "60", "--seed", "7", "--out", str(b)]) == 0
    assert a.read_bytes() == b.read_bytes()
    trial = read_trial(a)
    assert trial.layout == "flat" and len(trial.participants) == 60
    assert "pain_avg_t1_arm_1" in pd.read_csv(a, nrows=0).columns
    long = tmp_path / "long.csv"
    assert main(["simulate", "--n", "60", "--seed", "7", "--out", str(long), "--layout", "long"]) == 0
    assert read_trial(long).layout == "long"
    _same(read_trial(long), trial)


def test_power_json(capsys):
    assert main(["power", "--per-arm", "43", "--effect", "0.62", "--seed", "1", "--simulations", "500", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"power", "ci_low", "ci_high", "simulations"}
    assert out["simulations"] == 500 and out["ci_low"] < out["power"] < out["ci_high"]


def test_power_text_and_errors(capsys):
    assert main(["power", "--per-arm", "20", "--effect", "0.5", "--simulations", "50", "--seed", "1"]) == 0
    assert "power" in capsys.readouterr().out
    assert main(["power", "--per-arm", "20", "--effect", "0.5", "--alpha", "2"]) == 2
    assert "alpha" in capsys.readouterr().err


def test_redcap_dictionary_command(tmp_path, capsys):
    assert main(["trial", "redcap-dictionary", "--out", str(tmp_path / "proj")]) == 0
    names = {p.name for p in (tmp_path / "proj").iterdir()}
    assert names == {"arms.csv", "data_dictionary.csv", "events.csv", "instrument_event_mapping.csv", ".prt-output"}
    dictionary = pd.read_csv(tmp_path / "proj" / "data_dictionary.csv", dtype=str)
    assert len(dictionary.columns) == 18


def test_convert_round_trips_simulated_data_byte_for_byte(tmp_path):
    flat, long, back, tidy = (tmp_path / n for n in ("flat.csv", "long.csv", "back.csv", "tidy.csv"))
    assert main(["simulate", "--n", "45", "--seed", "3", "--out", str(flat)]) == 0
    assert main(["trial", "convert", str(flat), "--to", "long", "--out", str(long)]) == 0
    assert main(["trial", "convert", str(long), "--to", "flat", "--out", str(back)]) == 0
    assert back.read_bytes() == flat.read_bytes()
    assert main(["trial", "convert", str(flat), "--to", "tidy", "--out", str(tidy)]) == 0
    t = read_trial(tidy)
    assert t.layout == "tidy"
    pd.testing.assert_frame_equal(t.measures, read_trial(flat).measures)


@pytest.mark.shared_data
def test_convert_round_trips_the_shared_data(boulder_wide_path, tmp_path):
    long, flat = tmp_path / "long.csv", tmp_path / "flat.csv"
    assert main(["trial", "convert", str(boulder_wide_path), "--to", "long", "--out", str(long)]) == 0
    assert main(["trial", "convert", str(long), "--to", "flat", "--out", str(flat)]) == 0
    original = read_trial(boulder_wide_path)
    _same(read_trial(long), original)
    _same(read_trial(flat), original)


def test_convert_reports_bad_input(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("id,group\n1,9\n", encoding="utf-8")
    assert main(["trial", "convert", str(bad), "--to", "long", "--out", str(tmp_path / "x.csv")]) == 2
    assert "error" in capsys.readouterr().err
