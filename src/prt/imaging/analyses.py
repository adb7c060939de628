"""The trial's second-level imaging analyses as pure functions (Ashar et al., JAMA Psychiatry 2022).

1. :func:`behaviour` - in-scanner evoked pain (mean rating of a scan's 20 trials) and spontaneous
   pain (mean of the 8 rest ratings) by arm x time: the analysis engine's mixed model
   ``y ~ 1 + age + sex + time * arm + (1 | participant)``, REML, Satterthwaite df
   (:func:`prt.analysis.mixed.fit_random_intercept`). Evoked scans are excluded for >= 25% missing
   ratings, near-zero pain (mean below :data:`NEAR_ZERO`) or a rating range <= 10 (protocol notes).
2. :func:`localizer` - at baseline (pre), the voxelwise pain-intensity effect within the localizer
   mask: one-sample test by sign flipping, one-tailed (positive), TFCE, family-wise corrected;
   clusters with peak MNI coordinates and sizes (:mod:`prt.imaging.clusters`).
3. :func:`roi_effects` - each cluster's mean effect per participant and session; the same mixed
   model per cluster; one-tailed p for a larger fall in PRT than in the control arm, with the
   Benjamini-Hochberg FDR across clusters beside (scipy's ``false_discovery_control``). Clusters
   with a one-tailed p < alpha in a comparison become the connectivity seeds.
4. :func:`connectivity` - per participant and session, each seed's mean rest series correlated
   with every voxel of the target mask (S1 and midline default mode) after regressing out the
   rating task (SPM HRF), Fisher z; the change (post - pre) compared between PRT and each control
   by permutation with TFCE (:func:`prt.imaging.permutation.permutation_test`, Freedman-Lane with
   age and sex), family-wise corrected, with cluster tables.

Signs: the mixed-model records follow the analysis engine (PRT is the reference arm): for "PRT vs
placebo" the estimate is the placebo arm's pre-to-post change minus PRT's, so a positive t means
the measure fell more in PRT (the paper reports the opposite sign, PRT minus control, e.g.
t133.48 = -1.73 for the aMCC). Connectivity t maps are PRT minus control: positive where coupling
rose more in PRT.
Every function returns a result whose ``to_dict()`` is the ``imaging`` section of results.json.
"""

from __future__ import annotations

import json
import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
from scipy import stats

from prt.errors import ConvergenceWarning, InputError
from prt.imaging.clusters import find_clusters
from prt.imaging.dataset import SESSIONS, Dataset, numbers, read_label_names, read_tsv
from prt.imaging.permutation import PermutationResult, permutation_test
from prt.imaging.signals import fisher_z, residualise, seed_correlation, task_regressor
from prt.imaging.tfce import VoxelGraph
from prt.imaging.volumes import Grid, read_3d, read_4d, read_labels
from prt.vocabulary import ARMS, PRT_COMPARISONS

#: A scan whose mean evoked-pain rating is below this (0-100) counts as near-zero pain.
NEAR_ZERO = 5.0
#: A scan with this share of its ratings missing or more is excluded.
MAX_MISSING = 0.25
#: A scan whose ratings span this many points or fewer is excluded.
MIN_RANGE = 10.0

Progress = Callable[[int, int], None]


# ------------------------------------------------------------------------------------------ masks
@dataclass(frozen=True)
class Mask:
    """Labelled voxels on a grid: the analysis mask of a step, and its voxel graph."""

    path: Path
    grid: Grid
    names: dict[int, str]
    ijk: np.ndarray  # (V, 3)
    region_of: np.ndarray  # (V,) label of each voxel
    graph: VoxelGraph

    @classmethod
    def from_labels(cls, labels: np.ndarray, grid: Grid, names: dict[int, str], path) -> "Mask":
        graph = VoxelGraph.from_mask(labels > 0)
        return cls(path=Path(path), grid=grid, names=dict(names), ijk=graph.ijk,
                   region_of=labels[tuple(graph.ijk.T)].astype(np.int32), graph=graph)

    @classmethod
    def read(cls, image: Path, table: Path) -> "Mask":
        labels, grid = read_labels(image, "mask")
        names = read_label_names(table, np.unique(labels[labels > 0]))
        return cls.from_labels(labels, grid, names, image)

    def subset(self, keep: np.ndarray) -> "Mask":
        """The mask restricted to the voxels where ``keep`` (V,) is true."""
        labels = self.volume(np.where(keep, self.region_of, 0))
        return Mask.from_labels(labels, self.grid, self.names, self.path)

    def volume(self, values, fill=0) -> np.ndarray:
        return self.graph.to_volume(np.asarray(values), fill)

    def to_dict(self) -> dict:
        return {"path": str(self.path), "voxels": int(self.graph.n_voxels),
                "regions": {str(k): v for k, v in sorted(self.names.items())}}


