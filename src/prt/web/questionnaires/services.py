"""Answering and submitting a questionnaire: the rules, shared by the pages and the API.

Every answer is checked against the instrument's definition by ``prt.instruments`` (codes of
choice items, ranges of numeric items, free text), never by rules written here; a submission is
scored by ``prt.instruments.score`` (each score's published missing-item rule) and refused whole
when it cannot be scored, so nothing partial is ever stored as a submission. A client UUID makes a
submission idempotent; submissions of one participant are serialized by a row lock on the
participant (PostgreSQL) or SQLite's single writer, as the diary's are (diary/services.py).
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from prt import __version__, instruments
from prt.errors import InputError
from prt.web.attributions import services as attributions
from prt.web.audit import trail
from prt.web.errors import Refused
from prt.web.participants.models import Participant
from prt.web.questionnaires import battery
from prt.web.questionnaires.models import Draft, Submission

CHANNELS = ("web", "api", "fhir")


@dataclass(frozen=True)
class Submitted:
    submission: Submission
    outcome: str  # created | replayed


@lru_cache(maxsize=None)
def definition_sha256(instrument_id: str) -> str:
    """SHA-256 of the instrument's YAML definition (which file produced the scores)."""
    source = instruments.get(instrument_id).source_file  # "definitions/<id>.yaml" for packaged ones
    path = Path(source) if Path(source).is_absolute() else resources.files("prt.instruments").joinpath(source)
    return hashlib.sha256(path.read_bytes()).hexdigest()


def headline(instrument_id: str) -> str | None:
    """The score charted over time: the subscale the published bands apply to (BPI average pain),
    else the total, else the first subscale (PANAS); None when the form has no score (IPQ causes)."""
    inst = instruments.get(instrument_id)
    interpretation = inst.interpretation
    if interpretation is not None and interpretation.applies_to in inst.subscale_scoring:
        return interpretation.applies_to
    if inst.scoring.method != "none":
        return "total"
    return next(iter(inst.subscale_scoring), None)


def headline_range(instrument_id: str) -> tuple[float, float] | None:
    name = headline(instrument_id)
    return None if name is None else instruments.get(instrument_id).range_of(name)


def _domain_refusal(exc: InputError, field: str = "answers") -> Refused:
    """prt.instruments' message (names the instrument and item, never the value) as a 422."""
    return Refused(field, str(exc))


def check_answer(instrument_id: str, number: str, value: Any):
    """The code of one answer (None: skipped), validated against its item's definition."""
    inst = instruments.get(instrument_id)
    if number not in inst.item_numbers:
        raise Refused("item", f"{instrument_id} has items {', '.join(inst.item_numbers)}")
    try:
        return instruments.normalize_responses(inst, {number: value}).get(number)
    except InputError as exc:
        raise _domain_refusal(exc, "answer") from None


def draft_answers(participant: Participant, instrument_id: str, event: str) -> dict[str, Any]:
    draft = Draft.objects.filter(participant=participant, instrument=instrument_id, event=event).first()
    return dict(draft.answers) if draft is not None else {}


def save_answer(participant: Participant, instrument_id: str, event: str, number: str, value: Any,
                now: datetime | None = None) -> dict[str, Any]:
    """Validate one answer and keep it in the participant's draft (an empty value clears it).

    Refused when the questionnaire is not open today (window, status, already submitted) or the
    answer does not fit its item. Returns the draft's answers.
    """
    now = now or timezone.now()
    with transaction.atomic():
        locked = Participant.objects.select_for_update().select_related("site").get(pk=participant.pk)
        battery.open_task(locked, instrument_id, event, locked.site.today(now))
        code = check_answer(instrument_id, number, value)
        draft, _ = Draft.objects.get_or_create(participant=locked, instrument=instrument_id, event=event)
        answers = dict(draft.answers)
        if code is None:
            answers.pop(number, None)
        else:
            answers[number] = code
        draft.answers, draft.updated_at = answers, now
        draft.save(update_fields=["answers", "updated_at"])
    return answers


def submit(participant: Participant, *, instrument_id: str, event: str, client_uuid: uuid.UUID,
           answers: Any, channel: str, actor, now: datetime | None = None) -> Submitted:
    """Score ``answers`` ({item number: code}) and store them as the participant's submission.

    Raises Refused: a UUID already used for another submission (409), the questionnaire not open
    today or already submitted (403/404/409), answers that do not fit the definition or too few for
    any published scoring rule (422). Nothing is written when it raises.
    """
    assert channel in CHANNELS
    now = now or timezone.now()
    attributions.prepare(instrument_id)  # a trained coder loads before the lock, not under it
    for attempt in (1, 2):
        try:
            with transaction.atomic():
                return _submit(participant, instrument_id, event, client_uuid, answers, channel, actor, now)
        except IntegrityError:
            receipt = Submission.objects.filter(client_uuid=client_uuid).first()
            if receipt is not None:
                return _replay(receipt, participant, instrument_id, event)
            if attempt == 2:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def _replay(receipt: Submission, participant: Participant, instrument_id: str, event: str) -> Submitted:
    if receipt.participant_id != participant.pk or (receipt.instrument, receipt.event) != (instrument_id, event):
        raise Refused("client_uuid", "already used by another submission; send a new UUID", status=409)
    return Submitted(receipt, "replayed")


def _submit(participant, instrument_id, event, client_uuid, answers, channel, actor, now) -> Submitted:
    locked = Participant.objects.select_for_update().select_related("site").get(pk=participant.pk)
    receipt = Submission.objects.filter(client_uuid=client_uuid).first()
    if receipt is not None:
        return _replay(receipt, locked, instrument_id, event)
    today = locked.site.today(now)
    battery.open_task(locked, instrument_id, event, today)
    try:
        result = instruments.score(instrument_id, answers)
    except InputError as exc:
        raise _domain_refusal(exc) from None
    name = headline(instrument_id)
    value = None if name is None else (result.total if name == "total" else result.subscales.get(name))
    inst = instruments.get(instrument_id)
    submission = Submission.objects.create(
        client_uuid=client_uuid, participant=locked, instrument=instrument_id, event=event, day=today,
        answers=result.items, score=value, scores=result.to_dict(details=True), instrument_form=inst.form,
        instrument_source=inst.citation, definition_sha256=definition_sha256(instrument_id),
        prt_version=__version__, channel=channel, submitted_at=now)
    trail.record(actor, "create", submission, trail.diff(None, trail.snapshot(submission)))
    attributions.code_submission(submission, now)  # the causal item's answers, coded (issue 15)
    Draft.objects.filter(participant=locked, instrument=instrument_id, event=event).delete()
    return Submitted(submission, "created")


def history(participant: Participant) -> list[Submission]:
    """The participant's submissions, oldest first."""
    return list(Submission.objects.filter(participant=participant).order_by("day", "submitted_at"))
