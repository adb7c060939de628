"""The analysis's outputs for people: Table 1 and 2 as CSV, four figures, and one ``report.html``.

``write_outputs`` is what ``prt analyze`` calls after the engine ran. The HTML report is a single
self-contained file (CSS inline, figures as base64 SVG data URIs, no scripts, fonts or external
links) that a clinician can open offline or print. Every string that reaches the page goes
through :func:`html.escape`; participant ids never appear. When the data are the Boulder Back
Pain Study, the published figures (Ashar et al., JAMA Psychiatry 2022) are shown beside ours.
Extra sections (program adherence and fidelity, pain attributions, imaging) come in as
:class:`prt.analysis.sections.ReportSection` objects that the domain packages build.
"""

from __future__ import annotations

import base64
import html
import json
from importlib import resources
from pathlib import Path
from string import Template
from typing import Any, Callable, Iterable, Sequence

import pandas as pd

from prt.vocabulary import ARMS
from prt.analysis.tables import (
    COMPARISONS,
    MISSING,
    OUTCOME_LABELS,
    arm_label,
    comparison_label,
    fmt_ci,
    fmt_number,
    fmt_p,
    generic_table,
    is_missing,
    label_value,
    outcome_label,
    primary_table,
    responders_table,
    table1,
    table2,
    timepoint_label,
)

BOULDER = "boulder-back-pain-study"

FIGURE_CAPTIONS = {
    "fig_pain_over_time": "Pain intensity by arm over time (mean ± standard error; cf. the paper's Figure 2).",
    "fig_responders": "Responders by arm: share of all randomized participants meeting each criterion "
    "(missing counts as not responding).",
    "fig_trajectories": "Individual pain trajectories (thin lines) and each arm's mean (bold line).",
    "fig_forest": "Effect sizes (Hedges g with 95% bootstrap CI) of the change from baseline, per outcome, "
    "timepoint and comparison.",
}


def _e(value: Any) -> str:
    """Escape any value for HTML text or attributes."""
    return html.escape(str(value), quote=True)


# ------------------------------------------------------------------------------------ writing
def as_records(results) -> dict:
    """The results as the ``results.json`` dict (an :class:`AnalysisResults` or that dict already)."""
    from prt.analysis.results import AnalysisResults

    return results.to_dict() if isinstance(results, AnalysisResults) else results


def results_with_sections(results, sections: Sequence = ()) -> dict:
    """The ``results.json`` dict with each extra section's entry under its key (program,
    attributions, imaging); a key the results already hold is an error, never overwritten."""
    from prt.analysis.sections import check_sections
    from prt.analysis.results import jsonable
    from prt.errors import InputError

    out = dict(as_records(results))
    for section in check_sections(sections):
        if section.key in out:
            raise InputError(f"results already hold {section.key!r}; a report section cannot replace it")
        out[section.key] = jsonable(dict(section.results))
    return out


def write_analysis(results, trial, out: str | Path, *, sections: Sequence = ()) -> list[Path]:
    """Write a whole analysis directory: ``results.json``, tables, figures and ``report.html``.

    All or nothing (:func:`prt.files.write_output_dir`): everything is written into a temporary
    directory beside ``out`` and renamed into place only when all of it succeeded; an existing
    ``out`` is replaced only when it is empty or a previous prt output, never a folder of other
    files. ``sections``: extra :class:`~prt.analysis.sections.ReportSection` objects (their
    results go into results.json under their key, their figures beside the report). Returns the
    final paths written.
    """
    from prt.files import write_output_dir

    records = results_with_sections(results, sections)

    def fill(work: Path) -> list[str]:
        (work / "results.json").write_text(json.dumps(records, indent=1, allow_nan=False) + "\n",
                                           encoding="utf-8")
        return ["results.json"] + [p.name for p in write_outputs(results, trial, work, sections=sections)]

    names = write_output_dir(out, fill, kind="prt analyze")
    return [Path(out) / name for name in names]


