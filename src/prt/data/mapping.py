"""How a trial's REDCap project maps onto prt's vocabulary: events, fields, codes, labels, units, ranges.

A :class:`Mapping` says which REDCap event is which timepoint, which field is which outcome, which
code is which arm, and what the coded fields' codes mean (their labels), in which unit a number is
and which values are plausible at all. The mapping of the Boulder Back Pain Study's REDCap project
(Ashar et al., JAMA Psychiatry 2022; field and event names from its public export, labels and units
from its REDCap codebook) is built in as :data:`BOULDER_MAPPING`; a replication with other names
supplies a YAML or JSON file (``prt analyze --mapping FILE``, format in ``docs/data.md``) and may
add its REDCap data dictionary (:meth:`Mapping.with_dictionary`).
"""

from __future__ import annotations

import math
import numbers
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping as TypingMapping

from prt.errors import InputError
from prt.files import load_yaml
from prt.vocabulary import (  # noqa: F401 - ARMS, OUTCOMES, SEXES, TIMEPOINTS re-exported by prt.data
    ARM_LABELS,
    ARMS,
    OUTCOMES,
    SEXES,
    TIMEPOINTS,
    outcome_range,
    redcap_fields,
)

if TYPE_CHECKING:
    from prt.data.dictionary import RedcapDictionary

#: What a record's sex may be: the primary model's two, and "other" (the Boulder codebook's
#: ``gender`` 3). The model's sex covariate is male/female, so the analysis leaves a participant
#: with sex "other" out of the models that adjust for sex, as it does one with sex missing.
RECORDED_SEXES = (*SEXES, "other")

#: Plausible age of a participant, years: the range the REDCap project prt writes validates
#: (prt.trial.redcap_dictionary: age 18-100); PRT trials enrol adults (Boulder: 21-70). A mapping
#: file widens or narrows it with ``ranges: {age: [low, high]}``.
AGE_RANGE = (18.0, 100.0)

#: Plausible duration of back pain, years: the range the REDCap project prt writes validates
#: (prt.trial.redcap_dictionary). A negative duration, or one of centuries, is an error, never a
#: Table 1 mean.
BACKPAIN_YEARS = (0.0, 90.0)

#: Names a participant field may not take: TrialData's own columns and the tidy layout's.
RESERVED_COLUMNS = ("participant", "arm", "age", "sex", "timepoint", "outcome", "value")


