"""The adverse-event rules: record one, change one with a reason; every write audited in its transaction.

Rules (ICH E6(R2) 4.11 and ICH E2A; the protocol's AE section as a monitor checks it):

- an event is recorded for a person whose consent is recorded (events are collected from consent
  on); its onset is not before the consent date and not after today at the person's site;
- its end is not before its onset nor after today; an outcome that closes the event (recovered,
  recovered with sequelae, fatal) needs an end date, one that says it is going on (recovering,
  not recovered) has none;
- a serious event ticks at least one seriousness criterion and a non-serious one none; a fatal
  outcome is serious with the criterion "results in death", and that criterion means a fatal
  outcome; a fatal event is severe (CTCAE grade 5 on the grade scale), and grade 5 is fatal;
- the SAE report day is only for a serious event, not before its onset nor in the future;
- a serious event's report is due 24 hours after it became serious in the platform (recorded
  serious, or changed to serious): :attr:`AdverseEvent.report_deadline`;
- a change needs a reason and is audited old -> new (ICH E6(R3) 4.2; 21 CFR 11.10(e)); a change
  that changes nothing writes nothing.

Values arrive typed (the page's form and the API's schema parse them); the checks here are the
one place the rules live, and each refusal names the field and what it expects, never the value.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Mapping

from django.db import transaction
from django.utils import timezone

from prt.web.audit import trail
from prt.web.enrolment.models import Consent
from prt.web.errors import Refused
from prt.web.participants.models import Participant
from prt.web.safety import vocabulary as v
from prt.web.safety.models import AdverseEvent

#: Fields compared for a change and kept in its audit event (bookkeeping times excluded).
AUDITED = (*v.FIELDS, "serious_since", "participant", "reported_by", "reported_at")
#: Fields an edit may change (who reported it, and when, stay as recorded).
EDITABLE = v.FIELDS


@dataclass(frozen=True)
class Changed:
    event: AdverseEvent
    #: "changed", or "unchanged" when the values sent were the values stored (nothing written).
    outcome: str


def _is_date(value: Any) -> bool:
    return isinstance(value, date) and not isinstance(value, datetime)


def _code(values: Mapping[str, Any], field: str, vocabulary: dict[str, str]) -> str:
    value = values.get(field)
    if not isinstance(value, str) or value not in vocabulary:
        raise Refused(field, f"expected one of {', '.join(vocabulary)}")
    return value


def _flag(values: Mapping[str, Any], field: str) -> bool:
    value = values.get(field)
    if not isinstance(value, bool):
        raise Refused(field, "expected yes or no (true or false)")
    return value


def _optional_date(values: Mapping[str, Any], field: str) -> date | None:
    value = values.get(field)
    if value is not None and not _is_date(value):
        raise Refused(field, "expected a date as YYYY-MM-DD, or empty")
    return value


def clean(values: Mapping[str, Any]) -> dict[str, Any]:
    """Each field checked on its own (type, code, length); Refused naming the first bad field.

    Returns the values in storage form: the description stripped, the criteria in vocabulary order.
    """
    unknown = sorted(set(values) - set(v.FIELDS))
    if unknown:
        raise Refused(unknown[0], f"unknown field (the fields are {', '.join(v.FIELDS)})")
    onset = values.get("onset_date")
    if not _is_date(onset):
        raise Refused("onset_date", "required: the day the event began, as YYYY-MM-DD")
    end = _optional_date(values, "end_date")
    text = values.get("description")
    text = text.strip() if isinstance(text, str) else ""
    if not text or len(text) > v.DESCRIPTION_MAX:
        raise Refused("description", f"required: what happened, in up to {v.DESCRIPTION_MAX} characters")
    if any(not ch.isprintable() and ch not in "\n\r\t" for ch in text):
        raise Refused("description", "contains control characters; write plain text")
    severity = _code(values, "severity", v.SEVERITIES)
    serious = _flag(values, "serious")
    criteria = values.get("sae_criteria", [])
    if criteria is None:
        criteria = []
    if not isinstance(criteria, (list, tuple)) or not all(isinstance(c, str) and c in v.SAE_CRITERIA
                                                          for c in criteria):
        raise Refused("sae_criteria", f"expected a list of criteria from {', '.join(v.SAE_CRITERIA)}")
    if len(set(criteria)) != len(criteria):
        raise Refused("sae_criteria", "each criterion once")
    return {
        "onset_date": onset, "end_date": end, "description": text, "severity": severity, "serious": serious,
        "sae_criteria": [c for c in v.SAE_CRITERIA if c in criteria],
        "relatedness": _code(values, "relatedness", v.RELATEDNESS), "expected": _flag(values, "expected"),
        "action_taken": _code(values, "action_taken", v.ACTIONS), "outcome": _code(values, "outcome", v.OUTCOMES),
        "sae_reported_on": _optional_date(values, "sae_reported_on"),
    }


def consent_date(person: Participant) -> date | None:
    return Consent.objects.filter(participant=person).values_list("consent_date", flat=True).first()


def check(values: Mapping[str, Any], person: Participant, now: datetime | None = None) -> dict[str, Any]:
    """All rules of one event for ``person`` (:func:`clean`, then the rules between fields and dates)."""
    values = clean(values)
    today = person.site.today(now or timezone.now())
    consented = consent_date(person)
    if consented is None:
        raise Refused("participant", "no consent recorded: adverse events are recorded from consent on", status=409)
    onset, end = values["onset_date"], values["end_date"]
    if onset < consented:
        raise Refused("onset_date", "before the participant's consent date (events are recorded from consent on)")
    if onset > today:
        raise Refused("onset_date", "in the future at the participant's site")
    if end is not None and end < onset:
        raise Refused("end_date", "before the onset date")
    if end is not None and end > today:
        raise Refused("end_date", "in the future at the participant's site")
    outcome, criteria = values["outcome"], values["sae_criteria"]
    if values["serious"] and not criteria:
        raise Refused("sae_criteria", "a serious event needs at least one seriousness criterion")
    if not values["serious"] and criteria:
        raise Refused("sae_criteria", "only a serious event has seriousness criteria (tick serious, or untick them)")
    if outcome == "fatal" and "death" not in criteria:
        raise Refused("sae_criteria", "a fatal outcome is a serious event with the criterion: results in death")
    if "death" in criteria and outcome != "fatal":
        raise Refused("outcome", "the criterion 'results in death' needs the outcome fatal")
    if outcome == "fatal" and values["severity"] not in v.FATAL_SEVERITIES:
        raise Refused("severity", "a fatal event is severe (or CTCAE grade 5)")
    if values["severity"] == "grade_5" and outcome != "fatal":
        raise Refused("outcome", "CTCAE grade 5 is death related to the event: the outcome is fatal")
    if outcome in v.OUTCOMES_ENDED and end is None:
        raise Refused("end_date", f"required when the outcome is {v.OUTCOMES[outcome].lower()} "
                                  "(for a fatal event, the date of death)")
    if outcome in v.OUTCOMES_ONGOING and end is not None:
        raise Refused("end_date", f"empty while the outcome is {v.OUTCOMES[outcome].lower()} (the event is ongoing)")
    reported = values["sae_reported_on"]
    if reported is not None:
        if not values["serious"]:
            raise Refused("sae_reported_on", "only a serious event has an SAE report")
        if reported < onset:
            raise Refused("sae_reported_on", "before the onset date")
        if reported > today:
            raise Refused("sae_reported_on", "in the future at the participant's site")
    return values


def _user(actor):
    return actor if actor is not None and actor.is_authenticated else None


def _reason(reason: Any) -> str:
    text = reason.strip() if isinstance(reason, str) else ""
    if not text or len(text) > v.REASON_MAX:
        raise Refused("reason", f"required: why the record is changed (up to {v.REASON_MAX} characters)")
    return text


def record(person: Participant, values: Mapping[str, Any], *, actor, now: datetime | None = None) -> AdverseEvent:
    """Record a new adverse event of ``person`` (audited). Refused (nothing written) if a rule fails."""
    now = now or timezone.now()
    with transaction.atomic():
        person = Participant.objects.select_for_update().select_related("site").get(pk=person.pk)
        checked = check(values, person, now)
        event = AdverseEvent.objects.create(
            participant=person, **checked, serious_since=now if checked["serious"] else None,
            reported_by=_user(actor), reported_at=now, updated_at=now)
        trail.record(actor, "create", event, trail.diff(None, trail.snapshot(event, AUDITED)))
    return event


def current_values(event: AdverseEvent) -> dict[str, Any]:
    """The event's editable values (what an edit starts from)."""
    return {name: getattr(event, name) for name in EDITABLE}


