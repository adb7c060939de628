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
source of CONSORT's "assessed for eligibility" and "excluded" boxes; an eligible screening also
keeps the answers the minimization factors need (``answers``: age, sex, pain, opioid use), the
source of the factors at allocation.

Answers are checked before anything is screened: numbers are plain decimals (``4_5`` or ``1e1``
are refused, not read as 45 or 10), a field with a declared range (the rules' ``fields``: scored
items take it from the instrument definitions, e.g. ``pain_avg_week`` 0-10 from the BPI) must lie
in it, and a factor answer must be one of its levels. Every error names the record and the field,
never the answer (developers' guide: no patient data in messages).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from prt.errors import InputError
from prt.files import load_yaml, loads_yaml
from prt.trial.inputs import participant_id
from prt.trial.minimization import Factor, parse_number

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
            flag = parse_yes_no(values[0], participant, self.field)
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


def parse_yes_no(value: Any, participant: str, name: str) -> bool:
    """A yes/no answer (yes/no, y/n, true/false, 1/0; any case) as bool; InputError naming record and field."""
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
    return parse_number(value, f"record {participant!r}, field {name!r}")


@dataclass(frozen=True)
class FieldRange:
    """The declared range of a numeric answer (``fields`` in a rules file): outside is an error.

    ``source`` says where the range comes from (an instrument definition, or the rule file's own
    words), and is shown in the error.
    """

    field: str
    min: float
    max: float
    source: str = ""

    def check(self, value: Any, participant: str) -> None:
        where = f"record {participant!r}, field {self.field!r}"
        number = parse_number(value, where)
        if not self.min <= number <= self.max:
            source = f" ({self.source})" if self.source else ""
            raise InputError(f"{where}: outside the declared range {self.min:g}-{self.max:g}{source}")


def _field_range(name: str, spec: Any, where: str) -> FieldRange:
    """A ``fields`` entry: ``{min, max[, source]}``, ``{instrument[, score]}`` or ``{outcome}``."""
    if not isinstance(spec, Mapping):
        raise InputError(f"{where}: field {name!r}: expected a mapping (min/max, instrument or outcome)")
    unknown = sorted(set(spec) - {"min", "max", "source", "instrument", "score", "outcome"})
    if unknown:
        raise InputError(f"{where}: field {name!r}: unknown key(s) {', '.join(map(str, unknown))}")
    if "outcome" in spec:
        from prt.vocabulary import outcome_label, outcome_range

        bounds = outcome_range(str(spec["outcome"]))
        if bounds is None:
            raise InputError(f"{where}: field {name!r}: outcome {spec['outcome']!r} has no declared range")
        return FieldRange(name, float(bounds[0]), float(bounds[1]), outcome_label(str(spec["outcome"])))
    if "instrument" in spec:
        from prt.instruments import get

        instrument = get(str(spec["instrument"]))
        score = str(spec.get("score", "total"))
        try:
            bounds = instrument.range_of(score)
        except KeyError:
            bounds = None
        if bounds is None:
            raise InputError(f"{where}: field {name!r}: instrument {instrument.id!r} declares no range for {score!r}")
        label = instrument.id if score == "total" else f"{instrument.id} {score}"
        return FieldRange(name, float(bounds[0]), float(bounds[1]), f"{label}, instrument definition")
    low, high = (_finite(spec.get(k)) for k in ("min", "max"))
    if low is None or high is None or low > high:
        raise InputError(f"{where}: field {name!r}: needs numbers min <= max (or an instrument or outcome)")
    return FieldRange(name, low, high, str(spec.get("source", "")))


def _finite(value: Any) -> float | None:
    """A finite number from a rules file, or None (not a number, not finite, or too large for a float)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def _field_ranges(spec: Any, where: str) -> dict[str, FieldRange]:
    if spec is None:
        return {}
    if not isinstance(spec, Mapping):
        raise InputError(f"{where}: 'fields' must map field names to their ranges")
    return {str(name): _field_range(str(name), value, where) for name, value in spec.items()}


@dataclass(frozen=True)
class RuleSet:
    """An ordered set of rules with a name and version (recorded on each screening)."""

    name: str
    version: str
    rules: tuple[Rule, ...]
    ranges: Mapping[str, FieldRange] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, spec: Mapping[str, Any], source: str = "eligibility rules") -> "RuleSet":
        """Rules from plain data (the rules YAML); InputError naming ``source`` and the key."""
        if not isinstance(spec, Mapping) or not isinstance(spec.get("rules"), list):
            raise InputError(f"{source}: expected a mapping with a 'rules' list")
        rules = tuple(_rule_from_dict(r if isinstance(r, Mapping) else {}, f"{source}: rule {i + 1}")
                      for i, r in enumerate(spec["rules"]))
        codes = [r.code for r in rules]
        if len(set(codes)) != len(codes):
            raise InputError(f"{source}: rule codes must be distinct")
        unknown = sorted(set(spec) - {"name", "version", "rules", "fields"})
        if unknown:
            raise InputError(f"{source}: unknown key(s) {', '.join(map(str, unknown))}")
        return cls(name=str(spec.get("name", "rules")), version=str(spec.get("version", 1)), rules=rules,
                   ranges=_field_ranges(spec.get("fields"), source))

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
        unknown = sorted(set(site) - {"site", "name", "version", "rules", "fields"})
        if unknown:
            raise InputError(f"{source}: unknown key(s) {', '.join(unknown)}")
        rules = {r.code: r for r in self.rules}
        changed: set[str] = set()
        for i, spec in enumerate(site.get("rules", [])):
            if not isinstance(spec, Mapping) or "code" not in spec:
                raise InputError(f"{source}: rule {i + 1} needs a code")
            code = _text(spec["code"], f"{source}: rule {i + 1}", "code")
            if code in changed:  # the later entry would silently win
                raise InputError(f"{source}: rule {code!r} is given more than once")
            changed.add(code)
            base = rules[code].to_dict() if code in rules else {}
            merged = {**base, **spec}
            rules[code] = _rule_from_dict(merged, f"{source}: rule {code!r}")
        site_name = str(site.get("site") or site.get("name") or "site")
        version = f"{self.version}+{site_name}:{site.get('version', 1)}"
        ranges = {**self.ranges, **_field_ranges(site.get("fields"), source)}
        return RuleSet(name=f"{self.name}+{site_name}", version=version, rules=tuple(rules.values()),
                       ranges=ranges)


def _rule_from_dict(spec: Mapping[str, Any], where: str) -> Rule:
    allowed = {"code", "field", "check", "description", "min", "max", "values", "other", "enabled"}
    unknown = sorted(set(spec) - allowed)
    if unknown:
        raise InputError(f"{where}: unknown key(s) {', '.join(unknown)}")
    missing = [k for k in ("code", "field", "check") if k not in spec]
    if missing:
        raise InputError(f"{where}: missing {', '.join(missing)}")
    bounds = {}
    for key in ("min", "max"):
        if spec.get(key) is not None:
            bounds[key] = _finite(spec[key])
            if bounds[key] is None:
                raise InputError(f"{where}: min/max must be numbers (finite)")
    values = spec.get("values")
    if values is not None:
        if not isinstance(values, (list, tuple)):  # a bare string would be matched letter by letter
            raise InputError(f"{where}: 'values' must be a list of answers")
        values = tuple(_text(v, where, "values") for v in values)
    enabled = spec.get("enabled", True)
    if not isinstance(enabled, bool):  # bool("false") is True: a quoted false would keep the rule on
        raise InputError(f"{where}: 'enabled' must be true or false (unquoted)")
    description = spec.get("description", "")
    if not isinstance(description, str):
        raise InputError(f"{where}: 'description' must be text")
    return Rule(
        code=_text(spec["code"], where, "code"),
        field=_text(spec["field"], where, "field"),
        check=_text(spec["check"], where, "check"),
        description=description,
        min=bounds.get("min"),
        max=bounds.get("max"),
        values=values,
        other=None if spec.get("other") is None else _text(spec["other"], where, "other"),
        enabled=enabled,
    )


def _text(value: Any, where: str, key: str) -> str:
    """A name or answer in a rules file: text or a number, never empty, a list or true/false (YAML
    reads an unquoted yes/no as true/false, which would never equal the answer "yes")."""
    if isinstance(value, bool):
        raise InputError(f"{where}: {key!r} holds true/false; quote yes/no (YAML reads them as true/false)")
    if not isinstance(value, (str, int, float)) or not str(value).strip():
        raise InputError(f"{where}: {key!r} must be a name or a value, not empty or a list")
    return str(value).strip()


def default_rules() -> RuleSet:
    """The trial's own criteria (package data ``config/eligibility.yaml``)."""
    text = resources.files("prt.trial").joinpath("config/eligibility.yaml").read_text(encoding="utf-8")
    return RuleSet.from_dict(loads_yaml(text, "default eligibility rules"), "default eligibility rules")


def load_rules(path: str | Path | None = None, site: str | Path | None = None) -> RuleSet:
    """Rules from ``path`` (default: the trial's), then the site file's changes if given."""
    rules = default_rules() if path is None else RuleSet.from_dict(
        load_yaml(path, "eligibility rules"), f"eligibility rules {path}")
    if site is not None:
        rules = rules.with_site(load_yaml(site, "site rules"), f"site rules {site}")
    return rules


@dataclass(frozen=True)
class ScreeningResult:
    """One screening: status, every failed rule's code, every missing field, and (eligible only)
    the answers the minimization factors need."""

    participant: str
    status: str
    reasons: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    rule_set: str = ""
    timestamp: str = ""
    answers: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out = {"type": "screening", "participant": self.participant, "status": self.status,
               "reasons": list(self.reasons), "missing": list(self.missing),
               "rule_set": self.rule_set, "timestamp": self.timestamp}
        if self.answers:
            out["answers"] = dict(self.answers)
        return out


def screen(participant: str, answers: Mapping[str, Any], rules: RuleSet | None = None,
           timestamp: str | None = None, factors: Sequence[Factor] = ()) -> ScreeningResult:
    """Screen one person's answers against ``rules`` (default: the trial's).

    ``factors``: the minimization factors whose answers (each factor's ``field``) an eligible
    screening keeps for allocation. Every answered field with a declared range, and every answered
    factor field, is checked first: a bad answer is an InputError naming the record and field.
    """
    rules = rules or default_rules()
    participant = participant_id(participant, "screening")
    for name, bounds in rules.ranges.items():
        if not _missing(answers.get(name)):
            bounds.check(answers[name], participant)
    kept: dict[str, Any] = {}
    for factor in factors:
        name = factor.source_field
        value = answers.get(name)
        if _missing(value):
            continue
        try:
            checked = factor.value_of(value, participant)
        except InputError as exc:
            reason = str(exc).split(": ", 1)[-1]
            raise InputError(f"record {participant!r}, field {name!r} (minimization factor {factor.name!r}): "
                             f"{reason}") from None
        kept[name] = int(checked) if isinstance(checked, float) and checked.is_integer() else checked
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
                           f"{rules.name}@{rules.version}", timestamp or _now(),
                           kept if status == "eligible" else {})


