"""Regression tests of the reader's hardening: each case reproduces a finding, then checks the error.

Findings: out-of-range values were analysed (pain 99 moved the PRT-vs-placebo estimate from 2.53
to 7.30); a duplicated header was read (ages analysed as pain); a missing age column made the
primary model vanish with a misleading reason; semicolon/tab files got "no record-id column";
binary, UTF-16, directories and missing files, dates and huge numbers gave tracebacks.
Messages name the record and the column as in the file, never the value (developers' guide).
"""

from __future__ import annotations

import codecs
import io

import numpy as np
import pandas as pd
import pytest

from prt.data import BOULDER_MAPPING, Mapping, TrialData, read_trial, redcap_frame, tidy_frame, write_redcap, write_tidy
from prt.errors import InputError


def small_trial() -> TrialData:
    participants = pd.DataFrame({
        "participant": ["1", "2", "3"],
        "arm": ["prt", "placebo", "usual_care"],
        "age": [30.0, 45.0, 61.0],
        "sex": ["female", "male", None],
        "education": [3.0, 2.0, np.nan],
        "married": [1.0, 0.0, 1.0],
        "sses": [7.0, 4.0, np.nan],
        "weight": [150.0, 180.5, np.nan],
        "current_opioid_use": [1.0, 0.0, np.nan],
    })
    measures = pd.DataFrame({
        "participant": ["1", "1", "1", "2", "2", "3"],
        "timepoint": ["eligibility", "pre", "post", "pre", "12mo", "pre"],
        "outcome": ["pain_intensity", "pain_intensity", "pain_intensity", "odi", "tsk11", "pain_intensity"],
        "value": [6, 5.5, 1, 22, 30, 7],
    })
    text = pd.DataFrame({"participant": ["1"], "timepoint": ["pre"], "field": ["attributed_cause_1"],
                         "value": ["lifting, at work"]})
    return TrialData.from_frames(participants, measures, text)


def flat() -> pd.DataFrame:
    return redcap_frame(small_trial(), "flat")


def csv_text(frame: pd.DataFrame, sep: str = ",") -> str:
    return frame.to_csv(index=False, sep=sep, lineterminator="\n")


def read(frame: pd.DataFrame, **kwargs) -> TrialData:
    return read_trial(io.StringIO(csv_text(frame)), **kwargs)


def error_of(source, **kwargs) -> str:
    with pytest.raises(InputError) as err:
        read_trial(source, **kwargs)
    return str(err.value)


# ----------------------------------------------------------------------------- ranges and codes
@pytest.mark.parametrize("value", ["99", "-5", "10.5", "1e308"])
def test_pain_outside_0_to_10_is_an_error_naming_record_column_and_range(value):
    frame = flat()
    frame.loc[frame["id"] == "1", "pain_avg_t2_arm_1"] = value
    message = error_of(io.StringIO(csv_text(frame)))
    assert message == "record 1: column 'pain_avg_t2_arm_1' is outside the range of pain_intensity (0-10)"


def test_the_range_ends_are_valid_values():
    frame = flat()
    frame.loc[0, "pain_avg_t2_arm_1"] = "10"
    frame.loc[0, "pain_avg_t1_arm_1"] = "0"
    assert read(frame).wide("pain_intensity").loc["1", ["pre", "post"]].tolist() == [0.0, 10.0]


def test_tsk11_400_is_an_error_with_its_instrument_range():
    frame = flat()
    frame.loc[frame["id"] == "2", "tsk11_x12_month_follow_up_arm_1"] = "400"
    assert error_of(io.StringIO(csv_text(frame))) == (
        "record 2: column 'tsk11_x12_month_follow_up_arm_1' is outside the range of tsk11 (11-44)")


