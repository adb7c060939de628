"""Which people a coordinator may act on: those of the sites where they hold the coordinator role.

Screening, consent, enrolment, randomization and withdrawal are the coordinator's (issue 13); the
other care roles see participants (participants/access.py) but do not enrol them. A person at
another site is 404 (existence not disclosed); a user who is no coordinator anywhere gets 403.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404

from prt.web.accounts.models import Site
from prt.web.participants.models import Participant

ROLE = "coordinator"


def coordinator_site_ids(user) -> set[int]:
    return user.site_ids_with(ROLE) if user.is_authenticated else set()


def require_coordinator(user) -> set[int]:
    """The user's coordinator site ids; PermissionDenied (403) when there are none."""
    ids = coordinator_site_ids(user)
    if not ids:
        raise PermissionDenied("only a study coordinator does this")
    return ids


def site_for(user, code: str) -> Site:
    ids = require_coordinator(user)
    site = Site.objects.filter(code=code, pk__in=ids).first()
    if site is None:
        raise Http404("no such site among yours")
    return site


def person_for(user, study_id: str) -> Participant:
    ids = require_coordinator(user)
    person = Participant.objects.select_related("site").filter(study_id=study_id, site_id__in=ids).first()
    if person is None:
        raise Http404("no such person at your sites")
    return person
