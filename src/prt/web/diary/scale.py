"""The daily rating's scale, read from the ``pain_nrs`` instrument definition (never written here).

Why: the instrument YAML is the one source of an item's range, option labels and interpretation
bands (prt.instruments); the web form, the API's validation, the database constraint and the
chart all take them from here.
"""

from __future__ import annotations

from functools import lru_cache

from prt import instruments

INSTRUMENT = "pain_nrs"


@lru_cache(maxsize=1)
def item():
    """The instrument's single item (its options are the allowed ratings)."""
    (only,) = instruments.get(INSTRUMENT).items
    return only


def bounds() -> tuple[int, int]:
    """(lowest, highest) rating, e.g. (0, 10)."""
    it = item()
    return int(it.minimum), int(it.maximum)


def values() -> tuple[int, ...]:
    """Every allowed rating, in order."""
    return tuple(int(v) for v in sorted(item().options))


def option_labels() -> dict[int, str]:
    """Each rating's label from the definition, e.g. ``{0: "0 (no pain)", ..., 10: "10 (worst ...)"}``."""
    return {int(v): str(label) for v, label in item().options.items()}


def anchor(value: int) -> str:
    """The words a rating's label adds to its number ("no pain" for 0), or ""."""
    label = option_labels()[value]
    rest = label[len(str(value)):].strip() if label.startswith(str(value)) else label
    return rest.strip("() ")


def band(value: int) -> str | None:
    """The interpretation band of a rating (mild, moderate, severe; the definition's source)."""
    interpretation = instruments.get(INSTRUMENT).interpretation
    return interpretation.band(value) if interpretation is not None else None


def question() -> str:
    """The item's text: a site's licensed wording when supplied, else the definition's label."""
    return instruments.item_texts(INSTRUMENT)[item().number]
