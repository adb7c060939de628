"""The analysis report's imaging section, from the folders ``prt imaging ...`` writes (issue 16).

``prt analyze EXPORT --imaging DIR`` reads one or more output folders of ``prt imaging behaviour``,
``localizer``, ``roi-effects`` and ``connectivity`` (or a folder holding them) and adds to the
report: in-scanner pain by arm x time, the localizer's clusters, the treatment effect on each
cluster (the mixed model's estimate, one-tailed p for a larger fall in PRT, Benjamini-Hochberg FDR
beside), the seed connectivity tests and their clusters, and three figures (cluster means by arm and
session; a glass-brain view of the clusters; the connectivity t maps with the corrected-significant
voxels outlined). Nothing is recomputed: the numbers are the steps' own results.json
(:mod:`prt.imaging.outputs`), the figures are drawn from their maps and label images.

- :func:`read_imaging_outputs` - the folders read and checked (each results.json is prt imaging's,
  no step given twice with different results, all from one dataset, every record has the fields
  the report shows, the images the figures need are present); errors name the folder and file.
- :func:`imaging_results` - the ``imaging`` entry of results.json: the steps' sections as written,
  except that the behaviour step's list of excluded scans (participant ids) becomes counts per rule.
- :func:`imaging_section` - the :class:`~prt.analysis.sections.ReportSection`.

The imaging participants must be the trial's: participant labels (``sub-<label>``) are the trial's
record ids, checked against the behaviour step's per-scan table, and no arm may hold more scanned
participants than the trial randomized to it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pandas as pd

from prt.errors import InputError
from prt.vocabulary import ARM_LABELS, ARMS, PRT_COMPARISONS

#: The steps' sections in results.json, in report order.
STEPS = ("behaviour", "localizer", "roi_effects", "connectivity")
#: Fields the report reads from each step's records (``section.table``).
REQUIRED = {
    ("behaviour", "records"): ("measure", "comparison", "estimate", "se", "t", "df", "p", "p_one_tailed"),
    ("localizer", "clusters"): ("cluster", "name", "region", "voxels", "volume_mm3", "peak_x", "peak_y", "peak_z",
                                "peak_t", "min_p_fwe"),
    ("roi_effects", "records"): ("cluster", "name", "comparison", "estimate", "se", "t", "df", "p", "p_one_tailed",
                                 "q_fdr"),
    ("roi_effects", "cluster_means"): ("cluster", "name", "arm", "session", "mean", "n", "se"),
    ("connectivity", "tests"): ("seed", "comparison", "n_prt", "n_control", "n_permutations", "max_t", "min_t",
                                "min_p_fwe", "clusters"),
    ("connectivity", "clusters"): ("seed", "comparison", "direction", "cluster", "name", "region", "voxels",
                                   "volume_mm3", "peak_x", "peak_y", "peak_z", "peak_t", "min_p_fwe"),
}
#: Fields holding text; every other required field holds a number (or null where not estimable).
TEXT_FIELDS = {"measure", "comparison", "name", "region", "arm", "session", "seed", "direction"}
#: Corrected p below which the connectivity figure outlines voxels.
FIGURE_ALPHA = 0.05
_COMPARISONS = {c.name for c in PRT_COMPARISONS}


@dataclass(frozen=True)
class ImagingOutputs:
    """The imaging steps' results (as their results.json hold them) and where each came from."""

    sections: dict[str, dict]
    folders: dict[str, Path]
    dataset: dict
    version: str | None = None


# ------------------------------------------------------------------------------------ reading
def _step_folders(paths: Iterable) -> list[Path]:
    """Each path as step folders: a folder with results.json, or the step folders inside one."""
    folders: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if not path.is_dir():
            raise InputError(f"imaging folder {path}: {'not found' if not path.exists() else 'not a folder'} "
                             "(give a folder prt imaging wrote, or one holding such folders)")
        if (path / "results.json").is_file():
            folders.append(path)
            continue
        inner = sorted(p for p in path.iterdir() if p.is_dir() and (p / "results.json").is_file())
        if not inner:
            raise InputError(f"imaging folder {path}: no results.json in it or in its sub-folders (give the "
                             "folders prt imaging behaviour/localizer/roi-effects/connectivity wrote)")
        folders.extend(inner)
    if len(set(p.resolve() for p in folders)) != len(folders):
        raise InputError("imaging folders: one folder is given twice")
    return folders