def screen_table(records: Iterable[Mapping[str, Any]], rules: RuleSet | None = None,
                 id_field: str = "participant", timestamp: str | None = None, factors: Sequence[Factor] = (),
                 rows: Sequence[int] | None = None) -> list[ScreeningResult]:
    """Screen many records (e.g. rows of a CSV); each must carry ``id_field``, once per batch.

    All records are screened before anything is returned, so a bad answer anywhere means nothing
    is logged. ``rows`` numbers the records in messages (default 1, 2, ...).
    """
    rules = rules or default_rules()
    results = []
    first_row: dict[str, int] = {}
    records = list(records)
    if not records:
        raise InputError("screening: no one to screen (the answers hold a header but no rows)")
    rows = list(rows) if rows is not None else list(range(1, len(records) + 1))
    for row, record in zip(rows, records):
        pid = record.get(id_field)
        if _missing(pid):
            raise InputError(f"screening row {row}: no {id_field!r}")
        pid = participant_id(pid, f"screening row {row}, column {id_field!r}")
        if pid in first_row:
            raise InputError(f"screening row {row}: record {pid!r} appears again (first in row {first_row[pid]}); "
                             "one row per person in a batch")
        first_row[pid] = row
        results.append(screen(pid, record, rules, timestamp, factors))
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

    def answers(self, participant: str) -> dict[str, Any]:
        """The factor answers kept by the participant's latest screening (empty if none)."""
        result = self.screenings.get(participant)
        return dict(result.answers) if result is not None else {}

    def add(self, entry: Mapping[str, Any], where: str = "screening log") -> None:
        """Read one entry strictly: the log is not signed, so a value of the wrong type (``"enrolled":
        "false"``, which ``bool()`` reads as true) is an error, never reinterpreted."""
        kind = entry.get("type")
        pid = entry.get("participant")
        if not isinstance(pid, str) or not pid.strip():
            raise InputError(f"{where}: entry without a participant id (text)")
        pid = participant_id(pid, where)
        if kind == "screening":
            status = entry.get("status")
            if status not in STATUSES:
                raise InputError(f"{where}: participant {pid!r}: status must be one of {', '.join(STATUSES)}")
            answers = entry.get("answers") or {}
            if not isinstance(answers, Mapping):
                raise InputError(f"{where}: participant {pid!r}: answers must be a mapping")
            self.screenings[pid] = ScreeningResult(
                pid, status, _codes(entry.get("reasons"), where, pid, "reasons"),
                _codes(entry.get("missing"), where, pid, "missing"),
                str(entry.get("rule_set", "")), str(entry.get("timestamp", "")), dict(answers))
        elif kind == "enrolment":
            if self.status(pid) != "eligible":
                raise InputError(f"{where}: participant {pid!r}: enrolment recorded but latest screening is "
                                 f"{self.status(pid)!r}, not eligible")
            enrolled, reason = entry.get("enrolled"), entry.get("reason", "")
            if not isinstance(enrolled, bool):
                raise InputError(f"{where}: participant {pid!r}: 'enrolled' must be true or false")
            if not isinstance(reason, str):
                raise InputError(f"{where}: participant {pid!r}: 'reason' must be text")
            self.enrolments[pid] = Enrolment(pid, enrolled, reason, str(entry.get("timestamp", "")))
        else:
            raise InputError(f"{where}: participant {pid!r}: unknown entry type {kind!r}")