def _covered(mask: Mask, data: np.ndarray, paths: list[Path], what: str, notes: list[str]) -> tuple[Mask, np.ndarray]:
    """Drop mask voxels that some image leaves at exactly 0 (outside its coverage); InputError when
    an image, or all of them together, cover none of the mask."""
    zero = data == 0
    for row, path in enumerate(paths):
        if zero[row].all():
            raise InputError(f"{what} {path}: 0 at every voxel of the mask {mask.path}; the mask does not overlap "
                             "the data (same space and field of view?)")
    keep = ~zero.any(axis=0)
    if not keep.any():
        raise InputError(f"mask {mask.path}: no voxel has data in every {what} (the images cover different parts "
                         "of the brain)")
    dropped = int((~keep).sum())
    if dropped:
        notes.append(f"{dropped} voxel(s) of {mask.path.name} left out: not covered by every {what}")
        return mask.subset(keep), data[:, keep]
    return mask, data


# -------------------------------------------------------------------------------------- behaviour
def scan_quality(events_path: Path) -> dict:
    """Mean, count, missing share and range of a scan's evoked-pain ratings, and the exclusion rule
    it breaks (``missing``, ``near_zero``, ``range``) or None."""
    where = f"events {events_path}"
    frame = read_tsv(events_path, "events")
    ratings = numbers(frame, "rating", where)
    if np.any((ratings < 0) | (ratings > 100)):
        raise InputError(f"{where}: a rating is outside 0-100")
    present = ratings[~np.isnan(ratings)]
    missing = 1.0 - present.size / max(ratings.size, 1)
    mean = float(present.mean()) if present.size else math.nan
    spread = float(present.max() - present.min()) if present.size else 0.0
    rule = None
    if missing >= MAX_MISSING:
        rule = "missing"
    elif mean < NEAR_ZERO:
        rule = "near_zero"
    elif spread <= MIN_RANGE:
        rule = "range"
    return {"mean": mean, "ratings": int(ratings.size), "missing_share": float(missing), "range": spread,
            "excluded": rule}


