"""How a trial's REDCap project maps onto prt's vocabulary: events, fields, arm and sex codes.

A :class:`Mapping` says which REDCap event is which timepoint, which field is which outcome and
which code is which arm. The mapping of the Boulder Back Pain Study's REDCap project (Ashar et al.,
JAMA Psychiatry 2022; field and event names from its public export) is built in as
:data:`BOULDER_MAPPING`; a replication with other names supplies a YAML or JSON file
(``prt analyze --mapping FILE``, format in ``docs/data.md``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping as TypingMapping

import yaml

from prt.errors import InputError

from prt.vocabulary import ARMS, OUTCOMES, SEXES, TIMEPOINTS, redcap_fields  # noqa: F401 - re-exported


@dataclass(frozen=True)
class Mapping:
    """Names and codes of one REDCap project, mapped onto prt's vocabulary.

    Attributes:
        name: what the mapping is for; ``"boulder-back-pain-study"`` for the built-in one.
        record_id: candidate names of the record-id column, first found wins.
        arm_field, arm_codes: the randomization-arm field and its codes (as text) -> arm name.
        sex_field, sex_codes: the sex field and its codes -> ``"male"``/``"female"``.
        age_field: the age field (years).
        events: REDCap unique event name -> timepoint, in study order.
        fields: REDCap field -> outcome name; fields not listed keep their own name.
        participant_fields: fixed per-participant REDCap field -> our column name.
        participant_recodes: our column name -> {code text: value}, e.g. opioid use 2 -> 0 (no).
        text_fields: fields carried as text (free text, category labels), never parsed as numbers.
        missing_tokens: cell values that mean "no value" besides the empty cell.
        required_events: events that must be present in the data (a user's mapping names them all).
    """

    name: str
    events: dict[str, str]
    arm_codes: dict[str, str]
    record_id: tuple[str, ...] = ("record_id", "id")
    arm_field: str = "group"
    sex_field: str = "sex"
    sex_codes: dict[str, str] = field(default_factory=lambda: {"1": "male", "2": "female"})
    age_field: str = "age"
    fields: dict[str, str] = field(default_factory=dict)
    participant_fields: dict[str, str] = field(default_factory=dict)
    participant_recodes: dict[str, dict[str, float]] = field(default_factory=dict)
    text_fields: tuple[str, ...] = ()
    missing_tokens: tuple[str, ...] = ("", "NaN", "nan", "NA", "<undefined>")
    required_events: tuple[str, ...] = ()

    def outcome_of(self, redcap_field: str) -> str:
        return self.fields.get(redcap_field, redcap_field)

    def field_of(self, outcome: str) -> str:
        for redcap_field, name in self.fields.items():
            if name == outcome:
                return redcap_field
        return outcome

    def event_of(self, timepoint: str) -> str:
        for event, name in self.events.items():
            if name == timepoint:
                return event
        raise InputError(
            f"timepoint {timepoint!r} has no REDCap event in mapping {self.name!r}; "
            f"known timepoints: {', '.join(self.events.values())}"
        )


def _boulder_events() -> dict[str, str]:
    events = {
        "online_prescreenin_arm_1": "prescreening",
        "eligibility_assess_arm_1": "eligibility",
        "t1_arm_1": "pre",
    }
    for scan in (1,):
        for day in (1, 2, 3):
            events[f"perit{scan}daily{day}pre_arm_1"] = f"scan{scan}_day{day}_pre"
            events[f"perit{scan}daily{day}_arm_1"] = f"scan{scan}_day{day}"
    for week in range(1, 9):
        events[f"treatmentweekly{week}_arm_1"] = f"week{week}"
    events["t2_arm_1"] = "post"
    for day in (1, 2, 3):
        events[f"perit2daily{day}pre_arm_1"] = f"scan2_day{day}_pre"
        events[f"perit2daily{day}_arm_1"] = f"scan2_day{day}"
    for months in (1, 2, 3, 6, 12):
        events[f"x{months}_month_follow_up_arm_1"] = f"{months}mo"
    return events


#: The Boulder Back Pain Study's REDCap project (the shared public export's names).
BOULDER_MAPPING = Mapping(
    name="boulder-back-pain-study",
    record_id=("id", "record_id"),
    arm_field="group",
    arm_codes={"1": "prt", "2": "placebo", "3": "usual_care"},
    sex_field="gender",
    sex_codes={"1": "male", "2": "female"},
    age_field="age",
    events=_boulder_events(),
    # REDCap score field -> outcome, from the instruments' data_fields (pain_avg -> pain_intensity)
    fields={f: o for f, o in redcap_fields().items() if f != o},
    participant_fields={
        "education": "education",
        "ethnicity": "ethnicity",
        "hispanic": "hispanic",
        "employment_status": "employment_status",
        "exercise": "exercise",
        "handedness": "handedness",
        "sses": "sses",
        "married_or_living_as_marri": "married",
        "weight": "weight",
        "current_opioid_use": "current_opioid_use",
        "backpain_length": "backpain_length",
        "is_patient": "is_patient",
    },
    # The export codes current opioid use 1 = yes, 2 = no; we carry it as 1/0.
    participant_recodes={"current_opioid_use": {"1": 1.0, "2": 0.0}},
    text_fields=(
        "attributed_cause_1",
        "attributed_cause_2",
        "attributed_cause_3",
        "cat1",
        "cat2",
        "cat3",
    ),
)


def _as_str_dict(value: Any, key: str, source: str) -> dict[str, str]:
    if not isinstance(value, TypingMapping) or not value:
        raise InputError(f"mapping {source}: {key!r} must be a non-empty mapping")
    return {_code_text(k): str(v) for k, v in value.items()}


def _code_text(code: Any) -> str:
    """Codes as REDCap writes them: 1 and 1.0 both become "1"."""
    if isinstance(code, float) and code.is_integer():
        return str(int(code))
    return str(code).strip()


def mapping_from_dict(spec: TypingMapping[str, Any], source: str = "<dict>") -> Mapping:
    """Build a user's :class:`Mapping` from plain data; every event it names becomes required.

    Keys: ``record_id`` (str or list), ``arm_field``, ``arms`` (code -> arm), ``sex_field``,
    ``sex_codes``, ``age_field``, ``events`` (event -> timepoint), ``fields`` (field -> outcome),
    ``participant_fields``, ``participant_recodes``, ``text_fields``, ``missing_tokens``, ``name``;
    ``base: boulder`` starts from the built-in mapping and overrides what is given.
    """
    if not isinstance(spec, TypingMapping):
        raise InputError(f"mapping {source}: expected a mapping of keys to values at the top level")
    known = {
        "name", "base", "record_id", "arm_field", "arms", "sex_field", "sex_codes", "age_field",
        "events", "fields", "participant_fields", "participant_recodes", "text_fields",
        "missing_tokens",
    }
    unknown = sorted(set(spec) - known)
    if unknown:
        raise InputError(f"mapping {source}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(known))}")
    base = spec.get("base")
    if base not in (None, "boulder"):
        raise InputError(f"mapping {source}: base must be 'boulder' or absent, got {base!r}")
    if base is None and ("events" not in spec or "arms" not in spec):
        raise InputError(f"mapping {source}: 'events' and 'arms' are required (or set base: boulder)")
    start = BOULDER_MAPPING if base == "boulder" else None
    changes: dict[str, Any] = {}
    if "events" in spec:
        changes["events"] = _as_str_dict(spec["events"], "events", source)
    if "arms" in spec:
        arms = _as_str_dict(spec["arms"], "arms", source)
        bad = sorted(set(arms.values()) - set(ARMS))
        if bad:
            raise InputError(f"mapping {source}: arms map to {bad}; each must be one of {', '.join(ARMS)}")
        changes["arm_codes"] = arms
    if "sex_codes" in spec:
        sexes = _as_str_dict(spec["sex_codes"], "sex_codes", source)
        bad = sorted(set(sexes.values()) - set(SEXES))
        if bad:
            raise InputError(f"mapping {source}: sex_codes map to {bad}; each must be male or female")
        changes["sex_codes"] = sexes
    for key in ("fields", "participant_fields"):
        if key in spec:
            changes[key] = _as_str_dict(spec[key], key, source)
    if "participant_recodes" in spec:
        recodes = spec["participant_recodes"]
        if not isinstance(recodes, TypingMapping):
            raise InputError(f"mapping {source}: participant_recodes must map column -> {{code: value}}")
        changes["participant_recodes"] = {
            str(col): {_code_text(k): float(v) for k, v in codes.items()} for col, codes in recodes.items()
        }
    for key in ("arm_field", "sex_field", "age_field", "name"):
        if key in spec:
            changes[key] = str(spec[key])
    if "record_id" in spec:
        rid = spec["record_id"]
        changes["record_id"] = (str(rid),) if isinstance(rid, str) else tuple(str(r) for r in rid)
    for key in ("text_fields", "missing_tokens"):
        if key in spec:
            changes[key] = tuple(str(v) for v in spec[key])
    changes.setdefault("name", "custom" if start is None else f"{start.name}+{Path(source).name}")
    if "events" in spec:
        changes["required_events"] = tuple(changes["events"])
    if start is None:
        return Mapping(**changes)
    return replace(start, **changes)


def load_mapping(path: str | Path) -> Mapping:
    """Read a mapping file (YAML or JSON) into a :class:`Mapping`."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"mapping file {path}: cannot be read ({exc.strerror})") from None
    try:
        spec = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise InputError(f"mapping file {path}: not valid {'JSON' if path.suffix == '.json' else 'YAML'} ({exc})") from None
    return mapping_from_dict(spec, source=str(path))
