"""Shared by the attribution tests: the program's world (tests/web/program/common.py) and causal-item
answers submitted through the questionnaire service, as a participant's phone sends them.

The program world has ``therapist`` with BOU-002 (participant_b, PRT) in their caseload,
``therapist_2`` with BOU-005, ``rater`` at Boulder and ``rater_other_site`` at London. The fixed
clock is 16:00 UTC on 10 March 2026: every world participant's pretreatment visit is open then
(records created that day); :func:`post` completes the pretreatment battery and moves the clock to
the posttreatment window (10 April 2026 at Boulder).
"""

from __future__ import annotations

import uuid

import pytest

from tests.web.program.common import ProgramWorld

#: Pretreatment answers with no mind-brain cause; the second and third are queued by the lemma
#: coder (confidence 0.5 < 0.6), the first is not.
BEFORE = {"1": "a car accident", "2": "injury lifting boxes", "3": "old sports injury"}
#: Posttreatment: two mind-brain causes (stress; anxiety) and one structural (degenerated discs).
AFTER = {"1": "stress in my life", "2": "anxiety", "3": "degenerated discs"}


def submit_causes(person, event: str, answers: dict, channel: str = "api", now=None):
    """The causal item submitted through prt.web.questionnaires.services (coded there), at ``now``."""
    from prt.web.questionnaires import services

    return services.submit(person, instrument_id="ipq_causes", event=event, client_uuid=uuid.uuid4(),
                           answers=answers, channel=channel, actor=person.user, now=now).submission


def minimal_answers(instrument_id: str) -> dict:
    from prt import instruments

    inst = instruments.get(instrument_id)
    return {item.number: (min(item.options) if item.kind == "choice" else item.minimum if item.kind == "numeric"
                          else "stress") for item in inst.items}


def complete_pre(person, causes: dict = BEFORE):
    """Every pretreatment questionnaire submitted today, the causal item with ``causes``."""
    from prt.web.questionnaires import battery, services

    out = None
    for instrument_id in battery.instruments_at("pre"):
        if instrument_id == "ipq_causes":
            out = submit_causes(person, "pre", causes)
        else:
            services.submit(person, instrument_id=instrument_id, event="pre", client_uuid=uuid.uuid4(),
                            answers=minimal_answers(instrument_id), channel="api", actor=person.user)
    return out


def post(person, clock, causes: dict = AFTER):
    """The posttreatment causal item, 31 days after a completed pretreatment battery."""
    complete_pre(person)
    clock.advance(days=31)  # 10 April: the post window opens (pre done 10 March + 1 month + 3 days - 3)
    return submit_causes(person, "post", causes)


@pytest.fixture
def attrib(world):
    return ProgramWorld(world)