def change(event: AdverseEvent, changes: Mapping[str, Any], *, reason: Any, actor, now: datetime | None = None,
           version: datetime | None = None) -> Changed:
    """Change some fields of ``event`` with a reason (audited old -> new).

    ``changes`` holds only the fields to change; the whole event is checked again after merging.
    ``version``: the ``updated_at`` the editor started from; a newer record is refused (409) rather
    than overwritten. Nothing is written when the values equal the stored ones.
    """
    now = now or timezone.now()
    text = _reason(reason)
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise Refused(unknown[0], f"unknown field (the fields are {', '.join(EDITABLE)})")
    with transaction.atomic():
        event = AdverseEvent.objects.select_for_update().select_related("participant__site").get(pk=event.pk)
        if version is not None and event.updated_at != version:
            raise Refused("version", "this event was changed by someone else since you opened it; reload it and "
                                     "make your change again", status=409)
        checked = check({**current_values(event), **changes}, event.participant, now)
        before = trail.snapshot(event, AUDITED)
        was_serious = event.serious
        for name, value in checked.items():
            setattr(event, name, value)
        if event.serious and not was_serious:
            event.serious_since = now
        elif not event.serious:
            event.serious_since = None
        changes_made = trail.diff(before, trail.snapshot(event, AUDITED))
        if not changes_made:
            event.refresh_from_db()
            return Changed(event, "unchanged")
        event.updated_at = now
        event.save()
        trail.record(actor, "update", event, changes_made, text)
    return Changed(event, "changed")


def history(event: AdverseEvent):
    """The event's audit events, oldest first (create, then each change with its reason)."""
    from prt.web.audit.models import AuditEvent

    return (AuditEvent.objects.filter(model=AdverseEvent._meta.label_lower, object_id=str(event.pk))
            .select_related("actor").order_by("at", "id"))
