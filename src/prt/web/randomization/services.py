"""Randomizing one enrolled person by minimization, serialized, with the log kept in the database.

Rules (issue 13; docs/trial.md "Integrity model"): the allocation is computed by
:func:`prt.trial.allocation_log.next_entry` (which verifies the whole log with the key and replays
it first: a broken log allocates nobody) from the factors in the person's latest eligible screening
(as ``prt trial allocate`` takes them from the screening log); the entry is appended as one row.
Randomizations are serialized by a row lock on the single :class:`AllocationLock` row (PostgreSQL
``SELECT ... FOR UPDATE``; SQLite's ``BEGIN IMMEDIATE`` takes the one write lock at the start), so
two never compute on the same state. A client UUID makes a request idempotent; the same person
randomized again gets their first allocation back and nothing is written.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from prt.errors import InputError, LogIntegrityError
from prt.trial.allocation_log import (Replay, canonical_json, load_key, new_header, next_entry, parse_log,
                                      replay_entries)
from prt.trial.eligibility import ScreeningLog
from prt.web.audit import trail
from prt.web.enrolment import services as enrolment
from prt.web.enrolment.models import Consent
from prt.web.errors import Refused
from prt.web.participants.models import Participant
from prt.web.randomization.models import AllocationEntry, AllocationLock, RandomizationRequest

#: What a request did: made the allocation, or returned the one made before (a retry, a second click).
OUTCOMES = ("allocated", "replayed")


@dataclass(frozen=True)
class Randomized:
    participant: str
    arm: str
    seq: int
    hash: str
    timestamp: str
    outcome: str


def key_path() -> Path:
    return Path(settings.PRT_ALLOCATION_KEY_FILE)


def allocation_key() -> bytes:
    """The log's HMAC key from ``PRT_ALLOCATION_KEY_FILE`` (made by ``prt trial keygen``).

    Refused (503) when it is missing or not private: without it nobody is randomized.
    """
    try:
        return load_key(key_path())
    except InputError as exc:
        raise Refused("allocation key", f"randomization is not set up: {exc} (set PRT_ALLOCATION_KEY_FILE to a key "
                                        "made by 'prt trial keygen')", status=503) from None


def log_entries() -> list[dict[str, Any]]:
    """The log's lines in order, parsed as strictly as prt.trial parses a log file."""
    lines = list(AllocationEntry.objects.order_by("seq").values_list("line", flat=True))
    if not lines:
        return []
    return parse_log("".join(line + "\n" for line in lines).encode("ascii", "replace"), "allocation log (database)")


def screening_log() -> ScreeningLog:
    """The screenings and enrolments of the people in the database as prt.trial's ScreeningLog
    (the latest screening each, and an enrolment for everyone consented and past ``screened``)."""
    log = ScreeningLog()
    latest: dict[int, Any] = {}
    for s in enrolment.Screening.objects.select_related("participant").order_by("screened_at", "id"):
        latest[s.participant_id] = s
    for s in latest.values():
        log.add({"type": "screening", "participant": s.participant.study_id, "status": s.status,
                 "reasons": s.reasons, "missing": s.missing, "rule_set": s.rule_set,
                 "answers": s.factor_answers})
    consented = set(Consent.objects.values_list("participant_id", flat=True))
    for s in latest.values():
        if s.status == "eligible" and s.participant_id in consented and s.participant.status != "screened":
            log.add({"type": "enrolment", "participant": s.participant.study_id, "enrolled": True})
    return log


def verify(key: bytes | None = None) -> Replay:
    """Verify (hashes, signatures, chain) and replay the whole log, and check every allocation
    against the person's screening and enrolment; LogIntegrityError naming the line otherwise."""
    entries = log_entries()
    if not entries:
        raise LogIntegrityError("allocation log (database): empty (nobody randomized yet)")
    return replay_entries(entries, key=key or allocation_key(), screening=screening_log(),
                          where="allocation log (database)")


def _timestamp(now: datetime) -> str:
    return now.astimezone(timezone.get_fixed_timezone(0)).isoformat(timespec="seconds").replace("+00:00", "Z")


def _result(entry: AllocationEntry, outcome: str) -> Randomized:
    import json

    data = json.loads(entry.line)
    return Randomized(data["participant"], data["arm"], data["seq"], data["hash"], data["timestamp"], outcome)


