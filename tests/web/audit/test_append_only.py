"""The audit trail is append-only: no code path (model, queryset, admin, and on PostgreSQL no SQL
client) edits or deletes a row; changing submitted data needs a reason."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction

from prt.errors import InputError
from prt.web.audit import trail
from prt.web.audit.models import AuditEvent
from prt.web.participants.models import Participant


@pytest.fixture
def event(world):
    return trail.record(world.users["coordinator_same_site"], "create", world.a,
                        trail.diff(None, trail.snapshot(world.a)))


def test_an_event_records_who_what_and_the_values(event, world):
    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.actor == world.users["coordinator_same_site"]
    assert (stored.action, stored.model, stored.object_id) == ("create", "participants.participant", str(world.a.pk))
    assert stored.changes["study_id"] == [None, "BOU-001"] and stored.changes["status"] == [None, "enrolled"]


def test_diff_lists_only_changed_fields():
    assert trail.diff({"a": 1, "b": 2}, {"a": 1, "b": 3}) == {"b": [2, 3]}
    assert trail.diff({"a": 1}, None) == {"a": [1, None]}
    assert trail.diff({"a": 1}, {"a": 1}) == {}


@pytest.mark.parametrize("attempt", [
    lambda e: e.save(),
    lambda e: e.delete(),
    lambda e: AuditEvent.objects.filter(pk=e.pk).update(reason="edited"),
    lambda e: AuditEvent.objects.update(reason="edited"),
    lambda e: AuditEvent.objects.filter(pk=e.pk).delete(),
    lambda e: AuditEvent.objects.all().delete(),
    lambda e: AuditEvent.objects.bulk_update([e], ["reason"]),
    lambda e: AuditEvent.objects.update_or_create(pk=e.pk, defaults={"reason": "x"}),
], ids=["save", "delete", "qs-update", "manager-update", "qs-delete", "all-delete", "bulk_update",
        "update_or_create"])
def test_no_code_path_changes_or_deletes_an_event(event, attempt):
    before = AuditEvent.objects.filter(pk=event.pk).values().get()
    event.reason = "tampered"
    with pytest.raises(InputError, match="append-only"):
        attempt(event)
    assert AuditEvent.objects.filter(pk=event.pk).values().get() == before


@pytest.mark.parametrize("action", ["update", "delete"])
def test_changing_submitted_data_needs_a_reason(world, action):
    with pytest.raises(InputError, match=f"a reason is required to {action}"):
        trail.record(None, action, world.a, {"status": ["enrolled", "withdrawn"]}, reason="   ")
    assert trail.record(None, action, world.a, {"status": ["enrolled", "withdrawn"]}, reason="withdrew consent")


def test_the_database_also_refuses_a_change_without_a_reason(world):
    with pytest.raises(IntegrityError), transaction.atomic():
        AuditEvent.objects.bulk_create([AuditEvent(action="update", model="m", object_id="1", reason="")])


def test_an_unknown_action_is_refused(world):
    with pytest.raises(InputError, match="action 'rename'"):
        trail.record(None, "rename", world.a, {})


def test_the_admin_shows_events_read_only(event, world):
    admin = world.client_for("admin")
    url = f"/admin/audit/auditevent/{event.pk}/change/"
    page = admin.get(url)
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert admin.post(url, {"reason": "edited"}).status_code == 403
    assert admin.get(f"/admin/audit/auditevent/{event.pk}/delete/").status_code == 403
    assert admin.get("/admin/audit/auditevent/add/").status_code == 403
    assert admin.get("/admin/audit/auditevent/?q=BOU").status_code == 200
    assert AuditEvent.objects.get(pk=event.pk).reason == ""


def test_participant_changes_in_the_admin_are_audited_and_need_a_reason(world):
    admin = world.client_for("admin")
    url = f"/admin/participants/participant/{world.a.pk}/change/"
    form = {"study_id": "BOU-001", "site": world.site1.pk, "user": world.users["participant_a"].pk,
            "status": "withdrawn"}
    refused = admin.post(url, {**form, "reason": ""})
    assert refused.status_code == 200 and "A reason is required" in refused.content.decode()
    assert Participant.objects.get(pk=world.a.pk).status == "enrolled"
    assert admin.post(url, {**form, "reason": "withdrew consent by phone"}).status_code == 302
    event = AuditEvent.objects.get(model="participants.participant", action="update")
    assert event.changes == {"status": ["enrolled", "withdrawn"]}
    assert event.reason == "withdrew consent by phone" and event.actor == world.users["admin"]


@pytest.mark.postgresql
def test_postgresql_trigger_refuses_update_and_delete_from_any_sql(event):
    for sql in ("UPDATE audit_auditevent SET reason = 'x'", "DELETE FROM audit_auditevent"):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cur:
            cur.execute(sql)
    assert AuditEvent.objects.get(pk=event.pk).reason == ""


def test_adding_a_participant_in_the_admin_is_audited(world):
    from prt.web.accounts.models import Membership, User

    login = User.objects.create_user("participant_d")
    Membership.objects.create(user=login, site=world.site2, role="participant")
    response = world.client_for("admin").post("/admin/participants/participant/add/", {
        "study_id": "LON-002", "site": world.site2.pk, "user": login.pk, "status": "enrolled", "reason": ""})
    assert response.status_code == 302
    event = AuditEvent.objects.get(model="participants.participant", action="create")
    assert event.changes["study_id"] == [None, "LON-002"] and event.actor == world.users["admin"]