@dataclass(frozen=True)
class Mapping:
    """Names and codes of one REDCap project, mapped onto prt's vocabulary.

    Attributes:
        name: what the mapping is for; ``"boulder-back-pain-study"`` for the built-in one.
        record_id: candidate names of the record-id column; exactly one must be in the data.
        arm_field, arm_codes: the randomization-arm field and its codes (as text) -> arm name.
        sex_field, sex_codes: the sex field and its codes -> ``"male"``/``"female"``/``"other"``.
        age_field: the age field (years).
        events: REDCap unique event name -> timepoint, in study order.
        fields: REDCap field -> outcome name; fields not listed keep their own name.
        participant_fields: fixed per-participant REDCap field -> our column name.
        participant_recodes: our column name -> {code text: value}, e.g. opioid use 2 -> 0 (no).
        text_fields: fields carried as text (free text, category labels), never parsed as numbers.
        missing_tokens: cell values that mean "no value" besides the empty cell.
        required_events: events that must be present in the data (a user's mapping names them all).
        choices: column -> {REDCap code: label} of coded fields (``sex``, ``education``, an item);
            codes are the REDCap codes, before any ``participant_recodes``. A value of a column
            with choices must be one of its codes.
        units: column -> unit of a number (``age``: years, ``weight``: pounds).
        ranges: column or outcome -> (low, high), inclusive; a value outside is an error. An
            outcome's range from its instrument definition (prt.vocabulary.outcome_range) applies
            as well: a value must lie within every range declared for it.
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
    choices: dict[str, dict[str, str]] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=lambda: {"age": "years"})
    ranges: dict[str, tuple[float, float]] = field(default_factory=lambda: {"age": AGE_RANGE})

    # ------------------------------------------------------------------ names
    def outcome_of(self, redcap_field: str) -> str:
        return self.fields.get(redcap_field, redcap_field)

    def field_of(self, outcome: str) -> str:
        for redcap_field, name in self.fields.items():
            if name == outcome:
                return redcap_field
        return outcome

    def column_of(self, redcap_field: str) -> str:
        """The name prt carries a REDCap field under: ``arm``/``age``/``sex``, a participant
        column, an outcome, or the field's own name."""
        fixed = {self.arm_field: "arm", self.age_field: "age", self.sex_field: "sex"}
        if redcap_field in fixed:
            return fixed[redcap_field]
        if redcap_field in self.participant_fields:
            return self.participant_fields[redcap_field]
        return self.outcome_of(redcap_field)

    def event_of(self, timepoint: str) -> str:
        for event, name in self.events.items():
            if name == timepoint:
                return event
        raise InputError(
            f"timepoint {timepoint!r} has no REDCap event in mapping {self.name!r}; "
            f"known timepoints: {', '.join(self.events.values())}"
        )

    # ------------------------------------------------------------------ labels, units, ranges
    def value_labels(self, column: str) -> dict[str, str]:
        """Stored value (as code text, see :func:`code_key`) -> label for a coded column.

        ``arm`` and ``sex`` hold names (``prt``, ``female``); a recoded column holds the recoded
        values (opioid use 1/0), so its REDCap codes' labels are carried over to them.
        """
        if column == "arm":
            return {arm: ARM_LABELS[arm] for arm in ARMS}
        choices = self.choices.get(column, {})
        if column == "sex":
            labels = {name: name.capitalize() for name in RECORDED_SEXES}
            for code, name in self.sex_codes.items():
                if code in choices:
                    labels[name] = choices[code]
            return labels
        recode = self.participant_recodes.get(column)
        if recode is not None:
            return {code_key(recode[c]): label for c, label in choices.items() if c in recode}
        return dict(choices)

    def label_of(self, column: str, value: Any) -> str | None:
        """The label of a stored value (``education`` 3 -> "College graduate"); None if not declared."""
        if is_missing(value):
            return None
        return self.value_labels(column).get(code_key(value))

    def unit_of(self, column: str) -> str | None:
        """The unit of a numeric column (``weight`` -> "pounds"), None if not declared."""
        return self.units.get(column)

    def range_of(self, column: str) -> tuple[float, float] | None:
        """The inclusive range a value must lie in: the mapping's and the instrument's, both."""
        bounds = [b for b in (self.ranges.get(column), outcome_range(column)) if b is not None]
        if not bounds:
            return None
        return (max(b[0] for b in bounds), min(b[1] for b in bounds))

    # ------------------------------------------------------------------ building
    @classmethod
    def from_dict(cls, spec: TypingMapping[str, Any], source: str = "<dict>") -> "Mapping":
        """Build a user's :class:`Mapping` from plain data; every event it names becomes required.

        Keys: ``record_id`` (str or list), ``arm_field``, ``arms`` (code -> arm), ``sex_field``,
        ``sex_codes``, ``age_field``, ``events`` (event -> timepoint), ``fields`` (field -> outcome),
        ``participant_fields``, ``participant_recodes``, ``text_fields``, ``missing_tokens``,
        ``choices`` (column -> {code: label}), ``units`` (column -> unit), ``ranges`` (column ->
        [low, high]), ``name``; ``base: boulder`` starts from the built-in mapping and overrides what
        is given (``choices``, ``units`` and ``ranges`` add to the base's, column by column). Keys
        of ``choices``/``units``/``ranges`` are prt's column names or the REDCap field names.
        """
        return _from_dict(spec, source)

    def with_dictionary(self, dictionary: "RedcapDictionary") -> "Mapping":
        """This mapping plus a REDCap data dictionary's choices, units, ranges and text fields.

        The dictionary's declarations replace the mapping's for the same column; a dictionary's
        free-text fields are read as text unless the mapping makes them an outcome. A dictionary
        whose labels of the arm or sex codes name another arm or sex than the mapping reads is an
        InputError (:func:`check_code_labels`).
        """
        merged = replace(
            self,
            choices={**self.choices, **_by_column(self, dictionary.choices)},
            units={**self.units, **_by_column(self, dictionary.units)},
            ranges={**self.ranges, **_by_column(self, dictionary.ranges)},
            text_fields=tuple(dict.fromkeys([
                *self.text_fields,
                *(f for f in dictionary.text_fields if self.outcome_of(f) not in _KNOWN_OUTCOMES
                  and f not in self.fields and self.column_of(f) not in RESERVED_COLUMNS),
            ])),
        )
        check_code_labels(merged, dictionary.source)
        return merged


