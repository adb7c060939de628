"""The one reader through which trial data enters prt: REDCap flat and long exports, and tidy CSV.

- REDCap *flat* ("wide") export: one row per record, a column per ``<field>_<event>``.
- REDCap *long* export: one row per record and event, with ``redcap_event_name``; fixed
  per-participant fields (arm, age, sex, ...) may sit on any single event.
- *tidy*: ``participant, arm, timepoint, outcome, value`` plus per-participant covariate columns.

Every cell is read as text and converted here, so a bad value is reported with its record and
column rather than silently becoming NaN; a value outside its declared range or codes is an error,
never analysed (developers' guide). Messages name the record and the column, never the value.
"""

from __future__ import annotations

import io
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from prt.data.csvtext import CONTROL, check_unique_columns, read_table, source_text
from prt.data.dictionary import RedcapDictionary, load_redcap_dictionary
from prt.data.mapping import BOULDER_MAPPING, RECORDED_SEXES, Mapping, code_key
from prt.data.model import MEASURE_COLUMNS, TrialData, _id_text, check_measures, check_participants
from prt.errors import InputError
from prt.vocabulary import OUTCOME_SCORES, redcap_fields

TIDY_REQUIRED = ("participant", "arm", "timepoint", "outcome", "value")
REDCAP_BOOKKEEPING = (
    "redcap_event_name",
    "redcap_repeat_instrument",
    "redcap_repeat_instance",
    "redcap_data_access_group",
    "redcap_survey_identifier",
)
_EVENT_LIKE = re.compile(r"_arm_\d+$")
_DECIMAL_COMMA = re.compile(r"^[+-]?\d+,\d+$")


def read_trial(
    source: str | Path | pd.DataFrame | io.IOBase,
    mapping: Mapping | None = None,
    *,
    dictionary: RedcapDictionary | str | Path | None = None,
) -> TrialData:
    """Read a trial export (layout detected from its columns) into :class:`TrialData`.

    ``source`` is a path, an open text or binary file, or a DataFrame; the file may be comma-,
    semicolon- or tab-separated, UTF-8 or UTF-16 with a BOM. ``mapping=None`` chooses the
    built-in Boulder mapping when the export's events match it; ``dictionary`` (a
    :class:`~prt.data.dictionary.RedcapDictionary` or the path of a REDCap data dictionary CSV)
    adds the project's choices, units and ranges to the mapping. Raises :class:`InputError`
    naming the column or record at fault; never returns partial data.

    >>> import io
    >>> export = io.StringIO(
    ...     "id,group,age,gender,education,pain_avg_t1_arm_1,pain_avg_t2_arm_1\\n"
    ...     "1,1,34,2,3,6,2\\n"
    ...     "2,2,51,1,2,5,4\\n")
    >>> trial = read_trial(export)
    >>> trial.layout, list(trial.participants.index)
    ('flat', ['1', '2'])
    >>> trial.arms.to_dict()
    {'1': 'prt', '2': 'placebo'}
    >>> trial.participants.at["1", "sex"], float(trial.participants.at["1", "age"])
    ('female', 34.0)
    >>> trial.label_of("education", trial.participants.at["1", "education"])
    'College graduate'
    >>> trial.wide("pain_intensity", ["pre", "post"]).loc["1"].tolist()
    [6.0, 2.0]
    """
    frame = _load(source)
    columns = set(frame.columns)
    if "redcap_event_name" in columns:
        layout = "long"
    elif {"timepoint", "outcome", "value", "arm"} <= columns:
        layout = "tidy"
    else:
        layout = "flat"
    if mapping is None:
        mapping = _choose_mapping(frame, layout)
    if dictionary is not None:
        if not isinstance(dictionary, RedcapDictionary):
            dictionary = load_redcap_dictionary(dictionary)
        mapping = mapping.with_dictionary(dictionary)
    if layout == "long":
        return _read_long(frame, mapping)
    if layout == "tidy":
        return _read_tidy(frame, mapping)
    return _read_flat(frame, mapping)


