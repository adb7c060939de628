"""The analysis's baseline: the mean of the two pre-randomization assessments.

Ashar et al. (JAMA Psychiatry 2022, Statistical Analyses): baseline is the mean of the eligibility
visit and the pretreatment session. When one of the two is missing, the baseline is the one present
(mean of those present); when both are missing it is missing. Every part of the analysis (engine,
tables, figures) takes baseline values from :func:`with_baseline`, so there is one definition.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from prt.errors import InputError

from prt.vocabulary import BASELINE_SOURCES  # the two pre-randomization assessments averaged


def participant_order(index: pd.Index) -> pd.Index:
    """Participants in a canonical order (numeric ids by value, then others as text).

    The order in which a file lists its records differs between REDCap flat, long and tidy files;
    sorting here makes every resample (which draws row positions) independent of the layout.
    """
    def key(pid: str) -> tuple:
        text = str(pid)
        if re.fullmatch(r"[+-]?\d+", text):
            return (0, int(text), text)
        return (1, 0, text)

    return pd.Index(sorted(index, key=key), name=index.name)


def with_baseline(trial, outcome: str) -> pd.DataFrame:
    """One outcome per participant: column ``baseline`` then the trial's timepoints in study order.

    Index: every participant (canonical order, see :func:`participant_order`), NaN where not
    observed. ``baseline`` = mean of ``eligibility`` and ``pre`` where present (Ashar et al. 2022).
    Raises InputError when the outcome is not in the data.
    """
    if outcome not in set(trial.measures["outcome"].unique()):
        raise InputError(f"outcome {outcome!r}: no values in the data (known: {', '.join(trial.outcomes)})")
    timepoints = list(trial.timepoints)
    for t in BASELINE_SOURCES:
        if t not in timepoints:
            timepoints.insert(0 if t == "eligibility" else (1 if "eligibility" in timepoints else 0), t)
    wide = trial.wide(outcome, timepoints)
    wide = wide.reindex(participant_order(wide.index))
    sources = wide[list(BASELINE_SOURCES)].to_numpy(float)
    present = np.isfinite(sources)
    count = present.sum(axis=1)
    total = np.where(present, sources, 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        baseline = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    out = pd.DataFrame({"baseline": baseline}, index=wide.index)
    out = pd.concat([out, wide], axis=1)
    out.columns.name = "timepoint"
    return out


def change_from_baseline(trial, outcome: str, timepoint: str) -> pd.Series:
    """Value at ``timepoint`` minus baseline, per participant (NaN where either is missing)."""
    table = with_baseline(trial, outcome)
    if timepoint not in table.columns:
        return pd.Series(np.nan, index=table.index, name=outcome)
    return (table[timepoint] - table["baseline"]).rename(outcome)
