"""The one reader through which trial data enters prt: REDCap flat and long exports, and tidy CSV.

- REDCap *flat* ("wide") export: one row per record, a column per ``<field>_<event>``.
- REDCap *long* export: one row per record and event, with ``redcap_event_name``; fixed
  per-participant fields (arm, age, sex, ...) may sit on any single event.
- *tidy*: ``participant, arm, timepoint, outcome, value`` plus per-participant covariate columns.

Every cell is read as text and converted here, so a bad value is reported with its record and
column rather than silently becoming NaN.
"""

from __future__ import annotations

import io
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from prt.data.mapping import BOULDER_MAPPING, Mapping
from prt.data.model import MEASURE_COLUMNS, TrialData, _id_text
from prt.errors import InputError

TIDY_REQUIRED = ("participant", "arm", "timepoint", "outcome", "value")
REDCAP_BOOKKEEPING = (
    "redcap_event_name",
    "redcap_repeat_instrument",
    "redcap_repeat_instance",
    "redcap_data_access_group",
    "redcap_survey_identifier",
)
_EVENT_LIKE = re.compile(r"_arm_\d+$")


def read_trial(source: str | Path | pd.DataFrame | io.IOBase, mapping: Mapping | None = None) -> TrialData:
    """Read a trial export (layout detected from its columns) into :class:`TrialData`.

    ``mapping=None`` chooses the built-in Boulder mapping when the export's events match it.
    Raises :class:`InputError` naming the column or record at fault; never returns partial data.
    """
    frame = _load(source)
    columns = list(frame.columns)
    if "redcap_event_name" in columns:
        layout = "long"
    elif set(TIDY_REQUIRED[2:]) <= set(columns) and ("arm" in columns):
        layout = "tidy"
    else:
        layout = "flat"
    if mapping is None:
        mapping = _choose_mapping(frame, layout)
    if layout == "long":
        return _read_long(frame, mapping)
    if layout == "tidy":
        return _read_tidy(frame, mapping)
    return _read_flat(frame, mapping)


# --------------------------------------------------------------------------- loading
def _load(source) -> pd.DataFrame:
    if isinstance(source, pd.DataFrame):
        frame = source.astype(object).where(source.notna(), "").astype(str)
    else:
        name = str(source) if isinstance(source, (str, Path)) else "input"
        if isinstance(source, (str, Path)):
            path = Path(source)
            if not path.is_file():
                raise InputError(f"{name}: no such file")
            if path.stat().st_size == 0:
                raise InputError(f"{name}: the file is empty (expected a CSV export with a header row)")
        try:
            frame = pd.read_csv(source, dtype=str, keep_default_na=False, encoding_errors="strict")
        except pd.errors.EmptyDataError:
            raise InputError(f"{name}: the file is empty (expected a CSV export with a header row)") from None
        except (pd.errors.ParserError, UnicodeDecodeError) as exc:
            raise InputError(f"{name}: not a readable CSV file ({str(exc).splitlines()[0]})") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    dup = pd.Index(frame.columns)[pd.Index(frame.columns).duplicated()]
    if len(dup):
        raise InputError(f"column {dup[0]!r} appears more than once in the header")
    if frame.empty:
        raise InputError("the export has a header but no records")
    return frame.apply(lambda col: col.str.strip())


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


def _record_column(frame: pd.DataFrame, mapping: Mapping) -> str:
    for name in mapping.record_id:
        if name in frame.columns:
            return name
    raise InputError(f"no record-id column: expected one of {', '.join(mapping.record_id)}")


# --------------------------------------------------------------------------- cell parsing
def _numeric(values: pd.Series, mapping: Mapping) -> tuple[pd.Series, pd.Series]:
    """Text cells -> floats; returns (numbers, mask of cells that are neither missing nor numeric)."""
    missing = values.isin(mapping.missing_tokens)
    numbers = pd.to_numeric(values.where(~missing), errors="coerce")
    bad = numbers.isna() & ~missing
    return numbers.astype(float), bad


