"""The coding scheme of pain attributions, read from ``scheme.yaml`` (data, each rule cited there).

The study's 17 categories, their merge into 12 for analysis and the mind-brain grouping
(Ashar et al., JAMA Network Open 2023; yonestar/Ashar_2023_PRT_reattribution,
scripts/analyze_categories.m; protocol notes "Pain attributions").

>>> from prt.attribution.scheme import SCHEME
>>> len(SCHEME.categories), len(SCHEME.categories_12)
(17, 12)
>>> SCHEME.merge_12("posture"), SCHEME.is_mind_brain("stress")
('physiology', True)
>>> SCHEME.category_of("physiology (non-spinal)")
'physiology'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from prt.errors import InputError
from prt.files import load_yaml

SCHEME_FILE = Path(__file__).with_name("scheme.yaml")


def _key(text: str) -> str:
    """A category spelling reduced for lookup: lower case, runs of non-letters as one space."""
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


@dataclass(frozen=True)
class Category:
    """One of the 17 categories: prt's ``id``, the study's ``label`` and a one-line definition."""

    id: str
    label: str
    definition: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Scheme:
    """The categories, the 17 -> 12 merge and the mind-brain grouping, with their sources."""

    id: str
    categories: tuple[Category, ...]
    mind_brain: frozenset[str]
    merges: dict[str, str]
    sources: dict[str, str]
    answers_per_participant: int
    score_name: str
    dont_know_category: str

    @property
    def ids(self) -> tuple[str, ...]:
        """The 17 category ids in the scheme's (alphabetical) order."""
        return tuple(c.id for c in self.categories)

    @property
    def categories_12(self) -> tuple[str, ...]:
        """The 12 analysis categories (the 17 after the merge), in the scheme's order."""
        return tuple(dict.fromkeys(self.merges.get(c, c) for c in self.ids))

    def label(self, category: str) -> str:
        """The study's spelling of a category id (``physiology`` -> ``physiology (non-spinal)``)."""
        return self._by_id()[category].label

    def merge_12(self, category: str) -> str:
        """The analysis category of one of the 17 (job, perinatal -> activity; diet -> other;
        weight, posture -> physiology; the rest unchanged)."""
        self._check(category)
        return self.merges.get(category, category)

    def is_mind_brain(self, category: str) -> bool:
        """Psychological, stress or brain (Ashar et al. 2023; cat_is_mindbrain)."""
        self._check(category)
        return category in self.mind_brain

    def category_of(self, spelling: str, where: str = "category") -> str:
        """The id of a category given by id, study label or alias (any case, spacing or
        punctuation); an unknown one is an InputError naming ``where`` and listing the 17."""
        if not isinstance(spelling, str) or not spelling.strip():
            raise InputError(f"{where}: no category given (expected one of {', '.join(self.ids)})")
        found = self._lookup().get(_key(spelling))
        if found is None:
            raise InputError(f"{where}: unknown category (expected one of {', '.join(self.ids)})")
        return found

    def _check(self, category: str) -> None:
        if category not in self._by_id():
            raise InputError(f"category {category!r} is not one of {', '.join(self.ids)}")

    def _by_id(self) -> dict[str, Category]:
        return {c.id: c for c in self.categories}

    def _lookup(self) -> dict[str, str]:
        table = {}
        for c in self.categories:
            for spelling in (c.id, c.label, *c.aliases):
                table[_key(spelling)] = c.id
        return table


def load_scheme(path: str | Path = SCHEME_FILE) -> Scheme:
    """Read and check a scheme file (default: the study's, ``scheme.yaml``)."""
    raw = load_yaml(path, "attribution scheme")
    where = f"attribution scheme {path}"
    try:
        categories = tuple(
            Category(id=str(c["id"]), label=str(c["label"]), definition=str(c["definition"]),
                     aliases=tuple(str(a) for a in c.get("aliases", ())))
            for c in raw["categories"]
        )
        ids = [c.id for c in categories]
        mind_brain = frozenset(str(c) for c in raw["mind_brain"]["categories"])
        merges = {str(r["from"]): str(r["into"]) for r in raw["merge_12"]["rules"]}
        scheme = Scheme(
            id=str(raw["id"]), categories=categories, mind_brain=mind_brain, merges=merges,
            sources={str(k): str(v) for k, v in raw["citations"].items()},
            answers_per_participant=int(raw["answers_per_participant"]),
            score_name=str(raw["score"]["name"]), dont_know_category=str(raw["dont_know"]["category"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(f"{where}: missing or malformed entry ({exc})") from None
    if len(set(ids)) != len(ids):
        raise InputError(f"{where}: a category id is given twice")
    unknown = (set(mind_brain) | set(merges) | set(merges.values()) | {scheme.dont_know_category}) - set(ids)
    if unknown:
        raise InputError(f"{where}: rules name unknown categories: {', '.join(sorted(unknown))}")
    if set(merges.values()) & set(merges):
        raise InputError(f"{where}: a merge target is itself merged away")
    keys = [k for c in categories for k in {_key(s) for s in (c.id, c.label, *c.aliases)}]
    if len(set(keys)) != len(keys):
        raise InputError(f"{where}: two categories share a spelling")
    return scheme


#: The study's scheme (scheme.yaml).
SCHEME: Scheme = load_scheme()
