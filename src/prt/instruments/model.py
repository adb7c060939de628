"""Instrument definitions as data: one YAML file per measure, loaded and validated at import.

Why data, not code: each rule (items, codes, reversed items, missing-item rule, score range) must
be readable and citable next to its source, and the REDCap exporter builds fields from the same
objects. A malformed file is an :class:`InputError` naming the file and the key at fault.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from prt.errors import InputError
from prt.files import load_yaml, loads_yaml

KINDS = ("choice", "numeric", "text")
METHODS = ("sum", "mean", "percent", "item", "none")
PRORATE = ("none", "round")
APPLIES_TO_FIXED = ("total", "t_score")
ID_PATTERN = re.compile(r"[a-z][a-z0-9_]*")


@dataclass(frozen=True)
class Item:
    """One question: its number on the form, a short label, and what answers it accepts."""

    number: str
    label: str
    options: dict[int | float, str] | None
    minimum: float | None
    maximum: float | None
    kind: str
    reversed: bool = False

    def reverse(self, code: float) -> float:
        """Reverse-score a code on this item's scale: lowest <-> highest (min + max - code)."""
        return self.minimum + self.maximum - code


@dataclass(frozen=True)
class MissingRule:
    """The published rule for missing items: how many must be answered, and whether to prorate."""

    min_answered: int
    prorate: str  # "none" | "round" (PROMIS: round(sum * n / answered), halves up)
    rule: str


@dataclass(frozen=True)
class Scoring:
    """How a score (the total or one subscale) is computed from its items."""

    method: str  # sum | mean | percent | item | none
    items: tuple[str, ...]
    range: tuple[float, float] | None
    missing: MissingRule


@dataclass(frozen=True)
class Band:
    minimum: float
    maximum: float
    label: str


@dataclass(frozen=True)
class Interpretation:
    """Published interpretation bands; ``applies_to`` is "total", "t_score" or a subscale name."""

    applies_to: str
    bands: tuple[Band, ...]
    source: str

    def band(self, value: float | None) -> str | None:
        if value is None:
            return None
        for band in self.bands:  # first match wins: bounds are inclusive
            if band.minimum <= value <= band.maximum:
                return band.label
        return None


@dataclass(frozen=True)
class TScoreTable:
    """Official raw-score-to-T-score conversion (whole raw scores only)."""

    table: dict[int, float]
    source: str


@dataclass(frozen=True)
class CaptureVariant:
    """A way a site captured the form with other codes, recoded to the form's codes before scoring."""

    name: str
    description: str
    items: tuple[str, ...]
    recode: dict[float, float]


@dataclass(frozen=True)
class Instrument:
    id: str
    title: str
    form: str
    citation: str
    license: str
    items: tuple[Item, ...]
    scoring: Scoring
    subscales: dict[str, tuple[str, ...]]
    subscale_scoring: dict[str, Scoring]
    score_range: tuple[float, float] | None
    data_fields: dict[str, str]
    interpretation: Interpretation | None = None
    t_scores: TScoreTable | None = None
    capture_variants: dict[str, CaptureVariant] = field(default_factory=dict)
    notes: str = ""
    source_file: str = ""

    def item(self, number: str) -> Item:
        for item in self.items:
            if item.number == number:
                return item
        raise KeyError(number)

    @property
    def item_numbers(self) -> tuple[str, ...]:
        return tuple(item.number for item in self.items)

    def range_of(self, score: str) -> tuple[float, float] | None:
        """Declared range of "total" or of a subscale name."""
        if score == "total":
            return self.score_range
        return self.subscale_scoring[score].range

    @classmethod
    def from_dict(cls, spec: Mapping[str, Any], source: str = "<dict>") -> "Instrument":
        """Validate one definition (already parsed YAML) and build it; errors name ``source`` and the key.

        Why checked here, not at scoring: a wrong range, code or missing rule would silently mis-score
        every participant, so a definition is refused whole (see docs/instruments.md).
        """
        return _parse(spec, source)


# --------------------------------------------------------------------------------------------
# Loading and validation


class _Ctx:
    """Where we are in a definition file, so every error names the file and the key."""

    def __init__(self, filename: str):
        self.filename = filename

    def fail(self, key: str, expected: str) -> InputError:
        return InputError(f"instrument definition {self.filename}: key '{key}': {expected}")

    def get(self, mapping: Any, key: str, path: str, kinds: type | tuple, required: bool = True,
            default: Any = None) -> Any:
        where = f"{path}.{key}" if path else key
        if not isinstance(mapping, dict):
            raise self.fail(path or "<top>", "expected a mapping")
        if key not in mapping:
            if required:
                raise self.fail(where, "is required")
            return default
        value = mapping[key]
        if not isinstance(value, kinds) or isinstance(value, bool) and bool not in _tuple(kinds):
            raise self.fail(where, f"expected {_kind_names(kinds)}, got {type(value).__name__}")
        return value


