"""Submitting a daily pain rating: the diary's rules, in one function the page and the API share.

Rules (issue 13): one rating per participant per calendar day at their site, given or changed only
on that day; a client UUID makes a submission idempotent (a retry returns the stored entry and
writes nothing); every create and change is audited in the same transaction; the range comes from
the ``pain_nrs`` definition. Submissions of one participant are serialized by a row lock on the
participant (PostgreSQL) or by SQLite's single writer (``BEGIN IMMEDIATE``, writers queued by
:mod:`prt.web.diary.writers`), so a double tap never writes two entries. On PostgreSQL a day's
first rating, the common case, is one statement that takes the same lock (``_first_of_day``).
"""

from __future__ import annotations

import uuid
import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from prt.web.audit import trail
from prt.web.audit.models import AuditEvent
from prt.web.diary import chart, scale, statements, writers
from prt.web.diary.models import DiarySubmission, PainRating
from prt.web.errors import Refused
from prt.web.participants.models import DIARY_STATUSES, Participant

#: The audit reason of a participant's own same-day change (the protocol allows it that day only).
SAME_DAY_REASON = "changed by the participant on the day of the rating"
#: What a submission did: wrote a new entry, changed today's, found it already so, or was a retry.
OUTCOMES = ("created", "changed", "unchanged", "replayed")


@dataclass(frozen=True)
class Submitted:
    entry: PainRating
    outcome: str


def check_rating(rating) -> int:
    """``rating`` if it is one of the scale's values (a whole number, not a bool), else Refused."""
    lo, hi = scale.bounds()
    if type(rating) is not int or rating not in scale.values():
        raise Refused("rating", f"expected a whole number from {lo} to {hi}")
    return rating


def submit_rating(participant: Participant, *, client_uuid: uuid.UUID, day: date, rating: int, actor,
                  now: datetime | None = None) -> Submitted:
    """Record ``rating`` for ``day`` (which must be today at the participant's site).

    Returns the entry and what happened. Raises Refused: ``rating`` out of range (422), ``date`` not
    today (422), ``participant`` whose diary is closed (403), ``client_uuid`` already used for
    another participant (409). Nothing is written when it raises.
    """
    check_rating(rating)
    now = now or timezone.now()
    first = _first_of_day(participant, client_uuid, day, rating, actor, now)
    if first is not None:
        return first
    for attempt in (1, 2):
        try:
            with writers.one_writer(), transaction.atomic():
                return _submit(participant, client_uuid, day, rating, actor, now)
        except IntegrityError:
            statements.ENTRY_IDS.forget()  # in case a drawn id was refused as taken (a reset sequence)
            # Another request committed the same UUID (or the day's entry) first: answer from it.
            receipt = _receipt(client_uuid)
            if receipt is not None:
                return _replay(receipt, participant)
            if attempt == 2:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def _first_of_day(participant, client_uuid, day, rating, actor, now) -> Submitted | None:
    """The common case, a day's first rating, in one statement where the database allows it
    (statements.create_first_of_day: PostgreSQL); None when it does not apply or stored nothing,
    and :func:`_submit` decides (under the lock, as for every other submission). The status and
    the site's day are checked here from the signed-in participant's record only to skip a
    statement that would store nothing; the statement checks the status again under the lock."""
    if (not statements.statements().together or participant.status not in DIARY_STATUSES
            or day != participant.site.today(now)):
        return None
    entry, audit = _created(participant, day, rating, now, actor)
    if not statements.create_first_of_day(client_uuid, entry, audit):
        return None
    return Submitted(entry, "created")


def _created(participant, day, rating, now, actor) -> tuple[PainRating, AuditEvent]:
    """A new entry for the day (statements.new_entry) and its audit event, all its values new."""
    entry = statements.new_entry(participant.pk, day, rating, now)
    return entry, trail.event(actor, "create", entry, trail.diff(None, trail.snapshot(entry)))


def _first(queryset):
    """The first row or None, without an ORDER BY. Each lookup here is by a unique key, and
    ``.first()`` would sort by the model's default ordering: for PainRating that joins the
    participant and the site to order the one row found."""
    return next(iter(queryset.order_by()[:1]), None)


def _receipt(client_uuid: uuid.UUID) -> DiarySubmission | None:
    return _first(DiarySubmission.objects.select_related("entry").filter(pk=client_uuid))


def _replay(receipt: DiarySubmission, participant: Participant) -> Submitted:
    if receipt.participant_id != participant.pk:
        raise Refused("client_uuid", "already used by another submission; send a new UUID", status=409)
    return Submitted(receipt.entry, "replayed")


def _submit(participant, client_uuid, day, rating, actor, now) -> Submitted:
    # The participant's status, site time zone and entry for the day come with the row lock
    # (PostgreSQL) in one statement: diary/statements.py's (the ORM's rows, without its compiler).
    locked = statements.lock_participant(participant.pk, day)
    status, entry = locked.status, locked.entry
    today = timezone.localdate(now, zoneinfo.ZoneInfo(locked.timezone))
    if status not in DIARY_STATUSES or day != today:
        # A retry of an earlier submission is answered from its receipt even after midnight or a
        # withdrawal; only a new submission is refused.
        receipt = _receipt(client_uuid)
        if receipt is not None:
            return _replay(receipt, participant)
        if status not in DIARY_STATUSES:
            raise Refused("participant", "the daily diary is open only while enrolled or randomized", status=403)
        raise Refused("date", f"a rating can be given or changed only for today ({today.isoformat()} at "
                              f"the participant's site)")
    audit = None
    if entry is None:
        entry, audit = _created(participant, day, rating, now, actor)
        outcome = "created"
    elif entry.rating != rating:
        before = trail.snapshot(entry)
        entry.rating, entry.updated_at = rating, now
        entry.save(update_fields=["rating", "updated_at"])
        audit = trail.event(actor, "update", entry, trail.diff(before, trail.snapshot(entry)), SAME_DAY_REASON)
        outcome = "changed"
    else:
        outcome = "unchanged"
    # The receipt's primary key is the client UUID: a retry (nearly never) fails here with an
    # IntegrityError, everything above rolls back and submit_rating answers from the first receipt.
    # One query fewer for every other submission than looking the UUID up first. A new entry and
    # the audit event are stored with the receipt (one statement on PostgreSQL).
    statements.insert_receipt(client_uuid, participant.pk, entry, rating, now, audit=audit)
    return Submitted(entry, outcome)


def history(participant: Participant) -> list[PainRating]:
    """The participant's ratings, oldest first."""
    return list(PainRating.objects.filter(participant=participant).order_by("day"))


def daily_points(participant: Participant) -> list[chart.Point]:
    """The participant's (day, rating) pairs, oldest first: what the home page shows. Two columns,
    not model objects: a year of diary is 365 rows on every visit to the page."""
    return [chart.Point(day, rating) for day, rating in
            PainRating.objects.filter(participant=participant).order_by("day").values_list("day", "rating")]


def editable(entry: PainRating, now: datetime | None = None) -> bool:
    """Whether the participant may still change ``entry`` (only on its own day)."""
    return entry.day == entry.participant.site.today(now)