def test_out_of_range_in_long_and_tidy_layouts_and_in_frames():
    long = redcap_frame(small_trial(), "long")
    long.loc[(long["id"] == "1") & (long["redcap_event_name"] == "t2_arm_1"), "pain_avg"] = "99"
    assert "record 1: column 'pain_avg' at event 't2_arm_1' is outside the range of pain_intensity (0-10)" \
        == error_of(io.StringIO(csv_text(long)))
    tidy = tidy_frame(small_trial())
    tidy.loc[(tidy["participant"] == "1") & (tidy["timepoint"] == "post"), "value"] = 99
    assert "record 1: value of pain_intensity at post is outside the range of pain_intensity (0-10)" \
        == error_of(io.StringIO(csv_text(tidy)))
    trial = small_trial()
    measures = trial.measures.copy()
    measures.loc[0, "value"] = -5
    with pytest.raises(InputError, match=r"record 1: pain_intensity at eligibility is outside the range"):
        TrialData.from_frames(trial.participants, measures)


@pytest.mark.shared_data
def test_pain_99_in_the_trial_export_is_refused_not_analysed(boulder_wide_path, tmp_path):
    """The finding: one pain 99 at post moved the PRT-vs-placebo estimate from 2.53 to 7.30."""
    text = boulder_wide_path.read_text(encoding="utf-8")
    frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    record = frame.loc[frame["group"] == "1", "id"].iloc[0]
    frame.loc[frame["id"] == record, "pain_avg_t2_arm_1"] = "99"
    path = tmp_path / "export.csv"
    path.write_text(csv_text(frame), encoding="utf-8")
    assert error_of(path) == (
        f"record {record}: column 'pain_avg_t2_arm_1' is outside the range of pain_intensity (0-10)")


@pytest.mark.parametrize("age", ["-3", "250", "17"])
def test_implausible_age_is_an_error(age):
    frame = flat()
    frame.loc[1, "age"] = age
    assert error_of(io.StringIO(csv_text(frame))) == "record 2: age is outside its range 18-100"


def test_a_mapping_file_may_declare_another_age_range():
    frame = flat()
    frame.loc[1, "age"] = "15"
    mapping = Mapping.from_dict({"base": "boulder", "ranges": {"age": [12, 100]}}, "adolescents.yaml")
    assert read(frame, mapping=mapping).participants.at["2", "age"] == 15.0


@pytest.mark.parametrize(("column", "value", "expected"), [
    ("sses", "11", "record 1: sses is outside its range 1-10"),
    ("sses", "0", "record 1: sses is outside its range 1-10"),
    ("education", "7", "record 1: education is not one of its codes: 1 (High school or less), "
                       "2 (Some college or vocational school), 3 (College graduate)"),
    ("married_or_living_as_marri", "2", "record 1: married_or_living_as_marri is not one of its codes: "
                                        "1 (Yes), 0 (No)"),
    ("current_opioid_use", "0", "record 1: current_opioid_use is not one of its codes: 1 (Yes), 2 (No)"),
    ("gender", "9", "record 1: gender is not one of the sex codes 1 (Male), 2 (Female), 3 (Other)"),
    ("weight", "9999-12-31", "record 1: weight is not a number"),
    ("age", "9999-12-31", "record 1: age is not a number"),
    ("age", "inf", "record 1: age is not a finite number"),
    # issue 12 round 2: a negative or centuries-long back pain duration was a Table 1 mean
    ("backpain_length", "-2", "record 1: backpain_length is outside its range 0-90"),
    ("backpain_length", "500", "record 1: backpain_length is outside its range 0-90"),
])
def test_participant_fields_outside_their_codes_or_ranges(column, value, expected):
    frame = flat()
    if column not in frame.columns:
        frame[column] = ""
    frame.loc[0, column] = value
    message = error_of(io.StringIO(csv_text(frame)))
    assert message == expected


def test_sex_other_is_carried_and_left_out_of_the_sex_adjusted_model():
    """Boulder's gender 3 (other): read and labelled; the primary model (male/female) leaves it out."""
    from prt.analysis.engine import primary_frame

    frame = flat()
    frame.loc[frame["id"] == "1", "gender"] = "3"
    trial = read(frame)
    assert trial.participants.at["1", "sex"] == "other"
    assert trial.label_of("sex", "other") == "Other"
    assert "1" not in set(primary_frame(trial)["participant"])
    buffer = io.StringIO()
    write_redcap(trial, buffer)
    assert read_trial(io.StringIO(buffer.getvalue())).participants.at["1", "sex"] == "other"


