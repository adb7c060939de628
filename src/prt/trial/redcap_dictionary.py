"""A REDCap project for a PRT trial: data dictionary, arms, events and instrument-event mapping.

A site uploads these four CSVs to build its REDCap project (REDCap's "Data Dictionary" and
"Define My Events" / "Designate Instruments" upload formats). Field and event names follow the
Boulder Back Pain Study's project (``prt.data.BOULDER_MAPPING``: record id, ``group``, ``gender``,
``age``, score fields ``pain_avg``, ``odi``, ``promis_dep``, ...; events ``eligibility_assess_arm_1``,
``t1_arm_1``, ``t2_arm_1``, ``x1_month_follow_up_arm_1`` ...), so the project's flat and long
record exports read straight back with :func:`prt.data.read_trial`.

Items come from :mod:`prt.instruments` (radio fields with ``code, label | ...`` choices, numeric
items as validated text); each score the instrument declares in ``data_fields`` becomes a calc
field computed from the items by the instrument's scoring method. REDCap arithmetic yields blank
when an item is blank, so the calc fields score complete administrations only; prt's own scoring
(:func:`prt.instruments.score`) applies each instrument's published missing-item rule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import pandas as pd

from prt.data.mapping import AGE_RANGE, BACKPAIN_YEARS
from prt.errors import InputError
from prt.vocabulary import EFFECT_TIMEPOINTS, TIMEPOINTS

#: REDCap's data dictionary header, exactly (REDCap "Data Dictionary" CSV, 18 columns).
DICTIONARY_COLUMNS = (
    "Variable / Field Name", "Form Name", "Section Header", "Field Type", "Field Label",
    "Choices, Calculations, OR Slider Labels", "Field Note", "Text Validation Type OR Show Slider Number",
    "Text Validation Min", "Text Validation Max", "Identifier?", "Branching Logic (Show field only if...)",
    "Required Field?", "Custom Alignment", "Question Number (surveys only)", "Matrix Group Name",
    "Matrix Ranking?", "Field Annotation",
)
ARM_COLUMNS = ("arm_num", "arm_name")
EVENT_COLUMNS = ("event_name", "arm_num", "unique_event_name", "custom_event_label")
MAPPING_COLUMNS = ("arm_num", "unique_event_name", "form")

#: Longest field name REDCap recommends (its Online Designer warns above 26 characters).
RECOMMENDED_NAME_LENGTH = 26
_FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
ENROLLMENT_FORM = "enrollment"


@dataclass(frozen=True)
class Event:
    """One REDCap event: its label (REDCap derives the unique name from it) and prt timepoint."""

    name: str
    timepoint: str
    label: str


#: The trial's assessments (protocol notes; README of the shared data), in study order.
EVENTS = (
    Event("Eligibility assessment", "eligibility", "In-person eligibility session (baseline 1)"),
    Event("T1", "pre", "Pretreatment session (baseline 2)"),
    Event("T2", "post", "Posttreatment session (primary end point)"),
    Event("1 month follow up", "1mo", "1 month after posttreatment"),
    Event("2 month follow up", "2mo", "2 months after posttreatment"),
    Event("3 month follow up", "3mo", "3 months after posttreatment"),
    Event("6 month follow up", "6mo", "6 months after posttreatment"),
    Event("12 month follow up", "12mo", "12 months after posttreatment"),
)
FOLLOW_UPS = EFFECT_TIMEPOINTS  # posttreatment and the follow-ups (prt.vocabulary)
ALL = TIMEPOINTS

#: Which form is collected at which timepoint (protocol notes, "Measures" and "Schedule":
#: follow-ups carry BPI, ODI, the PROMIS forms, TSK-11, SOPA, PGIC and satisfaction; PANAS and PCS
#: baseline and post only; the causal-attribution item at pre and post).
SCHEDULE: dict[str, tuple[str, ...]] = {
    ENROLLMENT_FORM: ("eligibility",),
    "bpi_sf": ALL,
    "odi": ALL,
    "promis_depression": ALL,
    "promis_anxiety": ALL,
    "promis_sleep": ALL,
    "promis_anger": ALL,
    "tsk11": ALL,
    "sopa_emotion": ALL,
    "ceq": ALL,
    "pcs": ("eligibility", "pre", "post"),
    "panas_sf": ("eligibility", "pre", "post"),
    "ipq_causes": ("pre", "post"),
    "pgic": FOLLOW_UPS,
    "tx_satisfaction": FOLLOW_UPS,
}


def unique_event_name(event_name: str, arm_num: int = 1) -> str:
    """REDCap's unique event name: lowercase, spaces to underscores, other symbols dropped, cut to
    18 characters, ``x`` prefixed when it starts with a digit, then ``_arm_<n>``."""
    text = re.sub(r"[^a-z0-9_]", "", event_name.strip().lower().replace(" ", "_"))[:18]
    if not text:
        raise InputError(f"event {event_name!r}: the name has no letters or digits")
    if text[0].isdigit():
        text = "x" + text
    return f"{text}_arm_{arm_num}"


def validate_field_names(names: Iterable[str]) -> list[str]:
    """Check REDCap field names; raise InputError for invalid or repeated ones, return warnings.

    REDCap requires lowercase letters, digits and underscores starting with a letter, unique across
    the project; names over 26 characters are allowed but discouraged (warned).
    """
    seen: set[str] = set()
    warnings = []
    for name in names:
        if not _FIELD_NAME.match(name):
            raise InputError(
                f"field {name!r}: REDCap field names must be lowercase letters, digits and underscores, "
                "starting with a letter"
            )
        if name in seen:
            raise InputError(f"field {name!r}: appears more than once in the data dictionary")
        seen.add(name)
        if len(name) > RECOMMENDED_NAME_LENGTH:
            warnings.append(f"field {name!r}: {len(name)} characters, over REDCap's recommended {RECOMMENDED_NAME_LENGTH}")
    return warnings


def dictionary_row(**cells: str) -> dict[str, str]:
    """One data-dictionary row (all 18 REDCap columns) from short names: name, form, type, label, ..."""
    keys = {
        "name": "Variable / Field Name", "form": "Form Name", "section": "Section Header",
        "type": "Field Type", "label": "Field Label", "choices": "Choices, Calculations, OR Slider Labels",
        "note": "Field Note", "validation": "Text Validation Type OR Show Slider Number",
        "minimum": "Text Validation Min", "maximum": "Text Validation Max", "identifier": "Identifier?",
        "required": "Required Field?", "annotation": "Field Annotation",
    }
    row = dict.fromkeys(DICTIONARY_COLUMNS, "")
    for key, value in cells.items():
        row[keys[key]] = value
    return row


def redcap_number(value) -> str:
    """A number as REDCap writes it in a dictionary: 3 not 3.0."""
    value = float(value)
    return str(int(value)) if value.is_integer() else repr(value)


def redcap_choices(options: dict) -> str:
    """REDCap's choices cell ``code, label | code, label``; a label with ``|`` is refused."""
    for label in options.values():
        if "|" in str(label):
            raise InputError(f"choice label {label!r}: REDCap choices cannot contain '|'")
    return " | ".join(f"{redcap_number(code)}, {label}" for code, label in options.items())


