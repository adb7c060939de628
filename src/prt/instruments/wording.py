"""Licensed item wording, supplied by a site, kept out of the package.

Many instruments (BPI, PROMIS, PCS ...) may not be redistributed verbatim, so prt ships short
labels only. A site holding a licence points ``PRT_INSTRUMENT_WORDING`` at a YAML file of
``{instrument_id: {item_number: text}}``; displays and FHIR exports then use that text. Scoring
never reads wording.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from prt.errors import InputError

ENV_VAR = "PRT_INSTRUMENT_WORDING"


def load_wording(path: str | os.PathLike | None = None) -> dict[str, dict[str, str]]:
    """Read and validate a wording file (default: ``$PRT_INSTRUMENT_WORDING``; none -> {})."""
    from prt.instruments import get

    if path is None:
        path = os.environ.get(ENV_VAR) or None
        if path is None:
            return {}
    where = f"wording file {path}"
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"{where}: cannot be read ({exc.strerror})") from None
    except yaml.YAMLError:
        raise InputError(f"{where}: not valid YAML") from None
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise InputError(f"{where}: expected a mapping of instrument id -> {{item: text}}")
    out: dict[str, dict[str, str]] = {}
    for inst_id, texts in raw.items():
        inst = get(str(inst_id))  # unknown id -> InputError naming it
        if not isinstance(texts, dict):
            raise InputError(f"{where}: '{inst_id}' expected a mapping of item number -> text")
        out[inst.id] = {}
        for number, text in texts.items():
            number = str(number)
            if number not in inst.item_numbers:
                raise InputError(f"{where}: {inst.id} has no item '{number}'; items are "
                                 f"{', '.join(inst.item_numbers)}")
            if not isinstance(text, str) or not text.strip():
                raise InputError(f"{where}: {inst.id} item '{number}' expected non-empty text")
            out[inst.id][number] = text.strip()
    return out


def item_texts(instrument_id: str, path: str | os.PathLike | None = None) -> dict[str, str]:
    """Text to show for each item: the site's licensed wording where supplied, else the label."""
    from prt.instruments import get

    inst = get(instrument_id)
    supplied = load_wording(path).get(inst.id, {})
    return {item.number: supplied.get(item.number, item.label) for item in inst.items}
