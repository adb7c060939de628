"""The personal evidence sheet: the patient's own examples that the pain is centralized.

Component 2 of the protocol asks the patient to gather evidence from their own life under five
kinds (protocol notes, "The PRT program as delivered"): onset during stress or without injury;
inconsistency; many somatic symptoms; situational triggers; times a usual trigger brought no
pain. The kinds are declared in the curriculum (``evidence.items``), so a site may add one.

How strong the evidence is follows the curriculum's declared rule (``evidence.strength``; prt's
own, since the trial published none): the number of kinds with at least one example, read
against bands (0 none yet, 1-2 some, 3-4 strong, 5 very strong). The summary carries counts
only, never the examples, so it can be logged and exported.

>>> sheet = EvidenceSheet.from_dict({"inconsistency": ["eases on holiday"],
...                                  "triggers": ["worse before meetings", "worse in the car"]})
>>> summary = summarize_evidence(sheet)
>>> summary.kinds_with_examples, summary.examples, summary.strength
(2, 3, 'some')
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from prt.program._spec import ID, Spec, name
from prt.program.curriculum import Curriculum, default_curriculum

#: Most examples kept per kind, and longest example (characters): a sheet, not a diary.
MAX_EXAMPLES = 20
MAX_EXAMPLE_CHARS = 500


@dataclass(frozen=True)
class EvidenceSheet:
    """Examples per evidence kind (every declared kind present, in the curriculum's order)."""

    examples: dict[str, tuple[str, ...]]

    @classmethod
    def from_dict(cls, data: Any, curriculum: Curriculum | None = None, source: str = "evidence sheet"
                  ) -> "EvidenceSheet":
        """``{kind id: [example, ...]}``; blank examples are dropped, unknown kinds refused.

        Errors name ``source`` and the kind, never an example (they are the patient's words).
        """
        curriculum = curriculum or default_curriculum()
        s = Spec(source)
        kinds = [item.id for item in curriculum.evidence.items]
        data = s.mapping({} if data is None else data, "")
        out: dict[str, tuple[str, ...]] = {kind: () for kind in kinds}
        for key, value in data.items():
            if not isinstance(key, str) or key not in out:
                shown = name(key) if isinstance(key, str) and ID.fullmatch(key) else "a key"
                raise s.fail("", f"{shown} is not an evidence kind; known: {', '.join(kinds)}")
            if value is None:
                continue
            if not isinstance(value, list):
                raise s.fail(key, "expected a list of examples")
            examples = []
            for i, example in enumerate(value):
                if not isinstance(example, str):
                    raise s.fail(f"{key}[{i}]", "expected text")
                example = example.strip()
                if not example:
                    continue
                if len(example) > MAX_EXAMPLE_CHARS:
                    raise s.fail(f"{key}[{i}]", f"expected at most {MAX_EXAMPLE_CHARS} characters")
                if any(ord(ch) < 32 and ch not in "\n\t" or 127 <= ord(ch) < 160 for ch in example):
                    raise s.fail(f"{key}[{i}]", "holds control characters")
                examples.append(example)
            if len(examples) > MAX_EXAMPLES:
                raise s.fail(key, f"expected at most {MAX_EXAMPLES} examples")
            out[key] = tuple(examples)
        return cls(out)

    def to_dict(self) -> dict[str, list[str]]:
        return {kind: list(examples) for kind, examples in self.examples.items()}


@dataclass(frozen=True)
class KindCount:
    id: str
    title: str
    examples: int


@dataclass(frozen=True)
class EvidenceSummary:
    """How much evidence the sheet holds and how strong it is (counts only: safe to log)."""

    kinds_total: int
    kinds_with_examples: int
    examples: int
    per_kind: tuple[KindCount, ...]
    missing: tuple[str, ...]
    strength: str
    rule: str

    def to_dict(self) -> dict[str, Any]:
        return {"kinds_total": self.kinds_total, "kinds_with_examples": self.kinds_with_examples,
                "examples": self.examples, "strength": self.strength, "missing": list(self.missing),
                "per_kind": {k.id: k.examples for k in self.per_kind}, "rule": self.rule}


def summarize_evidence(sheet: EvidenceSheet | Mapping, curriculum: Curriculum | None = None) -> EvidenceSummary:
    """Count the sheet's examples per kind and read the strength from the curriculum's bands."""
    curriculum = curriculum or default_curriculum()
    if not isinstance(sheet, EvidenceSheet):
        sheet = EvidenceSheet.from_dict(sheet, curriculum)
    rule = curriculum.evidence
    per_kind = tuple(KindCount(item.id, item.title, len(sheet.examples.get(item.id, ()))) for item in rule.items)
    with_examples = sum(1 for k in per_kind if k.examples)
    return EvidenceSummary(
        kinds_total=len(per_kind), kinds_with_examples=with_examples, examples=sum(k.examples for k in per_kind),
        per_kind=per_kind, missing=tuple(k.id for k in per_kind if not k.examples),
        strength=rule.strength(with_examples), rule=rule.source)


__all__ = ["EvidenceSheet", "EvidenceSummary", "KindCount", "MAX_EXAMPLES", "MAX_EXAMPLE_CHARS",
           "summarize_evidence"]