#: Words in a code's label that name an arm or a sex (lower case, whole words).
_ARM_WORDS = {"prt": "prt", "reprocessing": "prt", "placebo": "placebo", "usual": "usual_care"}
_SEX_WORDS = {"female": "female", "woman": "female", "women": "female", "f": "female",
              "male": "male", "man": "male", "men": "male", "m": "male"}


def _named(label: str, words: dict[str, str]) -> str | None:
    """The one arm/sex a label names (``Open-label placebo`` -> placebo), or None if none or several."""
    named = {words[w] for w in re.findall(r"[a-z]+", label.lower()) if w in words}
    return named.pop() if len(named) == 1 else None


def check_code_labels(mapping: Mapping, source: str) -> None:
    """Refuse labels of the arm or sex codes that contradict how the mapping reads the codes.

    Why: a REDCap dictionary saying ``1, Placebo | 2, PRT`` while the mapping reads 1 as PRT means
    the arms would be analysed swapped; ``1, Female`` where the mapping reads 1 as male would
    label men as women in Table 1 while the model adjusts for them as men. Either is wrong
    silently, so it is an error naming the field, the code and both readings.
    """
    for column, field_name, codes, words in (("arm", mapping.arm_field, mapping.arm_codes, _ARM_WORDS),
                                             ("sex", mapping.sex_field, mapping.sex_codes, _SEX_WORDS)):
        labels = mapping.choices.get(column, {})
        for code, name in codes.items():
            label = labels.get(code)
            named = _named(label, words) if label is not None else None
            if named is not None and named != name:
                raise InputError(f"{source}: code {code} of {field_name} is labelled {label!r}, but the mapping reads "
                                 f"it as {name!r}; fix the mapping's codes or the labels (the analysis would "
                                 f"mix up {column}s)")


def _by_column(mapping: Mapping, declared: dict[str, Any]) -> dict[str, Any]:
    return {mapping.column_of(f): value for f, value in declared.items()}


def code_key(code: Any) -> str:
    """Codes as one text: 1, 1.0, "1", "01" and "1.0" are all "1"; other text is kept (stripped)."""
    if isinstance(code, numbers.Integral) and not isinstance(code, bool):
        return str(int(code))  # exact, however large (float() would overflow)
    if isinstance(code, numbers.Number) and not isinstance(code, complex):
        number = float(code)
    else:
        text = str(code).strip()
        if not _DECIMAL.match(text):
            return text
        number = float(text)
    if not math.isfinite(number):
        return str(code).strip()
    return str(int(number)) if number.is_integer() else repr(number)


_DECIMAL = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)$")


def is_missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(value != value)  # NaN
    except (TypeError, ValueError):
        return False


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


_YES_NO = {"1": "Yes", "0": "No"}

#: Participant column that ``prt simulate`` sets to 1 for every synthetic participant, carried in
#: every layout, so an analysis can say its data are simulated (and never "the published trial").
SIMULATED_FIELD = "prt_simulated"

#: The Boulder Back Pain Study's REDCap project (the shared public export's names; codes, labels
#: and units from the trial's REDCap codebook, docs: trial-protocol-notes "Demographic and
#: screening codes").
BOULDER_MAPPING = Mapping(
    name="boulder-back-pain-study",
    record_id=("id", "record_id"),
    arm_field="group",
    arm_codes={"1": "prt", "2": "placebo", "3": "usual_care"},
    sex_field="gender",
    sex_codes={"1": "male", "2": "female", "3": "other"},
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
        SIMULATED_FIELD: SIMULATED_FIELD,
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
    choices={
        "sex": {"1": "Male", "2": "Female", "3": "Other"},
        "education": {"1": "High school or less", "2": "Some college or vocational school",
                      "3": "College graduate"},
        "employment_status": {"1": "Full time (30+ h/week)", "2": "Part time (5-30 h/week)",
                              "3": "Unemployed or under 5 h/week"},
        "ethnicity": {"1": "American Indian or Alaska Native", "2": "Asian or Pacific Islander",
                      "3": "Black (not of Hispanic origin)", "4": "White (not of Hispanic origin)",
                      "5": "Other or unknown"},
        "hispanic": dict(_YES_NO),
        "married": dict(_YES_NO),
        "exercise": {"1": "Almost none", "2": "About 1 h/week", "3": "About 3 h/week",
                     "4": "About 7 h/week", "5": "14+ h/week"},
        "handedness": {"1": "Right", "2": "Left", "3": "Both"},
        "current_opioid_use": {"1": "Yes", "2": "No"},
    },
    units={"age": "years", "weight": "pounds", "backpain_length": "years", "sses": "ladder rung (1-10)"},
    ranges={"age": AGE_RANGE, "sses": (1.0, 10.0), "backpain_length": BACKPAIN_YEARS},
)

