"""The trial's analyses end to end: one pure function from :class:`TrialData` to :class:`AnalysisResults`.

Follows the Statistical Analyses of Ashar et al. (JAMA Psychiatry 2022) and the protocol notes:
baseline (:mod:`prt.analysis.baseline`), the primary ITT mixed model (:mod:`prt.analysis.mixed`),
Table 2 summaries and Hedges g (:mod:`prt.analysis.effects`), responders, belief-pain
correlations, mediation and moderation. ``run_analysis(...).to_json()`` is what ``prt analyze``
writes to ``results.json`` (record shapes in ``docs/analysis.md``). Whatever could not be
analysed is said: an :class:`~prt.errors.AnalysisSkippedWarning` per gap (and the sentence in
``results.warnings``), a :class:`~prt.errors.ConvergenceWarning` when the primary model did not
converge (its t, df and p are then not reported) - never a silently empty table.
"""

from __future__ import annotations

import math
import warnings
from typing import Callable

import numpy as np
import pandas as pd

from prt.analysis import correlations, effects, mediation, moderation, responders
from prt.analysis.baseline import with_baseline
from prt.analysis.results import AnalysisResults, jsonable, records_frame
from prt.errors import AnalysisSkippedWarning, ConvergenceWarning, InputError
from prt.vocabulary import (
    ARMS,
    BASELINE,
    BASELINE_SOURCES,
    COMPARISONS,
    EFFECT_TIMEPOINTS,
    OUTCOMES,
    PRIMARY_OUTCOME,
    PRT_COMPARISONS,
    outcome_label,
)

#: The primary model's two interactions and the comparisons they report (PRT is the reference,
#: so a positive t means the control arm improved less; Ashar et al. 2022).
PRIMARY_TERMS = tuple((c.name, f"time:{c.second}") for c in PRT_COMPARISONS)
#: Timepoints of the ``outcomes`` table: the derived baseline, the pretreatment assessment, then
#: posttreatment and follow-ups (results contract, docs/analysis.md).
SUMMARY_TIMEPOINTS = (BASELINE, "pre", *EFFECT_TIMEPOINTS)

#: More resamples than this change no reported digit and only cost hours (10,000 is the paper's).
MAX_RESAMPLES = 1_000_000
#: ``progress(done, total)``: called as resampling groups and mediation models finish.
Progress = Callable[[int, int], None]


def analysed_outcomes(trial) -> list[str]:
    """The Table 2 outcomes present in the data, in the paper's order."""
    present = set(trial.outcomes)
    return [o for o in OUTCOMES if o in present]


def primary_frame(trial, outcome: str = PRIMARY_OUTCOME) -> pd.DataFrame:
    """Long frame for :func:`prt.analysis.mixed.design_primary`: pre and post values.

    Every randomized participant with any value at pre or post enters (ITT, Ashar et al. 2022);
    participants without age or sex cannot enter a model with those covariates and are left out.
    """
    wide = trial.wide(outcome, ["pre", "post"])
    people = trial.participants
    long = wide.stack(future_stack=True).rename("value").reset_index()
    long.columns = ["participant", "time", "value"]
    long = long[long["value"].notna()]
    long = long.join(people[["arm", "age", "sex"]], on="participant")
    long = long[long["age"].notna() & long["sex"].isin(["male", "female"])]
    return long[["participant", "arm", "time", "age", "sex", "value"]].reset_index(drop=True)


