"""The trial commands at the edge: every bad input or output is one line on stderr, exit 2, and
nothing half-written; CSVs prt writes for people are safe to open in a spreadsheet (OWASP)."""

from __future__ import annotations

import codecs
import json
import os

import pandas as pd
import pytest

from prt.cli import main
from prt.files import OUTPUT_MARKER

def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(code, err, *words):
    assert code == 2, err
    assert err.count("\n") == 1 and "error:" in err and "Traceback" not in err, err
    for word in words:
        assert word in err, (word, err)


@pytest.fixture(scope="module")
def flat(tmp_path_factory):
    """A small simulated REDCap flat export."""
    path = tmp_path_factory.mktemp("sim") / "flat.csv"
    assert main(["simulate", "--n", "12", "--seed", "5", "--out", str(path)]) == 0
    return path


# ------------------------------------------------------------------ seeds
@pytest.mark.parametrize("argv", [
    ["simulate", "--n", "12", "--seed", "-1", "--out", "{tmp}/x.csv"],
    ["power", "--per-arm", "10", "--effect", "0.5", "--simulations", "5", "--seed", "-1"],
    ["trial", "simulate-allocation", "--trials", "2", "--participants", "5", "--seed", "-1"],
])
def test_a_negative_seed_is_one_line(tmp_path, capsys, argv):
    code, out, err = run(capsys, *[a.format(tmp=tmp_path) for a in argv])
    one_line_error(code, err, "seed", "non-negative integer", "-1")
    assert out == "" and list(tmp_path.iterdir()) == []


def test_the_package_functions_refuse_bad_seeds_too():
    from prt.errors import InputError
    from prt.trial.inputs import check_seed
    from prt.trial.power import simulate_power
    from prt.trial.simulation import simulate_trial

    with pytest.raises(InputError, match="seed: expected a non-negative integer, got -3"):
        simulate_trial(12, seed=-3)
    with pytest.raises(InputError, match="seed"):
        simulate_power(10, 0.5, simulations=5, seed=-3)
    with pytest.raises(InputError, match="got bool"):
        check_seed(True)
    with pytest.raises(InputError, match="got float"):
        check_seed(1.5)
    import numpy as np

    assert check_seed(np.int64(7)) == 7 and check_seed(None) is None and check_seed(2**100) == 2**100


# ------------------------------------------------------------------ output files and folders
@pytest.mark.parametrize("out, words", [
    ("missing/x.csv", ["the folder", "missing", "does not exist"]),
    ("afile/x.csv", ["afile is a file, not a folder"]),
    ("adir", ["is a directory, expected a file name"]),
])
def test_bad_out_for_simulate_and_convert(tmp_path, capsys, flat, out, words):
    (tmp_path / "afile").write_text("keep me")
    (tmp_path / "adir").mkdir()
    before = sorted(p.name for p in tmp_path.rglob("*"))
    code, _, err = run(capsys, "simulate", "--n", "12", "--seed", "1", "--out", tmp_path / out)
    one_line_error(code, err, *words)
    code, _, err = run(capsys, "trial", "convert", flat, "--to", "long", "--out", tmp_path / out)
    one_line_error(code, err, *words)
    assert sorted(p.name for p in tmp_path.rglob("*")) == before
    assert (tmp_path / "afile").read_text() == "keep me"


def test_a_read_only_folder_is_one_line_and_the_old_file_stays(tmp_path, capsys, flat, monkeypatch):
    target = tmp_path / "out.csv"
    target.write_text("previous export\n")

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("prt.files.tempfile.mkstemp", refuse)
    code, _, err = run(capsys, "trial", "convert", flat, "--to", "long", "--out", target)
    one_line_error(code, err, "cannot be written", "Permission denied")
    code, _, err = run(capsys, "simulate", "--n", "12", "--out", tmp_path / "new.csv")  # (only a previous
    one_line_error(code, err, "Permission denied")                                  # simulation is replaced)
    assert target.read_text() == "previous export\n" and len(list(tmp_path.iterdir())) == 1


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root ignores folder permissions")
def test_a_real_read_only_folder(tmp_path, capsys):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        code, _, err = run(capsys, "simulate", "--n", "12", "--out", folder / "x.csv")
        one_line_error(code, err, "cannot be written")
    finally:
        folder.chmod(0o700)


