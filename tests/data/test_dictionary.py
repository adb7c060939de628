"""REDCap data dictionaries: choices, units and ranges read, merged into a mapping, shown as labels.

Format: REDCap's "Data Dictionary" CSV (18 columns; choices ``1, Male | 2, Female``; yesno 1/0;
slider 0-100) and the API's metadata export (snake case). The project prt itself writes
(prt.trial.redcap_dictionary) must read back with its codes, labels, units and ranges.
"""

from __future__ import annotations

import io

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from prt.data import BOULDER_MAPPING, Mapping, load_redcap_dictionary, read_trial, redcap_frame
from prt.data.dictionary import parse_choices, unit_from_label, unit_from_note
from prt.errors import InputError
from prt.trial.redcap_dictionary import DICTIONARY_COLUMNS, data_dictionary

from tests.data.test_hardening import small_trial


def dictionary_csv(rows: list[dict], columns=DICTIONARY_COLUMNS) -> io.StringIO:
    frame = pd.DataFrame([{c: row.get(c, "") for c in columns} for row in rows], columns=list(columns))
    return io.StringIO(frame.to_csv(index=False))


def field(name, kind, label="", choices="", note="", validation="", low="", high="") -> dict:
    return {
        "Variable / Field Name": name, "Form Name": "enrollment", "Field Type": kind, "Field Label": label,
        "Choices, Calculations, OR Slider Labels": choices, "Field Note": note,
        "Text Validation Type OR Show Slider Number": validation, "Text Validation Min": low,
        "Text Validation Max": high,
    }


PROJECT = [
    field("record_id", "text", "Record ID"),
    field("rand_arm", "radio", "Arm", "A, PRT | B, Usual care"),
    field("sex_at_birth", "dropdown", "<b>Sex</b> at birth", "1, Male | 2, Female | 3, Intersex"),
    field("smoker", "yesno", "Smokes?"),
    field("consent", "truefalse", "Consented"),
    field("pets", "checkbox", "Pets", "1, Dog | 2, Cat"),
    field("mass", "text", "Body mass", note="kg", validation="number", low="30", high="300"),
    field("years_pain", "text", "How long (in years)", validation="number", low="0"),
    field("nrs", "slider", "Pain now", "No pain | | Worst pain"),
    field("nrs_total", "calc", "Pain total", "[nrs]*2", note="Units: points"),
    field("story", "notes", "Tell us"),
    field("visit_date", "text", "Visit", validation="date_ymd"),
    field("intro", "descriptive", "Welcome"),
]


def test_reads_choices_units_ranges_and_text_fields():
    d = load_redcap_dictionary(dictionary_csv(PROJECT))
    assert d.choices == {
        "rand_arm": {"A": "PRT", "B": "Usual care"},
        "sex_at_birth": {"1": "Male", "2": "Female", "3": "Intersex"},
        "smoker": {"1": "Yes", "0": "No"},
        "consent": {"1": "True", "0": "False"},
    }  # checkbox choices name columns (pets___1), not values: not carried
    assert d.units == {"mass": "kg", "years_pain": "years", "nrs_total": "points"}
    assert d.ranges == {"mass": (30.0, 300.0), "years_pain": (0.0, float("inf")), "nrs": (0.0, 100.0)}
    assert d.text_fields == ("record_id", "story")
    assert d.labels["sex_at_birth"] == "Sex at birth"  # HTML removed
    assert d.field_types["visit_date"] == "text" and "visit_date" not in d.text_fields  # validated


def test_the_api_metadata_export_reads_the_same():
    api = {
        "Variable / Field Name": "field_name", "Form Name": "form_name", "Field Type": "field_type",
        "Field Label": "field_label", "Choices, Calculations, OR Slider Labels": "select_choices_or_calculations",
        "Field Note": "field_note", "Text Validation Type OR Show Slider Number": "text_validation_type_or_show_slider_number",
        "Text Validation Min": "text_validation_min", "Text Validation Max": "text_validation_max",
    }
    rows = [{api[k]: v for k, v in row.items()} for row in PROJECT]
    a = load_redcap_dictionary(dictionary_csv(PROJECT))
    b = load_redcap_dictionary(dictionary_csv(rows, list(api.values())))
    assert (a.choices, a.units, a.ranges, a.text_fields) == (b.choices, b.units, b.ranges, b.text_fields)


