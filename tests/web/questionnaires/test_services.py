"""Answering and submitting: validated by the definition, scored by prt.instruments, idempotent, audited."""

from __future__ import annotations

import hashlib
import uuid
from importlib import resources

import pytest

from prt import __version__, instruments
from prt.web.audit.models import AuditEvent
from prt.web.errors import Refused
from prt.web.questionnaires import services
from prt.web.questionnaires.models import Draft, Submission

ODI_ALL_ONE = {str(i): 1 for i in range(1, 11)}  # 10 x 1 / 50 x 100 = 20 (Fairbank & Pynsent 2000)


def submit(participant, answers=ODI_ALL_ONE, instrument="odi", event="pre", client_uuid=None, actor=None):
    return services.submit(participant, instrument_id=instrument, event=event,
                           client_uuid=client_uuid or uuid.uuid4(), answers=answers, channel="api", actor=actor)


def test_answers_are_checked_against_the_definition_and_kept_in_a_draft(world):
    assert services.save_answer(world.a, "odi", "pre", "1", "3") == {"1": 3}
    assert services.save_answer(world.a, "odi", "pre", "2", "0") == {"1": 3, "2": 0}
    for bad in ("6", "-1", "2.5", "abc", "1e400", "٣"):
        with pytest.raises(Refused) as caught:
            services.save_answer(world.a, "odi", "pre", "3", bad)
        assert caught.value.field == "answer" and bad not in caught.value.message
    with pytest.raises(Refused):
        services.save_answer(world.a, "odi", "pre", "11", "1")
    assert services.save_answer(world.a, "odi", "pre", "1", "") == {"2": 0}  # cleared (skipped)
    assert services.save_answer(world.a, "ceq", "pre", "1", "42.5") == {"1": 42.5}
    with pytest.raises(Refused):
        services.save_answer(world.a, "ceq", "pre", "1", "101")
    assert Draft.objects.get(participant=world.a, instrument="odi").answers == {"2": 0}
    assert Submission.objects.count() == 0


def test_a_submission_is_scored_by_prt_instruments_and_stored_with_its_provenance(world):
    submitted = submit(world.a, actor=world.users["participant_a"])
    s = submitted.submission
    assert submitted.outcome == "created"
    assert s.score == 20 and s.scores == instruments.score("odi", ODI_ALL_ONE).to_dict(details=True)
    assert s.scores["band"] == "minimal disability"
    assert (s.event, s.day.isoformat(), s.channel, s.prt_version) == ("pre", "2026-03-10", "api", __version__)
    assert s.instrument_form == instruments.get("odi").form and "Fairbank" in s.instrument_source
    raw = (resources.files("prt.instruments") / "definitions" / "odi.yaml").read_bytes()
    assert s.definition_sha256 == hashlib.sha256(raw).hexdigest()
    event = AuditEvent.objects.get(model="questionnaires.submission")
    assert (event.action, event.actor, event.object_id) == ("create", world.users["participant_a"], str(s.pk))
    assert event.changes["score"] == [None, 20.0]


def test_headline_scores_follow_the_published_interpretation():
    assert services.headline("bpi_sf") == "average_pain"  # the trial's primary outcome
    assert services.headline("odi") == "total" and services.headline("panas_sf") == "positive_affect"
    assert services.headline("ipq_causes") is None
    assert services.headline_range("bpi_sf") == (0, 10)


def test_a_retry_returns_the_first_submission_and_writes_nothing(world):
    key = uuid.uuid4()
    first = submit(world.a, client_uuid=key)
    again = submit(world.a, answers={"1": 5}, client_uuid=key)
    assert again.outcome == "replayed" and again.submission.pk == first.submission.pk
    assert Submission.objects.count() == 1 and AuditEvent.objects.filter(model="questionnaires.submission").count() == 1


def test_refusals_store_nothing(world):
    key = uuid.uuid4()
    submit(world.a, client_uuid=key)
    cases = [
        (lambda: submit(world.b, client_uuid=key), 409, "client_uuid"),  # another participant's UUID
        (lambda: submit(world.a, client_uuid=key, instrument="tsk11"), 409, "client_uuid"),
        (lambda: submit(world.a), 409, "instrument"),  # already submitted for this visit
        (lambda: submit(world.b, answers={"1": 1}), 422, "answers"),  # too few for the published rule
        (lambda: submit(world.b, answers={"1": 9}), 422, "answers"),
        (lambda: submit(world.b, answers={"99": 1}), 422, "answers"),
        (lambda: submit(world.b, answers=[1, 2]), 422, "answers"),
        (lambda: submit(world.b, event="post"), 403, "event"),
    ]
    for call, status, field in cases:
        with pytest.raises(Refused) as caught:
            call()
        assert (caught.value.status, caught.value.field) == (status, field), caught.value
    assert Submission.objects.count() == 1
    assert AuditEvent.objects.filter(model="questionnaires.submission").count() == 1


def test_submitting_removes_the_draft_and_a_draft_survives_until_then(world):
    services.save_answer(world.a, "tsk11", "pre", "1", "2")
    assert services.draft_answers(world.a, "tsk11", "pre") == {"1": 2}
    submit(world.a, answers={str(i): 2 for i in range(1, 12)}, instrument="tsk11")
    assert services.draft_answers(world.a, "tsk11", "pre") == {}
    assert Submission.objects.get(instrument="tsk11").score == 22  # Woby et al. 2005: 11 x 2
