"""``prt web demo``'s program part (prt/web/program/demo.py): the demo therapist's caseload, the
physician's evaluations, sessions on the schedule's days, the demo participant's practice, evidence,
movements and attempts, the raters' sample and ratings; all audited; a rerun duplicates nothing."""

from __future__ import annotations

import pytest


@pytest.mark.slow
def test_the_demo_delivers_the_program_and_a_rerun_writes_nothing(db, fast_hashing, settings, tmp_path):
    from prt.program import verify_sample
    from prt.web.accounts.models import Site
    from prt.web.audit.models import AuditEvent
    from prt.web.demo import create_demo
    from prt.web.participants.models import Participant
    from prt.web.program import demo, services
    from prt.web.program.models import (CaseloadAssignment, Evaluation, ExposureAttemptLog, FidelityDraw,
                                        FidelityRating, PracticeLog, ProgramSession)

    settings.PRT_ALLOCATION_KEY_FILE = str(tmp_path / "allocation.key")
    logins = {login.role: login for login in create_demo()}  # prt web demo builds the program part too
    assert logins["rater"].username == "demo-rater" and logins["rater"].totp_secret  # a staff login like the others
    site = Site.objects.get(code="demo")
    prt = list(Participant.objects.filter(site=site, arm="prt"))
    assert len(prt) == CaseloadAssignment.objects.filter(therapist__username="demo-therapist",
                                                                                ended_at__isnull=True).count()
    me = Participant.objects.get(user__username="demo-participant")
    assert [s.state for s in services.calendar(me)] == ["held"] * 8  # randomized about five weeks ago
    assert services.evaluation_of(me).referral == "refer"
    assert PracticeLog.objects.filter(participant=me).count() > 10
    hierarchy, attempts, progress = services.exposure(me)
    assert len(hierarchy.steps) == 4 and len(attempts) == len(demo.ATTEMPTS)
    assert (progress.suggestion, progress.mastered) == ("repeat", 2)
    assert services.progress(me).evidence.strength == "very strong"
    today = site.today()
    for person in prt:  # arms come from minimization, so who is recent varies: the rule, person by person
        days = (today - (services.randomized_on(person) or today)).days
        evaluation = services.evaluation_of(person)
        expected = "completed" if days >= 7 else "draft" if days >= 1 else None
        assert (None if evaluation is None else "completed" if evaluation.completed else "draft") == expected
    assert all(e.referral == "refer" for e in Evaluation.objects.filter(completed_at__isnull=False))
    draw = FidelityDraw.objects.get()
    assert (draw.seed, draw.drawn_by.username) == (demo.SAMPLE_SEED, "demo-rater")
    verify_sample(draw.record)
    assert FidelityRating.objects.count() == len(draw.sample) - demo.LEFT_TO_RATE
    for model, rows in (("programsession", ProgramSession), ("practicelog", PracticeLog),
                        ("exposureattemptlog", ExposureAttemptLog), ("fidelityrating", FidelityRating)):
        assert AuditEvent.objects.filter(model=f"program.{model}", action="create").count() == rows.objects.count()
    before = AuditEvent.objects.count()
    assert set(demo.build(site).values()) == {0}  # run again: nothing written
    assert AuditEvent.objects.count() == before