def _check_records(folder: Path, step: str, section: dict) -> None:
    for (name, table), fields in REQUIRED.items():
        if name != step:
            continue
        where = f"imaging folder {folder}: results.json imaging.{step}.{table}"
        records = section.get(table)
        if not isinstance(records, list):
            raise InputError(f"{where}: expected a list of records")
        for i, record in enumerate(records):
            if not isinstance(record, dict):
                raise InputError(f"{where}[{i}]: expected an object")
            missing = [f for f in fields if f not in record]
            if missing:
                raise InputError(f"{where}[{i}]: no field {missing[0]!r} (not the output of this prt imaging?)")
            for f in fields:
                value = record[f]
                if f in TEXT_FIELDS:
                    if not isinstance(value, str) or not value.strip():
                        raise InputError(f"{where}[{i}].{f}: expected text")
                elif value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))
                                            or not math.isfinite(value)):
                    raise InputError(f"{where}[{i}].{f}: expected a number (or null)")
            if "comparison" in fields and record["comparison"] not in _COMPARISONS:
                raise InputError(f"{where}[{i}]: comparison must be one of {', '.join(sorted(_COMPARISONS))}")
            if "arm" in fields and record["arm"] not in ARMS:
                raise InputError(f"{where}[{i}]: arm must be one of {', '.join(ARMS)}")
            if "session" in fields and record["session"] not in ("pre", "post"):
                raise InputError(f"{where}[{i}]: session must be pre or post")
    where = f"imaging folder {folder}: results.json imaging.{step}"
    alpha = section.get("alpha", 0.05)
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0 < alpha < 1:
        raise InputError(f"{where}.alpha: expected a number between 0 and 1")
    seeds = section.get("seeds", [])
    if not isinstance(seeds, list) or not all(isinstance(x, dict) and isinstance(x.get("name"), str) for x in seeds):
        raise InputError(f"{where}.seeds: expected a list of {{cluster, name}} records")
    excluded = section.get("scans_excluded", [])
    if not isinstance(excluded, list) or not all(isinstance(x, dict) for x in excluded):
        raise InputError(f"{where}.scans_excluded: expected a list of records")
    notes = section.get("notes", [])
    if not isinstance(notes, list) or not all(isinstance(n, str) for n in notes):
        raise InputError(f"imaging folder {folder}: results.json imaging.{step}.notes must be a list of sentences")


def read_imaging_outputs(paths: Iterable) -> ImagingOutputs:
    """Read and check the output folders of ``prt imaging`` steps (module docstring)."""
    from prt.files import load_json

    paths = [paths] if isinstance(paths, (str, Path)) else list(paths)
    if not paths:
        raise InputError("imaging: no folder given")
    sections: dict[str, dict] = {}
    folders: dict[str, Path] = {}
    dataset, dataset_from, version = None, None, None
    for folder in _step_folders(paths):
        where = f"imaging folder {folder}: results.json"
        data = load_json(folder / "results.json", "imaging results")
        body = data.get("imaging") if isinstance(data, dict) else None
        if not isinstance(body, dict):
            raise InputError(f"{where}: not written by prt imaging (no 'imaging' object)")
        unknown = sorted(set(body) - {*STEPS, "dataset", "version"})
        if unknown:
            raise InputError(f"{where}: unknown section {unknown[0]!r} (expected {', '.join(STEPS)})")
        steps = [s for s in STEPS if s in body]
        if not steps:
            raise InputError(f"{where}: holds none of the steps {', '.join(STEPS)}")
        described = body.get("dataset")
        if not isinstance(described, dict) or not isinstance(described.get("by_arm"), dict) \
                or not isinstance(described.get("participants"), int):
            raise InputError(f"{where}: 'dataset' must give participants and by_arm")
        key = (described["participants"], tuple(sorted(described["by_arm"].items())))
        if dataset is None:
            dataset, dataset_from = {"participants": described["participants"], "by_arm": described["by_arm"]}, key
        elif key != dataset_from:
            raise InputError(f"{where}: describes another dataset than the other imaging folders "
                             f"({described['participants']} participants by arm {described['by_arm']})")
        version = version or body.get("version")
        for step in steps:
            section = body[step]
            if not isinstance(section, dict):
                raise InputError(f"{where}: imaging.{step} must be an object")
            _check_records(folder, step, section)
            if step in sections:
                if sections[step] != section:
                    raise InputError(f"{where}: the {step} results differ from those in {folders[step]}; give "
                                     "the outputs of one run")
                continue
            sections[step] = section
            folders[step] = folder
    return ImagingOutputs(sections=sections, folders=folders, dataset=dataset, version=version)


