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
