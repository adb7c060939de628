"""The analysis report's pain-attribution section and its ``results.json`` entry (issue 15).

When the export carries the IPQ-R causal item (``attributed_cause_1..3``) with the study's
reconciled codes (``cat1..3``), ``prt analyze`` adds the attribution analysis of Ashar et al.
(JAMA Network Open 2023) from the human codes; given an automatic coder's model file
(``--attribution-model``, from ``prt attribution train``) it codes the same answers and shows the
same tables from the automatic codes beside the human ones, with their agreement. Everything
statistical is :func:`prt.attribution.analysis.attribution_results` (on the analysis engine) and
every figure :func:`prt.attribution.figures.attribution_figures`: nothing is recomputed here.

``results.json`` under ``attributions``: ``codings`` (which were analysed), ``human`` and/or
``automatic`` (each attribution_results' tables: shares, categories, effects, regression,
correlations, mediation, meta; the per-participant ``scores`` are left out, as results.json holds
no participant ids), ``coder`` (the model's coder and size), ``agreement`` (accuracy and Cohen's
kappa of the automatic codes against the human ones, when both exist) and ``side_by_side``.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd

from prt.errors import InputError
from prt.vocabulary import ARM_LABELS, ARMS

#: Labels of the two codings in tables and figures.
CODING_LABELS = {"human": "Human codes", "automatic": "Automatic codes"}
#: attribution_results' per-participant table, kept out of results.json (participant ids).
PARTICIPANT_LEVEL = ("scores",)


def has_answers(trial) -> bool:
    """Whether the trial carries any attributed cause (``attributed_cause_1..3`` at some timepoint)."""
    from prt.attribution.answers import TEXT_FIELD
    from prt.attribution.scheme import SCHEME

    text = getattr(trial, "text", None)
    if text is None or text.empty:
        return False
    fields = {TEXT_FIELD.format(slot=k) for k in range(1, SCHEME.answers_per_participant + 1)}
    return bool(text["field"].isin(fields).any())


def attribution_codings(trial, model=None) -> tuple[pd.DataFrame, dict[str, pd.DataFrame], dict]:
    """``(answers, {coding name: codes}, coder info)``: the human codes when the export has them,
    the automatic ones when ``model`` (a model file or a trained coder) is given."""
    from prt.attribution.analysis import codes_from
    from prt.attribution.answers import answers_from_trial
    from prt.attribution.coders import Coder, load_model

    answers = answers_from_trial(trial)
    codings: dict[str, pd.DataFrame] = {}
    info: dict[str, Any] = {}
    if "category" in answers.columns:
        codings["human"] = codes_from(answers)
    if model is not None:
        coder = model if isinstance(model, Coder) else load_model(model)
        coding = coder.code(answers["text"])
        codings["automatic"] = codes_from(answers, coding)
        info = {"coder": coder.name, "n_trained": int(getattr(coder, "n_trained", 0) or 0),
                "model": Path(model).name if not isinstance(model, Coder) else None,
                "review_below": float(coder.review_below),
                "queued": int(coding["needs_review"].sum()), "coding": coding}
    return answers, codings, info


def _public(results: dict) -> dict:
    return {k: v for k, v in results.items() if k not in PARTICIPANT_LEVEL}


def side_by_side(by_coding: dict[str, dict]) -> list[dict]:
    """The headline numbers per coding, one record per measure (shares, g, within-PRT r)."""
    rows: dict[str, dict] = {}

    def put(measure: str, label: str, coding: str, value) -> None:
        rows.setdefault(measure, {"measure": measure, "label": label})[coding] = value

    for coding, results in by_coding.items():
        for r in results.get("shares") or []:
            put(f"share {r['arm']} {r['timepoint']}", f"Mind-brain share, {ARM_LABELS[r['arm']]}, {r['timepoint']}",
                coding, r["share_mind_brain"])
        for r in results.get("effects") or []:
            put(f"g {r['comparison']}", f"Hedges g of the change, {_comparison(r['comparison'])}", coding, r["g"])
        for r in results.get("correlations") or []:
            if r["group"] == "prt":
                put("r prt", "Within PRT, r of score change with pain change", coding, r["r"])
    return list(rows.values())


def attribution_results_both(trial, codings: dict[str, pd.DataFrame], answers: pd.DataFrame, info: dict, *,
                             bootstrap: int, mediation_bootstrap: int, seed: int) -> dict[str, Any]:
    """The ``attributions`` entry of results.json (module docstring)."""
    from prt.analysis.results import jsonable
    from prt.attribution.analysis import attribution_results
    from prt.attribution.evaluation import agreement

    out: dict[str, Any] = {"codings": list(codings)}
    by_coding = {}
    for name, codes in codings.items():
        by_coding[name] = _public(attribution_results(trial, codes, bootstrap=bootstrap,
                                                      mediation_bootstrap=mediation_bootstrap, seed=seed))
        out[name] = by_coding[name]
    if info:
        out["coder"] = {k: v for k, v in info.items() if k != "coding"}
    if "human" in codings and "automatic" in codings:
        out["agreement"] = agreement(answers["category"], info["coding"])
    if len(by_coding) > 1:
        out["side_by_side"] = side_by_side(by_coding)
    return jsonable(out)


# ------------------------------------------------------------------------------------ HTML
def _comparison(name: str) -> str:
    from prt.analysis.tables import comparison_label

    return comparison_label(name)


def _num(value, digits: int = 2) -> str:
    from prt.analysis.tables import fmt_number

    return fmt_number(value, digits)


def _p(value) -> str:
    from prt.analysis.tables import fmt_p

    return fmt_p(value)


def _spanned(rows_by_coding: dict[str, list[dict]], keys: list[str], values: dict[str, str],
             key_labels: dict[str, str], caption: str, row_header: str) -> str:
    """One table: the key columns, then each coding's value columns under a spanning header."""
    from prt.analysis.sections import table

    codings = list(rows_by_coding)
    merged: dict[tuple, dict] = {}
    for coding, rows in rows_by_coding.items():
        for row in rows:
            key = tuple(row[k] for k in keys)
            entry = merged.setdefault(key, {k: row[k] for k in keys})
            for v in values:
                entry[f"{coding}:{v}"] = row.get(v, "-")
    frame = pd.DataFrame(list(merged.values())).fillna("-")
    headers = dict(key_labels)
    spans = [("", len(keys))] if len(codings) > 1 else None
    for coding in codings:
        for v, label in values.items():
            headers[f"{coding}:{v}"] = label
        if spans is not None:
            spans.append((CODING_LABELS[coding], len(values)))
    return table(frame, headers, caption, row_header=row_header, span_headers=spans,
                 left=[k for k in keys if k != row_header])