def check_participants(trial, outputs: ImagingOutputs) -> None:
    """The imaging participants belong to the trial (else an InputError naming the file and row)."""
    counts = trial.participants["arm"].value_counts()
    for arm, n in outputs.dataset["by_arm"].items():
        if arm not in ARMS:
            raise InputError(f"imaging: results.json names an unknown arm {arm!r}")
        if int(n) > int(counts.get(arm, 0)):
            raise InputError(f"imaging: {int(n)} {ARM_LABELS[arm].lower()} participants were scanned but the trial "
                             f"randomized {int(counts.get(arm, 0))} to that arm; are these the trial's scans?")
    known = set(map(str, trial.participants.index))
    if "behaviour" in outputs.folders:
        from prt.trial.inputs import read_csv

        path = outputs.folders["behaviour"] / "scans.csv"
        if not path.is_file():
            raise InputError(f"imaging folder {outputs.folders['behaviour']}: no scans.csv (the behaviour step "
                             "writes it)")
        table = read_csv(path, "imaging scans")
        if "participant" not in table.columns:
            raise InputError(f"imaging scans {path}: no column 'participant'")
        for row, record in zip(table.rows, table.records):
            pid = record["participant"].strip()
            if pid not in known:
                raise InputError(f"imaging scans {path} row {row}: participant sub-{pid} is not a participant of the "
                                 "trial being analysed (BIDS labels must be the trial's record ids)")


# ------------------------------------------------------------------------------------ results
def imaging_results(trial, outputs: ImagingOutputs) -> dict[str, Any]:
    """The ``imaging`` entry of results.json (module docstring)."""
    from prt.analysis.results import jsonable

    check_participants(trial, outputs)
    out: dict[str, Any] = {"sources": {step: folder.name for step, folder in outputs.folders.items()},
                           "dataset": outputs.dataset, "version": outputs.version}
    for step in STEPS:
        if step not in outputs.sections:
            continue
        section = dict(outputs.sections[step])
        if step == "behaviour":
            excluded = section.pop("scans_excluded", []) or []
            rules: dict[str, int] = {}
            for record in excluded:
                rule = str(record.get("excluded")) if isinstance(record, dict) else "unknown"
                rules[rule] = rules.get(rule, 0) + 1
            section["scans_excluded_by_rule"] = rules
        out[step] = section
    return jsonable(out)


# ------------------------------------------------------------------------------------ figures
def _volume(path: Path, what: str):
    """A 3-D image's data (float) and grid; InputError naming the file."""
    from prt.imaging.volumes import grid_of, load

    img = load(path, what, ndim=3)
    return np.asarray(img.dataobj, dtype=np.float64).reshape(img.shape[:3]), grid_of(img)


def _axis_aligned(data: np.ndarray, grid) -> tuple[np.ndarray, list[tuple[float, float]]] | None:
    """The volume with axes running x, y, z upwards in MNI mm and each axis' extent; None when
    the grid is oblique (then the figures are not drawn)."""
    affine = grid.affine[:3, :3]
    if not np.allclose(affine, np.diag(np.diag(affine)), atol=1e-6):
        return None
    extents = []
    for axis in range(3):
        step = affine[axis, axis]
        if step < 0:
            data = np.flip(data, axis=axis)
        first = grid.affine[axis, 3] + (0 if step > 0 else step * (grid.shape[axis] - 1))
        size = abs(step)
        extents.append((first - size / 2, first + size * (grid.shape[axis] - 1) + size / 2))
    return data, extents


#: The three views: (axis projected away, horizontal axis, vertical axis, title).
VIEWS = ((0, 1, 2, "sagittal (x projected)"), (1, 0, 2, "coronal (y projected)"), (2, 0, 1, "axial (z projected)"))
_AXIS = "xyz"
#: A schematic brain outline per view: centre and size (mm) of an ellipse around MNI152's brain.
_OUTLINE = {0: ((-17, 17), 175, 125), 1: ((0, 17), 140, 125), 2: ((0, -17), 140, 175)}


def _project(volume: np.ndarray, axis: int, how: str = "max") -> np.ndarray:
    if how == "absmax":
        index = np.expand_dims(np.argmax(np.abs(volume), axis=axis), axis)
        return np.take_along_axis(volume, index, axis=axis).squeeze(axis)
    return volume.max(axis=axis)


def _view(ax, image, extents, view, **options):
    axis, h, v, _ = view
    ax.imshow(image.T, origin="lower", extent=[*extents[h], *extents[v]], interpolation="nearest", **options)


