"""Score one completed instrument: validate each answer, reverse, apply the missing-item rule.

Every rule comes from the instrument's definition (``definitions/<id>.yaml``), which cites its
manual or validation paper; nothing here is specific to one instrument. Error messages name the
item and what it allows, never the value the participant gave (house rule on patient data).
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from prt.errors import InputError
from prt.files import loads_json
from prt.instruments.model import Instrument, Item, Scoring

#: A number written as text: ASCII digits only (Python's int() would also take "1_0" and "١").
NUMERIC_TEXT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


@dataclass(frozen=True)
class ScoreResult:
    """The scores of one administration of one instrument.

    ``total`` is None where the instrument has no total (PANAS, IPQ causes) or too few of its items
    were answered for its published rule while another score could be reported (BPI average pain
    with a severity item skipped); ``subscales`` maps each declared subscale to its score, or None
    when too few of its items were answered;
    ``answered`` counts answered items of the whole form; ``prorated`` is True when any reported
    score was computed from fewer than all of its items. ``t_score`` (official table) and ``band``
    (published interpretation) are None where no citable standard exists.
    """

    instrument: str
    total: float | int | None
    subscales: dict[str, float | int | None]
    answered: int
    prorated: bool
    t_score: float | None = None
    band: str | None = None
    variant: str | None = None
    items: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def to_dict(self, details: bool = False) -> dict[str, Any]:
        """The JSON shape of ``prt score``; ``details`` adds t_score and interpretation band."""
        out = {
            "instrument": self.instrument,
            "total": self.total,
            "subscales": dict(self.subscales),
            "answered": self.answered,
            "prorated": self.prorated,
        }
        if details:
            out["t_score"] = self.t_score
            out["band"] = self.band
            if self.variant is not None:
                out["variant"] = self.variant
        return out


def quoted(value: Any, limit: int = 24) -> str:
    """A name taken from the input (item key, linkId, instrument id) for a one-line error message:
    printable text as ``'1'``; text with newlines or control characters, or long text, as a short
    repr, so a message stays one line and never carries more than a name's worth of input."""
    text = value if isinstance(value, str) else str(value)
    if len(text) > limit:
        return repr(text[:limit]) + "..."
    return f"'{text}'" if text.isprintable() else repr(text)


def _describe_allowed(item: Item) -> str:
    if item.kind == "choice":
        codes = sorted(item.options)
        parts = ", ".join(f"{_fmt(c)}={item.options[c]}" for c in codes)
        return f"one of its response codes ({parts})"
    if item.kind == "numeric":
        return f"a number from {_fmt(item.minimum)} to {_fmt(item.maximum)}"
    return "free text"


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def _as_number(inst: Instrument, item: Item, value: Any) -> float | int:
    """A response as int or float: numbers (numpy's too, as in a pandas row) or plain numeric text."""
    where = f"{inst.id} item '{item.number}'"
    if isinstance(value, bool) or type(value).__name__ in ("bool", "bool_"):  # numpy booleans too
        raise InputError(f"{where}: true/false is not a response; expected {_describe_allowed(item)}")
    if isinstance(value, str):
        text = value.strip()
        if not NUMERIC_TEXT.fullmatch(text):
            raise InputError(f"{where}: not a number; expected {_describe_allowed(item)}")
        try:
            value = int(text) if text.lstrip("+-").isdigit() else float(text)
        except ValueError:  # more digits than int() converts: a float (inf), refused below
            value = float(text)
    if isinstance(value, numbers.Integral):
        return int(value)  # never infinite; a huge one is simply out of range below
    if not isinstance(value, numbers.Real):
        raise InputError(f"{where}: not a number; expected {_describe_allowed(item)}")
    value = float(value)
    if not math.isfinite(value):
        raise InputError(f"{where}: not a finite number; expected {_describe_allowed(item)}")
    return value


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str) and not value.strip():
        return True
    return isinstance(value, float) and math.isnan(value)


def normalize_responses(inst: Instrument, responses: Any, variant: str | None = None) -> dict[str, Any]:
    """Check every answer against its item and return {item number: code} for answered items.

    Codes come back on the form's own scale (after any capture-variant recoding), not reversed.
    """
    if not isinstance(responses, Mapping):
        raise InputError(f"{inst.id}: responses must be an object mapping item numbers to codes")
    recode_variant = None
    if variant is not None:
        if variant not in inst.capture_variants:
            allowed = ", ".join(sorted(inst.capture_variants)) or "none"
            raise InputError(f"{inst.id}: unknown capture variant {quoted(variant)}; available: {allowed}")
        recode_variant = inst.capture_variants[variant]
    numbers = inst.item_numbers
    given: dict[str, Any] = {}
    for key, value in responses.items():
        if isinstance(key, bool) or not isinstance(key, (str, int)):
            raise InputError(f"{inst.id}: item keys must be item numbers; items are {', '.join(numbers)}")
        number = str(key).strip()
        if number not in numbers:
            raise InputError(f"{inst.id}: unknown item {quoted(number)}; items are {', '.join(numbers)}")
        if number in given:
            raise InputError(f"{inst.id} item '{number}': given twice")
        given[number] = value
    answers: dict[str, Any] = {}
    for item in inst.items:
        if item.number not in given or _is_missing(given[item.number]):
            continue
        value = given[item.number]
        if item.kind == "text":
            if not isinstance(value, str):
                raise InputError(f"{inst.id} item '{item.number}': expected free text")
            answers[item.number] = value.strip()
            continue
        value = _as_number(inst, item, value)
        if recode_variant is not None and item.number in recode_variant.items:
            if value not in recode_variant.recode:
                codes = ", ".join(_fmt(c) for c in sorted(recode_variant.recode))
                raise InputError(f"{inst.id} item '{item.number}': under capture variant "
                                 f"'{variant}' expected one of {codes}")
            value = recode_variant.recode[value]
        if item.kind == "choice":
            if value not in item.options:
                raise InputError(f"{inst.id} item '{item.number}': expected {_describe_allowed(item)}")
            value = next(code for code in item.options if code == value)  # the declared code
        elif not item.minimum <= value <= item.maximum:
            raise InputError(f"{inst.id} item '{item.number}': expected {_describe_allowed(item)}")
        answers[item.number] = value
    return answers


