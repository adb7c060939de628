"""Freeze R lme4 + lmerTest results for prt.analysis.mixed's oracle tests (run by hand, needs R).

    .venv/bin/python tests/analysis/r/freeze_oracle.py

Generates the oracle designs deterministically (numpy ``default_rng`` with fixed seeds), writes each
to ``frozen/designs/NAME.csv`` (columns y, g, x0 .. x{p-1}; 17 significant digits, so the floats
round-trip exactly), fits every one with ``fit_lmer.R`` (lmerTest's Satterthwaite df) and writes
``frozen/lmer.json``: for each (design, REML or ML) the estimates, SEs, t, df, p, variance
components, log-likelihood, theta and the contrasts' weights and results, with the R, lme4 and
lmerTest versions. The trial's primary design is added when the shared data are present: only R's
results are stored for it, never the data (the tests rebuild the design from ../shared/data).
Tests compare prt against these files everywhere, without R (as statsmodels does with R results);
``test_mixed_r_oracle.py`` re-derives them when Rscript and lmerTest are installed.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
FROZEN = HERE / "frozen"
DESIGNS = FROZEN / "designs"
RESULTS = FROZEN / "lmer.json"
PRIMARY = "primary-itt-shared-data"


def design(seed, n_groups, sizes, ratio, kind, missing=(0.0, 0.0)):
    """(y, X, groups) for one scenario; ``sizes`` (low, high) rows per participant.

    kinds: ``intercept``; ``mixed`` (age- and sex-like participant covariates, a within-participant
    continuous covariate and a 3-level row category); ``trial`` (the primary analysis' time x
    3-level arm with age and sex; time alternates pre/post within a participant);
    ``prepost`` (``trial`` with every participant's pre and post row, each post then missing with
    probability ``missing[1]`` and otherwise each pre with probability ``missing[0]``).
    """
    rng = np.random.default_rng(seed)
    if kind == "prepost":
        lost = rng.random(n_groups)
        keep_post = lost >= missing[1]
        keep_pre = ~keep_post | (rng.random(n_groups) >= missing[0])
        size = keep_pre.astype(int) + keep_post.astype(int)
        time = np.concatenate([[0.0] * int(a) + [1.0] * int(b) for a, b in zip(keep_pre, keep_post)])
    else:
        size = rng.integers(sizes[0], sizes[1] + 1, n_groups)
        size[:2] = np.maximum(size[:2], 2)
        time = np.concatenate([np.arange(k) % 2 for k in size]).astype(float)
    groups = np.repeat(np.arange(n_groups), size)
    n = len(groups)
    columns = [np.ones(n)]
    if kind in ("mixed", "trial", "prepost"):
        columns.append(rng.normal(45, 12, n_groups)[groups])  # age-like, per participant
        columns.append(rng.integers(0, 2, n_groups)[groups].astype(float))  # sex-like
    if kind in ("trial", "prepost"):  # time x 3-level arm, reference coding, as the primary analysis
        arm = rng.integers(0, 3, n_groups)[groups]
        placebo, usual = (arm == 1).astype(float), (arm == 2).astype(float)
        columns += [time, placebo, usual, time * placebo, time * usual]
    if kind == "mixed":  # a within-participant continuous covariate and a 3-level category
        columns.append(rng.normal(size=n))
        cat = rng.integers(0, 3, n)
        columns += [(cat == 1).astype(float), (cat == 2).astype(float)]
    X = np.column_stack(columns)
    beta = rng.normal(size=X.shape[1]) / np.maximum(1, np.abs(X).mean(axis=0))
    y = X @ beta + np.sqrt(ratio) * rng.normal(size=n_groups)[groups] + rng.normal(size=n)
    return y, X, groups


# name: (design arguments, fit ML as well as REML)
SCENARIOS = {
    "trial-151-singletons": (dict(seed=1, n_groups=151, sizes=(1, 2), ratio=1.2, kind="trial"), True),
    "small-unbalanced": (dict(seed=2, n_groups=8, sizes=(2, 15), ratio=0.7, kind="mixed"), True),
    "large-ratio": (dict(seed=3, n_groups=30, sizes=(1, 5), ratio=25.0, kind="mixed"), False),
    "small-ratio": (dict(seed=4, n_groups=60, sizes=(2, 4), ratio=0.05, kind="mixed"), False),
    "intercept-only": (dict(seed=5, n_groups=20, sizes=(1, 6), ratio=1.0, kind="intercept"), False),
    "trial-balanced-pairs": (dict(seed=6, n_groups=45, sizes=(2, 2), ratio=3.0, kind="trial"), False),
    "boundary": (dict(seed=7, n_groups=40, sizes=(2, 4), ratio=0.0, kind="mixed"), True),
    "unbalanced-1-to-12": (dict(seed=8, n_groups=40, sizes=(1, 12), ratio=1.5, kind="mixed"), False),
    "missing-post": (dict(seed=9, n_groups=120, sizes=(2, 2), ratio=1.2, kind="prepost",
                          missing=(0.05, 0.25)), True),
    "near-boundary": (dict(seed=24, n_groups=80, sizes=(2, 4), ratio=0.01, kind="mixed"), True),
    "many-groups": (dict(seed=11, n_groups=1000, sizes=(1, 4), ratio=2.0, kind="trial"), False),
}


def contrasts(p):
    """Contrast weights tested besides the coefficients: a random one and a difference."""
    rng = np.random.default_rng(0)
    rows = [rng.normal(size=p)]
    if p > 1:
        rows.append(np.eye(p)[-1] - np.eye(p)[p // 2])
    return np.vstack(rows)


def write_design(path, y, X, groups):
    data = pd.DataFrame({"y": y, "g": [f"p{g}" for g in groups]})
    for j in range(X.shape[1]):
        data[f"x{j}"] = X[:, j]
    data.to_csv(path, index=False, float_format="%.17g")


def read_design(path):
    """(y, X, groups, names) of a design CSV written by :func:`write_design`."""
    data = pd.read_csv(path, dtype={"g": str})
    names = [c for c in data.columns if c.startswith("x")]
    return data["y"].to_numpy(float), data[names].to_numpy(float), data["g"].to_numpy(object), names


def lmer_jobs(jobs, rscript="Rscript", timeout=600):
    """Run ``fit_lmer.R`` on jobs ``[{data, reml, contrasts?}]``; R's results, in job order."""
    with tempfile.TemporaryDirectory() as tmp:
        jobs_path = Path(tmp) / "jobs.json"
        for k, job in enumerate(jobs):
            if "contrasts" in job:
                path = Path(tmp) / f"contrasts{k}.csv"
                weights = np.asarray(job["contrasts"])
                pd.DataFrame(weights, columns=[f"x{j}" for j in range(weights.shape[1])]).to_csv(
                    path, index=False, float_format="%.17g")
                job = {**job, "contrasts": str(path)}
            jobs[k] = job
        jobs_path.write_text(json.dumps(jobs))
        done = subprocess.run([rscript, str(HERE / "fit_lmer.R"), str(jobs_path)],
                              capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(done.stderr)
    return json.loads(done.stdout)


def primary_design(path):
    """The trial's primary design from the shared REDCap export (as tests/analysis/test_mixed.py)."""
    from prt.analysis.mixed import design_primary
    from prt.data import read_trial

    trial = read_trial(path)
    m = trial.measures
    m = m[(m["outcome"] == "pain_intensity") & m["timepoint"].isin(["pre", "post"])]
    frame = m.merge(trial.participants[["arm", "age", "sex"]], left_on="participant", right_index=True)
    return design_primary(frame.rename(columns={"timepoint": "time"}))


def versions(rscript="Rscript"):
    code = ('cat(R.version.string, as.character(packageVersion("lme4")), '
            'as.character(packageVersion("lmerTest")), sep = "\\n")')
    out = subprocess.run([rscript, "-e", code], capture_output=True, text=True, check=True).stdout.split("\n")
    return {"R": out[0], "lme4": out[1], "lmerTest": out[2]}


def main() -> None:
    DESIGNS.mkdir(parents=True, exist_ok=True)
    keys, jobs = [], []
    for name, (spec, ml) in SCENARIOS.items():
        y, X, groups = design(**spec)
        path = DESIGNS / f"{name}.csv"
        write_design(path, y, X, groups)
        for reml in (True, False) if ml else (True,):
            keys.append((name, reml))
            jobs.append({"data": str(path), "reml": reml, "contrasts": contrasts(X.shape[1]).tolist()})
    shared = HERE.parents[2].parent / "shared" / "data" / "boulder-back-pain-study" / "redcap_wide.csv"
    with tempfile.TemporaryDirectory() as tmp:
        if shared.is_file():
            y, X, groups, names = primary_design(shared)
            path = Path(tmp) / "primary.csv"  # the trial's data never enter the repository
            write_design(path, y, X, groups)
            weights = [np.eye(8)[6], np.eye(8)[7], np.eye(8)[7] - np.eye(8)[6]]
            for reml in (True, False):
                keys.append((PRIMARY, reml))
                jobs.append({"data": str(path), "reml": reml, "contrasts": np.array(weights).tolist()})
        else:
            print(f"shared data not found at {shared}: the primary design is left out", file=sys.stderr)
        results = lmer_jobs([dict(job) for job in jobs])
    fits = []
    for (name, reml), job, result in zip(keys, jobs, results):
        result["contrasts"]["weights"] = job["contrasts"]
        fits.append({"design": name, "reml": reml, **result})
    document = {
        "about": "R lme4::lmer + lmerTest Satterthwaite results for prt.analysis.mixed (frozen by "
                 "tests/analysis/r/freeze_oracle.py; data in designs/, the primary design rebuilt "
                 "from the shared trial data)",
        "versions": versions(),
        "fits": fits,
    }
    RESULTS.write_text(json.dumps(document, indent=1) + "\n")
    print(f"wrote {len(fits)} fits to {RESULTS}")


if __name__ == "__main__":
    main()