def _frame_view(ax, extents, view, background=None) -> None:
    from matplotlib.patches import Ellipse

    axis, h, v, title = view
    if background is not None:
        _view(ax, np.where(_project(background, axis) > 0, 1.0, np.nan), extents, view, cmap="Greys", vmin=0,
              vmax=4, alpha=0.6)
    centre, width, height = _OUTLINE[axis]
    ax.add_patch(Ellipse(centre, width, height, fill=False, edgecolor="#999999", linewidth=0.8, linestyle=":"))
    ax.set_xlim(min(extents[h][0], centre[0] - width / 2 - 5), max(extents[h][1], centre[0] + width / 2 + 5))
    ax.set_ylim(min(extents[v][0], centre[1] - height / 2 - 5), max(extents[v][1], centre[1] + height / 2 + 5))
    ax.set_aspect("equal")
    ax.set_title(title, fontsize=9, loc="left")
    ax.set_xlabel(f"{_AXIS[h]} (mm)", fontsize=8)
    ax.set_ylabel(f"{_AXIS[v]} (mm)", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.grid(False)


CLUSTER_COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000")


def fig_clusters(labels: np.ndarray, grid, table: list[dict], background: np.ndarray | None = None):
    """Glass-brain view of the localizer's clusters: maximum-intensity projections of the label
    image in three views over the analysed voxels (grey) and a schematic brain outline (dotted),
    each cluster in its own colour and numbered at its peak."""
    import matplotlib
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    from prt.analysis.figures import STYLE, _empty, _new_figure

    with matplotlib.rc_context(STYLE):
        aligned = _axis_aligned(labels.astype(float), grid)
        if aligned is None or not labels.any():
            return _empty(_new_figure(7.5, 2.5), "Clusters not drawn: no cluster, or an oblique grid.")
        volume, extents = aligned
        back = _axis_aligned(background, grid)[0] if background is not None else None
        ids = sorted(int(k) for k in np.unique(labels[labels > 0]))
        colour_of = {k: CLUSTER_COLOURS[i % len(CLUSTER_COLOURS)] for i, k in enumerate(ids)}
        # one colour index per label: 1..len(ids)
        index = np.zeros_like(volume)
        for i, k in enumerate(ids, start=1):
            index[volume == k] = i
        cmap = ListedColormap([colour_of[k] for k in ids])
        fig = _new_figure(10, 3.8)
        axes = fig.subplots(1, 3)
        names = {int(r["cluster"]): r for r in table}
        for ax, view in zip(axes, VIEWS):
            _frame_view(ax, extents, view, back)
            shown = np.ma.masked_equal(_project(index, view[0]), 0)
            _view(ax, shown, extents, view, cmap=cmap, vmin=0.5, vmax=len(ids) + 0.5)
            for k, record in names.items():
                peak = (record["peak_x"], record["peak_y"], record["peak_z"])
                ax.annotate(str(k), (peak[view[1]], peak[view[2]]), fontsize=8, fontweight="bold", ha="center",
                            va="center", color="white",
                            bbox={"boxstyle": "circle,pad=0.15", "fc": colour_of.get(k, "#333333"), "ec": "white",
                                  "lw": 0.6})
        handles = [Patch(facecolor=colour_of[k], label=f"{k}. {_label(names[k]['name']) if k in names else k}")
                   for k in ids]
        fig.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 4), fontsize=8)
        return fig


def fig_cluster_means(cluster_means: list[dict]):
    """Each cluster's mean evoked-pain effect by arm, before and after treatment (± 1 SE)."""
    import matplotlib

    from prt.analysis.figures import ARM_COLOURS, STYLE, _empty, _new_figure

    with matplotlib.rc_context(STYLE):
        names = list(dict.fromkeys((int(r["cluster"]), str(r["name"])) for r in cluster_means))
        if not names:
            return _empty(_new_figure(7.5, 2.5), "No cluster means in the results.")
        fig = _new_figure(max(7.5, 3.0 * len(names)), 3.4)
        axes = fig.subplots(1, len(names), sharey=True, squeeze=False)[0]
        by = {(int(r["cluster"]), r["arm"], r["session"]): r for r in cluster_means}
        x = np.arange(len(ARMS), dtype=float)
        for ax, (cluster, name) in zip(axes, names):
            for offset, session, alpha, hatch in ((-0.19, "pre", 0.45, "//"), (0.19, "post", 1.0, "")):
                means = [_float(by.get((cluster, a, session), {}).get("mean")) for a in ARMS]
                ses = [_float(by.get((cluster, a, session), {}).get("se")) for a in ARMS]
                ax.bar(x + offset, np.nan_to_num(means), 0.36, yerr=np.nan_to_num(ses), capsize=2,
                       color=[ARM_COLOURS[a] for a in ARMS], alpha=alpha, hatch=hatch, edgecolor="white",
                       linewidth=0.5, error_kw={"elinewidth": 0.8})
            ax.set_xticks(x, [ARM_LABELS[a] for a in ARMS], fontsize=8)
            ax.set_title(f"{cluster}. {_label(name)}", loc="left")
            ax.axhline(0, color="#444444", linewidth=0.6)
            ax.grid(axis="x", visible=False)
        axes[0].set_ylabel("Mean evoked-pain effect (± SE)")
        from matplotlib.patches import Patch

        fig.legend(handles=[Patch(facecolor="#888888", alpha=0.45, hatch="//", label="pretreatment"),
                            Patch(facecolor="#888888", label="posttreatment")],
                   loc="outside lower center", ncols=2, fontsize=8)
        return fig


