"""Derive the simulation's calibration figures ONCE from the trial's public data.

Run by hand (never at import or test time)::

    .venv/bin/python -m prt.trial.calibration.derive \
        ../shared/data/boulder-back-pain-study/redcap_wide.csv src/prt/trial/calibration/boulder.yaml

Only aggregate figures are written: per arm x timepoint n, mean and SD of each outcome (the
paper's Table 2 figures; Ashar et al., JAMA Psychiatry 2022), the pooled within-arm correlation
of each outcome across timepoints (and each arm's own), the cross-outcome correlation at baseline
(mean of eligibility and pre, as the paper defines it), and covariate distributions as category shares and deciles.
No individual row is written.

The calibration's baseline is the complete-case mean (both sessions present), not
:func:`prt.analysis.baseline.with_baseline` (mean of the sessions present): the simulation draws
eligibility and pre jointly, so its baseline figures describe participants with both. On the
shared data the two differ for one CEQ record only; switching would change the packaged figures
(the cross-outcome correlation among them) and so every simulated trial.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import hashlib
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from prt.data import read_trial
from prt.files import atomic_write
from prt.vocabulary import ARMS, BASELINE_SOURCES, OUTCOME_SCORES, TIMEPOINTS

#: Outcomes the simulation generates: every outcome of :data:`prt.vocabulary.OUTCOME_SCORES`, in the
#: packaged calibration's order (the order of its cross-outcome correlation matrix).
SIMULATED_OUTCOMES = (
    "pain_intensity", "bpi_intensity", "bpi_interference", "odi", "promis_depression",
    "promis_anger", "promis_anxiety", "promis_sleep", "tsk11", "pcs", "sopa_emotion",
    "panas_positive", "panas_negative", "pgic", "ceq", "tx_satisfaction",
)

#: Categorical per-participant covariates stored as shares per code (missing share included).
CATEGORICAL_COVARIATES = (
    "education", "ethnicity", "hispanic", "employment_status", "married", "current_opioid_use",
)
#: Continuous covariates stored as deciles (0, 10, ..., 100 %), integers for age.
CONTINUOUS_COVARIATES = ("age", "backpain_length")

#: Published effects on pain (Hedges g of change from baseline; Ashar et al. 2022, abstract and
#: Table 2), the figures a simulated trial must come near.
PUBLISHED_EFFECTS = {
    "pain_intensity": {
        "post": {"prt_vs_placebo": -1.14, "prt_vs_usual_care": -1.75},
        "12mo": {"prt_vs_placebo": -0.70, "prt_vs_usual_care": -1.05},
    }
}


if set(SIMULATED_OUTCOMES) != set(OUTCOME_SCORES):  # pragma: no cover - a vocabulary edit must come here
    raise RuntimeError("SIMULATED_OUTCOMES must list the outcomes of prt.vocabulary.OUTCOME_SCORES")


def nearest_correlation(matrix: np.ndarray, floor: float = 1e-3) -> np.ndarray:
    """Closest positive-definite correlation matrix by eigenvalue clipping (Rousseeuw & Molenberghs 1993)."""
    m = np.asarray(matrix, dtype=float)
    m = np.where(np.isnan(m), 0.0, (m + m.T) / 2)
    np.fill_diagonal(m, 1.0)
    values, vectors = np.linalg.eigh(m)
    if values.min() >= floor:
        return m
    fixed = vectors @ np.diag(np.clip(values, floor, None)) @ vectors.T
    scale = np.sqrt(np.diag(fixed))
    fixed = fixed / np.outer(scale, scale)
    np.fill_diagonal(fixed, 1.0)
    return fixed


def _within_arm_z(table: pd.DataFrame, arms: pd.Series) -> pd.DataFrame:
    """Standardize each column within arm, so arm differences in means do not inflate correlations."""
    grouped = table.groupby(arms)
    return (table - grouped.transform("mean")) / grouped.transform("std")


def _rounded_correlation(z: pd.DataFrame) -> list[list[float]]:
    corr = nearest_correlation(z.corr(min_periods=10).to_numpy())
    corr = np.round(corr, 3)
    # rounding may push a near-singular matrix out of PD: repair and round again
    for _ in range(5):
        if np.linalg.eigvalsh(corr).min() > 1e-4:
            break
        corr = np.round(nearest_correlation(corr, floor=2e-3), 3)
    return corr.tolist()


def derive(source: str | Path) -> dict:
    """Aggregate calibration figures of a trial export (read with :func:`prt.data.read_trial`)."""
    trial = read_trial(source)
    arms = trial.arms
    outcomes: dict[str, dict] = {}
    baseline_z = {}
    for outcome in SIMULATED_OUTCOMES:
        table = trial.wide(outcome, TIMEPOINTS)
        present = [t for t in TIMEPOINTS if table[t].notna().sum() > 0]
        table = table[present]
        cells = {}
        for arm in ARMS:
            part = table[arms == arm]
            cells[arm] = {
                t: {
                    "n": int(part[t].notna().sum()),
                    "mean": round(float(part[t].mean()), 4),
                    "sd": round(float(part[t].std(ddof=1)), 4),
                }
                for t in present
            }
        entry = {"timepoints": present, "arms": cells}
        if len(present) > 1:
            entry["correlation"] = _rounded_correlation(_within_arm_z(table, arms))
            entry["correlation_by_arm"] = {
                arm: _rounded_correlation(table[arms == arm]) for arm in ARMS
            }
        if set(BASELINE_SOURCES) <= set(present):
            base = table[list(BASELINE_SOURCES)].mean(axis=1, skipna=False)   # complete case (docstring)
            entry["baseline"] = {
                arm: {
                    "n": int(base[arms == arm].notna().sum()),
                    "mean": round(float(base[arms == arm].mean()), 4),
                    "sd": round(float(base[arms == arm].std(ddof=1)), 4),
                }
                for arm in ARMS
            }
            baseline_z[outcome] = _within_arm_z(base.to_frame(outcome), arms)[outcome]
        outcomes[outcome] = entry
    cross_names = list(baseline_z)
    cross = _rounded_correlation(pd.DataFrame(baseline_z)[cross_names])

    p = trial.participants
    covariates: dict[str, dict] = {
        "sex": {"female": round(float((p["sex"] == "female").mean()), 4)},
    }
    for name in CATEGORICAL_COVARIATES:
        shares = p[name].value_counts(normalize=True, dropna=False).sort_index()
        covariates[name] = {
            "shares": {("missing" if pd.isna(k) else int(k)): round(float(v), 4) for k, v in shares.items()}
        }
    for name in CONTINUOUS_COVARIATES:
        deciles = np.quantile(p[name].dropna().to_numpy(), np.linspace(0, 1, 11))
        covariates[name] = {"deciles": [round(float(q), 2) for q in deciles]}

    data = Path(source)
    digest = hashlib.sha256(data.read_bytes()).hexdigest() if data.is_file() else None
    counts = arms.value_counts()
    return {
        "provenance": {
            "study": "Boulder Back Pain Study (Ashar et al., JAMA Psychiatry 2022; NCT03294148)",
            "source": data.name,
            "source_sha256": digest,
            "derived_by": "prt.trial.calibration.derive (read with prt.data.read_trial)",
            "derived_on": _dt.date.today().isoformat(),
            "participants": int(len(p)),
            "content": (
                "aggregate figures only: per arm x timepoint n/mean/SD (the paper's Table 2 figures), "
                "pooled within-arm and per-arm correlations across timepoints (pairwise complete, "
                "repaired to positive definite, 3 decimals), baseline cross-outcome correlation, covariate shares "
                "and deciles; no individual records"
            ),
        },
        "arms": {arm: int(counts.get(arm, 0)) for arm in ARMS},
        "published_effects": PUBLISHED_EFFECTS,
        "outcomes": outcomes,
        "baseline_cross_correlation": {"outcomes": cross_names, "matrix": cross},
        "covariates": covariates,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", help="the trial's REDCap export (redcap_wide.csv)")
    parser.add_argument("out", help="YAML file to write (src/prt/trial/calibration/boulder.yaml)")
    args = parser.parse_args(argv)
    figures = derive(args.source)
    header = (
        "# Calibration of prt's simulated PRT trial: AGGREGATE figures of the Boulder Back Pain Study\n"
        "# (Ashar et al., JAMA Psychiatry 2022). Generated by prt.trial.calibration.derive; do not edit.\n"
    )
    text = yaml.safe_dump(figures, sort_keys=False, default_flow_style=None, width=110)
    atomic_write(args.out, header + text)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