def write_outputs(results, trial, out_dir: Path, *, sections: Sequence = ()) -> list[Path]:
    """Write ``table1.csv``, ``table2.csv``, the four figures (PNG and SVG), each extra section's
    figures and ``report.html``.

    ``out_dir`` must exist (see :func:`write_analysis` for the all-or-nothing directory). CSV cells
    that a spreadsheet would read as a formula are neutralised (OWASP). Returns the paths written.
    """
    from prt.analysis.figures import all_figures, save_figure
    from prt.analysis.sections import check_sections
    from prt.files import csv_safe_frame

    results = as_records(results)
    sections = check_sections(sections)
    out_dir = Path(out_dir)
    written: list[Path] = []
    first = table1(trial)
    second = table2(results)
    for name, frame in (("table1.csv", first), ("table2.csv", second)):
        path = out_dir / name
        csv_safe_frame(frame).to_csv(path, index=False, encoding="utf-8", lineterminator="\n")
        written.append(path)
    svgs: dict[str, bytes] = {}
    for name, fig in all_figures(results, trial).items():
        png, svg, svg_bytes = save_figure(fig, out_dir, name)
        written += [png, svg]
        svgs[name] = svg_bytes
    taken = set(svgs)
    for section in sections:
        for figure in section.figures:
            if figure.name in taken:
                from prt.errors import InputError

                raise InputError(f"report section {section.key!r}: figure name {figure.name!r} is already used")
            taken.add(figure.name)
            for suffix, data in ((".png", figure.png), (".svg", figure.svg)):
                target = out_dir / f"{figure.name}{suffix}"
                target.write_bytes(data)
                written.append(target)
    path = out_dir / "report.html"
    path.write_text(render_report(results, trial, svgs, table1_frame=first, sections=sections), encoding="utf-8")
    written.append(path)
    return written


def published_figures() -> tuple[dict, str]:
    """The paper's figures and their citation (``prt.analysis.published``)."""
    from prt.analysis import published

    return published.PUBLISHED, published.CITATION


# ------------------------------------------------------------------------------------ HTML pieces
def html_table(
    frame: pd.DataFrame,
    headers: dict[str, str],
    caption: str,
    *,
    row_header: str | None = None,
    group_by: str | None = None,
    span_headers: Sequence[tuple[str, int]] | None = None,
    left: Iterable[str] = (),
    cell_html: dict[str, Callable[[str], str]] | None = None,
) -> str:
    """An accessible HTML table of display strings.

    ``headers`` maps the columns shown to their labels; ``row_header`` is the column rendered as
    ``<th scope="row">``; ``group_by`` starts a labelled row group whenever its value changes;
    ``span_headers`` adds a top header row of (label, colspan); ``cell_html`` renders a column's
    (escaped) cells specially.
    """
    left = set(left)
    cell_html = cell_html or {}
    columns = [c for c in headers if c != group_by]
    # focusable and named, so a keyboard can scroll a table wider than the screen (WCAG 2.1.1)
    parts = [f'<div class="table-wrap" tabindex="0" role="region" aria-label="{_e(caption)}"><table>',
             f"<caption>{_e(caption)}</caption>", "<thead>"]
    if span_headers:
        parts.append('<tr class="span">')
        for label, span in span_headers:
            parts.append(f'<th scope="colgroup" colspan="{int(span)}">{_e(label)}</th>' if label
                         else f'<td colspan="{int(span)}"></td>')
        parts.append("</tr>")
    parts.append("<tr>")
    for column in columns:
        cls = ' class="left"' if column == row_header or column in left else ""
        parts.append(f'<th scope="col"{cls}>{_e(headers[column])}</th>')
    parts.append("</tr></thead><tbody>")
    current = object()
    for _, row in frame.iterrows():
        if group_by is not None and row[group_by] != current:
            current = row[group_by]
            parts.append(f'<tr class="group"><th scope="rowgroup" colspan="{len(columns)}">{_e(current)}</th></tr>')
        parts.append('<tr class="level">' if group_by is not None else "<tr>")
        for column in columns:
            value = cell_html[column](row[column]) if column in cell_html else _e(row[column])
            if column == row_header:
                parts.append(f'<th scope="row">{value}</th>')
            else:
                cls = ' class="left"' if column in left else ""
                parts.append(f"<td{cls}>{value}</td>")
        parts.append("</tr>")
    parts.append("</tbody></table></div>")
    return "".join(parts)