def _share_rows(results: dict) -> list[dict]:
    from prt.analysis.sections import pct

    rows = []
    for r in results.get("shares") or []:
        rows.append({"arm": ARM_LABELS[r["arm"]], "timepoint": "Pretreatment" if r["timepoint"] == "pre"
                     else "Posttreatment", "n": str(r["n"]), "share": pct(r["share_mind_brain"]),
                     "any": pct(r["share_any"]), "score": _num(r["mean_score"])})
    return rows


def _effect_rows(results: dict) -> list[dict]:
    from prt.analysis.tables import fmt_ci

    return [{"comparison": _comparison(r["comparison"]), "g": fmt_ci(r["g"], r["ci_low"], r["ci_high"]),
             "se": _num(r["se"]), "p": _p(r["p"]), "n": f"{r['n1']}, {r['n2']}"}
            for r in results.get("effects") or []]


_TERMS = {"intercept": "Intercept", "placebo": "Placebo (vs PRT)", "usual_care": "Usual care (vs PRT)",
          "age": "Age (per year)", "female": "Female (vs male)"}


def _regression_rows(results: dict) -> list[dict]:
    return [{"term": _TERMS.get(r["term"], r["term"]), "estimate": _num(r["estimate"]), "se": _num(r["se"]),
             "t": _num(r["t"]), "df": str(r["df"]), "p": _p(r["p"])} for r in results.get("regression") or []]


def _correlation_rows(results: dict) -> list[dict]:
    return [{"arm": ARM_LABELS.get(r["group"], r["group"]), "r": _num(r["r"]), "df": _num(r["df"], 0),
             "p": _p(r["p"])} for r in results.get("correlations") or []]


def _mediation_rows(results: dict) -> list[dict]:
    from prt.analysis.tables import fmt_ci

    labels = {"prt_vs_controls": "PRT vs both controls"}
    return [{"comparison": labels.get(r["comparison"], _comparison(r["comparison"])), "n": str(r["n"]),
             "indirect": fmt_ci(r["indirect"], r["ci_low"], r["ci_high"]), "p": _p(r["p"]),
             "a": _num(r["a"]), "b": _num(r["b"]), "c_prime": _num(r["c_prime"]), "c": _num(r["c"])}
            for r in results.get("mediation") or []]