def _rest_ratings(events_path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """onsets, durations and ratings of the rest scan's rating periods."""
    where = f"events {events_path}"
    frame = read_tsv(events_path, "events")
    onsets = numbers(frame, "onset", where, allow_missing=False)
    durations = numbers(frame, "duration", where, allow_missing=False)
    ratings = numbers(frame, "rating", where)
    if np.any(durations < 0):
        raise InputError(f"{where}: a duration is negative")
    if np.any((ratings < 0) | (ratings > 100)):
        raise InputError(f"{where}: a rating is outside 0-100")
    return onsets, durations, ratings


def arm_by_time(frame: pd.DataFrame, label: str, notes: list[str]) -> list[dict]:
    """The engine's primary model on ``frame`` (participant, arm, time, age, sex, value): one record
    per PRT comparison with estimate, se, t, df, two-sided p, one-tailed p (larger fall in PRT)."""
    from prt.analysis.mixed import design_primary, fit_random_intercept

    arms = set(frame["arm"])
    if not set(ARMS) <= arms or set(frame["time"]) != set(SESSIONS):
        notes.append(f"{label}: skipped, the model needs all three arms at pre and post")
        return []
    y, X, groups, names = design_primary(frame)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            fit = fit_random_intercept(y, X, groups, names, reml=True)
        except InputError as exc:
            notes.append(f"{label}: the model cannot be fitted ({exc})")
            return []
    for w in caught:
        if issubclass(w.category, ConvergenceWarning):
            notes.append(f"{label}: {w.message}")
    records = []
    for comparison in PRT_COMPARISONS:
        test = fit.test(f"time:{comparison.second}")
        usable = bool(fit.converged) and math.isfinite(test.df)
        one = float(stats.t.sf(test.t, test.df)) if usable else math.nan
        records.append({
            "measure": label, "comparison": comparison.name, "estimate": test.estimate, "se": test.se,
            "t": test.t if usable else math.nan, "df": test.df if usable else math.nan,
            "p": test.p if usable else math.nan, "p_one_tailed": one,
            "n_obs": int(fit.n_obs), "n_participants": int(fit.n_groups), "converged": usable,
        })
    return records


def _long(dataset: Dataset, values: dict) -> pd.DataFrame:
    """Long frame for the mixed model from ``{(participant, session): value}``."""
    people = dataset.participants
    rows = [{"participant": p, "arm": people.at[p, "arm"], "time": s, "age": people.at[p, "age"],
             "sex": people.at[p, "sex"], "value": v} for (p, s), v in values.items() if np.isfinite(v)]
    return pd.DataFrame(rows, columns=["participant", "arm", "time", "age", "sex", "value"])


@dataclass
class BehaviourResult:
    """In-scanner pain by arm x time: model records and the per-scan table."""

    records: list[dict]
    scans: pd.DataFrame
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"records": self.records, "scans_excluded": self.scans.loc[self.scans["excluded"].notna(),
                ["participant", "session", "excluded"]].to_dict("records"), "notes": list(self.notes)}


def behaviour(dataset: Dataset) -> BehaviourResult:
    """Evoked and spontaneous in-scanner pain by arm x time (module docstring, 1)."""
    notes = list(dataset.notes)
    scans, evoked, spontaneous = [], {}, {}
    for participant in dataset.participants.index:
        for session in SESSIONS:
            row = {"participant": participant, "session": session, "evoked_mean": math.nan, "evoked_ratings": 0,
                   "missing_share": math.nan, "range": math.nan, "excluded": None, "spontaneous_mean": math.nan}
            path = dataset.path(participant, session, "evoked_events")
            if path is not None:
                quality = scan_quality(path)
                row.update(evoked_mean=quality["mean"], evoked_ratings=quality["ratings"],
                           missing_share=quality["missing_share"], range=quality["range"],
                           excluded=quality["excluded"])
                if quality["excluded"] is None:
                    evoked[(participant, session)] = quality["mean"]
            path = dataset.path(participant, session, "rest_events")
            if path is not None:
                ratings = _rest_ratings(path)[2]
                if np.any(~np.isnan(ratings)):
                    row["spontaneous_mean"] = float(np.nanmean(ratings))
                    spontaneous[(participant, session)] = row["spontaneous_mean"]
            scans.append(row)
    table = pd.DataFrame(scans)
    records = arm_by_time(_long(dataset, evoked), "evoked_pain", notes)
    records += arm_by_time(_long(dataset, spontaneous), "spontaneous_pain", notes)
    n_out = int(table["excluded"].notna().sum())
    if n_out:
        notes.append(f"{n_out} evoked-pain scan(s) excluded (>= 25% missing ratings, near-zero pain or a range "
                     "<= 10)")
    return BehaviourResult(records=records, scans=table, notes=notes)


def excluded_scans(dataset: Dataset) -> dict[tuple[str, str], str]:
    """``{(participant, session): rule}`` of evoked-pain scans the exclusion rules remove."""
    out = {}
    for participant in dataset.participants.index:
        for session in SESSIONS:
            path = dataset.path(participant, session, "evoked_events")
            if path is not None:
                rule = scan_quality(path)["excluded"]
                if rule:
                    out[(participant, session)] = rule
    return out