# ----------------------------------------------------------------------------- numbers
@pytest.mark.parametrize("value", ["inf", "-Infinity", "1e309"])
def test_infinite_numbers_are_errors(value):
    frame = flat()
    frame.loc[0, "pain_avg_t1_arm_1"] = value
    assert "record 1: column 'pain_avg_t1_arm_1' is not a finite number" == error_of(io.StringIO(csv_text(frame)))
    frame = flat().assign(alcohol_t1_arm_1="")
    frame.loc[0, "alcohol_t1_arm_1"] = value  # a field with no declared range
    assert "record 1: column 'alcohol_t1_arm_1' is not a finite number" == error_of(io.StringIO(csv_text(frame)))


def test_a_date_in_a_score_is_an_error_and_in_an_undeclared_field_is_text():
    frame = flat()
    frame.loc[0, "pain_avg_t1_arm_1"] = "9999-12-31"
    assert error_of(io.StringIO(csv_text(frame))) == (
        "record 1: column 'pain_avg_t1_arm_1' holds a non-numeric value where a score is expected")
    frame = flat().assign(visit_date_t1_arm_1="9999-12-31")
    trial = read(frame)
    assert set(trial.text.loc[trial.text["field"] == "visit_date", "value"]) == {"9999-12-31"}


def test_huge_numbers_in_undeclared_fields_are_kept_and_nan_text_is_missing():
    frame = flat().assign(alcohol_t1_arm_1=["1e308", "nan", "NaN"])
    trial = read(frame)
    alcohol = trial.wide("alcohol", ["pre"])["pre"]
    assert alcohol.loc["1"] == 1e308 and alcohol[["2", "3"]].isna().all()


def test_a_decimal_comma_gets_a_hint():
    frame = flat()
    frame.loc[0, "pain_avg_t1_arm_1"] = "4,5"
    message = error_of(io.StringIO(csv_text(frame, ";")))
    assert "pain_avg_t1_arm_1" in message and "decimal comma" in message and "4,5" not in message


# ----------------------------------------------------------------------------- columns
def test_a_duplicated_header_is_an_error():
    text = csv_text(flat())
    header, rest = text.split("\n", 1)
    text = header.replace("age,", "pain_avg_t1_arm_1,", 1) + "\n" + rest
    assert "column 'pain_avg_t1_arm_1' appears more than once in the header" in error_of(io.StringIO(text))


def test_a_duplicated_header_in_a_dataframe_is_an_error():
    frame = flat()
    frame.columns = [c if c != "age" else "gender" for c in frame.columns]
    assert "column 'gender' appears more than once" in error_of(frame)


@pytest.mark.parametrize(("dropped", "expected"), [
    (["age"], "required column 'age' (age, years) is missing"),
    (["gender"], "required column 'gender' (sex) is missing"),
    (["age", "gender"], "required columns 'age' (age, years), 'gender' (sex) are missing"),
    (["group"], "required column 'group' (randomization arm) is missing"),
])
def test_missing_required_columns_are_named(dropped, expected):
    assert error_of(io.StringIO(csv_text(flat().drop(columns=dropped)))) == expected


def test_missing_age_in_long_and_tidy_layouts():
    long = redcap_frame(small_trial(), "long").drop(columns="age")
    assert "required column 'age' (age, years) is missing (it may sit on any one event)" == \
        error_of(io.StringIO(csv_text(long)))
    tidy = tidy_frame(small_trial()).drop(columns="age")
    assert "tidy data: missing column(s) age" == error_of(io.StringIO(csv_text(tidy)))


def test_two_record_id_columns_are_ambiguous():
    frame = flat().assign(record_id=["9", "8", "7"])
    assert "columns 'id' and 'record_id' could each be the record id" in error_of(io.StringIO(csv_text(frame)))


def test_two_columns_mapped_to_one_value_are_an_error():
    frame = flat().assign(pain_intensity_t1_arm_1=["1", "2", "3"])
    assert error_of(io.StringIO(csv_text(frame))) == (
        "columns 'pain_avg_t1_arm_1' and 'pain_intensity_t1_arm_1' both hold pain_intensity at pre")
    long = redcap_frame(small_trial(), "long").assign(pain_intensity="")
    assert error_of(io.StringIO(csv_text(long))) == "columns 'pain_avg' and 'pain_intensity' both hold pain_intensity"


