"""Writing each analysis's output folder: results.json, tables, maps and figures (all or nothing).

Each ``write_*`` fills a folder through :func:`prt.files.write_output_dir`: everything goes into a
temporary folder beside ``out`` and is renamed into place only when all of it was written, and an
existing ``out`` is replaced only when it is prt's own earlier output. Tables are CSV with
formula-like cells neutralised (:func:`prt.files.write_csv`); maps are gzipped NIfTI on the data's
grid; cluster label images come with a TSV of names (the ``dseg`` layout the masks use), so the
localizer's output is the ROI-effects step's input and the ROI-effects output (``seeds_dseg``)
the connectivity step's.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from prt.errors import InputError
from prt.files import atomic_write, write_csv, write_output_dir
from prt.imaging.analyses import ClusterSet, results_json
from prt.imaging.volumes import write as write_nifti

#: File names of the cluster label images passed from one step to the next.
LOCALIZER_CLUSTERS = "localizer_clusters_dseg"
SEEDS = "seeds_dseg"


def _write_clusters(work: Path, stem: str, clusters: ClusterSet) -> None:
    write_nifti(work / f"{stem}.nii.gz", clusters.labels.astype(np.int16), clusters.grid, np.int16)
    rows = "".join(f"{k}\t{v}\n" for k, v in sorted(clusters.names.items()))
    atomic_write(work / f"{stem}.tsv", "index\tname\n" + rows)


def read_clusters(source, stem: str) -> ClusterSet:
    """Clusters from a previous step's output folder (``<stem>.nii.gz`` + ``.tsv``) or a label image
    (its names in the ``.tsv`` of the same stem beside it)."""
    source = Path(source)
    if source.is_dir():
        image, table = source / f"{stem}.nii.gz", source / f"{stem}.tsv"
    else:
        name = source.name
        base = name[:-7] if name.endswith(".nii.gz") else name[:-4] if name.endswith(".nii") else None
        if base is None:
            raise InputError(f"{source}: expected a folder written by prt imaging or a .nii/.nii.gz label image")
        image, table = source, source.with_name(base + ".tsv")
    if not image.is_file():
        raise InputError(f"{image}: not found (run the previous step, or give its label image)")
    return ClusterSet.read(image, table)


def _logp(p: np.ndarray) -> np.ndarray:
    return -np.log10(np.clip(p, 1e-300, 1.0))


def write_behaviour(out, result, dataset) -> Path:
    def fill(work: Path):
        atomic_write(work / "results.json", results_json({"behaviour": result.to_dict()}, dataset))
        write_csv(pd.DataFrame(result.records), work / "behaviour.csv")
        write_csv(result.scans, work / "scans.csv")

    write_output_dir(out, fill, kind="prt imaging behaviour")
    return Path(out)


def write_localizer(out, result, dataset) -> Path:
    def fill(work: Path):
        atomic_write(work / "results.json", results_json({"localizer": result.to_dict()}, dataset))
        write_csv(result.clusters.table, work / "localizer_clusters.csv")
        _write_clusters(work, LOCALIZER_CLUSTERS, result.clusters)
        mask = result.mask
        for name, values in (("t", result.test.t), ("tfce", result.test.tfce),
                             ("logp_fwe_tfce", _logp(result.test.p_tfce)), ("logp_fwe_t", _logp(result.test.p_t))):
            write_nifti(work / f"localizer_{name}.nii.gz", mask.volume(values.astype(np.float32), 0.0), mask.grid,
                        np.float32)
        _figure(work / "localizer_clusters.png", result.clusters, mask.volume(result.test.t, 0.0),
                "Localizer: pain-intensity clusters at baseline (t)")

    write_output_dir(out, fill, kind="prt imaging localizer")
    return Path(out)


def write_roi_effects(out, result, dataset, localizer_result=None) -> Path:
    def fill(work: Path):
        payload = {"roi_effects": result.to_dict()}
        if localizer_result is not None:
            payload = {"localizer": localizer_result.to_dict(), **payload}
        atomic_write(work / "results.json", results_json(payload, dataset))
        write_csv(pd.DataFrame(result.records), work / "roi_effects.csv")
        write_csv(result.means, work / "cluster_means.csv")
        _write_clusters(work, SEEDS, result.seeds)
        if localizer_result is not None:
            write_csv(localizer_result.clusters.table, work / "localizer_clusters.csv")
            _write_clusters(work, LOCALIZER_CLUSTERS, localizer_result.clusters)
        _bars(work / "cluster_means.png", result.means)

    write_output_dir(out, fill, kind="prt imaging roi-effects")
    return Path(out)


def write_connectivity(out, result, dataset, seeds: ClusterSet) -> Path:
    def fill(work: Path):
        atomic_write(work / "results.json", results_json({"connectivity": result.to_dict()}, dataset))
        write_csv(pd.DataFrame(result.tests), work / "connectivity_tests.csv")
        write_csv(result.clusters, work / "connectivity_clusters.csv")
        _write_clusters(work, SEEDS, seeds)
        targets = result.targets
        for (seed, comparison), test in result.maps.items():
            stem = f"seed-{seed}_{comparison}"
            for name, values in (("t", test.t), ("tfce", test.tfce), ("logp_fwe_tfce", _logp(test.p_tfce))):
                write_nifti(work / f"{stem}_{name}.nii.gz", targets.volume(values.astype(np.float32), 0.0),
                            targets.grid, np.float32)

    write_output_dir(out, fill, kind="prt imaging connectivity")
    return Path(out)


def _figure(path: Path, clusters: ClusterSet, t_volume: np.ndarray, title: str) -> None:
    """Glass-brain view: maximum-intensity projections of the clustered t values (sagittal,
    coronal, axial), each cluster's peak labelled."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    inside = clusters.labels > 0
    shown = np.where(inside, np.maximum(t_volume, 0.0), 0.0)
    fig, axes = plt.subplots(1, 3, figsize=(10, 3.6), constrained_layout=True)
    outline = np.abs(t_volume) > 0
    names = ("sagittal (x)", "coronal (y)", "axial (z)")
    for axis, ax, name in zip((0, 1, 2), axes, names):
        ax.imshow(np.rot90(outline.max(axis=axis)), cmap="Greys", alpha=0.25, interpolation="nearest")
        image = ax.imshow(np.rot90(np.ma.masked_equal(shown.max(axis=axis), 0.0)), cmap="autumn",
                          interpolation="nearest")
        ax.set_title(name, fontsize=9)
        ax.set_axis_off()
    if inside.any():
        fig.colorbar(image, ax=axes, shrink=0.7, label="t")
    fig.suptitle(title, fontsize=10)
    if clusters.table is not None and not clusters.table.empty:
        lines = [f"{r.cluster}. {r.name}: {r.voxels} vox, peak ({r.peak_x:.0f}, {r.peak_y:.0f}, {r.peak_z:.0f})"
                 for r in clusters.table.itertuples()]
        fig.text(0.01, 0.01, "; ".join(lines), fontsize=7, wrap=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _bars(path: Path, means: pd.DataFrame) -> None:
    """Bars of each cluster's mean response by arm at pre and post (error bars: 1 SE)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from prt.vocabulary import ARM_LABELS, ARMS

    names = list(dict.fromkeys(means["name"]))
    fig, axes = plt.subplots(1, max(len(names), 1), figsize=(3.2 * max(len(names), 1), 3.2), squeeze=False,
                             constrained_layout=True)
    colours = {"pre": "#9ecae1", "post": "#08519c"}
    for ax, name in zip(axes[0], names):
        sub = means[means["name"] == name]
        x = np.arange(len(ARMS))
        for offset, session in ((-0.2, "pre"), (0.2, "post")):
            rows = sub[sub["session"] == session].set_index("arm").reindex(list(ARMS))
            ax.bar(x + offset, rows["mean"], width=0.38, yerr=rows["se"], color=colours[session], label=session,
                   capsize=2)
        ax.set_xticks(x, [ARM_LABELS[a] for a in ARMS], fontsize=8)
        ax.set_title(name, fontsize=9)
        ax.axhline(0, color="black", linewidth=0.5)
    axes[0][0].set_ylabel("mean evoked-pain effect")
    axes[0][-1].legend(fontsize=8)
    fig.savefig(path, dpi=120)
    plt.close(fig)


__all__ = ["LOCALIZER_CLUSTERS", "SEEDS", "read_clusters", "write_behaviour", "write_connectivity",
           "write_localizer", "write_roi_effects"]
