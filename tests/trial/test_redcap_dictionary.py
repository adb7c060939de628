"""REDCap data dictionary, arms, events and instrument-event mapping of a PRT trial."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from hypothesis import given, settings, strategies as st

from prt import instruments
from prt.data import BOULDER_MAPPING, OUTCOMES
from prt.errors import InputError
from prt.trial.redcap_dictionary import (
    DICTIONARY_COLUMNS,
    SCHEDULE,
    arms_table,
    data_dictionary,
    events_table,
    instrument_event_table,
    item_field,
    unique_event_name,
    validate_field_names,
    write_project,
)

REDCAP_HEADER = [
    "Variable / Field Name", "Form Name", "Section Header", "Field Type", "Field Label",
    "Choices, Calculations, OR Slider Labels", "Field Note", "Text Validation Type OR Show Slider Number",
    "Text Validation Min", "Text Validation Max", "Identifier?", "Branching Logic (Show field only if...)",
    "Required Field?", "Custom Alignment", "Question Number (surveys only)", "Matrix Group Name",
    "Matrix Ranking?", "Field Annotation",
]


@pytest.fixture(scope="module")
def dictionary():
    return data_dictionary()


def test_header_is_redcaps_exact_18_columns(dictionary):
    assert list(DICTIONARY_COLUMNS) == REDCAP_HEADER
    assert list(dictionary.columns) == REDCAP_HEADER


def test_record_id_first_names_valid_and_unique(dictionary):
    names = dictionary["Variable / Field Name"]
    assert names.iloc[0] == "record_id"
    assert names.is_unique and all(re.fullmatch(r"[a-z][a-z0-9_]*", n) for n in names)
    assert validate_field_names(names) == []


def test_every_scheduled_item_is_a_field_with_its_choices(dictionary):
    rows = dictionary.set_index("Variable / Field Name")
    for form in SCHEDULE:
        if form == "enrollment":
            continue
        inst = instruments.get(form)
        for item in inst.items:
            row = rows.loc[item_field(inst.id, item.number)]
            assert row["Form Name"] == inst.id
            if item.kind == "choice":
                assert row["Field Type"] == "radio"
                pairs = [c.split(", ", 1) for c in row["Choices, Calculations, OR Slider Labels"].split(" | ")]
                assert {float(code): label for code, label in pairs} == {float(k): v for k, v in item.options.items()}


def test_score_fields_use_the_boulder_names_the_reader_knows(dictionary):
    calcs = dictionary[dictionary["Field Type"] == "calc"]["Variable / Field Name"]
    outcomes = {BOULDER_MAPPING.outcome_of(f) for f in calcs}
    assert set(OUTCOMES) <= outcomes
    for field in ("group", "gender", "age", "current_opioid_use"):
        assert field in set(dictionary["Variable / Field Name"])


def _evaluate(expression: str, values: dict[str, float]) -> float:
    python = re.sub(r"\[([a-z0-9_]+)\]", lambda m: repr(float(values[m.group(1)])), expression)
    return eval(python, {"__builtins__": {}}, {"round": round})  # noqa: S307 - our own expression


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_calc_fields_score_like_prt_instruments(data, dictionary):
    calcs = dictionary[dictionary["Field Type"] == "calc"].set_index("Variable / Field Name")
    inst = instruments.get(data.draw(st.sampled_from([f for f in SCHEDULE if f not in ("enrollment", "ipq_causes")])))
    responses = {}
    for item in inst.items:
        if item.options:
            responses[item.number] = data.draw(st.sampled_from(sorted(item.options)))
        else:
            responses[item.number] = data.draw(st.integers(int(item.minimum), int(item.maximum)))
    values = {item_field(inst.id, n): v for n, v in responses.items()}
    scored = instruments.score(inst.id, responses)
    for score, field in inst.data_fields.items():
        want = scored.total if score == "total" else scored.subscales[score]
        got = _evaluate(calcs.loc[field, "Choices, Calculations, OR Slider Labels"], values)
        assert got == pytest.approx(want, abs=0.006), (inst.id, score)


def test_unique_event_names_follow_redcap_and_match_the_boulder_project():
    assert unique_event_name("Online prescreening") == "online_prescreenin_arm_1"
    assert unique_event_name("12 month follow up", 2) == "x12_month_follow_up_arm_2"
    events = events_table()
    assert list(events.columns[:3]) == ["event_name", "arm_num", "unique_event_name"]
    assert set(events["unique_event_name"]) <= set(BOULDER_MAPPING.events)
    assert [BOULDER_MAPPING.events[e] for e in events["unique_event_name"]] == [
        "eligibility", "pre", "post", "1mo", "2mo", "3mo", "6mo", "12mo"
    ]
    with pytest.raises(InputError):
        unique_event_name("  !! ")


def test_arms_and_instrument_event_mapping(dictionary):
    assert arms_table().to_dict("records") == [{"arm_num": 1, "arm_name": "Arm 1"}]
    mapping = instrument_event_table(dictionary["Form Name"].unique())
    assert list(mapping.columns) == ["arm_num", "unique_event_name", "form"]
    assert set(mapping["form"]) == set(dictionary["Form Name"])
    at = mapping.groupby("form")["unique_event_name"].apply(set)
    assert at["pgic"] == {"t2_arm_1", *(f"x{m}_month_follow_up_arm_1" for m in (1, 2, 3, 6, 12))}
    assert at["panas_sf"] == {"eligibility_assess_arm_1", "t1_arm_1", "t2_arm_1"}
    assert at["enrollment"] == {"eligibility_assess_arm_1"}


def test_field_name_validation():
    assert validate_field_names(["a_b", "c1"]) == []
    for bad in (["Pain"], ["1pain"], ["pain-avg"], ["ok", "ok"]):
        with pytest.raises(InputError):
            validate_field_names(bad)
    warnings = validate_field_names(["a" * 27])
    assert len(warnings) == 1 and "27 characters" in warnings[0]


def test_a_choice_label_with_a_pipe_is_refused():
    item = SimpleNamespace(number="1", label="q", options={1: "yes | no"}, minimum=1, maximum=1,
                           kind="choice", reversed=False)
    fake = SimpleNamespace(id="fake", title="Fake", items=(item,), data_fields={}, item=lambda n: item)
    with pytest.raises(InputError, match="'\\|'"):
        data_dictionary([fake])


def test_write_project_writes_four_csvs(tmp_path):
    paths = write_project(tmp_path / "proj")
    assert sorted(p.name for p in paths.values()) == [
        "arms.csv", "data_dictionary.csv", "events.csv", "instrument_event_mapping.csv"
    ]
    header = paths["data_dictionary"].read_text(encoding="utf-8").splitlines()[0]
    assert header == ",".join(f'"{c}"' if "," in c else c for c in REDCAP_HEADER)