def _float(value) -> float:
    return math.nan if value is None else float(value)


def fig_connectivity(maps: list[tuple[str, np.ndarray, np.ndarray]], grid):
    """Connectivity change, PRT minus control: per seed and comparison the t map's projection
    (largest |t| along the line of sight) in three views, voxels with corrected p < 0.05 outlined."""
    import matplotlib

    from prt.analysis.figures import STYLE, _empty, _new_figure

    with matplotlib.rc_context(STYLE):
        if not maps:
            return _empty(_new_figure(7.5, 2.5), "No connectivity maps in the imaging outputs.")
        aligned = [(label, _axis_aligned(t, grid), _axis_aligned(logp, grid)) for label, t, logp in maps]
        if any(a is None for _, a, _ in aligned):
            return _empty(_new_figure(7.5, 2.5), "Connectivity maps not drawn: an oblique grid.")
        top = max(float(np.max(np.abs(a[0]))) for _, a, _ in aligned) or 1.0
        fig = _new_figure(10, 0.6 + 2.6 * len(aligned))
        axes = fig.subplots(len(aligned), 3, squeeze=False)
        threshold = -math.log10(FIGURE_ALPHA)
        image = None
        for row, (label, (t, extents), (logp, _)) in zip(axes, aligned):
            inside = (t != 0).astype(float)
            for ax, view in zip(row, VIEWS):
                _frame_view(ax, extents, view, inside)
                projected = _project(t, view[0], "absmax")
                image = ax.imshow(np.ma.masked_equal(projected, 0).T, origin="lower", cmap="RdBu_r", vmin=-top,
                                  vmax=top, extent=[*extents[view[1]], *extents[view[2]]], interpolation="nearest")
                significant = _project((logp >= threshold).astype(float), view[0])
                if significant.any():
                    h, v = view[1], view[2]
                    xs = np.linspace(*extents[h], significant.shape[0] + 1)
                    ys = np.linspace(*extents[v], significant.shape[1] + 1)
                    centres_x = (xs[:-1] + xs[1:]) / 2
                    centres_y = (ys[:-1] + ys[1:]) / 2
                    ax.contour(centres_x, centres_y, significant.T, levels=[0.5], colors="black", linewidths=1.0)
            row[0].set_title(f"{label}\n{VIEWS[0][3]}", fontsize=9, loc="left")
        fig.colorbar(image, ax=axes, shrink=0.6, label="t (PRT minus control)")
        return fig


ALT_TEXT = {
    "fig_imaging_cluster_means": "Bar charts, one per localizer cluster, of the mean evoked-pain effect per arm "
                                 "before (hatched, light) and after treatment (solid), with standard-error bars.",
    "fig_imaging_clusters": "Glass-brain view: the localizer's clusters projected onto sagittal, coronal and axial "
                            "planes in MNI millimetres, each cluster coloured and numbered at its peak.",
    "fig_imaging_connectivity": "For each seed and comparison, projections of the connectivity-change t map "
                                "(PRT minus control) in three views, red for increases and blue for decreases, "
                                "voxels significant after correction outlined in black.",
}


