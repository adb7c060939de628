"""Fidelity: statistics checked by hand, the ratings CSV, and the raters' reproducible sample."""

from __future__ import annotations

import hashlib
import json
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prt.errors import InputError
from prt.program.fidelity import (
    SAMPLE_METHOD,
    SessionRating,
    fidelity_sample,
    fidelity_summary,
    ratings_from_rows,
    read_ratings,
    verify_sample,
)
from prt.trial.inputs import parse_csv

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
HEADER = ("therapist,participant,session,rater,"
          "education,evidence,somatic_tracking,emotions,positive_states,home_practice")
#: Scores 6, 5, 4 (therapist T1) and 5, 3, 2 (T2); patients P1 6+5, P2 4, P3 5+3, P4 2.
RATINGS_CSV = HEADER + """
T1,P1,2,R1,1,1,1,1,1,1
T1,P1,5,R1,yes,yes,yes,no,yes,yes
T1,P2,3,R2,present,present,present,absent,absent,present
T2,P3,1,R1,1,1,1,1,0,1
T2,P3,7,R2,1,0,1,0,0,1
T2,P4,4,,1,0,1,0,0,0
"""


@pytest.fixture
def ratings():
    table = parse_csv(RATINGS_CSV, "ratings.csv")
    return ratings_from_rows(table.records, table.columns, table.source, rows=table.rows)


def test_scores_are_elements_present(ratings):
    assert [r.score for r in ratings] == [6, 5, 4, 5, 3, 2]
    assert ratings[5].rater == "" and ratings[2].present == ("education", "evidence", "somatic_tracking",
                                                             "home_practice")


def test_statistics_by_hand(ratings):
    s = fidelity_summary(ratings)
    # all: mean 25/6; squared deviations sum to 10.8333, / 5 -> SD sqrt(2.16667) = 1.47196
    assert s.overall.sessions == 6 and s.overall.mean == pytest.approx(25 / 6)
    assert s.overall.sd == pytest.approx(math.sqrt(65 / 30)) == pytest.approx(1.47196, abs=1e-5)
    assert (s.overall.minimum, s.overall.maximum, s.overall.below_minimum) == (2, 6, 1)
    t1, t2 = s.therapists
    assert (t1.name, t1.sessions, t1.mean, t1.sd) == ("T1", 3, 5.0, 1.0)            # 6, 5, 4
    assert (t2.name, t2.mean) == ("T2", pytest.approx(10 / 3))                       # 5, 3, 2
    assert t2.sd == pytest.approx(math.sqrt(14 / 3 / 2)) == pytest.approx(1.52753, abs=1e-5)
    patients = {g.name: (g.sessions, g.mean, g.sd) for g in s.participants}
    assert patients["P1"] == (2, 5.5, pytest.approx(math.sqrt(0.5)))
    assert patients["P2"] == (1, 4.0, None) and patients["P4"] == (1, 2.0, None)
    assert patients["P3"] == (2, 4.0, pytest.approx(math.sqrt(2)))
    assert [(e.id, e.present, e.rated) for e in s.elements] == [
        ("education", 6, 6), ("evidence", 4, 6), ("somatic_tracking", 6, 6), ("emotions", 2, 6),
        ("positive_states", 2, 6), ("home_practice", 5, 6)]
    assert [(r.participant, r.session, r.score) for r in s.below_minimum] == [("P4", 4, 2)]
    assert (s.reference.mean, s.reference.sd, s.reference.minimum) == (4.93, 0.87, 3)
    assert json.loads(json.dumps(s.to_dict()))["overall"]["sessions"] == 6


def test_ratings_round_trip_through_dicts(ratings):
    for r in ratings:
        assert SessionRating.from_dict(r.to_dict()) == r


def test_read_ratings_from_a_file(tmp_path):
    path = tmp_path / "ratings.csv"
    path.write_text("\ufeff" + RATINGS_CSV, encoding="utf-8")
    assert [r.score for r in read_ratings(path)] == [6, 5, 4, 5, 3, 2]


