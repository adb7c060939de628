"""The report's figures, drawn with matplotlib's object API (no pyplot state, Agg/SVG renderers).

Each ``fig_*`` function is pure: it takes the results dict (or the trial) and returns a
:class:`matplotlib.figure.Figure`; :func:`save_figure` writes it as PNG and SVG. Colours are the
Okabe-Ito colour-blind-safe palette (Okabe & Ito 2008), and arms also differ by marker and line
style so the figures read in greyscale print. Fonts are matplotlib's bundled DejaVu Sans, and SVG
text is drawn as paths, so nothing is fetched from the network.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure

from prt.analysis.baseline import with_baseline
from prt.vocabulary import ARMS, BASELINE, EFFECT_TIMEPOINTS, OUTCOMES, TIMEPOINT_SHORT_LABELS
from prt.analysis.tables import (
    COMPARISONS,
    CRITERION_LABELS,
    TIMEPOINT_ORDER,
    arm_label,
    comparison_label,
    is_missing,
    order_key,
    outcome_label,
)

#: Okabe-Ito colours per arm; markers and line styles keep arms apart without colour.
ARM_COLOURS = {"prt": "#0072B2", "placebo": "#E69F00", "usual_care": "#009E73"}
ARM_MARKERS = {"prt": "o", "placebo": "s", "usual_care": "^"}
ARM_LINESTYLES = {"prt": "-", "placebo": "--", "usual_care": ":"}
COMPARISON_COLOURS = {"prt_vs_placebo": "#D55E00", "prt_vs_usual_care": "#0072B2", "placebo_vs_usual_care": "#555555"}
#: Timepoints of the paper's Figure 2 (baseline, posttreatment, follow-ups).
PAIN_TIMEPOINTS = (BASELINE, *EFFECT_TIMEPOINTS)
_SHORT_TIMEPOINTS = TIMEPOINT_SHORT_LABELS

#: Style shared by every figure (applied per figure with rc_context; global rcParams untouched).
STYLE = {
    "font.family": "DejaVu Sans",
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.axisbelow": True,
    "grid.color": "#dddddd",
    "grid.linewidth": 0.6,
    "legend.frameon": False,
    "svg.fonttype": "path",
    "svg.hashsalt": "prt-report",
    "savefig.bbox": "tight",
}

#: One-sentence descriptions of each figure (alt text in the report).
ALT_TEXT = {
    "fig_pain_over_time": "Line chart of mean pain intensity (0-10) with standard-error bars for PRT, "
    "placebo and usual care at baseline, posttreatment and 1, 2, 3, 6 and 12 months.",
    "fig_responders": "Bar charts of the percentage of all randomized participants who responded, "
    "per arm, for each responder criterion and timepoint.",
    "fig_trajectories": "One panel per arm with each participant's pain intensity over time as a thin "
    "line and the arm's mean as a bold line.",
    "fig_forest": "Forest plot of Hedges g with 95% confidence intervals for each outcome and "
    "timepoint, one panel per comparison; negative values favour the first arm.",
}


def _timepoint_tick(timepoint: str) -> str:
    return _SHORT_TIMEPOINTS.get(timepoint, str(timepoint))


def _new_figure(width: float, height: float) -> Figure:
    return Figure(figsize=(width, height), layout="constrained")


def _empty(fig: Figure, message: str) -> Figure:
    ax = fig.add_subplot()
    ax.set_axis_off()
    ax.text(0.5, 0.5, message, ha="center", va="center", fontsize=11, color="#444444", wrap=True)
    return fig


def _float(value: Any) -> float:
    return np.nan if is_missing(value) else float(value)


# ------------------------------------------------------------------------------------ figures
def fig_pain_over_time(results: dict, outcome: str = "pain_intensity") -> Figure:
    """Mean pain ± SE by arm over baseline, posttreatment and follow-ups (the paper's Figure 2).

    SE = SD / sqrt(n) from ``results["outcomes"]``; when the results carry no ``baseline``
    summary the pretreatment one stands in.
    """
    with matplotlib.rc_context(STYLE):
        fig = _new_figure(7.5, 4.2)
        records = [r for r in results.get("outcomes") or [] if r.get("outcome") == outcome]
        present = {r.get("timepoint") for r in records}
        wanted = list(PAIN_TIMEPOINTS)
        if "baseline" not in present and "pre" in present:
            wanted[0] = "pre"
        timepoints = [t for t in wanted if t in present]
        if not timepoints:
            return _empty(fig, f"No summaries of {outcome_label(outcome)} in the results.")
        ax = fig.add_subplot()
        x = np.arange(len(timepoints), dtype=float)
        offsets = dict(zip(ARMS, (-0.08, 0.0, 0.08)))
        by_key = {(r.get("timepoint"), r.get("group")): r for r in records}
        for arm in ARMS:
            rows = [by_key.get((t, arm), {}) for t in timepoints]
            mean = np.array([_float(r.get("mean")) for r in rows])
            sd = np.array([_float(r.get("sd")) for r in rows])
            n = np.array([_float(r.get("n")) for r in rows])
            with np.errstate(invalid="ignore", divide="ignore"):
                se = np.where(n > 0, sd / np.sqrt(n), np.nan)
            if np.all(np.isnan(mean)):
                continue
            ax.errorbar(
                x + offsets[arm], mean, yerr=se, label=arm_label(arm), color=ARM_COLOURS[arm],
                marker=ARM_MARKERS[arm], linestyle=ARM_LINESTYLES[arm], linewidth=2, markersize=6,
                capsize=3, elinewidth=1.2,
            )
        ax.set_xticks(x, [_timepoint_tick(t) for t in timepoints])
        ax.set_xlim(x[0] - 0.4, x[-1] + 0.4)
        short = "Pain intensity (0-10)" if outcome == "pain_intensity" else outcome_label(outcome).split(" (")[0]
        ax.set_ylabel(f"{short}, mean ± SE")
        ax.set_title(f"{outcome_label(outcome).split(' (')[0]} by arm over time", loc="left")
        if outcome == "pain_intensity":
            low, high = ax.get_ylim()
            ax.set_ylim(0, max(high, 1.0))
        ax.grid(axis="x", visible=False)
        ax.legend(loc="upper right", ncols=3)
        return fig


def fig_responders(results: dict) -> Figure:
    """Share of all randomized participants who responded, per arm, criterion and timepoint.

    Missing = non-responder and denominators are all randomized (Ashar et al. 2022).
    """
    with matplotlib.rc_context(STYLE):
        records = results.get("responders") or []
        criteria = sorted({r.get("criterion") for r in records}, key=lambda c: order_key(c, tuple(CRITERION_LABELS)))
        timepoints = sorted({r.get("timepoint") for r in records}, key=lambda t: order_key(t, TIMEPOINT_ORDER))
        if not criteria:
            return _empty(_new_figure(7.5, 2.5), "No responder counts in the results.")
        fig = _new_figure(max(7.5, 3.0 * len(criteria)), 3.8)
        axes = fig.subplots(1, len(criteria), sharey=True, squeeze=False)[0]
        by_key = {(r.get("criterion"), r.get("timepoint"), r.get("group")): r for r in records}
        width = 0.8 / len(ARMS)
        x = np.arange(len(timepoints), dtype=float)
        hatches = {"prt": "", "placebo": "//", "usual_care": ".."}
        for ax, criterion in zip(axes, criteria):
            for i, arm in enumerate(ARMS):
                share = []
                for t in timepoints:
                    r = by_key.get((criterion, t, arm))
                    k = _float(r.get("responders")) if r else np.nan
                    n = _float(r.get("randomized")) if r else np.nan
                    share.append(100.0 * k / n if n and n > 0 else np.nan)
                share = np.array(share)
                pos = x + (i - (len(ARMS) - 1) / 2) * width
                bars = ax.bar(pos, np.nan_to_num(share), width, color=ARM_COLOURS[arm], hatch=hatches[arm],
                              edgecolor="white", linewidth=0.5, label=arm_label(arm))
                for bar, value in zip(bars, share):
                    if not np.isnan(value):
                        ax.annotate(f"{value:.0f}%", (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                                    xytext=(0, 2), textcoords="offset points", ha="center", fontsize=8)
            ax.set_xticks(x, [_timepoint_tick(t) for t in timepoints])
            ax.set_title(_CRITERION_SHORT.get(criterion, str(criterion)), loc="left")
            ax.set_ylim(0, 105)
            ax.grid(axis="x", visible=False)
        axes[0].set_ylabel("Responders, % of randomized")
        handles, labels = axes[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside lower center", ncols=len(ARMS))
        return fig


_CRITERION_SHORT = {
    "reduction_30": "Pain reduced ≥30%",
    "reduction_50": "Pain reduced ≥50%",
    "pain_free": "Pain-free (0 or 1 of 10)",
}


def trajectory_values(trial, outcome: str = "pain_intensity") -> tuple[list[str], Any]:
    """Per-participant values at baseline, posttreatment and follow-ups, and their timepoints."""
    values = with_baseline(trial, outcome)
    timepoints = [t for t in PAIN_TIMEPOINTS if t in values.columns and values[t].notna().any()]
    return timepoints, values.reindex(trial.participants.index)[timepoints]


def fig_trajectories(trial, outcome: str = "pain_intensity") -> Figure:
    """Each participant's pain over time (thin lines), the arm's mean in bold; one panel per arm.

    A participant's line joins the timepoints they attended (missed visits are skipped, not zero).
    """
    with matplotlib.rc_context(STYLE):
        if outcome not in set(trial.measures["outcome"].unique()):
            return _empty(_new_figure(7.5, 2.5), f"No {outcome_label(outcome)} values in the data.")
        timepoints, values = trajectory_values(trial, outcome)
        if not timepoints:
            return _empty(_new_figure(7.5, 2.5), f"No {outcome_label(outcome)} values in the data.")
        arms = trial.participants["arm"].reindex(values.index)
        fig = _new_figure(10, 3.8)
        axes = fig.subplots(1, len(ARMS), sharey=True, squeeze=False)[0]
        x = np.arange(len(timepoints), dtype=float)
        matrix = values.to_numpy(dtype=float)
        top = np.nanmax(matrix) if np.isfinite(matrix).any() else 1.0
        for ax, arm in zip(axes, ARMS):
            rows = matrix[(arms == arm).to_numpy()]
            segments = [np.column_stack([x[~np.isnan(r)], r[~np.isnan(r)]]) for r in rows]
            segments = [s for s in segments if len(s)]
            ax.add_collection(LineCollection(segments, colors=ARM_COLOURS[arm], linewidths=0.6, alpha=0.35))
            for s in segments:
                if len(s) == 1:
                    ax.plot(s[:, 0], s[:, 1], ".", color=ARM_COLOURS[arm], alpha=0.35, markersize=3)
            if len(rows):
                with np.errstate(invalid="ignore"):
                    counts = np.sum(~np.isnan(rows), axis=0)
                    mean = np.where(counts > 0, np.nansum(rows, axis=0) / np.maximum(counts, 1), np.nan)
                ax.plot(x, mean, color="black", linewidth=3.2, solid_capstyle="round")
                ax.plot(x, mean, color=ARM_COLOURS[arm], linewidth=2.2, marker=ARM_MARKERS[arm],
                        markersize=5, label="arm mean")
            ax.set_title(f"{arm_label(arm)} (n = {len(rows)})", loc="left")
            ax.set_xticks(x, [_timepoint_tick(t) for t in timepoints], rotation=0, fontsize=8)
            ax.set_xlim(x[0] - 0.3, x[-1] + 0.3)
            ax.set_ylim(0 if outcome == "pain_intensity" else None, max(top, 1.0) * 1.05)
            ax.grid(axis="x", visible=False)
        axes[0].set_ylabel(outcome_label(outcome))
        return fig


def fig_forest(results: dict) -> Figure:
    """Hedges g with 95% CI for each outcome and timepoint, one panel per comparison.

    g < 0 means the first arm's score fell more than the second's (engine convention).
    """
    with matplotlib.rc_context(STYLE):
        records = [r for r in results.get("effects") or [] if not is_missing(r.get("g"))]
        if not records:
            return _empty(_new_figure(7.5, 2.5), "No effect sizes in the results.")
        comparisons = sorted({r.get("comparison") for r in records}, key=lambda c: order_key(c, COMPARISONS))
        cells = sorted({(r.get("outcome"), r.get("timepoint")) for r in records},
                       key=lambda ot: (order_key(ot[0], OUTCOMES), order_key(ot[1], TIMEPOINT_ORDER)))
        by_key = {(r.get("outcome"), r.get("timepoint"), r.get("comparison")): r for r in records}
        # one y slot per cell, plus a gap between outcomes
        y_positions, y = [], 0.0
        previous = None
        for outcome, _ in cells:
            if previous is not None and outcome != previous:
                y += 0.6
            y_positions.append(y)
            y += 1.0
            previous = outcome
        y_positions = np.array(y_positions)
        height = 1.2 + 0.19 * y
        fig = _new_figure(3.0 + 2.6 * len(comparisons), height)
        axes = fig.subplots(1, len(comparisons), sharey=True, sharex=True, squeeze=False)[0]
        for ax, comparison in zip(axes, comparisons):
            g = np.array([_float(by_key.get((o, t, comparison), {}).get("g")) for o, t in cells])
            low = np.array([_float(by_key.get((o, t, comparison), {}).get("ci_low")) for o, t in cells])
            high = np.array([_float(by_key.get((o, t, comparison), {}).get("ci_high")) for o, t in cells])
            has_ci = ~np.isnan(low) & ~np.isnan(high)
            colour = COMPARISON_COLOURS.get(comparison, "#333333")
            ax.hlines(y_positions[has_ci], low[has_ci], high[has_ci], color=colour, linewidth=1.3)
            ax.plot(g, y_positions, "D", color=colour, markersize=4)
            ax.axvline(0, color="#444444", linewidth=0.8)
            ax.set_title(comparison_label(comparison), loc="left")
            ax.grid(axis="y", visible=False)
            if len(cells) > 20:  # a tall plot: repeat the scale on top
                ax.tick_params(axis="x", labeltop=True)
        labels = []
        previous = None
        for outcome, timepoint in cells:
            name = outcome_label(outcome).split(" (")[0]
            labels.append(f"{name}, {_timepoint_tick(timepoint)}" if outcome != previous else _timepoint_tick(timepoint))
            previous = outcome
        axes[0].set_yticks(y_positions, labels, fontsize=8)
        axes[0].set_ylim(y_positions[-1] + 0.8, -0.8)
        for ax in axes[1:]:
            ax.tick_params(axis="y", left=False)
        fig.supxlabel("Hedges g with 95% CI (g < 0: the first arm's score fell more)", fontsize=9)
        return fig


# ------------------------------------------------------------------------------------ output
def figure_bytes(fig: Figure, fmt: str, dpi: int = 150) -> bytes:
    """The figure rendered as ``png`` or ``svg`` bytes (no dates or tool stamps, for reproducibility)."""
    buffer = io.BytesIO()
    metadata = {"Date": None} if fmt == "svg" else {"Software": None}
    with matplotlib.rc_context(STYLE):
        fig.savefig(buffer, format=fmt, dpi=dpi, metadata=metadata, facecolor="white")
    return buffer.getvalue()


def save_figure(fig: Figure, out_dir: Path, name: str) -> tuple[Path, Path, bytes]:
    """Write ``name.png`` and ``name.svg`` into ``out_dir``; returns both paths and the SVG bytes."""
    out_dir = Path(out_dir)
    png, svg = out_dir / f"{name}.png", out_dir / f"{name}.svg"
    png.write_bytes(figure_bytes(fig, "png"))
    svg_bytes = figure_bytes(fig, "svg")
    svg.write_bytes(svg_bytes)
    return png, svg, svg_bytes


def all_figures(results: dict, trial) -> dict[str, Figure]:
    """The report's four figures by file name."""
    return {
        "fig_pain_over_time": fig_pain_over_time(results),
        "fig_responders": fig_responders(results),
        "fig_trajectories": fig_trajectories(trial),
        "fig_forest": fig_forest(results),
    }
