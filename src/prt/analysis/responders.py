"""Responders: pain reduced by >= 30% or >= 50% from baseline, or pain-free (0 or 1 of 10).

Ashar et al. (JAMA Psychiatry 2022): denominators are all randomized participants and a missing
answer counts as not responding (protocol notes, "Responders"). A participant whose baseline pain
is 0 (or missing) cannot show a percentage reduction and is counted as not responding to the
reduction criteria; pain-free needs only the value at the timepoint.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from prt.analysis.baseline import with_baseline
from prt.vocabulary import ARMS

CRITERIA = ("reduction_30", "reduction_50", "pain_free")
RESPONDER_TIMEPOINTS = ("post", "12mo")
#: Pain at or below this (0-10 scale) is "pain-free" (paper: pain 0 or 1).
PAIN_FREE_MAX = 1.0
_TOL = 1e-9  # guards the >= comparisons against rounding (e.g. 30% of 6.5)


def responder_flags(baseline: np.ndarray, value: np.ndarray) -> dict[str, np.ndarray]:
    """Boolean responder flags per criterion; NaN inputs give False (missing = non-responder)."""
    baseline = np.asarray(baseline, float)
    value = np.asarray(value, float)
    ok = np.isfinite(baseline) & np.isfinite(value) & (baseline > 0)
    with np.errstate(invalid="ignore"):
        drop = np.where(ok, baseline - value, np.nan)
        return {
            "reduction_30": ok & (drop >= 0.30 * baseline - _TOL),
            "reduction_50": ok & (drop >= 0.50 * baseline - _TOL),
            "pain_free": np.isfinite(value) & (value <= PAIN_FREE_MAX + _TOL),
        }


def responders(trial, outcome: str = "pain_intensity",
               timepoints: Sequence[str] = RESPONDER_TIMEPOINTS) -> list[dict]:
    """Records ``{timepoint, group, criterion, responders, randomized}`` for each arm."""
    table = with_baseline(trial, outcome)
    arm = trial.participants["arm"].reindex(table.index).to_numpy(object)
    records = []
    for timepoint in timepoints:
        if timepoint not in table.columns:
            continue
        flags = responder_flags(table["baseline"].to_numpy(float), table[timepoint].to_numpy(float))
        for group in ARMS:
            members = arm == group
            for criterion in CRITERIA:
                records.append({
                    "timepoint": timepoint, "group": group, "criterion": criterion,
                    "responders": int(flags[criterion][members].sum()),
                    "randomized": int(members.sum()),
                })
    return records
