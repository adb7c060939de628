"""Codebook labels and units on the mapping and the trial; mapping files (Mapping.from_dict, load_mapping).

Known answers from the trial's REDCap codebook (trial-protocol-notes, "Demographic and screening
codes"): gender 1 male 2 female 3 other; education 3 college graduate; opioid use 1 yes 2 no (carried
as 1/0); weight in pounds, back pain duration in years, sses a rung of a 1-10 ladder.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import prt.data
from prt.data import BOULDER_MAPPING, Mapping, load_mapping, read_trial
from prt.data.mapping import code_key
from prt.errors import InputError

from tests.data.test_hardening import small_trial


@pytest.mark.parametrize(("column", "value", "label"), [
    ("sex", "male", "Male"), ("sex", "female", "Female"), ("sex", "other", "Other"),
    ("education", 3.0, "College graduate"), ("education", "1", "High school or less"),
    ("employment_status", 2, "Part time (5-30 h/week)"),
    ("ethnicity", 4.0, "White (not of Hispanic origin)"), ("hispanic", 0.0, "No"),
    ("married", 1.0, "Yes"), ("exercise", 5.0, "14+ h/week"), ("handedness", 3.0, "Both"),
    ("current_opioid_use", 1.0, "Yes"), ("current_opioid_use", 0.0, "No"),
    ("arm", "usual_care", "Usual care"),
])
def test_boulder_codebook_labels(column, value, label):
    assert BOULDER_MAPPING.label_of(column, value) == label
    assert small_trial().label_of(column, value) == label


def test_undeclared_and_missing_values_have_no_label():
    trial = small_trial()
    assert trial.label_of("education", 9.0) is None
    assert trial.label_of("education", np.nan) is None and trial.label_of("education", None) is None
    assert trial.label_of("weight", 150.0) is None


def test_boulder_units():
    trial = small_trial()
    assert [trial.unit_of(c) for c in ("age", "weight", "backpain_length", "sses", "education")] == [
        "years", "pounds", "years", "ladder rung (1-10)", None]


@pytest.mark.shared_data
def test_every_coded_field_of_the_trial_export_has_labels(boulder_wide_path):
    trial = read_trial(boulder_wide_path)
    for column in ("sex", "education", "employment_status", "ethnicity", "hispanic", "married",
                   "exercise", "handedness", "current_opioid_use"):
        values = trial.participants[column].dropna()
        assert all(trial.label_of(column, v) for v in values), column


def test_code_key_makes_one_text_of_a_code():
    assert {code_key(v) for v in (1, 1.0, "1", "01", "1.0", " 1 ", np.float64(1), np.int64(1), True)} == {"1"}
    assert code_key(1.5) == code_key("1.50") == "1.5"
    assert code_key("A") == "A" and code_key("-1") == "-1" and code_key("inf") == "inf"


# ----------------------------------------------------------------------------- mapping files
def test_a_mapping_file_declares_choices_units_and_ranges_by_field_or_column(tmp_path):
    path = tmp_path / "mapping.yaml"
    path.write_text(
        "base: boulder\n"
        "choices:\n"
        "  married_or_living_as_marri: {1: Partnered, 0: Single}\n"  # a REDCap field name
        "  gender: {1: Man, 2: Woman, 3: Another}\n"
        "units: {weight: kg}\n"
        "ranges: {sses: [1, 5]}\n",
        encoding="utf-8")
    mapping = load_mapping(path)
    assert mapping.label_of("married", 0.0) == "Single" and mapping.label_of("sex", "female") == "Woman"
    assert mapping.label_of("education", 3.0) == "College graduate"  # the base's other labels stay
    assert mapping.unit_of("weight") == "kg" and mapping.unit_of("age") == "years"
    assert mapping.range_of("sses") == (1.0, 5.0)
    assert mapping.name == "boulder-back-pain-study+mapping.yaml"


def test_ranges_of_an_outcome_narrow_its_instrument_range():
    mapping = Mapping.from_dict({"base": "boulder", "ranges": {"pain_avg": [0, 8], "alcohol": [0, 60]}}, "m")
    assert mapping.range_of("pain_intensity") == (0.0, 8.0)  # pain_avg is pain_intensity's field
    assert mapping.range_of("alcohol") == (0.0, 60.0)
    wide = Mapping.from_dict({"base": "boulder", "ranges": {"pain_intensity": [-100, 100]}}, "m")
    assert wide.range_of("pain_intensity") == (0.0, 10.0)  # the instrument's range still applies


def test_json_mapping_files_and_the_one_loader_name(tmp_path):
    path = tmp_path / "mapping.json"
    path.write_text(json.dumps({"base": "boulder", "units": {"weight": "kg"}}), encoding="utf-8")
    assert load_mapping(path).unit_of("weight") == "kg"
    assert Mapping.from_dict({"base": "boulder"}).arm_codes == BOULDER_MAPPING.arm_codes
    assert not hasattr(prt.data, "mapping_from_dict")


@pytest.mark.parametrize(("text", "message"), [
    ("base: boulder\nunits: [kg]\n", "'units' must be a non-empty mapping"),
    ("base: boulder\nranges: {age: [50, 20]}\n", "ranges.age: low is above high"),
    ("base: boulder\nranges: {age: [a, 20]}\n", "ranges.age: expected a number"),
    ("base: boulder\nranges: {age: 20}\n", r"ranges.age: expected \[low, high\]"),
    ("base: boulder\nchoices: {education: [1, 2]}\n", "'choices.education' must be a non-empty mapping"),
    ("base: boulder\nchoices: {education: {1: }}\n", "choices.education.1: expected a name or a number, got nothing"),
    ("base: boulder\ntext_fields: cause\n", "'text_fields' must be a list of names"),
    ("base: boulder\nsex_codes: {1: man}\n", "each must be one of male, female, other"),
    ("base: boulder\nunits: {a: kg}\nunits: {b: kg}\n", "key 'units' appears more than once"),
    ("base: boulder\nevents: {t1_arm_1: pre\n", "not valid YAML at line"),
    ("- a list\n", "expected a mapping of keys to values"),
    # issue 12 round 2: integers too large for a float were an OverflowError traceback
    ("base: boulder\nranges: {age: [0, 1" + "0" * 400 + "]}\n", "ranges.age: expected a finite number"),
    ("base: boulder\nchoices: {gender: {1: Female, 2: Male}}\n", "code 1 of gender is labelled 'Female'"),
    ("base: boulder\nparticipant_recodes: {current_opioid_use: {1: 1" + "0" * 400 + "}}\n",
     "participant_recodes.current_opioid_use.1: expected a finite number"),
])
def test_bad_mapping_files_name_the_file_and_key(tmp_path, text, message):
    path = tmp_path / "mapping.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=message) as err:
        load_mapping(path)
    assert str(path) in str(err.value)


def test_a_huge_integer_code_is_a_code_not_a_traceback():
    mapping = Mapping.from_dict({"base": "boulder", "arms": {10 ** 400: "prt", 2: "placebo", 3: "usual_care"}})
    assert mapping.arm_codes[str(10 ** 400)] == "prt"


def test_unreadable_mapping_files(tmp_path):
    with pytest.raises(InputError, match="No such file"):
        load_mapping(tmp_path / "absent.yaml")
    with pytest.raises(InputError, match="is a directory"):
        load_mapping(tmp_path)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 300) | st.just(10 ** 400) | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3),
    max_leaves=8,
)
keys = st.sampled_from(["base", "record_id", "arm_field", "arms", "sex_field", "sex_codes", "age_field",
                        "events", "fields", "participant_fields", "participant_recodes", "text_fields",
                        "missing_tokens", "choices", "units", "ranges", "name", "colour"])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(keys, json_values, max_size=5), st.booleans())
def test_any_mapping_spec_gives_a_mapping_or_an_input_error(spec, on_boulder):
    if on_boulder:
        spec = {**spec, "base": "boulder"}
    try:
        mapping = Mapping.from_dict(spec, "fuzz.yaml")
    except InputError:
        return
    assert set(mapping.arm_codes.values()) <= {"prt", "placebo", "usual_care"}
    for low, high in mapping.ranges.values():
        assert low <= high
