"""The packaged curriculum: its content against the protocol notes, the validation rules, and bad
files refused with errors naming the file and the key."""

from __future__ import annotations

import dataclasses

import pytest
import yaml

from prt.errors import InputError
from prt.program.curriculum import Curriculum, default_curriculum, load_curriculum
from prt.trial.schedule import TRIAL_EVENTS


# ---- the packaged curriculum, against the protocol notes ------------------------------------------

def test_five_components_in_the_protocols_order_with_core_first(curriculum):
    assert [(c.number, c.id, c.phase) for c in curriculum.components] == [
        (1, "education", "core"), (2, "evidence", "core"), (3, "somatic_tracking", "core"),
        (4, "emotional_threats", "as_needed"), (5, "positive_states", "as_needed")]
    assert all(curriculum.steps_of(c.id) for c in curriculum.components)


def test_eight_sessions_of_an_hour_education_evidence_and_tracking_first_then_back_to_sensations(curriculum):
    assert [s.number for s in curriculum.sessions] == list(range(1, 9))
    assert {s.minutes for s in curriculum.sessions} == {60}
    assert curriculum.session_components(1) == ("education", "evidence")
    assert "somatic_tracking" in curriculum.session_components(2)
    for number in (1, 2, 3):  # no as-needed component before every core one is introduced (session 2)
        extra = set(curriculum.session_components(number, as_needed=True))
        assert not extra & {"emotional_threats", "positive_states"}
    assert "emotional_threats" in curriculum.session_components(5, as_needed=True)
    assert "positive_states" in curriculum.session_components(6, as_needed=True)
    assert "somatic_tracking" in curriculum.session_components(8)


def test_as_needed_steps_are_never_planned_for_everyone(curriculum):
    for plan in curriculum.sessions:
        for step_id in plan.steps:
            assert curriculum.component(curriculum.step(step_id).component).phase == "core"


def test_every_step_and_assignment_is_delivered_somewhere(curriculum):
    used = {s for p in curriculum.sessions for s in p.steps + p.as_needed}
    assert used == {s.id for s in curriculum.steps}
    assert {a for p in curriculum.sessions for a in p.assignments} == {a.id for a in curriculum.assignments}


def test_home_practice_covers_the_protocols_four_kinds(curriculum):
    kinds = {a.kind for a in curriculum.assignments}
    assert {"review_education", "somatic_tracking", "positive_sensations", "feared_movement"} <= kinds
    assert [a.id for a in curriculum.assignments_of(4)] == ["tracking_practice", "feared_movement"]


def test_fidelity_evaluation_and_tracking_declare_the_trials_numbers(curriculum):
    f = curriculum.fidelity
    assert [e.id for e in f.elements] == ["education", "evidence", "somatic_tracking", "emotions",
                                          "positive_states", "home_practice"]
    assert (f.reference.mean, f.reference.sd, f.reference.minimum) == (4.93, 0.87, 3)
    assert (f.patient_fraction, f.sessions_per_patient) == (0.5, 2)
    v = curriculum.evaluation
    assert [c.id for c in v.red_flags] == ["tumour", "fracture", "infection", "inflammatory_disease",
                                           "neurological_deficit"]
    assert len(v.factors) == 6 and len(v.education) == 3
    assert [p.id for p in curriculum.tracking.phases] == ["attend", "reappraise", "positive"]


def test_control_arms_placebo_visit_and_usual_care_workbook_after_posttreatment(curriculum):
    placebo, usual = curriculum.control_arm("placebo"), curriculum.control_arm("usual_care")
    events = {e.name for e in TRIAL_EVENTS}
    assert placebo.event in events and usual.event in events   # the schedule delivers them
    assert [i.id for i in placebo.available()] == [i.id for i in placebo.items]
    assert [i.id for i in usual.available(["eligibility", "pre"])] == ["continue_usual_care"]
    assert [i.id for i in usual.available(["pre", "post"])] == ["continue_usual_care", "workbook",
                                                                 "self_help_website"]
    assert [i.id for i in usual.available("post")] == [i.id for i in usual.available(["post"])]  # one timepoint
    assert "inert" in placebo.text or "no active drug" in placebo.text
    with pytest.raises(InputError, match="unknown arm 'prt'"):
        curriculum.control_arm("prt")


def test_handouts_are_loaded_markdown(curriculum):
    texts = curriculum.texts()
    assert len(texts) == 7
    assert all(t.startswith("# ") for t in texts.values())
    assert curriculum.component("education").text_file == "education.md"
    assert "pain-fear cycle" in curriculum.component("education").text.lower()


def test_round_trip_through_plain_data(curriculum):
    again = Curriculum.from_dict(curriculum.to_dict(), "copy", curriculum.texts())
    assert again == curriculum
    assert again.to_dict() == curriculum.to_dict()
    assert default_curriculum() is curriculum  # validated once


