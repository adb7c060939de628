"""The attribution analysis of Ashar et al. (JAMA Network Open 2023) on any coding, with prt's engine.

From coded answers (human or automatic, one of the 17 categories each):

- per participant and timepoint the mind-brain score, 0-3: how many of the three answers are
  psychological, stress or brain; defined only when all three are coded (the study's
  ``mindbrain_attr_score_from_cats`` is undefined otherwise);
- per arm and timepoint the share of mind-brain attributions (sum of scores / 3 n) and of
  participants with any (score >= 1);
- the change pre -> post between arms: Hedges g with bootstrap SE and CI from the analysis engine
  (:func:`prt.analysis.effects.effect_sizes`; participants with both scores);
- the study's regression of the z-scored change on arm + age + sex (ordinary least squares,
  PRT the reference arm; :func:`prt.analysis.moderation.ols`);
- within each arm, the correlation of the score change with the pain change pre -> post
  (:func:`prt.analysis.correlations.belief_pain_correlations`);
- mediation of the arm effect on 12-month pain by the score change, BCa bootstrap
  (:mod:`prt.analysis.mediation`): PRT vs each control and, as the study did, vs both controls.

Nothing here re-implements a statistic: the score is added to the trial as one more outcome
(``mind_brain_score`` at ``pre`` and ``post``) and the engine's functions run on it.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
from scipy import stats

from prt.attribution.scheme import SCHEME, Scheme
from prt.errors import InputError
from prt.vocabulary import ARMS, PRIMARY_OUTCOME

#: The outcome name the score takes inside the engine.
SCORE = "mind_brain_score"
#: The two assessments of the causal item (pretreatment and posttreatment).
TIMEPOINTS = ("pre", "post")
#: Mediation follow-up: pain 12 months after treatment (Ashar et al. 2023).
MEDIATION_FOLLOW_UP = "12mo"


# ------------------------------------------------------------------------------ codes and scores
def codes_from(answers: pd.DataFrame, coding: pd.DataFrame | None = None) -> pd.DataFrame:
    """Codes for the analysis: participant, timepoint, slot, category (from ``coding`` if given,
    else the answers' own ``category``, i.e. the human codes)."""
    if coding is None:
        if "category" not in answers.columns:
            raise InputError("the answers carry no categories to analyse")
        category = answers["category"].to_numpy(object)
    else:
        if len(coding) != len(answers):
            raise InputError("the coding and the answers differ in length")
        category = coding["category"].to_numpy(object)
    frame = answers[["participant", "timepoint", "slot"]].copy()
    frame["category"] = category
    if frame["participant"].isna().any() or frame["timepoint"].isna().any():
        raise InputError("the analysis needs each answer's participant and timepoint")
    return frame.reset_index(drop=True)


def check_codes(trial, codes: pd.DataFrame) -> None:
    """Every coded answer belongs to a participant of the trial (else an InputError naming it)."""
    unknown = set(codes["participant"]) - set(trial.participants.index)
    if unknown:
        raise InputError(f"record {sorted(map(str, unknown))[0]}: coded answers for a participant not in the trial")


def scores(codes: pd.DataFrame, scheme: Scheme = SCHEME) -> pd.DataFrame:
    """One row per participant and timepoint: ``participant, timepoint, answers, mind_brain_score``.

    The score is NaN unless all three answers are coded (the study's rule).
    """
    mb = codes["category"].map(scheme.is_mind_brain).astype(float)
    grouped = codes.assign(mb=mb).groupby(["participant", "timepoint"], sort=False)
    out = grouped.agg(answers=("mb", "size"), score=("mb", "sum")).reset_index()
    full = out["answers"] == scheme.answers_per_participant
    out[SCORE] = out["score"].where(full, np.nan)
    return out[["participant", "timepoint", "answers", SCORE]]


def score_trial(trial, codes: pd.DataFrame, scheme: Scheme = SCHEME):
    """The trial with the mind-brain score added as the outcome :data:`SCORE` at pre and post."""
    check_codes(trial, codes)
    table = scores(codes, scheme)
    table = table[table[SCORE].notna() & table["timepoint"].isin(TIMEPOINTS)]
    rows = pd.DataFrame({"participant": table["participant"].to_numpy(), "timepoint": table["timepoint"].to_numpy(),
                         "outcome": SCORE, "value": table[SCORE].to_numpy(float)})
    measures = trial.measures[trial.measures["outcome"] != SCORE]
    return dataclasses.replace(trial, measures=pd.concat([measures, rows], ignore_index=True))


def score_table(trial, codes: pd.DataFrame, scheme: Scheme = SCHEME) -> pd.DataFrame:
    """Per participant: arm, score at pre and post, change (post - pre) (NaN where missing)."""
    check_codes(trial, codes)
    table = scores(codes, scheme).pivot(index="participant", columns="timepoint", values=SCORE)
    table = table.reindex(index=trial.participants.index, columns=list(TIMEPOINTS))
    table.columns.name = None
    table.insert(0, "arm", trial.participants["arm"])
    table["change"] = table["post"] - table["pre"]
    return table


# ------------------------------------------------------------------------------ shares
def shares(trial, codes: pd.DataFrame, scheme: Scheme = SCHEME) -> pd.DataFrame:
    """Per arm and timepoint: ``arm, timepoint, n, mind_brain_answers, share_mind_brain,
    participants_any, share_any, mean_score, sd_score`` (participants with a score)."""
    table = score_table(trial, codes, scheme)
    rows = []
    for timepoint in TIMEPOINTS:
        for arm in ARMS:
            s = table.loc[table["arm"] == arm, timepoint].dropna().to_numpy(float)
            n = len(s)
            rows.append({
                "arm": arm, "timepoint": timepoint, "n": n,
                "mind_brain_answers": int(s.sum()),
                "share_mind_brain": float(s.sum() / (scheme.answers_per_participant * n)) if n else math.nan,
                "participants_any": int((s >= 1).sum()),
                "share_any": float((s >= 1).mean()) if n else math.nan,
                "mean_score": float(s.mean()) if n else math.nan,
                "sd_score": float(s.std(ddof=1)) if n > 1 else math.nan,
            })
    return pd.DataFrame(rows)


def category_shares(trial, codes: pd.DataFrame, *, merged: bool = True, scheme: Scheme = SCHEME) -> pd.DataFrame:
    """Share of each category among the answers of each arm and timepoint (``arm, timepoint,
    category, answers, share``); ``merged``: the 12 analysis categories, else the 17."""
    check_codes(trial, codes)
    arm = codes["participant"].map(trial.participants["arm"])
    category = codes["category"].map(scheme.merge_12) if merged else codes["category"]
    names = scheme.categories_12 if merged else scheme.ids
    rows = []
    for timepoint in TIMEPOINTS:
        for a in ARMS:
            members = category[(arm == a) & (codes["timepoint"] == timepoint)]
            total = len(members)
            counts = members.value_counts()
            for c in names:
                k = int(counts.get(c, 0))
                rows.append({"arm": a, "timepoint": timepoint, "category": c, "answers": k,
                             "share": k / total if total else math.nan})
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------ inference (engine)
def effects(trial, codes: pd.DataFrame, *, n_resamples: int = 10_000, seed: int = 0,
            scheme: Scheme = SCHEME) -> pd.DataFrame:
    """Hedges g of the score change pre -> post between arms, the engine's bootstrap SE and CI.

    g > 0: the first arm's score rose more (more mind-brain attributions).
    """
    from prt.analysis.effects import as_frame, effect_sizes

    scored = score_trial(trial, codes, scheme)
    if SCORE not in set(scored.measures["outcome"]):
        return pd.DataFrame(columns=["outcome", "timepoint", "comparison", "g", "se", "ci_low", "ci_high", "p", "n1", "n2"])
    return as_frame(effect_sizes(scored, [SCORE], n_resamples=n_resamples, seed=seed, timepoints=("post",)))


def regression(trial, codes: pd.DataFrame, scheme: Scheme = SCHEME) -> pd.DataFrame:
    """The study's model: z(score change) ~ arm + age + sex (OLS; PRT the reference; female = 1).

    Rows per term (``placebo``, ``usual_care``, ``age``, ``female``): estimate, se, t, df, p, n.
    A negative arm estimate: that arm's score rose less than PRT's (in SD of the change).
    """
    from prt.analysis.moderation import ols

    table = score_table(trial, codes, scheme)
    people = trial.participants.reindex(table.index)
    female = np.where(people["sex"] == "female", 1.0, np.where(people["sex"] == "male", 0.0, np.nan))
    change, age = table["change"].to_numpy(float), people["age"].to_numpy(float)
    ok = np.isfinite(change) & np.isfinite(age) & np.isfinite(female)
    arm = table["arm"].to_numpy(object)[ok]
    y = change[ok]
    columns = ["term", "estimate", "se", "t", "df", "p", "n"]
    if len(y) < 6 or y.std(ddof=1) == 0:
        return pd.DataFrame(columns=columns)
    y = (y - y.mean()) / y.std(ddof=1)
    X = np.column_stack([np.ones(len(y)), arm == "placebo", arm == "usual_care", age[ok], female[ok]]).astype(float)
    beta, cov, df = ols(y, X)
    rows = []
    for j, term in enumerate(("intercept", "placebo", "usual_care", "age", "female")):
        se = float(np.sqrt(cov[j, j])) if np.isfinite(cov[j, j]) else math.nan
        t = float(beta[j] / se) if se and np.isfinite(se) else math.nan
        p = float(2 * stats.t.sf(abs(t), df)) if np.isfinite(t) else math.nan
        rows.append({"term": term, "estimate": float(beta[j]), "se": se, "t": t, "df": int(df), "p": p, "n": int(len(y))})
    return pd.DataFrame(rows, columns=columns)


def pain_correlations(trial, codes: pd.DataFrame, scheme: Scheme = SCHEME) -> pd.DataFrame:
    """Within each arm, Pearson r of the score change with the pain change pre -> post (engine)."""
    from prt.analysis.correlations import belief_pain_correlations

    scored = score_trial(trial, codes, scheme)
    records = belief_pain_correlations(scored, beliefs=(SCORE,), outcome=PRIMARY_OUTCOME, timepoint="post")
    return pd.DataFrame(records, columns=["x", "y", "group", "r", "df", "p", "timepoint"])


def mediation(trial, codes: pd.DataFrame, *, n_resamples: int = 5_000, seed: int = 0,
              scheme: Scheme = SCHEME) -> pd.DataFrame:
    """Does the score change mediate the arm effect on 12-month pain? The engine's BCa mediation.

    X = PRT (1) vs control (0); M = score change pre -> post (z); Y = pain at 12 months (z),
    adjusted for baseline pain. Comparisons: PRT vs placebo, vs usual care, and vs both controls
    together (``prt_vs_controls``, the study's model).
    """
    from prt.analysis.mediation import fit_model, mediation_plan

    scored = score_trial(trial, codes, scheme)
    if PRIMARY_OUTCOME not in set(scored.measures["outcome"]):
        return pd.DataFrame()
    records = []
    pooled = dataclasses.replace(scored, participants=scored.participants.assign(
        arm=scored.participants["arm"].replace({"usual_care": "placebo"})))
    for trial_used, rename in ((scored, {}), (pooled, {"prt_vs_placebo": "prt_vs_controls"})):
        for model in mediation_plan(trial_used, seed, beliefs=(SCORE,), outcome=PRIMARY_OUTCOME,
                                    follow_ups=(MEDIATION_FOLLOW_UP,)):
            if model.direction != "belief_mediates_pain":
                continue
            if rename and model.comparison not in rename:
                continue
            record = fit_model(model, n_resamples)
            record["comparison"] = rename.get(record["comparison"], record["comparison"])
            records.append(record)
    return pd.DataFrame(records)


# ------------------------------------------------------------------------------ results
def attribution_results(trial, codes: pd.DataFrame, *, bootstrap: int = 10_000, mediation_bootstrap: int = 5_000,
                        seed: int = 0, scheme: Scheme = SCHEME) -> dict:
    """Every table of the attribution analysis as records (for ``results.json`` under ``attributions``)."""
    from prt.analysis.results import jsonable

    tables = {
        "shares": shares(trial, codes, scheme),
        "categories": category_shares(trial, codes, scheme=scheme),
        "effects": effects(trial, codes, n_resamples=bootstrap, seed=seed, scheme=scheme),
        "regression": regression(trial, codes, scheme),
        "correlations": pain_correlations(trial, codes, scheme),
        "mediation": mediation(trial, codes, n_resamples=mediation_bootstrap, seed=seed, scheme=scheme),
    }
    table = score_table(trial, codes, scheme)
    out = {name: jsonable(frame.to_dict("records")) for name, frame in tables.items()}
    out["scores"] = jsonable(table.reset_index().to_dict("records"))
    out["meta"] = {"scheme": scheme.id, "bootstrap": bootstrap, "mediation_bootstrap": mediation_bootstrap,
                   "seed": seed, "n_answers": int(len(codes)),
                   "n_with_both": int(table["change"].notna().sum())}
    return out


def compare_codings(trial, codings: dict[str, pd.DataFrame], *, bootstrap: int = 2_000, seed: int = 0,
                    scheme: Scheme = SCHEME) -> pd.DataFrame:
    """The headline numbers side by side, one column per coding (``{"human": codes, "lemma": ...}``):
    share of mind-brain attributions per arm and timepoint, Hedges g of the change vs each
    control (with 95% CI), and the within-PRT correlation of score change with pain change."""
    columns = {}
    for name, codes in codings.items():
        values: dict[str, float] = {}
        for r in shares(trial, codes, scheme).to_dict("records"):
            values[f"share {r['arm']} {r['timepoint']}"] = r["share_mind_brain"]
        for r in effects(trial, codes, n_resamples=bootstrap, seed=seed, scheme=scheme).to_dict("records"):
            values[f"g {r['comparison']}"] = r["g"]
            values[f"g {r['comparison']} ci_low"] = r["ci_low"]
            values[f"g {r['comparison']} ci_high"] = r["ci_high"]
        for r in pain_correlations(trial, codes, scheme).to_dict("records"):
            if r["group"] == "prt":
                values["r prt score change vs pain change"] = r["r"]
        columns[name] = pd.Series(values, dtype=float)
    return pd.DataFrame(columns)