def _empty(text: str) -> str:
    return f'<p class="empty">{_e(text)}</p>'


def _section(anchor: str, title: str, body: str) -> str:
    return f'<section id="{_e(anchor)}" aria-labelledby="{_e(anchor)}-h">\n<h2 id="{_e(anchor)}-h">{_e(title)}</h2>\n{body}\n</section>'


def _figure(name: str, svg: bytes | None, number: int, *, caption: str | None = None, alt: str | None = None,
            wide: bool | None = None) -> str:
    from prt.analysis.figures import ALT_TEXT

    caption = f"Figure {number}. {FIGURE_CAPTIONS.get(name, name) if caption is None else caption}"
    if not svg:
        return f'<figure><p class="empty">Figure not drawn.</p><figcaption>{_e(caption)}</figcaption></figure>'
    data = base64.b64encode(svg).decode("ascii")
    wide = name in ("fig_trajectories",) if wide is None else wide
    cls = ' class="wide"' if wide else ""
    alt = ALT_TEXT.get(name, caption) if alt is None else alt
    return (f'<figure{cls} id="{_e(name)}"><img src="data:image/svg+xml;base64,{data}" alt="{_e(alt)}">'
            f"<figcaption>{_e(caption)}</figcaption></figure>")


def _section_body(section, first_number: int) -> str:
    """An extra section's HTML body, its figures (numbered on from ``first_number``), then how its
    numbers were made."""
    figures = [_figure(f.name, f.svg, first_number + i, caption=f.caption, alt=f.alt, wide=f.wide)
               for i, f in enumerate(section.figures)]
    methods = ('<div class="methods"><ul>' + "".join(f"<li>{_e(m)}</li>" for m in section.methods) + "</ul></div>"
               if section.methods else "")
    return "\n".join([section.body, *figures, methods])


# ------------------------------------------------------------------------------------ sections
def _arm_counts(trial) -> dict[str, int]:
    arms = trial.participants["arm"]
    return {arm: int((arms == arm).sum()) for arm in ARMS}


