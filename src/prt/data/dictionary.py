"""A REDCap project's data dictionary: the codes' labels, units and validated ranges of its fields.

REDCap's "Data Dictionary" CSV has one row per field and 18 columns, among them ``Variable / Field
Name``, ``Field Type``, ``Field Label``, ``Choices, Calculations, OR Slider Labels`` (for radio,
dropdown and checkbox fields ``1, Male | 2, Female``), ``Field Note`` and ``Text Validation Min`` /
``Max``. The API's metadata export gives the same in snake case (``field_name``,
``select_choices_or_calculations``, ...); both are read. REDCap has no units column: a unit is
taken from the field note (``pounds``, ``Units: kg``, ``in years``) or from a label ending in a
parenthesis (``Weight (pounds)``), for numeric fields only. (REDCap's data dictionary format:
project-redcap.org, "Data Dictionary" help; column names as prt.trial.redcap_dictionary writes.)

:func:`load_redcap_dictionary` returns a :class:`RedcapDictionary` keyed by REDCap field name;
``mapping.with_dictionary(dictionary)`` (or ``read_trial(..., dictionary=...)``) merges it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from prt.data.csvtext import read_table, source_text
from prt.data.mapping import code_key
from prt.errors import InputError

#: Column of the dictionary CSV -> our name; the upload/download header and the API's metadata keys.
_COLUMNS = {
    "Variable / Field Name": "name", "field_name": "name",
    "Field Type": "type", "field_type": "type",
    "Field Label": "label", "field_label": "label",
    "Choices, Calculations, OR Slider Labels": "choices", "select_choices_or_calculations": "choices",
    "Field Note": "note", "field_note": "note",
    "Text Validation Type OR Show Slider Number": "validation",
    "text_validation_type_or_show_slider_number": "validation",
    "Text Validation Min": "minimum", "text_validation_min": "minimum",
    "Text Validation Max": "maximum", "text_validation_max": "maximum",
}
#: Field types whose choices are codes and labels (checkbox fields export as ``field___code``
#: columns of 0/1, so their choices name columns, not values, and are not carried).
CODED_TYPES = ("radio", "dropdown")
#: REDCap's built-in coded types and their fixed codes.
FIXED_CHOICES = {"yesno": {"1": "Yes", "0": "No"}, "truefalse": {"1": "True", "0": "False"}}
#: Text validations that make a text field a number (REDCap's integer and number_* validations).
_NUMERIC_VALIDATION = re.compile(r"^(integer|number(_\w+)?)$")
_TAG = re.compile(r"<[^>]*>")
_CODE = re.compile(r"^-?[A-Za-z0-9_.]+$")
#: Words in a trailing parenthesis of a label that are not units.
_NOT_UNITS = frozenset({"optional", "required", "approximate", "approx", "estimate", "if known",
                        "if any", "please specify", "specify", "other"})


@dataclass(frozen=True)
class RedcapDictionary:
    """What a REDCap data dictionary declares, keyed by REDCap field name.

    Attributes:
        source: the file it came from (for messages).
        field_types: field -> REDCap field type (``text``, ``radio``, ``calc``, ...).
        labels: field -> field label, HTML tags removed.
        choices: coded field -> {code: label} (radio, dropdown, yesno, truefalse).
        units: numeric field -> unit (from the field note or the label's parenthesis).
        ranges: numeric field -> (low, high) from the validation min/max (a side not given is
            infinite); sliders default to 0-100.
        text_fields: free-text fields (notes, and text fields without a numeric validation).
    """

    source: str
    field_types: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    choices: dict[str, dict[str, str]] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)
    ranges: dict[str, tuple[float, float]] = field(default_factory=dict)
    text_fields: tuple[str, ...] = ()


def load_redcap_dictionary(source) -> RedcapDictionary:
    """Read a REDCap data dictionary CSV (a path, an open file or a DataFrame)."""
    if isinstance(source, pd.DataFrame):
        name = "data dictionary"
        frame = source.astype(object).where(source.notna(), "").astype(str)
    else:
        text, name = source_text(source, "data dictionary")
        name = f"data dictionary {name}" if isinstance(source, (str, Path)) else name
        frame = read_table(text, name)
    return dictionary_from_frame(frame, name)


def dictionary_from_frame(frame: pd.DataFrame, source: str = "data dictionary") -> RedcapDictionary:
    """A :class:`RedcapDictionary` from the dictionary's rows (all cells text)."""
    columns = {c: _COLUMNS[str(c).strip()] for c in frame.columns if str(c).strip() in _COLUMNS}
    present = set(columns.values())
    if len(present) != len(columns):
        raise InputError(f"{source}: holds both REDCap's and the API's name of one column")
    missing = [n for n, ours in (("Variable / Field Name", "name"), ("Field Type", "type")) if ours not in present]
    if missing:
        raise InputError(f"{source}: not a REDCap data dictionary (no column {', '.join(repr(m) for m in missing)})")
    rows = frame[list(columns)].rename(columns=columns)
    for ours in ("label", "choices", "note", "validation", "minimum", "maximum"):
        if ours not in rows.columns:
            rows[ours] = ""
    out = {"field_types": {}, "labels": {}, "choices": {}, "units": {}, "ranges": {}}
    text_fields: list[str] = []
    for number, row in enumerate(rows.fillna("").astype(str).itertuples(index=False), start=1):
        name, kind = row.name.strip(), row.type.strip().lower()
        if not name:
            raise InputError(f"{source}: row {number}: the field name is empty")
        if name in out["field_types"]:
            raise InputError(f"{source}: field {name!r} is defined more than once")
        where = f"{source}: field {name!r}"
        out["field_types"][name] = kind
        label = _plain(row.label)
        if label:
            out["labels"][name] = label
        if kind in CODED_TYPES:
            out["choices"][name] = parse_choices(row.choices, where)
        elif kind in FIXED_CHOICES:
            out["choices"][name] = dict(FIXED_CHOICES[kind])
        validation = row.validation.strip().lower()
        numeric = kind in ("calc", "slider") or (kind == "text" and bool(_NUMERIC_VALIDATION.match(validation)))
        if kind == "notes" or (kind == "text" and not numeric and not validation):
            text_fields.append(name)
        if not numeric:
            continue
        bounds = _bounds(row.minimum, row.maximum, where)
        if kind == "slider" and bounds is None:
            bounds = (0.0, 100.0)  # REDCap's slider scale unless min/max are set
        if bounds is not None:
            out["ranges"][name] = bounds
        unit = unit_from_note(row.note) or unit_from_label(label)
        if unit:
            out["units"][name] = unit
    return RedcapDictionary(source=source, text_fields=tuple(text_fields), **out)


def parse_choices(text: str, where: str = "choices") -> dict[str, str]:
    """REDCap choices ``1, Male | 2, Female`` -> {"1": "Male", "2": "Female"} (codes as text).

    Each choice is ``code, label`` (the label may hold commas); choices are separated by ``|``
    (older dictionaries: new lines). A code is letters, digits, underscores, an optional leading
    minus and dots; codes are unique.
    """
    text = str(text).strip()
    if not text:
        raise InputError(f"{where}: a coded field without choices")
    parts = text.split("|") if "|" in text else text.splitlines()
    out: dict[str, str] = {}
    for part in parts:
        part = part.strip()
        if not part:
            continue
        code, sep, label = part.partition(",")
        code = code.strip()
        if not sep or not _CODE.match(code):
            raise InputError(f"{where}: choice {len(out) + 1} is not 'code, label' (codes are letters, "
                             "digits and underscores)")
        key = code_key(code)
        if key in out:
            raise InputError(f"{where}: code {code!r} is given more than once")
        out[key] = _plain(label) or code
    if not out:
        raise InputError(f"{where}: a coded field without choices")
    return out


def unit_from_note(note: str) -> str | None:
    """A unit from a field note: ``pounds``, ``Units: kg``, ``in years`` (short notes only)."""
    text = _plain(note).rstrip(".")
    match = re.match(r"^(?:units?\s*[:=]\s*|in\s+)(?P<unit>.+)$", text, re.IGNORECASE)
    if match:
        return _unit_words(match["unit"])
    return _unit_words(text, max_words=2)


def unit_from_label(label: str) -> str | None:
    """A unit from a label ending in a parenthesis: ``Weight (pounds)``, ``Duration (in years)``."""
    match = re.search(r"\((?:in\s+)?(?P<unit>[^()]+)\)\s*:?\s*$", _plain(label), re.IGNORECASE)
    return _unit_words(match["unit"]) if match else None


def _unit_words(text: str, max_words: int = 3) -> str | None:
    text = text.strip()
    if not text or text.lower() in _NOT_UNITS or len(text) > 24 or len(text.split()) > max_words:
        return None
    if not re.match(r"^[^\W\d_][\w%°/. ^²³-]*$", text):
        return None  # "0-10", "1 = never", "see manual: ..." are not units
    return text


def _bounds(low: str, high: str, where: str) -> tuple[float, float] | None:
    values = []
    for text, side in ((low, "min"), (high, "max")):
        text = str(text).strip()
        if not text:
            values.append(-math.inf if side == "min" else math.inf)
            continue
        try:
            number = float(text)
        except ValueError:
            raise InputError(f"{where}: validation {side} is not a number") from None
        if not math.isfinite(number):
            raise InputError(f"{where}: validation {side} is not a finite number")
        values.append(number)
    if values == [-math.inf, math.inf]:
        return None
    if values[0] > values[1]:
        raise InputError(f"{where}: validation min is above max")
    return (values[0], values[1])


def _plain(text: str) -> str:
    """Field text without HTML tags and runs of white space (REDCap labels may hold HTML)."""
    return " ".join(_TAG.sub(" ", str(text)).split())


__all__ = ["RedcapDictionary", "load_redcap_dictionary", "dictionary_from_frame", "parse_choices",
           "unit_from_note", "unit_from_label", "CODED_TYPES", "FIXED_CHOICES"]