def responses_from_json(text: str, source: str = "responses") -> dict[str, Any]:
    """Responses written as a JSON object ``{"1": code, ...}``, parsed strictly (prt.files.loads_json:
    duplicate keys, NaN and deep nesting refused, so no answer is silently replaced); errors name
    ``source`` (e.g. the file)."""
    responses = loads_json(text, source)
    if not isinstance(responses, dict):
        raise InputError(f'{source}: expected a JSON object like {{"1": 2, "2": 0}}')
    return responses


def _round_half_up(x: Fraction) -> int:
    return math.floor(x + Fraction(1, 2))


def _compute(inst: Instrument, scoring: Scoring, scored: dict[str, float | int]):
    """(score, used fewer than all items) for one scoring rule, or (None, False) if not allowed."""
    present = [n for n in scoring.items if n in scored]
    if len(present) < scoring.missing.min_answered or not present:
        return None, False
    partial = len(present) < len(scoring.items)
    values = [scored[n] for n in present]
    method = scoring.method
    if method == "item":
        return values[0], False
    if method == "sum":
        total = sum(values)
        if partial:  # only reachable with prorate == "round" (checked at load)
            exact = Fraction(str(total)) * len(scoring.items) / len(present)
            return _round_half_up(exact), True
        return total, False
    if method == "mean":
        return sum(values) / len(values), partial
    if method == "percent":
        items = [inst.item(n) for n in present]
        num = sum(v - it.minimum for v, it in zip(values, items))
        den = sum(it.maximum - it.minimum for it in items)
        return 100 * num / den, partial
    raise AssertionError(method)  # pragma: no cover - validated at load


def score_instrument(inst: Instrument, responses: Any, variant: str | None = None) -> ScoreResult:
    """Score validated responses against one definition (see :func:`prt.instruments.score`)."""
    answers = normalize_responses(inst, responses, variant)
    scored = {}
    for number, value in answers.items():
        item = inst.item(number)
        if item.kind == "text":
            continue
        scored[number] = item.reverse(value) if item.reversed else value
    # Each score follows its own published missing-item rule, independently: the BPI's average-pain
    # item (the trial's primary outcome) is reported even when a severity item was skipped, while the
    # severity mean then is None. Only when no score at all can be reported is the form refused.
    total, prorated = None, False
    if inst.scoring.method != "none":
        total, prorated = _compute(inst, inst.scoring, scored)
    subscales = {}
    for name, rule in inst.subscale_scoring.items():
        value, partial = _compute(inst, rule, scored)
        subscales[name] = value
        prorated = prorated or partial
    if total is None and all(v is None for v in subscales.values()) and (
            inst.scoring.method != "none" or subscales):
        raise InputError(_too_few(inst, scored))
    t_score = None
    if inst.t_scores is not None and total is not None:
        t_score = inst.t_scores.table[int(total)]
    band = None
    if inst.interpretation is not None:
        target = inst.interpretation.applies_to
        value = {"total": total, "t_score": t_score}.get(target, subscales.get(target))
        band = inst.interpretation.band(value)
    return ScoreResult(instrument=inst.id, total=total, subscales=subscales, answered=len(answers),
                       prorated=prorated, t_score=t_score, band=band, variant=variant,
                       items=answers)


def _too_few(inst: Instrument, scored: dict[str, Any]) -> str:
    """Why nothing could be scored: each score's answered count and its published rule."""
    rules = ([("total", inst.scoring)] if inst.scoring.method != "none" else []) + list(
        inst.subscale_scoring.items())

    def count(rule: Scoring) -> str:
        present = sum(1 for n in rule.items if n in scored)
        return f"{present} of {len(rule.items)} scored items answered"

    if len(rules) == 1:
        return f"{inst.id}: {count(rules[0][1])}; {rules[0][1].missing.rule}"
    parts = "; ".join(f"{name}: {count(rule)}, {rule.missing.rule.rstrip('.')}" for name, rule in rules)
    return f"{inst.id}: too few items answered to report any score ({parts})"


__all__ = ["NUMERIC_TEXT", "ScoreResult", "normalize_responses", "quoted", "responses_from_json",
           "score_instrument"]
