"""Who sees and who records adverse events: the site's care staff read, its coordinators write.

Coordinators of a participant's site record and change the participant's adverse events (issue 13:
"Coordinator (own site only): ... adverse events"); therapists and physicians of that site read
them (they see the site's participants: participants/access.py, CARE_ROLES). Another site's event
or person is 404 (existence not disclosed); a user with no such role anywhere gets 403, and so
does a reader who tries to write. Participants, analysts and admins never see this data.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404

from prt.web.accounts.models import CARE_ROLES, Site
from prt.web.enrolment import access as enrolment_access
from prt.web.participants.models import Participant
from prt.web.safety.models import AdverseEvent


def reader_site_ids(user) -> set[int]:
    """Sites whose adverse events ``user`` reads; PermissionDenied (403) when none."""
    ids = user.site_ids_with(*CARE_ROLES) if user.is_authenticated else set()
    if not ids:
        raise PermissionDenied("only the site's study staff see adverse events")
    return ids


def writer_site_ids(user) -> set[int]:
    """Sites where ``user`` records adverse events (coordinator); PermissionDenied (403) when none."""
    return enrolment_access.require_coordinator(user)


def readable_sites(user):
    return Site.objects.filter(pk__in=reader_site_ids(user)).order_by("code")


def site_for(user, code: str) -> Site:
    site = Site.objects.filter(code=code, pk__in=reader_site_ids(user)).first()
    if site is None:
        raise Http404("no such site among yours")
    return site


def person_for_recording(user, study_id: str) -> Participant:
    """A person of one of the user's coordinator sites (403 for readers, 404 for another site)."""
    ids = reader_site_ids(user)
    person = Participant.objects.select_related("site").filter(study_id=study_id, site_id__in=ids).first()
    if person is None:
        if not enrolment_access.coordinator_site_ids(user):
            raise PermissionDenied("only a study coordinator records adverse events")
        raise Http404("no such person at your sites")
    if person.site_id not in enrolment_access.coordinator_site_ids(user):
        raise PermissionDenied("only a study coordinator records adverse events")
    return person


def event_for(user, pk: int, *, write: bool = False) -> AdverseEvent:
    """The event ``pk`` if the user sees it (404 otherwise); ``write``: only its site's coordinators (403)."""
    ids = reader_site_ids(user)
    if not isinstance(pk, int) or not 0 < pk < 2**63:
        raise Http404("no such adverse event")
    event = AdverseEvent.objects.select_related("participant__site", "reported_by").filter(
        pk=pk, participant__site_id__in=ids).first()
    if event is None:
        if write and not enrolment_access.coordinator_site_ids(user):
            raise PermissionDenied("only a study coordinator changes adverse events")
        raise Http404("no such adverse event at your sites")
    if write and event.participant.site_id not in enrolment_access.coordinator_site_ids(user):
        raise PermissionDenied("only a study coordinator changes adverse events")
    return event


def can_write(user, site_id: int) -> bool:
    return site_id in enrolment_access.coordinator_site_ids(user)
