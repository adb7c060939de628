"""Adverse events per arm for the trial report (CONSORT harms, Ioannidis et al., Ann Intern Med
2004;141:781-8: events and participants with events per arm, serious and related counted apart).

Counted from the database with one aggregate query. Only randomized participants have an arm
(intention to treat: a withdrawn person keeps theirs); events of people never randomized are
not in any arm and are left out.
"""

from __future__ import annotations

from typing import Iterable

import pandas as pd
from django.db.models import Case, Count, Q, When

from prt.vocabulary import ARMS
from prt.web.safety import vocabulary as v
from prt.web.safety.models import AdverseEvent

#: The report's columns: events, and participants with at least one such event.
COLUMNS = ("events", "serious", "related", "serious_related", "participants", "participants_serious",
           "participants_related")


def counts_by_arm(site_ids: Iterable[int] | None = None) -> pd.DataFrame:
    """One row per arm (``prt.vocabulary.ARMS`` order, every arm present), :data:`COLUMNS` as ints.

    ``related`` = possibly, probably or definitely related (a reasonable possibility, ICH E2A).
    """
    related = Q(relatedness__in=v.RELATED)
    events = AdverseEvent.objects.exclude(participant__arm="")
    if site_ids is not None:
        events = events.filter(participant__site_id__in=list(site_ids))
    # aliases prefixed "n_": an alias named like a field ("serious") would shadow it in later filters
    rows = (events.values("participant__arm").annotate(
        n_events=Count("id"), n_serious=Count("id", filter=Q(serious=True)), n_related=Count("id", filter=related),
        n_serious_related=Count("id", filter=Q(serious=True) & related),
        n_participants=Count("participant", distinct=True),
        # distinct counts under a condition as CASE (portable to SQLite and PostgreSQL alike)
        n_participants_serious=Count(Case(When(serious=True, then="participant")), distinct=True),
        n_participants_related=Count(Case(When(related, then="participant")), distinct=True)))
    frame = pd.DataFrame(0, index=pd.Index(ARMS, name="arm"), columns=list(COLUMNS), dtype="int64")
    for row in rows:
        if row["participant__arm"] in frame.index:
            frame.loc[row["participant__arm"]] = [int(row[f"n_{c}"]) for c in COLUMNS]
    return frame
