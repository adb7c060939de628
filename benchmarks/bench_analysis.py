"""Benchmark: the whole ``prt analyze`` engine, and its bootstrap against per-cell scipy.stats.bootstrap.

Run by hand (not a test):  .venv/bin/python benchmarks/bench_analysis.py [--data CSV] [--repeats 3]

1. ``run_analysis`` on the trial's shared data with 10,000 resamples per effect and 5,000 per
   mediation model (wall time, median of ``--repeats``).
2. Hedges g cells: the engine's grouped, vectorized bootstrap vs ``scipy.stats.bootstrap`` called
   cell by cell with the same generator (same draws); checks SE and CI agree (max |difference|).
3. Mediation (``--mediation``): the engine's weighted batched fits vs ``scipy.stats.bootstrap``
   (paired) per model with the same generator; checks the bootstrap distributions of ab agree.
Figures go in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import scipy
from scipy import stats

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = Path(os.environ.get("PRT_SHARED_DATA", ROOT.parent / "shared" / "data")) / \
    "boulder-back-pain-study" / "redcap_wide.csv"


def _median_time(fn, repeats):
    times, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--bootstrap", type=int, default=10_000)
    parser.add_argument("--mediation-bootstrap", type=int, default=5_000)
    parser.add_argument("--mediation", action="store_true", help="also compare mediation with scipy (slow)")
    args = parser.parse_args()

    from prt.analysis import effects as E
    from prt.analysis import mediation as M
    from prt.analysis.engine import analysed_outcomes, run_analysis
    from prt.data import read_trial

    print(f"python {platform.python_version()}, numpy {np.__version__}, scipy {scipy.__version__}, "
          f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}")
    start = time.perf_counter()
    trial = read_trial(args.data)
    print(f"read_trial: {time.perf_counter() - start:.2f} s ({len(trial.participants)} participants)")

    whole, results = _median_time(
        lambda: run_analysis(trial, bootstrap=args.bootstrap, mediation_bootstrap=args.mediation_bootstrap, seed=0),
        args.repeats)
    print(f"run_analysis (bootstrap {args.bootstrap}, mediation {args.mediation_bootstrap}): {whole:.2f} s "
          f"median of {args.repeats}")

    outcomes = analysed_outcomes(trial)
    plan = E.bootstrap_plan(trial, outcomes, seed=0)
    ours_time, ours = _median_time(lambda: E.effects_from_plan(plan, outcomes, args.bootstrap), args.repeats)
    cells = sum(len(g.outcomes) for g in plan)
    print(f"effects, engine: {ours_time:.2f} s for {cells} cells in {len(plan)} resampling groups")

    def scipy_cells():
        out = {}
        for group in plan:
            for k, outcome in enumerate(group.outcomes):
                res = stats.bootstrap((group.x1[k], group.x2[k]), E.hedges_g, n_resamples=args.bootstrap,
                                      axis=-1, vectorized=True, method="percentile", rng=group.rng())
                out[(outcome, group.timepoint, group.comparison)] = res
        return out

    scipy_time, ref = _median_time(scipy_cells, args.repeats)
    worst = 0.0
    for record in ours:
        r = ref[(record["outcome"], record["timepoint"], record["comparison"])]
        worst = max(worst, abs(record["se"] - r.standard_error),
                    abs(record["ci_low"] - r.confidence_interval.low),
                    abs(record["ci_high"] - r.confidence_interval.high))
    print(f"effects, scipy.stats.bootstrap cell by cell: {scipy_time:.2f} s "
          f"-> engine {scipy_time / ours_time:.1f}x faster; max |diff| SE/CI = {worst:.1e}")
    assert worst < 1e-10, "engine and scipy disagree"
    assert results["effects"] == ours, "the engine's effects differ from the plan's"

    if args.mediation:
        models = M.mediation_plan(trial, seed=0)
        med_time, _ = _median_time(lambda: [M.fit_model(m, args.mediation_bootstrap) for m in models], 1)

        def scipy_models():
            dists = []
            for model in models:
                V, n = model.V, model.V.shape[0]

                def ab(i, axis=-1, V=V):
                    rows = np.atleast_2d(i)
                    return np.array([M.path_coefficients(V[row], np.ones((1, len(row))))[0, 4] for row in rows])

                dists.append(stats.bootstrap((np.arange(n),), ab, paired=True, n_resamples=args.mediation_bootstrap,
                                             method="BCa", vectorized=True, rng=model.rng()).bootstrap_distribution)
            return dists

        sp_time, dists = _median_time(scipy_models, 1)
        worst = max(float(np.max(np.abs(M.path_coefficients(m.V, E.resample_counts(m.rng(), m.V.shape[0],
                                                                                     args.mediation_bootstrap))[:, 4] - d)))
                    for m, d in zip(models, dists))
        print(f"mediation, engine: {med_time:.2f} s for {len(models)} models; scipy per model (BCa): {sp_time:.2f} s "
              f"-> {sp_time / med_time:.1f}x; max |diff| of the ab bootstrap distributions = {worst:.1e}")
        print(f"whole analysis vs scipy (effects + mediation, one by one): "
              f"{(scipy_time + sp_time) / whole:.1f}x")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    sys.exit(main())
