"""The trial's vocabulary, defined once: arms, sexes, timepoints, comparisons, beliefs, outcomes.

Every part of prt (reader, analysis, report, trial operations) takes these names, labels and
orders from here. Outcome labels and score ranges are not written here but derived from the
instrument definitions (``prt/instruments/definitions/*.yaml``), which declare them with their
sources; :data:`OUTCOME_SCORES` only says which instrument score each analysed outcome is.
Names follow Ashar et al. (JAMA Psychiatry 2022) and its supplement.
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

#: The three arms of a PRT trial, in the paper's order.
ARMS = ("prt", "placebo", "usual_care")
#: Short labels (tables, figures) and full names (CONSORT, methods text).
ARM_LABELS = {"prt": "PRT", "placebo": "Placebo", "usual_care": "Usual care"}
ARM_NAMES = {"prt": "Pain Reprocessing Therapy", "placebo": "Open-label placebo", "usual_care": "Usual care"}

SEXES = ("male", "female")

#: Assessment timepoints as captured, in study order (eligibility and pre are before randomization).
TIMEPOINTS = ("eligibility", "pre", "post", "1mo", "2mo", "3mo", "6mo", "12mo")
#: The two pre-randomization assessments averaged into the analysis's baseline (Ashar et al. 2022).
BASELINE_SOURCES = ("eligibility", "pre")
#: The derived timepoint: mean of :data:`BASELINE_SOURCES` where present.
BASELINE = "baseline"
#: Timepoints whose change from baseline is compared (Table 2: posttreatment and follow-ups).
EFFECT_TIMEPOINTS = ("post", "1mo", "2mo", "3mo", "6mo", "12mo")
#: Follow-up assessments after posttreatment.
FOLLOW_UPS = ("1mo", "2mo", "3mo", "6mo", "12mo")
#: Every timepoint a result can carry, in display order.
TIMEPOINT_ORDER = (BASELINE, *TIMEPOINTS)
TIMEPOINT_LABELS = {
    "baseline": "Baseline",
    "eligibility": "Eligibility",
    "pre": "Pretreatment",
    "post": "Posttreatment",
    "1mo": "1 month",
    "2mo": "2 months",
    "3mo": "3 months",
    "6mo": "6 months",
    "12mo": "12 months",
}
#: Short forms for figure axes.
TIMEPOINT_SHORT_LABELS = {
    "baseline": "Baseline", "eligibility": "Elig.", "pre": "Pre", "post": "Post", "1mo": "1 mo",
    "2mo": "2 mo", "3mo": "3 mo", "6mo": "6 mo", "12mo": "12 mo",
}


class Comparison(NamedTuple):
    """A between-arm comparison: ``first`` minus ``second`` (g < 0: the first arm's score fell more)."""

    name: str
    first: str
    second: str

    @property
    def label(self) -> str:
        return COMPARISON_LABELS[self.name]


#: The comparisons the engine reports, in the paper's order.
COMPARISONS = (
    Comparison("prt_vs_placebo", "prt", "placebo"),
    Comparison("prt_vs_usual_care", "prt", "usual_care"),
    Comparison("placebo_vs_usual_care", "placebo", "usual_care"),
)
#: PRT against each control: the primary model's and the mediation's comparisons.
PRT_COMPARISONS = COMPARISONS[:2]
COMPARISON_NAMES = tuple(c.name for c in COMPARISONS)
COMPARISON_LABELS = {
    "prt_vs_placebo": "PRT vs placebo",
    "prt_vs_usual_care": "PRT vs usual care",
    "placebo_vs_usual_care": "Placebo vs usual care",
}

#: The primary outcome: BPI average pain over the last week (Ashar et al. 2022).
PRIMARY_OUTCOME = "pain_intensity"

#: Pain-related beliefs tested as mediators and correlates of pain change (Ashar et al. 2022).
BELIEFS = ("tsk11", "pcs", "sopa_emotion")

#: Every outcome prt reads from trial data -> (instrument id, score: "total" or a subscale name).
#: The REDCap field and the declared range come from that instrument's ``data_fields`` and scoring.
OUTCOME_SCORES = {
    "pain_intensity": ("bpi_sf", "average_pain"),
    "odi": ("odi", "total"),
    "promis_depression": ("promis_depression", "total"),
    "promis_anger": ("promis_anger", "total"),
    "promis_anxiety": ("promis_anxiety", "total"),
    "promis_sleep": ("promis_sleep", "total"),
    "tsk11": ("tsk11", "total"),
    "pcs": ("pcs", "total"),
    "sopa_emotion": ("sopa_emotion", "total"),
    "panas_positive": ("panas_sf", "positive_affect"),
    "panas_negative": ("panas_sf", "negative_affect"),
    "bpi_interference": ("bpi_sf", "interference"),
    "bpi_intensity": ("bpi_sf", "severity"),
    "pgic": ("pgic", "total"),
    "ceq": ("ceq", "total"),
    "tx_satisfaction": ("tx_satisfaction", "total"),
}
#: Outcomes the analysis engine reports, in the paper's Table 2 order.
OUTCOMES = tuple(OUTCOME_SCORES)[:12]

#: Names of the outcomes in the paper's words (the range is appended from the instrument).
_OUTCOME_NAMES = {
    "pain_intensity": "Pain intensity (BPI average pain",
    "odi": "Oswestry Disability Index (",
    "promis_depression": "PROMIS depression (8a raw score",
    "promis_anger": "PROMIS anger (5a raw score",
    "promis_anxiety": "PROMIS anxiety (8a raw score",
    "promis_sleep": "PROMIS sleep disturbance (8a raw score",
    "tsk11": "Tampa Scale of Kinesiophobia (TSK-11",
    "pcs": "Pain Catastrophizing Scale (",
    "sopa_emotion": "SOPA emotion subscale (",
    "panas_positive": "PANAS positive affect (",
    "panas_negative": "PANAS negative affect (",
    "bpi_interference": "BPI pain interference (",
    "bpi_intensity": "BPI pain severity (",
    "pgic": "Patient Global Impression of Change (",
    "ceq": "Expected improvement (CEQ",
    "tx_satisfaction": "Treatment satisfaction (",
}


def outcome_range(outcome: str) -> tuple[float, float] | None:
    """The declared score range of an analysed outcome, from its instrument definition (None if unknown)."""
    return _outcome_ranges().get(outcome)


def outcome_label(outcome: str) -> str:
    """Display label with the range, e.g. ``Pain intensity (BPI average pain, 0-10)``; unknown: the name."""
    name = _OUTCOME_NAMES.get(outcome)
    if name is None:
        return outcome
    bounds = outcome_range(outcome)
    span = f"{bounds[0]:g}-{bounds[1]:g}" if bounds else ""
    sep = "" if name.endswith("(") or not span else ", "
    return f"{name}{sep}{span})"


def outcome_ranges() -> dict[str, tuple[float, float]]:
    """Declared range of every outcome in :data:`OUTCOME_SCORES` (from the instrument definitions)."""
    return dict(_outcome_ranges())


def redcap_fields() -> dict[str, str]:
    """REDCap field -> outcome name, from each instrument's ``data_fields`` (e.g. pain_avg -> pain_intensity)."""
    return dict(_redcap_fields())


@lru_cache(maxsize=1)
def _outcome_ranges() -> dict[str, tuple[float, float]]:
    from prt.instruments import get

    out = {}
    for outcome, (instrument, score) in OUTCOME_SCORES.items():
        bounds = get(instrument).range_of(score)
        if bounds is not None:
            out[outcome] = (float(bounds[0]), float(bounds[1]))
    return out


@lru_cache(maxsize=1)
def _redcap_fields() -> dict[str, str]:
    from prt.instruments import get

    return {get(instrument).data_fields[score]: outcome
            for outcome, (instrument, score) in OUTCOME_SCORES.items()}


__all__ = [
    "ARMS", "ARM_LABELS", "ARM_NAMES", "SEXES", "TIMEPOINTS", "BASELINE", "BASELINE_SOURCES",
    "EFFECT_TIMEPOINTS", "FOLLOW_UPS", "TIMEPOINT_ORDER", "TIMEPOINT_LABELS", "TIMEPOINT_SHORT_LABELS",
    "Comparison", "COMPARISONS", "PRT_COMPARISONS", "COMPARISON_NAMES", "COMPARISON_LABELS",
    "PRIMARY_OUTCOME", "BELIEFS", "OUTCOME_SCORES", "OUTCOMES", "outcome_range", "outcome_label",
    "outcome_ranges", "redcap_fields",
]
