"""The shared reader: layouts, the built-in mapping, round trips, and errors that name the fault."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest

from prt.data import (
    BOULDER_MAPPING,
    TrialData,
    load_mapping,
    read_trial,
    redcap_frame,
    write_redcap,
    write_tidy,
)
from prt.errors import InputError


def small_trial() -> TrialData:
    participants = pd.DataFrame(
        {
            "participant": ["1", "2", "3"],
            "arm": ["prt", "placebo", "usual_care"],
            "age": [30.0, 45.0, 61.0],
            "sex": ["female", "male", None],
            "current_opioid_use": [1.0, 0.0, np.nan],
        }
    )
    measures = pd.DataFrame(
        {
            "participant": ["1", "1", "1", "2", "2", "3"],
            "timepoint": ["eligibility", "pre", "post", "pre", "12mo", "pre"],
            "outcome": ["pain_intensity", "pain_intensity", "pain_intensity", "odi", "tsk11", "pain_intensity"],
            "value": [6, 5.5, 1, 22, 30, 7],
        }
    )
    text = pd.DataFrame(
        {"participant": ["1"], "timepoint": ["pre"], "field": ["attributed_cause_1"], "value": ["lifting, at work"]}
    )
    return TrialData.from_frames(participants, measures, text)


def _csv(frame: pd.DataFrame) -> io.StringIO:
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    buffer.seek(0)
    return buffer


@pytest.mark.parametrize("layout", ["flat", "long"])
def test_redcap_round_trip_keeps_every_value(layout):
    trial = small_trial()
    buffer = io.StringIO()
    write_redcap(trial, buffer, layout=layout)
    buffer.seek(0)
    back = read_trial(buffer)
    assert back.layout == layout
    assert back.measures.equals(trial.measures)
    assert back.participants.equals(trial.participants)
    assert back.text.equals(trial.text)


def test_flat_layout_uses_redcap_names_and_codes():
    frame = redcap_frame(small_trial(), "flat")
    assert list(frame.columns[:4]) == ["id", "group", "age", "gender"]
    row = frame.set_index("id").loc["1"]
    assert row["group"] == "1" and row["gender"] == "2" and row["current_opioid_use"] == "1"
    assert row["pain_avg_eligibility_assess_arm_1"] == "6"
    assert row["pain_avg_t1_arm_1"] == "5.5"
    assert row["pain_avg_t2_arm_1"] == "1"
    assert frame.set_index("id").loc["2", "current_opioid_use"] == "2"


def test_long_layout_puts_fixed_fields_on_one_event():
    frame = redcap_frame(small_trial(), "long")
    rows = frame[frame["id"] == "1"]
    assert list(rows["redcap_event_name"]) == ["eligibility_assess_arm_1", "t1_arm_1", "t2_arm_1"]
    assert list(rows["group"]) == ["1", "", ""]


def test_tidy_round_trip():
    trial = small_trial()
    buffer = io.StringIO()
    write_tidy(trial, buffer)
    buffer.seek(0)
    back = read_trial(buffer)
    assert back.layout == "tidy"
    assert back.measures.equals(trial.measures)
    assert back.participants.astype(object).equals(trial.participants.astype(object))


def test_wide_gives_every_participant_and_asked_timepoints():
    wide = small_trial().wide("pain_intensity", ["eligibility", "pre", "post"])
    assert list(wide.index) == ["1", "2", "3"]
    assert wide.loc["1"].tolist() == [6.0, 5.5, 1.0]
    assert np.isnan(wide.loc["2", "pre"]) and wide.loc["3", "pre"] == 7.0


def test_record_id_column_may_be_record_id():
    frame = redcap_frame(small_trial(), "flat").rename(columns={"id": "record_id"})
    assert list(read_trial(_csv(frame)).participants.index) == ["1", "2", "3"]


def test_undefined_and_nan_cells_are_missing():
    frame = redcap_frame(small_trial(), "flat")
    frame.loc[0, "pain_avg_t2_arm_1"] = "<undefined>"
    frame.loc[1, "odi_t1_arm_1"] = "NaN"
    trial = read_trial(_csv(frame))
    assert np.isnan(trial.wide("pain_intensity").loc["1", "post"])
    assert "odi" not in set(trial.measures["outcome"])


# ----------------------------------------------------------------------------- errors
def _flat() -> pd.DataFrame:
    return redcap_frame(small_trial(), "flat")


def test_unknown_arm_code_names_record_and_codes():
    frame = _flat()
    frame.loc[1, "group"] = "7"
    with pytest.raises(InputError, match=r"record 2: group has unknown code '7'; expected one of 1 \(prt\)"):
        read_trial(_csv(frame))


def test_non_numeric_score_names_record_and_column():
    frame = _flat()
    frame.loc[0, "pain_avg_t1_arm_1"] = "five"
    with pytest.raises(InputError, match=r"record 1: column 'pain_avg_t1_arm_1' holds a non-numeric value"):
        read_trial(_csv(frame))


def test_missing_arm_column():
    with pytest.raises(InputError, match="required column 'group'"):
        read_trial(_csv(_flat().drop(columns="group")))


def test_missing_record_id_column():
    with pytest.raises(InputError, match="no record-id column: expected one of id, record_id"):
        read_trial(_csv(_flat().drop(columns="id")))


def test_duplicate_record_in_flat_export():
    frame = pd.concat([_flat(), _flat().iloc[[0]]])
    with pytest.raises(InputError, match="record 1: appears in more than one row"):
        read_trial(_csv(frame))


def test_participant_in_two_arms_in_long_export():
    frame = redcap_frame(small_trial(), "long")
    frame.loc[(frame["id"] == "1") & (frame["redcap_event_name"] == "t2_arm_1"), "group"] = "3"
    with pytest.raises(InputError, match="record 1: is in two arms"):
        read_trial(_csv(frame))


def test_unknown_event_in_long_export():
    frame = redcap_frame(small_trial(), "long")
    frame.loc[0, "redcap_event_name"] = "visit_9_arm_1"
    with pytest.raises(InputError, match="record 1: unknown event 'visit_9_arm_1'"):
        read_trial(_csv(frame))


def test_empty_file(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("")
    with pytest.raises(InputError, match="the file is empty"):
        read_trial(path)
    path.write_text("id,group\n")
    with pytest.raises(InputError, match="header but no records"):
        read_trial(path)


def test_unmatched_export_needs_a_mapping():
    frame = pd.DataFrame({"record_id": ["1"], "arm": ["1"], "pain_visit_1_arm_1": ["3"]})
    with pytest.raises(InputError, match="pass a mapping file"):
        read_trial(_csv(frame))


def test_user_mapping_reads_other_names(tmp_path):
    frame = pd.DataFrame(
        {
            "record_id": ["a1", "a2"],
            "rand_arm": ["A", "B"],
            "age": ["40", "50"],
            "sex": ["F", "M"],
            "nrs_week0_arm_1": ["6", "7"],
            "nrs_week4_arm_1": ["2", "6"],
        }
    )
    spec = {
        "record_id": "record_id",
        "arm_field": "rand_arm",
        "arms": {"A": "prt", "B": "usual_care"},
        "sex_field": "sex",
        "sex_codes": {"F": "female", "M": "male"},
        "events": {"week0_arm_1": "pre", "week4_arm_1": "post"},
        "fields": {"nrs": "pain_intensity"},
    }
    path = tmp_path / "mapping.json"
    path.write_text(json.dumps(spec))
    trial = read_trial(_csv(frame), mapping=load_mapping(path))
    assert trial.participants["arm"].tolist() == ["prt", "usual_care"]
    assert trial.participants["sex"].tolist() == ["female", "male"]
    assert trial.wide("pain_intensity", ["pre", "post"]).loc["a2"].tolist() == [7.0, 6.0]


def test_mapping_naming_absent_event(tmp_path):
    path = tmp_path / "mapping.yaml"
    path.write_text("base: boulder\nevents:\n  t1_arm_1: pre\n  t9_arm_1: post\n")
    with pytest.raises(InputError, match="absent from the data: t9_arm_1"):
        read_trial(_csv(_flat()[["id", "group", "age", "gender", "pain_avg_t1_arm_1"]]), mapping=load_mapping(path))


def test_bad_mapping_file(tmp_path):
    path = tmp_path / "mapping.yaml"
    path.write_text("arms: {1: prt}\nevents: {t1_arm_1: pre}\ncolour: blue\n")
    with pytest.raises(InputError, match="unknown key"):
        load_mapping(path)
    path.write_text("arms: {1: surgery}\nevents: {t1_arm_1: pre}\n")
    with pytest.raises(InputError, match="each must be one of prt, placebo, usual_care"):
        load_mapping(path)


# ----------------------------------------------------------------------------- shared data
@pytest.mark.shared_data
def test_reads_the_trial_export(boulder_wide_path):
    trial = read_trial(boulder_wide_path)
    assert trial.mapping is BOULDER_MAPPING and trial.layout == "flat"
    assert len(trial.participants) == 151
    assert trial.participants["arm"].value_counts().to_dict() == {"placebo": 51, "prt": 50, "usual_care": 50}
    assert trial.participants["sex"].value_counts().to_dict() == {"female": 81, "male": 70}
    assert trial.participants["current_opioid_use"].sum() == 9
    pain = trial.wide("pain_intensity")
    assert pain["pre"].notna().sum() == 151
    observed = pain.stack().dropna()
    assert len(observed) > 1000 and observed.between(0, 10).all()
    assert {"week1", "scan2_day3", "prescreening"} <= set(trial.timepoints)


@pytest.mark.shared_data
@pytest.mark.parametrize("layout", ["flat", "long"])
def test_trial_export_round_trips(boulder_wide_path, layout):
    trial = read_trial(boulder_wide_path)
    buffer = io.StringIO()
    write_redcap(trial, buffer, layout=layout)
    buffer.seek(0)
    back = read_trial(buffer)
    assert back.measures.equals(trial.measures)
    assert back.participants.equals(trial.participants)
    assert back.text.equals(trial.text)
