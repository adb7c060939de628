"""The trial's measures as data, and their scoring.

Every instrument the trial used is declared in ``definitions/<id>.yaml`` (items, codes, reversed
items, subscales, the published missing-item rule, score range, bands, source), loaded and
validated at import. ``score(id, responses)`` scores one administration; see docs/instruments.md.
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
)
from prt.instruments.scoring import ScoreResult, normalize_responses, score_instrument

#: Every packaged instrument, by id (loaded and validated at import: a bad file fails loudly).
INSTRUMENTS: dict[str, Instrument] = load_all()


def ids() -> tuple[str, ...]:
    """The ids of every packaged instrument, sorted."""
    return tuple(sorted(INSTRUMENTS))


def get(instrument_id: str) -> Instrument:
    """The definition of one instrument; InputError naming the id and the known ids if unknown."""
    try:
        return INSTRUMENTS[instrument_id]
    except (KeyError, TypeError):
        raise InputError(f"unknown instrument '{instrument_id}'; known: {', '.join(ids())}") from None


def score(instrument_id: str, responses: Any, *, variant: str | None = None) -> ScoreResult:
    """Score one administration: ``responses`` maps item numbers (str or int) to codes.

    Missing items are absent keys, None or empty strings. ``variant`` names a capture variant
    declared in the definition (e.g. ``odi`` ``redcap_1_6``) whose codes are recoded first.
    """
    return score_instrument(get(instrument_id), responses, variant=variant)


def definition_dict(instrument_id: str) -> dict[str, Any]:
    """The full definition as plain data (JSON-ready apart from numeric option keys)."""
    return dataclasses.asdict(get(instrument_id))


def t_score(instrument_id: str, raw_score: int) -> float:
    """Official T-score for a whole raw score, where the definition ships a citable table."""
    inst = get(instrument_id)
    if inst.t_scores is None:
        raise InputError(f"{instrument_id}: no official T-score table applies to this form")
    if isinstance(raw_score, bool) or raw_score not in inst.t_scores.table:
        lo, hi = min(inst.t_scores.table), max(inst.t_scores.table)
        raise InputError(f"{instrument_id}: raw score must be a whole number {lo}-{hi}")
    return inst.t_scores.table[int(raw_score)]


__all__ = [
    "INSTRUMENTS", "Band", "CaptureVariant", "Instrument", "Interpretation", "Item",
    "MissingRule", "ScoreResult", "Scoring", "TScoreTable", "definition_dict", "get", "ids", "normalize_responses",
    "score", "t_score",
]
