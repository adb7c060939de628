"""Program data in REDCap's layouts: the dictionary reads back with prt.data's reader, the records
carry the known values, and the files are written all or nothing."""

from __future__ import annotations

import csv
import io
import re

import pytest

from prt.data.dictionary import load_redcap_dictionary
from prt.errors import InputError
from prt.program.evaluation import PhysicianEvaluation
from prt.program.export import ParticipantProgram, export_tables, program_dictionary, program_records, write_export
from prt.program.exposure import ExposureAttempt, Hierarchy
from prt.program.fidelity import SessionRating
from prt.program.tracking import Practice
from prt.trial.redcap_dictionary import DICTIONARY_COLUMNS, data_dictionary

ALL = ("education", "evidence", "somatic_tracking", "emotions", "positive_states", "home_practice")
CLEAR = dict.fromkeys(("tumour", "fracture", "infection", "inflammatory_disease", "neurological_deficit"), False)


@pytest.fixture
def programs():
    hierarchy = Hierarchy.from_dict({"steps": [{"id": "walk", "movement": "a walk", "fear": 3},
                                               {"id": "bend", "movement": "bending", "fear": 6}]})
    attempts = tuple(ExposureAttempt.from_dict({"step": "walk", "day": d, "expected_pain": 6, "actual_pain": 2,
                                                "expected_fear": 5, "actual_fear": 1}, hierarchy)
                     for d in ("2026-03-03", "2026-03-05"))
    practices = tuple(Practice.from_dict(p) for p in (
        {"day": "2026-03-02", "assignment": "tracking_practice", "minutes": 10, "pain_before": 6, "pain_after": 4,
         "fear_before": 5, "fear_after": 2},
        {"day": "2026-03-03", "assignment": "tracking_practice", "minutes": 12, "pain_before": 5, "pain_after": 4,
         "fear_before": 4, "fear_after": 4},
        {"day": "2026-03-03", "assignment": "read_education", "minutes": 8}))
    evaluation = PhysicianEvaluation.from_dict({"red_flags": CLEAR, "formulation": "mixed",
                                                "factors": {"stressful_onset": True, "body_map": True}})
    return [ParticipantProgram("BOU-002", (1, 2, 3, 5), practices, hierarchy, attempts, evaluation),
            ParticipantProgram("BOU-009")]


@pytest.fixture
def ratings():
    return [SessionRating("T1", "BOU-002", 5, "R2", ALL[:4]), SessionRating("T1", "BOU-002", 2, "R1", ALL)]


def test_the_dictionary_has_redcaps_columns_and_valid_names():
    d = program_dictionary()
    assert list(d.columns) == list(DICTIONARY_COLUMNS)
    names = list(d["Variable / Field Name"])
    assert names[0] == "record_id" and len(names) == len(set(names))
    assert all(re.fullmatch(r"prt_[a-z0-9_]+", n) and len(n) <= 26 for n in names[1:])
    assert set(d["Form Name"]) == {"prt_program", "prt_fidelity"}
    assert not set(names[1:]) & set(data_dictionary()["Variable / Field Name"])  # no clash with the trial's


def test_the_dictionary_reads_back_with_prt_data():
    text = program_dictionary().to_csv(index=False)
    parsed = load_redcap_dictionary(io.StringIO(text))
    assert parsed.choices["prt_eval_formulation"] == {"1": "Centralized", "2": "Mixed", "3": "Structural"}
    assert parsed.choices["prt_eval_referral"]["2"] == "Blocked by a red flag"
    assert parsed.choices["prt_fe_education"] == {"1": "Yes", "0": "No"}
    assert parsed.ranges["prt_fid_score"] == (0.0, 6.0)
    assert parsed.ranges["prt_sessions_n"] == (0.0, 8.0)
    assert parsed.ranges["prt_track_pain_chg"] == (-10.0, 10.0)
    checkbox = program_dictionary().set_index("Variable / Field Name").loc["prt_sessions"]
    assert checkbox["Field Type"] == "checkbox"
    assert checkbox["Choices, Calculations, OR Slider Labels"].startswith("1, Session 1 | 2, Session 2")