def _participants(records: pd.DataFrame, mapping: Mapping, where: str) -> pd.DataFrame:
    """Participant table from one row per record of text cells (index = record id)."""
    if mapping.arm_field not in records.columns:
        raise InputError(f"required column {mapping.arm_field!r} (randomization arm) is missing{where}")
    out = pd.DataFrame(index=records.index)
    codes = records[mapping.arm_field]
    arm = codes.map(mapping.arm_codes)
    if arm.isna().any():
        rec = arm.index[arm.isna()][0]
        code = codes.loc[rec]
        what = "is empty" if code in mapping.missing_tokens else f"has unknown code {code!r}"
        allowed = ", ".join(f"{k} ({v})" for k, v in mapping.arm_codes.items())
        raise InputError(f"record {rec}: {mapping.arm_field} {what}; expected one of {allowed}")
    out["arm"] = arm
    if mapping.age_field in records.columns:
        age, bad = _numeric(records[mapping.age_field], mapping)
        if bad.any():
            rec = bad.index[bad][0]
            raise InputError(f"record {rec}: {mapping.age_field} is not a number")
        out["age"] = age
    else:
        out["age"] = np.nan
    if mapping.sex_field in records.columns:
        codes = records[mapping.sex_field]
        sex = codes.map(mapping.sex_codes)
        bad = sex.isna() & ~codes.isin(mapping.missing_tokens)
        if bad.any():
            rec = bad.index[bad][0]
            allowed = ", ".join(f"{k} ({v})" for k, v in mapping.sex_codes.items())
            raise InputError(f"record {rec}: {mapping.sex_field} has unknown code {codes.loc[rec]!r}; expected {allowed}")
        out["sex"] = sex.astype(object).where(sex.notna(), None)
    else:
        out["sex"] = None
    for field, name in mapping.participant_fields.items():
        if field not in records.columns:
            continue
        cells = records[field]
        recode = mapping.participant_recodes.get(name)
        if recode is not None:
            values = cells.map(recode)
            bad = values.isna() & ~cells.isin(mapping.missing_tokens)
            if bad.any():
                rec = bad.index[bad][0]
                raise InputError(
                    f"record {rec}: {field} has unknown code {cells.loc[rec]!r}; expected one of {', '.join(recode)}"
                )
            out[name] = values.astype(float)
            continue
        numbers, bad = _numeric(cells, mapping)
        out[name] = numbers if not bad.any() else cells.where(~cells.isin(mapping.missing_tokens), None)
    out.index.name = "participant"
    return out