_KNOWN_OUTCOMES = frozenset(redcap_fields().values())


# --------------------------------------------------------------------------- mapping files
_KEYS = (
    "name", "base", "record_id", "arm_field", "arms", "sex_field", "sex_codes", "age_field",
    "events", "fields", "participant_fields", "participant_recodes", "text_fields",
    "missing_tokens", "choices", "units", "ranges",
)


def _scalar(value: Any, where: str) -> str:
    if isinstance(value, bool) or value is None or isinstance(value, (dict, list, tuple, set)):
        raise InputError(f"{where}: expected a name or a number, got {_kind(value)}")
    if isinstance(value, float) and not math.isfinite(value):
        raise InputError(f"{where}: expected a name or a number, got {value}")
    text = code_key(value)
    if not text:
        raise InputError(f"{where}: is empty")
    return text


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    return {bool: "true/false", dict: "a mapping", list: "a list"}.get(type(value), type(value).__name__)


def _str_dict(value: Any, key: str, source: str, *, allow_empty: bool = False) -> dict[str, str]:
    if not isinstance(value, TypingMapping) or (not value and not allow_empty):
        raise InputError(f"mapping {source}: {key!r} must be a non-empty mapping")
    return {_scalar(k, f"mapping {source}: {key!r} key {k!r}"): _scalar(v, f"mapping {source}: {key}.{k}")
            for k, v in value.items()}


def _str_list(value: Any, key: str, source: str) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        raise InputError(f"mapping {source}: {key!r} must be a list of names")
    out = []
    for i, item in enumerate(value):
        if not isinstance(item, (str, int, float)) or isinstance(item, bool):
            raise InputError(f"mapping {source}: {key}[{i}]: expected a name, got {_kind(item)}")
        out.append(str(item))
    return tuple(out)


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(f"{where}: expected a number, got {_kind(value)}")
    try:
        number = float(value)
    except OverflowError:  # an integer with hundreds of digits
        number = math.inf
    if not math.isfinite(number):
        raise InputError(f"{where}: expected a finite number")
    return number


def _from_dict(spec: Any, source: str) -> Mapping:
    if not isinstance(spec, TypingMapping):
        raise InputError(f"mapping {source}: expected a mapping of keys to values at the top level")
    unknown = sorted(str(k) for k in set(spec) - set(_KEYS))
    if unknown:
        raise InputError(f"mapping {source}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(_KEYS))}")
    base = spec.get("base")
    if base not in (None, "boulder"):
        raise InputError(f"mapping {source}: base must be 'boulder' or absent")
    if base is None and ("events" not in spec or "arms" not in spec):
        raise InputError(f"mapping {source}: 'events' and 'arms' are required (or set base: boulder)")
    start = BOULDER_MAPPING if base == "boulder" else None
    changes: dict[str, Any] = {}
    if "events" in spec:
        changes["events"] = _str_dict(spec["events"], "events", source)
    for key, target, allowed in (("arms", "arm_codes", ARMS), ("sex_codes", "sex_codes", RECORDED_SEXES)):
        if key in spec:
            codes = _str_dict(spec[key], key, source)
            bad = sorted(set(codes.values()) - set(allowed))
            if bad:
                raise InputError(f"mapping {source}: {key} map to {bad}; each must be one of {', '.join(allowed)}")
            changes[target] = codes
    for key in ("fields", "participant_fields"):
        if key in spec:
            changes[key] = _str_dict(spec[key], key, source)
    if "participant_recodes" in spec:
        recodes = spec["participant_recodes"]
        if not isinstance(recodes, TypingMapping):
            raise InputError(f"mapping {source}: participant_recodes must map column -> {{code: value}}")
        changes["participant_recodes"] = {
            _scalar(col, f"mapping {source}: participant_recodes key"): {
                _scalar(k, f"mapping {source}: participant_recodes.{col} key"):
                    _number(v, f"mapping {source}: participant_recodes.{col}.{k}")
                for k, v in _str_keyed(codes, f"participant_recodes.{col}", source).items()
            }
            for col, codes in recodes.items()
        }
    for key in ("arm_field", "sex_field", "age_field", "name"):
        if key in spec:
            changes[key] = _scalar(spec[key], f"mapping {source}: {key}")
    if "record_id" in spec:
        rid = spec["record_id"]
        changes["record_id"] = ((_scalar(rid, f"mapping {source}: record_id"),) if not isinstance(rid, (list, tuple))
                                else _str_list(rid, "record_id", source))
        if not changes["record_id"]:
            raise InputError(f"mapping {source}: 'record_id' must name at least one column")
    for key in ("text_fields", "missing_tokens"):
        if key in spec:
            changes[key] = _str_list(spec[key], key, source)
    changes.setdefault("name", "custom" if start is None else f"{start.name}+{Path(source).name}")
    if "events" in spec:
        changes["required_events"] = tuple(changes["events"])
    mapping = Mapping(**changes) if start is None else replace(start, **changes)
    _check_columns(mapping, source)
    return _annotate(mapping, spec, source)


