"""Time prt's TFCE permutation engine against nilearn's permuted_ols on the same data (run by hand).

    .venv/bin/python benchmarks/bench_imaging_permutation.py [--permutations 5000] [--participants 150]
        [--nilearn-full 24] [--nilearn-cropped 100] [--jobs 2] [--out DIR]

Data: ``--participants`` smooth Gaussian maps (FWHM 8 mm) on the MNI 2 mm grid (91 x 109 x 91), an
S1-sized mask of about 20,000 voxels (two ellipsoids over the postcentral gyri), a two-arm design
with age and sex as covariates (Freedman-Lane), two-sided, TFCE. prt runs all ``--permutations``;
nilearn (``n_jobs=--jobs``) runs ``--nilearn-full`` permutations with a masker on the full MNI grid
(what a user passes) and ``--nilearn-cropped`` with the grid cut to the mask's bounding box (its
fastest case), and its time for ``--permutations`` is extrapolated from the time per permutation
(each permutation costs the same: nilearn is timed at ``2 x --jobs`` and at the given count, the
difference gives the time per permutation and the rest the fixed cost, worker start-up included).
Before timing, the observed t and TFCE maps of both are compared (largest differences printed).
Writes ``benchmark.json`` and ``benchmark.png`` (seconds for ``--permutations``) into ``--out``.
Figures go in docs/imaging.md.
"""

from __future__ import annotations

import argparse
import json
import os
import time
import warnings
from pathlib import Path

import numpy as np