def test_lookups_name_the_unknown_id(curriculum):
    with pytest.raises(InputError, match="unknown step 'nope'; known: pain_from_brain"):
        curriculum.step("nope")
    with pytest.raises(InputError, match="unknown session '9'"):
        curriculum.session(9)
    with pytest.raises(dataclasses.FrozenInstanceError):
        curriculum.title = "x"


# ---- validation: a bad curriculum is refused naming the key ---------------------------------------

def _session(spec, number):
    return next(s for s in spec["sessions"] if s["number"] == number)


def _step(spec, step_id):
    return next(s for s in spec["steps"] if s["id"] == step_id)


BAD = {
    "unknown top key": (lambda s: s.update(colour="blue"), "key 'colour': unknown key"),
    "missing section": (lambda s: s.pop("exposure"), "key 'exposure': is required"),
    "unknown step in a session": (lambda s: _session(s, 2)["steps"].append("nope"),
                                  "key 'sessions[2].steps': unknown step 'nope'"),
    "step twice in a session": (lambda s: _session(s, 2)["steps"].append("evidence_gather"),
                                "lists step 'evidence_gather' twice"),
    "as-needed step planned for everyone": (lambda s: _session(s, 5)["steps"].append("gratitude"),
                                            "list it under as_needed"),
    "as-needed before the core": (lambda s: _session(s, 1).update(as_needed=["difficult_emotions"]),
                                  "key 'sessions[1].as_needed': step 'difficult_emotions' of an as-needed"),
    "step both planned and as needed": (lambda s: _session(s, 4)["as_needed"].append("tracking_seated"),
                                        "also planned in steps"),
    "last session leaves sensations": (lambda s: _session(s, 8).update(steps=["evidence_review", "setbacks"]),
                                       "key 'sessions[8].steps': the last session must plan a step of"),
    "session numbers with a gap": (lambda s: _session(s, 8).update(number=9),
                                   "key 'sessions': numbers must run 1 to 8"),
    "session number repeated": (lambda s: _session(s, 8).update(number=7), "declares number '7' more than once"),
    "a step no session plans": (lambda s: _session(s, 8)["steps"].remove("setbacks"),
                                "key 'steps[setbacks]': no session plans this step"),
    "an assignment no session sets": (lambda s: [p.update(assignments=[a for a in p["assignments"]
                                                                       if a != "savour_pleasant"])
                                                 for p in s["sessions"]],
                                      "key 'assignments[savour_pleasant]': no session sets"),
    "a core component no session plans": (
        lambda s: (s["steps"].append({"id": "x1", "component": "education", "title": "t", "summary": "s"}),
                   s["components"].append({"id": "extra", "number": 6, "phase": "core", "title": "t",
                                           "summary": "s"}),
                   s["steps"].append({"id": "x2", "component": "extra", "title": "t", "summary": "s"}),
                   _session(s, 8)["as_needed"].append("x1")),
        "key 'components[extra]': no session plans a step of this core component"),
    "duplicate step id": (lambda s: s["steps"].append(dict(_step(s, "pain_is_real"))),
                          "key 'steps': declares id 'pain_is_real' more than once"),
    "step of an unknown component": (lambda s: _step(s, "setbacks").update(component="physio"),
                                     "key 'steps[setbacks].component': unknown component 'physio'"),
    "unknown phase": (lambda s: s["components"][0].update(phase="optional"),
                      "key 'components[education].phase': expected one of core, as_needed"),
    "component numbers": (lambda s: s["components"][0].update(number=7),
                          "key 'components': numbers must run 1 to 5"),
    "id with capitals": (lambda s: _step(s, "setbacks").update(id="SetBacks"),
                         "key 'steps[4].id': expected a lower-case id"),
    "assignment kind": (lambda s: s["assignments"][0].update(kind="reading"),
                        "key 'assignments[read_education].kind': expected one of review_education"),
    "minutes as text": (lambda s: s["assignments"][0].update(minutes="10"),
                        "key 'assignments[read_education].minutes': expected a whole number 1-240"),
    "minutes as true": (lambda s: s["assignments"][0].update(minutes=True), "expected a whole number 1-240"),
    "closing component unknown": (lambda s: s.update(closing_component="yoga"),
                                  "key 'closing_component': unknown component 'yoga'"),
    "bands with a gap": (lambda s: s["evidence"]["strength"]["bands"][1].update(min=2),
                         "key 'evidence.strength.bands[1]': bands must cover 0 to 5"),
    "bands short of the kinds": (lambda s: s["evidence"]["strength"]["bands"].pop(),
                                 "key 'evidence.strength.bands': bands must end at 5"),
    "evidence kind without a prompt": (lambda s: s["evidence"]["items"][0].pop("prompt"),
                                       "key 'evidence.items[onset_stress_or_no_injury].prompt': is required"),
    "tracking phase too short": (lambda s: s["somatic_tracking"]["phases"][0].update(seconds=2),
                                 "key 'somatic_tracking.phases[attend].seconds': expected a whole number 10-1800"),
    "same tool high and low": (lambda s: s["somatic_tracking"]["tool_by_pain"]["high"].update(tool="somatic_tracking"),
                               "high and low name the same tool"),
    "hold off below the floor": (lambda s: s["exposure"].update(hold_off_at=2),
                                 "key 'exposure.hold_off_at': must be above fear_floor"),
    "fear fraction zero": (lambda s: s["exposure"].update(fear_fraction=0),
                           "key 'exposure.fear_fraction': expected a number above 0 to 1"),
    "fidelity mean above the elements": (lambda s: s["fidelity"]["reference"].update(mean=7),
                                         "key 'fidelity.reference.mean': expected a number 0 to 6"),
    "fidelity element of an unknown component": (
        lambda s: s["fidelity"]["elements"][0].update(component="physio"),
        "key 'fidelity.elements[education].component': unknown component 'physio'"),
    "more sessions per patient than sessions": (lambda s: s["fidelity"]["sample"].update(sessions_per_patient=9),
                                                "key 'fidelity.sample.sessions_per_patient': expected a whole "
                                                "number 1-8"),
    "a control arm for prt": (lambda s: s["control_arms"][0].update(arm="prt"),
                              "key 'control_arms[0].arm': expected one of placebo, usual_care"),
    "release after an unknown timepoint": (lambda s: s["control_arms"][1]["items"][1].update(release_after="later"),
                                           "key 'control_arms[usual_care].items[workbook].release_after'"),
    "empty red flags": (lambda s: s["physician_evaluation"].update(red_flags=[]),
                        "key 'physician_evaluation.red_flags': expected 1 to 30 entries, got 0"),
    "missing text file": (lambda s: s["components"][0].update(text="nope.md"),
                          "key 'components[education].text': text file 'nope.md' was not found"),
    "text in another folder": (lambda s: s["components"][0].update(text="../secret.md"),
                               "key 'components[education].text': expected a Markdown file name"),
    "summary with a line break": (lambda s: s["components"][0].update(summary="a\nb"),
                                  "key 'components[education].summary': expected one line"),
    "not a mapping": (lambda s: s.clear() or s.update(components=[1]), "is required"),
}


