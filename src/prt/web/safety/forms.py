"""The adverse-event form: posted text -> typed values for :mod:`prt.web.safety.services`.

Only the parsing of a browser's form lives here (dates as YYYY-MM-DD, yes/no radios, ticked
criteria); every rule is checked by the services, so the page and the API refuse alike. A refusal
names the field and what it expects, never the value sent.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from prt.web.errors import Refused

#: The form's labels (headings of the fields; error messages start with them).
LABELS = {
    "study_id": "Study id",
    "onset_date": "Onset date",
    "end_date": "End date",
    "description": "What happened",
    "severity": "Severity",
    "serious": "Serious",
    "sae_criteria": "Seriousness criteria",
    "relatedness": "Relatedness to the study intervention",
    "expected": "Expected",
    "action_taken": "Action taken with the study intervention",
    "outcome": "Outcome",
    "sae_reported_on": "SAE report sent on",
    "reason": "Reason for the change",
    "version": "Version",
    "participant": "Participant",
}
YES_NO = {"yes": True, "no": False}


def _date(value: str, field: str, required: bool) -> date | None:
    value = value.strip()
    if not value:
        if required:
            raise Refused(field, "required: a date as YYYY-MM-DD")
        return None
    try:
        if len(value) != 10:
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise Refused(field, "expected a date as YYYY-MM-DD") from None


def _yes_no(data, field: str) -> bool:
    value = data.get(field, "")
    if value not in YES_NO:
        raise Refused(field, "required: yes or no")
    return YES_NO[value]


def values_from_form(data) -> dict[str, Any]:
    """The event's values from a posted form (a QueryDict or a plain mapping of strings)."""
    criteria = data.getlist("sae_criteria") if hasattr(data, "getlist") else list(data.get("sae_criteria", []))
    return {
        "onset_date": _date(data.get("onset_date", ""), "onset_date", True),
        "end_date": _date(data.get("end_date", ""), "end_date", False),
        "description": data.get("description", ""),
        "severity": data.get("severity", ""),
        "serious": _yes_no(data, "serious"),
        "sae_criteria": criteria,
        "relatedness": data.get("relatedness", ""),
        "expected": _yes_no(data, "expected"),
        "action_taken": data.get("action_taken", ""),
        "outcome": data.get("outcome", ""),
        "sae_reported_on": _date(data.get("sae_reported_on", ""), "sae_reported_on", False),
    }


def message(error: Refused) -> str:
    """A refusal as the page shows it: the field's label, then what it expects."""
    return f"{LABELS.get(error.field, error.field.replace('_', ' ').capitalize())}: {error.message}"