def imaging_figures(outputs: ImagingOutputs) -> list:
    """The section's figures as :class:`~prt.analysis.sections.SectionFigure` (only those the
    outputs allow)."""
    from prt.analysis.sections import render_figure
    from prt.imaging.outputs import LOCALIZER_CLUSTERS

    figures = []
    roi = outputs.sections.get("roi_effects")
    if roi and roi.get("cluster_means"):
        figures.append(render_figure(fig_cluster_means(roi["cluster_means"]), "fig_imaging_cluster_means",
                                     "Treatment effects on the localizer's clusters: mean evoked-pain effect by arm "
                                     "before and after treatment (± 1 SE).", ALT_TEXT["fig_imaging_cluster_means"]))
    localizer = outputs.sections.get("localizer")
    if localizer is not None:
        folder = outputs.folders["localizer"]
        image = folder / f"{LOCALIZER_CLUSTERS}.nii.gz"
        if not image.is_file():
            raise InputError(f"imaging folder {folder}: no {image.name} (the localizer's cluster label image)")
        labels, grid = _volume(image, "cluster label image")
        t_map = folder / "localizer_t.nii.gz"
        background = _volume(t_map, "localizer t map")[0] if t_map.is_file() else None
        if background is not None and background.shape != labels.shape:
            raise InputError(f"imaging folder {folder}: {t_map.name} and {image.name} are on different grids")
        figures.append(render_figure(fig_clusters(labels, grid, localizer.get("clusters") or [], background),
                                     "fig_imaging_clusters",
                                     "The localizer's clusters (baseline pain-intensity effect, TFCE, family-wise "
                                     "corrected) in a glass-brain view: maximum-intensity projections in MNI "
                                     "millimetres; grey: the analysed voxels where the t map is at hand; dotted: a "
                                     "schematic brain outline.", ALT_TEXT["fig_imaging_clusters"], wide=True))
    connectivity = outputs.sections.get("connectivity")
    if connectivity is not None and connectivity.get("tests"):
        folder = outputs.folders["connectivity"]
        maps, grid = [], None
        for test in connectivity["tests"]:
            stem = f"seed-{test['seed']}_{test['comparison']}"
            paths = [folder / f"{stem}_t.nii.gz", folder / f"{stem}_logp_fwe_tfce.nii.gz"]
            for path in paths:
                if not path.is_file():
                    raise InputError(f"imaging folder {folder}: no {path.name} (the connectivity step writes a t and "
                                     "a -log10 p map per seed and comparison)")
            t, grid_t = _volume(paths[0], "connectivity t map")
            logp, grid_p = _volume(paths[1], "connectivity p map")
            if not grid_t.same_as(grid_p) or (grid is not None and not grid.same_as(grid_t)):
                raise InputError(f"imaging folder {folder}: {paths[1].name} is not on the grid of {paths[0].name}")
            grid = grid_t
            from prt.analysis.tables import comparison_label

            maps.append((f"seed {_label(test['seed'])}, {comparison_label(test['comparison'])}", t, logp))
        figures.append(render_figure(fig_connectivity(maps, grid), "fig_imaging_connectivity",
                                     "Seed connectivity change (post minus pre), PRT minus control: projections of "
                                     "the t map within the target mask; black outline: corrected p < 0.05 (TFCE).",
                                     ALT_TEXT["fig_imaging_connectivity"], wide=True))
    return figures


# ------------------------------------------------------------------------------------ section
def _num(value, digits: int = 2) -> str:
    from prt.analysis.tables import fmt_number

    return fmt_number(value, digits)


def _p(value) -> str:
    from prt.analysis.tables import fmt_p

    return fmt_p(value)


def _versus(comparison: str) -> str:
    from prt.analysis.tables import comparison_label

    return comparison_label(comparison).replace("PRT ", "", 1)


def _p_words(value) -> str:
    text = _p(value)
    return f"< {text[1:]}" if text.startswith("<") else f"= {text}"


def _label(name: str) -> str:
    return str(name).replace("_", " ")