@pytest.mark.parametrize("change, expected", BAD.values(), ids=list(BAD))
def test_a_bad_curriculum_is_refused_naming_the_key(spec, texts, change, expected):
    change(spec)
    with pytest.raises(InputError) as exc:
        Curriculum.from_dict(spec, "curriculum site.yaml", texts)
    message = str(exc.value)
    assert message.startswith("curriculum site.yaml: key '") or message.startswith("curriculum site.yaml: ")
    assert expected in message
    assert "\n" not in message


def test_a_top_level_that_is_not_a_mapping(texts):
    with pytest.raises(InputError, match=r"^c\.yaml: key '<top>': expected a mapping, got a list$"):
        Curriculum.from_dict([1, 2], "c.yaml", texts)


# ---- files ---------------------------------------------------------------------------------------

def _write_whole(tmp_path, curriculum, **changes):
    spec = {**curriculum.to_dict(), **changes}
    path = tmp_path / "whole.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    for ref, text in curriculum.texts().items():
        (tmp_path / ref).write_text(text, encoding="utf-8")
    return path


def test_a_whole_curriculum_file_with_its_markdown_beside_it(tmp_path, curriculum):
    path = _write_whole(tmp_path, curriculum, title="Our own")
    (tmp_path / "education.md").write_text("# Ours\n", encoding="utf-8")
    loaded = load_curriculum(path)
    assert loaded.title == "Our own" and loaded.component("education").text == "# Ours\n"
    assert loaded.origin == f"curriculum {path}"


def test_file_errors_name_the_file(tmp_path, curriculum):
    path = _write_whole(tmp_path, curriculum)
    (tmp_path / "placebo.md").unlink()
    with pytest.raises(InputError, match=rf"curriculum {path}: key 'control_arms\[0\]\.text': text file "
                                         r"'placebo.md' was not found beside the file"):
        load_curriculum(path)
    dup = tmp_path / "dup.yaml"
    dup.write_text("name: a\nname: b\n", encoding="utf-8")
    with pytest.raises(InputError, match=rf"curriculum file {dup}: not valid YAML at line 2.*appears more than once"):
        load_curriculum(dup)
    with pytest.raises(InputError, match="cannot be read"):
        load_curriculum(tmp_path / "absent.yaml")
    (tmp_path / "binary.md").write_bytes(b"\x00\x01")
    path = _write_whole(tmp_path, curriculum)
    text = path.read_text().replace("text: education.md", "text: binary.md")
    path.write_text(text)
    with pytest.raises(InputError, match="binary"):
        load_curriculum(path)
