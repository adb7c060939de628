"""E-mail reminders for due and overdue questionnaires: the contact's rules and the daily send.

The contact (issue 13: "Reminders by e-mail for due and overdue questionnaires"): a coordinator of
the participant's site records the address and the participant's choice; the participant may opt
out (and back in) themselves. Every change is audited in the same transaction, the address never:
the trail holds ``address_version`` instead (models.py). A change needs a reason, as any change of
recorded data on the platform.

The send (:func:`send_reminders`): for each opted-in participant whose questionnaires are open, the
visits due or overdue today (``prt.web.visits.services``, i.e. ``battery.visits`` on the trial's
schedule, computed from one query of the site's submissions), at most ONE e-mail per participant
per day, listing how many questionnaires are owed and until when: no instrument names, no scores,
no diagnosis, no study name beyond "your study questionnaires". A visit is reminded again only
after ``PRT_REMINDER_INTERVAL_DAYS`` (default 7) in the same state, so a 3-week window brings a few
e-mails, not one a day. Without an explicit date a site is served once its local time has reached
``PRT_REMINDER_HOUR`` (default 9), so nobody is e-mailed at midnight by an hourly worker.

Idempotent under concurrency: a participant's reminders for a day are claimed in one transaction
holding the participant's row (``SELECT ... FOR UPDATE`` on PostgreSQL, SQLite's single writer),
backed by the log's unique constraint (participant, day, event, kind); a second run the same day
finds the claim and sends nothing. A failed send (an SMTP error) is logged by study id and
exception class only (never the address), marked ``failed`` and retried by the next run; it never
stops the batch. A run that dies between claiming and sending leaves ``sending`` rows: that
participant gets nothing more that day (never twice is preferred to once more).
"""

from __future__ import annotations

import logging
import zoneinfo
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from prt.web.accounts.models import Site
from prt.web.audit import trail
from prt.web.charts import long_date
from prt.web.errors import Refused
from prt.web.participants.models import DIARY_STATUSES, Participant
from prt.web.reminders.models import KINDS, ReminderContact, ReminderLog
from prt.web.visits import services as visits

log = logging.getLogger("prt.web.reminders")

#: Statuses in which an address may be recorded or reminders switched on: before and during the
#: questionnaires (a screened person is enrolled next). Opting out and erasing are always allowed.
CONTACT_STATUSES = ("screened", "enrolled", "randomized")
EMAIL_MESSAGE = "expected one e-mail address such as name@example.org (at most 254 characters)"
MAX_REASON = 1000
SUBJECT = "Your study questionnaires"
#: Audit reasons of the participant's own choices (their change needs no typed reason).
OPTED_OUT = "the participant opted out of e-mail reminders"
OPTED_IN = "the participant opted in to e-mail reminders again"


# ---------------------------------------------------------------------------- the contact

def check_email(value) -> str:
    """One e-mail address (Django's validator), trimmed, its domain lower-cased; Refused otherwise."""
    if not isinstance(value, str):
        raise Refused("email", EMAIL_MESSAGE)
    text = value.strip()
    if not text or len(text) > 254:
        raise Refused("email", EMAIL_MESSAGE)
    try:
        validate_email(text)
    except ValidationError:
        raise Refused("email", EMAIL_MESSAGE) from None
    local, _, domain = text.rpartition("@")
    return f"{local}@{domain.lower()}"


def check_opted_in(value) -> bool:
    if type(value) is not bool:
        raise Refused("opted_in", "expected true or false")
    return value


def check_reason(value) -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or len(value.strip()) > MAX_REASON:
        raise Refused("reason", f"expected text of at most {MAX_REASON} characters")
    return value.strip()


def audit_view(contact: ReminderContact) -> dict:
    """What the audit trail records of a contact: everything but the address (models.py)."""
    return trail.snapshot(contact, ["participant", "opted_in", "address_version"])


def contact_of(participant: Participant) -> ReminderContact | None:
    return ReminderContact.objects.filter(participant=participant).first()


@dataclass(frozen=True)
class Saved:
    contact: ReminderContact | None
    outcome: str  # created | changed | unchanged | deleted


def _locked(participant: Participant) -> tuple[Participant, ReminderContact | None]:
    person = Participant.objects.select_for_update().get(pk=participant.pk)
    return person, ReminderContact.objects.select_for_update().filter(participant=person).first()


