"""The patient's program records: evidence sheet, somatic tracking and home practice, physician
evaluation - known answers, the declared rules at their boundaries, and refusals that never repeat
the patient's words."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prt.errors import InputError
from prt.program.evaluation import PhysicianEvaluation, evaluate
from prt.program.evidence import EvidenceSheet, summarize_evidence
from prt.program.tracking import Practice, phase_at, summarize_practice, tool_for_pain, tracking_cues

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SECRET = "my sister Jane Doe"  # stands for a patient's words: must never reach a message


# ---- evidence sheet --------------------------------------------------------------------------------

@pytest.mark.parametrize("kinds, strength", [(0, "none yet"), (1, "some"), (2, "some"), (3, "strong"),
                                             (4, "strong"), (5, "very strong")])
def test_strength_counts_kinds_with_examples_against_the_declared_bands(curriculum, kinds, strength):
    ids = [item.id for item in curriculum.evidence.items]
    sheet = {kind: ["one", "two"] for kind in ids[:kinds]}
    summary = summarize_evidence(sheet)
    assert (summary.kinds_with_examples, summary.examples, summary.strength) == (kinds, 2 * kinds, strength)
    assert summary.missing == tuple(ids[kinds:])
    assert "prt's own rule" in summary.rule


def test_many_examples_of_one_kind_are_still_one_kind():
    summary = summarize_evidence({"triggers": [f"example {i}" for i in range(20)]})
    assert (summary.kinds_with_examples, summary.examples, summary.strength) == (1, 20, "some")
    assert SECRET not in str(summary.to_dict())


def test_blank_examples_are_dropped_and_the_sheet_keeps_every_kind():
    sheet = EvidenceSheet.from_dict({"inconsistency": ["  ", " better on holiday ", ""], "triggers": None})
    assert sheet.examples["inconsistency"] == ("better on holiday",)
    assert list(sheet.examples) == ["onset_stress_or_no_injury", "inconsistency", "many_symptoms", "triggers",
                                    "trigger_without_pain"]
    assert EvidenceSheet.from_dict(sheet.to_dict()) == sheet


@pytest.mark.parametrize("data, expected", [
    ({"dreams": ["x"]}, "evidence sheet: 'dreams' is not an evidence kind; known: onset_stress_or_no_injury"),
    ({SECRET: ["x"]}, "evidence sheet: a key is not an evidence kind"),
    ({"triggers": SECRET}, "key 'triggers': expected a list of examples"),
    ({"triggers": [3]}, "key 'triggers[0]': expected text"),
    ({"triggers": ["x" * 501]}, "key 'triggers[0]': expected at most 500 characters"),
    ({"triggers": ["a\x1b[2Jb"]}, "key 'triggers[0]': holds control characters"),
    ({"triggers": ["x"] * 21}, "key 'triggers': expected at most 20 examples"),
    (["triggers"], "expected a mapping"),
])
def test_a_bad_sheet_is_refused_without_the_patients_words(data, expected):
    with pytest.raises(InputError) as exc:
        EvidenceSheet.from_dict(data)
    assert expected in str(exc.value)
    assert SECRET not in str(exc.value)


# ---- somatic tracking ----------------------------------------------------------------------------

def test_the_guided_sequence_is_timed_phase_after_phase(curriculum):
    cues = tracking_cues()
    assert [(c.phase, c.start, c.end) for c in cues] == [("attend", 0, 120), ("reappraise", 120, 210),
                                                         ("positive", 210, 300)]
    assert cues[-1].end == curriculum.tracking.seconds == 300
    assert phase_at(0).phase == "attend" and phase_at(119.9).phase == "attend"
    assert phase_at(120).phase == "reappraise" and phase_at(299).phase == "positive"
    assert phase_at(300) is None
    for bad in (-1, float("nan"), True, "10"):
        with pytest.raises(InputError, match="seconds: expected a number of seconds >= 0"):
            phase_at(bad)


@pytest.mark.parametrize("pain, tool, high", [(0, "somatic_tracking", False), (6, "somatic_tracking", False),
                                              (7, "calm_first", True), (10, "calm_first", True)])
def test_which_tool_at_high_versus_low_pain(pain, tool, high):
    advice = tool_for_pain(pain)
    assert (advice.tool, advice.high, advice.pain) == (tool, high, pain)
    assert "not the trial's" in advice.rule


@pytest.mark.parametrize("pain", [-1, 11, 6.5, True, "7", None])
def test_pain_outside_0_to_10_is_refused(pain):
    with pytest.raises(InputError, match="pain level: key 'pain': expected a whole number 0-10"):
        tool_for_pain(pain)


def _tracking(day, before, after, fear_before, fear_after, minutes=10):
    return Practice.from_dict({"day": day, "assignment": "tracking_practice", "minutes": minutes,
                               "pain_before": before, "pain_after": after, "fear_before": fear_before,
                               "fear_after": fear_after, "setting": "seated"})


def test_practice_summary_known_answer():
    practices = [
        _tracking("2026-03-02", 6, 4, 5, 2),
        _tracking("2026-03-02", 5, 5, 4, 4, minutes=15),
        _tracking(date(2026, 3, 3), 7, 3, 6, 3),
        Practice.from_dict({"day": "2026-03-04", "assignment": "savour_pleasant", "minutes": 5}),
    ]
    s = summarize_practice(practices)
    assert (s.practices, s.minutes, s.days, s.rated) == (4, 40, 3, 3)
    assert s.mean_pain_change == pytest.approx((-2 + 0 - 4) / 3)   # -2.0
    assert s.mean_fear_change == pytest.approx((-3 + 0 - 3) / 3)   # -2.0
    assert [(a.id, a.practices, a.minutes) for a in s.by_assignment] == [("savour_pleasant", 1, 5),
                                                                        ("tracking_practice", 3, 35)]
    assert summarize_practice([]).mean_pain_change is None
    assert Practice.from_dict(practices[0].to_dict()) == practices[0]


@pytest.mark.parametrize("change, expected", [
    ({"pain_after": None}, "key 'pain_after': is required (a whole number 0-10)"),
    ({"fear_before": 11}, "key 'fear_before': expected a whole number 0-10"),
    ({"assignment": "jogging"}, "key 'assignment': unknown assignment; known: read_education"),
    ({"minutes": 0}, "key 'minutes': expected a whole number 1-240"),
    ({"day": "2026-02-30"}, "key 'day': expected a date YYYY-MM-DD"),
    ({"day": "yesterday"}, "key 'day': expected a date YYYY-MM-DD"),
    ({"setting": "standing"}, "key 'setting': expected one of seated, movement"),
    ({"note": SECRET}, "key 'note': unknown key"),
])
def test_a_bad_practice_is_refused(change, expected):
    data = {"day": "2026-03-02", "assignment": "tracking_practice", "minutes": 10, "pain_before": 5,
            "pain_after": 3, "fear_before": 4, "fear_after": 2, **change}
    data = {k: v for k, v in data.items() if v is not None}
    with pytest.raises(InputError) as exc:
        Practice.from_dict(data)
    assert expected in str(exc.value) and SECRET not in str(exc.value)


def test_ratings_of_other_practice_come_in_pairs():
    ok = Practice.from_dict({"day": "2026-03-02", "assignment": "feared_movement", "minutes": 5,
                             "pain_before": 4, "pain_after": 2})
    assert ok.pain_change == -2 and ok.fear_change is None
    with pytest.raises(InputError, match="key 'fear_after': give fear before and after together"):
        Practice.from_dict({"day": "2026-03-02", "assignment": "feared_movement", "minutes": 5, "fear_before": 4})


# ---- physician evaluation -----------------------------------------------------------------------------

CLEAR = {flag: False for flag in ("tumour", "fracture", "infection", "inflammatory_disease", "neurological_deficit")}


@pytest.mark.parametrize("flags, formulation, referral", [
    (CLEAR, "centralized", "refer"),
    (CLEAR, "mixed", "refer"),
    (CLEAR, "structural", "not_indicated"),
    ({**CLEAR, "fracture": True}, "centralized", "blocked"),
    ({**CLEAR, "infection": True}, "structural", "blocked"),
    ({**CLEAR, "tumour": True}, None, "blocked"),
    ({**CLEAR, "neurological_deficit": None}, "centralized", "incomplete"),
    (CLEAR, None, "incomplete"),
    ({}, "centralized", "incomplete"),
])
def test_a_red_flag_blocks_referral_and_an_unassessed_one_is_never_assumed_absent(flags, formulation, referral):
    result = evaluate(PhysicianEvaluation.from_dict({"red_flags": flags, "formulation": formulation}))
    assert result.referral == referral
    assert result.referred == (referral == "refer")
    assert result.red_flags_found == tuple(k for k, v in flags.items() if v is True)


def test_the_evaluation_record_counts_its_four_steps(curriculum):
    record = PhysicianEvaluation.from_dict({
        "red_flags": CLEAR, "formulation": "centralized",
        "imaging": {"reviewed": True, "findings": ["disc_bulge", "facet_degeneration"], "explained": True},
        "education": ["pain_as_prediction", "pain_fear_focus_cycle"],
        "factors": {"stressful_onset": True, "inconsistency": True, "body_map": False}})
    result = evaluate(record)
    assert result.factors_present == ("stressful_onset", "inconsistency")
    assert result.factors_total == 6 and len(result.factors_unassessed) == 3
    assert result.education_missing == ("real_not_blameworthy",)
    assert result.imaging_findings == 2
    assert PhysicianEvaluation.from_dict(record.to_dict()) == record
    conflict = evaluate(PhysicianEvaluation.from_dict({**record.to_dict(), "red_flags": {**CLEAR, "tumour": True}}))
    assert conflict.referral == "blocked" and "conflicts with the red flag" in conflict.reasons[1]


@pytest.mark.parametrize("data, expected", [
    ({"red_flags": {"cancer": True}}, "'cancer' is not declared; known: tumour"),
    ({"red_flags": {"fracture": "yes"}}, "key 'red_flags.fracture': expected true, false or null"),
    ({"factors": {"stress": True}}, "'stress' is not declared"),
    ({"formulation": "psychological"}, "key 'formulation': expected one of centralized, mixed, structural"),
    ({"imaging": {"findings": ["disc_bulge"]}}, "key 'imaging.reviewed': findings and whether they were explained"),
    ({"imaging": {"reviewed": True, "findings": ["tumour"]}}, "key 'imaging.findings': unknown finding 'tumour'"),
    ({"education": ["pain_as_prediction", "pain_as_prediction"]}, "lists topic 'pain_as_prediction' twice"),
    ({"notes": SECRET}, "key 'notes': unknown key"),
])
def test_a_bad_evaluation_is_refused(data, expected):
    with pytest.raises(InputError) as exc:
        PhysicianEvaluation.from_dict(data)
    assert expected in str(exc.value) and SECRET not in str(exc.value)


# ---- fuzz: any input gives a record or one InputError line ------------------------------------------

scalars = (st.none() | st.booleans() | st.integers(-2, 12) | st.integers() | st.floats() | st.text(max_size=8)
           | st.sampled_from(["2026-03-02", "tracking_practice", "seated", SECRET, "centralized", "fracture"]))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                      | st.dictionaries(st.text(max_size=6) | st.sampled_from(
                          ["day", "assignment", "minutes", "pain_before", "pain_after", "triggers", "red_flags",
                           "fracture", "reviewed", "findings", "formulation", "imaging"]), inner, max_size=4),
                      max_leaves=12)


def _one_line_or_record(call, data, kind):
    try:
        record = call(data)
    except InputError as exc:
        assert "\n" not in str(exc) and SECRET not in str(exc)
        return
    assert isinstance(record, kind)
    assert call(record.to_dict()) == record


@FUZZ
@given(data=values)
def test_any_evidence_sheet_input(data):
    _one_line_or_record(EvidenceSheet.from_dict, data, EvidenceSheet)


@FUZZ
@given(data=values | st.fixed_dictionaries(
    {"day": scalars, "assignment": st.sampled_from(["tracking_practice", "feared_movement", "x"]),
     "minutes": scalars}, optional={k: scalars for k in ("pain_before", "pain_after", "fear_before", "fear_after",
                                                         "setting")}))
def test_any_practice_input(data):
    _one_line_or_record(Practice.from_dict, data, Practice)


@FUZZ
@given(data=values | st.fixed_dictionaries({}, optional={
    "red_flags": st.dictionaries(st.sampled_from([*CLEAR, "x"]), st.none() | st.booleans() | scalars),
    "factors": st.dictionaries(st.sampled_from(["body_map", "inconsistency", "x"]), st.none() | st.booleans()),
    "imaging": values, "education": values, "formulation": scalars}))
def test_any_evaluation_input(data):
    _one_line_or_record(PhysicianEvaluation.from_dict, data, PhysicianEvaluation)
    try:
        record = PhysicianEvaluation.from_dict(data)
    except InputError:
        return
    result = evaluate(record)
    assert (result.referral == "blocked") == any(v is True for v in record.red_flags.values())
