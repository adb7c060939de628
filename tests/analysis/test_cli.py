"""``prt analyze`` end to end: outputs, all-or-nothing writing, and bad input -> exit 2."""

from __future__ import annotations

import json


import pandas as pd
import pytest

from prt.cli import main
from prt.data import write_redcap
from prt.files import OUTPUT_MARKER
from tests.factories import make_trial


@pytest.fixture(scope="module")
def flat_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "export.csv"
    write_redcap(make_trial(), path, layout="flat")
    return path


def _run(args):
    return main(["analyze", *map(str, args)])


def test_writes_results_and_report(flat_csv, tmp_path, capsys):
    out = tmp_path / "out"
    assert _run([flat_csv, "--out", out, "--bootstrap", 100, "--mediation-bootstrap", 50, "--seed", 4]) == 0
    results = json.loads((out / "results.json").read_text())
    assert results["meta"]["bootstrap"] == 100 and results["meta"]["seed"] == 4
    assert results["meta"]["layout"] == "flat" and results["meta"]["n_randomized"] == 45
    assert len(results["primary"]) == 2 and results["effects"]
    assert "NaN" not in (out / "results.json").read_text()
    names = {p.name for p in out.iterdir()}
    figures = {f"{stem}.{ext}" for stem in ("fig_pain_over_time", "fig_responders", "fig_trajectories",
                                            "fig_forest") for ext in ("png", "svg")}
    assert {"results.json", "table1.csv", "table2.csv", "report.html", OUTPUT_MARKER} | figures == names
    report = (out / "report.html").read_text()
    assert "code " not in report.lower().replace("<code>", "")  # labels, never raw codes
    assert results["meta"]["dataset"] == "custom" and "Boulder Back Pain Study" not in report
    captured = capsys.readouterr()
    assert "bootstrap" not in captured.err  # no progress bar when stderr is not a terminal
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no temporary directories left


