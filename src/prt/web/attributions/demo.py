"""The demo's pain attributions (``prt web demo``): the demo cohort's causal-item answers at
pretreatment and posttreatment are coded when demo_trial.py submits them; this codes any left
uncoded (a demo database made before this app) and has ``demo-rater`` code a few queued answers,
so ``make run`` shows the therapist's view (``demo-therapist``: a PRT patient's answers, codes and
change) and the coder's queue (``demo-rater``) with answers waiting and answers already coded.
Through the services; a rerun writes nothing new.
"""

from __future__ import annotations

from prt.web.attributions import services
from prt.web.attributions.models import AttributionCode

#: The demo's own answers (demo_trial.CAUSES_BEFORE) the coder's review settles, and how.
DEMO_REVIEWS = {"injury lifting boxes": "injury", "old sports injury": "injury", "sitting all day at work": "sedentary"}
#: How many queued answers demo-rater codes (the rest stay in the queue).
REVIEWS = 4


def build(site) -> dict[str, int]:
    """Code the demo site's uncoded answers and review a few queued ones; counts of each."""
    from prt.web.accounts.models import User
    from prt.web.demo import username_for

    coded = services.code_uncoded([site.pk])
    rater = User.objects.filter(username=username_for("rater")).first()
    if rater is None or AttributionCode.objects.filter(decided_by=rater).exists():
        return {"coded": coded, "reviewed": 0}
    rows, _ = services.queue([site.pk], limit=10_000)
    # PRT participants' answers first: the demo therapist's caseload shows a coder's code
    rows.sort(key=lambda r: r.submission.participant.arm != "prt")
    reviewed = 0
    for row in rows:
        category = DEMO_REVIEWS.get(row.text.strip().lower())
        if category is None:
            continue
        services.review(row, category, actor=rater, seen=row.version)
        reviewed += 1
        if reviewed == REVIEWS:
            break
    return {"coded": coded, "reviewed": reviewed}