def primary_analysis(trial, outcome: str = PRIMARY_OUTCOME, notes: list[str] | None = None):
    """The primary model: ``(records, fit)``; records ``{comparison, estimate, se, t, df, p, n_obs,
    n_participants, converged}`` of the two interactions, fit the :class:`MixedModelResult`.

    REML, random intercept per participant, ``y ~ 1 + age + sex + time * arm``, Satterthwaite df.
    When the model cannot be fitted the records are empty, fit is None and the reason is appended
    to ``notes``; when it did not converge, t, df and p are NaN and ``converged`` is False.
    """
    from prt.analysis.mixed import design_primary, fit_random_intercept

    notes = notes if notes is not None else []
    frame = primary_frame(trial, outcome)
    with_value = trial.wide(outcome, ["pre", "post"]).notna().any(axis=1)
    left_out = int(with_value.sum()) - int(frame["participant"].nunique())
    if left_out > 0:
        notes.append(f"primary analysis: {left_out} participant(s) with pre or post {outcome} but no age "
                     "or no male/female sex were left out (the model adjusts for age and sex)")
    arms_present = set(frame["arm"])
    times_present = set(frame["time"])
    if frame.empty or not set(ARMS) <= arms_present or times_present != {"pre", "post"}:
        missing = [f"arm {a}" for a in ARMS if a not in arms_present]
        missing += [f"{t} values" for t in ("pre", "post") if t not in times_present]
        notes.append(f"primary analysis skipped: the model needs all three arms with {outcome} at pre and "
                     f"post (missing: {', '.join(missing) or 'data'})")
        return [], None
    constant = [c for c in ("sex", "age") if frame[c].nunique() < 2]
    if constant:  # the model adjusts for both: a covariate without variation cannot be estimated
        notes.append(f"primary analysis skipped: every participant in the model has the same "
                     f"{' and '.join(constant)}, which the model adjusts for")
        return [], None
    y, X, groups, names = design_primary(frame)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            fit = fit_random_intercept(y, X, groups, names, reml=True)
        except InputError as exc:  # e.g. a rank-deficient design: the rest of the analysis still runs
            notes.append(f"primary analysis skipped: the model cannot be fitted ({exc})")
            return [], None
    for w in caught:
        if issubclass(w.category, ConvergenceWarning):
            notes.append(f"primary analysis: {w.message}")
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    converged = bool(getattr(fit, "converged", True))
    if not converged:
        notes.append("primary analysis: the mixed model did not converge; its t, df and p are not reported")
    records = []
    for comparison, term in PRIMARY_TERMS:
        test = fit.test(term)
        usable = converged and math.isfinite(float(test.df))
        records.append({
            "comparison": comparison, "estimate": float(test.estimate), "se": float(test.se),
            "t": float(test.t) if usable else math.nan, "df": float(test.df) if usable else math.nan,
            "p": float(test.p) if usable else math.nan,
            "n_obs": int(fit.n_obs), "n_participants": int(fit.n_groups), "converged": usable,
        })
    return records, fit


def _check(trial) -> None:
    if PRIMARY_OUTCOME not in set(trial.outcomes):
        raise InputError(f"no {PRIMARY_OUTCOME} values in the data: the analysis needs the pain outcome "
                         "(REDCap field pain_avg in the built-in mapping)")
    present = set(trial.timepoints)
    if not set(BASELINE_SOURCES) & present:
        raise InputError("no baseline assessment: the data need values at eligibility or pre "
                         "(the two pre-randomization assessments)")


