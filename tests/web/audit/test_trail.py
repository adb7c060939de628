"""trail.record writes the row Django's ORM writes (its insert is hand-written, audit/trail.py):
the same values read back for any changes, reason and action, and it keeps the trail's rules."""

from __future__ import annotations

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings, strategies as st

from prt.errors import InputError
from prt.web.audit import trail
from prt.web.audit.models import ACTIONS, AuditEvent

FIELDS = ("actor_id", "action", "model", "object_id", "changes", "reason")

#: Text as forms let it through: no NUL and no lone surrogate (Django's ProhibitNullCharactersValidator; PostgreSQL's text
#: and jsonb cannot hold it).
text = st.text(alphabet=st.characters(exclude_characters="\x00", exclude_categories=("Cs",)), max_size=20)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**53, 2**53) | st.floats(allow_nan=False, allow_infinity=False)
    | text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=8)
changes = st.dictionaries(text.filter(bool), st.tuples(json_values, json_values).map(list),
                          max_size=4)


def _row(pk) -> tuple:
    return tuple(AuditEvent.objects.values_list(*FIELDS).get(pk=pk))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(action=st.sampled_from(ACTIONS), changed=changes, reason=text.filter(str.strip),
       by_staff=st.booleans())
def test_a_recorded_event_reads_back_as_the_orm_s(world, action, changed, reason, by_staff):
    actor = world.users["coordinator_same_site"] if by_staff else None
    with transaction.atomic():
        recorded = trail.record(actor, action, world.a, changed, reason)
        by_orm = AuditEvent.objects.create(actor=actor, action=action, model="participants.participant",
                                           object_id=str(world.a.pk), changes=changed, reason=reason.strip())
        assert _row(recorded.pk) == _row(by_orm.pk)
        assert recorded.pk != by_orm.pk and not recorded._state.adding
        assert abs((AuditEvent.objects.get(pk=recorded.pk).at - recorded.at).total_seconds()) < 1e-3
        transaction.set_rollback(True)


def test_an_anonymous_actor_is_stored_as_the_system(world):
    from django.contrib.auth.models import AnonymousUser

    assert AuditEvent.objects.get(pk=trail.record(AnonymousUser(), "create", world.a, {}).pk).actor_id is None


def test_the_rules_hold_before_anything_is_written(world):
    before = AuditEvent.objects.count()
    with pytest.raises(InputError, match="a reason is required"):
        trail.record(None, "update", world.a, {"status": ["enrolled", "withdrawn"]}, reason=" ")
    with pytest.raises(InputError, match="expected one of"):
        trail.event(None, "rename", world.a, {})
    assert AuditEvent.objects.count() == before