def test_the_project_prt_writes_reads_back():
    """prt.trial.redcap_dictionary's enrollment form: sex codes, age 18-100 in years."""
    buffer = io.StringIO(data_dictionary().to_csv(index=False))
    d = load_redcap_dictionary(buffer)
    assert d.choices["gender"] == {"1": "Male", "2": "Female"}
    assert d.choices["current_opioid_use"] == {"1": "Yes", "2": "No"}
    assert d.units["age"] == "years" and d.ranges["age"] == (18.0, 100.0)
    assert d.units["backpain_length"] == "years"
    mapping = BOULDER_MAPPING.with_dictionary(d)
    assert mapping.choices["sex"] == {"1": "Male", "2": "Female"}  # gender -> sex
    assert mapping.range_of("backpain_length") == d.ranges["backpain_length"]
    assert mapping.label_of("current_opioid_use", 0.0) == "No"  # through the 2 -> 0 recode


def test_a_dictionary_file_labels_another_project(tmp_path):
    path = tmp_path / "dictionary.csv"
    path.write_text(dictionary_csv(PROJECT).getvalue(), encoding="utf-8")
    mapping = Mapping.from_dict({
        "record_id": "record_id", "arm_field": "rand_arm", "arms": {"A": "prt", "B": "usual_care"},
        "sex_field": "sex_at_birth", "sex_codes": {"1": "male", "2": "female", "3": "other"},
        "age_field": "age", "events": {"week0_arm_1": "pre", "week4_arm_1": "post"},
        "participant_fields": {"mass": "weight", "smoker": "smoker"}, "fields": {"nrs": "pain_intensity"},
    }, "mapping.yaml")
    export = pd.DataFrame({
        "record_id": ["a1", "a2"], "rand_arm": ["A", "B"], "age": ["40", "50"], "sex_at_birth": ["3", "2"],
        "mass": ["80", "95.5"], "smoker": ["1", "0"], "nrs_week0_arm_1": ["6", "7"], "nrs_week4_arm_1": ["2", "6"],
    })
    trial = read_trial(io.StringIO(export.to_csv(index=False)), mapping, dictionary=path)
    assert trial.label_of("sex", trial.participants.at["a1", "sex"]) == "Intersex"
    assert trial.label_of("smoker", trial.participants.at["a2", "smoker"]) == "No"
    assert trial.unit_of("weight") == "kg"
    export.loc[0, "mass"] = "500"
    with pytest.raises(InputError, match="record a1: mass is outside its range 30-300"):
        read_trial(io.StringIO(export.to_csv(index=False)), mapping, dictionary=path)


def test_dictionary_ranges_and_codes_apply_to_measures():
    rows = [field("pain_avg", "text", "Average pain", validation="integer", low="0", high="10"),
            field("pgic", "radio", "Change", "1, Much better | 2, Same | 3, Much worse")]
    d = load_redcap_dictionary(dictionary_csv(rows))
    frame = redcap_frame(small_trial(), "flat").assign(pgic_t2_arm_1=["2", "", ""])
    assert read_trial(io.StringIO(frame.to_csv(index=False)), dictionary=d).label_of("pgic", 2.0) == "Same"
    frame.loc[0, "pgic_t2_arm_1"] = "5"
    with pytest.raises(InputError, match=r"record 1: column 'pgic_t2_arm_1' is not one of the codes of pgic"):
        read_trial(io.StringIO(frame.to_csv(index=False)), dictionary=d)


