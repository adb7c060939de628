"""The one in-memory shape of a trial's data that every part of prt works on."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

import numpy as np
import pandas as pd

from prt.data.mapping import ARMS, BOULDER_MAPPING, RECORDED_SEXES, SIMULATED_FIELD, TIMEPOINTS, Mapping, code_key
from prt.errors import InputError

MEASURE_COLUMNS = ("participant", "timepoint", "outcome", "value")
TEXT_COLUMNS = ("participant", "timepoint", "field", "value")


@dataclass(frozen=True)
class TrialData:
    """A trial's records, independent of how they were captured.

    Attributes:
        participants: one row per participant, index ``participant`` (record id as text); columns
            ``arm`` (one of :data:`ARMS`), ``age`` (years), ``sex`` (``"male"``, ``"female"``,
            ``"other"`` or missing; the models adjusting for sex leave "other" out, as a missing
            sex) and the other fixed per-participant fields under the mapping's names (coded
            fields as their codes: :meth:`label_of` gives the label).
        measures: long frame ``participant, timepoint, outcome, value`` (float), one row per
            observed numeric value, sorted by participant, study order of timepoint, outcome.
        text: long frame ``participant, timepoint, field, value`` (str) for free-text and category fields.
        layout: where the data came from: ``"flat"``, ``"long"``, ``"tidy"`` or ``"frames"``.
        mapping: the :class:`Mapping` used to read (and to write back) the data.
    """

    participants: pd.DataFrame
    measures: pd.DataFrame
    text: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(TEXT_COLUMNS)))
    layout: str = "frames"
    mapping: Mapping = BOULDER_MAPPING

    @classmethod
    def from_frames(
        cls,
        participants: pd.DataFrame,
        measures: pd.DataFrame,
        text: pd.DataFrame | None = None,
        *,
        mapping: Mapping = BOULDER_MAPPING,
        layout: str = "frames",
    ) -> "TrialData":
        """Validate and normalise frames into a :class:`TrialData` (e.g. from a simulation).

        ``participants`` needs an ``arm`` column and the participant id as index or as a
        ``participant`` column; ``measures`` needs ``participant, timepoint, outcome, value``.
        """
        participants = participants.copy()
        if "participant" in participants.columns:
            participants = participants.set_index("participant")
        participants.index = participants.index.map(_id_text)
        participants.index.name = "participant"
        if participants.empty:
            raise InputError("no participants: the data hold no records")
        dupes = participants.index[participants.index.duplicated()].unique()
        if len(dupes):
            raise InputError(f"record {dupes[0]} appears more than once among the participants")
        if "arm" not in participants.columns:
            raise InputError("participants: column 'arm' is required (one of prt, placebo, usual_care)")
        bad_arm = participants.index[~participants["arm"].isin(ARMS)]
        if len(bad_arm):
            rec = bad_arm[0]
            raise InputError(
                f"record {rec}: arm {participants.at[rec, 'arm']!r} is not one of {', '.join(ARMS)}"
            )
        for col in ("age", "sex"):
            if col not in participants.columns:
                participants[col] = np.nan
        age = pd.to_numeric(participants["age"], errors="coerce")
        not_number = age.isna() & participants["age"].notna()
        if not_number.any():
            raise InputError(f"record {participants.index[not_number][0]}: age is not a number")
        participants["age"] = age.astype(float)
        sex_ok = participants["sex"].isna() | participants["sex"].isin(RECORDED_SEXES)
        if not sex_ok.all():
            rec = participants.index[~sex_ok][0]
            raise InputError(f"record {rec}: sex is not one of {', '.join(RECORDED_SEXES)}")
        participants["sex"] = participants["sex"].astype(object).where(participants["sex"].notna(), None)
        check_participants(participants, mapping)
        front = ["arm", "age", "sex"]
        participants = participants[front + [c for c in participants.columns if c not in front]]

        missing = [c for c in MEASURE_COLUMNS if c not in measures.columns]
        if missing:
            raise InputError(f"measures: missing column(s) {', '.join(missing)}")
        measures = measures.loc[:, list(MEASURE_COLUMNS)].copy()
        measures["participant"] = measures["participant"].map(_id_text)
        measures["timepoint"] = measures["timepoint"].astype(str)
        measures["outcome"] = measures["outcome"].astype(str)
        values = pd.to_numeric(measures["value"], errors="coerce")
        bad = values.isna() & measures["value"].notna()
        if bad.any():
            row = measures[bad].iloc[0]
            raise InputError(
                f"record {row['participant']}: {row['outcome']} at {row['timepoint']} is not a number"
            )
        measures["value"] = values.astype(float)
        measures = measures[measures["value"].notna()]
        check_measures(measures, mapping)
        unknown = ~measures["participant"].isin(participants.index)
        if unknown.any():
            raise InputError(
                f"record {measures.loc[unknown, 'participant'].iloc[0]}: has measures but no participant row (arm)"
            )
        dup = measures.duplicated(["participant", "timepoint", "outcome"])
        if dup.any():
            row = measures[dup].iloc[0]
            raise InputError(
                f"record {row['participant']}: {row['outcome']} at {row['timepoint']} is given more than once"
            )
        measures = _sort_rows(measures, mapping, participants.index, "outcome")

        if text is None:
            text = pd.DataFrame(columns=list(TEXT_COLUMNS))
        text = text.loc[:, list(TEXT_COLUMNS)].copy()
        text["participant"] = text["participant"].map(_id_text)
        text = text[text["value"].notna() & (text["value"].astype(str) != "")]
        text = _sort_rows(text, mapping, participants.index, "field")
        return cls(participants=participants, measures=measures, text=text, layout=layout, mapping=mapping)

    # ------------------------------------------------------------------ labels and units
    def label_of(self, column: str, value: Any) -> str | None:
        """Label of a stored value of a coded column (``education`` 3 -> "College graduate",
        ``sex`` "female" -> "Female"), from the mapping's choices; None when none is declared."""
        return self.mapping.label_of(column, value)

    def unit_of(self, column: str) -> str | None:
        """Unit of a numeric column (``weight`` -> "pounds", ``age`` -> "years"), or None."""
        return self.mapping.unit_of(column)

    # ------------------------------------------------------------------ views
    @property
    def origin(self) -> str:
        """``"simulated"`` when every participant carries ``prt simulate``'s marker, else ``"data"``."""
        marker = self.participants.get(SIMULATED_FIELD)
        if marker is not None and len(marker) and (pd.to_numeric(marker, errors="coerce") == 1).all():
            return "simulated"
        return "data"

    @property
    def arms(self) -> pd.Series:
        """Arm of each participant (index participant)."""
        return self.participants["arm"]

    @property
    def timepoints(self) -> tuple[str, ...]:
        """Timepoints present in the measures, in study order."""
        present = set(self.measures["timepoint"].unique())
        return tuple(t for t in _timepoint_order(self.mapping) if t in present)

    @property
    def outcomes(self) -> tuple[str, ...]:
        """Outcomes present in the measures, sorted."""
        return tuple(sorted(self.measures["outcome"].unique()))

    def wide(self, outcome: str, timepoints: Iterable[str] = TIMEPOINTS) -> pd.DataFrame:
        """One outcome as participant x timepoint (every participant; NaN where not observed)."""
        timepoints = list(timepoints)
        rows = self.measures[self.measures["outcome"] == outcome]
        table = rows.pivot(index="participant", columns="timepoint", values="value")
        table = table.reindex(index=self.participants.index, columns=timepoints)
        table.columns.name = "timepoint"
        return table.astype(float)


