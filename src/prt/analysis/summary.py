"""``AnalysisResults.summary()``: the analysis as plain text for a terminal or a notebook.

Fixed-width tables in the spirit of statsmodels' ``summary()``: the primary model, pain by arm
over time, Hedges g of the change in pain, responders and any warnings. Numbers use the report's
formats (:mod:`prt.analysis.tables`), so the terminal, the CSVs and report.html agree.
"""

from __future__ import annotations

from typing import Sequence

from prt.analysis.tables import fmt_ci, fmt_count, fmt_mean_sd, fmt_number, fmt_p
from prt.vocabulary import (
    ARM_LABELS,
    ARMS,
    COMPARISON_LABELS,
    PRIMARY_OUTCOME,
    TIMEPOINT_LABELS,
    TIMEPOINT_ORDER,
    outcome_label,
)

WIDTH = 78


def _grid(header: Sequence[str], rows: Sequence[Sequence[str]], first_left: bool = True) -> list[str]:
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows)]
    lines = []
    for row in (header, *rows):
        cells = [str(c).ljust(w) if (i == 0 and first_left) else str(c).rjust(w)
                 for i, (c, w) in enumerate(zip(row, widths))]
        lines.append("  ".join(cells).rstrip())
    lines.insert(1, "-" * len(lines[0]))
    return lines


def _title(text: str) -> list[str]:
    return ["", text, "=" * min(WIDTH, max(len(text), 20))]


def summary_text(results) -> str:
    meta = results.meta
    dataset = meta.get("dataset", "custom")
    lines = [
        "PRT trial analysis (Ashar et al., JAMA Psychiatry 2022 methods)".center(WIDTH).rstrip(),
        "=" * WIDTH,
        f"dataset: {dataset}    participants randomized: {meta.get('n_randomized', '-')}    "
        f"input layout: {meta.get('layout', '-')}",
        f"bootstrap resamples: {meta.get('bootstrap', '-')} per effect, {meta.get('mediation_bootstrap', '-')} "
        f"per mediation model    seed: {meta.get('seed', '-')}    prt {meta.get('version', '')}".rstrip(),
    ]
    lines += _title("Primary: pain intensity pre -> post, REML random intercept, Satterthwaite df")
    primary = results.primary
    if primary.empty:
        lines.append("not fitted (see warnings)")
    else:
        rows = [[COMPARISON_LABELS.get(r.comparison, r.comparison), fmt_number(r.estimate), fmt_number(r.se),
                 fmt_number(r.t), fmt_number(r.df), fmt_p(r.p), "yes" if r.converged else "NO"]
                for r in primary.itertuples()]
        lines += _grid(["comparison", "estimate", "SE", "t", "df", "p", "converged"], rows)
        first = primary.iloc[0]
        lines.append(f"n = {int(first['n_obs'])} observations of {int(first['n_participants'])} participants; "
                     "estimate > 0: the control arm's pain fell less than PRT's")
    lines += _outcome_block(results)
    lines += _effect_block(results)
    lines += _responder_block(results)
    if results.warnings:
        lines += _title(f"Warnings ({len(results.warnings)})")
        lines += [f"- {w}" for w in results.warnings]
    return "\n".join(lines) + "\n"


def _outcome_block(results) -> list[str]:
    outcomes = results.outcomes
    pain = outcomes[outcomes["outcome"] == PRIMARY_OUTCOME]
    if pain.empty:
        return []
    lines = _title(f"{outcome_label(PRIMARY_OUTCOME)}: mean (SD), n by arm")
    rows = []
    for timepoint in [t for t in TIMEPOINT_ORDER if t in set(pain["timepoint"])]:
        row = [TIMEPOINT_LABELS.get(timepoint, timepoint)]
        for arm in ARMS:
            cell = pain[(pain["timepoint"] == timepoint) & (pain["group"] == arm)]
            row.append("-" if cell.empty else f"{fmt_mean_sd(cell['mean'].iloc[0], cell['sd'].iloc[0])}, "
                       f"{int(cell['n'].iloc[0])}")
        rows.append(row)
    return lines + _grid(["timepoint", *(ARM_LABELS[a] for a in ARMS)], rows)


def _effect_block(results) -> list[str]:
    effects = results.effects
    pain = effects[effects["outcome"] == PRIMARY_OUTCOME]
    if pain.empty:
        return []
    lines = _title("Hedges g of the change in pain from baseline [95% bootstrap CI] (g < 0: first arm fell more)")
    rows = [[TIMEPOINT_LABELS.get(r.timepoint, r.timepoint), COMPARISON_LABELS.get(r.comparison, r.comparison),
             fmt_ci(r.g, r.ci_low, r.ci_high), fmt_p(r.p), f"{int(r.n1)} / {int(r.n2)}"]
            for r in pain.itertuples()]
    return lines + _grid(["timepoint", "comparison", "g [95% CI]", "p", "n1 / n2"], rows)


def _responder_block(results) -> list[str]:
    responders = results.responders
    if responders.empty:
        return []
    lines = _title("Responders (all randomized in the denominator; missing = not responding)")
    rows = []
    for (timepoint, criterion), group in responders.groupby(["timepoint", "criterion"], sort=False):
        row = [f"{TIMEPOINT_LABELS.get(timepoint, timepoint)}: {criterion.replace('_', ' ')}"]
        for arm in ARMS:
            cell = group[group["group"] == arm]
            row.append("-" if cell.empty else fmt_count(int(cell["responders"].iloc[0]),
                                                        int(cell["randomized"].iloc[0])))
        rows.append(row)
    return lines + _grid(["criterion", *(ARM_LABELS[a] for a in ARMS)], rows)
