"""Eligibility: each criterion's boundary, all reasons reported, incomplete screens, site rules, log."""

from __future__ import annotations

import pytest

from prt.errors import InputError
from prt.trial.eligibility import (
    ScreeningLog,
    append_screenings,
    default_rules,
    load_rules,
    read_screening_log,
    record_enrolment,
    screen,
    screen_table,
)

OK = {"age": 45, "back_pain_half_days_6mo": "yes", "pain_avg_week": 6, "back_pain_intensity": 7,
      "leg_pain_intensity": 2, "mri_safe": "yes", "autoimmune_condition": "no", "metastatic_cancer_history": "no"}


def with_(**changes):
    return {**OK, **changes}


def test_default_rules_are_the_trials_seven_criteria():
    codes = [r.code for r in default_rules().active]
    assert codes == ["age_out_of_range", "pain_days_below_half", "pain_intensity_below_4", "leg_pain_not_exceeded",
                     "mri_unsafe", "autoimmune_condition", "metastatic_cancer_history"]


def test_eligible():
    result = screen("r1", OK)
    assert (result.status, result.reasons, result.missing) == ("eligible", (), ())


@pytest.mark.parametrize("changes, code", [
    ({"age": 20}, "age_out_of_range"), ({"age": 71}, "age_out_of_range"), ({"age": 70.5}, "age_out_of_range"),
    ({"back_pain_half_days_6mo": "no"}, "pain_days_below_half"),
    ({"pain_avg_week": 3.9}, "pain_intensity_below_4"),
    ({"back_pain_intensity": 5, "leg_pain_intensity": 5}, "leg_pain_not_exceeded"),
    ({"back_pain_intensity": 4, "leg_pain_intensity": 6}, "leg_pain_not_exceeded"),
    ({"mri_safe": 0}, "mri_unsafe"), ({"autoimmune_condition": True}, "autoimmune_condition"),
    ({"metastatic_cancer_history": "1"}, "metastatic_cancer_history"),
])
def test_each_rule_fails_with_its_code(changes, code):
    result = screen("r1", with_(**changes))
    assert result.status == "ineligible" and result.reasons == (code,)


@pytest.mark.parametrize("changes", [{"age": 21}, {"age": 70}, {"pain_avg_week": 4},
                                     {"back_pain_intensity": 5, "leg_pain_intensity": 4.9}])
def test_boundaries_are_inclusive_where_the_criterion_says_so(changes):
    assert screen("r1", with_(**changes)).status == "eligible"


def test_all_failed_rules_are_reported():
    result = screen("r1", with_(age=75, mri_safe="no", autoimmune_condition="yes"))
    assert result.reasons == ("age_out_of_range", "mri_unsafe", "autoimmune_condition")


def test_missing_answers_make_an_incomplete_screen_naming_the_fields():
    answers = with_(pain_avg_week="", leg_pain_intensity=None)
    del answers["mri_safe"]
    result = screen("r1", answers)
    assert result.status == "incomplete"
    assert result.missing == ("pain_avg_week", "leg_pain_intensity", "mri_safe")


def test_a_failed_answer_is_ineligible_even_with_others_missing():
    result = screen("r1", with_(age=80, mri_safe=float("nan")))
    assert result.status == "ineligible" and result.reasons == ("age_out_of_range",)
    assert result.missing == ("mri_safe",)


def test_bad_answers_name_the_record_and_field():
    with pytest.raises(InputError, match="'r7'.*'age'.*number"):
        screen("r7", with_(age="forty"))
    with pytest.raises(InputError, match="'r7'.*'mri_safe'.*yes/no"):
        screen("r7", with_(mri_safe="maybe"))


def test_site_rules_override_add_and_disable(tmp_path):
    site = tmp_path / "site.yaml"
    site.write_text(
        "site: denver\nrules:\n"
        "  - {code: age_out_of_range, min: 18}\n"
        "  - {code: mri_unsafe, enabled: false}\n"
        "  - {code: pregnant, field: pregnant, check: is_false, description: not pregnant}\n")
    rules = load_rules(site=site)
    assert "denver" in rules.version
    assert screen("r1", with_(age=19, mri_safe="no", pregnant="no"), rules).status == "eligible"
    assert screen("r1", with_(age=17, pregnant="yes"), rules).reasons == ("age_out_of_range", "pregnant")
    assert screen("r1", OK, rules).missing == ("pregnant",)


def test_bad_rule_files_are_refused(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules:\n  - {code: x, field: y, check: between, min: 1}\n")
    with pytest.raises(InputError, match="'x'.*max"):
        load_rules(bad)
    bad.write_text("rules:\n  - {code: x, field: y, check: sometimes}\n")
    with pytest.raises(InputError, match="check must be one of"):
        load_rules(bad)
    bad.write_text("rules:\n  - {code: z, field: y}\n")
    with pytest.raises(InputError, match="missing check"):
        load_rules(site=bad)


def test_screen_table_needs_ids():
    assert [r.status for r in screen_table([{**OK, "participant": "a"}, {**with_(age=5), "participant": "b"}])] == [
        "eligible", "ineligible"]
    with pytest.raises(InputError, match="row 1"):
        screen_table([OK])


def test_screening_log_round_trip_latest_wins_and_enrolment(tmp_path):
    log = tmp_path / "s.jsonl"
    append_screenings(log, [screen("a", with_(pain_avg_week="")), screen("b", with_(age=90)), screen("c", OK)])
    append_screenings(log, [screen("a", OK)])
    record_enrolment(log, "a", True)
    record_enrolment(log, "c", False, "declined")
    read = read_screening_log(log)
    assert isinstance(read, ScreeningLog)
    assert [read.status(p) for p in "abcd"] == ["eligible", "ineligible", "eligible", "not screened"]
    assert read.enrolled("a") and not read.enrolled("c") and read.enrolments["c"].reason == "declined"
    with pytest.raises(InputError, match="'b'.*'ineligible'"):
        record_enrolment(log, "b", True)
    with pytest.raises(InputError, match="'a'.*reason"):
        record_enrolment(log, "a", False)
