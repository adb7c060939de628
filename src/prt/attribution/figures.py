"""The attribution figures, drawn as the analysis report's are (matplotlib object API, shared style).

- :func:`fig_categories`: stacked bars of the 12 analysis categories by arm and time (the study's
  stacked bar figure; Ashar et al., JAMA Network Open 2023), mind-brain categories first;
- :func:`fig_scores`: each participant's mind-brain score pre -> post, one panel per arm; lines
  are as thick as the number of participants who moved that way, the arm mean in bold.

Each function is pure: trial and codes in, :class:`matplotlib.figure.Figure` out; write them with
:func:`prt.analysis.figures.save_figure`.
"""

from __future__ import annotations

import matplotlib
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from prt.analysis.figures import ARM_COLOURS, ARM_MARKERS, STYLE, _empty, _new_figure
from prt.attribution.analysis import TIMEPOINTS, category_shares, score_table
from prt.attribution.scheme import SCHEME, Scheme
from prt.vocabulary import ARM_LABELS, ARMS, TIMEPOINT_SHORT_LABELS

#: Colours of the 12 analysis categories: the three mind-brain ones dark and saturated (blue,
#: purple, reddish purple), the others in lighter tones (Paul Tol's "muted" and "light" schemes);
#: mind-brain bars are also hatched so they read without colour.
CATEGORY_COLOURS = {
    "psychological": "#332288", "stress": "#AA4499", "brain": "#0072B2",
    "activity": "#DDCC77", "age": "#BBCC33", "hereditary": "#EEDD88", "injury": "#EE8866",
    "negligence": "#FFAABB", "other": "#DDDDDD", "physiology": "#99DDFF", "sedentary": "#AAAA00",
    "spinal_condition": "#44BB99",
}
ALT_TEXT = {
    "fig_attribution_categories": "Stacked horizontal bars, one per arm and time (pre, post), of the share "
    "of each of 12 attribution categories; the three mind-brain categories come first and are hatched.",
    "fig_attribution_scores": "One panel per arm: each participant's mind-brain attribution score (0-3) "
    "before and after treatment as a line (thicker where more participants moved alike) and the arm mean.",
}


def _category_order(scheme: Scheme) -> list[str]:
    mind = [c for c in ("psychological", "stress", "brain") if c in scheme.categories_12]
    return mind + [c for c in scheme.categories_12 if c not in mind]


def fig_categories(trial, codes, scheme: Scheme = SCHEME, title: str | None = None) -> Figure:
    """Share of the 12 categories among each arm's answers, pre and post (stacked bars, %)."""
    with matplotlib.rc_context(STYLE):
        table = category_shares(trial, codes, merged=True, scheme=scheme)
        table = table[table["share"].notna()]
        if table.empty:
            return _empty(_new_figure(7.5, 2.5), "No coded attributions to show.")
        bars = [(arm, t) for arm in ARMS for t in TIMEPOINTS if ((table["arm"] == arm) & (table["timepoint"] == t)).any()]
        fig = _new_figure(8.5, 1.4 + 0.42 * len(bars))
        ax = fig.add_subplot()
        y = np.arange(len(bars), dtype=float)[::-1]
        left = np.zeros(len(bars))
        share = {(r["arm"], r["timepoint"], r["category"]): r["share"] for r in table.to_dict("records")}
        answers = table.groupby(["arm", "timepoint"])["answers"].sum().to_dict()
        order = _category_order(scheme)
        for category in order:
            widths = np.array([100 * share.get((a, t, category), 0.0) for a, t in bars])
            mind = scheme.is_mind_brain(category)
            ax.barh(y, widths, left=left, height=0.72, color=CATEGORY_COLOURS.get(category, "#BBBBBB"),
                    edgecolor="white", linewidth=0.6, hatch="///" if mind else None,
                    label=scheme.label(category))
            left += widths
        mb = np.array([sum(100 * share.get((a, t, c), 0.0) for c in order if scheme.is_mind_brain(c)) for a, t in bars])
        for yi, value in zip(y, mb):
            ax.text(101, yi, f"{value:.0f}% mind-brain", va="center", fontsize=8, color="#222222")
        labels = [f"{ARM_LABELS[a]}, {TIMEPOINT_SHORT_LABELS[t].lower()} (n = {answers.get((a, t), 0) // scheme.answers_per_participant})"
                  for a, t in bars]
        ax.set_yticks(y, labels)
        ax.set_xlim(0, 100)
        ax.set_xticks(np.arange(0, 101, 20))
        ax.set_xlabel("% of attributions (three per participant)")
        ax.grid(axis="y", visible=False)
        handles = [Patch(facecolor=CATEGORY_COLOURS.get(c, "#BBBBBB"), hatch="///" if scheme.is_mind_brain(c) else None,
                         edgecolor="white", label=scheme.label(c)) for c in order]
        fig.legend(handles=handles, loc="outside lower center", ncols=4, fontsize=8)
        if title:
            ax.set_title(title, loc="left")
        return fig


def fig_scores(trial, codes, scheme: Scheme = SCHEME) -> Figure:
    """Each participant's mind-brain score pre -> post, one panel per arm (participants with both)."""
    with matplotlib.rc_context(STYLE):
        table = score_table(trial, codes, scheme).dropna(subset=["pre", "post"])
        if table.empty:
            return _empty(_new_figure(7.5, 2.5), "No participant has a score both before and after treatment.")
        fig = _new_figure(9, 3.6)
        axes = fig.subplots(1, len(ARMS), sharey=True, squeeze=False)[0]
        top = scheme.answers_per_participant
        for ax, arm in zip(axes, ARMS):
            rows = table[table["arm"] == arm]
            pairs = rows.groupby(["pre", "post"]).size()
            biggest = max(int(pairs.max()) if len(pairs) else 1, 1)
            for (pre, post), count in pairs.items():
                ax.plot([0, 1], [pre, post], color=ARM_COLOURS[arm], alpha=0.3,
                        linewidth=0.8 + 7.0 * count / biggest, solid_capstyle="round")
            if len(rows):
                means = rows[["pre", "post"]].mean().to_numpy(float)
                ax.plot([0, 1], means, color="black", linewidth=3.4)
                ax.plot([0, 1], means, color=ARM_COLOURS[arm], linewidth=2.2, marker=ARM_MARKERS[arm], markersize=6)
            ax.set_title(f"{ARM_LABELS[arm]} (n = {len(rows)})", loc="left")
            ax.set_xticks([0, 1], [TIMEPOINT_SHORT_LABELS["pre"], TIMEPOINT_SHORT_LABELS["post"]])
            ax.set_xlim(-0.25, 1.25)
            ax.set_ylim(-0.25, top + 0.25)
            ax.set_yticks(range(top + 1))
            ax.grid(axis="x", visible=False)
        axes[0].set_ylabel(f"Mind-brain attributions (0-{top})")
        fig.supxlabel("Line width: number of participants; bold line: arm mean", fontsize=8)
        return fig


def attribution_figures(trial, codes, scheme: Scheme = SCHEME) -> dict[str, Figure]:
    """Both figures by file name."""
    return {"fig_attribution_categories": fig_categories(trial, codes, scheme),
            "fig_attribution_scores": fig_scores(trial, codes, scheme)}
