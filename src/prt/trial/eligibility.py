"""Eligibility screening as a declarative rule set, with site rules and a screening log.

The default rules are the Boulder Back Pain Study's criteria (Ashar et al., JAMA Psychiatry 2022,
Methods; NCT03294148), in ``prt/trial/config/eligibility.yaml``: age 21-70; back pain on at least
half the days of the last 6 months; last-week average pain >= 4/10; back pain worse than leg pain;
MRI-safe; no autoimmune condition; no history of metastatic cancer. A site YAML adds rules,
overrides a rule by its ``code`` (only the keys it gives) or disables one (``enabled: false``).

Screening one person gives :class:`ScreeningResult`: ``ineligible`` with every failed rule's code
when any answered criterion fails; otherwise ``incomplete`` naming the unanswered fields when any
are missing (never silently ineligible); otherwise ``eligible``. Missing fields are reported in
every case. Results and enrolment decisions go to an append-only JSON Lines screening log, the
source of CONSORT's "assessed for eligibility" and "excluded" boxes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml

from prt.errors import InputError

STATUSES = ("eligible", "ineligible", "incomplete")

#: Rule checks and the keys each needs besides code/description/field.
CHECKS = {
    "between": ("min", "max"),
    "at_least": ("min",),
    "at_most": ("max",),
    "is_true": (),
    "is_false": (),
    "one_of": ("values",),
    "greater_than_field": ("other",),
}

_TRUE = {"1", "true", "yes", "y"}
_FALSE = {"0", "false", "no", "n"}


@dataclass(frozen=True)
class Rule:
    """One criterion: ``field`` must pass ``check``; ``code`` is reported when it does not."""

    code: str
    field: str
    check: str
    description: str = ""
    min: float | None = None
    max: float | None = None
    values: tuple[str, ...] | None = None
    other: str | None = None
    enabled: bool = True

    def __post_init__(self) -> None:
        where = f"eligibility rule {self.code!r}"
        if not self.code or not self.field:
            raise InputError(f"eligibility rule {self.code!r}: needs a code and a field")
        if self.check not in CHECKS:
            raise InputError(f"{where}: check must be one of {', '.join(CHECKS)}")
        for key in CHECKS[self.check]:
            if getattr(self, key) is None:
                raise InputError(f"{where}: check {self.check!r} needs {key!r}")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise InputError(f"{where}: min is above max")

    @property
    def fields(self) -> tuple[str, ...]:
        return (self.field, self.other) if self.check == "greater_than_field" else (self.field,)

    def evaluate(self, answers: Mapping[str, Any], participant: str) -> bool | None:
        """True (passes), False (fails) or None (a needed answer is missing)."""
        values = [answers.get(name) for name in self.fields]
        if any(_missing(v) for v in values):
            return None
        if self.check in ("is_true", "is_false"):
            flag = _as_bool(values[0], participant, self.field)
            return flag if self.check == "is_true" else not flag
        if self.check == "one_of":
            return str(values[0]).strip() in self.values
        numbers = [_as_number(v, participant, name) for v, name in zip(values, self.fields)]
        x = numbers[0]
        if self.check == "between":
            return self.min <= x <= self.max
        if self.check == "at_least":
            return x >= self.min
        if self.check == "at_most":
            return x <= self.max
        return x > numbers[1]  # greater_than_field

    def to_dict(self) -> dict[str, Any]:
        out = {"code": self.code, "field": self.field, "check": self.check, "description": self.description}
        for key in ("min", "max", "other"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        if self.values is not None:
            out["values"] = list(self.values)
        if not self.enabled:
            out["enabled"] = False
        return out


def _missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and value.strip() == ""


def _as_bool(value: Any, participant: str, name: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise InputError(f"record {participant!r}, field {name!r}: expected yes/no (1/0, true/false)")


def _as_number(value: Any, participant: str, name: str) -> float:
    if isinstance(value, bool):
        raise InputError(f"record {participant!r}, field {name!r}: expected a number")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputError(f"record {participant!r}, field {name!r}: expected a number") from None
    if not math.isfinite(number):
        raise InputError(f"record {participant!r}, field {name!r}: expected a finite number")
    return number


@dataclass(frozen=True)
class RuleSet:
    """An ordered set of rules with a name and version (recorded on each screening)."""

    name: str
    version: str
    rules: tuple[Rule, ...]

    @property
    def active(self) -> tuple[Rule, ...]:
        return tuple(r for r in self.rules if r.enabled)

    @property
    def fields(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for rule in self.active:
            for name in rule.fields:
                seen.setdefault(name)
        return tuple(seen)

    def with_site(self, site: Mapping[str, Any], source: str = "site rules") -> "RuleSet":
        """This rule set with a site's additions, overrides (by code) and disabled rules."""
        if not isinstance(site, Mapping) or not isinstance(site.get("rules", []), list):
            raise InputError(f"{source}: expected a mapping with a 'rules' list")
        unknown = sorted(set(site) - {"site", "name", "version", "rules"})
        if unknown:
            raise InputError(f"{source}: unknown key(s) {', '.join(unknown)}")
        rules = {r.code: r for r in self.rules}
        for i, spec in enumerate(site.get("rules", [])):
            if not isinstance(spec, Mapping) or "code" not in spec:
                raise InputError(f"{source}: rule {i + 1} needs a code")
            code = str(spec["code"])
            base = rules[code].to_dict() if code in rules else {}
            merged = {**base, **spec}
            rules[code] = _rule_from_dict(merged, f"{source}: rule {code!r}")
        site_name = str(site.get("site") or site.get("name") or "site")
        version = f"{self.version}+{site_name}:{site.get('version', 1)}"
        return RuleSet(name=f"{self.name}+{site_name}", version=version, rules=tuple(rules.values()))