def item_field(instrument_id: str, number: str) -> str:
    """Field name of an item: ``<instrument id>_<item number>`` (e.g. ``odi_3``)."""
    return f"{instrument_id}_{number}".lower().replace(".", "_").replace("-", "_")


def _item_term(inst, number: str) -> str:
    item = inst.item(number)
    ref = f"[{item_field(inst.id, number)}]"
    if item.reversed:
        return f"({redcap_number(item.minimum + item.maximum)}-{ref})"
    return ref


def calculation(inst, scoring, items: Sequence[str]) -> str:
    """REDCap calc expression of one score (blank unless every item is answered)."""
    terms = [_item_term(inst, n) for n in items]
    total = "+".join(terms)
    k = len(terms)
    if scoring.method == "item":
        return terms[0]
    if scoring.method == "sum":
        return total
    if scoring.method == "mean":
        return f"round(({total})/{k},2)"
    if scoring.method == "percent":
        top = max(inst.item(n).maximum for n in items)
        return f"round(({total})*100/{redcap_number(top * k)},2)"
    raise InputError(f"{inst.id}: scoring method {scoring.method!r} has no REDCap calculation")


def _instrument_rows(inst) -> list[dict[str, str]]:
    rows = []
    for i, item in enumerate(inst.items):
        cells = {
            "name": item_field(inst.id, item.number), "form": inst.id, "label": item.label,
            "section": inst.title if i == 0 else "",
        }
        if item.kind == "choice":
            cells.update(type="radio", choices=redcap_choices(item.options or {}))
        elif item.kind == "numeric":
            cells.update(type="text", validation="number")
            if item.minimum is not None:
                cells["minimum"] = redcap_number(item.minimum)
            if item.maximum is not None:
                cells["maximum"] = redcap_number(item.maximum)
        else:
            cells.update(type="text")
        rows.append(dictionary_row(**cells))
    for score, field in inst.data_fields.items():
        scoring = inst.scoring if score == "total" else inst.subscale_scoring[score]
        items = scoring.items if score == "total" or scoring.items else inst.subscales[score]
        label = f"{inst.title}: {score.replace('_', ' ')}" if score != "total" else f"{inst.title}: score"
        rows.append(dictionary_row(
            name=field, form=inst.id, type="calc", label=label,
            choices=calculation(inst, scoring, items),
            note="scored only when every item is answered (prt applies the published missing-item rule)",
            annotation="@HIDDEN-SURVEY",
        ))
    return rows