def _str_keyed(value: Any, key: str, source: str) -> TypingMapping:
    if not isinstance(value, TypingMapping):
        raise InputError(f"mapping {source}: {key} must be a mapping")
    return value


def _check_columns(mapping: Mapping, source: str) -> None:
    """Two fields under one name would overwrite each other: refuse it."""
    seen: dict[str, str] = {mapping.arm_field: "arm", mapping.age_field: "age", mapping.sex_field: "sex"}
    if len(seen) < 3:
        raise InputError(f"mapping {source}: arm_field, age_field and sex_field must be three different fields")
    taken: dict[str, str] = {}
    for redcap_field, column in mapping.participant_fields.items():
        if redcap_field in seen:
            raise InputError(f"mapping {source}: participant_fields.{redcap_field}: the field is already "
                             f"the {seen[redcap_field]} field")
        if column in RESERVED_COLUMNS:
            raise InputError(f"mapping {source}: participant_fields.{redcap_field}: {column!r} is a "
                             f"reserved name ({', '.join(RESERVED_COLUMNS)})")
        if column in taken:
            raise InputError(f"mapping {source}: participant_fields {taken[column]!r} and {redcap_field!r} "
                             f"both map to {column!r}")
        taken[column] = redcap_field
    outcomes: dict[str, str] = {}
    for redcap_field, outcome in mapping.fields.items():
        if outcome in outcomes:
            raise InputError(f"mapping {source}: fields {outcomes[outcome]!r} and {redcap_field!r} both map to {outcome!r}")
        outcomes[outcome] = redcap_field


def _annotate(mapping: Mapping, spec: TypingMapping, source: str) -> Mapping:
    """The file's ``choices``, ``units`` and ``ranges``, keyed by prt's column names."""
    changes: dict[str, Any] = {}
    if "choices" in spec:
        choices = _str_keyed(spec["choices"], "choices", source)
        declared = {}
        for column, codes in choices.items():
            name = _scalar(column, f"mapping {source}: choices key")
            declared[mapping.column_of(name)] = _str_dict(codes, f"choices.{name}", source)
        changes["choices"] = {**mapping.choices, **declared}
    if "units" in spec:
        units = _str_dict(spec["units"], "units", source)
        changes["units"] = {**mapping.units, **{mapping.column_of(c): u for c, u in units.items()}}
    if "ranges" in spec:
        ranges = _str_keyed(spec["ranges"], "ranges", source)
        declared = {}
        for column, bounds in ranges.items():
            name = _scalar(column, f"mapping {source}: ranges key")
            where = f"mapping {source}: ranges.{name}"
            if not isinstance(bounds, (list, tuple)) or len(bounds) != 2:
                raise InputError(f"{where}: expected [low, high]")
            low, high = (_number(b, where) for b in bounds)
            if low > high:
                raise InputError(f"{where}: low is above high")
            declared[mapping.column_of(name)] = (low, high)
        changes["ranges"] = {**mapping.ranges, **declared}
    mapping = replace(mapping, **changes) if changes else mapping
    check_code_labels(mapping, f"mapping {source}")
    return mapping


def load_mapping(path: str | Path) -> Mapping:
    """Read a mapping file (YAML, or JSON by its suffix) into a :class:`Mapping`."""
    spec = load_yaml(path, "mapping file")
    return Mapping.from_dict(spec, source=str(path))
