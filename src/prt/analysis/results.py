"""The result object of :func:`prt.analysis.run_analysis`: documented DataFrames, JSON, a summary.

Modelled on statsmodels' result objects (a fit returns an object with a ``summary()``) and
pingouin's documented DataFrames: each field below is a DataFrame whose columns are fixed and
listed here, even when it has no rows. ``to_dict()`` / ``to_json()`` give the ``results.json``
contract (docs/analysis.md); :meth:`AnalysisResults.from_dict` and :func:`load_results` read it back.

Columns:
    primary: comparison, estimate, se, t, df, p, n_obs, n_participants, converged
    outcomes: outcome, timepoint, group, mean, sd, n
    effects: outcome, timepoint, comparison, g, se, ci_low, ci_high, p, n1, n2
    responders: timepoint, group, criterion, responders, randomized
    correlations: x, y, group, r, df, p, timepoint
    mediation: mediator, outcome, timepoint, comparison, direction, n, indirect, ci_low, ci_high,
        p, se, boot_mean, a, b, c_prime, c, ab, p_a, p_b, p_c_prime, p_c, p_ab
    moderation: outcome, timepoint, moderator, comparison, estimate, se, t, df, p, n

Beside the tables, results.json may hold the extra sections ``prt analyze`` adds when given their
data (``program``, ``attributions``, ``imaging``; :mod:`prt.analysis.sections`): objects kept as
they are in :attr:`AnalysisResults.sections`, so a results.json reads back whole.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping

import numpy as np
import pandas as pd

from prt.errors import InputError

#: The columns of each results table, in order (the ``results.json`` record keys).
COLUMNS: dict[str, tuple[str, ...]] = {
    "primary": ("comparison", "estimate", "se", "t", "df", "p", "n_obs", "n_participants", "converged"),
    "outcomes": ("outcome", "timepoint", "group", "mean", "sd", "n"),
    "effects": ("outcome", "timepoint", "comparison", "g", "se", "ci_low", "ci_high", "p", "n1", "n2"),
    "responders": ("timepoint", "group", "criterion", "responders", "randomized"),
    "correlations": ("x", "y", "group", "r", "df", "p", "timepoint"),
    "mediation": ("mediator", "outcome", "timepoint", "comparison", "direction", "n", "indirect",
                  "ci_low", "ci_high", "p", "se", "boot_mean", "a", "b", "c_prime", "c", "ab",
                  "p_a", "p_b", "p_c_prime", "p_c", "p_ab"),
    "moderation": ("outcome", "timepoint", "moderator", "comparison", "estimate", "se", "t", "df", "p", "n"),
}
TABLES = tuple(COLUMNS)
#: Integer columns (kept integers in JSON).
_INTEGER = {"n_obs", "n_participants", "n", "n1", "n2", "responders", "randomized"}


def records_frame(name: str, records: list[dict]) -> pd.DataFrame:
    """Records as the documented DataFrame of table ``name`` (every column, in order)."""
    columns = COLUMNS[name]
    frame = pd.DataFrame.from_records(list(records), columns=list(columns))
    for column in columns:
        if column in _INTEGER and len(frame) and frame[column].notna().all():
            frame[column] = frame[column].astype("int64")
    return frame


def jsonable(value: Any) -> Any:
    """Plain JSON values: NaN and infinities become None, numpy scalars Python ones."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else None
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if value is pd.NA or value is pd.NaT:
        return None
    return value


