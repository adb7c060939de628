"""The paper's published figures, in the record shapes of ``results.json``, for side-by-side display.

Only figures quoted in the project's issue from the paper are listed (each was reproduced from the
public data by the engine, see tests/analysis/test_published_results.py); ``None`` = not reported
there. Signs follow the engine: t > 0 = the control arm improved less than PRT; g < 0 = PRT's
score fell more.
"""

from __future__ import annotations

CITATION = (
    "Ashar YK, Gordon A, Schubiner H, et al. Effect of Pain Reprocessing Therapy vs Placebo and Usual "
    "Care for Patients With Chronic Back Pain: A Randomized Clinical Trial. JAMA Psychiatry. "
    "2022;79(1):13-23. doi:10.1001/jamapsychiatry.2021.2669"
)

PUBLISHED = {
    # Primary ITT mixed model, time x group interaction (Results, "Primary outcome").
    "primary": [
        {"comparison": "prt_vs_placebo", "t": 6.06, "df": 137.63},
        {"comparison": "prt_vs_usual_care", "t": 8.13, "df": 135.69},
    ],
    # Hedges g of the change from baseline (Table 2).
    "effects": [
        {"outcome": "pain_intensity", "timepoint": "post", "comparison": "prt_vs_placebo", "g": -1.14, "se": 0.24},
        {"outcome": "pain_intensity", "timepoint": "post", "comparison": "prt_vs_usual_care", "g": -1.75, "se": None},
        {"outcome": "pain_intensity", "timepoint": "12mo", "comparison": "prt_vs_placebo", "g": -0.70, "se": None},
        {"outcome": "pain_intensity", "timepoint": "12mo", "comparison": "prt_vs_usual_care", "g": -1.05, "se": None},
        {"outcome": "tsk11", "timepoint": "post", "comparison": "prt_vs_placebo", "g": -1.90, "se": None},
        {"outcome": "tsk11", "timepoint": "post", "comparison": "prt_vs_usual_care", "g": -1.67, "se": None},
    ],
    # Pain-free or nearly pain-free (pain 0 or 1) at posttreatment; denominators all randomized.
    "responders": [
        {"timepoint": "post", "group": "prt", "criterion": "pain_free", "responders": 33, "randomized": 50},
        {"timepoint": "post", "group": "placebo", "criterion": "pain_free", "responders": 10, "randomized": 51},
        {"timepoint": "post", "group": "usual_care", "criterion": "pain_free", "responders": 5, "randomized": 50},
    ],
    # Within-PRT correlation of the change in fear of movement with the change in pain.
    "correlations": [
        {"x": "tsk11", "y": "pain_intensity", "group": "prt", "r": 0.44, "df": 42, "p": 0.003},
    ],
}


#: SHA-256 of the trial's own data as :func:`content_fingerprint` sees it (the shared public export,
#: whatever its layout). The published comparison is shown only for these data (identified by
#: content, not by the mapping's name: a simulated or other trial in the same layout is not it).
BOULDER_FINGERPRINT = "ef2ea02a6d770e09af25f719d738f5816161140e63d3b864633b40cfbcec5c9a"


def content_fingerprint(trial) -> str:
    """A digest of who was randomized to which arm and every primary-outcome value they gave.

    Layout-independent (flat, long and tidy files of the same data give the same digest): ids,
    arms and pain values are put in one canonical order and rounded to 6 decimals first.
    """
    import hashlib

    from prt.vocabulary import PRIMARY_OUTCOME

    arms = trial.participants["arm"]
    pain = trial.measures[trial.measures["outcome"] == PRIMARY_OUTCOME]
    h = hashlib.sha256()
    for pid in sorted(arms.index):
        h.update(f"{pid}\t{arms[pid]}\n".encode())
    rows = sorted(zip(pain["participant"], pain["timepoint"], pain["value"].round(6)))
    for pid, timepoint, value in rows:
        h.update(f"{pid}\t{timepoint}\t{value:.6f}\n".encode())
    return h.hexdigest()


def is_published_trial(trial) -> bool:
    """Whether the data are the Boulder Back Pain Study's own (Ashar et al. 2022), by content."""
    return content_fingerprint(trial) == BOULDER_FINGERPRINT