@pytest.mark.parametrize(("rows", "message"), [
    ([{"Variable / Field Name": "x", "Form Name": "f"}], "no column 'Field Type'"),
    ([field("x", "text"), field("x", "radio", choices="1, a")], "field 'x' is defined more than once"),
    ([field("x", "radio", choices="1 Male | 2 Female")], "field 'x': choice 1 is not 'code, label'"),
    ([field("x", "radio", choices="1, a | 1, b")], "field 'x': code '1' is given more than once"),
    ([field("x", "radio", choices="")], "field 'x': a coded field without choices"),
    ([field("x", "text", validation="integer", low="10", high="1")], "validation min is above max"),
    ([field("x", "text", validation="number", low="ten")], "validation min is not a number"),
    ([field("", "text")], "row 1: the field name is empty"),
])
def test_malformed_dictionaries_are_input_errors(rows, message):
    columns = DICTIONARY_COLUMNS if "Field Type" in rows[0] else list(rows[0])
    with pytest.raises(InputError, match=message):
        load_redcap_dictionary(dictionary_csv(rows, columns))


def test_choices_labels_may_hold_commas_and_old_dictionaries_use_new_lines():
    assert parse_choices("1, Yes, always | 2, No") == {"1": "Yes, always", "2": "No"}
    assert parse_choices("0, None\n1, Some\n") == {"0": "None", "1": "Some"}
    assert parse_choices("-1, Don't know | 01, One") == {"-1": "Don't know", "1": "One"}


@pytest.mark.parametrize(("note", "label", "unit"), [
    ("pounds", "Weight", "pounds"), ("Units: kg/m²", "BMI", "kg/m²"), ("in years", "Duration", "years"),
    ("", "Weight (lbs)", "lbs"), ("", "Duration (in months)", "months"), ("", "Pain (0-10)", None),
    ("", "Age (optional)", None), ("1 = never, 5 = always", "Frequency", None),
    ("scored only when every item is answered", "Score", None),
])
def test_units_from_notes_and_labels(note, label, unit):
    assert (unit_from_note(note) or unit_from_label(label)) == unit


codes = st.one_of(st.integers(-5, 500).map(str), st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True))
labels = st.text(st.characters(blacklist_characters="|<>\n\r", blacklist_categories=("Cs", "Cc")),
                 min_size=1, max_size=20).map(str.strip).filter(bool)


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(codes, labels, min_size=1, max_size=8))
def test_choices_round_trip_through_redcap_text(choices):
    """What prt.trial.redcap_dictionary writes (``code, label | ...``) parses back to the same."""
    text = " | ".join(f"{code}, {label}" for code, label in choices.items())
    assert parse_choices(text) == {code: " ".join(label.split()) for code, label in choices.items()}


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=80), st.sampled_from(["radio", "dropdown", "text", "calc", "slider", "yesno", "x"]),
       st.text(max_size=12), st.text(max_size=12), st.text(max_size=12), st.text(max_size=30))
def test_any_cell_text_gives_a_dictionary_or_an_input_error(choices, kind, validation, low, high, note):
    rows = [field("f", kind, "Label (unit)", choices, note, validation, low, high), field("g", "text", "G")]
    try:
        d = load_redcap_dictionary(dictionary_csv(rows))
    except InputError:
        return
    assert set(d.field_types) == {"f", "g"}
    for low_high in d.ranges.values():
        assert low_high[0] <= low_high[1]


@pytest.mark.parametrize(("row", "message"), [
    (field("group", "radio", "Arm", "1, Placebo | 2, PRT | 3, Usual care"), "code 1 of group is labelled 'Placebo'"),
    (field("gender", "radio", "Gender", "1, Female | 2, Male | 3, Other"), "code 1 of gender is labelled 'Female'"),
])
def test_a_dictionary_contradicting_the_arm_or_sex_codes_is_refused(row, message):
    """Issue 12 round 2: a dictionary reading 1 as Female beside the mapping's 1 = male labelled the
    men "Female" in Table 1 while the model adjusted for them as men (rc 0); swapped arm labels were
    ignored. Both are now errors naming the field and code."""
    with pytest.raises(InputError, match=message):
        BOULDER_MAPPING.with_dictionary(load_redcap_dictionary(dictionary_csv([row])))
    agreeing = field("gender", "radio", "Gender", "1, Man | 2, Woman | 3, Non-binary")
    labels = BOULDER_MAPPING.with_dictionary(load_redcap_dictionary(dictionary_csv([agreeing])))
    assert labels.label_of("sex", "male") == "Man" and labels.label_of("sex", "female") == "Woman"