@dataclass(frozen=True)
class AnalysisResults:
    """Every analysis of a trial (Ashar et al., JAMA Psychiatry 2022), as documented DataFrames.

    Attributes:
        primary, outcomes, effects, responders, correlations, mediation, moderation: DataFrames
            with the columns in :data:`COLUMNS` (module docstring).
        meta: read-only mapping: dataset (``boulder-back-pain-study`` when the data are the
            trial's own, identified by content; ``simulated``; ``custom``), n_randomized,
            bootstrap, mediation_bootstrap, seed, version, layout, warnings.
        primary_model: the full :class:`~prt.analysis.mixed.MixedModelResult` of the primary
            model (None when it could not be fitted; read from JSON it is None too).
        warnings: what was skipped or did not converge, one sentence each (also warned).
        sections: read-only mapping of the extra sections' results by key (``program``,
            ``attributions``, ``imaging``; docs/analysis.md), empty unless the report had them.
    """

    primary: pd.DataFrame
    outcomes: pd.DataFrame
    effects: pd.DataFrame
    responders: pd.DataFrame
    correlations: pd.DataFrame
    mediation: pd.DataFrame
    moderation: pd.DataFrame
    meta: Mapping[str, Any] = field(default_factory=dict)
    primary_model: Any = None
    warnings: tuple[str, ...] = ()
    sections: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        from prt.analysis.sections import SECTION_KEYS

        object.__setattr__(self, "meta", MappingProxyType(dict(self.meta)))
        object.__setattr__(self, "warnings", tuple(self.warnings))
        unknown = sorted(set(self.sections) - set(SECTION_KEYS))
        if unknown:
            raise InputError(f"unknown results section(s) {', '.join(unknown)}; known: {', '.join(SECTION_KEYS)}")
        object.__setattr__(self, "sections", MappingProxyType(
            {k: self.sections[k] for k in SECTION_KEYS if k in self.sections}))

    # ------------------------------------------------------------------ conversions
    def to_dict(self) -> dict[str, Any]:
        """The ``results.json`` contract: ``{table: [record, ...], ..., "meta": {...}}``, JSON-ready."""
        out: dict[str, Any] = {}
        for name in TABLES:
            frame = getattr(self, name)
            out[name] = [jsonable(r) for r in frame.to_dict(orient="records")]
        out["meta"] = jsonable(dict(self.meta))
        for key, value in self.sections.items():
            out[key] = jsonable(value)
        return out

    def to_json(self, indent: int | None = 1) -> str:
        """``results.json`` as text (valid JSON: NaN written as null)."""
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    def table(self, name: str) -> pd.DataFrame:
        """One results table by name (``primary``, ``effects``, ...)."""
        if name not in COLUMNS:
            raise InputError(f"unknown results table {name!r}; known: {', '.join(TABLES)}")
        return getattr(self, name)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str = "results") -> "AnalysisResults":
        """Read the ``results.json`` contract back (``primary_model`` is None: JSON does not carry it)."""
        if not isinstance(data, Mapping):
            raise InputError(f"{source}: expected a JSON object with keys {', '.join(TABLES)}, meta")
        frames = {}
        for name in TABLES:
            records = data.get(name, [])
            if not isinstance(records, list) or not all(isinstance(r, Mapping) for r in records):
                raise InputError(f"{source}: {name!r} must be a list of records")
            unknown = sorted({k for r in records for k in r} - set(COLUMNS[name]))
            if unknown:
                raise InputError(f"{source}: {name!r} records have unknown field(s) {', '.join(unknown)}")
            frames[name] = records_frame(name, [{k: (np.nan if v is None else v) for k, v in r.items()}
                                                for r in records])
        meta = data.get("meta", {})
        if not isinstance(meta, Mapping):
            raise InputError(f"{source}: 'meta' must be an object")
        notes = meta.get("warnings") or ()
        if not isinstance(notes, (list, tuple)) or not all(isinstance(n, str) for n in notes):
            raise InputError(f"{source}: meta.warnings must be a list of sentences")
        from prt.analysis.sections import SECTION_KEYS

        sections = {}
        for key in SECTION_KEYS:
            if key in data:
                if not isinstance(data[key], Mapping):
                    raise InputError(f"{source}: {key!r} must be an object")
                sections[key] = data[key]
        return cls(**frames, meta=dict(meta), warnings=tuple(notes), sections=sections)

    # ------------------------------------------------------------------ reading
    def effect(self, outcome: str, timepoint: str, comparison: str) -> pd.Series:
        """The one Hedges g record of a cell; InputError naming the cell when absent."""
        rows = self.effects[(self.effects["outcome"] == outcome) & (self.effects["timepoint"] == timepoint)
                            & (self.effects["comparison"] == comparison)]
        if rows.empty:
            raise InputError(f"no effect for outcome {outcome!r} at {timepoint!r}, {comparison!r}")
        return rows.iloc[0]

    def summary(self) -> str:
        """A plain-text summary a person can read in a terminal (like statsmodels' ``summary()``)."""
        from prt.analysis.summary import summary_text

        return summary_text(self)

    def __repr__(self) -> str:
        sizes = ", ".join(f"{name}: {len(getattr(self, name))}" for name in TABLES)
        return f"<AnalysisResults {self.meta.get('dataset', '?')}, n={self.meta.get('n_randomized', '?')}; {sizes}>"

    def _repr_html_(self) -> str:  # notebooks
        from html import escape

        return f"<pre>{escape(self.summary())}</pre>"


def load_results(path) -> AnalysisResults:
    """Read a ``results.json`` written by ``prt analyze``."""
    from prt.files import load_json

    return AnalysisResults.from_dict(load_json(path, "results file"), source=f"results file {path}")


__all__ = ["AnalysisResults", "COLUMNS", "TABLES", "jsonable", "load_results", "records_frame"]