def _rule_from_dict(spec: Mapping[str, Any], where: str) -> Rule:
    allowed = {"code", "field", "check", "description", "min", "max", "values", "other", "enabled"}
    unknown = sorted(set(spec) - allowed)
    if unknown:
        raise InputError(f"{where}: unknown key(s) {', '.join(unknown)}")
    missing = [k for k in ("code", "field", "check") if k not in spec]
    if missing:
        raise InputError(f"{where}: missing {', '.join(missing)}")
    try:
        return Rule(
            code=str(spec["code"]),
            field=str(spec["field"]),
            check=str(spec["check"]),
            description=str(spec.get("description", "")),
            min=None if spec.get("min") is None else float(spec["min"]),
            max=None if spec.get("max") is None else float(spec["max"]),
            values=None if spec.get("values") is None else tuple(str(v) for v in spec["values"]),
            other=None if spec.get("other") is None else str(spec["other"]),
            enabled=bool(spec.get("enabled", True)),
        )
    except InputError:
        raise
    except (TypeError, ValueError):
        raise InputError(f"{where}: min/max must be numbers") from None


def rule_set_from_dict(spec: Mapping[str, Any], source: str = "eligibility rules") -> RuleSet:
    if not isinstance(spec, Mapping) or not isinstance(spec.get("rules"), list):
        raise InputError(f"{source}: expected a mapping with a 'rules' list")
    rules = tuple(_rule_from_dict(r if isinstance(r, Mapping) else {}, f"{source}: rule {i + 1}")
                  for i, r in enumerate(spec["rules"]))
    codes = [r.code for r in rules]
    if len(set(codes)) != len(codes):
        raise InputError(f"{source}: rule codes must be distinct")
    return RuleSet(name=str(spec.get("name", "rules")), version=str(spec.get("version", 1)), rules=rules)


def _load_yaml(path: str | Path, what: str) -> Any:
    try:
        return yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"{what} {path}: cannot read ({exc.strerror})") from None
    except yaml.YAMLError:
        raise InputError(f"{what} {path}: not valid YAML") from None


def default_rules() -> RuleSet:
    """The trial's own criteria (package data ``config/eligibility.yaml``)."""
    text = resources.files("prt.trial").joinpath("config/eligibility.yaml").read_text(encoding="utf-8")
    return rule_set_from_dict(yaml.safe_load(text), "default eligibility rules")


def load_rules(path: str | Path | None = None, site: str | Path | None = None) -> RuleSet:
    """Rules from ``path`` (default: the trial's), then the site file's changes if given."""
    rules = default_rules() if path is None else rule_set_from_dict(
        _load_yaml(path, "eligibility rules"), f"eligibility rules {path}")
    if site is not None:
        rules = rules.with_site(_load_yaml(site, "site rules"), f"site rules {site}")
    return rules


@dataclass(frozen=True)
class ScreeningResult:
    """One screening: status, every failed rule's code, every missing field."""

    participant: str
    status: str
    reasons: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    rule_set: str = ""
    timestamp: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"type": "screening", "participant": self.participant, "status": self.status,
                "reasons": list(self.reasons), "missing": list(self.missing),
                "rule_set": self.rule_set, "timestamp": self.timestamp}