# --------------------------------------------------------------------------- value checks
def fmt_range(bounds: tuple[float, float]) -> str:
    """``0-10``; one-sided ranges as ``at least 0`` / ``at most 10``."""
    low, high = bounds
    if np.isinf(low):
        return f"at most {high:g}"
    if np.isinf(high):
        return f"at least {low:g}"
    return f"{low:g}-{high:g}"


def _codes_text(labels: dict[str, str]) -> str:
    return ", ".join(f"{code} ({label})" for code, label in labels.items())


def check_participants(participants: pd.DataFrame, mapping: Mapping,
                       field_of: Callable[[str], str] | None = None) -> None:
    """Every participant value finite, within its declared range and among its declared codes.

    ``field_of`` names a column as in the input (the REDCap field); messages never show a value.
    """
    field_of = field_of or (lambda column: column)
    for column in participants.columns:
        if column in ("arm", "sex"):
            continue
        values = participants[column]
        bounds = mapping.range_of(column)
        labels = mapping.value_labels(column)
        numbers = None
        if pd.api.types.is_numeric_dtype(values.dtype):
            numbers = values.astype(float)
        elif bounds is not None:  # a declared range makes the column a number
            present = values.notna()
            numbers = pd.to_numeric(values.where(present), errors="coerce")
            if (numbers.isna() & present).any():
                rec = values.index[(numbers.isna() & present).to_numpy()][0]
                raise InputError(f"record {rec}: {field_of(column)} is not a number")
        if numbers is not None:
            finite = np.isfinite(numbers.to_numpy(float)) | numbers.isna().to_numpy()
            if not finite.all():
                raise InputError(f"record {values.index[~finite][0]}: {field_of(column)} is not a finite number")
        if bounds is not None:
            outside = (numbers < bounds[0]) | (numbers > bounds[1])
            if outside.any():
                raise InputError(f"record {values.index[outside.to_numpy()][0]}: {field_of(column)} is outside "
                                 f"its range {fmt_range(bounds)}")
        if labels:
            keys = values.map(lambda v: None if v is None or v != v else code_key(v))
            unknown = keys.notna() & ~keys.isin(list(labels))
            if unknown.any():
                raise InputError(f"record {values.index[unknown.to_numpy()][0]}: {field_of(column)} is not one of "
                                 f"its codes: {_codes_text(labels)}")


