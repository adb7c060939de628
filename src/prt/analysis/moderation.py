"""Moderation of the treatment effect on pain at posttreatment by age and by sex.

Model (our documented choice; the paper tested moderators of the PRT effect, Ashar et al.,
JAMA Psychiatry 2022): ordinary least squares on every participant with the change in pain from
baseline to posttreatment and the moderator observed,
``change ~ 1 + placebo + usual_care + mod + placebo:mod + usual_care:mod``
(PRT is the reference arm; ``mod`` = age in years centred at the sample mean, or sex coded
female = 1, male = 0). For each control the reported ``estimate`` is how the PRT-minus-control
difference in change varies with the moderator, ``-(control:mod)``: per year of age, or female
minus male. Negative = PRT's advantage (larger pain drop) grows with the moderator. t test on
``n - 6`` df, two-sided.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from prt.analysis.baseline import with_baseline
from prt.vocabulary import PRT_COMPARISONS

MODERATORS = ("age", "sex")
_CONTROLS = tuple((c.name, c.second) for c in PRT_COMPARISONS)


def ols(y: np.ndarray, X: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Least-squares coefficients, their covariance and the residual df (full-rank X)."""
    n, p = X.shape
    beta, _, rank, _ = np.linalg.lstsq(X, y, rcond=None)
    df = n - p
    if rank < p or df <= 0:
        return np.full(p, np.nan), np.full((p, p), np.nan), df
    resid = y - X @ beta
    sigma2 = resid @ resid / df
    cov = sigma2 * np.linalg.inv(X.T @ X)
    return beta, cov, df


def moderation(trial, outcome: str = "pain_intensity", timepoint: str = "post") -> list[dict]:
    """Records ``{outcome, timepoint, moderator, comparison, estimate, se, t, df, p, n}``."""
    if outcome not in set(trial.outcomes):
        return []
    table = with_baseline(trial, outcome)
    if timepoint not in table.columns:
        return []
    change = (table[timepoint] - table["baseline"]).to_numpy(float)
    people = trial.participants.reindex(table.index)
    arm = people["arm"].to_numpy(object)
    records = []
    for moderator in MODERATORS:
        if moderator == "age":
            mod = people["age"].to_numpy(float)
        else:
            sex = people["sex"]
            mod = np.where(sex == "female", 1.0, np.where(sex == "male", 0.0, np.nan))
        ok = np.isfinite(change) & np.isfinite(mod)
        y, m, a = change[ok], mod[ok], arm[ok]
        if moderator == "age" and len(m):
            m = m - m.mean()
        placebo = (a == "placebo").astype(float)
        usual = (a == "usual_care").astype(float)
        X = np.column_stack([np.ones(len(y)), placebo, usual, m, placebo * m, usual * m])
        beta, cov, df = ols(y, X) if len(y) > X.shape[1] else (np.full(6, np.nan), np.full((6, 6), np.nan), 0)
        for comparison, control in _CONTROLS:
            j = 4 if control == "placebo" else 5
            estimate = -beta[j]
            se = float(np.sqrt(cov[j, j]))
            t = estimate / se if se > 0 else float("nan")
            p = float(2.0 * stats.t.sf(abs(t), df)) if np.isfinite(t) else float("nan")
            records.append({
                "outcome": outcome, "timepoint": timepoint, "moderator": moderator,
                "comparison": comparison, "estimate": float(estimate), "se": se, "t": float(t),
                "df": int(df), "p": p, "n": int(len(y)),
            })
    return records
