"""The trial's analyses end to end: one pure function from :class:`TrialData` to a results dict.

Follows the Statistical Analyses of Ashar et al. (JAMA Psychiatry 2022) and the protocol notes:
baseline (:mod:`prt.analysis.baseline`), the primary ITT mixed model (:mod:`prt.analysis.mixed`),
Table 2 summaries and Hedges g (:mod:`prt.analysis.effects`), responders, belief-pain
correlations, mediation and moderation. ``results`` is what ``prt analyze`` writes to
``results.json`` (record shapes in ``docs/analysis.md``); :func:`jsonable` makes it valid JSON.
"""

from __future__ import annotations

import math
import sys
from typing import Any

import numpy as np
import pandas as pd

from prt.analysis import correlations, effects, mediation, moderation, responders
from prt.analysis.baseline import BASELINE_SOURCES, with_baseline
from prt.errors import InputError

PRIMARY_OUTCOME = "pain_intensity"
#: The primary model's two interactions and the comparisons they report (PRT is the reference,
#: so a positive t means the control arm improved less; Ashar et al. 2022).
PRIMARY_TERMS = (("prt_vs_placebo", "time:placebo"), ("prt_vs_usual_care", "time:usual_care"))


def analysed_outcomes(trial) -> list[str]:
    """The Table 2 outcomes present in the data, in the paper's order."""
    from prt.data import OUTCOMES

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


def primary_analysis(trial, outcome: str = PRIMARY_OUTCOME) -> list[dict]:
    """Records ``{comparison, estimate, se, t, df, p, n_obs, n_participants}`` of the two interactions.

    REML, random intercept per participant, ``y ~ 1 + age + sex + time * arm``, Satterthwaite df.
    """
    from prt.analysis.mixed import design_primary, fit_random_intercept

    frame = primary_frame(trial, outcome)
    arms_present = set(frame["arm"])
    if frame.empty or not {"prt", "placebo", "usual_care"} <= arms_present or set(frame["time"]) != {"pre", "post"}:
        return []  # the model needs all three arms at both times
    y, X, groups, names = design_primary(frame)
    fit = fit_random_intercept(y, X, groups, names, reml=True)
    records = []
    for comparison, term in PRIMARY_TERMS:
        test = fit.test(term)
        records.append({
            "comparison": comparison, "estimate": float(test.estimate), "se": float(test.se),
            "t": float(test.t), "df": float(test.df), "p": float(test.p),
            "n_obs": int(fit.n_obs), "n_participants": int(fit.n_groups),
        })
    return records


def _check(trial) -> None:
    if PRIMARY_OUTCOME not in set(trial.outcomes):
        raise InputError(f"no {PRIMARY_OUTCOME} values in the data: the analysis needs the pain outcome "
                         "(REDCap field pain_avg in the built-in mapping)")
    present = set(trial.timepoints)
    if not set(BASELINE_SOURCES) & present:
        raise InputError("no baseline assessment: the data need values at eligibility or pre "
                         "(the two pre-randomization assessments)")


def _progress_bar(total: int, enabled: bool):
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc="bootstrap", unit="model", file=sys.stderr, leave=False)


def run_analysis(trial, *, bootstrap: int = 10_000, mediation_bootstrap: int = 5_000, seed: int = 0,
                 progress: bool = False) -> dict:
    """Every analysis of the trial: ``{primary, outcomes, effects, responders, correlations,
    mediation, moderation, meta}`` (shapes in docs/analysis.md). Pure: no files; with
    ``progress`` a tqdm bar on stderr counts the resampling groups and mediation models.
    """
    from prt import __version__
    from prt.data import BOULDER_MAPPING

    if bootstrap < 0 or mediation_bootstrap < 0:
        raise InputError("--bootstrap and --mediation-bootstrap must be 0 or more resamples")
    _check(trial)
    outcomes = analysed_outcomes(trial)
    groups = effects.bootstrap_plan(trial, outcomes, seed)
    models = mediation.mediation_plan(trial, seed)
    bar = _progress_bar(len(groups) + len(models), progress)
    step = bar.update if bar is not None else None
    try:
        primary = primary_analysis(trial)
        effect_records = effects.effects_from_plan(groups, outcomes, bootstrap, progress=step)
        mediation_records = []
        for model in models:
            mediation_records.append(mediation.fit_model(model, mediation_bootstrap))
            if step is not None:
                step(1)
    finally:
        if bar is not None:
            bar.close()
    return {
        "primary": primary,
        "outcomes": effects.outcome_summaries(trial, outcomes),
        "effects": effect_records,
        "responders": responders.responders(trial),
        "correlations": correlations.belief_pain_correlations(trial),
        "mediation": mediation_records,
        "moderation": moderation.moderation(trial),
        "meta": {
            "dataset": "boulder-back-pain-study" if trial.mapping.name == BOULDER_MAPPING.name else "custom",
            "n_randomized": int(len(trial.participants)),
            "bootstrap": int(bootstrap),
            "mediation_bootstrap": int(mediation_bootstrap),
            "seed": int(seed),
            "version": __version__,
            "layout": trial.layout,
        },
    }


def jsonable(value: Any) -> Any:
    """Results as plain JSON values: NaN and infinities become None, numpy scalars Python ones."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else None
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    return value


__all__ = ["run_analysis", "jsonable", "primary_analysis", "primary_frame", "analysed_outcomes",
           "with_baseline"]