def check_measures(measures: pd.DataFrame, mapping: Mapping,
                   describe: Callable[[pd.Series], str] | None = None) -> None:
    """Every value finite, within its outcome's declared range and among its declared codes.

    Ranges come from the instrument definitions and the mapping (:meth:`Mapping.range_of`);
    ``describe(row)`` names where a value came from (the file's column); no value is shown.
    """
    if measures.empty:
        return
    describe = describe or (lambda row: f"{row['outcome']} at {row['timepoint']}")
    values = measures["value"].to_numpy(float)
    infinite = np.isinf(values)
    if infinite.any():
        row = measures.iloc[int(np.flatnonzero(infinite)[0])]
        raise InputError(f"record {row['participant']}: {describe(row)} is not a finite number")
    for outcome, positions in measures.groupby("outcome", sort=False).indices.items():
        bounds = mapping.range_of(outcome)
        v = values[positions]
        if bounds is not None:
            outside = (v < bounds[0]) | (v > bounds[1])
            if outside.any():
                row = measures.iloc[int(positions[np.flatnonzero(outside)[0]])]
                raise InputError(f"record {row['participant']}: {describe(row)} is outside the range of "
                                 f"{outcome} ({fmt_range(bounds)})")
        labels = mapping.value_labels(outcome)
        codes = _numeric_codes(labels)
        if codes is not None:
            unknown = ~np.isin(v, codes)
            if unknown.any():
                row = measures.iloc[int(positions[np.flatnonzero(unknown)[0]])]
                raise InputError(f"record {row['participant']}: {describe(row)} is not one of the codes of "
                                 f"{outcome}: {_codes_text(labels)}")


def _numeric_codes(labels: dict[str, str]) -> np.ndarray | None:
    if not labels:
        return None
    try:
        return np.array([float(code) for code in labels], dtype=float)
    except ValueError:
        return None  # text codes: such a field is read as text, not as a measure


def _timepoint_order(mapping: Mapping) -> list[str]:
    order = list(dict.fromkeys(list(mapping.events.values())))
    for t in TIMEPOINTS:
        if t not in order:
            order.append(t)
    return order


def _sort_rows(rows: pd.DataFrame, mapping: Mapping, participants: pd.Index, name: str) -> pd.DataFrame:
    """Participants in table order, timepoints in study order, then by ``name`` alphabetically."""
    order = {t: i for i, t in enumerate(_timepoint_order(mapping))}
    key = rows["timepoint"].map(order).fillna(len(order))
    rank = pd.Series(np.arange(len(participants)), index=participants)
    return (
        rows.assign(_who=rows["participant"].map(rank).to_numpy(), _order=key.to_numpy())
        .sort_values(["_who", "_order", "timepoint", name], kind="stable")
        .drop(columns=["_who", "_order"])
        .reset_index(drop=True)
    )


def _id_text(value) -> str:
    """Record ids as text; 12, 12.0 and "12" are the same record."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    return str(value).strip()