def summary_sentences(results: dict, trial) -> list[str]:
    """Key results in plain words, each sentence with its numbers (plain text, not yet escaped)."""
    sentences = []
    counts = _arm_counts(trial)
    total = sum(counts.values())
    sentences.append(
        f"{total} participants were randomized: {counts['prt']} to Pain Reprocessing Therapy (PRT), "
        f"{counts['placebo']} to open-label placebo and {counts['usual_care']} to usual care."
    )
    outcomes = {(r.get("outcome"), r.get("timepoint"), r.get("group")): r for r in results.get("outcomes") or []}
    changes = []
    for arm in ARMS:
        before = outcomes.get(("pain_intensity", "baseline", arm), {}).get("mean")
        after = outcomes.get(("pain_intensity", "post", arm), {}).get("mean")
        if not is_missing(before) and not is_missing(after):
            changes.append(f"{fmt_number(before, 1)} to {fmt_number(after, 1)} with {_arm_phrase(arm)}")
    if changes:
        sentences.append("Average pain (0-10) went from " + _join(changes) + " (baseline to posttreatment).")
    for record in _sorted(results.get("primary") or [], "comparison", COMPARISONS):
        comparison = record.get("comparison", "")
        if "_vs_" not in str(comparison):
            continue
        first, second = str(comparison).split("_vs_", 1)
        estimate, t = record.get("estimate"), record.get("t")
        sign = estimate if not is_missing(estimate) else t
        if is_missing(sign):
            continue
        # Interaction with PRT as reference: positive = the control arm's pain fell less (see mixed model).
        direction = "more" if float(sign) > 0 else "less"
        amount = f"{fmt_number(abs(float(estimate)), 2)} points " if not is_missing(estimate) else ""
        sentences.append(
            f"Primary result ({comparison_label(comparison)}): from pretreatment to posttreatment, pain fell "
            f"{amount}{direction} with {_arm_phrase(first)} than with {_arm_phrase(second)} "
            f"(mixed model, t({fmt_number(record.get('df'), 1)}) = {fmt_number(t)}, p {_p_words(record.get('p'))})."
        )
    effects = {(r.get("outcome"), r.get("timepoint"), r.get("comparison")): r for r in results.get("effects") or []}
    for timepoint in ("post", "12mo"):
        parts = []
        for comparison in ("prt_vs_placebo", "prt_vs_usual_care"):
            record = effects.get(("pain_intensity", timepoint, comparison))
            if record and not is_missing(record.get("g")):
                parts.append(f"{fmt_ci(record.get('g'), record.get('ci_low'), record.get('ci_high'))} "
                             f"{comparison_label(comparison).replace('PRT ', '', 1)}")
        if parts:
            sentences.append(
                f"Effect size for pain at {timepoint_label(timepoint).lower()} (Hedges g [95% CI], PRT): "
                + "; ".join(parts) + ". Negative g means pain fell more with PRT; 0.8 or more in size is "
                "conventionally a large effect."
            )
    responders = {(r.get("criterion"), r.get("timepoint"), r.get("group")): r for r in results.get("responders") or []}
    for timepoint in ("post", "12mo"):
        parts = []
        for arm in ARMS:
            record = responders.get(("pain_free", timepoint, arm))
            if record and not is_missing(record.get("responders")) and not is_missing(record.get("randomized")):
                k, n = int(record["responders"]), int(record["randomized"])
                share = f" ({100.0 * k / n:.0f}%)" if n else ""
                parts.append(f"{k} of {n}{share} with {_arm_phrase(arm)}")
        if parts:
            sentences.append(
                f"Pain-free or nearly pain-free (0 or 1 of 10) at {timepoint_label(timepoint).lower()}: "
                + _join(parts) + "."
            )
    prt_correlations = [r for r in results.get("correlations") or [] if r.get("group") == "prt" and not is_missing(r.get("r"))]
    if prt_correlations:
        parts = [f"{outcome_label(r.get('x')).split(' (')[0]} r({fmt_number(r.get('df'), 0)}) = "
                 f"{fmt_number(r.get('r'))}, p {_p_words(r.get('p'))}" for r in prt_correlations]
        sentences.append("Within PRT, changes in pain went with changes in beliefs: " + "; ".join(parts) + ".")
    return sentences


def _arm_phrase(arm: str) -> str:
    return {"prt": "PRT", "placebo": "placebo", "usual_care": "usual care"}.get(arm, str(arm))


def _join(parts: list[str]) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def _p_words(p: Any) -> str:
    text = fmt_p(p)
    if text == MISSING:
        return "not available"
    return f"< {text[1:]}" if text.startswith("<") else f"= {text}"


def _sorted(records: list[dict], key: str, order: Sequence[str]) -> list[dict]:
    from prt.analysis.tables import order_key

    return sorted(records, key=lambda r: order_key(r.get(key), order))


