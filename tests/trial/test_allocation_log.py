"""Allocation log: reproducible draws, exactly-once allocation, signatures that make forgery need the
key, witnessed heads that catch truncation and regeneration, strict parsing, exact replay."""

from __future__ import annotations

import dataclasses
import json
import os
import random
import stat
import threading
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prt.errors import InputError, LogIntegrityError
from prt.trial import allocation_log as al
from prt.trial.eligibility import Enrolment, ScreeningLog, ScreeningResult
from prt.trial.minimization import TRIAL_CONFIG, Minimization

T = "2026-11-22T09:00:00+00:00"
KEY = bytes(range(32))              # the statistician's key in these tests
OTHER_KEY = bytes(range(1, 33))     # a forger's own key
V1_LOG = Path(__file__).with_name("allocation_log_v1.jsonl")   # written by prt before keys existed


def participants(n, seed=0):
    r = random.Random(seed)
    return [(f"p{i:03d}", {"age": r.randint(21, 70), "sex": r.choice(["female", "male"]),
                           "pain": round(r.uniform(4, 10), 1), "opioid": r.choice(["no", "no", "yes"])})
            for i in range(n)]


def answers(factors):
    return {"age": factors["age"], "sex": factors["sex"], "pain_avg_week": factors["pain"],
            "opioid": factors["opioid"]}


def screening_of(people, enrolled=True):
    """A screening log where everyone in ``people`` was screened eligible (keeping their answers)."""
    log = ScreeningLog()
    for pid, factors in people:
        log.screenings[pid] = ScreeningResult(pid, "eligible", answers=answers(factors))
        if enrolled:
            log.enrolments[pid] = Enrolment(pid, True)
    return log


EVERYONE = screening_of(participants(40))


def build(path, n=12, seed=20261122, source="pcg64", key=KEY, witness=None, config=TRIAL_CONFIG):
    al.create_log(path, config, source=source, seed=seed if source == "pcg64" else None, created=T, key=key,
                  witness=witness)
    return [al.allocate(path, pid, key=key, screening=EVERYONE, timestamp=T, witness=witness)
            for pid, _ in participants(n)]


def lines(path):
    return path.read_text().splitlines()


def write_lines(path, rows):
    path.write_text("".join(r + "\n" for r in rows))


def entries_of(path):
    return [json.loads(x) for x in lines(path)]


def reseal(entries, start, key=None):
    """What a forger does with prt's own functions: re-chain every line from ``start`` on."""
    prev = entries[start - 1]["hash"] if start else al.GENESIS
    out = list(entries[:start])
    for e in entries[start:]:
        e = al.seal({**e, "seq": len(out)}, prev, key)
        if key is None and "mac" in entries[0]:
            e["mac"] = "0" * 64                   # no key: the signature cannot be recomputed
        out.append(e)
        prev = e["hash"]
    return out


# ----------------------------------------------------------------------------- draws, replay
def test_draws_come_from_the_seeded_pcg64_stream(tmp_path):
    made = build(tmp_path / "a.jsonl", n=5, seed=42)
    expected = np.random.Generator(np.random.PCG64(42)).random(5)
    assert [a.draw for a in made] == list(expected)


def test_same_seed_key_and_inputs_same_sequence(tmp_path):
    a = build(tmp_path / "a.jsonl", n=20)
    b = build(tmp_path / "b.jsonl", n=20)
    assert [x.arm for x in a] == [x.arm for x in b]
    assert [x.hash for x in a] == [x.hash for x in b]


def test_replay_recomputes_every_allocation(tmp_path):
    path = tmp_path / "a.jsonl"
    made = build(path, n=30)
    assert al.replay_log(path, head=made[-1].hash, key=KEY) == made
    check = al.verify_log(path, key=KEY)
    assert check.n_allocations == 30 and check.head == made[-1].hash
    assert check.authenticated and check.key_id == al.key_id(KEY) and check.version == al.LOG_VERSION


def test_factors_are_recorded_from_the_screening_record(tmp_path):
    path = tmp_path / "a.jsonl"
    made = build(path, n=3)
    pid, factors = participants(3)[1]
    assert made[1].factors == factors
    assert entries_of(path)[2]["factors"] == factors


def test_secrets_source_replays_from_recorded_draws(tmp_path):
    path = tmp_path / "s.jsonl"
    made = build(path, n=8, source="secrets")
    assert al.replay_log(path, key=KEY) == made
    assert all(json.loads(x)["state_before"] is None for x in lines(path)[1:])


