"""Property-based test of the review form (the app's one input surface): whatever a coder posts
(any category, reason, version, fields left out), the answer is a redirect or a refusal that names
a field, never a server error; every stored code keeps the scheme and the human-code rules, and
every change is one audit event with a reason and its old and new values. Hypothesis, derandomized."""

from __future__ import annotations

from hypothesis import HealthCheck, event, example, given, settings, strategies as st

from prt.attribution.scheme import SCHEME
from tests.web.attributions.common import BEFORE, submit_causes

SETTINGS = settings(max_examples=60, derandomize=True, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
JUNK = ["", " ", "Stress", "psych", "mind-brain", "other ", "\x00", "<b>x</b>", "stress\n", "0", "x" * 501,
        "spinal condition", "physiology (non-spinal)"]


def cell(*valid) -> st.SearchStrategy:
    """Mostly a valid value (7 in 10), else a known troublemaker or any text."""
    return st.integers(0, 9).flatmap(lambda i: st.sampled_from(list(valid)) if i < 7 else
                                     st.sampled_from(JUNK) if i < 9 else st.text(max_size=20))


FORM = st.fixed_dictionaries({
    "category": cell(*SCHEME.ids),
    "reason": st.one_of(st.just(""), st.just("second reading"), st.sampled_from(JUNK), st.text(max_size=30)),
    "version": st.sampled_from(["current", "current", "current", "stale", "", "junk"]),
    "slot": st.sampled_from([1, 2, 3]),
}).flatmap(lambda d: st.sets(st.sampled_from(["category", "reason", "version"]), max_size=1)
           .map(lambda dropped: {k: v for k, v in d.items() if k not in dropped}))


def check_invariants():
    from prt.web.attributions.models import AttributionCode
    from prt.web.audit import trail
    from prt.web.audit.models import AuditEvent

    for code in AttributionCode.objects.all():
        assert code.category is None or code.category in SCHEME.ids
        assert code.mind_brain == (None if code.category is None else SCHEME.is_mind_brain(code.category))
        assert (code.source == "human") == (code.state == "reviewed") == (code.decided_by_id is not None)
        assert code.automatic_category in SCHEME.ids  # the automatic code is never overwritten
        events = list(AuditEvent.objects.filter(model="attributions.attributioncode", object_id=str(code.pk)))
        assert events[0].action == "create" and all(e.action == "update" and e.reason.strip() for e in events[1:])
        replayed = {}
        for e in events:  # the trail, replayed old -> new, gives the row as stored
            for name, (old, new) in e.changes.items():
                assert replayed.get(name) == old
                replayed[name] = new
        stored = trail.snapshot(code)
        assert {k: replayed.get(k) for k in stored} == stored


@SETTINGS
@example(data={"category": "injury", "reason": "", "version": "current", "slot": 2})
@example(data={"category": "stress", "reason": "", "version": "current", "slot": 2})
@given(data=FORM)
def test_any_review_form(attrib, data):
    from prt.web.attributions.models import AttributionCode
    from prt.web.audit.models import AuditEvent

    if not AttributionCode.objects.exists():
        submit_causes(attrib.b, "pre", BEFORE)
    code = AttributionCode.objects.get(slot=data.pop("slot"))
    version = data.get("version")
    if version == "current":
        data["version"] = code.version
    elif version == "stale":
        data["version"] = "queued:2000-01-01T00:00:00+00:00"
    updates = AuditEvent.objects.filter(action="update").count()
    before = (code.category, code.state)
    response = attrib.client_for("rater").post(f"/attributions/review/{code.pk}/", data)
    event(f"status {response.status_code}")
    assert response.status_code in (302, 409, 422), response.content[:300]
    code.refresh_from_db()
    written = AuditEvent.objects.filter(action="update").count() - updates
    if response.status_code == 302:
        assert code.category == data["category"] and code.state == "reviewed"
        assert written == (0 if before == (data["category"], "reviewed") else 1)
    else:
        assert (code.category, code.state) == before and written == 0
        assert 'role="alert"' in response.content.decode()
    check_invariants()