def section_body(results: dict) -> str:
    """The section's HTML from its results (escaped throughout)."""
    from prt.analysis.sections import heading, paragraph, pct, table

    codings = results["codings"]
    by = {c: results[c] for c in codings}
    parts = []
    source = []
    if "human" in codings:
        source.append(f"the study's reconciled human codes in the export ({results['human']['meta']['n_answers']} "
                      "answers)")
    if "automatic" in codings:
        coder = results.get("coder") or {}
        trained = f", trained on {coder['n_trained']} answers" if coder.get("n_trained") else ""
        model = f" {coder['model']}" if coder.get("model") else ""
        source.append(f"the automatic {coder.get('coder', '')} coder{model}{trained} "
                      f"({coder.get('queued', 0)} answers below its review threshold)")
    parts.append(paragraph(
        "Each participant named the three most important causes of their back pain before and after treatment "
        "(the IPQ-R causal item). Answers are coded into the study's 17 categories; psychological, stress and "
        "brain count as mind-brain attributions, and a participant's score is how many of their three are "
        "(0-3). Codes: " + " and ".join(source) + "."))
    parts.append(heading("Mind-brain attributions by arm and time"))
    parts.append(_spanned({c: _share_rows(by[c]) for c in codings}, ["arm", "timepoint"],
                          {"n": "n", "share": "% mind-brain", "any": "% with any", "score": "Score"},
                          {"arm": "Arm", "timepoint": "Time"},
                          "Mind-brain attributions per arm and time: n participants with all three answers coded; "
                          "% of their answers that are mind-brain; % of participants with at least one; mean "
                          "score (0-3)", row_header="timepoint"))
    parts.append(heading("Change from pretreatment to posttreatment"))
    parts.append(_spanned({c: _effect_rows(by[c]) for c in codings}, ["comparison"],
                          {"g": "g [95% CI]", "se": "SE", "p": "p", "n": "n1, n2"}, {"comparison": "Comparison"},
                          "Hedges g of the change in the mind-brain score between arms (g > 0: the first arm's "
                          "score rose more)", row_header="comparison"))
    parts.append(_spanned({c: _regression_rows(by[c]) for c in codings}, ["term"],
                          {"estimate": "Estimate", "se": "SE", "t": "t", "df": "df", "p": "p"}, {"term": "Term"},
                          "Regression of the z-scored change on arm, age and sex (OLS; PRT the reference arm)",
                          row_header="term"))
    parts.append(heading("Reattribution and pain"))
    parts.append(_spanned({c: _correlation_rows(by[c]) for c in codings}, ["arm"],
                          {"r": "r", "df": "df", "p": "p"}, {"arm": "Arm"},
                          "Within each arm, Pearson r of the change in the mind-brain score with the change in "
                          "pain (pretreatment to posttreatment)", row_header="arm"))
    parts.append(_spanned({c: _mediation_rows(by[c]) for c in codings}, ["comparison"],
                          {"n": "n", "indirect": "Indirect effect [95% CI]", "p": "p", "a": "a", "b": "b",
                           "c_prime": "c′", "c": "c"}, {"comparison": "Comparison"},
                          "Mediation of the arm effect on pain at 12 months by the change in the mind-brain "
                          "score (BCa bootstrap)", row_header="comparison"))
    agreement = results.get("agreement")
    if agreement:
        frame = pd.DataFrame([
            {"level": "17 categories", "accuracy": pct(agreement["accuracy_17"]), "kappa": _num(agreement["kappa_17"])},
            {"level": "12 analysis categories", "accuracy": pct(agreement["accuracy_12"]),
             "kappa": _num(agreement["kappa_12"])},
            {"level": "Mind-brain or not", "accuracy": pct(agreement["accuracy_mind_brain"]),
             "kappa": _num(agreement["kappa_mind_brain"])},
        ])
        parts.append(heading("Agreement of the automatic codes with the human codes"))
        parts.append(table(frame, {"level": "Level", "accuracy": "Accuracy", "kappa": "Cohen's kappa"},
                           f"Automatic against human codes on the {agreement['n']} answers "
                           f"({pct(agreement['share_queued'])} below the review threshold)", row_header="level"))
        parts.append(paragraph(
            "The study's two human coders agreed with kappa 0.85 (mind-brain) and 0.71 (17 categories). A coder "
            "trained on these same answers is scored in-sample here, which flatters it; docs/attribution.md gives "
            "the cross-validated agreement.", css="note"))
    return "\n".join(parts)