# -------------------------------------------------------------------------------------- localizer
@dataclass
class ClusterSet:
    """Named clusters on a grid (a label image): the localizer's, or the seeds."""

    labels: np.ndarray  # 3-D int, 0 outside
    grid: Grid
    names: dict[int, str]
    table: pd.DataFrame | None = None
    source: str = "the clusters"

    @classmethod
    def read(cls, image: Path, table: Path) -> "ClusterSet":
        labels, grid = read_labels(image, "clusters")
        names = read_label_names(table, np.unique(labels[labels > 0]))
        return cls(labels=labels, grid=grid, names=names, source=str(image))

    def subset(self, keep: list[int]) -> "ClusterSet":
        labels = np.where(np.isin(self.labels, keep), self.labels, 0)
        table = self.table[self.table["cluster"].isin(keep)] if self.table is not None else None
        return ClusterSet(labels=labels, grid=self.grid, names={k: self.names[k] for k in keep}, table=table,
                          source=self.source)

    def members(self) -> dict[int, np.ndarray]:
        """Label -> (k, 3) voxel indices."""
        return {k: np.argwhere(self.labels == k) for k in sorted(self.names) if np.any(self.labels == k)}


@dataclass
class LocalizerResult:
    """Baseline pain-intensity clusters within the localizer mask."""

    clusters: ClusterSet
    test: PermutationResult
    mask: Mask
    participants: list[str]
    alpha: float
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"clusters": self.clusters.table.to_dict("records"), "n_participants": len(self.participants),
                "n_permutations": self.test.n_permutations, "alpha": self.alpha, "scheme": self.test.scheme,
                "tail": "positive (one-tailed)", "df": self.test.df, "mask": self.mask.to_dict(),
                "notes": list(self.notes)}


def _load_maps(dataset: Dataset, keys: list[tuple[str, str]], mask: Mask) -> tuple[np.ndarray, list[Path]]:
    paths = [dataset.path(p, s, "evoked") for p, s in keys]
    data = np.stack([read_3d(path, mask.ijk, mask.grid, mask.path, "evoked-pain map") for path in paths])
    return data, paths


def localizer(dataset: Dataset, *, n_permutations: int = 5000, seed=0, alpha: float = 0.05, min_voxels: int = 1,
              progress: Progress | None = None) -> LocalizerResult:
    """Clusters of positive pain-intensity effect at baseline within the localizer mask (module docstring, 2)."""
    _check_alpha(alpha)
    notes = list(dataset.notes)
    mask = Mask.read(*dataset.mask("localizer"))
    out = excluded_scans(dataset)
    people = [p for p in dataset.participants.index
              if dataset.path(p, "pre", "evoked") is not None and (p, "pre") not in out]
    if len(people) < 6:
        raise InputError(f"localizer: {len(people)} usable baseline evoked-pain map(s); at least 6 are needed")
    left_out = [p for p in dataset.participants.index if (p, "pre") in out]
    if left_out:
        notes.append(f"localizer: {len(left_out)} baseline scan(s) excluded by the rating rules")
    data, paths = _load_maps(dataset, [(p, "pre") for p in people], mask)
    mask, data = _covered(mask, data, paths, "evoked-pain map", notes)
    test = permutation_test(data, np.ones(len(people)), None, graph=mask.graph, tfce=True,
                            n_permutations=n_permutations, two_sided=False, seed=seed, progress=progress)
    significant = (test.p_tfce < alpha) & (test.t > 0)
    table, labels = find_clusters(significant, test.t, test.p_tfce, mask.graph, mask.region_of, mask.names,
                                  mask.grid, min_voxels)
    table = table.rename(columns={"peak_stat": "peak_t", "min_p": "min_p_fwe"})
    clusters = ClusterSet(labels=mask.volume(labels), grid=mask.grid,
                          names={int(k): str(v) for k, v in zip(table["cluster"], table["name"])}, table=table,
                          source=f"the localizer clusters (mask {mask.path})")
    if table.empty:
        notes.append(f"localizer: no cluster reached p < {alpha:g} (TFCE, family-wise corrected)")
    return LocalizerResult(clusters=clusters, test=test, mask=mask, participants=people, alpha=alpha, notes=notes)


def _check_alpha(alpha) -> None:
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0 < alpha < 1:
        raise InputError(f"alpha: expected a number between 0 and 1, got {alpha!r}")