def _check_counts(bootstrap: int, mediation_bootstrap: int, seed: int) -> None:
    for name, value in (("bootstrap", bootstrap), ("mediation_bootstrap", mediation_bootstrap)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 0 <= value <= MAX_RESAMPLES:
            raise InputError(f"{name}: expected a whole number of resamples from 0 to {MAX_RESAMPLES:,}, "
                             f"got {value!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InputError(f"seed: expected a whole number 0 or more, got {seed!r}")


def dataset_of(trial) -> str:
    """What the data are: ``boulder-back-pain-study`` (the trial's own data, recognised by content),
    ``simulated`` (written by ``prt simulate``, which marks its output) or ``custom``."""
    from prt.analysis.published import is_published_trial

    if getattr(trial, "origin", None) == "simulated":
        return "simulated"
    return "boulder-back-pain-study" if is_published_trial(trial) else "custom"


def run_analysis(trial, *, bootstrap: int = 10_000, mediation_bootstrap: int = 5_000, seed: int = 0,
                 progress: Progress | None = None) -> AnalysisResults:
    """Every analysis of the trial (Ashar et al., JAMA Psychiatry 2022) as :class:`AnalysisResults`.

    Pure: reads no files. ``bootstrap`` resamples per Hedges g cell, ``mediation_bootstrap`` per
    mediation model, ``seed`` makes every resample reproducible whatever the input layout.
    ``progress(done, total)`` is called as resampling groups and mediation models finish (the CLI
    draws a progress bar with it). Gaps are warned (:class:`AnalysisSkippedWarning`).

    >>> import prt
    >>> trial = prt.simulate_trial(n=60, seed=7)
    >>> r = prt.run_analysis(trial, bootstrap=200, mediation_bootstrap=100, seed=1)
    >>> list(r.primary["comparison"])
    ['prt_vs_placebo', 'prt_vs_usual_care']
    >>> bool(r.primary["converged"].all()), r.meta["dataset"]
    (True, 'simulated')
    >>> pain = r.effects.query("outcome == 'pain_intensity' and timepoint == 'post'")
    >>> list(pain["comparison"])
    ['prt_vs_placebo', 'prt_vs_usual_care', 'placebo_vs_usual_care']
    """
    from prt import __version__

    _check_counts(bootstrap, mediation_bootstrap, seed)
    _check(trial)
    notes: list[str] = []
    outcomes = analysed_outcomes(trial)
    groups = effects.bootstrap_plan(trial, outcomes, seed)
    models = mediation.mediation_plan(trial, seed)
    total = len(groups) + len(models)
    done = 0

    def step(k: int = 1) -> None:
        nonlocal done
        done += k
        if progress is not None:
            progress(done, total)

    primary, fit = primary_analysis(trial, notes=notes)
    effect_records = effects.effects_from_plan(groups, outcomes, bootstrap, progress=step)
    mediation_records = []
    for model in models:
        mediation_records.append(mediation.fit_model(model, mediation_bootstrap))
        step(1)
    correlation_records = correlations.belief_pain_correlations(trial)
    moderation_records = moderation.moderation(trial)
    notes += _effect_gaps(trial, outcomes, effect_records)
    notes += _record_gaps(correlation_records, moderation_records, trial)
    if not models:
        notes.append("mediation skipped: no model had 8 or more participants with the mediator change, "
                     "the outcome and its baseline")
    for note in notes:
        warnings.warn(note, ConvergenceWarning if "converge" in note else AnalysisSkippedWarning, stacklevel=2)
    meta = {
        "dataset": dataset_of(trial),
        "n_randomized": int(len(trial.participants)),
        "bootstrap": int(bootstrap),
        "mediation_bootstrap": int(mediation_bootstrap),
        "seed": int(seed),
        "version": __version__,
        "layout": trial.layout,
        "warnings": list(notes),
    }
    return AnalysisResults(
        primary=records_frame("primary", primary),
        outcomes=records_frame("outcomes", effects.outcome_summaries(trial, outcomes, SUMMARY_TIMEPOINTS)),
        effects=records_frame("effects", effect_records),
        responders=records_frame("responders", responders.responders(trial)),
        correlations=records_frame("correlations", correlation_records),
        mediation=records_frame("mediation", mediation_records),
        moderation=records_frame("moderation", moderation_records),
        meta=meta,
        primary_model=fit,
        warnings=tuple(notes),
    )


def _effect_gaps(trial, outcomes, records) -> list[str]:
    """Cells measured in the data whose Hedges g could not be computed (< 2 changes in an arm)."""
    done = {(r["outcome"], r["timepoint"], r["comparison"]) for r in records}
    arm = trial.participants["arm"]
    notes = []
    for outcome in outcomes:
        table = with_baseline(trial, outcome)
        for timepoint in EFFECT_TIMEPOINTS:
            if timepoint not in table.columns:
                continue
            change = (table[timepoint] - table[BASELINE]).dropna()
            if change.empty:
                continue
            counts = arm.reindex(change.index).value_counts()
            for c in COMPARISONS:
                if (outcome, timepoint, c.name) in done:
                    continue
                n1, n2 = int(counts.get(c.first, 0)), int(counts.get(c.second, 0))
                notes.append(f"Hedges g skipped for {outcome_label(outcome)} at {timepoint}, {c.label}: "
                             f"{n1} and {n2} participants with the change (2 per arm needed)")
    return notes


def _record_gaps(correlation_records, moderation_records, trial) -> list[str]:
    notes = []
    for r in correlation_records:
        if not math.isfinite(r["r"]):
            notes.append(f"correlation of {r['x']} change with pain change in arm {r['group']} not computed: "
                         f"{r['df'] + 2} participant(s) with both changes (3 with variation needed)")
    for r in moderation_records:
        if not math.isfinite(r["estimate"]):
            notes.append(f"moderation by {r['moderator']} ({r['comparison']}) not estimable: {r['n']} "
                         "participant(s) with the change in pain and the moderator")
    if not correlation_records and set(trial.outcomes) & {"tsk11", "pcs", "sopa_emotion"}:
        notes.append("belief-pain correlations skipped: no pain values at post")
    return notes


__all__ = ["run_analysis", "primary_analysis", "primary_frame", "analysed_outcomes", "dataset_of",
           "jsonable", "with_baseline", "PRIMARY_TERMS", "SUMMARY_TIMEPOINTS", "Progress"]