def _codes(value: Any, where: str, pid: str, key: str) -> tuple[str, ...]:
    """A screening's reason codes or missing fields: a list of names (a string would split into letters)."""
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InputError(f"{where}: participant {pid!r}: {key!r} must be a list of names")
    return tuple(value)


def read_screening_log(path: str | Path) -> ScreeningLog:
    """Read a screening log; later entries for a person supersede earlier ones."""
    from prt.trial.allocation_log import read_jsonl

    log = ScreeningLog()
    for i, entry in enumerate(read_jsonl(path, "screening log"), start=1):
        log.add(entry, f"screening log {path}: line {i}")
    return log


def append_screenings(path: str | Path, results: Iterable[ScreeningResult]) -> None:
    """Append screenings to the log; an existing file must read as a screening log first (``--log``
    naming the answers CSV, or any other file, used to get JSON lines appended to it)."""
    from prt.trial.allocation_log import append_jsonl

    entries = [r.to_dict() for r in results]
    if Path(path).exists():
        read_screening_log(path)
    append_jsonl(path, entries)


def record_enrolment(path: str | Path, participant: str, enrolled: bool, reason: str = "",
                     timestamp: str | None = None) -> Enrolment:
    """Append an enrolment decision for an eligible participant (refused otherwise)."""
    from prt.trial.allocation_log import append_jsonl

    participant = participant_id(participant, "enrolment")
    log = read_screening_log(path) if Path(path).exists() else ScreeningLog()
    if log.status(participant) != "eligible":
        raise InputError(f"participant {participant!r}: latest screening is {log.status(participant)!r}; "
                         "only eligible participants are enrolled")
    if not enrolled and not reason.strip():
        raise InputError(f"participant {participant!r}: a reason is needed when not enrolled (e.g. declined)")
    decision = Enrolment(participant, enrolled, reason.strip(), timestamp or _now())
    append_jsonl(path, [decision.to_dict()])
    return decision