def randomize(person: Participant, *, client_uuid: uuid.UUID, actor, now: datetime | None = None) -> Randomized:
    """Randomize ``person`` (enrolled, consented, latest screening eligible) and append the entry.

    Refused: ``client_uuid`` of another person's request (409), a person not enrolled (409), a
    factor the screening lacks (422), no key (503), a log that does not verify (503). Nothing is
    written when it raises.
    """
    if not isinstance(client_uuid, uuid.UUID):
        raise Refused("client_uuid", "expected a UUID like 0f8fad5b-d9cb-469f-a165-70867728950e")
    now = now or timezone.now()
    receipt = _receipt(client_uuid)
    if receipt is not None:  # a retry: answered from its receipt without queueing behind randomizations
        return _replayed(receipt, person)
    with transaction.atomic():
        AllocationLock.objects.select_for_update().get_or_create(pk=1)  # every randomization waits here
        return _randomize(person, client_uuid, actor, now)


def _receipt(client_uuid: uuid.UUID) -> RandomizationRequest | None:
    return RandomizationRequest.objects.select_related("entry").filter(pk=client_uuid).first()


def _replayed(receipt: RandomizationRequest, person: Participant) -> Randomized:
    if receipt.participant_id != person.pk:
        raise Refused("client_uuid", "already used by another request; send a new UUID", status=409)
    return _result(receipt.entry, "replayed")


def _randomize(person, client_uuid, actor, now) -> Randomized:
    receipt = _receipt(client_uuid)  # again under the lock: the same request may have just been answered
    if receipt is not None:
        return _replayed(receipt, person)
    locked = Participant.objects.select_for_update().get(pk=person.pk)
    user = actor if actor is not None and actor.is_authenticated else None
    existing = AllocationEntry.objects.filter(participant=locked).first()
    if existing is not None:  # randomized before (a second click, another coordinator): the first allocation
        RandomizationRequest.objects.create(client_uuid=client_uuid, participant=locked, entry=existing,
                                            actor=user, received_at=now)
        return _result(existing, "replayed")
    if locked.status != "enrolled":
        raise Refused("participant", f"status is {locked.status}; only an enrolled person is randomized", status=409)
    screening = enrolment.latest_screening(locked)
    if screening is None or screening.status != "eligible" or not Consent.objects.filter(participant=locked).exists():
        raise Refused("participant", "needs an eligible screening and recorded consent", status=409)
    key = allocation_key()
    try:
        entries = log_entries()
    except InputError as exc:
        raise Refused("allocation log", f"randomization is stopped: {exc}", status=503) from None
    timestamp = _timestamp(now)
    if not entries:
        header = new_header(enrolment.config(), "pcg64", created=timestamp, key=key)
        row = AllocationEntry.objects.create(seq=0, line=canonical_json(header), hash=header["hash"], created_at=now)
        trail.record(actor, "create", row, {"seq": [None, 0], "hash": [None, header["hash"]]})
        entries = [header]
    config = replay_config(entries)
    try:
        factors = config.factor_values(locked.study_id, screening.factor_answers)
    except InputError as exc:
        raise Refused("screening", f"{str(exc).split(': ', 1)[-1]}; screen the person again", status=422) from None
    try:
        entry = next_entry(entries, locked.study_id, factors, key=key, timestamp=timestamp)
    except LogIntegrityError as exc:
        raise Refused("allocation log", f"randomization is stopped: {exc}", status=503) from None
    row = AllocationEntry.objects.create(seq=entry["seq"], line=canonical_json(entry), hash=entry["hash"],
                                         participant=locked, created_at=now)
    trail.record(actor, "create", row, {"seq": [None, entry["seq"]], "hash": [None, entry["hash"]]})
    before = trail.snapshot(locked)
    locked.status, locked.arm = "randomized", entry["arm"]
    locked.save(update_fields=["status", "arm"])
    trail.record(actor, "update", locked, trail.diff(before, trail.snapshot(locked)),
                 f"randomized by minimization (allocation log line {entry['seq'] + 1})")
    RandomizationRequest.objects.create(client_uuid=client_uuid, participant=locked, entry=row, actor=user,
                                        received_at=now)
    return _result(row, "allocated")


def replay_config(entries):
    """The minimization config recorded in the log's header (the log's own, not today's setting)."""
    from prt.trial.minimization import MinimizationConfig

    return MinimizationConfig.from_dict(entries[0]["config"], source="allocation log header")


def allocation_of(person: Participant) -> Randomized | None:
    entry = AllocationEntry.objects.filter(participant=person).first()
    return None if entry is None else _result(entry, "replayed")