def _enrollment_rows(record_id: str) -> list[dict[str, str]]:
    """Record id, arm (``group``), sex (``gender``), age and the minimization factors' fields."""
    form = ENROLLMENT_FORM
    return [
        dictionary_row(name=record_id, form=form, type="text", label="Record ID", section="Enrollment"),
        dictionary_row(name="group", form=form, type="radio", label="Randomized arm",
             choices="1, Pain reprocessing therapy | 2, Open-label placebo | 3, Usual care", required="y"),
        dictionary_row(name="age", form=form, type="text", label="Age (years)", validation="integer",
             minimum=redcap_number(AGE_RANGE[0]), maximum=redcap_number(AGE_RANGE[1]), required="y"),
        dictionary_row(name="gender", form=form, type="radio", label="Sex", choices="1, Male | 2, Female", required="y"),
        dictionary_row(name="current_opioid_use", form=form, type="radio", label="Current opioid use",
             choices="1, Yes | 2, No"),
        dictionary_row(name="backpain_length", form=form, type="text", label="Duration of back pain (years)",
             validation="number", minimum=redcap_number(BACKPAIN_YEARS[0]), maximum=redcap_number(BACKPAIN_YEARS[1])),
    ]


def default_instruments() -> list:
    """The instruments of the trial's schedule, from :mod:`prt.instruments`."""
    from prt import instruments

    return [instruments.get(i) for i in SCHEDULE if i != ENROLLMENT_FORM]


def data_dictionary(instruments: Sequence | None = None, record_id: str = "record_id") -> pd.DataFrame:
    """The REDCap data dictionary (18 columns, one row per field, record id first)."""
    instruments = default_instruments() if instruments is None else list(instruments)
    rows = _enrollment_rows(record_id)
    for inst in instruments:
        rows.extend(_instrument_rows(inst))
    frame = pd.DataFrame(rows, columns=list(DICTIONARY_COLUMNS))
    validate_field_names(frame["Variable / Field Name"])
    for form in frame["Form Name"].unique():
        if not _FIELD_NAME.match(form):
            raise InputError(f"form {form!r}: REDCap form names must be lowercase letters, digits and underscores")
    return frame


def arms_table() -> pd.DataFrame:
    """One REDCap arm: randomization is the ``group`` field, every participant follows one schedule."""
    return pd.DataFrame([{"arm_num": 1, "arm_name": "Arm 1"}], columns=list(ARM_COLUMNS))


def events_table(events: Sequence[Event] = EVENTS) -> pd.DataFrame:
    rows = [
        {"event_name": e.name, "arm_num": 1, "unique_event_name": unique_event_name(e.name), "custom_event_label": e.label}
        for e in events
    ]
    return pd.DataFrame(rows, columns=list(EVENT_COLUMNS))


def instrument_event_table(
    forms: Iterable[str] | None = None, events: Sequence[Event] = EVENTS,
    schedule: dict[str, tuple[str, ...]] = SCHEDULE,
) -> pd.DataFrame:
    """Which form is designated for which event (REDCap's instrument-event mapping CSV)."""
    forms = list(schedule) if forms is None else list(forms)
    rows = []
    for event in events:
        for form in forms:
            if event.timepoint in schedule.get(form, ()):
                rows.append({"arm_num": 1, "unique_event_name": unique_event_name(event.name), "form": form})
    return pd.DataFrame(rows, columns=list(MAPPING_COLUMNS))


def project_tables(instruments: Sequence | None = None) -> dict[str, pd.DataFrame]:
    """The four tables of the REDCap project by file stem (``data_dictionary``, ``arms``, ...)."""
    dictionary = data_dictionary(instruments)
    forms = list(dict.fromkeys(dictionary["Form Name"]))
    return {
        "data_dictionary": dictionary,
        "arms": arms_table(),
        "events": events_table(),
        "instrument_event_mapping": instrument_event_table(forms),
    }


def project_warnings(instruments: Sequence | None = None) -> list[str]:
    """Warnings about the project's field names (over REDCap's recommended length); errors raise."""
    return validate_field_names(data_dictionary(instruments)["Variable / Field Name"])


def write_project(directory: str | Path, instruments: Sequence | None = None) -> dict[str, Path]:
    """Write ``data_dictionary.csv``, ``arms.csv``, ``events.csv``, ``instrument_event_mapping.csv``.

    The directory is written all or nothing (:func:`prt.files.write_output_dir`: a new or empty
    directory, or one prt wrote before), and every cell goes through :func:`prt.files.write_csv`'s
    formula-injection guard, since sites open these files in a spreadsheet before uploading them.
    """
    from prt.files import write_csv, write_output_dir

    tables = project_tables(instruments)
    directory = Path(directory)

    def fill(work: Path) -> None:
        for name, table in tables.items():
            write_csv(table, work / f"{name}.csv")

    write_output_dir(directory, fill, kind="REDCap project")
    return {name: directory / f"{name}.csv" for name in tables}