def _tuple(kinds: type | tuple) -> tuple:
    return kinds if isinstance(kinds, tuple) else (kinds,)


def _kind_names(kinds: type | tuple) -> str:
    return " or ".join(k.__name__ for k in _tuple(kinds))


def _number(ctx: _Ctx, value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ctx.fail(where, "expected a finite number")
    return value


def _options(ctx: _Ctx, raw: Any, where: str) -> dict[int | float, str]:
    if not isinstance(raw, dict) or not raw:
        raise ctx.fail(where, "expected a non-empty mapping of numeric code -> label")
    out: dict[int | float, str] = {}
    for code, label in raw.items():
        _number(ctx, code, f"{where}.{code}")
        if not isinstance(label, str) or not label.strip():
            raise ctx.fail(f"{where}.{code}", "expected a non-empty label")
        out[code] = label
    return out


def _range(ctx: _Ctx, raw: Any, where: str) -> tuple[float, float] | None:
    if raw is None:
        return None
    if not isinstance(raw, list) or len(raw) != 2:
        raise ctx.fail(where, "expected [min, max] or null")
    lo, hi = (_number(ctx, v, where) for v in raw)
    if lo > hi:
        raise ctx.fail(where, "min is greater than max")
    return (lo, hi)


def _missing(ctx: _Ctx, raw: Any, where: str, n_items: int) -> MissingRule:
    min_answered = ctx.get(raw, "min_answered", where, int)
    prorate = ctx.get(raw, "prorate", where, str)
    rule = ctx.get(raw, "rule", where, str)
    if prorate not in PRORATE:
        raise ctx.fail(f"{where}.prorate", f"expected one of {', '.join(PRORATE)}")
    if not 0 <= min_answered <= n_items:
        raise ctx.fail(f"{where}.min_answered", f"expected 0..{n_items}")
    return MissingRule(min_answered=min_answered, prorate=prorate, rule=rule)


def _scoring(ctx: _Ctx, raw: Any, where: str, items: dict[str, Item], default_items) -> Scoring:
    method = ctx.get(raw, "method", where, str)
    if method not in METHODS:
        raise ctx.fail(f"{where}.method", f"expected one of {', '.join(METHODS)}")
    numbers = ctx.get(raw, "items", where, list, required=False, default=None)
    if numbers is None:
        numbers = list(default_items)
    numbers = [str(n) for n in numbers]
    for n in numbers:
        if n not in items:
            raise ctx.fail(f"{where}.items", f"unknown item '{n}'")
        if method != "none" and items[n].kind == "text":
            raise ctx.fail(f"{where}.items", f"item '{n}' is free text and cannot be scored")
    if len(set(numbers)) != len(numbers):
        raise ctx.fail(f"{where}.items", "lists an item twice")
    if method == "item" and len(numbers) != 1:
        raise ctx.fail(f"{where}.items", "method 'item' takes exactly one item")
    if "range" not in raw:
        raise ctx.fail(f"{where}.range", "is required ([min, max], or null for method none)")
    rng = _range(ctx, raw["range"], f"{where}.range")
    if (rng is None) != (method == "none"):
        raise ctx.fail(f"{where}.range", "must be null exactly when method is 'none'")
    missing = _missing(ctx, ctx.get(raw, "missing", where, dict), f"{where}.missing", len(numbers))
    if method == "sum" and missing.prorate == "none" and missing.min_answered != len(numbers):
        raise ctx.fail(f"{where}.missing.min_answered",
                       "a sum without prorating needs every item: set it to the item count")
    if method != "sum" and missing.prorate != "none":
        raise ctx.fail(f"{where}.missing.prorate", "prorating applies to sums only")
    if method in ("mean", "percent", "item") and missing.min_answered < 1:
        raise ctx.fail(f"{where}.missing.min_answered", "must be at least 1")
    scoring = Scoring(method=method, items=tuple(numbers), range=rng, missing=missing)
    if rng is not None:
        lo, hi = _attainable(scoring, items)
        if (lo, hi) != rng:
            raise ctx.fail(f"{where}.range", f"declares {list(rng)} but the items give [{lo}, {hi}]")
    return scoring


def _attainable(scoring: Scoring, items: dict[str, Item]) -> tuple[float, float]:
    """Lowest and highest score the items allow (reversal does not change the span)."""
    members = [items[n] for n in scoring.items]
    if scoring.method == "sum":
        return (sum(i.minimum for i in members), sum(i.maximum for i in members))
    if scoring.method == "percent":
        return (0, 100)
    return (min(i.minimum for i in members), max(i.maximum for i in members))


def _item(ctx: _Ctx, raw: Any, where: str, default_options) -> Item:
    number = ctx.get(raw, "number", where, (str, int))
    number = str(number)
    where = f"items[{number}]"
    label = ctx.get(raw, "label", where, str)
    kind = ctx.get(raw, "kind", where, str, required=False, default="choice")
    if kind not in KINDS:
        raise ctx.fail(f"{where}.kind", f"expected one of {', '.join(KINDS)}")
    reversed_ = ctx.get(raw, "reversed", where, bool, required=False, default=False)
    options = minimum = maximum = None
    if kind == "choice":
        raw_options = raw.get("options", default_options)
        if raw_options is None:
            raise ctx.fail(f"{where}.options", "a choice item needs options (or response_options)")
        options = _options(ctx, raw_options, f"{where}.options")
        minimum, maximum = min(options), max(options)
    elif kind == "numeric":
        minimum = _number(ctx, ctx.get(raw, "min", where, (int, float)), f"{where}.min")
        maximum = _number(ctx, ctx.get(raw, "max", where, (int, float)), f"{where}.max")
        if minimum >= maximum:
            raise ctx.fail(f"{where}.max", "must exceed min")
    elif reversed_:
        raise ctx.fail(f"{where}.reversed", "a free-text item cannot be reversed")
    if reversed_ and kind == "choice":
        codes = sorted(options)
        if [minimum + maximum - c for c in codes] != codes[::-1]:
            raise ctx.fail(f"{where}.options", "reversed item needs codes symmetric about the midpoint")
    return Item(number=number, label=label, options=options, minimum=minimum, maximum=maximum,
                kind=kind, reversed=reversed_)


def _interpretation(ctx: _Ctx, raw: Any, subscales: dict, has_t: bool) -> Interpretation:
    where = "interpretation"
    applies_to = ctx.get(raw, "applies_to", where, str)
    if applies_to not in APPLIES_TO_FIXED and applies_to not in subscales:
        raise ctx.fail(f"{where}.applies_to", "expected total, t_score or a subscale name")
    if applies_to == "t_score" and not has_t:
        raise ctx.fail(f"{where}.applies_to", "t_score bands need a t_score table")
    source = ctx.get(raw, "source", where, str)
    bands = []
    for i, b in enumerate(ctx.get(raw, "bands", where, list)):
        w = f"{where}.bands[{i}]"
        lo = _number(ctx, ctx.get(b, "min", w, (int, float)), f"{w}.min")
        hi = _number(ctx, ctx.get(b, "max", w, (int, float)), f"{w}.max")
        if lo > hi:
            raise ctx.fail(w, "min is greater than max")
        if bands and lo < bands[-1].minimum:
            raise ctx.fail(w, "bands must be in increasing order")
        bands.append(Band(lo, hi, ctx.get(b, "label", w, str)))
    if not bands:
        raise ctx.fail(f"{where}.bands", "expected at least one band")
    return Interpretation(applies_to=applies_to, bands=tuple(bands), source=source)


def _t_scores(ctx: _Ctx, raw: Any, scoring: Scoring) -> TScoreTable:
    where = "t_score"
    source = ctx.get(raw, "source", where, str)
    table = ctx.get(raw, "table", where, dict)
    out = {}
    for raw_score, t in table.items():
        if isinstance(raw_score, bool) or not isinstance(raw_score, int):
            raise ctx.fail(f"{where}.table.{raw_score}", "raw scores must be whole numbers")
        out[raw_score] = _number(ctx, t, f"{where}.table.{raw_score}")
    if scoring.method != "sum" or scoring.range is None:
        raise ctx.fail(where, "a T-score table needs a summed total")
    lo, hi = scoring.range
    if sorted(out) != list(range(int(lo), int(hi) + 1)):
        raise ctx.fail(f"{where}.table", f"expected every raw score {int(lo)}..{int(hi)}")
    values = [out[k] for k in sorted(out)]
    if any(b <= a for a, b in zip(values, values[1:])):
        raise ctx.fail(f"{where}.table", "T-scores must increase with the raw score")
    return TScoreTable(table=out, source=source)


def _variants(ctx: _Ctx, raw: Any, items: dict[str, Item]) -> dict[str, CaptureVariant]:
    out = {}
    for name, spec in raw.items():
        where = f"capture_variants.{name}"
        description = ctx.get(spec, "description", where, str)
        numbers = [str(n) for n in ctx.get(spec, "items", where, list, required=False,
                                           default=list(items))]
        recode = ctx.get(spec, "recode", where, dict)
        for n in numbers:
            if n not in items or items[n].kind != "choice":
                raise ctx.fail(f"{where}.items", f"'{n}' is not a choice item")
            for src, dst in recode.items():
                _number(ctx, src, f"{where}.recode.{src}")
                if dst not in items[n].options:
                    raise ctx.fail(f"{where}.recode.{src}", f"maps to {dst}, not a code of item '{n}'")
        out[str(name)] = CaptureVariant(name=str(name), description=description,
                                        items=tuple(numbers), recode=dict(recode))
    return out


def _parse(raw: Any, source: str) -> Instrument:
    """The body of :meth:`Instrument.from_dict`."""
    ctx = _Ctx(source)
    if not isinstance(raw, dict):
        raise ctx.fail("<top>", "expected a mapping")
    known = {"id", "title", "form", "citation", "license", "notes", "response_options", "items",
             "scoring", "subscales", "interpretation", "t_score", "capture_variants", "data_fields"}
    for key in raw:
        if key not in known:
            raise ctx.fail(str(key), "unknown key")
    inst_id = ctx.get(raw, "id", "", str)
    if not ID_PATTERN.fullmatch(inst_id):  # REDCap form names and FHIR ids are built from it
        raise ctx.fail("id", "expected a lower-case name of letters, digits and _ (e.g. promis_sleep)")
    default_options = raw.get("response_options")
    raw_items = ctx.get(raw, "items", "", list)
    if not raw_items:
        raise ctx.fail("items", "expected at least one item")
    items: dict[str, Item] = {}
    for i, raw_item in enumerate(raw_items):
        item = _item(ctx, raw_item, f"items[{i}]", default_options)
        if item.number in items:
            raise ctx.fail(f"items[{item.number}]", "duplicate item number")
        items[item.number] = item
    scorable = [n for n, it in items.items() if it.kind != "text"]
    scoring = _scoring(ctx, ctx.get(raw, "scoring", "", dict), "scoring", items, scorable)
    subscale_scoring = {}
    for name, spec in (ctx.get(raw, "subscales", "", dict, required=False, default={}) or {}).items():
        subscale_scoring[str(name)] = _scoring(ctx, spec, f"subscales.{name}", items, scorable)
        if subscale_scoring[str(name)].method == "none":
            raise ctx.fail(f"subscales.{name}.method", "a subscale needs a scoring method")
    t_scores = None
    if "t_score" in raw:
        t_scores = _t_scores(ctx, raw["t_score"], scoring)
    interpretation = None
    if "interpretation" in raw:
        interpretation = _interpretation(ctx, raw["interpretation"], subscale_scoring,
                                         t_scores is not None)
    variants = _variants(ctx, ctx.get(raw, "capture_variants", "", dict, required=False,
                                      default={}), items)
    data_fields = ctx.get(raw, "data_fields", "", dict, required=False, default={}) or {}
    for key, value in data_fields.items():
        if key != "total" and key not in subscale_scoring:
            raise ctx.fail(f"data_fields.{key}", "expected 'total' or a subscale name")
        if key == "total" and scoring.method == "none":
            raise ctx.fail("data_fields.total", "this instrument has no total")
        if not isinstance(value, str) or not value:
            raise ctx.fail(f"data_fields.{key}", "expected a field name")
    return Instrument(
        id=inst_id,
        title=ctx.get(raw, "title", "", str),
        form=ctx.get(raw, "form", "", str),
        citation=ctx.get(raw, "citation", "", str),
        license=ctx.get(raw, "license", "", str),
        items=tuple(items.values()),
        scoring=scoring,
        subscales={name: s.items for name, s in subscale_scoring.items()},
        subscale_scoring=subscale_scoring,
        score_range=scoring.range,
        data_fields={str(k): v for k, v in data_fields.items()},
        interpretation=interpretation,
        t_scores=t_scores,
        capture_variants=variants,
        notes=ctx.get(raw, "notes", "", str, required=False, default=""),
        source_file=source,
    )


def _named_after_file(inst: Instrument, source: str) -> Instrument:
    """A definition file is named after its id (``odi.yaml`` declares ``id: odi``): one id, one file."""
    stem = Path(source).name.removesuffix(".yaml").removesuffix(".yml")
    if inst.id != stem:
        raise _Ctx(source).fail("id", f"'{inst.id}' must match the file name '{stem}'")
    return inst


def load_instrument(path: str | os.PathLike) -> Instrument:
    """Read one definition file strictly (prt.files.load_yaml: duplicate keys refused) and validate it."""
    raw = load_yaml(path, "instrument definition")
    return _named_after_file(Instrument.from_dict(raw, str(path)), str(path))


def load_all() -> dict[str, Instrument]:
    """Load every packaged definition (``definitions/*.yaml``), in id order."""
    folder = resources.files("prt.instruments") / "definitions"
    found = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml"):
            source = f"definitions/{entry.name}"
            raw = loads_yaml(entry.read_text(encoding="utf-8"), f"instrument definition {source}")
            inst = _named_after_file(Instrument.from_dict(raw, source), source)
            found[inst.id] = inst
    return found