def test_tidy_outcomes_and_covariates_under_two_names_are_an_error():
    tidy = tidy_frame(small_trial())
    extra = tidy.iloc[[0]].assign(outcome="pain_avg")  # the REDCap name of pain_intensity
    message = error_of(io.StringIO(csv_text(pd.concat([tidy, extra]))))
    assert message == "record 1: at eligibility outcomes 'pain_intensity' and 'pain_avg' both give pain_intensity"
    both = tidy.assign(gender=tidy["sex"])
    assert error_of(io.StringIO(csv_text(both))) == "columns 'sex' and 'gender' both hold the participants' sex"
    renamed = tidy.rename(columns={"married": "married_or_living_as_marri"})
    assert read_trial(io.StringIO(csv_text(renamed))).participants["married"].tolist() == [1.0, 0.0, 1.0]
    redcap_names = tidy.assign(outcome=tidy["outcome"].replace({"pain_intensity": "pain_avg"}))
    assert read_trial(io.StringIO(csv_text(redcap_names))).measures.equals(small_trial().measures)


def test_a_mapping_that_maps_two_fields_to_one_column_is_refused():
    with pytest.raises(InputError, match=r"participant_fields 'a' and 'b' both map to 'site'"):
        Mapping.from_dict({"base": "boulder", "participant_fields": {"a": "site", "b": "site"}}, "m.yaml")
    with pytest.raises(InputError, match=r"'age' is a reserved name"):
        Mapping.from_dict({"base": "boulder", "participant_fields": {"years": "age"}}, "m.yaml")


# ----------------------------------------------------------------------------- delimiters
@pytest.mark.parametrize("sep", [";", "\t", "|"])
@pytest.mark.parametrize("layout", ["flat", "long"])
def test_semicolon_tab_and_pipe_separated_exports_read_like_commas(sep, layout):
    frame = redcap_frame(small_trial(), layout)
    comma = read_trial(io.StringIO(csv_text(frame)))
    other = read_trial(io.StringIO(csv_text(frame, sep)))
    assert other.measures.equals(comma.measures)
    assert other.participants.equals(comma.participants)
    assert other.text.equals(comma.text)


def test_a_header_without_separators_is_a_clear_error():
    assert "the header line has a single column" in error_of(io.StringIO("id group age gender\n1 1 30 2\n"))


def test_ragged_rows_and_broken_quotes_name_the_line():
    text = csv_text(flat())
    lines = text.splitlines()
    lines[2] = lines[2] + ",extra"
    assert "line 3 has" in error_of(io.StringIO("\n".join(lines) + "\n"))
    broken = text.replace('"lifting, at work"', '"lifting" at work')  # text after a closing quote
    assert "not a readable CSV file (line 2: ',' expected after '\"')" in error_of(io.StringIO(broken))
    unclosed = text.replace('"lifting, at work"', '"lifting, at work')  # runs to the end of the file
    assert "not a readable CSV file" in error_of(io.StringIO(unclosed))


def test_unnamed_columns_are_dropped_when_empty_and_refused_otherwise():
    text = csv_text(flat())
    lines = text.splitlines()
    padded = [line + "," for line in lines]  # a spreadsheet's trailing separator
    assert read_trial(io.StringIO("\n".join(padded))).participants.equals(read(flat()).participants)
    padded[1] = padded[1] + "x"
    assert "column " in error_of(io.StringIO("\n".join(padded))) and "has no name" in error_of(
        io.StringIO("\n".join(padded)))


def test_names_with_line_breaks_and_empty_record_ids_are_refused():
    frame = flat().rename(columns={"weight": "wei\nght"})
    assert "the name of column" in error_of(io.StringIO(csv_text(frame)))
    frame = flat()
    frame.loc[1, "id"] = "2\n3"
    assert error_of(io.StringIO(csv_text(frame))) == (
        "data row 2: column 'id' holds a line break or control character")
    frame.loc[1, "id"] = ""
    assert error_of(io.StringIO(csv_text(frame))) == "data row 2: column 'id' is empty"