def save_contact(participant: Participant, *, email, opted_in, actor, reason="") -> Saved:
    """Record or change the participant's address and choice (a coordinator of their site).

    Refused: ``email`` not one address (422); ``opted_in`` not a boolean (422); ``reason`` missing
    on a change (422); ``participant`` who is not screened, enrolled or randomized, for a new
    address or switching reminders on (409). Unchanged values write nothing.
    """
    email, opted_in, reason = check_email(email), check_opted_in(opted_in), check_reason(reason)
    now = timezone.now()
    with transaction.atomic():
        person, contact = _locked(participant)
        if contact is None:
            _require_open(person)
            contact = ReminderContact.objects.create(participant=person, email=email, opted_in=opted_in,
                                                     created_at=now, updated_at=now)
            trail.record(actor, "create", contact, trail.diff(None, audit_view(contact)), reason)
            return Saved(contact, "created")
        new_address = contact.email != email
        if not new_address and contact.opted_in == opted_in:
            return Saved(contact, "unchanged")
        if new_address or (opted_in and not contact.opted_in):
            _require_open(person)
        if not reason:
            raise Refused("reason", "required when a recorded reminder contact changes (say why)")
        old = audit_view(contact)
        contact.email, contact.opted_in, contact.updated_at = email, opted_in, now
        contact.address_version += new_address
        contact.save()
        trail.record(actor, "update", contact, trail.diff(old, audit_view(contact)), reason)
        return Saved(contact, "changed")


def set_own_choice(participant: Participant, *, opted_in, actor) -> Saved:
    """The participant's own opt-out (or opt-in again); 409 when no address is recorded for them."""
    opted_in = check_opted_in(opted_in)
    with transaction.atomic():
        person, contact = _locked(participant)
        if contact is None:
            raise Refused("opted_in", "no e-mail address is recorded for you; your study coordinator records it",
                          status=409)
        if contact.opted_in == opted_in:
            return Saved(contact, "unchanged")
        if opted_in:
            _require_open(person)
        old = audit_view(contact)
        contact.opted_in, contact.updated_at = opted_in, timezone.now()
        contact.save()
        trail.record(actor, "update", contact, trail.diff(old, audit_view(contact)),
                     OPTED_IN if opted_in else OPTED_OUT)
        return Saved(contact, "changed")


def delete_contact(participant: Participant, *, actor, reason) -> Saved:
    """Erase the address (data minimisation: after a withdrawal, or on request); needs a reason."""
    reason = check_reason(reason)
    if not reason:
        raise Refused("reason", "required to erase a reminder contact (say why)")
    with transaction.atomic():
        _, contact = _locked(participant)
        if contact is None:
            raise Refused("participant", "no reminder contact is recorded", status=409)
        trail.record(actor, "delete", contact, trail.diff(audit_view(contact), None), reason)
        contact.delete()
    return Saved(None, "deleted")


def _require_open(person: Participant) -> None:
    if person.status not in CONTACT_STATUSES:
        raise Refused("participant", "reminders are only for people who are screened, enrolled or randomized",
                      status=409)


# ---------------------------------------------------------------------------- the daily send

def interval_days() -> int:
    """Days before a visit still in the same state is reminded again (1 = every day)."""
    return max(1, int(getattr(settings, "PRT_REMINDER_INTERVAL_DAYS", 7)))


def send_hour() -> int:
    """The local hour from which a site's participants are e-mailed (runs without a date)."""
    return int(getattr(settings, "PRT_REMINDER_HOUR", 9))


@dataclass(frozen=True)
class Item:
    """One visit's questionnaires in a reminder."""

    event: str
    kind: str                      # due | overdue
    instruments: tuple[str, ...]
    target: date
    window_close: date


@dataclass(frozen=True)
class Planned:
    participant: Participant
    day: date
    items: tuple[Item, ...]


@dataclass
class Outcome:
    """What a run did, by study id (pseudonyms): never an address."""

    dry_run: bool = False
    sent: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)     # reminded (or being reminded) today, or opted out meanwhile
    planned: list[Planned] = field(default_factory=list)  # dry run: what would be sent
    waiting: list[str] = field(default_factory=list)      # sites where it is not yet PRT_REMINDER_HOUR

    def summary(self) -> dict:
        return {"dry_run": self.dry_run, "sent": len(self.sent), "failed": len(self.failed),
                "already": len(self.already), "planned": len(self.planned), "waiting_sites": list(self.waiting)}


def plan(site: Site, day: date, outcome: Outcome | None = None) -> list[Planned]:
    """Who at ``site`` gets a reminder for ``day`` and what it lists (reads only; a few queries per site)."""
    contacts = list(ReminderContact.objects.filter(participant__site=site, participant__status__in=DIARY_STATUSES,
                                                   opted_in=True).select_related("participant"))
    if not contacts:
        return []
    progress = visits.battery_progress(site)
    since = day - timedelta(days=interval_days())
    recent = set(ReminderLog.objects.filter(participant__site=site, status="sent", day__gt=since, day__lte=day)
                 .values_list("participant_id", "event", "kind"))
    taken = set(ReminderLog.objects.filter(participant__site=site, day=day, status__in=("sending", "sent"))
                .values_list("participant_id", flat=True))
    out = []
    for contact in sorted(contacts, key=lambda c: c.participant.study_id):
        person = contact.participant
        person.site = site
        if person.pk in taken:
            if outcome is not None:
                outcome.already.append(person.study_id)
            continue
        items = tuple(Item(v.event, v.state, v.outstanding, v.target, v.window_close)
                      for v in visits.participant_visits(person, day, progress.get(person.pk, {}),
                                                         visits.Filters(horizon=0))
                      if v.state in KINDS and v.outstanding and (person.pk, v.event, v.state) not in recent)
        if items:
            out.append(Planned(person, day, items))
    return out