def data(participants: int, seed: int = 0):
    """Smooth noise maps in an S1-sized mask on the MNI 2 mm grid, a two-arm design and covariates."""
    from scipy import ndimage

    from prt.imaging.masks import Region, ellipsoid
    from prt.imaging.volumes import Grid

    affine = np.array([[-2.0, 0, 0, 90], [0, 2.0, 0, -126], [0, 0, 2.0, -72], [0, 0, 0, 1]])
    grid = Grid(shape=(91, 109, 91), affine=affine)
    mask = np.zeros(grid.shape, dtype=bool)
    for x in (-38, 38):
        mask |= ellipsoid(grid, Region("s1", (x, -28, 52), (18, 26, 40)))
    rng = np.random.default_rng(seed)
    sigma = 8.0 / 2.3548 / 2.0
    lo = np.argwhere(mask).min(axis=0) - 4
    hi = np.argwhere(mask).max(axis=0) + 5
    box = tuple(slice(a, b) for a, b in zip(lo, hi))
    maps = np.empty((participants, int(mask.sum())))
    for i in range(participants):
        field = ndimage.gaussian_filter(rng.normal(size=tuple(b - a for a, b in zip(lo, hi))), sigma)
        maps[i] = (field / field.std())[mask[box]]
    arm = np.repeat([0.0, 1.0], participants // 2 + 1)[:participants]
    rng.shuffle(arm)
    covariates = np.column_stack([rng.normal(41, 15, participants), rng.integers(0, 2, participants)])
    return grid, mask, maps, arm, covariates, box


def time_prt(maps, arm, covariates, mask, n_permutations):
    from prt.imaging.permutation import permutation_test
    from prt.imaging.tfce import VoxelGraph

    graph = VoxelGraph.from_mask(mask)
    wall, cpu = time.perf_counter(), time.process_time()
    result = permutation_test(maps, arm, covariates, graph=graph, tfce=True, n_permutations=n_permutations,
                              two_sided=True, seed=1)
    return result, time.perf_counter() - wall, time.process_time() - cpu


def time_nilearn(maps, arm, covariates, mask, affine, n_permutations, jobs):
    import nibabel as nib
    from nilearn.maskers import NiftiMasker
    from nilearn.mass_univariate import permuted_ols

    masker = NiftiMasker(nib.Nifti1Image(mask.astype(np.uint8), affine)).fit()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        out = permuted_ols(arm[:, None], maps, covariates, n_perm=n_permutations, two_sided_test=True,
                           random_state=1, n_jobs=jobs, masker=masker, tfce=True)
        return out, time.perf_counter() - start


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--permutations", type=int, default=5000)
    parser.add_argument("--participants", type=int, default=150)
    parser.add_argument("--nilearn-full", type=int, default=24)
    parser.add_argument("--nilearn-cropped", type=int, default=100)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", default="bench-imaging")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    grid, mask, maps, arm, covariates, box = data(args.participants)
    n_vox = int(mask.sum())
    print(f"{args.participants} participants x {n_vox} voxels (grid {grid.shape}), {args.permutations} permutations, "
          f"{os.cpu_count()} CPUs", flush=True)

    # Same statistics: observed maps (nilearn with 0 permutations returns t and TFCE only).
    reference, nil_fixed_full = time_nilearn(maps, arm, covariates, mask, grid.affine, 0, 1)
    ours, _, _ = time_prt(maps, arm, covariates, mask, 0)
    t_diff = float(np.max(np.abs(ours.t - reference["t"][0])))
    tfce_diff = float(np.max(np.abs(ours.tfce - reference["tfce"][0]) / np.maximum(1.0, np.abs(reference["tfce"][0]))))
    print(f"observed maps: max |t - t_nilearn| = {t_diff:.2e}, max relative TFCE difference = {tfce_diff:.2e}",
          flush=True)

    result, prt_wall, prt_cpu = time_prt(maps, arm, covariates, mask, args.permutations)
    print(f"prt: {prt_wall:.1f} s wall ({prt_cpu:.1f} s CPU) for {args.permutations} permutations", flush=True)

    cropped_mask = mask[box]
    cropped_affine = grid.affine.copy()
    cropped_affine[:3, 3] = grid.mni(np.array([s.start for s in box]))
    rows = {}
    for label, m, aff, k in (("nilearn, full MNI grid", mask, grid.affine, args.nilearn_full),
                             ("nilearn, grid cropped to the mask", cropped_mask, cropped_affine,
                              args.nilearn_cropped)):
        small = 2 * args.jobs
        _, t_small = time_nilearn(maps, arm, covariates, m, aff, small, args.jobs)
        _, total = time_nilearn(maps, arm, covariates, m, aff, k, args.jobs)
        per_perm = max(total - t_small, 0.0) / (k - small)
        fixed = max(t_small - small * per_perm, 0.0)
        projected = fixed + per_perm * args.permutations
        rows[label] = {"permutations_timed": [small, k], "seconds_timed": [t_small, total], "seconds_fixed": fixed,
                       "seconds_per_permutation": per_perm, "seconds_projected": projected,
                       "speedup_prt": projected / prt_wall}
        print(f"{label}: {total:.1f} s for {k} permutations (n_jobs={args.jobs}) -> {projected:.0f} s projected "
              f"for {args.permutations}; prt is {projected / prt_wall:.1f}x faster", flush=True)

    report = {"participants": args.participants, "voxels": n_vox, "grid": list(grid.shape),
              "permutations": args.permutations, "jobs": args.jobs, "cpus": os.cpu_count(),
              "observed_max_abs_t_difference": t_diff, "observed_max_rel_tfce_difference": tfce_diff,
              "prt_seconds_wall": prt_wall, "prt_seconds_cpu": prt_cpu, "nilearn": rows}
    (out / "benchmark.json").write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = ["prt"] + list(rows)
    seconds = [prt_wall] + [r["seconds_projected"] for r in rows.values()]
    fig, ax = plt.subplots(figsize=(7, 2.8), constrained_layout=True)
    bars = ax.barh(labels[::-1], seconds[::-1], color=["#bdbdbd", "#bdbdbd", "#08519c"])
    ax.set_xscale("log")
    ax.set_xlabel(f"seconds for {args.permutations:,} permutations (log scale; nilearn projected)")
    ax.set_title(f"TFCE permutation test, {args.participants} participants x {n_vox:,} voxels, {args.jobs} cores",
                 fontsize=9)
    for bar, s in zip(bars, seconds[::-1]):
        ax.text(bar.get_width() * 1.05, bar.get_y() + bar.get_height() / 2, f"{s:,.0f} s", va="center", fontsize=8)
    ax.set_xlim(right=max(seconds) * 4)
    fig.savefig(out / "benchmark.png", dpi=130)
    print(f"wrote {out / 'benchmark.json'} and {out / 'benchmark.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
