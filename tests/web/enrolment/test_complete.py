"""A randomized person completes the trial once the final follow-up is done or its window has closed."""

from __future__ import annotations

import uuid

import pytest

from tests.web.enrolment.common import allocation_key, enrolled  # noqa: F401 (fixture)


def test_completion_waits_for_the_final_follow_up_then_is_audited(world, allocation_key, clock):
    from prt.web.audit.models import AuditEvent
    from prt.web.enrolment import services
    from prt.web.errors import Refused
    from prt.web.randomization import services as randomization

    coordinator = world.users["coordinator_same_site"]
    person = enrolled(world.site1, "BOU-300", coordinator)
    with pytest.raises(Refused, match="only a randomized person completes"):
        services.complete(person, actor=coordinator)
    randomization.randomize(person, client_uuid=uuid.uuid4(), actor=coordinator)
    with pytest.raises(Refused, match=r"the final follow-up \(12-month follow-up\) is upcoming") as refused:
        services.complete(person, actor=coordinator)
    assert refused.value.status == 409
    clock.advance(days=460)  # past the 12-month window (pre + 1 month + 12 months + 30 days), nothing answered
    services.complete(person, actor=coordinator)
    person.refresh_from_db()
    assert (person.status, bool(person.arm)) == ("completed", True)
    event = AuditEvent.objects.filter(model="participants.participant", action="update").latest("id")
    assert event.changes == {"status": ["randomized", "completed"]}
    assert event.reason == "completed: the final follow-up (12mo) is missed"
    with pytest.raises(Refused, match="status is completed"):
        services.complete(person, actor=coordinator)


def test_the_person_page_offers_completion_and_the_action_answers_its_rules(world, allocation_key, clock):
    from prt.web.randomization import services as randomization

    coordinator = world.users["coordinator_same_site"]
    person = enrolled(world.site1, "BOU-301", coordinator)
    randomization.randomize(person, client_uuid=uuid.uuid4(), actor=coordinator)
    client = world.client_for("coordinator_same_site")
    assert "Mark BOU-301 as completed" in client.get("/coordinator/people/BOU-301/").content.decode()
    early = client.post("/coordinator/people/BOU-301/complete/")
    assert early.status_code == 409 and "12-month follow-up" in early.content.decode()
    clock.advance(days=460)
    client = world.client_for("coordinator_same_site")  # a new session: the first one has expired
    assert client.post("/coordinator/people/BOU-301/complete/").status_code == 302
    assert "Completed the trial." in client.get("/coordinator/people/BOU-301/").content.decode()
