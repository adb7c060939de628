"""``prt trial ...``: the whole workflow end to end, and exit status 2 on bad input."""

from __future__ import annotations

import json

import pytest

from prt.cli import main

ANSWERS = """participant,age,back_pain_half_days_6mo,pain_avg_week,back_pain_intensity,leg_pain_intensity,mri_safe,autoimmune_condition,metastatic_cancer_history
a1,45,yes,6,7,3,yes,no,no
a2,19,no,3,5,6,yes,no,no
a3,50,yes,,6,2,yes,no,no
a4,33,yes,5,6,1,yes,no,no
a5,61,yes,8,9,2,yes,no,no
"""
FACTORS = {"a1": ["age=45", "sex=female", "pain=6", "opioid=no"],
           "a5": ["age=61", "sex=male", "pain=8", "opioid=yes"]}


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def trial(tmp_path, capsys):
    (tmp_path / "answers.csv").write_text(ANSWERS)
    s, a = str(tmp_path / "s.jsonl"), str(tmp_path / "a.jsonl")
    code, out, _ = run(capsys, "trial", "screen", str(tmp_path / "answers.csv"), "--log", s)
    assert code == 0
    assert out.splitlines()[1] == ("a2\tineligible\tage_out_of_range,pain_days_below_half,pain_intensity_below_4,"
                                   "leg_pain_not_exceeded")
    assert out.splitlines()[2] == "a3\tincomplete\tmissing: pain_avg_week"
    assert run(capsys, "trial", "enrol", "a1", "--log", s)[0] == 0
    assert run(capsys, "trial", "enrol", "a5", "--log", s)[0] == 0
    assert run(capsys, "trial", "enrol", "a4", "--log", s, "--not-enrolled", "declined")[0] == 0
    key = str(tmp_path / "k.key")
    assert run(capsys, "trial", "keygen", "--out", key)[0] == 0
    assert run(capsys, "trial", "init-log", "--log", a, "--key", key, "--seed", "7")[0] == 0
    heads = {}
    for pid, factors in FACTORS.items():
        code, out, _ = run(capsys, "trial", "allocate", "--log", a, "--key", key, "--screening-log", s,
                           "--participant", pid,
                           *[x for f in factors for x in ("--factor", f)], "--json")
        assert code == 0
        result = json.loads(out)
        assert result["participant"] == pid and result["arm"] in ("prt", "placebo", "usual_care")
        heads[pid] = result["head"]
    return tmp_path, s, a, heads


def test_workflow(trial, capsys):
    tmp_path, s, a, heads = trial
    key = str(tmp_path / "k.key")
    code, out, _ = run(capsys, "trial", "verify-log", a, "--key", key, "--head", heads["a5"])
    assert code == 0 and "2 allocations" in out
    code, out, _ = run(capsys, "trial", "replay-log", a, "--key", key, "--json")
    assert code == 0 and [r["participant"] for r in json.loads(out)] == ["a1", "a5"]
    (tmp_path / "flow.csv").write_text(
        "participant,received,not_received_reason,follow_up,follow_up_reason,analysed,not_analysed_reason\n"
        "a1,yes,,completed,,yes,\na5,no,moved away,lost,moved away,no,no data\n")
    code, out, _ = run(capsys, "trial", "consort", "--screening-log", s, "--allocation-log", a, "--key", key,
                       "--flow", str(tmp_path / "flow.csv"), "--out", str(tmp_path / "consort"), "--json")
    assert code == 0
    counts = json.loads(out)
    assert (counts["assessed"], counts["not_eligible"], counts["incomplete"], counts["declined"],
            counts["randomized"]) == (5, 1, 1, 1, 2)
    assert (tmp_path / "consort.svg").is_file() and (tmp_path / "consort.png").is_file()


def test_allocation_refusals_exit_2_and_leave_the_log_alone(trial, capsys):
    tmp_path, s, a, _ = trial
    before = open(a, "rb").read()
    cases = [
        (["--participant", "a2", *sum((["--factor", f] for f in FACTORS["a1"]), [])], "'ineligible'"),
        (["--participant", "a3", *sum((["--factor", f] for f in FACTORS["a1"]), [])], "'incomplete'"),
        (["--participant", "a4", *sum((["--factor", f] for f in FACTORS["a1"]), [])], "not enrolled"),
        (["--participant", "a9", "--factor", "age=40"], "'not screened'"),
    ]
    for extra, message in cases:
        code, _, err = run(capsys, "trial", "allocate", "--log", a, "--key", str(tmp_path / "k.key"),
                           "--screening-log", s, *extra)
        assert code == 2 and message in err and err.count("\n") == 1
    run(capsys, "trial", "enrol", "a9", "--log", s)
    assert open(a, "rb").read() == before


