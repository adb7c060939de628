"""Licensed item wording, supplied by a site, kept out of the package.

Many instruments (BPI, PROMIS, PCS ...) may not be redistributed verbatim, so prt ships short
labels only. A site holding a licence points ``PRT_INSTRUMENT_WORDING`` at a YAML file of
``{instrument_id: {item_number: text}}``; displays and FHIR exports then use that text. Scoring
never reads wording.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from prt.errors import InputError
from prt.files import load_yaml

ENV_VAR = "PRT_INSTRUMENT_WORDING"


@dataclass(frozen=True)
class Wording:
    """A site's licensed item texts, ``{instrument id: {item number: text}}``, checked against the
    definitions (unknown instrument or item and empty text refused)."""

    texts: dict[str, dict[str, str]] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, spec: Mapping[str, Any] | None, source: str = "wording") -> "Wording":
        """Validate parsed wording data; every error names ``source``, the instrument and the item."""
        from prt.instruments import INSTRUMENTS, ids
        from prt.instruments.scoring import quoted

        if spec is None:  # an empty file
            return cls()
        if not isinstance(spec, Mapping):
            raise InputError(f"{source}: expected a mapping of instrument id -> {{item: text}}")
        out: dict[str, dict[str, str]] = {}
        for inst_id, texts in spec.items():
            inst = INSTRUMENTS.get(inst_id) if isinstance(inst_id, str) else None
            if inst is None:
                raise InputError(f"{source}: unknown instrument {quoted(inst_id)}; known: {', '.join(ids())}")
            if not isinstance(texts, Mapping):
                raise InputError(f"{source}: '{inst_id}' expected a mapping of item number -> text")
            out[inst.id] = {}
            for number, text in texts.items():
                number = str(number)
                if number not in inst.item_numbers:
                    raise InputError(f"{source}: {inst.id} has no item {quoted(number)}; items are "
                                     f"{', '.join(inst.item_numbers)}")
                if not isinstance(text, str) or not text.strip():
                    raise InputError(f"{source}: {inst.id} item '{number}' expected non-empty text")
                out[inst.id][number] = text.strip()
        return cls(out)

    def for_instrument(self, instrument_id: str) -> dict[str, str]:
        """The supplied texts of one instrument, by item number (empty when none supplied)."""
        return dict(self.texts.get(instrument_id, {}))


def load_wording(path: str | os.PathLike | None = None) -> Wording:
    """Read and validate a wording file (default: ``$PRT_INSTRUMENT_WORDING``; none -> no wording).

    Read through prt.files.load_yaml: duplicate keys are refused, errors name the file.
    """
    if path is None:
        path = os.environ.get(ENV_VAR) or None
        if path is None:
            return Wording()
    return Wording.from_dict(load_yaml(path, "wording file"), f"wording file {path}")


def item_texts(instrument_id: str, path: str | os.PathLike | None = None) -> dict[str, str]:
    """Text to show for each item: the site's licensed wording where supplied, else the label."""
    from prt.instruments import get

    inst = get(instrument_id)
    supplied = load_wording(path).for_instrument(inst.id)
    return {item.number: supplied.get(item.number, item.label) for item in inst.items}


__all__ = ["ENV_VAR", "Wording", "item_texts", "load_wording"]
