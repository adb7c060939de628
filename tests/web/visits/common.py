"""Shared by the schedule and reminder tests: submitting a visit's questionnaires on a chosen day."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timezone as dt_timezone

from prt import instruments
from prt.web.questionnaires import battery, services


def lowest_answers(instrument_id: str) -> dict:
    """Every item answered with its lowest code (numeric: its minimum; text: a word)."""
    answers = {}
    for item in instruments.get(instrument_id).items:
        answers[item.number] = (min(item.options) if item.kind == "choice" else
                                item.minimum if item.kind == "numeric" else "stress")
    return answers


def submit(person, event: str, day: date, instrument_ids=None) -> None:
    """Submit ``instrument_ids`` (default: the whole battery) of ``event`` on ``day`` at the site (18:00 UTC:
    the same calendar day in Denver and London), through the questionnaires' own service."""
    now = datetime.combine(day, time(18, 0), tzinfo=dt_timezone.utc)
    for instrument_id in instrument_ids or battery.instruments_at(event):
        services.submit(person, instrument_id=instrument_id, event=event, client_uuid=uuid.uuid4(),
                        answers=lowest_answers(instrument_id), channel="api", actor=None, now=now)