# ------------------------------------------------------------------------------------ ROI effects
@dataclass
class RoiEffectsResult:
    """Treatment effects on each cluster's evoked response; the seeds for connectivity."""

    records: list[dict]
    means: pd.DataFrame
    values: pd.DataFrame
    seeds: ClusterSet
    alpha: float
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"records": self.records, "cluster_means": self.means.to_dict("records"), "alpha": self.alpha,
                "seeds": [{"cluster": int(k), "name": v} for k, v in sorted(self.seeds.names.items())],
                "notes": list(self.notes)}


def roi_effects(dataset: Dataset, clusters: ClusterSet, *, alpha: float = 0.05) -> RoiEffectsResult:
    """Arm x time mixed model of each cluster's mean evoked response (module docstring, 3)."""
    _check_alpha(alpha)
    notes = list(dataset.notes)
    members = clusters.members()
    if not members:
        raise InputError("roi effects: no cluster to test (the localizer found none)")
    out = excluded_scans(dataset)
    keys = [(p, s) for p in dataset.participants.index for s in SESSIONS
            if dataset.path(p, s, "evoked") is not None and (p, s) not in out]
    if out:
        notes.append(f"roi effects: {len(out)} scan(s) excluded by the rating rules")
    reference = clusters.grid
    label_path = clusters.source
    all_voxels = np.concatenate(list(members.values()))
    rows = []
    for p, s in keys:
        path = dataset.path(p, s, "evoked")
        values = read_3d(path, all_voxels, reference, label_path, "evoked-pain map")
        start = 0
        for label, voxels in members.items():
            part = values[start: start + len(voxels)]
            start += len(voxels)
            if np.all(part == 0):
                raise InputError(f"evoked-pain map {path}: 0 at every voxel of cluster {clusters.names[label]}; the "
                                 "clusters do not overlap the data")
            rows.append({"participant": p, "session": s, "cluster": int(label), "name": clusters.names[label],
                         "value": float(part.mean())})
    values = pd.DataFrame(rows, columns=["participant", "session", "cluster", "name", "value"])
    records = []
    people = dataset.participants
    for label in members:
        sub = values[values["cluster"] == label]
        frame = _long(dataset, {(r.participant, r.session): r.value for r in sub.itertuples()})
        for record in arm_by_time(frame, clusters.names[label], notes):
            record = {"cluster": int(label), "name": record.pop("measure"), **record}
            records.append(record)
    for comparison in PRT_COMPARISONS:
        chosen = [r for r in records if r["comparison"] == comparison.name and np.isfinite(r["p_one_tailed"])]
        if chosen:
            q = stats.false_discovery_control([r["p_one_tailed"] for r in chosen], method="bh")
            for r, qv in zip(chosen, q):
                r["q_fdr"] = float(qv)
    for r in records:
        r.setdefault("q_fdr", math.nan)
    values = values.join(people[["arm"]], on="participant")
    means = (values.groupby(["cluster", "name", "arm", "session"], sort=False)["value"]
             .agg(mean="mean", sd="std", n="count").reset_index())
    means["se"] = means["sd"] / np.sqrt(means["n"])
    effect = sorted({r["cluster"] for r in records if r["p_one_tailed"] < alpha})
    seeds = clusters.subset(effect)
    if not effect:
        notes.append(f"roi effects: no cluster fell more in PRT at one-tailed p < {alpha:g}; no seeds for "
                     "connectivity")
    return RoiEffectsResult(records=records, means=means.drop(columns="sd"), values=values, seeds=seeds,
                            alpha=alpha, notes=notes)


# ----------------------------------------------------------------------------------- connectivity
@dataclass
class ConnectivityResult:
    """Seed-to-target connectivity change, PRT vs each control, by permutation with TFCE."""

    tests: list[dict]
    clusters: pd.DataFrame
    maps: dict  # (seed name, comparison) -> PermutationResult
    targets: Mask
    participants: list[str]
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"tests": self.tests, "clusters": self.clusters.to_dict("records"),
                "n_participants": len(self.participants), "targets": self.targets.to_dict(),
                "notes": list(self.notes)}