def _table1_html(frame: pd.DataFrame, counts: dict[str, int]) -> str:
    if frame.empty:
        return _empty("No participants.")
    rows = frame.iloc[1:].copy()  # the count row becomes the header's n
    multi = rows["characteristic"].map(rows["characteristic"].value_counts()) > 1
    single = rows[~multi]
    rows.loc[~multi, "level"] = single["characteristic"] + ", " + single["level"]
    rows.loc[~multi, "characteristic"] = ""
    total = sum(counts.values())
    headers = {"characteristic": "", "level": "Characteristic"}
    headers.update({arm: f"{arm_label(arm)} (n = {counts[arm]})" for arm in ARMS})
    headers["overall"] = f"Overall (n = {total})"
    # groups: multi-level characteristics get a heading row; single rows sit in an unnamed group
    parts = []
    columns = ["level", *ARMS, "overall"]
    caption = "Table 1. Baseline characteristics by arm (mean (SD) or n (%))"
    parts.append(f'<div class="table-wrap" tabindex="0" role="region" aria-label="{_e(caption)}"><table>'
                 f"<caption>{_e(caption)}</caption><thead><tr>")
    for column in columns:
        cls = ' class="left"' if column == "level" else ""
        parts.append(f'<th scope="col"{cls}>{_e(headers[column])}</th>')
    parts.append("</tr></thead><tbody>")
    current = None
    for _, row in rows.iterrows():
        group = row["characteristic"]
        if group and group != current:
            parts.append(f'<tr class="group"><th scope="rowgroup" colspan="{len(columns)}">{_e(group)}</th></tr>')
        current = group
        parts.append(f'<tr class="{"level" if group else "single"}"><th scope="row">{_e(row["level"])}</th>')
        parts += [f"<td>{_e(row[c])}</td>" for c in columns[1:]]
        parts.append("</tr>")
    parts.append("</tbody></table></div>")
    return "".join(parts)


def _table2_html(frame: pd.DataFrame) -> str:
    if frame.empty:
        return _empty("No outcome summaries or effect sizes in the results.")
    shown = frame.copy()
    shown["timepoint"] = shown["timepoint"].map(timepoint_label)
    headers = {"measure": "", "timepoint": "Timepoint"}
    spans: list[tuple[str, int]] = [("", 1)]
    for arm in ARMS:
        headers[f"{arm}_mean_sd"] = "Mean (SD)"
        headers[f"{arm}_n"] = "n"
        spans.append((arm_label(arm), 2))
    for comparison in COMPARISONS:
        headers[f"{comparison}_g_ci"] = "g [95% CI]"
        headers[f"{comparison}_p"] = "p"
        spans.append((comparison_label(comparison), 2))
    return html_table(
        shown, headers,
        "Table 2. Outcomes by arm and Hedges g of the change from baseline (g < 0: the first arm's score fell more)",
        row_header="timepoint", group_by="measure", span_headers=spans,
        cell_html={f"{c}_g_ci": _estimate_ci_html for c in COMPARISONS},
    )


def _estimate_ci_html(text: str) -> str:
    """``g [low, high]`` as the estimate over its interval, to keep Table 2 narrow."""
    estimate, bracket, interval = str(text).partition(" [")
    if not bracket:
        return _e(text)
    return f'{_e(estimate)}<br><span class="ci">[{_e(interval)}</span>'


def _records_html(records: list[dict], caption: str, empty: str) -> str:
    if not records:
        return _empty(empty)
    frame = generic_table(records)
    headers = {c: _COLUMN_LABELS.get(c, c.replace("_", " ")) for c in frame.columns}
    text_columns = [c for c in frame.columns if any(isinstance(r.get(c), str) for r in records)]
    return html_table(frame, headers, caption, left=text_columns)


_COLUMN_LABELS = {
    "x": "Change in", "y": "Correlated with change in", "group": "Arm", "r": "r", "df": "df", "p": "p",
    "mediator": "Mediator", "outcome": "Outcome", "timepoint": "Timepoint", "comparison": "Comparison",
    "indirect": "Indirect effect (ab)", "ci": "95% CI", "ci_low": "95% CI low", "ci_high": "95% CI high",
    "c_prime": "c′ (direct)", "c": "c (total)", "a": "a", "b": "b", "direction": "Direction",
    "moderator": "Moderator", "criterion": "Criterion", "estimate": "Estimate", "se": "SE", "t": "t", "term": "Term", "n": "n",
}