def public_link(name: str) -> str:
    """An absolute link for an e-mail: ``PRT_PUBLIC_URL`` (the site's public address) + the path."""
    base = str(getattr(settings, "PRT_PUBLIC_URL", "") or "").rstrip("/")
    return f"{base}{reverse(name)}" if base else ""


def message_text(items: tuple[Item, ...]) -> str:
    """The e-mail's text: how many questionnaires, until when, the link. Nothing else about the study."""
    lines = ["Hello,", "", "You have study questionnaires to answer:", ""]
    for item in items:
        n = len(item.instruments)
        what = f"{n} questionnaire{'s' if n != 1 else ''}"
        if item.kind == "due":
            lines.append(f"- {what} to answer by {long_date(item.target)}")
        else:
            them = "them" if n != 1 else "it"
            lines.append(f"- {what} not answered yet: please answer {them} by {long_date(item.window_close)}, "
                         "when the time for answering ends")
    link, settings_link = public_link("questionnaires"), public_link("reminders-me")
    lines += ["", f"Open your study questionnaires: {link}" if link else
              "Sign in to the study website to open your study questionnaires.", "",
              "You get these e-mails because you asked your study team for reminders. To stop them, "
              + (f"open {settings_link}" if settings_link else "sign in and open your reminder settings")
              + " or tell your study coordinator."]
    return "\n".join(lines) + "\n"


def _claim(planned: Planned, now: datetime) -> tuple[str, list[ReminderLog]] | None:
    """Take the participant's reminders of the day (address, log rows), or None if another run has."""
    person = planned.participant
    try:
        with transaction.atomic():
            list(Participant.objects.select_for_update().filter(pk=person.pk).values_list("pk"))
            address = (ReminderContact.objects.filter(participant=person, opted_in=True)
                       .values_list("email", flat=True).first())
            if address is None or not Participant.objects.filter(pk=person.pk, status__in=DIARY_STATUSES).exists():
                return None  # opted out or closed since the plan was made
            rows = {(r.event, r.kind): r for r in ReminderLog.objects.filter(participant=person, day=planned.day)}
            if any(r.status in ("sending", "sent") for r in rows.values()):
                return None
            claimed = []
            for item in planned.items:
                row = rows.get((item.event, item.kind))
                if row is None:
                    row = ReminderLog.objects.create(participant=person, day=planned.day, event=item.event,
                                                     kind=item.kind, instruments=" ".join(item.instruments),
                                                     created_at=now)
                else:  # a failed attempt of the same day: retried
                    row.status, row.attempts, row.instruments = "sending", row.attempts + 1, " ".join(item.instruments)
                    row.save(update_fields=["status", "attempts", "instruments"])
                claimed.append(row)
            return address, claimed
    except IntegrityError:  # another run inserted the same (participant, day, event, kind) first
        return None


def _deliver(planned: Planned, connection, now: datetime, outcome: Outcome) -> None:
    claim = _claim(planned, now)
    study_id = planned.participant.study_id
    if claim is None:
        outcome.already.append(study_id)
        return
    address, rows = claim
    ids = [r.pk for r in rows]
    message = mail.EmailMessage(SUBJECT, message_text(planned.items), to=[address], connection=connection,
                                headers={"Auto-Submitted": "auto-generated"})
    try:
        message.send()
    except Exception as exc:  # noqa: BLE001 - any backend error: logged without the address, retried next run
        log.warning("reminder for %s on %s not sent (%s); it is retried on the next run", study_id,
                    planned.day.isoformat(), type(exc).__name__)
        ReminderLog.objects.filter(pk__in=ids).update(status="failed")
        _reset(connection)
        outcome.failed.append(study_id)
        return
    ReminderLog.objects.filter(pk__in=ids).update(status="sent", sent_at=timezone.now())
    outcome.sent.append(study_id)


def _reset(connection) -> None:
    """Close a connection after an error, so the next message opens a fresh one."""
    try:
        connection.close()
    except Exception:  # noqa: BLE001 - a broken connection may fail to close; the next send reopens
        pass


def send_reminders(on: date | None = None, *, dry_run: bool = False, now: datetime | None = None,
                   sites=None) -> Outcome:
    """Send today's reminders (``on``: that day at every site, whatever the hour); ``dry_run``:
    plan only (nothing written, nothing sent). Returns what was done, by study id."""
    now = now or timezone.now()
    outcome = Outcome(dry_run=dry_run)
    connection = None if dry_run else mail.get_connection()
    for site in (sites if sites is not None else Site.objects.order_by("code")):
        local = timezone.localtime(now, zoneinfo.ZoneInfo(site.timezone))
        if on is None and local.hour < send_hour():
            outcome.waiting.append(site.code)
            continue
        for planned in plan(site, on or local.date(), outcome):
            if dry_run:
                outcome.planned.append(planned)
            else:
                _deliver(planned, connection, now, outcome)
    return outcome