def test_replaces_only_its_own_previous_output(flat_csv, tmp_path, capsys):
    out = tmp_path / "out"
    assert _run([flat_csv, "--out", out, "--bootstrap", 20, "--mediation-bootstrap", 0]) == 0
    assert _run([flat_csv, "--out", out, "--bootstrap", 20, "--mediation-bootstrap", 0]) == 0  # its own: replaced
    # issue 12 round 2: a file someone put into a previous output (the input, notes) was deleted with it
    (out / "input.csv").write_bytes(flat_csv.read_bytes())
    _expect_exit_2([out / "input.csv", "--out", out, "--bootstrap", 20, "--mediation-bootstrap", 0], capsys,
                   "'input.csv', which prt did not write")
    assert (out / "input.csv").read_bytes() == flat_csv.read_bytes() and (out / "results.json").is_file()
    (out / "input.csv").unlink()
    assert _run([flat_csv, "--out", out, "--bootstrap", 20, "--mediation-bootstrap", 0]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_never_deletes_a_folder_prt_did_not_write(flat_csv, tmp_path, capsys, monkeypatch):
    """Regression (issue 12): --out set to the folder holding the input deleted the input."""
    before = {p.name: p.read_bytes() for p in flat_csv.parent.iterdir() if p.is_file()}
    _expect_exit_2([flat_csv, "--out", flat_csv.parent, "--bootstrap", 10], capsys, "did not write")
    assert {p.name: p.read_bytes() for p in flat_csv.parent.iterdir() if p.is_file()} == before
    monkeypatch.chdir(flat_csv.parent)
    _expect_exit_2([flat_csv, "--out", ".", "--bootstrap", 10], capsys, "did not write")
    assert {p.name: p.read_bytes() for p in flat_csv.parent.iterdir() if p.is_file()} == before
    empty = tmp_path / "empty"
    empty.mkdir()
    assert _run([flat_csv, "--out", empty, "--bootstrap", 10, "--mediation-bootstrap", 0]) == 0


def test_leftovers_of_a_killed_run_are_cleaned(flat_csv, tmp_path):
    (tmp_path / ".out.tmp-abc123").mkdir()
    (tmp_path / ".out.old-def456").mkdir()
    assert _run([flat_csv, "--out", tmp_path / "out", "--bootstrap", 10, "--mediation-bootstrap", 0]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_os_errors_are_one_line(flat_csv, tmp_path, capsys):
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    _expect_exit_2([flat_csv, "--out", a_file / "out", "--bootstrap", 10], capsys, "a_file")
    _expect_exit_2([flat_csv, "--out", a_file, "--bootstrap", 10], capsys, "not a directory")
    _expect_exit_2([tmp_path, "--out", tmp_path / "o", "--bootstrap", 10], capsys)
    assert a_file.read_text() == "x"


def test_a_missing_report_is_a_failure(flat_csv, tmp_path, monkeypatch):
    """Regression (issue 11 audit): an ImportError of the report was swallowed with exit 0."""
    import prt.analysis.report as report

    def missing(results, trial, out_dir, **sections):
        raise ImportError("no report")

    monkeypatch.setattr(report, "write_outputs", missing)
    with pytest.raises(ImportError):
        _run([flat_csv, "--out", tmp_path / "out", "--bootstrap", 10, "--mediation-bootstrap", 0])
    assert list(tmp_path.iterdir()) == []


def test_failure_leaves_no_partial_output(flat_csv, tmp_path, monkeypatch):
    import prt.analysis.report as report

    def broken(results, trial, out_dir, **sections):
        (out_dir / "table1.csv").write_text("partial")
        raise RuntimeError("disk full")

    monkeypatch.setattr(report, "write_outputs", broken)
    out = tmp_path / "out"
    with pytest.raises(RuntimeError):
        _run([flat_csv, "--out", out, "--bootstrap", 10, "--mediation-bootstrap", 0])
    assert list(tmp_path.iterdir()) == []


def _expect_exit_2(args, capsys, *words):
    assert _run(args) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("prt analyze: error:") and len(err.splitlines()) == 1
    for word in words:
        assert word in err, err


def test_missing_and_empty_files(tmp_path, capsys):
    _expect_exit_2([tmp_path / "nope.csv", "--out", tmp_path / "o"], capsys, "nope.csv")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    _expect_exit_2([empty, "--out", tmp_path / "o"], capsys)
    assert not (tmp_path / "o").exists()


def test_bad_cells_name_the_record_and_field(flat_csv, tmp_path, capsys):
    frame = pd.read_csv(flat_csv, dtype=str, keep_default_na=False)
    cases = {
        "arm": (lambda f: f.assign(group=f["group"].where(f["id"] != "7", "9")), ["7", "9"]),
        "score": (lambda f: f.assign(pain_avg_t1_arm_1=f["pain_avg_t1_arm_1"].where(f["id"] != "5", "lots")),
                  ["5", "pain"]),
        "no_arm": (lambda f: f.drop(columns=["group"]), ["group"]),
    }
    for name, (change, words) in cases.items():
        path = tmp_path / f"{name}.csv"
        change(frame).to_csv(path, index=False)
        _expect_exit_2([path, "--out", tmp_path / "o", "--bootstrap", 10], capsys, *words)
    assert not (tmp_path / "o").exists()


def test_participant_in_two_arms(tmp_path, capsys):
    long_path = tmp_path / "long.csv"
    write_redcap(make_trial(), long_path, layout="long")
    frame = pd.read_csv(long_path, dtype=str, keep_default_na=False)
    rows = frame.index[frame["id"] == "3"]
    frame.loc[rows, "group"] = "1"
    frame.loc[rows[-1], "group"] = "2"
    frame.to_csv(long_path, index=False)
    _expect_exit_2([long_path, "--out", tmp_path / "o", "--bootstrap", 10], capsys, "3")


def test_mapping_naming_absent_events(flat_csv, tmp_path, capsys):
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(
        "base: boulder\nevents:\n  eligibility_assess_arm_1: eligibility\n  t1_arm_1: pre\n"
        "  t2_arm_1: post\n  x1_month_follow_up_arm_1: 1mo\n  x12_month_follow_up_arm_1: 12mo\n"
        "  week_99_arm_1: 3mo\n"
    )
    _expect_exit_2([flat_csv, "--out", tmp_path / "o", "--mapping", mapping], capsys, "week_99_arm_1")


@pytest.mark.parametrize("option", ["--bootstrap", "--mediation-bootstrap", "--seed"])
def test_negative_counts_and_seeds_are_usage_errors(flat_csv, tmp_path, option):
    with pytest.raises(SystemExit) as exc:
        _run([flat_csv, "--out", tmp_path / "o", option, -1])
    assert exc.value.code == 2


def test_dictionary_supplies_labels(boulder_wide_path, tmp_path):
    """`--dictionary FILE`: a REDCap data dictionary's choices label the report's Table 1."""
    dictionary = tmp_path / "dictionary.csv"
    pd.DataFrame([
        {"Variable / Field Name": "education", "Form Name": "demographics", "Section Header": "",
         "Field Type": "radio", "Field Label": "Highest education",
         "Choices, Calculations, OR Slider Labels": "1, Secondary | 2, Some tertiary | 3, Degree",
         "Field Note": "", "Text Validation Type OR Show Slider Number": "", "Text Validation Min": "",
         "Text Validation Max": "", "Identifier?": "", "Branching Logic (Show field only if...)": "",
         "Required Field?": "", "Custom Alignment": "", "Question Number (surveys only)": "",
         "Matrix Group Name": "", "Matrix Ranking?": "", "Field Annotation": ""},
    ]).to_csv(dictionary, index=False)
    out = tmp_path / "out"
    assert _run([boulder_wide_path, "--out", out, "--bootstrap", 10, "--mediation-bootstrap", 0,
                 "--dictionary", dictionary]) == 0
    table1 = (out / "table1.csv").read_text()
    assert "Some tertiary" in table1 and "Degree" in table1