def repetition_time(bold_path: Path, img_zooms) -> float:
    """TR (s) from the BOLD's JSON sidecar (``RepetitionTime``), else from the NIfTI header."""
    name = bold_path.name
    for suffix in (".nii.gz", ".nii"):
        if name.endswith(suffix):
            sidecar = bold_path.with_name(name[: -len(suffix)] + ".json")
            break
    else:
        sidecar = None
    if sidecar is not None and sidecar.is_file():
        from prt.files import load_json

        meta = load_json(sidecar, "sidecar")
        tr = meta.get("RepetitionTime") if isinstance(meta, dict) else None
        if not isinstance(tr, (int, float)) or isinstance(tr, bool) or not 0 < tr < 60:
            raise InputError(f"sidecar {sidecar}: RepetitionTime must be a number of seconds between 0 and 60")
        return float(tr)
    tr = float(img_zooms[3]) if len(img_zooms) > 3 else 0.0
    if not 0 < tr < 60:
        raise InputError(f"rest scan {bold_path}: no RepetitionTime (no JSON sidecar and none in the header)")
    return tr


def _seed_maps(path: Path, events: Path, seeds: dict[int, np.ndarray], n_seed_vox: int, voxels: np.ndarray,
               grid: Grid, reference) -> dict[int, np.ndarray]:
    """Fisher z maps (target voxels) of each seed for one rest scan."""
    from prt.imaging.volumes import load

    series = read_4d(path, voxels, grid, reference, "rest scan")
    tr = repetition_time(path, load(path, "rest scan", ndim=4).header.get_zooms())
    onsets, durations, _ = _rest_ratings(events)
    task = task_regressor(onsets, durations, tr, series.shape[0])
    regressors = task[:, None] if np.ptp(task) > 0 else np.empty((series.shape[0], 0))
    resid = residualise(series, regressors)
    out = {}
    start = 0
    target = resid[:, n_seed_vox:]
    flat = np.std(target, axis=0) == 0
    if flat.any():
        raise InputError(f"rest scan {path}: {int(flat.sum())} target voxel(s) do not vary over time (outside the "
                         "scan's coverage?)")
    for label, members in seeds.items():
        seed_ts = resid[:, start: start + len(members)].mean(axis=1)
        start += len(members)
        if np.std(seed_ts) == 0:
            raise InputError(f"rest scan {path}: the seed series does not vary over time")
        out[label] = fisher_z(seed_correlation(seed_ts, target))
    return out