def test_records_hold_the_known_values(programs, ratings):
    frame = program_records(programs, ratings)
    assert list(frame.columns[:3]) == ["record_id", "redcap_repeat_instrument", "redcap_repeat_instance"]
    rows = frame.to_dict("records")
    assert [(r["record_id"], r["redcap_repeat_instrument"], r["redcap_repeat_instance"]) for r in rows] == [
        ("BOU-002", "", ""), ("BOU-002", "prt_fidelity", "1"), ("BOU-002", "prt_fidelity", "2"), ("BOU-009", "", "")]
    main = rows[0]
    assert (main["prt_eval_done"], main["prt_eval_red_flag"], main["prt_eval_factors"]) == ("1", "0", "2")
    assert (main["prt_eval_formulation"], main["prt_eval_referral"]) == ("2", "1")     # mixed, refer
    assert [main[f"prt_sessions___{n}"] for n in range(1, 9)] == ["1", "1", "1", "0", "1", "0", "0", "0"]
    assert main["prt_sessions_n"] == "4"
    assert (main["prt_practice_n"], main["prt_practice_min"], main["prt_practice_days"]) == ("3", "30", "2")
    assert (main["prt_track_rated"], main["prt_track_pain_chg"], main["prt_track_fear_chg"]) == ("2", "-1.5", "-1.5")
    assert (main["prt_exp_steps"], main["prt_exp_attempts"], main["prt_exp_mastered"]) == ("2", "2", "1")
    assert (main["prt_exp_suggest"], main["prt_exp_pain_surp"]) == ("3", "4")           # advance; 6 - 2
    assert (main["prt_fid_n"], main["prt_fid_mean"]) == ("2", "5")                       # (6 + 4) / 2
    assert main["prt_fid_session"] == "" and main["prt_fe_education"] == ""
    first, second = rows[1], rows[2]                                                    # ordered by session
    assert (first["prt_fid_session"], first["prt_fid_rater"], first["prt_fid_score"]) == ("2", "R1", "6")
    assert (second["prt_fid_session"], second["prt_fid_score"], second["prt_fe_positive_states"]) == ("5", "4", "0")
    assert second["prt_sessions_n"] == "" and second["prt_eval_done"] == ""
    empty = rows[3]
    assert (empty["prt_eval_done"], empty["prt_sessions_n"], empty["prt_practice_n"]) == ("0", "0", "0")
    assert (empty["prt_eval_referral"], empty["prt_exp_steps"], empty["prt_fid_mean"]) == ("", "", "")


def test_a_longitudinal_project_gets_the_event_and_its_mapping(programs, ratings):
    tables = export_tables(programs, ratings, event="post")
    assert set(tables["records"]["redcap_event_name"]) == {"t2_arm_1"}
    assert list(tables["records"].columns[:4]) == ["record_id", "redcap_event_name", "redcap_repeat_instrument",
                                                   "redcap_repeat_instance"]
    assert tables["instrument_event_mapping"].to_dict("records") == [
        {"arm_num": 1, "unique_event_name": "t2_arm_1", "form": "prt_program"},
        {"arm_num": 1, "unique_event_name": "t2_arm_1", "form": "prt_fidelity"}]
    assert tables["repeating_forms"].to_dict("records") == [
        {"event_name": "t2_arm_1", "form_name": "prt_fidelity", "custom_form_label": "Session [prt_fid_session]"}]
    with pytest.raises(InputError, match="event 'week 3': expected a timepoint"):
        export_tables(programs, ratings, event="week 3")


def test_write_export_writes_every_table_and_reads_back(tmp_path, programs, ratings):
    paths = write_export(tmp_path / "out", programs, ratings)
    assert sorted(p.name for p in paths.values()) == ["data_dictionary.csv", "records.csv", "repeating_forms.csv"]
    with open(paths["records"], newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert rows[0]["prt_track_pain_chg"] == "-1.5"   # a negative number keeps its sign (not a formula)
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("x")
    with pytest.raises(InputError, match="a non-empty directory that prt did not write"):
        write_export(tmp_path / "mine", programs, ratings)


def test_therapist_codes_cannot_become_formulas(tmp_path, programs):
    # codes are checked at the source; a code never starts with = + - @
    with pytest.raises(InputError, match="key 'therapist': expected a short code"):
        SessionRating.from_dict({"therapist": "=HYPERLINK(1)", "participant": "BOU-002", "session": 1,
                                 "elements": dict.fromkeys(ALL, True)})


@pytest.mark.parametrize("make, expected", [
    (lambda p, r: ([*p, p[0]], r), "participant 'BOU-002' is given twice"),
    (lambda p, r: (p, [*r, SessionRating("T1", "BOU-404", 1, "", ())]), "participant 'BOU-404', who is not among"),
    (lambda p, r: ([ParticipantProgram("X", (0,))], []), "sessions attended must be distinct numbers 1-8"),
    (lambda p, r: ([ParticipantProgram("X", (2, 2))], []), "sessions attended must be distinct"),
    (lambda p, r: ([ParticipantProgram("X", attempts=p[0].attempts)], []), "exposure attempts without a hierarchy"),
    (lambda p, r: (["BOU-002"], []), "expected ParticipantProgram records"),
])
def test_inconsistent_exports_are_refused(programs, ratings, make, expected):
    participants, rated = make(programs, ratings)
    with pytest.raises(InputError, match=re.escape(expected)):
        program_records(participants, rated)


def test_a_sites_curriculum_carries_into_the_dictionary(curriculum):
    site = curriculum.with_site({"site": "x", "fidelity": {"elements": [
        {"id": "exposure", "number": 7, "title": "Graded exposure practised in session"}],
        "reference": {"mean": 5.0}}}, "site x.yaml")
    names = list(program_dictionary(site)["Variable / Field Name"])
    assert "prt_fe_exposure" in names
    fields = program_dictionary(site).set_index("Variable / Field Name")
    assert fields.loc["prt_fid_score", "Text Validation Max"] == "7"