def _split_values(
    long: pd.DataFrame, mapping: Mapping, column_of
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split long (participant, timepoint, field, value-text) rows into numeric measures and text.

    A field is text when the mapping says so, or when it is not a known outcome and some of its
    cells are not numbers (e.g. free text). A mapped outcome with a non-numeric cell is an error.
    """
    long = long[~long["value"].isin(mapping.missing_tokens)]
    numbers = pd.to_numeric(long["value"], errors="coerce")
    is_text_field = long["field"].isin(mapping.text_fields)
    non_numeric = numbers.isna() & ~is_text_field
    if non_numeric.any():
        offending = long.loc[non_numeric, "field"].unique()
        declared = [f for f in offending if f in mapping.fields or f in _SCORE_FIELDS]
        if declared:
            row = long[non_numeric & long["field"].isin(declared)].iloc[0]
            raise InputError(
                f"record {row['participant']}: column {column_of(row)!r} holds a non-numeric value "
                f"where a score is expected"
            )
        is_text_field = is_text_field | long["field"].isin(offending)
    text = long[is_text_field].rename(columns={"value": "value"})[["participant", "timepoint", "field", "value"]]
    measures = long[~is_text_field].assign(value=numbers[~is_text_field])
    measures = measures.assign(outcome=measures["field"].map(mapping.outcome_of))
    return measures[list(MEASURE_COLUMNS)], text.reset_index(drop=True)


#: Score fields that must always be numeric (the trial's outcomes, whatever a mapping calls them).
_SCORE_FIELDS = {
    "pain_avg", "bpi_intensity", "bpi_interference", "odi", "promis_dep", "promis_anger",
    "promis_anxiety", "promis_sleep", "panas_pa", "panas_na", "pcs", "tsk11", "sopa_emo", "pgic",
    "ceq", "tx_satisfaction",
}


def _check_required_events(present: set[str], mapping: Mapping) -> None:
    absent = [e for e in mapping.required_events if e not in present]
    if absent:
        raise InputError(
            f"the mapping names event(s) absent from the data: {', '.join(absent)}"
        )


# --------------------------------------------------------------------------- layouts
def _read_flat(frame: pd.DataFrame, mapping: Mapping) -> TrialData:
    rid = _record_column(frame, mapping)
    frame = frame.assign(**{rid: frame[rid].map(_id_text)})
    _check_ids(frame[rid], rid)
    records = frame.set_index(rid)
    events = sorted(mapping.events, key=len, reverse=True)
    pieces, fixed, present = [], [], set()
    for column in records.columns:
        event = next((e for e in events if column.endswith("_" + e)), None)
        if event is None:
            if _EVENT_LIKE.search(column) and column not in mapping.participant_fields:
                raise InputError(
                    f"column {column!r} names an event unknown to mapping {mapping.name!r}; "
                    "add it to the mapping's events"
                )
            fixed.append(column)
            continue
        present.add(event)
        field = column[: -len(event) - 1]
        pieces.append(
            pd.DataFrame(
                {
                    "participant": records.index,
                    "timepoint": mapping.events[event],
                    "field": field,
                    "value": records[column].to_numpy(),
                    "_column": column,
                }
            )
        )
    _check_required_events(present, mapping)
    participants = _participants(records[fixed], mapping, "")
    long = pd.concat(pieces, ignore_index=True) if pieces else _empty_long()
    measures, text = _split_values(long, mapping, lambda row: row["_column"])
    return TrialData.from_frames(participants, measures, text, mapping=mapping, layout="flat")


def _read_long(frame: pd.DataFrame, mapping: Mapping) -> TrialData:
    rid = _record_column(frame, mapping)
    frame = frame.assign(**{rid: frame[rid].map(_id_text)})
    if frame[rid].eq("").any():
        raise InputError(f"row {int(np.flatnonzero(frame[rid].eq(''))[0]) + 2}: column {rid!r} is empty")
    repeat = frame.get("redcap_repeat_instrument")
    if repeat is not None and repeat.ne("").any():
        row = frame[repeat.ne("")].iloc[0]
        raise InputError(
            f"record {row[rid]}: repeating instrument {row['redcap_repeat_instrument']!r} is not supported; "
            "export without repeating instruments"
        )
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
    long = frame.melt(id_vars=[rid, "redcap_event_name"], value_vars=value_columns, var_name="field", value_name="value")
    long = long.rename(columns={rid: "participant"})
    long["timepoint"] = long["redcap_event_name"].map(mapping.events)
    participants = _participants(records, mapping, " (it may sit on any one event)")
    measures, text = _split_values(
        long, mapping, lambda row: f"{row['field']}' at event '{row['redcap_event_name']}"
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
    rid = "participant" if "participant" in frame.columns else _record_column(frame, mapping)
    missing = [c for c in TIDY_REQUIRED if c != "participant" and c not in frame.columns]
    if missing:
        raise InputError(f"tidy data: missing column(s) {', '.join(missing)}")
    frame = frame.assign(participant=frame[rid].map(_id_text))
    covariates = [c for c in frame.columns if c not in TIDY_REQUIRED and c != rid]
    fixed = frame[["participant", "arm", *covariates]].drop_duplicates()
    for column in ["arm", *covariates]:
        conflict = fixed[["participant", column]].drop_duplicates()["participant"].duplicated()
        if conflict.any():
            rec = fixed[["participant", column]].drop_duplicates().loc[conflict, "participant"].iloc[0]
            what = "is in two arms" if column == "arm" else f"has more than one value of {column!r}"
            raise InputError(f"record {rec}: {what}")
    records = fixed.drop_duplicates("participant").set_index("participant")
    # arms and sexes may be given by name or by the mapping's codes
    arm_names = {v: v for v in mapping.arm_codes.values()}
    tidy_mapping = replace(
        mapping,
        arm_field="arm",
        arm_codes={**mapping.arm_codes, **arm_names},
        sex_field="sex",
        sex_codes={**mapping.sex_codes, "male": "male", "female": "female"},
        participant_fields={c: c for c in covariates if c not in ("age", "sex")},
        participant_recodes={},
    )
    participants = _participants(records, tidy_mapping, "")
    values = frame[["participant", "timepoint", "outcome", "value"]]
    numbers, bad = _numeric(values["value"], mapping)
    if bad.any():
        row = values[bad].iloc[0]
        raise InputError(
            f"record {row['participant']}: value of {row['outcome']} at {row['timepoint']} is not a number"
        )
    measures = values.assign(value=numbers).dropna(subset=["value"])
    return TrialData.from_frames(participants, measures, None, mapping=mapping, layout="tidy")


def _check_ids(ids: pd.Series, column: str) -> None:
    if ids.eq("").any():
        raise InputError(f"row {int(np.flatnonzero(ids.eq(''))[0]) + 2}: column {column!r} is empty")
    dup = ids[ids.duplicated()]
    if len(dup):
        raise InputError(f"record {dup.iloc[0]}: appears in more than one row of a flat export")


def _empty_long() -> pd.DataFrame:
    return pd.DataFrame(columns=["participant", "timepoint", "field", "value", "_column"])