def screen(participant: str, answers: Mapping[str, Any], rules: RuleSet | None = None,
           timestamp: str | None = None) -> ScreeningResult:
    """Screen one person's answers against ``rules`` (default: the trial's)."""
    rules = rules or default_rules()
    participant = str(participant).strip()
    if not participant:
        raise InputError("screening: record id is empty")
    reasons: list[str] = []
    missing: dict[str, None] = {}
    for rule in rules.active:
        outcome = rule.evaluate(answers, participant)
        if outcome is None:
            for name in rule.fields:
                if _missing(answers.get(name)):
                    missing.setdefault(name)
        elif not outcome:
            reasons.append(rule.code)
    status = "ineligible" if reasons else ("incomplete" if missing else "eligible")
    return ScreeningResult(participant, status, tuple(reasons), tuple(missing),
                           f"{rules.name}@{rules.version}", timestamp or _now())


def screen_table(records: Iterable[Mapping[str, Any]], rules: RuleSet | None = None,
                 id_field: str = "participant", timestamp: str | None = None) -> list[ScreeningResult]:
    """Screen many records (e.g. rows of a CSV); each must carry ``id_field``."""
    rules = rules or default_rules()
    results = []
    for i, record in enumerate(records, start=1):
        pid = record.get(id_field)
        if _missing(pid):
            raise InputError(f"screening row {i}: no {id_field!r}")
        results.append(screen(str(pid), record, rules, timestamp))
    return results


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


# ----------------------------------------------------------------------------- screening log
@dataclass(frozen=True)
class Enrolment:
    """After an eligible screening: consented and enrolled, or not (with a reason, e.g. declined)."""

    participant: str
    enrolled: bool
    reason: str = ""
    timestamp: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"type": "enrolment", "participant": self.participant, "enrolled": self.enrolled,
                "reason": self.reason, "timestamp": self.timestamp}


@dataclass
class ScreeningLog:
    """The screening log read back: latest screening and enrolment decision per person."""

    screenings: dict[str, ScreeningResult] = field(default_factory=dict)
    enrolments: dict[str, Enrolment] = field(default_factory=dict)

    def status(self, participant: str) -> str:
        result = self.screenings.get(participant)
        return "not screened" if result is None else result.status

    def enrolled(self, participant: str) -> bool:
        e = self.enrolments.get(participant)
        return bool(e and e.enrolled)

    def add(self, entry: Mapping[str, Any], where: str = "screening log") -> None:
        kind = entry.get("type")
        pid = str(entry.get("participant", "")).strip()
        if not pid:
            raise InputError(f"{where}: entry without a participant")
        if kind == "screening":
            status = entry.get("status")
            if status not in STATUSES:
                raise InputError(f"{where}: participant {pid!r}: status must be one of {', '.join(STATUSES)}")
            self.screenings[pid] = ScreeningResult(
                pid, status, tuple(entry.get("reasons") or ()), tuple(entry.get("missing") or ()),
                str(entry.get("rule_set", "")), str(entry.get("timestamp", "")))
        elif kind == "enrolment":
            if self.status(pid) != "eligible":
                raise InputError(f"{where}: participant {pid!r}: enrolment recorded but latest screening is "
                                 f"{self.status(pid)!r}, not eligible")
            self.enrolments[pid] = Enrolment(pid, bool(entry.get("enrolled")), str(entry.get("reason", "")),
                                             str(entry.get("timestamp", "")))
        else:
            raise InputError(f"{where}: participant {pid!r}: unknown entry type {kind!r}")


def read_screening_log(path: str | Path) -> ScreeningLog:
    """Read a screening log; later entries for a person supersede earlier ones."""
    from prt.trial.allocation_log import read_jsonl

    log = ScreeningLog()
    for i, entry in enumerate(read_jsonl(path, "screening log"), start=1):
        log.add(entry, f"screening log {path}: line {i}")
    return log


def append_screenings(path: str | Path, results: Iterable[ScreeningResult]) -> None:
    from prt.trial.allocation_log import append_jsonl

    append_jsonl(path, [r.to_dict() for r in results])


def record_enrolment(path: str | Path, participant: str, enrolled: bool, reason: str = "",
                     timestamp: str | None = None) -> Enrolment:
    """Append an enrolment decision for an eligible participant (refused otherwise)."""
    from prt.trial.allocation_log import append_jsonl

    log = read_screening_log(path) if Path(path).exists() else ScreeningLog()
    if log.status(participant) != "eligible":
        raise InputError(f"participant {participant!r}: latest screening is {log.status(participant)!r}; "
                         "only eligible participants are enrolled")
    if not enrolled and not reason.strip():
        raise InputError(f"participant {participant!r}: a reason is needed when not enrolled (e.g. declined)")
    decision = Enrolment(participant, enrolled, reason.strip(), timestamp or _now())
    append_jsonl(path, [decision.to_dict()])
    return decision
