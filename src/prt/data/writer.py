"""Write :class:`TrialData` back out: REDCap flat and long exports, and tidy CSV.

``read_trial(write_redcap(trial))`` gives the same participants, measures and text back
(tests/data/test_reader.py). A file is written atomically (:func:`prt.files.atomic_write`: a
failure never leaves a half-written export) and, since people open these files in spreadsheets,
text cells starting with ``=``, ``+``, ``-`` or ``@`` get a leading apostrophe (OWASP CSV
injection; :func:`prt.files.csv_safe`); numbers, negative ones included, are written as they are.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pandas as pd

from prt.data.mapping import BOULDER_MAPPING, Mapping
from prt.data.model import TrialData, _timepoint_order
from prt.errors import InputError
from prt.files import atomic_write, csv_safe_frame, os_error


def redcap_cell(value) -> str:
    """A value as REDCap writes it: integers without a decimal point, missing as empty."""
    if value is None:
        return ""
    if isinstance(value, (float, np.floating)):
        if np.isnan(value):
            return ""
        if float(value).is_integer():
            return str(int(value))
        return format(float(value), ".15g")
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    return str(value)


def _invert(codes: dict[str, str], what: str) -> dict[str, str]:
    inverse: dict[str, str] = {}
    for code, name in codes.items():
        inverse.setdefault(name, code)
    return inverse


def _fixed_columns(trial: TrialData, mapping: Mapping) -> pd.DataFrame:
    """Per-participant fields under the mapping's REDCap names and codes."""
    p = trial.participants
    arm_code = _invert(mapping.arm_codes, "arm")
    sex_code = _invert(mapping.sex_codes, "sex")
    out = pd.DataFrame(index=p.index)
    out[mapping.arm_field] = p["arm"].map(arm_code)
    out[mapping.age_field] = p["age"].map(redcap_cell)
    out[mapping.sex_field] = p["sex"].map(lambda s: sex_code.get(s, "") if isinstance(s, str) else "")
    field_of = {name: field for field, name in mapping.participant_fields.items()}
    for column in p.columns:
        if column in ("arm", "age", "sex"):
            continue
        recode = mapping.participant_recodes.get(column)
        values = p[column]
        if recode is not None:
            back = {v: k for k, v in recode.items()}
            values = values.map(lambda v: back.get(v, v))
        out[field_of.get(column, column)] = values.map(redcap_cell)
    return out


def _long_cells(trial: TrialData, mapping: Mapping) -> pd.DataFrame:
    """participant, event, field, value-text for every measure and text value."""
    order = _timepoint_order(mapping)
    known = set(mapping.events.values())
    frames = []
    m = trial.measures
    if len(m):
        frames.append(pd.DataFrame({
            "participant": m["participant"], "timepoint": m["timepoint"],
            "field": m["outcome"].map(mapping.field_of), "value": m["value"].map(redcap_cell),
        }))
    t = trial.text
    if len(t):
        frames.append(pd.DataFrame({
            "participant": t["participant"], "timepoint": t["timepoint"],
            "field": t["field"], "value": t["value"].astype(str),
        }))
    if not frames:
        return pd.DataFrame(columns=["participant", "event", "field", "value"])
    cells = pd.concat(frames, ignore_index=True)
    unknown = ~cells["timepoint"].isin(known)
    if unknown.any():
        row = cells[unknown].iloc[0]
        raise InputError(
            f"record {row['participant']}: timepoint {row['timepoint']!r} has no event in mapping {mapping.name!r}"
        )
    event_of = {tp: mapping.event_of(tp) for tp in cells["timepoint"].unique()}
    cells["event"] = cells["timepoint"].map(event_of)
    cells["_order"] = cells["timepoint"].map({t: i for i, t in enumerate(order)})
    return cells


def _field_order(cells: pd.DataFrame) -> list[str]:
    return list(dict.fromkeys(cells.sort_values("_order", kind="stable")["field"]))


def redcap_frame(trial: TrialData, layout: str = "flat", mapping: Mapping | None = None) -> pd.DataFrame:
    """The trial as a REDCap export frame (all cells text) in the ``flat`` or ``long`` layout."""
    mapping = mapping or trial.mapping or BOULDER_MAPPING
    if layout not in ("flat", "long"):
        raise InputError(f"layout must be 'flat' or 'long', got {layout!r}")
    rid = mapping.record_id[0]
    fixed = _fixed_columns(trial, mapping)
    cells = _long_cells(trial, mapping)
    fields = _field_order(cells) if len(cells) else []
    events = [e for e in mapping.events if e in set(cells.get("event", []))]
    ids = trial.participants.index
    if layout == "flat":
        wide = cells.pivot(index="participant", columns=["field", "event"], values="value") if len(cells) else None
        columns = {rid: list(ids)}
        for name in fixed.columns:
            columns[name] = fixed[name].reindex(ids).fillna("").tolist()
        for event in events:
            for field in fields:
                key = (field, event)
                if wide is not None and key in wide.columns:
                    columns[f"{field}_{event}"] = wide[key].reindex(ids).fillna("").tolist()
        return pd.DataFrame(columns)
    # long: one row per record and event that has data; fixed fields on the record's first row
    rows = cells.pivot(index=["participant", "event"], columns="field", values="value") if len(cells) else pd.DataFrame()
    records = []
    for pid in ids:
        present = [e for e in events if (pid, e) in rows.index] or [next(iter(mapping.events))]
        for i, event in enumerate(present):
            row = {rid: pid, "redcap_event_name": event}
            for name in fixed.columns:
                row[name] = fixed.at[pid, name] if i == 0 else ""
            if (pid, event) in rows.index:
                values = rows.loc[(pid, event)]
                for field in fields:
                    v = values.get(field)
                    row[field] = "" if v is None or (isinstance(v, float) and np.isnan(v)) else v
            records.append(row)
    columns = [rid, "redcap_event_name", *fixed.columns, *fields]
    return pd.DataFrame(records, columns=columns).fillna("")


def tidy_frame(trial: TrialData) -> pd.DataFrame:
    """The trial in prt's tidy layout: one row per observed value, covariates repeated per row."""
    covariates = trial.participants.reset_index()
    out = trial.measures.merge(covariates, on="participant", how="left")
    front = ["participant", "arm", "timepoint", "outcome", "value"]
    return out[front + [c for c in covariates.columns if c not in front]]


def write_redcap(trial: TrialData, target: str | Path | io.IOBase, layout: str = "flat",
                 mapping: Mapping | None = None) -> None:
    """Write the trial as a REDCap ``flat`` or ``long`` CSV export."""
    _write_csv(redcap_frame(trial, layout, mapping), target)


def write_tidy(trial: TrialData, target: str | Path | io.IOBase) -> None:
    """Write the trial in prt's tidy CSV layout (numeric measures; free text is not carried)."""
    frame = tidy_frame(trial)
    frame["value"] = frame["value"].map(redcap_cell)
    _write_csv(frame, target)


def _write_csv(frame: pd.DataFrame, target) -> None:
    text = csv_safe_frame(frame).to_csv(index=False, lineterminator="\n")
    if not isinstance(target, (str, os.PathLike)):
        try:
            target.write(text)
        except TypeError:  # a binary file or buffer
            target.write(text.encode("utf-8"))
        return
    path = Path(target)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise os_error(path.parent, exc, "cannot be created") from None
    atomic_write(path, text)