def methods(results: dict) -> tuple[str, ...]:
    """How the section's numbers were made, in plain sentences."""
    meta = results[results["codings"][0]]["meta"]
    return (
        "Shares: mind-brain answers over three times the participants with a score; a score needs all three "
        "answers coded (the study's rule).",
        "Hedges g of the score change between arms with the analysis engine's bootstrap "
        f"({meta['bootstrap']:,} resamples, percentile interval) and pooled-variance t test.",
        "Regression (the study's model): z-scored change on arm, age and sex. Correlations: the engine's within-arm "
        "Pearson r. Mediation: the engine's MediationToolbox model with BCa bootstrap "
        f"({meta['mediation_bootstrap']:,} resamples); X = PRT vs a control (or both), "
        "M = the score change, Y = pain at 12 months adjusted for baseline pain.",
        "Source: Ashar et al., JAMA Network Open 2023; the coding scheme and its rules: docs/attribution.md.",
    )


def summary_sentence(results: dict) -> str | None:
    """One sentence: the PRT and control shares pre -> post and g of the change, per coding."""
    from prt.analysis.sections import pct

    parts = []
    for coding in results["codings"]:
        shares = {(r["arm"], r["timepoint"]): r for r in results[coding].get("shares") or []}
        arms = []
        for arm in ARMS:
            pre, post = shares.get((arm, "pre")), shares.get((arm, "post"))
            if pre and post:
                arms.append(f"{ARM_LABELS[arm] if arm == 'prt' else ARM_LABELS[arm].lower()} "
                            f"{pct(pre['share_mind_brain'])} to {pct(post['share_mind_brain'])}")
        if not arms:
            continue
        effects = {r["comparison"]: r for r in results[coding].get("effects") or []}
        gs = [f"{_num(effects[c]['g'])} vs {label}" for c, label in
              (("prt_vs_placebo", "placebo"), ("prt_vs_usual_care", "usual care"))
              if c in effects and not _missing(effects[c]["g"])]
        text = f"{CODING_LABELS[coding].lower()}: " + ", ".join(arms)
        if gs:
            text += f" (Hedges g of the change {' and '.join(gs)})"
        parts.append(text)
    if not parts:
        return None
    return "Mind-brain attributions of back pain, pretreatment to posttreatment, " + "; ".join(parts) + "."


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def attribution_section(trial, *, model=None, bootstrap: int = 10_000, mediation_bootstrap: int = 5_000,
                        seed: int = 0):
    """The report's attribution section, or None when the export has no coded attributions and no
    model is given. ``model``: a model file from ``prt attribution train`` (or a trained coder).

    A model given for an export without attributed causes is an error (nothing to code).
    """
    from prt.analysis.sections import ReportSection, render_figure
    from prt.attribution.figures import ALT_TEXT, attribution_figures

    if not has_answers(trial):
        if model is not None:
            raise InputError("--attribution-model: the export has no attributed causes (fields attributed_cause_1..3) "
                             "to code")
        return None
    answers, codings, info = attribution_codings(trial, model)
    if not codings:
        return None
    results = attribution_results_both(trial, codings, answers, info, bootstrap=bootstrap,
                                       mediation_bootstrap=mediation_bootstrap, seed=seed)
    shown = "human" if "human" in codings else "automatic"
    label = CODING_LABELS[shown].lower()
    captions = {
        "fig_attribution_categories": f"Pain attributions by category, arm and time ({label}): stacked shares of "
                                      "the 12 analysis categories, mind-brain categories first and hatched.",
        "fig_attribution_scores": f"Each participant's mind-brain score (0-3) before and after treatment ({label}); "
                                  "line width: participants who moved alike; bold: the arm mean.",
    }
    figures = tuple(render_figure(fig, name, captions[name], ALT_TEXT[name], wide=True)
                    for name, fig in attribution_figures(trial, codings[shown]).items())
    sentence = summary_sentence(results)
    return ReportSection(key="attributions", title="Pain attributions", body=section_body(results),
                         results=results, figures=figures, summary=(sentence,) if sentence else (),
                         methods=methods(results))


__all__ = ["CODING_LABELS", "attribution_codings", "attribution_results_both", "attribution_section",
           "has_answers", "side_by_side"]