def test_blank_lines_are_skipped_and_empty_files_are_errors(tmp_path):
    text = csv_text(flat()).replace("\n", "\n\n")
    assert len(read_trial(io.StringIO(text)).participants) == 3
    for content in ("", "\n\n  \n"):
        assert "the file is empty" in error_of(io.StringIO(content))
    assert "header but no records" in error_of(io.StringIO(csv_text(flat().iloc[0:0])))


# ----------------------------------------------------------------------------- files and encodings
@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-8-sig"])
def test_utf16_and_utf8_with_a_bom_are_decoded(tmp_path, encoding):
    bom = {"utf-16-le": codecs.BOM_UTF16_LE, "utf-16-be": codecs.BOM_UTF16_BE}.get(encoding, b"")
    path = tmp_path / "export.csv"
    path.write_bytes(bom + csv_text(flat()).encode(encoding))
    trial = read_trial(path)
    assert trial.participants.equals(read(flat()).participants)
    assert read_trial(io.BytesIO(path.read_bytes())).measures.equals(trial.measures)


def test_utf16_without_a_bom_is_a_clear_error(tmp_path):
    path = tmp_path / "export.csv"
    path.write_bytes(csv_text(flat()).encode("utf-16-le"))
    assert "UTF-16 text without a byte-order mark" in error_of(path)


def test_binary_latin1_directory_and_missing_files(tmp_path):
    binary = tmp_path / "image.csv"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    assert "a binary file, expected UTF-8 text" in error_of(binary)
    latin = tmp_path / "latin.csv"
    latin.write_bytes(csv_text(flat()).replace("lifting", "l\u00e9ve").encode("latin-1"))
    assert "not UTF-8 text" in error_of(latin)
    assert error_of(tmp_path) == f"{tmp_path}: cannot be read (is a directory, expected a file)"
    assert "No such file" in error_of(tmp_path / "absent.csv")


# ----------------------------------------------------------------------------- writers
def test_writers_neutralise_formulas_but_keep_negative_numbers(tmp_path):
    trial = small_trial()
    text = trial.text.assign(value=["=HYPERLINK(\"http://x\")"])
    measures = pd.concat([trial.measures, pd.DataFrame(
        [{"participant": "2", "timepoint": "post", "outcome": "change", "value": -3.5}])])
    trial = TrialData.from_frames(trial.participants, measures, text)
    path = tmp_path / "out" / "flat.csv"
    write_redcap(trial, path)
    written = path.read_text(encoding="utf-8")
    assert "'=HYPERLINK" in written and ",-3.5" in written
    assert sorted(p.name for p in path.parent.iterdir()) == ["flat.csv"]  # no temporary file left
    back = read_trial(path)
    assert back.wide("change", ["post"]).loc["2", "post"] == -3.5
    tidy = tmp_path / "tidy.csv"
    write_tidy(trial, tidy)
    assert ",-3.5," in tidy.read_text(encoding="utf-8")


def test_writing_onto_a_directory_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="is a directory"):
        write_redcap(small_trial(), tmp_path)


def test_writing_to_a_binary_buffer():
    buffer = io.BytesIO()
    write_tidy(small_trial(), buffer)
    buffer.seek(0)
    assert read_trial(buffer).measures.equals(small_trial().measures)


def test_the_shared_mapping_is_not_changed_by_reading():
    before = repr(BOULDER_MAPPING)
    read(flat())
    assert repr(BOULDER_MAPPING) == before


@pytest.mark.parametrize("layout", ["flat", "long", "tidy"])
@pytest.mark.parametrize("other", ["01", "1.0", "+1"])
def test_one_number_written_as_two_record_ids_is_an_error(layout, other):
    """Issue 12 round 2: records 12 and 012 (or 12.0) were analysed as two participants (rc 0)."""
    frame = redcap_frame(small_trial(), layout) if layout != "tidy" else tidy_frame(small_trial())
    rid = "participant" if layout == "tidy" else "id"
    copy = frame[frame[rid] == "2"].assign(**{rid: other.replace("1", "2")})
    message = error_of(io.StringIO(csv_text(pd.concat([frame, copy]))))
    assert message.endswith("one number written two ways; give each participant one record id")
    assert "'2'" in message and repr(other.replace("1", "2")) in message