# ----------------------------------------------------------------------------- exactly once
def test_allocation_only_for_eligible_enrolled_with_factors(tmp_path):
    path = tmp_path / "a.jsonl"
    build(path, n=3)
    before = path.read_bytes()
    people = [("new", participants(1)[0][1])]
    log = screening_of(people)
    log.screenings["inel"] = ScreeningResult("inel", "ineligible", ("mri_unsafe",))
    log.screenings["inco"] = ScreeningResult("inco", "incomplete", (), ("mri_safe",))
    log.screenings["noco"] = ScreeningResult("noco", "eligible", answers=answers(people[0][1]))
    log.screenings["part"] = ScreeningResult("part", "eligible", answers={"age": 30, "sex": "male"})
    log.enrolments["part"] = Enrolment("part", True)
    for pid, message in (("inel", "'inel'.*'ineligible'"), ("inco", "'inco'.*'incomplete'"),
                         ("noco", "'noco'.*not enrolled"), ("gone", "'gone'.*'not screened'"),
                         ("part", "'part', factor 'pain': no value")):
        with pytest.raises(InputError, match=message):
            al.allocate(path, pid, key=KEY, screening=log)
    assert path.read_bytes() == before


def test_a_retry_reports_the_recorded_allocation_as_a_repeat(tmp_path):
    """Killed right after the write, the allocation was recorded but never shown: a retry shows it."""
    path = tmp_path / "a.jsonl"
    made = build(path, n=4)
    before = path.read_bytes()
    again = al.allocate(path, "p002", key=KEY, screening=EVERYONE)
    assert again.repeat and (again.arm, again.hash, again.seq) == (made[2].arm, made[2].hash, 3)
    same = al.allocate(path, "p002", {"age": str(participants(3)[2][1]["age"])}, key=KEY, screening=EVERYONE)
    assert same.repeat
    with pytest.raises(InputError, match="'p002', factor 'sex'"):
        other_sex = "male" if made[2].factors["sex"] == "female" else "female"
        al.allocate(path, "p002", {"sex": other_sex}, key=KEY, screening=EVERYONE)
    assert path.read_bytes() == before