def section_body(results: dict) -> str:
    """The section's HTML from its results (escaped throughout)."""
    from prt.analysis.sections import heading, paragraph, table
    from prt.analysis.tables import comparison_label

    dataset = results.get("dataset") or {}
    by_arm = dataset.get("by_arm") or {}
    sources = results.get("sources") or {}
    by_folder: dict[str, list[str]] = {}
    for step in STEPS:
        if step in sources:
            by_folder.setdefault(sources[step], []).append(step.replace("_", "-"))
    read = "; ".join(f"{' and '.join(steps)} from \u201c{folder}\u201d" for folder, steps in by_folder.items())
    parts = [paragraph(
        f"Results of prt imaging ({read}): {dataset.get('participants', '-')} participants scanned ("
        + ", ".join(f"{ARM_LABELS[a]} {by_arm.get(a, 0)}" for a in ARMS) + ").")]
    notes: list[str] = []
    behaviour = results.get("behaviour")
    if behaviour is not None:
        rows = [{"measure": {"evoked_pain": "Evoked pain (in-scanner ratings)",
                             "spontaneous_pain": "Spontaneous pain (rest ratings)"}.get(r["measure"], _label(r["measure"])),
                 "comparison": comparison_label(r["comparison"]), "estimate": _num(r["estimate"]), "se": _num(r["se"]),
                 "t": _num(r["t"]), "df": _num(r["df"], 1), "p": _p(r["p"]), "p1": _p(r["p_one_tailed"])}
                for r in behaviour.get("records") or []]
        parts.append(heading("In-scanner pain"))
        parts.append(table(pd.DataFrame(rows), {
            "measure": "Measure", "comparison": "Comparison", "estimate": "Estimate", "se": "SE", "t": "t",
            "df": "df", "p": "p (two-sided)", "p1": "p (one-tailed)"},
            "In-scanner pain by arm × time: mixed model interaction (positive: pain fell more with PRT)",
            group_by="measure", row_header="comparison"))
        excluded = behaviour.get("scans_excluded_by_rule") or {}
        if excluded:
            parts.append(paragraph("Evoked-pain scans excluded by the rating rules: " + ", ".join(
                f"{n} ({rule.replace('_', ' ')})" for rule, n in sorted(excluded.items())) + ".", css="note"))
        notes += behaviour.get("notes") or []
    localizer = results.get("localizer")
    if localizer is not None:
        rows = [{"cluster": str(r["cluster"]), "name": _label(r["name"]), "region": _label(r["region"]),
                 "voxels": str(r["voxels"]), "volume": _num(r["volume_mm3"], 0),
                 "peak": f"{_num(r['peak_x'], 0)}, {_num(r['peak_y'], 0)}, {_num(r['peak_z'], 0)}",
                 "t": _num(r["peak_t"]), "p": _p(r["min_p_fwe"])} for r in localizer.get("clusters") or []]
        parts.append(heading("Localizer: regions responding to evoked pain at baseline"))
        parts.append(table(pd.DataFrame(rows), {
            "cluster": "Cluster", "name": "Name", "region": "Region", "voxels": "Voxels", "volume": "Volume (mm³)",
            "peak": "Peak x, y, z (MNI mm)", "t": "Peak t", "p": "Smallest p (FWE)"},
            f"Localizer clusters: baseline pain-intensity effect, one-sample test with TFCE, family-wise corrected "
            f"p < {localizer.get('alpha', 0.05):g} ({localizer.get('n_participants', '-')} participants, "
            f"{localizer.get('n_permutations', '-')} permutations)", row_header="name", left=["region"]))
        notes += localizer.get("notes") or []
    roi = results.get("roi_effects")
    if roi is not None:
        rows = [{"name": f"{r['cluster']}. {_label(r['name'])}", "comparison": comparison_label(r["comparison"]),
                 "estimate": _num(r["estimate"], 3), "se": _num(r["se"], 3),
                 "t": f"t({_num(r['df'], 1)}) = {_num(r['t'])}", "p1": _p(r["p_one_tailed"]), "q": _p(r["q_fdr"])}
                for r in roi.get("records") or []]
        parts.append(heading("Treatment effects on the evoked-pain clusters"))
        parts.append(table(pd.DataFrame(rows), {
            "name": "Cluster", "comparison": "Comparison", "estimate": "Estimate", "se": "SE", "t": "t (df)",
            "p1": "p (one-tailed)", "q": "FDR q"},
            "Each cluster's mean evoked response, arm × time mixed model: estimate = the control's change minus "
            "PRT's (positive: the response fell more with PRT); one-tailed p for a larger fall with PRT and "
            "Benjamini-Hochberg FDR across clusters", group_by="name", row_header="comparison"))
        seeds = [_label(s["name"]) for s in roi.get("seeds") or []]
        parts.append(paragraph(
            f"Seeds for connectivity (one-tailed p < {roi.get('alpha', 0.05):g} in a comparison): "
            + (", ".join(seeds) if seeds else "none") + ".", css="note"))
        notes += roi.get("notes") or []
    connectivity = results.get("connectivity")
    if connectivity is not None:
        rows = [{"seed": _label(r["seed"]), "comparison": comparison_label(r["comparison"]),
                 "n": f"{r['n_prt']}, {r['n_control']}", "permutations": f"{int(r['n_permutations']):,}",
                 "t": f"{_num(r['min_t'])} to {_num(r['max_t'])}", "p": _p(r["min_p_fwe"]),
                 "clusters": str(r["clusters"])} for r in connectivity.get("tests") or []]
        parts.append(heading("Seed connectivity"))
        parts.append(table(pd.DataFrame(rows), {
            "seed": "Seed", "comparison": "Comparison", "n": "n (PRT, control)", "permutations": "Permutations",
            "t": "t range", "p": "Smallest p (FWE, TFCE)", "clusters": "Clusters"},
            "Connectivity change (post minus pre) of each seed with the target mask, PRT vs each control: "
            "Freedman-Lane permutation test with TFCE, age and sex as covariates", group_by="seed",
            row_header="comparison"))
        rows = [{"seed": _label(r["seed"]), "comparison": comparison_label(r["comparison"]),
                 "direction": r["direction"], "name": _label(r["name"]), "voxels": str(r["voxels"]),
                 "peak": f"{_num(r['peak_x'], 0)}, {_num(r['peak_y'], 0)}, {_num(r['peak_z'], 0)}",
                 "t": _num(r["peak_t"]), "p": _p(r["min_p_fwe"])} for r in connectivity.get("clusters") or []]
        if rows:
            parts.append(table(pd.DataFrame(rows), {
                "seed": "Seed", "comparison": "Comparison", "direction": "Direction", "name": "Target region",
                "voxels": "Voxels", "peak": "Peak x, y, z (MNI mm)", "t": "Peak t", "p": "Smallest p (FWE)"},
                "Clusters of connectivity change (PRT minus control; increase: coupling rose more with PRT)",
                row_header="comparison", left=["seed", "direction", "name"]))
        else:
            parts.append(paragraph("No cluster of connectivity change reached corrected significance.", css="empty"))
        notes += connectivity.get("notes") or []
    notes = list(dict.fromkeys(notes))
    if notes:
        parts.append(paragraph("Notes from the imaging steps: " + "; ".join(notes) + ".", css="note"))
    return "\n".join(parts)


