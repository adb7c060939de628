"""The reminder contact: recorded and changed by the site's coordinator, the participant's own
opt-out, audit without the address, refusals by field, pages and API, and fuzzed inputs."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from prt.web.audit.models import AuditEvent
from prt.web.errors import Refused
from prt.web.reminders import services
from prt.web.reminders.models import ReminderContact

ADDRESS = "alex.doe@example.org"


def audit_text() -> str:
    return json.dumps(list(AuditEvent.objects.values("changes", "reason", "object_id")), default=str)


def test_recording_and_changing_an_address_is_audited_without_the_address(world):
    actor = world.users["coordinator_same_site"]
    saved = services.save_contact(world.a, email=" Alex.Doe@EXAMPLE.org ", opted_in=True, actor=actor)
    assert saved.outcome == "created" and saved.contact.email == "Alex.Doe@example.org"  # domain lower-cased
    event = AuditEvent.objects.get(model="reminders.remindercontact")
    assert (event.action, event.actor, event.changes) == (
        "create", actor, {"participant": [None, world.a.pk], "opted_in": [None, True], "address_version": [None, 1]})
    with pytest.raises(Refused) as caught:
        services.save_contact(world.a, email=ADDRESS, opted_in=True, actor=actor)
    assert (caught.value.field, caught.value.status) == ("reason", 422)
    saved = services.save_contact(world.a, email=ADDRESS, opted_in=True, actor=actor, reason="typo in the address")
    assert (saved.outcome, saved.contact.address_version) == ("changed", 2)
    change = AuditEvent.objects.filter(model="reminders.remindercontact").latest("at", "id")
    assert (change.action, change.changes, change.reason) == (
        "update", {"address_version": [1, 2]}, "typo in the address")
    assert services.save_contact(world.a, email=ADDRESS, opted_in=True, actor=actor).outcome == "unchanged"
    assert AuditEvent.objects.filter(model="reminders.remindercontact").count() == 2
    assert "@" not in audit_text() and "alex" not in audit_text().lower()


@pytest.mark.parametrize("email", ["", "   ", "not-an-address", "a@b@example.org", "name@", "@example.org",
                                   "na\nme@example.org", "name@exa mple.org", "two@example.org, three@example.org",
                                   "x" * 250 + "@example.org", "nul\x00@example.org", 42, None, ["a@example.org"]])
def test_anything_but_one_address_is_refused_naming_the_field_not_the_value(world, email):
    with pytest.raises(Refused) as caught:
        services.save_contact(world.a, email=email, opted_in=True, actor=None)
    assert (caught.value.field, caught.value.status) == ("email", 422)
    assert "example.org" not in caught.value.message.replace("name@example.org", "")
    assert not ReminderContact.objects.exists()


def test_opted_in_must_be_a_boolean(world):
    for value in ("yes", 1, None):
        with pytest.raises(Refused) as caught:
            services.save_contact(world.a, email=ADDRESS, opted_in=value, actor=None)
        assert caught.value.field == "opted_in"


def test_a_withdrawn_person_gets_no_new_address_but_may_opt_out_and_be_erased(world):
    coordinator = world.users["coordinator_same_site"]
    services.save_contact(world.a, email=ADDRESS, opted_in=True, actor=coordinator)
    world.a.status = "withdrawn"
    world.a.save()
    with pytest.raises(Refused) as caught:
        services.save_contact(world.a, email="new@example.org", opted_in=True, actor=coordinator, reason="new")
    assert (caught.value.field, caught.value.status) == ("participant", 409)
    assert services.set_own_choice(world.a, opted_in=False, actor=world.users["participant_a"]).outcome == "changed"
    with pytest.raises(Refused):
        services.set_own_choice(world.a, opted_in=True, actor=world.users["participant_a"])
    with pytest.raises(Refused) as caught:
        services.delete_contact(world.a, actor=coordinator, reason="  ")
    assert caught.value.field == "reason"
    assert services.delete_contact(world.a, actor=coordinator, reason="withdrew").outcome == "deleted"
    assert not ReminderContact.objects.exists()
    erased = AuditEvent.objects.filter(model="reminders.remindercontact", action="delete").get()
    assert erased.reason == "withdrew" and "@" not in json.dumps(erased.changes)


def test_the_participant_opts_out_and_back_in_with_the_reason_recorded_for_them(world):
    me = world.users["participant_a"]
    with pytest.raises(Refused) as caught:
        services.set_own_choice(world.a, opted_in=False, actor=me)
    assert caught.value.status == 409
    services.save_contact(world.a, email=ADDRESS, opted_in=True, actor=world.users["coordinator_same_site"])
    services.set_own_choice(world.a, opted_in=False, actor=me)
    services.set_own_choice(world.a, opted_in=True, actor=me)
    events = list(AuditEvent.objects.filter(model="reminders.remindercontact", action="update").order_by("id"))
    assert [(e.actor, e.changes, e.reason) for e in events] == [
        (me, {"opted_in": [True, False]}, services.OPTED_OUT), (me, {"opted_in": [False, True]}, services.OPTED_IN)]


# ---------------------------------------------------------------------------- pages

def test_the_coordinator_records_changes_and_erases_on_the_person_page(world):
    client = world.client_for("coordinator_same_site")
    page = "/coordinator/reminders/people/BOU-001/"
    response = client.post(page, {"action": "save", "email": ADDRESS, "opted_in": "on"})
    assert response.status_code == 302 and response["Location"] == page
    html = client.get(page)
    assert ADDRESS in html.content.decode() and "no-store" in html["Cache-Control"]
    refused = client.post(page, {"action": "save", "email": "other@example.org"})  # a change without a reason
    assert refused.status_code == 422 and "Reason: required" in refused.content.decode()
    client.post(page, {"action": "save", "email": ADDRESS, "reason": "the participant asked to stop"})
    assert ReminderContact.objects.get().opted_in is False
    listing = client.get("/coordinator/reminders/").content.decode()
    assert "Off (opted out)" in listing and ADDRESS not in listing and "BOU-002" in listing and "LON-001" not in listing
    client.post(page, {"action": "erase", "reason": "no longer wanted"})
    assert not ReminderContact.objects.exists()
    assert client.post(page, {"action": "drop"}).status_code == 422


def test_the_participant_sees_their_address_and_opts_out(world):
    services.save_contact(world.a, email=ADDRESS, opted_in=True, actor=world.users["coordinator_same_site"])
    client = world.client_for("participant_a")
    html = client.get("/reminders/").content.decode()
    assert ADDRESS in html and "Stop e-mail reminders" in html
    response = client.post("/reminders/", {"opted_in": "no"})
    assert response.status_code == 302
    assert ReminderContact.objects.get().opted_in is False
    assert "Send me e-mail reminders again" in client.get("/reminders/").content.decode()
    other = world.client_for("participant_b").get("/reminders/").content.decode()
    assert ADDRESS not in other and "No e-mail address is recorded" in other


# ---------------------------------------------------------------------------- API

def post(client, path, body):
    return client.post(path, body if isinstance(body, (str, bytes)) else json.dumps(body),
                       content_type="application/json")


def test_the_api_records_and_reads_the_contact(world):
    client = world.client_for("coordinator_same_site")
    path = "/api/participants/BOU-001/reminder-contact"
    assert client.get(path).json() == {"study_id": "BOU-001", "email": None, "opted_in": False, "updated_at": None}
    created = post(client, path, {"email": ADDRESS, "opted_in": True})
    assert created.status_code == 201 and created.json()["outcome"] == "created"
    assert post(client, path, {"email": ADDRESS, "opted_in": True}).json()["outcome"] == "unchanged"
    refused = post(client, path, {"email": ADDRESS, "opted_in": False})
    assert refused.status_code == 422 and refused.json()["errors"] == [
        {"field": "reason", "message": "required when a recorded reminder contact changes (say why)"}]
    assert client.get(path)["Cache-Control"] == "no-store, private"
    me = world.client_for("participant_a")
    assert me.get("/api/reminders/me").json()["email"] == ADDRESS
    assert post(me, "/api/reminders/me", {"opted_in": False}).json()["opted_in"] is False


@pytest.mark.parametrize("body, field, status", [
    ("{", "body", 400), ([], "body", 422), ({"email": ADDRESS}, "opted_in", 422),
    ({"email": ADDRESS, "opted_in": "true"}, "opted_in", 422), ({"email": ADDRESS, "opted_in": 1}, "opted_in", 422),
    ({"email": 7, "opted_in": True}, "email", 422), ({"email": "nope", "opted_in": True}, "email", 422),
    ({"email": ADDRESS, "opted_in": True, "name": "Alex"}, "name", 422),
    ({"email": ADDRESS, "opted_in": True, "reason": 3}, "reason", 422)])
def test_api_refusals_name_the_field_and_never_repeat_the_value(world, body, field, status):
    response = post(world.client_for("coordinator_same_site"), "/api/participants/BOU-001/reminder-contact", body)
    assert response.status_code == status
    assert response.json()["errors"][0]["field"] == field
    assert "nope" not in response.content.decode() and "Alex" not in response.content.decode()


VALUES = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=30),
                   st.emails(), st.lists(st.text(max_size=5), max_size=2))
BODIES = st.one_of(
    st.fixed_dictionaries({"email": VALUES, "opted_in": VALUES}, optional={"reason": VALUES, "extra": VALUES}),
    st.dictionaries(st.text(max_size=8), VALUES, max_size=4), VALUES)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(bodies=st.lists(BODIES, min_size=1, max_size=3))
def test_arbitrary_json_never_gives_a_5xx_and_stores_only_valid_addresses(world, bodies):
    client = world.client_for("coordinator_same_site")
    for body in bodies:
        response = post(client, "/api/participants/BOU-001/reminder-contact", body)
        assert response.status_code in (200, 201, 400, 409, 422), response.content[:300]
        if response.status_code >= 400:
            assert response.json()["errors"][0]["field"]
    for contact in ReminderContact.objects.all():
        assert services.check_email(contact.email) == contact.email and isinstance(contact.opted_in, bool)
    # the trail's changes hold no address (a typed reason is the coordinator's own text)
    assert all(set(e.changes) <= {"participant", "opted_in", "address_version"}
               for e in AuditEvent.objects.filter(model="reminders.remindercontact"))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(email=st.one_of(st.emails(), st.text(max_size=40)), opted=st.sampled_from(["on", "", "off", "yes"]),
       reason=st.text(max_size=20), action=st.sampled_from(["save", "erase", "", "other"]))
def test_arbitrary_form_posts_never_give_a_5xx(world, email, opted, reason, action):
    client = world.client_for("coordinator_same_site")
    response = client.post("/coordinator/reminders/people/BOU-001/",
                           {"action": action, "email": email, "opted_in": opted, "reason": reason})
    assert response.status_code in (302, 409, 422), response.content[:300]
    for contact in ReminderContact.objects.all():
        assert services.check_email(contact.email) == contact.email
    me = world.client_for("participant_a").post("/reminders/", {"opted_in": opted})
    assert me.status_code in (302, 409)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(body=BODIES)
def test_arbitrary_json_to_the_participant_s_choice_never_gives_a_5xx(world, body):
    if not ReminderContact.objects.filter(participant=world.a).exists():
        services.save_contact(world.a, email=ADDRESS, opted_in=True, actor=None)
    before = ReminderContact.objects.get(participant=world.a)
    response = post(world.client_for("participant_a"), "/api/reminders/me", body)
    assert response.status_code in (200, 400, 422), response.content[:300]
    after = ReminderContact.objects.get(participant=world.a)
    assert (after.email, after.address_version) == (before.email, before.address_version)  # only the choice moves
    if response.status_code == 200:
        assert after.opted_in is body["opted_in"]
    else:
        assert after.opted_in == before.opted_in and response.json()["errors"][0]["field"]