# --------------------------------------------------------------------------- loading
def _load(source) -> pd.DataFrame:
    """All cells as stripped text; header names unique; at least one record."""
    if isinstance(source, pd.DataFrame):
        frame = source.astype(object).where(source.notna(), "")
        frame = frame.apply(lambda col: col.map(lambda v: str(v).strip()))
        frame.columns = [str(c).strip() for c in frame.columns]
        check_unique_columns(frame.columns, "input")
        if frame.empty:
            raise InputError("input: the export has a header but no records")
        return frame
    text, name = source_text(source, "input")
    return read_table(text, name)


def _choose_mapping(frame: pd.DataFrame, layout: str) -> Mapping:
    if layout == "tidy":
        return BOULDER_MAPPING
    events = set(BOULDER_MAPPING.events)
    if layout == "long":
        present = set(frame["redcap_event_name"].unique()) - {""}
        matched = bool(present & events)
    else:
        matched = any(c.endswith("_" + e) for c in frame.columns for e in events)
    if not matched:
        raise InputError(
            "the export's events do not match the built-in Boulder Back Pain Study mapping; "
            "pass a mapping file (--mapping FILE) that names its events, fields and arm codes"
        )
    return BOULDER_MAPPING


def _record_column(frame: pd.DataFrame, candidates: tuple[str, ...]) -> str:
    present = [name for name in dict.fromkeys(candidates) if name in frame.columns]
    if not present:
        raise InputError(f"no record-id column: expected one of {', '.join(candidates)}")
    if len(present) > 1:
        raise InputError(
            f"columns {' and '.join(repr(p) for p in present)} could each be the record id; keep one "
            "(or name it as the mapping's record_id)"
        )
    return present[0]


# --------------------------------------------------------------------------- cell parsing
def _numeric(values: pd.Series, mapping: Mapping) -> tuple[pd.Series, pd.Series]:
    """Text cells -> floats; returns (numbers, mask of cells that are neither missing nor numeric)."""
    missing = values.isin(mapping.missing_tokens)
    numbers = pd.to_numeric(values.where(~missing), errors="coerce")
    bad = numbers.isna() & ~missing
    return numbers.astype(float), bad


def _codes_text(mapping: Mapping, column: str, codes) -> str:
    labels = mapping.choices.get(column, {})
    return ", ".join(f"{code} ({labels[code]})" if code in labels else str(code) for code in codes)


_REQUIRED = (("arm_field", "randomization arm"), ("age_field", "age, years"), ("sex_field", "sex"))


def _participants(records: pd.DataFrame, mapping: Mapping, where: str) -> pd.DataFrame:
    """Participant table from one row per record of text cells (index = record id)."""
    missing = [f"{getattr(mapping, attr)!r} ({what})" for attr, what in _REQUIRED
               if getattr(mapping, attr) not in records.columns]
    if missing:
        noun = "column" if len(missing) == 1 else "columns"
        verb = "is" if len(missing) == 1 else "are"
        raise InputError(f"required {noun} {', '.join(missing)} {verb} missing{where}")
    out = pd.DataFrame(index=records.index)
    cells = records[mapping.arm_field]
    arm = cells.map(code_key).map(mapping.arm_codes)
    if arm.isna().any():
        rec = arm.index[arm.isna()][0]
        # an arm code is the project's allocation code, not a measurement: shown to help fix the export
        what = "is empty" if cells.loc[rec] in mapping.missing_tokens else f"has unknown code {cells.loc[rec]!r}"
        allowed = ", ".join(f"{k} ({v})" for k, v in mapping.arm_codes.items())
        raise InputError(f"record {rec}: {mapping.arm_field} {what}; expected one of {allowed}")
    out["arm"] = arm
    age, bad = _numeric(records[mapping.age_field], mapping)
    if bad.any():
        raise InputError(f"record {bad.index[bad][0]}: {mapping.age_field} is not a number")
    out["age"] = age
    cells = records[mapping.sex_field]
    sex = cells.map(code_key).map(mapping.sex_codes)
    bad = sex.isna() & ~cells.isin(mapping.missing_tokens)
    if bad.any():
        allowed = _codes_text(mapping, "sex", mapping.sex_codes)
        raise InputError(f"record {bad.index[bad][0]}: {mapping.sex_field} is not one of the sex codes "
                         f"{allowed}")
    out["sex"] = sex.astype(object).where(sex.notna(), None)
    field_of = {"age": mapping.age_field, "sex": mapping.sex_field}
    for field, name in mapping.participant_fields.items():
        if field not in records.columns:
            continue
        field_of[name] = field
        out[name] = _participant_values(records[field], field, name, mapping)
    out.index.name = "participant"
    check_participants(out, mapping, lambda column: field_of.get(column, column))
    return out