def test_redcap_dictionary_output_folder(tmp_path, capsys, monkeypatch):
    (tmp_path / "afile").write_text("x")
    code, _, err = run(capsys, "trial", "redcap-dictionary", "--out", tmp_path / "afile" / "proj")
    one_line_error(code, err, "cannot be created")
    code, _, err = run(capsys, "trial", "redcap-dictionary", "--out", tmp_path / "afile")
    one_line_error(code, err, "exists and is not a directory")
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("do not delete")
    code, _, err = run(capsys, "trial", "redcap-dictionary", "--out", foreign)
    one_line_error(code, err, "prt did not write")
    assert [p.name for p in foreign.iterdir()] == ["notes.txt"]
    project = tmp_path / "new" / "proj"                        # parents are created for a whole project
    assert run(capsys, "trial", "redcap-dictionary", "--out", project)[0] == 0
    assert (project / OUTPUT_MARKER).is_file()
    assert run(capsys, "trial", "redcap-dictionary", "--out", project)[0] == 0    # prt's own: replaced

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("prt.files.tempfile.mkdtemp", refuse)
    code, _, err = run(capsys, "trial", "redcap-dictionary", "--out", tmp_path / "ro")
    one_line_error(code, err, "Permission denied")
    assert not (tmp_path / "ro").exists()


