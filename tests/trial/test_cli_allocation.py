"""``prt trial keygen | screen | init-log | allocate | verify-log | replay-log``: signed logs, receipts,
repeats, witnesses, factor checks against the screening record; exit 2 for bad input, 3 for a log
that does not verify."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from prt.cli import main
from prt.trial import allocation_log as al

HEADER = ("participant,age,sex,opioid,back_pain_half_days_6mo,pain_avg_week,back_pain_intensity,leg_pain_intensity,"
          "mri_safe,autoimmune_condition,metastatic_cancer_history")
ANSWERS = HEADER + """
a1,50,female,no,yes,5,7,3,yes,no,no
a2,61,male,yes,yes,8,9,2,yes,no,no
a3,33,female,no,yes,6,6,1,yes,no,no
"""
V1_LOG = Path(__file__).with_name("allocation_log_v1.jsonl")


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def trial(tmp_path, capsys):
    """Screened and enrolled a1-a3, a key, a signed log with a witness, a1 and a2 allocated."""
    (tmp_path / "answers.csv").write_text(ANSWERS)
    f = {name: tmp_path / name for name in ("s.jsonl", "a.jsonl", "k.key", "w.txt")}
    assert run(capsys, "trial", "screen", tmp_path / "answers.csv", "--log", f["s.jsonl"])[0] == 0
    for pid in ("a1", "a2", "a3"):
        assert run(capsys, "trial", "enrol", pid, "--log", f["s.jsonl"])[0] == 0
    assert run(capsys, "trial", "keygen", "--out", f["k.key"])[0] == 0
    code, out, _ = run(capsys, "trial", "init-log", "--log", f["a.jsonl"], "--key", f["k.key"], "--seed", "11",
                       "--witness", f["w.txt"])
    assert code == 0 and "key id" in out
    f["heads"] = {}
    for pid in ("a1", "a2"):
        code, out, _ = allocate(capsys, f, pid, "--json")
        assert code == 0
        f["heads"][pid] = json.loads(out)["head"]
    return f


def allocate(capsys, f, pid, *extra):
    return run(capsys, "trial", "allocate", "--log", f["a.jsonl"], "--key", f["k.key"], "--screening-log",
               f["s.jsonl"], "--participant", pid, "--witness", f["w.txt"], *extra)


def test_keygen_writes_a_private_key_once(tmp_path, capsys):
    path = tmp_path / "k.key"
    code, out, _ = run(capsys, "trial", "keygen", "--out", path)
    assert code == 0 and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert al.key_id(al.load_key(path)) in out
    before = path.read_bytes()
    code, _, err = run(capsys, "trial", "keygen", "--out", path)
    assert code == 2 and "already exists" in err and err.count("\n") == 1
    assert path.read_bytes() == before


def test_allocation_prints_a_receipt_and_factors_come_from_screening(trial, capsys):
    code, out, _ = allocate(capsys, trial, "a3")
    entry = json.loads(trial["a.jsonl"].read_text().splitlines()[-1])
    assert code == 0 and out.strip() == f"a3\t{entry['arm']}\treceipt: seq 3 head {entry['hash']}"
    assert entry["factors"] == {"age": 33, "sex": "female", "pain": 6, "opioid": "no"}
    assert [line.split()[:2] for line in trial["w.txt"].read_text().splitlines()] == [
        [str(i), json.loads(x)["hash"]] for i, x in enumerate(trial["a.jsonl"].read_text().splitlines())]


def test_a_retry_prints_the_existing_allocation_as_a_repeat(trial, capsys):
    before = trial["a.jsonl"].read_bytes()
    code, out, _ = allocate(capsys, trial, "a1", "--json")
    result = json.loads(out)
    assert code == 0 and result["repeat"] is True and result["head"] == trial["heads"]["a1"]
    code, out, _ = allocate(capsys, trial, "a1")
    assert code == 0 and "repeat: already allocated, nothing written" in out and trial["heads"]["a1"] in out
    assert trial["a.jsonl"].read_bytes() == before


@pytest.mark.parametrize("factor, message", [
    ("age=200", "factor 'age': outside the factor's range 0-120"),
    ("pain=15", "factor 'pain': outside the factor's range 0-10"),
    ("age=4_5", "factor 'age': expected a number"),
    ("age=51", "factor 'age': the value given does not agree with the screening record"),
    ("sex=male", "factor 'sex': the value given does not agree"),
    ("colour=red", "unknown factor(s): colour"),
    ("age", "expected NAME=VALUE"),
])
def test_factors_contradicting_screening_or_out_of_range_are_refused(trial, capsys, factor, message):
    before = trial["a.jsonl"].read_bytes()
    code, _, err = allocate(capsys, trial, "a3", "--factor", factor)
    assert code == 2 and message in err and err.count("\n") == 1
    assert trial["a.jsonl"].read_bytes() == before


@pytest.mark.parametrize("seed", ["-1", "1e5", "4_5", "abc", str(2 ** 128)])
def test_bad_seeds_are_one_line_exit_2(tmp_path, capsys, seed):
    run(capsys, "trial", "keygen", "--out", tmp_path / "k.key")
    code, _, err = run(capsys, "trial", "init-log", "--log", tmp_path / "a.jsonl", "--key", tmp_path / "k.key",
                       "--seed", seed)
    assert code == 2 and err.count("\n") == 1 and "--seed" in err and "whole number" in err
    assert not (tmp_path / "a.jsonl").exists()


def test_parallel_init_log_processes_create_one_log(tmp_path, capsys):
    """Ten processes start the same log at once: one prints 'created', nine are refused."""
    run(capsys, "trial", "keygen", "--out", tmp_path / "k.key")
    log = tmp_path / "a.jsonl"
    procs = [subprocess.Popen([sys.executable, "-m", "prt", "trial", "init-log", "--log", str(log), "--key",
                               str(tmp_path / "k.key")], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(10)]
    results = [(p.wait(timeout=120), p.stdout.read(), p.stderr.read()) for p in procs]
    for p in procs:
        p.stdout.close()
        p.stderr.close()
    created = [r for r in results if r[0] == 0]
    assert len(created) == 1 and created[0][1].startswith("created")
    assert all(code == 2 and "already exists" in err for code, _, err in results if code != 0)
    assert len(log.read_text().splitlines()) == 1
    assert al.verify_log(log, key=al.load_key(tmp_path / "k.key")).n_allocations == 0


def test_verify_and_replay_exit_3_for_forgery_and_2_for_bad_input(trial, capsys, tmp_path):
    key, log, witness = trial["k.key"], trial["a.jsonl"], trial["w.txt"]
    code, out, _ = run(capsys, "trial", "verify-log", log, "--key", key, "--witness", witness,
                       "--head", trial["heads"]["a2"])
    assert code == 0 and "signatures verify" in out and "3 witnessed heads agree" in out
    code, _, err = run(capsys, "trial", "verify-log", log)
    assert code == 2 and "--key" in err
    code, out, err = run(capsys, "trial", "verify-log", log, "--allow-unsigned")
    assert code == 0 and "UNAUTHENTICATED" in out and "UNAUTHENTICATED" in err
    code, _, err = run(capsys, "trial", "verify-log", log, "--key", key, "--head", "abc")
    assert code == 2 and "--head" in err
    other = tmp_path / "other.key"
    run(capsys, "trial", "keygen", "--out", other)
    code, _, err = run(capsys, "trial", "verify-log", log, "--key", other)
    assert code == 3 and "key id" in err
    # a forger without the key re-chains an edited line with prt's own functions
    entries = [json.loads(x) for x in log.read_text().splitlines()]
    entries[1]["factors"]["age"] = 69
    prev = entries[0]["hash"]
    for e in entries[1:]:
        e.update(al.seal(e, prev))
        prev = e["hash"]
    log.write_text("".join(al.canonical_json(e) + "\n" for e in entries))
    for command in ("verify-log", "replay-log"):
        code, _, err = run(capsys, "trial", command, log, "--key", key)
        assert code == 3 and "line 2" in err and "signature does not verify" in err and err.count("\n") == 1


def test_truncation_is_exit_3_with_the_witness(trial, capsys):
    log = trial["a.jsonl"]
    log.write_text("".join(x + "\n" for x in log.read_text().splitlines()[:-1]))
    assert run(capsys, "trial", "verify-log", log, "--key", trial["k.key"])[0] == 0
    code, _, err = run(capsys, "trial", "verify-log", log, "--key", trial["k.key"], "--witness", trial["w.txt"])
    assert code == 3 and "removed from the end" in err
    code, _, err = run(capsys, "trial", "replay-log", log, "--key", trial["k.key"], "--head", trial["heads"]["a2"])
    assert code == 3 and "not in the log" in err


def test_replay_checks_allocations_against_the_screening_log(trial, capsys, tmp_path):
    """An insider with the key appends someone never screened: replay with the screening log says so."""
    code, out, err = run(capsys, "trial", "replay-log", trial["a.jsonl"], "--key", trial["k.key"],
                         "--screening-log", trial["s.jsonl"], "--witness", trial["w.txt"])
    assert code == 0 and "agree with the screening log" in err
    from prt.trial.eligibility import Enrolment, ScreeningLog, ScreeningResult

    fake = ScreeningLog()
    fake.screenings["x9"] = ScreeningResult("x9", "eligible", answers={"age": 40, "sex": "male",
                                                                       "pain_avg_week": 7, "opioid": "no"})
    fake.enrolments["x9"] = Enrolment("x9", True)
    al.allocate(trial["a.jsonl"], "x9", key=al.load_key(trial["k.key"]), screening=fake)
    code, _, err = run(capsys, "trial", "replay-log", trial["a.jsonl"], "--key", trial["k.key"],
                       "--screening-log", trial["s.jsonl"])
    assert code == 3 and "participant 'x9'" in err and "'not screened'" in err


def test_a_failed_screen_writes_nothing(tmp_path, capsys):
    log = tmp_path / "s.jsonl"
    for body, message in (("a1,50,female,no,yes,15,7,3,yes,no,no", "'a1', field 'pain_avg_week': outside"),
                          ("a1,50,female,no,yes,5,7,3,yes,no,no\na1,51,female,no,yes,5,7,3,yes,no,no",
                           "row 3: record 'a1' appears again (first in row 2)"),
                          ("a1,4_5,female,no,yes,5,7,3,yes,no,no", "'a1', field 'age': expected a number")):
        (tmp_path / "answers.csv").write_text(HEADER + "\n" + body + "\n")
        code, _, err = run(capsys, "trial", "screen", tmp_path / "answers.csv", "--log", log)
        assert code == 2 and message in err and err.count("\n") == 1
        assert not log.exists()                                 # not even an empty log
    (tmp_path / "answers.csv").write_text(ANSWERS)
    assert run(capsys, "trial", "screen", tmp_path / "answers.csv", "--log", log)[0] == 0
    before = log.read_bytes()
    (tmp_path / "bad.csv").write_text(HEADER + "\nb1,50,female,no,yes,5,7,3,yes,no,no\nb2,50,female,no,yes,5,70,3,"
                                      "yes,no,no\n")
    assert run(capsys, "trial", "screen", tmp_path / "bad.csv", "--log", log)[0] == 2
    assert log.read_bytes() == before                           # b1 was fine, but nothing of the batch is logged


def test_old_unsigned_logs(capsys):
    code, _, err = run(capsys, "trial", "verify-log", V1_LOG)
    assert code == 2 and "--allow-unsigned" in err
    code, out, err = run(capsys, "trial", "replay-log", V1_LOG, "--allow-unsigned")
    assert code == 0 and out.splitlines()[0] == "1\ta1\tplacebo" and "UNAUTHENTICATED" in err


def test_keygen_help(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["trial", "keygen", "--help"])
    assert exc.value.code == 0 and "usage: prt trial keygen" in capsys.readouterr().out


def test_a_witness_that_cannot_be_written_is_refused_before_the_log(trial, capsys, tmp_path):
    before = trial["a.jsonl"].read_bytes()
    code, _, err = run(capsys, "trial", "allocate", "--log", trial["a.jsonl"], "--key", trial["k.key"],
                       "--screening-log", trial["s.jsonl"], "--participant", "a3", "--witness",
                       tmp_path / "no" / "w.txt")
    assert code == 2 and "does not exist" in err and trial["a.jsonl"].read_bytes() == before
    code, _, err = run(capsys, "trial", "init-log", "--log", tmp_path / "b.jsonl", "--key", trial["k.key"],
                       "--witness", tmp_path)
    assert code == 2 and "is a directory" in err and not (tmp_path / "b.jsonl").exists()