def test_a_failed_write_leaves_the_log_unchanged(tmp_path, monkeypatch):
    path = tmp_path / "a.jsonl"
    build(path, n=3)
    before = path.read_bytes()
    real_write = os.write

    def half_write(fd, data):
        return real_write(fd, data[: len(data) // 2])

    monkeypatch.setattr(al.os, "write", half_write)
    with pytest.raises(OSError, match="short write"):
        al.allocate(path, "p010", key=KEY, screening=EVERYONE)
    monkeypatch.setattr(al.os, "write", real_write)
    assert path.read_bytes() == before
    assert al.verify_log(path, key=KEY).n_allocations == 3


def test_existing_log_is_never_recreated(tmp_path):
    path = tmp_path / "a.jsonl"
    build(path, n=1)
    with pytest.raises(InputError, match="already exists"):
        al.create_log(path, TRIAL_CONFIG, seed=1, key=KEY)
    empty = tmp_path / "empty.jsonl"
    empty.touch()
    with pytest.raises(InputError, match="already exists"):
        al.create_log(empty, TRIAL_CONFIG, seed=1, key=KEY)


def test_parallel_init_log_creates_one_header(tmp_path):
    """Ten threads start the same log at once: exactly one succeeds, the log has one header."""
    path = tmp_path / "a.jsonl"
    barrier = threading.Barrier(10)
    outcomes = []

    def start(i):
        barrier.wait()
        try:
            al.create_log(path, TRIAL_CONFIG, seed=i, key=KEY, created=T)
            outcomes.append("created")
        except InputError as exc:
            outcomes.append(str(exc))

    threads = [threading.Thread(target=start, args=(i,)) for i in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("created") == 1
    assert all("already exists" in o for o in outcomes if o != "created")
    assert len(lines(path)) == 1 and al.verify_log(path, key=KEY).n_allocations == 0


# ----------------------------------------------------------------------------- forgery
@pytest.fixture
def signed(tmp_path):
    path = tmp_path / "a.jsonl"
    witness = tmp_path / "witness.txt"
    made = build(path, n=6, witness=witness)
    return path, witness, made


def forged_header(entries, **changes):
    header = {**entries[0], **changes}
    return reseal([header] + entries[1:], 0)


FORGERIES = {
    "new seed": lambda e: forged_header(e, seed=7, initial_state=np.random.PCG64(7).state),
    "p_preferred 1": lambda e: forged_header(e, config={**e[0]["config"], "p_preferred": 1.0}),
    "changed factors": lambda e: reseal(e[:3] + [{**e[3], "factors": {**e[3]["factors"], "age": 69}}] + e[4:], 3),
    "changed arm": lambda e: reseal(e[:3] + [{**e[3], "arm": "prt" if e[3]["arm"] != "prt" else "placebo"}] + e[4:],
                                    3),
    "deleted line": lambda e: reseal(e[:2] + e[3:], 2),
    "appended participant": lambda e: reseal(e + [{**e[-1], "participant": "never-screened"}], len(e)),
}


@pytest.mark.parametrize("forgery", sorted(FORGERIES))
def test_forgery_without_the_key_is_caught(signed, forgery):
    """Regenerating the whole chain with prt's own functions no longer passes: every line is signed."""
    path, _, _ = signed
    write_lines(path, [al.canonical_json(x) for x in FORGERIES[forgery](entries_of(path))])
    with pytest.raises(LogIntegrityError, match="signature does not verify"):
        al.verify_log(path, key=KEY)
    with pytest.raises(LogIntegrityError):
        al.replay_log(path, key=KEY)


def test_a_log_regenerated_under_another_key_is_caught(signed, tmp_path):
    path, witness, _ = signed
    path.unlink()
    build(path, n=6, seed=99, key=OTHER_KEY)
    with pytest.raises(LogIntegrityError, match="key id .* the key given has id"):
        al.verify_log(path, key=KEY)


def test_the_key_holder_regenerating_the_log_is_caught_by_the_witness(signed):
    """The key proves who wrote the lines, not that they were never rewritten: the witness does."""
    path, witness, made = signed
    path.unlink()
    build(path, n=6, seed=5, key=KEY)             # same key, new seed: every signature is valid
    assert al.verify_log(path, key=KEY).authenticated
    with pytest.raises(LogIntegrityError, match="witness .* line 1 witnessed: the log was regenerated"):
        al.verify_log(path, key=KEY, witness=witness)
    with pytest.raises(LogIntegrityError, match="not in the log"):
        al.verify_log(path, key=KEY, head=made[-1].hash)


def test_truncation_is_caught_by_the_witness_and_the_head(signed):
    path, witness, made = signed
    write_lines(path, lines(path)[:-2])
    assert al.verify_log(path, key=KEY).n_allocations == 4        # a prefix is a valid log on its own
    with pytest.raises(LogIntegrityError, match="ends at seq 4, but witness .* line 6 witnessed seq 5"):
        al.verify_log(path, key=KEY, witness=witness)
    with pytest.raises(LogIntegrityError, match="lines removed at the end"):
        al.verify_log(path, key=KEY, head=made[-1].hash)
    with pytest.raises(LogIntegrityError, match="ends at seq 4"):   # and nobody is allocated on top of it
        al.allocate(path, "p020", key=KEY, screening=EVERYONE, witness=witness)


def test_the_witness_records_every_head_and_a_retry_fills_a_missing_one(signed):
    path, witness, made = signed
    marks = al.read_witness(witness)
    assert [(m.seq, m.head) for m in marks] == [(i, e["hash"]) for i, e in enumerate(entries_of(path))]
    # killed after the log write, before the witness write: the retry witnesses the head
    witness.write_text("".join(line + "\n" for line in witness.read_text().splitlines()[:-1]))
    assert al.allocate(path, made[-1].participant, key=KEY, screening=EVERYONE, witness=witness).repeat
    assert al.read_witness(witness)[-1].head == made[-1].hash
    assert al.verify_log(path, key=KEY, witness=witness).witnessed == 7


def test_bad_witness_files_are_input_errors(signed, tmp_path):
    path, witness, _ = signed
    for text, message in (("", "empty"), ("1 abc 2026\n", "line 1: expected 'SEQ HEAD TIME'"),
                          ("x " + "0" * 64 + " t\n", "line 1")):
        witness.write_text(text)
        with pytest.raises(InputError, match=message) as exc:
            al.verify_log(path, key=KEY, witness=witness)
        assert not isinstance(exc.value, LogIntegrityError)
    with pytest.raises(InputError, match="not found"):
        al.verify_log(path, key=KEY, witness=tmp_path / "nope.txt")


def test_duplicate_keys_in_a_line_are_refused_even_with_the_head(signed):
    path, _, made = signed
    rows = lines(path)
    entry = json.loads(rows[2])
    rows[2] = rows[2].replace(f'"arm":"{entry["arm"]}"', f'"arm":"placebo","arm":"{entry["arm"]}"')
    write_lines(path, rows)
    with pytest.raises(LogIntegrityError, match="line 3: key 'arm' appears more than once"):
        al.verify_log(path, key=KEY, head=made[-1].hash)


def regenerate(entries, start, key):
    """Recompute lines ``start``.. as prt would (levels, scores, probabilities; the arm each draw gives)."""
    m = Minimization(TRIAL_CONFIG)
    for e in entries[1:start]:
        m.record(tuple(e["levels"]), e["arm"])
    out = list(entries[:start])
    for e in entries[start:]:
        p = m.propose(e["factors"], e["participant"])
        arm = m.decide(p, e["draw"])
        out.append({**e, "levels": list(p.levels), "scores": list(p.scores), "probabilities": list(p.probabilities),
                    "arm": arm})
        m.record(p.levels, arm)
    return reseal(out, start, key)


def test_secrets_arm_change_with_regenerated_lines_needs_the_key(tmp_path):
    """With --source secrets a forger picks the draw that gives the arm he wants and regenerates the
    later lines: the chain and the replay then agree (so a chain-only check is fooled); the
    signatures do not, and the witness catches even the key holder."""
    path = tmp_path / "s.jsonl"
    witness = tmp_path / "w.txt"
    made = build(path, n=6, source="secrets", witness=witness)
    entries = entries_of(path)
    target = entries[3]
    cum = np.concatenate([[0.0], np.cumsum(target["probabilities"])])
    arm = next(k for k, a in enumerate(TRIAL_CONFIG.arms) if a != target["arm"] and target["probabilities"][k] > 0)
    entries[3] = {**target, "draw": float((cum[arm] + cum[arm + 1]) / 2)}
    write_lines(path, [al.canonical_json(x) for x in regenerate(entries, 3, key=None)])
    fooled = al.replay_log(path, allow_unsigned=True)
    assert fooled[2].arm == TRIAL_CONFIG.arms[arm] != made[2].arm      # the chain alone accepts the forgery
    with pytest.raises(LogIntegrityError, match="line 4 .*signature does not verify"):
        al.replay_log(path, key=KEY)
    write_lines(path, [al.canonical_json(x) for x in regenerate(entries, 3, key=KEY)])
    assert al.replay_log(path, key=KEY)[2].arm == TRIAL_CONFIG.arms[arm]   # the key holder can do it ...
    with pytest.raises(LogIntegrityError, match=r"line 4 \(seq 3\) is not the line witness .* line 4 witnessed"):
        al.verify_log(path, key=KEY, witness=witness)                   # ... but not past the witness


def test_replay_checks_every_allocation_against_the_screening_log(tmp_path):
    path = tmp_path / "a.jsonl"
    build(path, n=4)
    assert len(al.replay_log(path, key=KEY, screening=EVERYONE)) == 4
    missing = screening_of(participants(4)[:3])
    with pytest.raises(LogIntegrityError, match="line 5 \\(participant 'p003'\\).*'not screened'"):
        al.replay_log(path, key=KEY, screening=missing)
    unenrolled = screening_of(participants(4))
    del unenrolled.enrolments["p001"]
    with pytest.raises(LogIntegrityError, match="'p001'.*no enrolment"):
        al.replay_log(path, key=KEY, screening=unenrolled)
    changed = screening_of(participants(4))
    changed.screenings["p002"] = dataclasses.replace(changed.screenings["p002"],
                                                     answers={**changed.screenings["p002"].answers, "age": 99})
    with pytest.raises(LogIntegrityError, match="'p002'.*factor 'age'.*does not agree"):
        al.replay_log(path, key=KEY, screening=changed)


# ----------------------------------------------------------------------------- keys, old logs
def test_keys(tmp_path):
    path = tmp_path / "k.key"
    kid = al.create_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    key = al.load_key(path)
    assert len(key) == al.KEY_BYTES and al.key_id(key) == kid and len(kid) == 32
    with pytest.raises(InputError, match="already exists"):
        al.create_key(path)
    assert al.load_key(path) == key
    os.chmod(path, 0o644)
    with pytest.raises(InputError, match="other users.*chmod 600"):
        al.load_key(path)
    bad = tmp_path / "bad.key"
    bad.write_text("not a key\n")
    os.chmod(bad, 0o600)
    with pytest.raises(InputError, match="64 hexadecimal digits"):
        al.load_key(bad)
    with pytest.raises(InputError, match="not found"):
        al.load_key(tmp_path / "none.key")


def test_a_signed_log_needs_its_key(signed):
    path, _, _ = signed
    with pytest.raises(InputError, match="give the key") as exc:
        al.verify_log(path)
    assert not isinstance(exc.value, LogIntegrityError)
    check = al.verify_log(path, allow_unsigned=True)
    assert not check.authenticated and check.n_allocations == 6


def test_old_unsigned_logs_are_read_as_unauthenticated(tmp_path):
    with pytest.raises(InputError, match="unsigned log \\(version 1\\)"):
        al.verify_log(V1_LOG)
    check = al.verify_log(V1_LOG, allow_unsigned=True)
    assert (check.version, check.authenticated, check.n_allocations) == (1, False, 3)
    assert check.config.measure == "range" and check.config.max_arm_difference is None
    assert [(a.participant, a.arm) for a in al.replay_log(V1_LOG, allow_unsigned=True)] == [
        ("a1", "placebo"), ("a5", "usual_care"), ("a7", "usual_care")]
    with pytest.raises(LogIntegrityError, match="not signed"):
        al.verify_log(V1_LOG, key=KEY)
    copy = tmp_path / "v1.jsonl"
    copy.write_bytes(V1_LOG.read_bytes())
    with pytest.raises(LogIntegrityError, match="not signed"):
        al.allocate(copy, "p001", key=KEY, screening=EVERYONE)
    assert copy.read_bytes() == V1_LOG.read_bytes()


@pytest.mark.parametrize("seed", ["-1", "1e5", "4_5", " ", "abc", str(2 ** 128), -1, True, 1.5])
def test_bad_seeds_are_refused(seed):
    with pytest.raises(InputError, match="whole number from 0 to 2\\*\\*128 - 1"):
        al.parse_seed(seed, "--seed")


def test_good_seeds():
    assert al.parse_seed("0") == 0 and al.parse_seed(" 42 ") == 42 and al.parse_seed(2 ** 128 - 1) == 2 ** 128 - 1


def test_garbage_lines_are_named(tmp_path):
    path = tmp_path / "a.jsonl"
    build(path, n=2)
    rows = lines(path)
    write_lines(path, rows[:2] + ["{not json"] + rows[2:])
    with pytest.raises(LogIntegrityError, match="line 3: malformed JSON at column 2"):
        al.verify_log(path, key=KEY)
    write_lines(path, rows[:1] + [""] + rows[1:])
    with pytest.raises(LogIntegrityError, match="line 2 is blank"):
        al.verify_log(path, key=KEY)
    write_lines(path, rows[:1] + [rows[1].replace(",", ", ", 1)] + rows[2:])
    with pytest.raises(LogIntegrityError, match="line 2: not in prt's canonical form"):
        al.verify_log(path, key=KEY)
    path.write_text("\n".join(rows))
    with pytest.raises(LogIntegrityError, match="no newline"):
        al.verify_log(path, key=KEY)


# ----------------------------------------------------------------------------- property test
@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    folder = tmp_path_factory.mktemp("log")
    path, witness = folder / "a.jsonl", folder / "w.txt"
    build(path, n=5, witness=witness)
    return path.read_bytes(), witness


def _edit(data: bytes, action: str, i: int, j: int, blob: bytes) -> bytes:
    rows = data.split(b"\n")[:-1]
    n = len(data)
    if action == "flip":
        k = i % n
        return data[:k] + bytes([data[k] ^ (1 << (j % 8))]) + data[k + 1:]
    if action == "delete":
        k = i % n
        return data[:k] + data[k + 1 + j % 40:]
    if action == "insert":
        k = i % (n + 1)
        return data[:k] + (blob or b" ") + data[k:]
    if action == "duplicate":
        k = i % len(rows)
        return b"".join(r + b"\n" for r in rows[:k + 1] + [rows[k]] + rows[k + 1:])
    if action == "remove":
        k = i % len(rows)
        return b"".join(r + b"\n" for r in rows[:k] + rows[k + 1:])
    if action == "truncate":
        return b"".join(r + b"\n" for r in rows[:i % len(rows)])
    a, b = i % len(rows), j % len(rows)                         # reorder: swap two lines
    if a == b:
        b = (a + 1) % len(rows)
    rows[a], rows[b] = rows[b], rows[a]
    return b"".join(r + b"\n" for r in rows)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(action=st.sampled_from(["flip", "delete", "insert", "duplicate", "remove", "truncate", "reorder"]),
       i=st.integers(0, 10 ** 6), j=st.integers(0, 10 ** 6), blob=st.binary(max_size=6))
def test_any_edit_of_the_bytes_is_detected(pristine, tmp_path_factory, action, i, j, blob):
    """Flip, delete, insert, duplicate, remove, truncate or reorder: verify and replay with the key
    and the witness raise LogIntegrityError (exit 3), never anything else."""
    data, witness = pristine
    tampered = _edit(data, action, i, j, blob)
    if tampered == data:
        return
    path = tmp_path_factory.mktemp("t") / "a.jsonl"
    path.write_bytes(tampered)
    with pytest.raises(LogIntegrityError):
        al.verify_log(path, key=KEY, witness=witness)
    with pytest.raises(LogIntegrityError):
        al.replay_log(path, key=KEY, witness=witness)


def test_the_untampered_log_verifies_against_its_witness(pristine, tmp_path):
    data, witness = pristine
    path = tmp_path / "a.jsonl"
    path.write_bytes(data)
    assert al.verify_log(path, key=KEY, witness=witness).witnessed == 6


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key_bytes=st.binary(max_size=80), witness=st.binary(max_size=200),
       seed=st.one_of(st.text(max_size=12), st.integers(-5, 2 ** 130)), head=st.text(max_size=70))
def test_key_witness_seed_and_head_inputs_fuzz(tmp_path_factory, key_bytes, witness, seed, head):
    """The other inputs of the log commands: a value or an InputError, never anything else."""
    folder = tmp_path_factory.mktemp("f")
    key_file, witness_file = folder / "k.key", folder / "w.txt"
    key_file.write_bytes(key_bytes)
    os.chmod(key_file, 0o600)
    witness_file.write_bytes(witness)
    for call in (lambda: al.load_key(key_file), lambda: al.read_witness(witness_file),
                 lambda: al.parse_seed(seed), lambda: al.parse_head(head)):
        try:
            value = call()
        except InputError:
            continue
        assert value is not None


def test_ids_with_control_characters_are_never_allocated(tmp_path):
    """Issue 12 round 2: an id holding a tab, newline or escape sequence garbled the printed receipt."""
    path = tmp_path / "a.jsonl"
    build(path, n=2)
    before = path.read_bytes()
    for pid in ("p9\tprt", "p9\x1b[2J", "p9\u202e"):
        with pytest.raises(InputError, match="control character"):
            al.allocate(path, pid, key=KEY, screening=EVERYONE)
    assert path.read_bytes() == before


def test_a_witness_cut_mid_line_is_refused_before_anything_is_allocated(signed):
    """Issue 12 round 2: the next mark was glued onto a witness's unfinished last line (unreadable after)."""
    path, witness, _ = signed
    witness.write_bytes(witness.read_bytes()[:-1])
    before, marks = path.read_bytes(), witness.read_bytes()
    with pytest.raises(InputError, match="last line has no newline"):
        al.allocate(path, participants(7)[6][0], key=KEY, screening=EVERYONE, witness=witness)
    assert (path.read_bytes(), witness.read_bytes()) == (before, marks)


def test_a_key_that_is_not_a_private_regular_file_is_refused_before_it_is_read(tmp_path):
    """Issue 12 round 2: ``--key /dev/zero`` was read to the end (never) before its mode was checked."""
    fifo = tmp_path / "k.fifo"
    os.mkfifo(fifo, 0o600)
    with pytest.raises(InputError, match="not a regular file"):
        al.load_key(fifo)          # would block forever if opened: no writer
    with pytest.raises(InputError, match="other users"):
        al.load_key("/dev/zero")
    with pytest.raises(InputError, match="is a directory"):
        al.load_key(tmp_path)