@pytest.mark.parametrize("csv, expected", [
    (HEADER + "\nT1,P1,2,R1,1,1,1,1,1,maybe\n", "ratings.csv row 2, column 'home_practice': expected 1/0"),
    (HEADER + "\nT1,P1,2,R1,1,1,1,1,1,\n", "row 2, column 'home_practice': expected 1/0"),
    (HEADER + "\nT1,P1,9,R1,1,1,1,1,1,1\n", "ratings.csv row 2: key 'session': expected a whole number 1-8"),
    (HEADER + "\nT1,P1,two,R1,1,1,1,1,1,1\n", "key 'session': expected a whole number 1-8"),
    (HEADER + "\nT1,P1,99999,R1,1,1,1,1,1,1\n", "key 'session': expected a whole number 1-8"),
    (HEADER + "\nDr Smith,P1,2,R1,1,1,1,1,1,1\n", "key 'therapist': expected a short code"),
    (HEADER + "\nT1,,2,R1,1,1,1,1,1,1\n", "the participant id is empty"),
    (HEADER + "\nT1,P1,2,R1,1,1,1,1,1,1\nT2,P1,2,R1,0,0,0,0,0,0\n",
     "ratings.csv row 3: participant 'P1' session 2 is rated by 'R1' again (first in row 2)"),
    (HEADER.replace(",home_practice", "") + "\nT1,P1,2,R1,1,1,1,1,1\n", "no column home_practice"),
    (HEADER + ",notes\nT1,P1,2,R1,1,1,1,1,1,1,fine\n", "unknown column 'notes'"),
    (HEADER + "\n", "no ratings"),
])
def test_a_bad_ratings_file_names_the_row_and_column(csv, expected):
    table = parse_csv(csv, "ratings.csv")
    with pytest.raises(InputError) as exc:
        ratings_from_rows(table.records, table.columns, table.source, rows=table.rows)
    assert expected in str(exc.value)


def test_two_raters_of_one_session_count_as_two_ratings():
    table = parse_csv(HEADER + "\nT1,P1,2,R1,1,1,1,1,1,1\nT1,P1,2,R2,1,1,1,1,0,1\n", "r.csv")
    s = fidelity_summary(ratings_from_rows(table.records, table.columns, table.source))
    assert (s.overall.sessions, s.overall.mean) == (2, 5.5)


def test_a_summary_needs_ratings():
    with pytest.raises(InputError, match="fidelity ratings: none given"):
        fidelity_summary([])
    with pytest.raises(InputError, match="expected SessionRating records"):
        fidelity_summary([SessionRating("T1", "P1", 1, "", ("flying",))])


# ---- the raters' sample ---------------------------------------------------------------------------

TEN = {f"BOU-{i:03d}": range(1, 9) for i in range(1, 11)}


def test_half_the_patients_two_sessions_each_pinned_for_seed_2022():
    s = fidelity_sample(TEN, 2022)
    assert s.participants == ("BOU-003", "BOU-004", "BOU-005", "BOU-007", "BOU-010")
    assert s.sessions == (("BOU-003", 7), ("BOU-003", 8), ("BOU-004", 5), ("BOU-004", 7), ("BOU-005", 6),
                          ("BOU-005", 8), ("BOU-007", 7), ("BOU-007", 8), ("BOU-010", 2), ("BOU-010", 3))
    assert (s.method, s.seed, s.patient_fraction, s.sessions_per_patient) == (SAMPLE_METHOD, 2022, 0.5, 2)


def test_the_sample_is_the_documented_hash_ranking():
    def rank(*parts):
        return hashlib.sha256("\x1f".join(map(str, parts)).encode()).hexdigest()

    s = fidelity_sample(TEN, "DSMB 2026-03-10")
    people = sorted(sorted(TEN, key=lambda p: rank(SAMPLE_METHOD, "DSMB 2026-03-10", p))[:5])
    assert list(s.participants) == people
    for p in people:
        mine = sorted(sorted(range(1, 9), key=lambda n: rank(SAMPLE_METHOD, "DSMB 2026-03-10", p, n))[:2])
        assert [n for q, n in s.sessions if q == p] == mine


def test_the_sample_does_not_depend_on_input_order_and_changes_with_the_seed():
    forward = fidelity_sample(TEN, 7)
    backward = fidelity_sample(dict(reversed(list(TEN.items()))), 7)
    assert forward == backward
    assert len({fidelity_sample(TEN, seed).sessions for seed in range(20)}) > 10


def test_half_rounds_up_and_short_records_give_what_they_have():
    nine = {f"P{i}": [1, 2, 3] for i in range(9)}
    assert len(fidelity_sample(nine, 1).participants) == 5
    few = {"A": [4], "B": [], "C": [2, 6]}
    s = fidelity_sample(few, 1, patient_fraction=1)
    assert s.participants == ("A", "C") and ("A", 4) in s.sessions and len(s.sessions) == 3
    assert "B" not in s.eligible
    assert fidelity_sample({}, 1).sessions == ()
    assert fidelity_sample({f"P{i}": [1] for i in range(10)}, 3, patient_fraction=0.3).participants.__len__() == 3


