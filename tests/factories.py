"""The one factory of small synthetic trials for tests (instead of a helper per test file).

``make_trial`` builds a :class:`TrialData` with ``n`` participants per arm, integer-valued scores
inside each outcome's declared range (prt.vocabulary, from the instrument definitions), a
built-in treatment effect (PRT's score falls most) and optional gaps, all from one seed.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from prt.data import TrialData
from prt.vocabulary import ARMS, outcome_range

#: Per outcome: (baseline centre, spread, how many points one unit of arm effect lowers it).
_SCALES = {
    "pain_intensity": (6.0, 1.5, 1.0),
    "tsk11": (30.0, 3.0, 2.0),
    "odi": (30.0, 6.0, 4.0),
    "pcs": (20.0, 6.0, 3.0),
    "sopa_emotion": (6.0, 1.5, 0.5),
}
#: Arm effect units (PRT falls most; Ashar et al. 2022's ordering).
EFFECTS = {"prt": 3.0, "placebo": 1.0, "usual_care": 0.3}


def make_trial(n: int = 15, seed: int = 0, *, outcomes: Sequence[str] = ("pain_intensity", "tsk11"),
               follow_ups: Sequence[str] = ("post", "1mo", "12mo"), effects: dict | None = None,
               dropout: float = 0.0, remove: Iterable[tuple[str, str, str]] = (),
               integer: bool = True, id_format: str | None = None, covariates: bool = False) -> TrialData:
    """A small three-arm trial: ids "1".."3n", arms in blocks of ``n``, age 20-69, sex random.

    ``dropout``: chance that a participant misses each follow-up visit (all outcomes);
    ``remove``: (participant, timepoint, outcome) values to leave out; ``integer``: round scores;
    ``id_format``: e.g. ``"SECRET-{arm}-{i:03d}"`` (ids that must never reach a report);
    ``covariates``: add Table 1's coded fields (education, employment, opioid use, back pain years).
    """
    rng = np.random.default_rng(seed)
    effects = EFFECTS if effects is None else effects
    arms = np.repeat(list(ARMS), n)
    if id_format is None:
        ids = [str(i + 1) for i in range(3 * n)]
    else:
        ids = [id_format.format(arm=arm[:2].upper(), i=i % n) for i, arm in enumerate(arms)]
    participants = pd.DataFrame({"participant": ids, "arm": arms,
                                 "age": rng.integers(20, 70, 3 * n).astype(float),
                                 "sex": rng.choice(["male", "female"], 3 * n)})
    if covariates:
        participants = participants.assign(
            education=rng.choice([2.0, 3.0], 3 * n),
            employment_status=rng.choice([1.0, 2.0, 3.0], 3 * n),
            current_opioid_use=rng.choice([0.0, 1.0, np.nan], 3 * n, p=[0.8, 0.1, 0.1]),
            backpain_length=rng.uniform(0.5, 30, 3 * n).round(1),
            is_patient=np.ones(3 * n))
    gone = set(remove)
    rows = []
    for pid, arm in zip(ids, arms):
        centre = {o: rng.normal(_SCALES[o][0], _SCALES[o][1]) for o in outcomes}
        for timepoint in ("eligibility", "pre", *follow_ups):
            if timepoint in follow_ups and rng.random() < dropout:
                continue
            for o in outcomes:
                value = centre[o] + rng.normal(0, 0.5 * _SCALES[o][1])
                if timepoint in follow_ups:
                    value -= _SCALES[o][2] * effects[arm]
                low, high = outcome_range(o)
                value = float(np.clip(np.round(value) if integer else value, low, high))
                if (pid, timepoint, o) not in gone:
                    rows.append((pid, timepoint, o, value))
    measures = pd.DataFrame(rows, columns=["participant", "timepoint", "outcome", "value"])
    return TrialData.from_frames(participants, measures)


def in_range(measures: pd.DataFrame) -> pd.DataFrame:
    """Measures with each value clipped into its outcome's declared range (out-of-range is an error)."""
    bounds = measures["outcome"].map(lambda o: outcome_range(o) or (-np.inf, np.inf))
    low = bounds.map(lambda b: b[0]).astype(float)
    high = bounds.map(lambda b: b[1]).astype(float)
    return measures.assign(value=measures["value"].astype(float).clip(low, high))
