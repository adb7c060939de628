"""Within-arm Pearson correlations of belief changes with the change in pain.

Ashar et al. (JAMA Psychiatry 2022): within each arm, baseline-to-posttreatment changes in
fear of movement (TSK-11), pain catastrophizing (PCS) and the SOPA emotion belief were
correlated with the change in pain (reported e.g. PRT, TSK-11: r42 = 0.44, P = .003).
Participants with both changes observed enter (pairwise complete); df = n - 2; two-sided p.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from scipy import stats

from prt.analysis.baseline import with_baseline

from prt.vocabulary import ARMS, BELIEFS, PRIMARY_OUTCOME


def pearson(x: np.ndarray, y: np.ndarray) -> tuple[float, int, float]:
    """(r, df, two-sided p) on the pairs where both are finite; NaN r when fewer than 3 pairs."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    ok = np.isfinite(x) & np.isfinite(y)
    n = int(ok.sum())
    if n < 3 or np.ptp(x[ok]) == 0 or np.ptp(y[ok]) == 0:
        return float("nan"), max(n - 2, 0), float("nan")
    result = stats.pearsonr(x[ok], y[ok])
    return float(result.statistic), n - 2, float(result.pvalue)


def belief_pain_correlations(trial, beliefs: Sequence[str] = BELIEFS, outcome: str = PRIMARY_OUTCOME,
                             timepoint: str = "post") -> list[dict]:
    """Records ``{x, y, group, r, df, p, timepoint}``, y = the pain outcome, per arm and belief."""
    present = set(trial.outcomes)
    if outcome not in present:
        return []
    pain = with_baseline(trial, outcome)
    if timepoint not in pain.columns:
        return []
    pain_change = pain[timepoint] - pain["baseline"]
    arm = trial.participants["arm"].reindex(pain.index).to_numpy(object)
    records = []
    for belief in beliefs:
        if belief not in present:
            continue
        table = with_baseline(trial, belief)
        if timepoint not in table.columns:
            continue
        change = (table[timepoint] - table["baseline"]).reindex(pain.index)
        for group in ARMS:
            members = arm == group
            r, df, p = pearson(change.to_numpy(float)[members], pain_change.to_numpy(float)[members])
            records.append({"x": belief, "y": outcome, "group": group, "r": r, "df": df, "p": p,
                            "timepoint": timepoint})
    return records
