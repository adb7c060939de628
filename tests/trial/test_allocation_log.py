"""Allocation log: reproducible draws, exactly-once allocation, tamper evidence, exact replay."""

from __future__ import annotations

import json
import os
import random

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prt.errors import InputError
from prt.trial import allocation_log as al
from prt.trial.minimization import TRIAL_CONFIG

T = "2026-11-22T09:00:00+00:00"


def participants(n, seed=0):
    r = random.Random(seed)
    return [(f"p{i:03d}", {"age": r.randint(21, 70), "sex": r.choice(["female", "male"]),
                           "pain": round(r.uniform(4, 10), 1), "opioid": r.choice(["no", "no", "yes"])})
            for i in range(n)]


def build(path, n=12, seed=20261122, source="pcg64"):
    al.create_log(path, TRIAL_CONFIG, source=source, seed=seed if source == "pcg64" else None, created=T)
    return [al.allocate(path, pid, f, eligibility="eligible", enrolled=True, timestamp=T)
            for pid, f in participants(n)]


def lines(path):
    return path.read_text().splitlines()


def write_lines(path, rows):
    path.write_text("".join(r + "\n" for r in rows))


def test_draws_come_from_the_seeded_pcg64_stream(tmp_path):
    path = tmp_path / "a.jsonl"
    made = build(path, n=5, seed=42)
    expected = np.random.Generator(np.random.PCG64(42)).random(5)
    assert [a.draw for a in made] == list(expected)


def test_same_seed_same_inputs_same_sequence(tmp_path):
    a = build(tmp_path / "a.jsonl", n=20)
    b = build(tmp_path / "b.jsonl", n=20)
    assert [x.arm for x in a] == [x.arm for x in b]
    assert [x.hash for x in a] == [x.hash for x in b]


def test_replay_recomputes_every_allocation(tmp_path):
    path = tmp_path / "a.jsonl"
    made = build(path, n=30)
    assert al.replay_log(path, head=made[-1].hash) == made
    check = al.verify_log(path)
    assert check.n_allocations == 30 and check.head == made[-1].hash


def test_secrets_source_replays_from_recorded_draws(tmp_path):
    path = tmp_path / "s.jsonl"
    made = build(path, n=8, source="secrets")
    assert al.replay_log(path) == made
    assert all(json.loads(x)["state_before"] is None for x in lines(path)[1:])


def test_allocation_only_once_for_eligible_enrolled_with_factors(tmp_path):
    path = tmp_path / "a.jsonl"
    build(path, n=3)
    before = path.read_bytes()
    pid, factors = participants(1)[0]
    with pytest.raises(InputError, match="'p000'.*already allocated"):
        al.allocate(path, pid, factors, eligibility="eligible", enrolled=True)
    with pytest.raises(InputError, match="'new'.*'ineligible'"):
        al.allocate(path, "new", factors, eligibility="ineligible", enrolled=True)
    with pytest.raises(InputError, match="'new'.*'incomplete'"):
        al.allocate(path, "new", factors, eligibility="incomplete", enrolled=True)
    with pytest.raises(InputError, match="'new'.*not enrolled"):
        al.allocate(path, "new", factors, eligibility="eligible", enrolled=False)
    with pytest.raises(InputError, match="'new'.*pain"):
        al.allocate(path, "new", {"age": 30, "sex": "male", "opioid": "no"}, eligibility="eligible", enrolled=True)
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
        al.allocate(path, "new", participants(1)[0][1], eligibility="eligible", enrolled=True)
    monkeypatch.setattr(al.os, "write", real_write)
    assert path.read_bytes() == before
    assert al.verify_log(path).n_allocations == 3


def test_existing_log_is_never_recreated(tmp_path):
    path = tmp_path / "a.jsonl"
    build(path, n=1)
    with pytest.raises(InputError, match="already exists"):
        al.create_log(path, TRIAL_CONFIG, seed=1)


def test_consistently_rehashed_forgery_is_caught_by_replay(tmp_path):
    """An attacker who changes an arm and recomputes every hash after it passes the chain check
    (without an anchored head) but not replay: the recorded draw gives another arm."""
    path = tmp_path / "a.jsonl"
    build(path, n=6)
    entries = [json.loads(x) for x in lines(path)]
    target = entries[3]
    target["arm"] = next(a for a in TRIAL_CONFIG.arms if a != target["arm"])
    prev = entries[2]["hash"]
    for i in range(3, len(entries)):
        entries[i] = al.seal(entries[i], prev)
        prev = entries[i]["hash"]
    write_lines(path, [al.canonical_json(e) for e in entries])
    al.verify_log(path)
    with pytest.raises(InputError, match="line 4 .*participant 'p002'.*arm"):
        al.replay_log(path)


def test_garbage_lines_are_named(tmp_path):
    path = tmp_path / "a.jsonl"
    build(path, n=2)
    rows = lines(path)
    write_lines(path, rows[:2] + ["{not json"] + rows[2:])
    with pytest.raises(InputError, match="line 3 is not valid JSON"):
        al.verify_log(path)
    write_lines(path, rows[:1] + [""] + rows[1:])
    with pytest.raises(InputError, match="line 2 is blank"):
        al.verify_log(path)


# ----------------------------------------------------------------------------- property test
@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    path = tmp_path_factory.mktemp("log") / "a.jsonl"
    made = build(path, n=6)
    return lines(path), made[-1].hash


def _tamper(rows, action, i, j, key):
    rows = list(rows)
    n = len(rows)
    i %= n
    if action == "remove":
        del rows[i]
    elif action == "swap":
        j %= n
        if i == j:
            j = (i + 1) % n
        rows[i], rows[j] = rows[j], rows[i]
    else:
        entry = json.loads(rows[i])
        keys = sorted(k for k in entry if k != "hash")
        k = keys[key % len(keys)]
        value = entry[k]
        if isinstance(value, str):
            entry[k] = value + "x"
        elif isinstance(value, bool) or value is None:
            entry[k] = 1
        elif isinstance(value, (int, float)):
            entry[k] = value + 1
        elif isinstance(value, list):
            entry[k] = value + [0]
        else:
            entry[k] = {**value, "zz": 1}
        if action == "edit_rehash":  # the forger also fixes this line's own hash
            entry["hash"] = al.entry_hash(entry)
        rows[i] = al.canonical_json(entry)
    return rows


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(action=st.sampled_from(["remove", "swap", "edit", "edit_rehash"]),
       i=st.integers(0, 100), j=st.integers(0, 100), key=st.integers(0, 100))
def test_any_edited_removed_or_reordered_line_is_detected(pristine, tmp_path_factory, action, i, j, key):
    rows, head = pristine
    tampered = _tamper(rows, action, i, j, key)
    assert tampered != rows
    path = tmp_path_factory.mktemp("t") / "a.jsonl"
    write_lines(path, tampered)
    with pytest.raises(InputError):
        al.verify_log(path, head=head)
    with pytest.raises(InputError):
        al.replay_log(path, head=head)


def test_untampered_log_verifies_against_its_head(pristine, tmp_path):
    rows, head = pristine
    path = tmp_path / "a.jsonl"
    write_lines(path, rows)
    assert al.verify_log(path, head=head).head == head
