"""The physician evaluation before PRT as a structured record, and the referral rule.

The trial's evaluation (protocol notes, "Physician evaluation (before PRT)") has four steps:

1. rule out structural causes - red flags (tumour, fracture, infection, inflammatory disease,
   neurological deficit) - and review prior spinal imaging, whose findings are common in people
   without pain and are not assumed to be the cause;
2. educate (pain as the brain's prediction; real and not blameworthy; the pain-fear-focus cycle);
3. rule in centralized pain by six factors;
4. personalise: a formulation, structural, centralized or mixed.

The lists are declared in the curriculum (``physician_evaluation``). :func:`evaluate` applies the
referral rule: a red flag found blocks referral to PRT (``blocked``) whatever the formulation; a
red flag not yet assessed or no formulation leaves it ``incomplete`` (a flag is never assumed
absent); a structural formulation means PRT is ``not_indicated``; centralized or mixed is
``refer``.

>>> record = PhysicianEvaluation.from_dict({
...     "red_flags": {"tumour": False, "fracture": False, "infection": False,
...                   "inflammatory_disease": False, "neurological_deficit": False},
...     "factors": {"stressful_onset": True, "inconsistency": True}, "formulation": "centralized"})
>>> evaluate(record).referral
'refer'
>>> evaluate(PhysicianEvaluation.from_dict({**record.to_dict(), "red_flags": {"fracture": True}})).referral
'blocked'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from prt.program._spec import ID, Spec, name
from prt.program.curriculum import Curriculum, default_curriculum

FORMULATIONS = ("centralized", "mixed", "structural")
REFERRALS = ("refer", "blocked", "not_indicated", "incomplete")


@dataclass(frozen=True)
class PhysicianEvaluation:
    """One evaluation: each red flag and factor True (found/present), False (ruled out/absent) or
    None (not yet assessed); imaging ``reviewed`` None when the patient has no prior imaging."""

    red_flags: dict[str, bool | None]
    factors: dict[str, bool | None]
    education: tuple[str, ...] = ()
    imaging_reviewed: bool | None = None
    imaging_findings: tuple[str, ...] = ()
    findings_explained: bool | None = None
    formulation: str | None = None

    @classmethod
    def from_dict(cls, data: Any, curriculum: Curriculum | None = None, source: str = "physician evaluation"
                  ) -> "PhysicianEvaluation":
        """Validate a (possibly draft) evaluation against the curriculum's lists.

        Keys: ``red_flags`` and ``factors`` ({id: true/false/null}), ``education`` (topic ids given),
        ``imaging`` ({reviewed, findings: [ids], explained}), ``formulation``.
        """
        plan = (curriculum or default_curriculum()).evaluation
        s = Spec(source)
        data = s.keys(data, "", optional=("red_flags", "factors", "education", "imaging", "formulation"))
        flags = _answers(s, data, "red_flags", [c.id for c in plan.red_flags])
        factors = _answers(s, data, "factors", [c.id for c in plan.factors])
        education = s.id_list(data, "education", "", [c.id for c in plan.education], required=False, what="topic")
        imaging = s.keys(data.get("imaging") or {}, "imaging", optional=("reviewed", "findings", "explained"))
        reviewed = s.boolean(imaging, "reviewed", "imaging", required=False)
        findings = s.id_list(imaging, "findings", "imaging", [c.id for c in plan.imaging_findings], required=False,
                             what="finding")
        explained = s.boolean(imaging, "explained", "imaging", required=False)
        if reviewed is not True and (findings or explained is not None):
            raise s.fail("imaging.reviewed", "findings and whether they were explained need reviewed: true")
        formulation = s.text(data, "formulation", "", required=False) or None
        if formulation is not None and formulation not in FORMULATIONS:
            raise s.fail("formulation", f"expected one of {', '.join(FORMULATIONS)}")
        return cls(flags, factors, education, reviewed, findings, explained, formulation)

    def to_dict(self) -> dict[str, Any]:
        imaging: dict[str, Any] = {"reviewed": self.imaging_reviewed}
        if self.imaging_reviewed:
            imaging.update(findings=list(self.imaging_findings), explained=self.findings_explained)
        return {"red_flags": dict(self.red_flags), "factors": dict(self.factors), "education": list(self.education),
                "imaging": imaging, "formulation": self.formulation}


def _answers(s: Spec, data: dict, key: str, known: list[str]) -> dict[str, bool | None]:
    given = s.mapping(data.get(key) or {}, key)
    out: dict[str, bool | None] = dict.fromkeys(known)
    for item, value in given.items():
        if not isinstance(item, str) or item not in out:
            shown = name(item) if isinstance(item, str) and ID.fullmatch(item) else "a key"
            raise s.fail(key, f"{shown} is not declared; known: {', '.join(known)}")
        if value is not None and not isinstance(value, bool):
            raise s.fail(f"{key}.{item}", "expected true, false or null (not yet assessed)")
        out[item] = value
    return out


@dataclass(frozen=True)
class EvaluationResult:
    """The referral decision and what each step of the evaluation holds (ids only)."""

    referral: str
    formulation: str | None
    red_flags_found: tuple[str, ...]
    red_flags_unassessed: tuple[str, ...]
    factors_present: tuple[str, ...]
    factors_unassessed: tuple[str, ...]
    factors_total: int
    education_missing: tuple[str, ...]
    imaging_findings: int
    reasons: tuple[str, ...]

    @property
    def referred(self) -> bool:
        return self.referral == "refer"

    def to_dict(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in vars(self).items()}


def evaluate(evaluation: PhysicianEvaluation, curriculum: Curriculum | None = None) -> EvaluationResult:
    """The referral under the rule in the module docstring, with the reasons in words."""
    plan = (curriculum or default_curriculum()).evaluation
    found = tuple(k for k, v in evaluation.red_flags.items() if v is True)
    unassessed = tuple(c.id for c in plan.red_flags if evaluation.red_flags.get(c.id) is None)
    reasons = []
    if found:
        referral = "blocked"
        reasons.append(f"red flag found ({', '.join(found)}): a red flag blocks referral to PRT; refer for "
                       "medical assessment")
        if evaluation.formulation in ("centralized", "mixed"):
            reasons.append(f"the formulation '{evaluation.formulation}' conflicts with the red flag found")
    elif unassessed or evaluation.formulation is None:
        referral = "incomplete"
        if unassessed:
            reasons.append(f"red flags not yet ruled out: {', '.join(unassessed)}")
        if evaluation.formulation is None:
            reasons.append("no formulation yet (centralized, mixed or structural)")
    elif evaluation.formulation == "structural":
        referral = "not_indicated"
        reasons.append("formulated as structural: PRT is not indicated")
    else:
        referral = "refer"
        reasons.append(f"no red flag and formulated as {evaluation.formulation}: refer to PRT")
    present = tuple(c.id for c in plan.factors if evaluation.factors.get(c.id) is True)
    return EvaluationResult(
        referral=referral, formulation=evaluation.formulation, red_flags_found=found, red_flags_unassessed=unassessed,
        factors_present=present,
        factors_unassessed=tuple(c.id for c in plan.factors if evaluation.factors.get(c.id) is None),
        factors_total=len(plan.factors),
        education_missing=tuple(c.id for c in plan.education if c.id not in evaluation.education),
        imaging_findings=len(evaluation.imaging_findings), reasons=tuple(reasons))


__all__ = ["EvaluationResult", "FORMULATIONS", "PhysicianEvaluation", "REFERRALS", "evaluate"]