# ------------------------------------------------------------------ input files
@pytest.mark.parametrize("make, words", [
    (lambda p: p.mkdir(), ["is a directory"]),
    (lambda p: p.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00"), ["binary file"]),
    (lambda p: p.write_bytes(b"participant,arm\np\xff1,prt\n"), ["not UTF-8"]),
    (lambda p: None, ["No such file"]),
])
def test_unreadable_inputs_are_one_line(tmp_path, capsys, make, words):
    bad = tmp_path / "in.csv"
    make(bad)
    out = tmp_path / "out.csv"
    for argv in (["trial", "convert", bad, "--to", "long", "--out", out],
                 ["trial", "schedule", "--participants", bad, "--date", "2026-04-05"],
                 ["trial", "simulate-allocation", "--trials", "2", "--population", bad]):
        code, _, err = run(capsys, *argv)
        one_line_error(code, err, str(bad), *words)
    assert not out.exists()


def test_a_directory_as_schedule_file(tmp_path, capsys):
    folder = tmp_path / "d"
    folder.mkdir()
    participants = tmp_path / "p.csv"
    participants.write_text("participant,arm,eligibility\np1,,2026-03-30\n")
    code, _, err = run(capsys, "trial", "schedule", "--participants", participants, "--date", "2026-04-05",
                       "--schedule", folder)
    one_line_error(code, err, "schedule", "is a directory")
    # the follow-up CSV as a folder: tests/trial/test_consort_io.py (read_flows)


def test_utf16_inputs_are_read(tmp_path, capsys, flat):
    participants = tmp_path / "p.csv"
    participants.write_bytes(codecs.BOM_UTF16_LE + "participant,arm,eligibility\r\np1,,2026-03-30\r\n"
                             .encode("utf-16-le"))
    code, out, _ = run(capsys, "trial", "schedule", "--participants", participants, "--date", "2026-04-05", "--json")
    assert code == 0 and [v["event"] for v in json.loads(out)["due"]] == ["pre"]
    utf16 = tmp_path / "flat16.csv"
    utf16.write_bytes(codecs.BOM_UTF16_BE + flat.read_text(encoding="utf-8").encode("utf-16-be"))
    back = tmp_path / "back.csv"
    assert run(capsys, "trial", "convert", utf16, "--to", "flat", "--out", back)[0] == 0
    assert back.read_bytes() == flat.read_bytes()


def test_schedule_command_lists_withdrawals_and_rejects_far_dates(tmp_path, capsys):
    path = tmp_path / "p.csv"
    path.write_text("participant,arm,withdrawn,eligibility,pre,randomization\n"
                    "p1,prt,2026-03-30,2026-01-31,2026-02-07,2026-02-07\np2,,,2026-03-30,,\n")
    code, out, _ = run(capsys, "trial", "schedule", "--participants", path, "--date", "2026-04-05")
    assert code == 0
    assert "withdrawn by 2026-04-05: 1\n  p1\twithdrew 2026-03-30" in out
    assert "p1\t1mo" not in out and "p2\tpre" in out
    path.write_text("participant,arm,eligibility\np1,,9999-12-31\n")
    code, _, err = run(capsys, "trial", "schedule", "--participants", path, "--date", "2026-04-05")
    one_line_error(code, err, "'p1'", "outside the calendar")
    code, _, err = run(capsys, "trial", "schedule", "--participants", path, "--date", "2026-W14-7")
    one_line_error(code, err, "--date", "YYYY-MM-DD")


def test_schedule_file_errors_name_the_file_and_key(tmp_path, capsys):
    participants = tmp_path / "p.csv"
    participants.write_text("participant,arm,eligibility\np1,,2026-03-30\n")
    schedule = tmp_path / "s.yaml"
    schedule.write_text("events:\n  - {name: eligibility}\n  - {name: pre, anchor: eligibility, days: seven}\n")
    code, _, err = run(capsys, "trial", "schedule", "--participants", participants, "--date", "2026-04-05",
                       "--schedule", schedule)
    one_line_error(code, err, str(schedule), "events[1] ('pre'), key 'days'")


# ------------------------------------------------------------------ CSV formula injection
def test_convert_neutralises_formula_cells_and_keeps_negative_numbers(tmp_path, capsys, flat):
    frame = pd.read_csv(flat, dtype=str, keep_default_na=False)
    payloads = ["=HYPERLINK(\"http://x\")", "+1+2", "-2+3", "@SUM(A1)", "-1.5", "plain text"]
    frame["attributed_cause_1_t1_arm_1"] = (payloads * len(frame))[: len(frame)]
    source = tmp_path / "with_text.csv"
    frame.to_csv(source, index=False)
    for layout in ("flat", "long"):
        out = tmp_path / f"{layout}.csv"
        assert run(capsys, "trial", "convert", source, "--to", layout, "--out", out)[0] == 0
        cells = pd.read_csv(out, dtype=str, keep_default_na=False)
        column = cells["attributed_cause_1"] if layout == "long" else cells["attributed_cause_1_t1_arm_1"]
        written = set(column) - {""}
        assert written == {"'=HYPERLINK(\"http://x\")", "'+1+2", "'-2+3", "'@SUM(A1)", "-1.5", "plain text"}
    back = pd.read_csv(tmp_path / "flat.csv", dtype=str, keep_default_na=False)
    numeric = [c for c in back.columns if c.startswith("pain_avg_")]
    assert (back[numeric] == frame[numeric]).all().all()                 # numbers unchanged


def test_simulated_exports_stay_byte_identical_through_the_guard(tmp_path, capsys, flat):
    """No simulated cell looks like a formula, so the guard changes nothing there (round trip)."""
    long, back = tmp_path / "long.csv", tmp_path / "back.csv"
    assert run(capsys, "trial", "convert", flat, "--to", "long", "--out", long)[0] == 0
    assert run(capsys, "trial", "convert", long, "--to", "flat", "--out", back)[0] == 0
    assert back.read_bytes() == flat.read_bytes()


def test_redcap_dictionary_files_go_through_the_guard(tmp_path, monkeypatch):
    from prt.trial import redcap_dictionary

    original = redcap_dictionary.arms_table

    def evil_arms():
        table = original()
        table.loc[0, "arm_name"] = "=cmd|' /C calc'!A0"
        return table

    monkeypatch.setattr(redcap_dictionary, "arms_table", evil_arms)
    paths = redcap_dictionary.write_project(tmp_path / "proj")
    assert pd.read_csv(paths["arms"], dtype=str)["arm_name"].tolist() == ["'=cmd|' /C calc'!A0"]