def test_missing_factor_and_broken_log_exit_2(trial, capsys):
    tmp_path, s, a, heads = trial
    (tmp_path / "more.csv").write_text(ANSWERS.splitlines()[0] + "\nb1,45,yes,6,7,3,yes,no,no\n")
    run(capsys, "trial", "screen", str(tmp_path / "more.csv"), "--log", s)
    run(capsys, "trial", "enrol", "b1", "--log", s)
    key = str(tmp_path / "k.key")
    code, _, err = run(capsys, "trial", "allocate", "--log", a, "--key", key, "--screening-log", s,
                       "--participant", "b1",
                       "--factor", "age=45", "--factor", "sex=male", "--factor", "pain=6")
    assert code == 2 and "'b1'" in err and "opioid" in err
    lines = open(a).read().splitlines()
    entry = json.loads(lines[1])
    entry["arm"] = "prt" if entry["arm"] != "prt" else "placebo"
    lines[1] = json.dumps(entry)
    open(a, "w").write("\n".join(lines) + "\n")
    for command in ("verify-log", "replay-log"):
        code, _, err = run(capsys, "trial", command, a, "--key", key)
        assert code == 3 and "line 2" in err and "edited" in err
    open(a, "w").write("\n".join([lines[0], lines[2]]) + "\n")
    code, _, err = run(capsys, "trial", "verify-log", a, "--key", key)
    assert code == 3 and "removed" in err


def test_simulate_allocation_json(capsys):
    code, out, _ = run(capsys, "trial", "simulate-allocation", "--trials", "30", "--participants", "60",
                       "--seed", "3", "--json")
    result = json.loads(out)
    assert code == 0 and set(result) == {"minimization", "simple", "blocks"}
    assert result["minimization"]["marginal_max_mean"] < result["blocks"]["marginal_max_mean"]


def test_simulate_allocation_from_the_trials_data(boulder_wide_path, capsys):
    code, out, _ = run(capsys, "trial", "simulate-allocation", "--trials", "40", "--seed", "1",
                       "--population", str(boulder_wide_path))
    assert code == 0 and out.splitlines()[2].startswith("minimization\t")


def test_schedule(tmp_path, capsys):
    path = tmp_path / "p.csv"
    path.write_text("participant,arm,eligibility,pre,randomization,post\n"
                    "p1,prt,2026-01-31,2026-02-07,2026-02-07,\n")
    code, out, _ = run(capsys, "trial", "schedule", "--participants", str(path), "--date", "2026-04-05", "--json")
    report = json.loads(out)
    assert code == 0 and [v["event"] for v in report["due"]] == ["1mo"]
    assert "post" in [v["event"] for v in report["missed"]]
    path.write_text("participant,arm,eligibility,pre\np1,prt,2026-01-31,2026-01-07\n")
    code, _, err = run(capsys, "trial", "schedule", "--participants", str(path), "--date", "2026-04-05")
    assert code == 2 and "'p1'" in err and "out of order" in err
    path.write_text("participant,arm,eligibility,visit9\np1,prt,2026-01-31,2026-01-07\n")
    code, _, err = run(capsys, "trial", "schedule", "--participants", str(path), "--date", "2026-04-05")
    assert code == 2 and "visit9" in err
    code, _, err = run(capsys, "trial", "schedule", "--participants", str(path), "--date", "22/11/2026")
    assert code == 2 and "--date" in err


def test_bad_inputs_exit_2(tmp_path, capsys):
    code, _, err = run(capsys, "trial", "screen", str(tmp_path / "nope.csv"), "--log", str(tmp_path / "s.jsonl"))
    assert code == 2 and "No such file" in err
    code, _, err = run(capsys, "trial", "verify-log", str(tmp_path / "nope.jsonl"))
    assert code == 2 and "No such file" in err
    run(capsys, "trial", "keygen", "--out", str(tmp_path / "k.key"))
    run(capsys, "trial", "init-log", "--log", str(tmp_path / "a.jsonl"), "--key", str(tmp_path / "k.key"))
    code, _, err = run(capsys, "trial", "init-log", "--log", str(tmp_path / "a.jsonl"), "--key",
                       str(tmp_path / "k.key"))
    assert code == 2 and "already exists" in err


@pytest.mark.parametrize("command", ["screen", "enrol", "init-log", "allocate", "verify-log", "replay-log",
                                     "simulate-allocation", "schedule", "consort"])
def test_help(command, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["trial", command, "--help"])
    assert exc.value.code == 0 and "usage: prt trial " + command in capsys.readouterr().out