def _primary_html(results: dict) -> str:
    frame = primary_table(results)
    if frame.empty:
        return _empty("The primary mixed model was not fitted (no pretreatment/posttreatment pain data).")
    headers = {"comparison": "Comparison", "estimate": "Estimate (points)", "se": "SE", "t": "t",
               "df": "df (Satterthwaite)", "p": "p"}
    note = ('<p class="note">Estimate: how much less pain fell from pretreatment to posttreatment in the control '
            "arm than with PRT (the time × arm interaction of the mixed model, 0-10 scale); positive values "
            "favour PRT.</p>")
    return html_table(frame, headers, "Primary outcome: pain intensity, linear mixed model (REML)",
                      row_header="comparison") + note


def _responders_html(results: dict) -> str:
    frame = responders_table(results)
    if frame.empty:
        return _empty("No responder counts in the results.")
    headers = {"criterion": "Criterion", "timepoint": "Timepoint"}
    headers.update({arm: arm_label(arm) for arm in ARMS})
    return html_table(frame, headers, "Responders: n of all randomized (%); missing counts as not responding",
                      row_header="timepoint", group_by="criterion")


def _comparison_rows(ours: list[dict], published: list[dict], keys: Sequence[str],
                     values: Sequence[tuple[str, int]]) -> pd.DataFrame:
    """Each published record beside ours (matched on ``keys``) with ours − published per value.

    Only values the paper reports for at least one record get columns; a value the paper gives
    for some records but not this one shows ``-``.
    """
    index = {tuple(r.get(k) for k in keys): r for r in ours}
    reported = [(name, digits) for name, digits in values if any(name in r for r in published)]
    rows = []
    for record in published:
        mine = index.get(tuple(record.get(k) for k in keys), {})
        row = {k: _short(label_value(k, record.get(k))) for k in keys}
        for name, digits in reported:
            theirs, our = record.get(name), mine.get(name)
            row[f"{name}_ours"] = fmt_p(our) if name == "p" else fmt_number(our, digits)
            row[f"{name}_published"] = fmt_p(theirs) if name == "p" else fmt_number(theirs, digits)
            both = not is_missing(our) and not is_missing(theirs)
            extra = 1 if digits else 0  # one more decimal than the paper shows, integers stay integers
            row[f"{name}_difference"] = fmt_number(float(our) - float(theirs), digits + extra) if both else MISSING
        rows.append(row)
    columns = list(keys) + [f"{n}_{part}" for n, _ in reported for part in ("ours", "published", "difference")]
    return pd.DataFrame(rows, columns=columns)


def _short(label: str) -> str:
    """An outcome label without its parenthetical range, for narrow tables."""
    return label.split(" (")[0] if label in OUTCOME_LABELS.values() else label


def _published_html(results: dict) -> str:
    published, citation = published_figures()
    parts = ['<p>Each figure the paper reports beside the same figure computed here from the shared data; '
             "difference = ours − published.</p>"]
    if not published:
        parts.append(_empty("The published figures are not available in this installation "
                            "(prt.analysis.published is missing)."))
    else:
        specs = (
            ("primary", "Primary mixed model", ("comparison",), (("t", 2), ("df", 2))),
            ("effects", "Hedges g", ("outcome", "timepoint", "comparison"), (("g", 2), ("se", 2))),
            ("responders", "Responders", ("criterion", "timepoint", "group"), (("responders", 0), ("randomized", 0))),
            ("correlations", "Correlations within arms", ("x", "y", "group"), (("r", 2), ("df", 0), ("p", 3))),
        )
        for key, title, keys, values in specs:
            records = published.get(key) or []
            if not records:
                continue
            frame = _comparison_rows(results.get(key) or [], records, keys, values)
            headers = {k: _COLUMN_LABELS.get(k, k).replace("Change in", "Change in") for k in keys}
            spans: list[tuple[str, int]] = [("", len(keys))]
            for name, _ in values:
                if f"{name}_ours" not in frame.columns:
                    continue
                label = {"se": "SE", "df": "df", "responders": "Responders", "randomized": "Randomized"}.get(name, name)
                headers.update({f"{name}_ours": "ours", f"{name}_published": "published", f"{name}_difference": "difference"})
                spans.append((label, 3))
            parts.append(html_table(frame, headers, f"{title}: ours beside the published figures",
                                    span_headers=spans, left=keys))
    parts.append(f'<p class="citation"><strong>Citation.</strong> {_e(citation)}</p>')
    return "\n".join(parts)