def test_the_log_record_redraws_and_detects_tampering():
    s = fidelity_sample(TEN, 2022)
    record = json.loads(json.dumps(s.to_dict()))
    assert verify_sample(record) == s
    tampered = {**record, "sessions": [["BOU-001", 1], *record["sessions"][1:]]}
    with pytest.raises(InputError, match="key 'sessions': does not match a redraw"):
        verify_sample(tampered)
    swapped = {**record, "eligible": {**record["eligible"], "BOU-011": [1, 2]}}
    with pytest.raises(InputError, match="key 'inputs_sha256': does not match a redraw"):
        verify_sample(swapped)
    with pytest.raises(InputError, match="key 'method': expected prt-fidelity-sample-v1"):
        verify_sample({**record, "method": "random.sample"})


@pytest.mark.parametrize("sessions, seed, expected", [
    (TEN, -1, "seed: expected a whole number >= 0 or a short text"),
    (TEN, True, "seed: expected a whole number >= 0"),
    (TEN, "line\nbreak", "seed: expected one line"),
    (TEN, 1.5, "seed: expected a whole number"),
    ({"P1": [9]}, 1, "key 'sessions of P1': expected a whole number 1-8"),
    ({"P1": "12"}, 1, "expected a list of session numbers"),
    ({"P\t1": [1]}, 1, "holds a tab, line break or control character"),
    ([("P1", [1])], 1, "expected a mapping of participant"),
])
def test_bad_sample_inputs(sessions, seed, expected):
    with pytest.raises(InputError) as exc:
        fidelity_sample(sessions, seed)
    assert expected in str(exc.value)


@FUZZ
@given(eligible=st.dictionaries(st.text("ABCP0123456789-", min_size=1, max_size=6),
                                st.lists(st.integers(1, 8), max_size=8), max_size=25),
       seed=st.integers(0, 2 ** 64) | st.text(min_size=1, max_size=10).filter(str.isprintable),
       fraction=st.sampled_from([0.1, 0.25, 0.5, 1.0]), per=st.integers(1, 8))
def test_sample_sizes_and_membership(eligible, seed, fraction, per):
    try:
        s = fidelity_sample(eligible, seed, patient_fraction=fraction, sessions_per_patient=per)
    except InputError as exc:  # only a seed of spaces
        assert "seed" in str(exc)
        return
    with_sessions = {p.strip(): set(v) for p, v in eligible.items() if v}
    assert len(s.participants) == math.ceil(round(fraction * len(with_sessions), 9))
    for p in s.participants:
        mine = [n for q, n in s.sessions if q == p]
        assert len(mine) == min(per, len(with_sessions[p])) and set(mine) <= with_sessions[p]
    assert verify_sample(s.to_dict()) == s


csv_cells = st.sampled_from(["1", "0", "yes", "no", "", "T1", "P1", "2", "9", "R1", "x", "=cmd()", '"', ",", "\n"])


@FUZZ
@given(rows=st.lists(st.lists(csv_cells, min_size=0, max_size=11), max_size=5),
       header=st.sampled_from([HEADER, HEADER + ",x", HEADER.replace("rater,", ""), "a,b"]))
def test_any_ratings_csv_reads_or_is_one_input_error_line(rows, header):
    text = header + "\n" + "\n".join(",".join(r) for r in rows)
    try:
        table = parse_csv(text, "r.csv")
        ratings = ratings_from_rows(table.records, table.columns, table.source, rows=table.rows)
    except InputError as exc:
        assert "\n" not in str(exc) and str(exc).startswith("r.csv")
        return
    summary = fidelity_summary(ratings)
    assert 0 <= summary.overall.minimum <= summary.overall.mean <= summary.overall.maximum <= 6


ELEMENTS = st.fixed_dictionaries({}, optional={e: st.booleans() | st.none() | st.text(max_size=3) for e in
                                               ("education", "evidence", "somatic_tracking", "emotions",
                                                "positive_states", "home_practice", "x")})


@FUZZ
@given(data=st.fixed_dictionaries({}, optional={
    "therapist": st.text(max_size=5) | st.sampled_from(["T1", "=1+1"]), "participant": st.text(max_size=5) | st.none(),
    "session": st.integers(-1, 10) | st.text(max_size=2) | st.floats(), "rater": st.text(max_size=3) | st.none(),
    "elements": ELEMENTS | st.lists(st.booleans()), "extra": st.integers()}))
def test_any_rating_input_is_a_rating_or_one_input_error_line(data):
    try:
        rating = SessionRating.from_dict(data)
    except InputError as exc:
        assert "\n" not in str(exc)
        return
    assert 0 <= rating.score <= 6 and SessionRating.from_dict(rating.to_dict()) == rating
