"""Reading declared data and records strictly: every error names the source and the key at fault.

Shared by the curriculum loader and the record types (evidence sheet, practice, exposure, fidelity
ratings, physician evaluation). Messages name keys and what was expected, never a value that may
be a patient's words (developers' guide: no patient data in messages); names taken from the input
are shortened by :func:`name` so a message stays one line.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import date
from typing import Any, Iterable

from prt.errors import InputError
from prt.files import CONTROL

#: Ids of declared things (components, steps, items, elements): REDCap field names and URL parts
#: are built from them, so lower-case letters, digits and underscores, starting with a letter.
ID = re.compile(r"[a-z][a-z0-9_]{0,39}")
#: Short codes a person chooses in a record (a hierarchy step, a therapist or rater code): letters,
#: digits, ``_``, ``-`` and ``.``; never free text.
CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,39}")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def name(value: Any, limit: int = 24) -> str:
    """A name from the input for a message: ``'x'`` when short and printable, else a cut repr."""
    text = value if isinstance(value, str) else str(value)
    if len(text) > limit:
        return repr(text[:limit]) + "..."
    return f"'{text}'" if text.isprintable() else repr(text)


def join(where: str, key: Any) -> str:
    """The path of ``key`` below ``where`` (``sessions[3].steps``)."""
    key = str(key)
    return f"{where}.{key}" if where else key


class Spec:
    """Where we are in one file or record, so every error names it and the key."""

    def __init__(self, source: str):
        self.source = source

    def fail(self, key: str, expected: str) -> InputError:
        return InputError(f"{self.source}: key '{key}': {expected}" if key else f"{self.source}: {expected}")

    # ---- structure
    def mapping(self, value: Any, where: str) -> Mapping:
        if not isinstance(value, Mapping):
            raise self.fail(where or "<top>", f"expected a mapping, got {_kind(value)}")
        return value

    def keys(self, mapping: Any, where: str, required: Iterable[str] = (), optional: Iterable[str] = ()) -> Mapping:
        """``mapping`` as a mapping whose keys are all known and hold every required one."""
        mapping = self.mapping(mapping, where)
        required, allowed = tuple(required), set(required) | set(optional)
        for key in mapping:
            if not isinstance(key, str) or key not in allowed:
                known = ", ".join(sorted(allowed))
                shown = key if isinstance(key, str) and key.isprintable() and len(key) <= 40 else name(key)
                raise self.fail(join(where, shown) if isinstance(key, str) else where or "<top>",
                                f"unknown key (known: {known})" if isinstance(key, str)
                                else f"a key that is not text (known: {known})")
        for key in required:
            if key not in mapping:
                raise self.fail(join(where, key), "is required")
        return mapping

    def items(self, mapping: Mapping, key: str, where: str, *, required: bool = True,
              minimum: int = 0, maximum: int = 10_000) -> list:
        """A list under ``key`` (empty when absent and not required), with a length in range."""
        path = join(where, key)
        if key not in mapping or mapping[key] is None:
            if required:
                raise self.fail(path, "is required (a list)")
            return []
        value = mapping[key]
        if not isinstance(value, list):
            raise self.fail(path, f"expected a list, got {_kind(value)}")
        if not minimum <= len(value) <= maximum:
            raise self.fail(path, f"expected {minimum} to {maximum} entries, got {len(value)}")
        return value

    # ---- scalars
    def text(self, mapping: Mapping, key: str, where: str, *, required: bool = True, default: str = "",
             maximum: int = 2000, one_line: bool = True) -> str:
        path = join(where, key)
        if key not in mapping or mapping[key] is None:
            if required:
                raise self.fail(path, "is required (text)")
            return default
        value = mapping[key]
        if not isinstance(value, str):
            raise self.fail(path, f"expected text, got {_kind(value)}")
        value = value.strip()
        if required and not value:
            raise self.fail(path, "expected non-empty text")
        if len(value) > maximum:
            raise self.fail(path, f"expected at most {maximum} characters, got {len(value)}")
        if one_line and CONTROL.search(value):
            raise self.fail(path, "expected one line of text (no line breaks or control characters)")
        if not one_line and CONTROL.search(value.replace("\n", "").replace("\r", "").replace("\t", "")):
            raise self.fail(path, "holds control characters")
        return value

    def ident(self, mapping: Mapping, key: str, where: str, *, required: bool = True,
              pattern: re.Pattern = ID) -> str | None:
        path = join(where, key)
        if key not in mapping or mapping[key] is None:
            if required:
                raise self.fail(path, "is required")
            return None
        return self.ident_value(mapping[key], path, pattern)

    def ident_value(self, value: Any, path: str, pattern: re.Pattern = ID) -> str:
        if isinstance(value, bool) or not isinstance(value, str) or not pattern.fullmatch(value):
            what = ("a lower-case id of letters, digits and _ (starting with a letter, at most 40)"
                    if pattern is ID else "a short code of letters, digits, _, - and . (at most 40)")
            raise self.fail(path, f"expected {what}")
        return value

    def integer(self, mapping: Mapping, key: str, where: str, lo: int, hi: int, *, required: bool = True,
                default: int | None = None) -> int | None:
        path = join(where, key)
        if key not in mapping or mapping[key] is None:
            if required:
                raise self.fail(path, f"is required (a whole number {lo}-{hi})")
            return default
        return self.integer_value(mapping[key], path, lo, hi)

    def integer_value(self, value: Any, path: str, lo: int, hi: int) -> int:
        if isinstance(value, float) and math.isfinite(value) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            raise self.fail(path, f"expected a whole number {lo}-{hi}")
        return value

    def number(self, mapping: Mapping, key: str, where: str, lo: float, hi: float, *,
               required: bool = True, default: float | None = None, open_low: bool = False) -> float | None:
        path = join(where, key)
        if key not in mapping or mapping[key] is None:
            if required:
                raise self.fail(path, f"is required (a number {lo:g}-{hi:g})")
            return default
        value = mapping[key]
        ok = not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value)
        if ok:
            ok = (lo < value if open_low else lo <= value) and value <= hi
        if not ok:
            low = f"above {lo:g}" if open_low else f"{lo:g}"
            raise self.fail(path, f"expected a number {low} to {hi:g}")
        return float(value)

    def boolean(self, mapping: Mapping, key: str, where: str, *, required: bool = True,
                default: bool | None = None) -> bool | None:
        path = join(where, key)
        if key not in mapping or mapping[key] is None:
            if required:
                raise self.fail(path, "is required (true or false)")
            return default
        value = mapping[key]
        if not isinstance(value, bool):  # bool("false") is True: quoted text is refused
            raise self.fail(path, "expected true or false (unquoted)")
        return value

    def day(self, mapping: Mapping, key: str, where: str) -> date:
        """A calendar date: a ``date`` or ISO ``YYYY-MM-DD`` text (a datetime is refused)."""
        path = join(where, key)
        if key not in mapping or mapping[key] is None:
            raise self.fail(path, "is required (a date YYYY-MM-DD)")
        value = mapping[key]
        if isinstance(value, date) and type(value) is date:
            return value
        if isinstance(value, str) and _ISO_DATE.fullmatch(value.strip()):
            try:
                return date.fromisoformat(value.strip())
            except ValueError:
                pass
        raise self.fail(path, "expected a date YYYY-MM-DD")

    def id_list(self, mapping: Mapping, key: str, where: str, known: Iterable[str] | None = None, *,
                required: bool = True, minimum: int = 0, what: str = "id") -> tuple[str, ...]:
        """A list of unique ids, each among ``known`` when given."""
        path = join(where, key)
        values = self.items(mapping, key, where, required=required, minimum=minimum)
        known = None if known is None else set(known)
        out: list[str] = []
        for i, value in enumerate(values):
            item = self.ident_value(value, f"{path}[{i}]")
            if known is not None and item not in known:
                raise self.fail(path, f"unknown {what} {name(item)}")
            if item in out:
                raise self.fail(path, f"lists {what} {name(item)} twice")
            out.append(item)
        return tuple(out)


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true/false"
    return {dict: "a mapping", list: "a list", str: "text", int: "a number", float: "a number"}.get(
        type(value), type(value).__name__)


def unique(ids: Iterable[str]) -> list[str]:
    """Ids that occur more than once, in first-seen order."""
    seen: set[str] = set()
    twice: list[str] = []
    for item in ids:
        if item in seen and item not in twice:
            twice.append(item)
        seen.add(item)
    return twice


__all__ = ["CODE", "ID", "Spec", "join", "name", "unique"]
