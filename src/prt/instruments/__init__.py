"""The trial's measures as data, and their scoring.

Every instrument the trial used is declared in ``definitions/<id>.yaml`` (items, codes, reversed
items, subscales, the published missing-item rule, score range, bands, source), loaded and
validated at import. ``score(id, responses)`` scores one administration; ``questionnaire(id)``
exports a FHIR R4 Questionnaire and ``score_questionnaire_response(resource)`` scores a FHIR
QuestionnaireResponse. See docs/instruments.md.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from prt.errors import InputError
from prt.instruments.model import (
    Band,
    CaptureVariant,
    Instrument,
    Interpretation,
    Item,
    MissingRule,
    Scoring,
    TScoreTable,
    load_all,
    load_instrument,
)
from prt.instruments.scoring import (
    ScoreResult,
    normalize_responses,
    quoted,
    responses_from_json,
    score_instrument,
)

#: Every packaged instrument, by id (loaded and validated at import: a bad file fails loudly).
INSTRUMENTS: dict[str, Instrument] = load_all()

# FHIR exchange and site wording use INSTRUMENTS through get(), so they are imported after it.
from prt.instruments.fhir import (  # noqa: E402
    questionnaire,
    questionnaire_response,
    responses_from_fhir,
    score_questionnaire_response,
)
from prt.instruments.wording import Wording, item_texts, load_wording  # noqa: E402


def ids() -> tuple[str, ...]:
    """The ids of every packaged instrument, sorted."""
    return tuple(sorted(INSTRUMENTS))


def get(instrument_id: str) -> Instrument:
    """The definition of one instrument; InputError naming the id and the known ids if unknown."""
    try:
        return INSTRUMENTS[instrument_id]
    except (KeyError, TypeError):
        raise InputError(f"unknown instrument {quoted(instrument_id)}; known: {', '.join(ids())}") from None


def score(instrument_id: str, responses: Any, *, variant: str | None = None) -> ScoreResult:
    """Score one administration: ``responses`` maps item numbers (str or int) to codes.

    Missing items are absent keys, None, NaN or empty strings; each score (total, subscale) follows
    its own published missing-item rule and is None when that rule is not met, and InputError is
    raised only when no score at all can be reported. ``variant`` names a capture variant declared
    in the definition (e.g. ``odi`` ``redcap_1_6``) whose codes are recoded first.

    TSK-11 (Woby et al. 2005), every item answered 2 ("disagree"): 11 x 2 = 22.

    >>> r = score("tsk11", {str(i): 2 for i in range(1, 12)})
    >>> r.total, r.answered, r.prorated
    (22, 11, False)

    The BPI's average-pain item (the trial's primary outcome) is scored on its own; the severity
    mean needs all four severity items (BPI User Guide 2009):

    >>> r = score("bpi_sf", {"1": 7, "3": 5})
    >>> r.subscales["average_pain"], r.subscales["severity"], r.total, r.band
    (5, None, None, 'moderate')
    """
    return score_instrument(get(instrument_id), responses, variant=variant)


def definition_dict(instrument_id: str) -> dict[str, Any]:
    """The full definition as plain data (JSON-ready apart from numeric option keys)."""
    return dataclasses.asdict(get(instrument_id))


def t_score(instrument_id: str, raw_score: int) -> float:
    """Official T-score for a whole raw score, where the definition ships a citable table.

    >>> t_score("promis_anxiety", 20)
    58.4
    """
    inst = get(instrument_id)
    if inst.t_scores is None:
        raise InputError(f"{instrument_id}: no official T-score table applies to this form")
    if isinstance(raw_score, bool) or raw_score not in inst.t_scores.table:
        lo, hi = min(inst.t_scores.table), max(inst.t_scores.table)
        raise InputError(f"{instrument_id}: raw score must be a whole number {lo}-{hi}")
    return inst.t_scores.table[int(raw_score)]


__all__ = [
    # scoring
    "score", "ScoreResult", "t_score", "responses_from_json", "normalize_responses",
    # definitions
    "INSTRUMENTS", "get", "ids", "definition_dict", "load_instrument", "Instrument", "Item",
    "Scoring", "MissingRule", "Band", "Interpretation", "TScoreTable", "CaptureVariant",
    # FHIR R4 exchange
    "questionnaire", "questionnaire_response", "responses_from_fhir", "score_questionnaire_response",
    # site-licensed wording
    "Wording", "load_wording", "item_texts",
]