def _methods_html(results: dict) -> str:
    meta = results.get("meta") or {}
    boot = meta.get("bootstrap")
    mboot = meta.get("mediation_bootstrap")
    items = [
        "<strong>Data</strong>: " + DATASET_METHODS.get(meta.get("dataset"), DATASET_METHODS["custom"]),
        "<strong>Baseline</strong> is the mean of the two assessments before randomization (the eligibility "
        "visit and the pretreatment session), using whichever were completed (Ashar et al. 2022).",
        "<strong>Primary analysis</strong> (intention to treat): a linear mixed model of pain intensity at "
        "pretreatment and posttreatment with time, arm, their interaction, age and sex, and a random intercept "
        "per participant, fitted by restricted maximum likelihood (REML). Degrees of freedom for the tests "
        "use the Satterthwaite approximation, as in the paper (MATLAB fitlme; R lmerTest gives the same).",
        "<strong>Effect sizes</strong> are Hedges g: the difference between two arms in mean change from "
        "baseline divided by the pooled SD of the change scores, with the small-sample correction "
        "1 − 3 / (4(n1 + n2) − 9). Standard errors and 95% intervals come from "
        f"{_e(_count(boot))} bootstrap resamples drawn within each arm (percentile intervals).",
        "<strong>Responders</strong>: pain reduced by at least 30% or 50% from baseline, or pain of 0 or 1 "
        "(pain-free). Everyone randomized is in the denominator; a missing answer counts as not responding.",
        "<strong>Correlations</strong>: within each arm, Pearson r between the baseline-to-posttreatment change "
        "in a belief measure and the change in pain.",
        "<strong>Mediation</strong> (Wager lab MediationToolbox method): PRT (1) versus a control (0) as the "
        "cause, the baseline-to-posttreatment change in the mediator, and the outcome at each follow-up, "
        "adjusting for the baseline outcome; mediator and outcome standardized; "
        f"{_e(_count(mboot))} bootstrap resamples with bias-corrected and accelerated (BCa) intervals and p values.",
        "<strong>Moderation</strong>: whether the arm effect on pain at posttreatment differs by age or sex "
        "(arm × moderator interaction).",
    ]
    facts = []
    for key, label in (("seed", "random seed"), ("version", "prt version"), ("layout", "input layout"),
                       ("dataset", "dataset"), ("n_randomized", "participants randomized")):
        if not is_missing(meta.get(key)):
            facts.append(f"{label}: {meta.get(key)}")
    body = '<div class="methods"><ul>' + "".join(f"<li>{item}</li>" for item in items) + "</ul>"
    if facts:
        body += f'<p class="note">Run details: {_e("; ".join(facts))}.</p>'
    return body + "</div>"


def _count(value: Any) -> str:
    if is_missing(value):
        return "the configured number of"
    try:
        return f"{int(value):,}"
    except (TypeError, ValueError):
        return str(value)


# ------------------------------------------------------------------------------------ page
def _template(name: str) -> str:
    return resources.files("prt.analysis.templates").joinpath(name).read_text(encoding="utf-8")


DATASET_TITLES = {
    BOULDER: ("PRT trial analysis report",
              "Boulder Back Pain Study (Ashar et al., JAMA Psychiatry 2022): PRT vs open-label placebo vs usual care"),
    "simulated": ("Simulated PRT trial: analysis report",
                  "Simulated data (prt simulate), not real participants: PRT vs open-label placebo vs usual care"),
}