#: How the section's numbers were made (listed after its figures).
METHODS = (
    "In-scanner pain and each cluster's mean response: the analysis engine's mixed model y ~ 1 + age + sex + "
    "time × arm + (1 | participant), REML, Satterthwaite df. Signs follow the engine (PRT the reference "
    "arm): positive means the measure fell more with PRT; the paper reports PRT minus control (e.g. "
    "t133.48 = -1.73 for the aMCC).",
    "Localizer and connectivity: prt's permutation engine (the statistics of nilearn's permuted_ols with "
    "TFCE), family-wise error by the maximum statistic; connectivity maps are Fisher-z seed correlations "
    "after regressing out the rating task.",
    "Methods, inputs and outputs: docs/imaging.md (Ashar et al., JAMA Psychiatry 2022).",
)


def summary_sentence(results: dict) -> str | None:
    """The clusters whose response fell more with PRT and the connectivity that rose, in one sentence."""
    parts = []
    roi = results.get("roi_effects")
    if roi is not None:
        by_cluster: dict[str, list[str]] = {}
        for r in roi.get("records") or []:
            if r["p_one_tailed"] is not None and r["p_one_tailed"] < (roi.get("alpha") or 0.05):
                by_cluster.setdefault(_label(r["name"]), []).append(
                    f"{_versus(r['comparison'])} p {_p_words(r['p_one_tailed'])}, q {_p_words(r['q_fdr'])}")
        found = [f"{name} ({'; '.join(tests)})" for name, tests in by_cluster.items()]
        parts.append("the evoked-pain response fell more with PRT (one-tailed p, FDR q) in " + ", ".join(found)
                     if found else "no localizer cluster's evoked-pain response fell more with PRT")
    connectivity = results.get("connectivity")
    if connectivity is not None:
        rises: dict[str, list[str]] = {}
        for r in connectivity.get("clusters") or []:
            if r["direction"] == "increase":
                rises.setdefault(f"{_label(r['seed'])} to {_label(r['name'])}", []).append(_versus(r["comparison"]))
        parts.append("connectivity rose more with PRT from " + ", ".join(
            f"{k} ({' and '.join(dict.fromkeys(v))})" for k, v in rises.items()) if rises else
            "no connectivity change reached corrected significance")
    if not parts:
        return None
    return "Imaging: " + "; ".join(parts) + "."


def imaging_section(trial, outputs):
    """The report's imaging section. ``outputs``: an :class:`ImagingOutputs` or the folder(s)
    :func:`read_imaging_outputs` reads."""
    from prt.analysis.sections import ReportSection

    if not isinstance(outputs, ImagingOutputs):
        outputs = read_imaging_outputs(outputs)
    results = imaging_results(trial, outputs)
    figures = imaging_figures(outputs)
    sentence = summary_sentence(results)
    notes = []
    for step in STEPS:
        notes += (results.get(step) or {}).get("notes") or []
    return ReportSection(key="imaging", title="Brain imaging", body=section_body(results), results=results,
                         figures=tuple(figures), summary=(sentence,) if sentence else (),
                         notes=tuple(dict.fromkeys(notes)), methods=METHODS)


__all__ = ["ImagingOutputs", "STEPS", "check_participants", "fig_cluster_means", "fig_clusters", "fig_connectivity",
           "imaging_figures", "imaging_results", "imaging_section", "read_imaging_outputs"]
