"""``prt analyze`` end to end: outputs, all-or-nothing writing, and bad input -> exit 2."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from prt.cli import main
from prt.data import ARMS, TrialData, write_redcap


def _trial(seed=0, n=15) -> TrialData:
    rng = np.random.default_rng(seed)
    ids = [str(i + 1) for i in range(3 * n)]
    arms = np.repeat(list(ARMS), n)
    participants = pd.DataFrame({"participant": ids, "arm": arms, "age": rng.integers(20, 70, 3 * n).astype(float),
                                 "sex": rng.choice(["male", "female"], 3 * n)})
    rows = []
    for pid, arm in zip(ids, arms):
        base = float(rng.integers(4, 9))
        drop = {"prt": 3, "placebo": 1, "usual_care": 0}[arm]
        for t in ("eligibility", "pre"):
            rows += [(pid, t, "pain_intensity", base), (pid, t, "tsk11", 30.0 + rng.integers(-3, 4))]
        for t in ("post", "1mo", "12mo"):
            rows += [(pid, t, "pain_intensity", float(max(base - drop + rng.integers(-1, 2), 0))),
                     (pid, t, "tsk11", 30.0 - 2 * drop + rng.integers(-3, 4))]
    return TrialData.from_frames(participants, pd.DataFrame(rows, columns=["participant", "timepoint",
                                                                           "outcome", "value"]))


@pytest.fixture(scope="module")
def flat_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "export.csv"
    write_redcap(_trial(), path, layout="flat")
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
    assert "results.json" in names
    if "report.html" in names:  # the report part is present
        assert {"table1.csv", "table2.csv"} <= names
    captured = capsys.readouterr()
    assert "bootstrap" not in captured.err  # no progress bar when stderr is not a terminal
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no temporary directories left


def test_replaces_an_existing_directory(flat_csv, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "stale.txt").write_text("old")
    assert _run([flat_csv, "--out", out, "--bootstrap", 20, "--mediation-bootstrap", 0]) == 0
    assert not (out / "stale.txt").exists() and (out / "results.json").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_failure_leaves_no_partial_output(flat_csv, tmp_path, monkeypatch):
    import prt.analysis.report as report

    def broken(results, trial, out_dir):
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
    write_redcap(_trial(), long_path, layout="long")
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


def test_negative_bootstrap_is_a_usage_error(flat_csv, tmp_path):
    with pytest.raises(SystemExit) as exc:
        _run([flat_csv, "--out", tmp_path / "o", "--bootstrap", -1])
    assert exc.value.code == 2
