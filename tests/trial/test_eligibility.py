"""Eligibility: each criterion's boundary, all reasons reported, incomplete screens, site rules, log,
answers checked against their declared ranges, the factor answers kept for allocation."""

from __future__ import annotations

import json
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prt.errors import InputError
from prt.trial import allocation_log
from prt.trial.minimization import TRIAL_CONFIG
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


# ----------------------------------------------------------------------------- declared ranges
@pytest.mark.parametrize("field, value, span", [
    ("pain_avg_week", 15, "0-10"), ("pain_avg_week", -1, "0-10"), ("back_pain_intensity", "11", "0-10"),
    ("leg_pain_intensity", 10.5, "0-10"), ("age", 130, "0-120"),
])
def test_answers_outside_their_declared_range_are_errors(field, value, span):
    """Pain 15 on a 0-10 item is not 'eligible': the range comes from the instrument definition."""
    with pytest.raises(InputError, match=f"record 'r7', field '{field}': outside the declared range {span}") as exc:
        screen("r7", with_(**{field: value}))
    assert str(value) not in str(exc.value).replace(span, "")


def test_the_pain_range_is_the_instruments():
    from prt.vocabulary import outcome_range

    ranges = default_rules().ranges
    assert (ranges["pain_avg_week"].min, ranges["pain_avg_week"].max) == outcome_range("pain_intensity")
    assert "bpi_sf" in ranges["pain_avg_week"].source


@pytest.mark.parametrize("value", ["4_5", "1e1", "45 years", "inf", "\u0664\u0665"])
def test_numbers_must_be_plain_decimals(value):
    with pytest.raises(InputError, match="'r7', field 'age': expected"):
        screen("r7", with_(age=value))


def test_site_files_can_declare_field_ranges_and_are_parsed_strictly(tmp_path):
    site = tmp_path / "site.yaml"
    site.write_text("site: denver\nfields:\n  age: {min: 18, max: 99}\n  pain_now: {outcome: pain_intensity}\n"
                    "rules:\n  - {code: pain_now_low, field: pain_now, check: at_least, min: 2}\n")
    rules = load_rules(site=site)
    with pytest.raises(InputError, match="'pain_now'.*0-10"):
        screen("r1", with_(pain_now=12), rules)
    with pytest.raises(InputError, match="'age'.*18-99"):
        screen("r1", with_(age=17), rules)
    site.write_text("site: denver\nsite: boulder\nrules: []\n")
    with pytest.raises(InputError, match="more than once"):
        load_rules(site=site)
    site.write_text("fields:\n  x: {instrument: nope}\nrules: []\n")
    with pytest.raises(InputError, match="unknown instrument"):
        load_rules(site=site)


# ----------------------------------------------------------------------------- factor answers kept
def test_an_eligible_screening_keeps_only_the_factor_answers():
    answers = with_(sex="female", opioid="no", weight=180)
    result = screen("r1", answers, factors=TRIAL_CONFIG.factors)
    assert result.answers == {"age": 45, "sex": "female", "pain_avg_week": 6, "opioid": "no"}
    assert result.to_dict()["answers"] == result.answers
    assert screen("r1", {**answers, "age": 80}, factors=TRIAL_CONFIG.factors).answers == {}
    assert "answers" not in screen("r1", with_(mri_safe=""), factors=TRIAL_CONFIG.factors).to_dict()
    with pytest.raises(InputError, match="'r1', field 'sex' \\(minimization factor 'sex'\\): expected one of"):
        screen("r1", with_(sex="F"), factors=TRIAL_CONFIG.factors)


def test_kept_answers_round_trip_through_the_log(tmp_path):
    log = tmp_path / "s.jsonl"
    append_screenings(log, [screen("a", with_(sex="male", opioid="yes"), factors=TRIAL_CONFIG.factors)])
    read = read_screening_log(log)
    assert read.answers("a") == {"age": 45, "sex": "male", "pain_avg_week": 6, "opioid": "yes"}
    assert read.answers("nobody") == {}