def connectivity(dataset: Dataset, seeds: ClusterSet, *, n_permutations: int = 5000, seed=0, alpha: float = 0.05,
                 two_sided: bool = True, min_voxels: int = 1, progress: Progress | None = None) -> ConnectivityResult:
    """Seed connectivity change, PRT vs each control, TFCE permutation tests (module docstring, 4)."""
    _check_alpha(alpha)
    notes = list(dataset.notes)
    targets = Mask.read(*dataset.mask("targets"))
    if not seeds.grid.same_as(targets.grid):
        raise InputError(f"mask {targets.path}: not on the grid of the seeds (shape or affine differ)")
    members = seeds.members()
    if not members:
        raise InputError("connectivity: no seed (no cluster showed a treatment effect)")
    people = dataset.with_sessions("rest")
    people = [p for p in people if all(dataset.path(p, s, "rest_events") for s in SESSIONS)]
    missing = [p for p in dataset.participants.index if p not in people]
    if missing:
        notes.append(f"connectivity: {len(missing)} participant(s) without both rest scans left out")
    seed_voxels = np.concatenate(list(members.values()))
    voxels = np.concatenate([seed_voxels, targets.ijk])
    change = {label: np.empty((len(people), targets.graph.n_voxels)) for label in members}
    for i, p in enumerate(people):
        z = {}
        for s in SESSIONS:
            z[s] = _seed_maps(dataset.path(p, s, "rest"), dataset.path(p, s, "rest_events"), members,
                              len(seed_voxels), voxels, targets.grid, targets.path)
        for label in members:
            change[label][i] = z["post"][label] - z["pre"][label]
    info = dataset.participants.loc[people]
    tests, tables, maps = [], [], {}
    plan = [(label, c) for label in members for c in PRT_COMPARISONS]
    total = len(plan) * n_permutations

    for index, (label, comparison) in enumerate(plan):
        rows = np.flatnonzero(info["arm"].isin([comparison.first, comparison.second]).to_numpy())
        sub = info.iloc[rows]
        tested = (sub["arm"] == comparison.first).to_numpy(float)
        if tested.sum() < 2 or (1 - tested).sum() < 2:
            notes.append(f"connectivity {seeds.names[label]}, {comparison.name}: fewer than 2 participants in an arm")
            continue
        covariates = np.column_stack([sub["age"].to_numpy(float), (sub["sex"] == "female").to_numpy(float)])
        covariates = covariates[:, np.ptp(covariates, axis=0) > 0]

        def step(done, _total, offset=index * n_permutations):
            if progress is not None:
                progress(offset + done, total)

        result = permutation_test(change[label][rows], tested, covariates if covariates.size else None,
                                  graph=targets.graph, tfce=True, n_permutations=n_permutations,
                                  two_sided=two_sided, seed=seed, progress=step)
        maps[(seeds.names[label], comparison.name)] = result
        found = 0
        for direction, sign in (("increase", 1.0), ("decrease", -1.0)):
            if direction == "decrease" and not two_sided:
                continue
            significant = (result.p_tfce < alpha) & (sign * result.t > 0)
            table, _ = find_clusters(significant, sign * result.t, result.p_tfce, targets.graph, targets.region_of,
                                     targets.names, targets.grid, min_voxels)
            if not table.empty:
                table = table.rename(columns={"peak_stat": "peak_t", "min_p": "min_p_fwe"})
                table["peak_t"] = sign * table["peak_t"]
                table.insert(0, "direction", direction)
                table.insert(0, "comparison", comparison.name)
                table.insert(0, "seed", seeds.names[label])
                tables.append(table)
                found += len(table)
        tests.append({"seed": seeds.names[label], "comparison": comparison.name, "n_prt": int(tested.sum()),
                      "n_control": int((1 - tested).sum()), "n_permutations": result.n_permutations,
                      "scheme": result.scheme, "two_sided": two_sided, "df": result.df,
                      "max_t": float(np.max(result.t)), "min_t": float(np.min(result.t)),
                      "min_p_fwe": float(np.min(result.p_tfce)), "clusters": found})
    columns = ["seed", "comparison", "direction", "cluster", "name", "region", "voxels", "volume_mm3", "peak_x",
               "peak_y", "peak_z", "peak_t", "min_p_fwe"]
    clusters = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(columns=columns)
    return ConnectivityResult(tests=tests, clusters=clusters[columns], maps=maps, targets=targets, participants=people,
                              notes=notes)


def describe(dataset: Dataset) -> dict:
    """The dataset's shape for results.json: participants by arm and scans present."""
    arms = dataset.participants["arm"].value_counts().reindex(list(ARMS), fill_value=0)
    kinds = sorted({k for (_, _, k) in dataset.files})
    present = {k: {s: sum(1 for (p, ss, kk) in dataset.files if kk == k and ss == s) for s in SESSIONS}
               for k in kinds}
    return {"root": str(dataset.root), "participants": int(len(dataset.participants)),
            "by_arm": {a: int(n) for a, n in arms.items()}, "scans": present}


def results_json(sections: dict, dataset: Dataset) -> str:
    """results.json text: ``{"imaging": {<section>: ..., "dataset": ..., "version": ...}}``."""
    from prt import __version__
    from prt.analysis.results import jsonable

    body = {"imaging": {**sections, "dataset": describe(dataset), "version": __version__}}
    return json.dumps(jsonable(body), indent=1, allow_nan=False) + "\n"


__all__ = ["BehaviourResult", "ClusterSet", "ConnectivityResult", "LocalizerResult", "MAX_MISSING", "MIN_RANGE",
           "Mask", "NEAR_ZERO", "RoiEffectsResult", "arm_by_time", "behaviour", "connectivity", "describe",
           "excluded_scans", "localizer", "results_json", "roi_effects", "scan_quality"]