def _participant_values(cells: pd.Series, field: str, name: str, mapping: Mapping) -> pd.Series:
    """One fixed field's cells as numbers (or as text when the field is free text)."""
    missing = cells.isin(mapping.missing_tokens)
    recode = mapping.participant_recodes.get(name)
    if recode is not None:
        values = cells.map(code_key).map(recode)
        bad = values.isna() & ~missing
        if bad.any():
            raise InputError(f"record {bad.index[bad][0]}: {field} is not one of its codes: "
                             f"{_codes_text(mapping, name, recode)}")
        return values.astype(float)
    numbers, bad = _numeric(cells, mapping)
    labels = mapping.value_labels(name)
    numeric_codes = bool(labels) and all(_is_number(code) for code in labels)
    declared_number = numeric_codes or name in mapping.units or mapping.range_of(name) is not None
    if bad.any():
        if declared_number:
            what = f"is not one of its codes: {_codes_text(mapping, name, labels)}" if labels else "is not a number"
            raise InputError(f"record {bad.index[bad][0]}: {field} {what}")
        return cells.where(~missing, None)  # free text; a declared code list is checked as text
    return numbers


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _split_values(long: pd.DataFrame, mapping: Mapping, describe) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split long (participant, timepoint, field, value-text) rows into numeric measures and text.

    A field is text when the mapping says so, or when it is not a known outcome and some of its
    cells are not numbers (e.g. free text). A score with a non-numeric cell is an error, as is a
    measure outside its declared range or codes.
    """
    long = long[~long["value"].isin(mapping.missing_tokens)]
    numbers = pd.to_numeric(long["value"], errors="coerce")
    is_text_field = long["field"].isin(mapping.text_fields)
    non_numeric = numbers.isna() & ~is_text_field
    if non_numeric.any():
        offending = long.loc[non_numeric, "field"].unique()
        declared = [f for f in offending if _is_score(f, mapping)]
        if declared:
            row = long[non_numeric & long["field"].isin(declared)].iloc[0]
            hint = ""
            if _DECIMAL_COMMA.match(str(row["value"])):
                hint = " (a decimal comma? prt reads decimal points)"
            raise InputError(
                f"record {row['participant']}: {describe(row)} holds a non-numeric value "
                f"where a score is expected{hint}"
            )
        is_text_field = is_text_field | long["field"].isin(offending)
    text = long.loc[is_text_field, ["participant", "timepoint", "field", "value"]]
    measures = long[~is_text_field].assign(value=numbers[~is_text_field].astype(float))
    measures = measures.assign(outcome=measures["field"].map(mapping.outcome_of))
    check_measures(measures.reset_index(drop=True), mapping, describe)
    return measures[list(MEASURE_COLUMNS)], text.reset_index(drop=True)


def _is_score(field: str, mapping: Mapping) -> bool:
    """A field that must be numeric: a mapped or known outcome, or one with a range or codes."""
    outcome = mapping.outcome_of(field)
    labels = mapping.value_labels(outcome)
    return (field in mapping.fields or field in _SCORE_FIELDS or outcome in OUTCOME_SCORES
            or mapping.range_of(outcome) is not None or (bool(labels) and all(_is_number(c) for c in labels)))


#: The instruments' REDCap score fields (pain_avg, promis_dep, ...): numeric whatever the mapping.
_SCORE_FIELDS = frozenset(redcap_fields())


def _check_required_events(present: set[str], mapping: Mapping) -> None:
    absent = [e for e in mapping.required_events if e not in present]
    if absent:
        raise InputError(
            f"the mapping names event(s) absent from the data: {', '.join(absent)}"
        )


def _check_one_column_each(keys: dict[str, tuple], what) -> None:
    """Two columns that land on one value (after the mapping's renaming) would overwrite each other."""
    seen: dict[tuple, str] = {}
    for column, key in keys.items():
        if key in seen:
            raise InputError(f"columns {seen[key]!r} and {column!r} both hold {what(key)}")
        seen[key] = column


# --------------------------------------------------------------------------- layouts
def _read_flat(frame: pd.DataFrame, mapping: Mapping) -> TrialData:
    rid = _record_column(frame, mapping.record_id)
    frame = frame.assign(**{rid: frame[rid].map(_id_text)})
    _check_ids(frame[rid], rid)
    records = frame.set_index(rid)
    events = sorted(mapping.events, key=len, reverse=True)
    fixed, event_of = [], {}
    for column in records.columns:
        event = next((e for e in events if column.endswith("_" + e) and len(column) > len(e) + 1), None)
        if event is None:
            if _EVENT_LIKE.search(column) and column not in mapping.participant_fields:
                raise InputError(
                    f"column {column!r} names an event unknown to mapping {mapping.name!r}; "
                    "add it to the mapping's events"
                )
            fixed.append(column)
        else:
            event_of[column] = event
    fields = {c: c[: -len(e) - 1] for c, e in event_of.items()}
    timepoints = {c: mapping.events[e] for c, e in event_of.items()}
    _check_one_column_each({c: (mapping.outcome_of(fields[c]), timepoints[c]) for c in event_of},
                           lambda key: f"{key[0]} at {key[1]}")
    _check_required_events(set(event_of.values()), mapping)
    participants = _participants(records[fixed], mapping, "")
    long = _melt(records[list(event_of)], {"participant": records.index.to_numpy()}, "_column")
    long["field"] = long["_column"].map(fields)
    long["timepoint"] = long["_column"].map(timepoints)
    measures, text = _split_values(long, mapping, lambda row: f"column {row['_column']!r}")
    return TrialData.from_frames(participants, measures, text, mapping=mapping, layout="flat")


def _read_long(frame: pd.DataFrame, mapping: Mapping) -> TrialData:
    rid = _record_column(frame, mapping.record_id)
    frame = frame.assign(**{rid: frame[rid].map(_id_text)})
    _check_names(frame[rid], rid)
    repeat = frame.get("redcap_repeat_instrument")
    if repeat is not None and repeat.ne("").any():
        row = frame[repeat.ne("")].iloc[0]
        raise InputError(
            f"record {row[rid]}: repeating instrument {row['redcap_repeat_instrument']!r} is not supported; "
            "export without repeating instruments"
        )
    _check_one_number_one_record(frame[rid])
    events = frame["redcap_event_name"]
    unknown = ~events.isin(mapping.events)
    if unknown.any():
        row = frame[unknown].iloc[0]
        raise InputError(
            f"record {row[rid]}: unknown event {row['redcap_event_name']!r} in redcap_event_name; "
            f"mapping {mapping.name!r} knows: {', '.join(mapping.events)}"
        )
    dup = frame.duplicated([rid, "redcap_event_name"])
    if dup.any():
        row = frame[dup].iloc[0]
        raise InputError(f"record {row[rid]}: event {row['redcap_event_name']!r} appears in more than one row")
    _check_required_events(set(events.unique()), mapping)
    fixed_fields = [mapping.arm_field, mapping.age_field, mapping.sex_field, *mapping.participant_fields]
    fixed_fields = [f for f in dict.fromkeys(fixed_fields) if f in frame.columns]
    records = _collapse_fixed(frame, rid, fixed_fields, mapping)
    value_columns = [c for c in frame.columns if c not in fixed_fields and c != rid and c not in REDCAP_BOOKKEEPING]
    _check_one_column_each({c: (mapping.outcome_of(c),) for c in value_columns}, lambda key: key[0])
    long = _melt(frame[value_columns], {"participant": frame[rid].to_numpy(),
                                         "redcap_event_name": events.to_numpy()}, "field")
    long["timepoint"] = long["redcap_event_name"].map(mapping.events)
    participants = _participants(records, mapping, " (it may sit on any one event)")
    measures, text = _split_values(
        long, mapping, lambda row: f"column {row['field']!r} at event {row['redcap_event_name']!r}"
    )
    return TrialData.from_frames(participants, measures, text, mapping=mapping, layout="long")


def _collapse_fixed(frame: pd.DataFrame, rid: str, fields: list[str], mapping: Mapping) -> pd.DataFrame:
    """One row per record of the fixed fields, which may sit on any event but must not disagree."""
    ids = pd.Index(frame[rid].unique(), name=rid)
    out = pd.DataFrame(index=ids)
    for field in fields:
        cells = frame[[rid, field]]
        cells = cells[~cells[field].isin(mapping.missing_tokens)].drop_duplicates()
        conflict = cells[rid].duplicated()
        if conflict.any():
            rec = cells.loc[conflict, rid].iloc[0]
            what = "is in two arms" if field == mapping.arm_field else f"has conflicting values of {field!r}"
            raise InputError(f"record {rec}: {what} on different events")
        out[field] = cells.set_index(rid)[field].reindex(ids).fillna("")
    return out


def _read_tidy(frame: pd.DataFrame, mapping: Mapping) -> TrialData:
    rid = _record_column(frame, ("participant", *mapping.record_id))
    frame = frame.rename(columns={rid: "participant"})
    # a covariate under its REDCap name (gender, married_or_living_as_marri) is read under ours
    aliases = {mapping.arm_field: "arm", mapping.age_field: "age", mapping.sex_field: "sex",
               **mapping.participant_fields}
    aliases = {c: n for c, n in aliases.items() if c != n and c not in TIDY_REQUIRED}
    renamed = {c: aliases.get(c, c) for c in frame.columns}
    _check_one_column_each({c: (n,) for c, n in renamed.items()}, lambda key: f"the participants' {key[0]}")
    frame = frame.rename(columns=renamed)
    missing = [c for c in (*TIDY_REQUIRED[1:], "age", "sex") if c not in frame.columns]
    if missing:
        raise InputError(f"tidy data: missing column(s) {', '.join(missing)}")
    frame = frame.assign(participant=frame["participant"].map(_id_text))
    for column in ("participant", "timepoint", "outcome"):
        _check_names(frame[column], rid if column == "participant" else column)
    _check_one_number_one_record(frame["participant"])
    covariates = [c for c in frame.columns if c not in TIDY_REQUIRED]
    fixed = frame[["participant", "arm", *covariates]].drop_duplicates()
    for column in ["arm", *covariates]:
        pairs = fixed[["participant", column]].drop_duplicates()
        conflict = pairs["participant"].duplicated()
        if conflict.any():
            rec = pairs.loc[conflict, "participant"].iloc[0]
            what = "is in two arms" if column == "arm" else f"has more than one value of {column!r}"
            raise InputError(f"record {rec}: {what}")
    records = fixed.drop_duplicates("participant").set_index("participant")
    # arms and sexes may be given by name or by the mapping's codes; other codes as stored (recoded)
    tidy_mapping = replace(
        mapping,
        arm_field="arm",
        arm_codes={**mapping.arm_codes, **{v: v for v in mapping.arm_codes.values()}},
        sex_field="sex",
        sex_codes={**mapping.sex_codes, **{s: s for s in RECORDED_SEXES}},
        age_field="age",
        participant_fields={c: c for c in covariates if c not in ("age", "sex")},
        participant_recodes={},
        choices={c: mapping.value_labels(c) for c in mapping.choices if c not in ("arm", "sex")},
    )
    participants = _participants(records, tidy_mapping, "")
    values = frame[["participant", "timepoint", "outcome", "value"]]
    numbers, bad = _numeric(values["value"], mapping)
    if bad.any():
        row = values[bad].iloc[0]
        raise InputError(
            f"record {row['participant']}: value of {row['outcome']} at {row['timepoint']} is not a number"
        )
    measures = values.assign(value=numbers, given=values["outcome"])
    measures = measures.assign(outcome=measures["outcome"].map(mapping.outcome_of)).dropna(subset=["value"])
    dup = measures.duplicated(["participant", "timepoint", "outcome"], keep=False)
    if dup.any():
        rows = measures[dup]
        first = rows.iloc[0]
        same = rows[(rows["participant"] == first["participant"]) & (rows["timepoint"] == first["timepoint"])
                    & (rows["outcome"] == first["outcome"])]
        names = list(dict.fromkeys(same["given"]))
        what = (f"outcomes {' and '.join(repr(n) for n in names)} both give {first['outcome']}" if len(names) > 1
                else f"{first['outcome']} is given more than once")
        raise InputError(f"record {first['participant']}: at {first['timepoint']} {what}")
    measures = measures.reset_index(drop=True)
    check_measures(measures, mapping, lambda row: f"value of {row['given']} at {row['timepoint']}")
    return TrialData.from_frames(participants, measures[list(MEASURE_COLUMNS)], None, mapping=mapping, layout="tidy")


def _melt(cells: pd.DataFrame, ids: dict[str, np.ndarray], name: str) -> pd.DataFrame:
    """Wide cells -> one row per cell: the ``ids`` columns, ``name`` (the column) and ``value``.

    pandas' melt refuses a data column called ``value``; a file may well have one.
    """
    n, columns = len(cells), list(cells.columns)
    out = {key: np.tile(np.asarray(values, dtype=object), len(columns)) for key, values in ids.items()}
    out[name] = np.repeat(np.asarray(columns, dtype=object), n)
    out["value"] = cells.to_numpy(dtype=object).T.reshape(-1) if columns else np.array([], dtype=object)
    return pd.DataFrame(out)


def _check_names(values: pd.Series, column: str) -> None:
    """Record ids, events, timepoints and outcomes are names: none empty, none with a line break."""
    empty = values.eq("")
    if empty.any():
        raise InputError(f"data row {int(np.flatnonzero(empty)[0]) + 1}: column {column!r} is empty")
    broken = values.str.contains(CONTROL)
    if broken.any():
        raise InputError(f"data row {int(np.flatnonzero(broken)[0]) + 1}: column {column!r} holds a line break "
                         "or control character")


def _check_ids(ids: pd.Series, column: str) -> None:
    _check_names(ids, column)
    dup = ids[ids.duplicated()]
    if len(dup):
        raise InputError(f"record {dup.iloc[0]}: appears in more than one row of a flat export")
    _check_one_number_one_record(ids)


def _check_one_number_one_record(ids: pd.Series) -> None:
    """Ids that are one number written two ways (``12``, ``012``, ``12.0``) are one participant
    entered twice, or an id a spreadsheet reformatted: counted as two people they would be analysed
    twice, so they are an error naming both (ids are compared as :func:`code_key` reads codes)."""
    unique = pd.Series(pd.unique(ids))
    keys = unique.map(code_key)
    clash = keys.duplicated(keep=False)
    if clash.any():
        first = keys[clash].iloc[0]
        a, b = unique[keys == first].iloc[:2]
        raise InputError(f"records {a!r} and {b!r}: one number written two ways; give each participant "
                         "one record id")