def test_a_duplicated_id_in_one_batch_is_an_error_naming_it():
    rows = [{**OK, "participant": "a"}, {**OK, "participant": "b"}, {**with_(age=20), "participant": " a "}]
    with pytest.raises(InputError, match="row 3: record 'a' appears again \\(first in row 1\\)"):
        screen_table(rows)
    with pytest.raises(InputError, match="row 12: record 'a' appears again \\(first in row 10\\)"):
        screen_table(rows, rows=[10, 11, 12])


def test_a_failed_append_leaves_no_file_and_no_partial_line(tmp_path, monkeypatch):
    log = tmp_path / "s.jsonl"
    real_write = os.write

    def half_write(fd, data):
        return real_write(fd, data[: len(data) // 2])

    monkeypatch.setattr(allocation_log.os, "write", half_write)
    with pytest.raises(OSError, match="short write"):
        append_screenings(log, [screen("a", OK), screen("b", OK)])
    assert not log.exists()                     # no 0-byte log left behind
    monkeypatch.setattr(allocation_log.os, "write", real_write)
    append_screenings(log, [screen("a", OK)])
    before = log.read_bytes()
    monkeypatch.setattr(allocation_log.os, "write", half_write)
    with pytest.raises(OSError):
        append_screenings(log, [screen("b", OK)])
    assert log.read_bytes() == before


def test_the_screening_log_is_parsed_strictly(tmp_path):
    log = tmp_path / "s.jsonl"
    log.write_text('{"type":"screening","participant":"a","status":"eligible","status":"ineligible"}\n')
    with pytest.raises(InputError, match="line 1.*'status' appears more than once"):
        read_screening_log(log)


@settings(max_examples=200, deadline=None)
@given(answers=st.dictionaries(
    st.sampled_from(list(OK) + ["sex", "opioid"]),
    st.one_of(st.none(), st.booleans(), st.integers(-1000, 1000), st.floats(allow_nan=True, allow_infinity=True),
              st.text(max_size=8), st.sampled_from(["yes", "no", "female", "male", "4_5", "1e1", "6.5"]))))
def test_screening_input_surface_fuzz(answers):
    """Any answers: a result whose kept answers are valid factor values, or an InputError."""
    try:
        result = screen("r1", answers, factors=TRIAL_CONFIG.factors)
    except InputError:
        return
    assert result.status in ("eligible", "ineligible", "incomplete")
    assert not result.answers or result.status == "eligible"
    by_field = {f.source_field: f for f in TRIAL_CONFIG.factors}
    for name, value in result.answers.items():
        by_field[name].value_of(value, "r1")


RULE = "rules:\n  - {code: a, field: age, check: between, min: 21, max: 70}\n"


@pytest.mark.parametrize(("text", "message"), [
    # issue 12 round 2: each was screened silently (or raised an OverflowError traceback)
    ("rules:\n  - {code: a, field: sex, check: one_of, values: female}\n", "'values' must be a list"),
    ("rules:\n  - {code: a, field: sex, check: one_of, values: [[female]]}\n", "'values' must be a name"),
    ("rules:\n  - {code: a, field: x, check: one_of, values: [yes, no]}\n", "'values' holds true/false"),
    (RULE + "  - {code: b, field: age, check: at_least, min: 99, enabled: 'false'}\n", "'enabled' must be true or false"),
    ("rules:\n  - {code: null, field: age, check: at_least, min: 3}\n", "'code' must be a name"),
    ("rules:\n  - {code: a, field: null, check: at_least, min: 3}\n", "'field' must be a name"),
    ("rules:\n  - {code: a, field: age, check: at_least, min: .nan}\n", "min/max must be numbers"),
    ("rules:\n  - {code: a, field: age, check: at_most, max: .inf}\n", "min/max must be numbers"),
    ("rules:\n  - {code: a, field: age, check: at_least, min: 1" + "0" * 400 + "}\n", "min/max must be numbers"),
    ("fields:\n  age: {min: 0, max: 1" + "0" * 400 + "}\n" + RULE, "needs numbers min <= max"),
])
def test_rule_files_are_read_strictly(tmp_path, text, message):
    path = tmp_path / "rules.yaml"
    path.write_text(text)
    with pytest.raises(InputError, match=message):
        load_rules(path)


def test_a_site_naming_one_rule_twice_is_refused(tmp_path):
    site = tmp_path / "site.yaml"
    site.write_text("site: denver\nrules:\n  - {code: age_out_of_range, min: 18}\n  - {code: age_out_of_range, min: 30}\n")
    with pytest.raises(InputError, match="'age_out_of_range' is given more than once"):
        load_rules(site=site)
    site.write_text("site: denver\nrules:\n  - {code: mri_unsafe, enabled: 'no'}\n")
    with pytest.raises(InputError, match="'enabled' must be true or false"):
        load_rules(site=site)


@pytest.mark.parametrize("pid", ["p9\teligible", "p9\nx", "p9\x1b[2J", "p9\rp2", "p9\u202eevil"])
def test_ids_with_tabs_line_breaks_escapes_or_bidi_overrides_are_refused(pid, tmp_path):
    """Issue 12 round 2: an id 'p9<TAB>eligible' printed as eligible in the listing of an ineligible
    person; newlines and escape sequences rewrote the coordinator's screen."""
    with pytest.raises(InputError, match="tab, line break or control character"):
        screen_table([{**OK, "participant": pid}])
    with pytest.raises(InputError, match="tab, line break or control character"):
        record_enrolment(tmp_path / "s.jsonl", pid, True)


def test_a_header_without_rows_is_an_error():
    with pytest.raises(InputError, match="no one to screen"):
        screen_table([])


@pytest.mark.parametrize(("change", "message"), [
    ({"enrolled": "false"}, "'enrolled' must be true or false"),   # bool("false") is True: allocated unconsented
    ({"enrolled": 1}, "'enrolled' must be true or false"),
    ({"reason": ["declined"]}, "'reason' must be text"),
    ({"participant": 7}, "participant id"),
])
def test_enrolments_in_the_log_are_read_strictly(tmp_path, change, message):
    log = tmp_path / "s.jsonl"
    append_screenings(log, [screen("7", OK)])
    entry = {"type": "enrolment", "participant": "7", "enrolled": True, "reason": "", "timestamp": "t", **change}
    with open(log, "a") as handle:
        handle.write(json.dumps(entry) + "\n")
    with pytest.raises(InputError, match=message):
        read_screening_log(log)


def test_reasons_in_the_log_must_be_lists(tmp_path):
    log = tmp_path / "s.jsonl"
    log.write_text(json.dumps({"type": "screening", "participant": "a", "status": "ineligible",
                               "reasons": "mri_unsafe"}) + "\n")
    with pytest.raises(InputError, match="'reasons' must be a list"):
        read_screening_log(log)


def test_screening_never_appends_to_a_file_that_is_not_a_whole_screening_log(tmp_path):
    """Issue 12 round 2: ``--log answers.csv`` appended JSON to the answers; a log cut mid-line got
    the next entry glued onto its last line."""
    answers = tmp_path / "answers.csv"
    answers.write_text("participant,age\na,45\n")
    with pytest.raises(InputError, match="line 1"):
        append_screenings(answers, [screen("a", OK)])
    assert answers.read_text() == "participant,age\na,45\n"
    log = tmp_path / "s.jsonl"
    append_screenings(log, [screen("a", OK)])
    cut = log.read_bytes()[:-1]
    log.write_bytes(cut)
    with pytest.raises(InputError, match="last line has no newline"):
        append_screenings(log, [screen("b", OK)])
    with pytest.raises(InputError, match="last line has no newline"):
        record_enrolment(log, "a", True)
    assert log.read_bytes() == cut