DATASET_METHODS = {
    BOULDER: "the Boulder Back Pain Study's public de-identified data (recognised by content); the "
             "published figures are shown beside ours at the end.",
    "simulated": "a synthetic trial written by <code>prt simulate</code>, calibrated to the published arm "
                 "summaries; it describes no real participants and is not compared with the paper.",
    "custom": "a PRT trial's own export (not the published trial's data), analysed with the published "
              "trial's methods; there is no published comparison.",
}


def report_title(dataset: str | None) -> tuple[str, str]:
    """Title and subtitle saying what the data are: the trial's own, simulated, or another trial's."""
    return DATASET_TITLES.get(dataset, ("PRT trial analysis report",
                                        "A PRT trial's data (not the published trial): PRT vs open-label placebo vs usual care"))


def render_report(results: dict, trial, figure_svgs: dict[str, bytes] | None = None,
                  *, table1_frame: pd.DataFrame | None = None, sections: Sequence = ()) -> str:
    """The whole report as one HTML string (pure: no files read except the package's template).

    ``sections``: extra :class:`~prt.analysis.sections.ReportSection` objects, placed after the
    figures (program, attributions, imaging), their summary sentences added to the summary.
    """
    from prt.analysis.sections import check_sections

    figure_svgs = figure_svgs or {}
    results = as_records(results)
    extra = check_sections(sections)
    meta = results.get("meta") or {}
    boulder = meta.get("dataset") == BOULDER
    first = table1(trial) if table1_frame is None else table1_frame
    counts = _arm_counts(trial)

    sections: list[tuple[str, str, str]] = []
    sentences = summary_sentences(results, trial) + [line for section in extra for line in section.summary]
    summary = '<div class="summary"><ul>' + "".join(f"<li>{_e(s)}</li>" for s in sentences) + "</ul></div>"
    sections.append(("summary", "Summary", summary))
    sections.append(("table1", "Participants at baseline", _table1_html(first, counts)))
    sections.append(("primary", "Primary result", _primary_html(results)))
    sections.append(("table2", "Outcomes over time", _table2_html(table2(results))))
    sections.append(("responders", "Responders", _responders_html(results)))
    sections.append(("correlations", "Correlations within arms", _records_html(
        results.get("correlations") or [],
        "Pearson r between changes (baseline to posttreatment) within each arm", "No correlations in the results.")))
    sections.append(("mediation", "Mediation", _records_html(
        results.get("mediation") or [],
        "Indirect (mediated) effects with bias-corrected bootstrap 95% CI", "No mediation results.")))
    sections.append(("moderation", "Moderation", _records_html(
        results.get("moderation") or [], "Moderation of the arm effect on pain", "No moderation results.")))
    figures = "\n".join(_figure(name, figure_svgs.get(name), i + 1) for i, name in enumerate(FIGURE_CAPTIONS))
    sections.append(("figures", "Figures", figures))
    number = len(FIGURE_CAPTIONS) + 1
    for section in extra:
        sections.append((section.key, section.title, _section_body(section, number)))
        number += len(section.figures)
    sections.append(("methods", "Methods in plain words", _methods_html(results)))
    notes = meta.get("warnings") or []
    if notes:
        sections.append(("warnings", "What could not be analysed", '<div class="methods"><ul>'
                         + "".join(f"<li>{_e(n)}</li>" for n in notes) + "</ul></div>"))
    if boulder:
        sections.append(("published", "Comparison with the published trial", _published_html(results)))

    toc = "\n".join(f'<li><a href="#{_e(a)}">{_e(t)}</a></li>' for a, t, _ in sections)
    body = "\n".join(_section(a, t, b) for a, t, b in sections)
    title, subtitle = report_title(meta.get("dataset"))
    version = meta.get("version", "")
    footer = (f"Generated by prt {version}. Numbers are computed from the data; nothing here identifies a participant."
              if version else "Generated by prt. Numbers are computed from the data; nothing here identifies a participant.")
    return Template(_template("report.html")).substitute(
        title=_e(title), subtitle=_e(subtitle), version=_e(version), css=_template("report.css"),
        toc=toc, sections=body, footer=_e(footer),
    )
