"""Who sees and does what in the program (issue 14), in one place.

- A **participant** sees their own arm's content only: the PRT pages need the PRT arm (403 for the
  placebo and usual-care arms and before randomization); a control arm's items are looked up in
  that arm only (404 for another arm's), and an item held back until a timepoint (usual care's
  workbook, after posttreatment) is 403 before it.
- A **therapist** sees only the participants in their own active caseload (another participant,
  even at their site, is 404: existence not disclosed); a user who is no therapist anywhere, 403.
- A **physician** evaluates the PRT participants of the sites where they hold the physician role.
- A **fidelity rater** sees the raters' sample of their sites and rates sampled sessions, never the
  therapist's notes, and never a session they held themselves (independent of the therapist).
- A **coordinator** assigns caseloads at their sites (enrolment.access); an **analyst** downloads
  the program export of their sites (analyst.access).

Another site's participant or session is 404; a role without access 403 (docs/web.md, "Security").
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404

from prt.web.accounts.models import Site
from prt.web.participants.access import own_participant
from prt.web.participants.models import Participant
from prt.web.program.models import FidelityDraw, ProgramSession

THERAPIST, PHYSICIAN, RATER, COORDINATOR, ANALYST = "therapist", "physician", "rater", "coordinator", "analyst"
#: Statuses in which a randomized participant's program can be read (an arm is held).
ARM_STATUSES = ("randomized", "completed", "withdrawn")


def _sites(user, role: str) -> set[int]:
    return user.site_ids_with(role) if user.is_authenticated else set()


def require_role(user, role: str, what: str) -> set[int]:
    """The user's site ids for ``role``; PermissionDenied (403) naming what needs it when none."""
    ids = _sites(user, role)
    if not ids:
        raise PermissionDenied(f"only a {what} does this")
    return ids


# ------------------------------------------------------------------------------------ participants
def participant_of(user) -> Participant:
    """The signed-in participant (403 for anyone else)."""
    participant = own_participant(user)
    if participant is None:
        raise PermissionDenied("only a participant has a program")
    return participant


def prt_participant(user) -> Participant:
    """The signed-in participant of the PRT arm (403 for another arm or before randomization:
    placebo and usual-care participants see only their arm's content, issue 14)."""
    participant = participant_of(user)
    if participant.arm != "prt" or participant.status not in ARM_STATUSES:
        raise PermissionDenied("this part of the program belongs to the PRT arm")
    return participant


# ------------------------------------------------------------------------------------ therapists
def therapist_site_ids(user) -> set[int]:
    return require_role(user, THERAPIST, "therapist")


def caseload(user) -> QuerySet[Participant]:
    """The participants in ``user``'s active caseload, at sites where they are a therapist."""
    ids = therapist_site_ids(user)
    return (Participant.objects.select_related("site")
            .filter(site_id__in=ids, caseload_assignments__therapist=user,
                    caseload_assignments__ended_at__isnull=True)
            .order_by("site__code", "study_id").distinct())


def patient_for_therapist(user, study_id: str) -> Participant:
    """A participant of the therapist's own caseload (404 otherwise, 403 for a non-therapist)."""
    person = caseload(user).filter(study_id=study_id).first()
    if person is None:
        raise Http404("no such participant in your caseload")
    return person


# ------------------------------------------------------------------------------------ physicians
def physician_site_ids(user) -> set[int]:
    return require_role(user, PHYSICIAN, "physician")


def evaluable(user) -> QuerySet[Participant]:
    """The PRT participants of the physician's sites."""
    return (Participant.objects.select_related("site")
            .filter(site_id__in=physician_site_ids(user), arm="prt", status__in=ARM_STATUSES)
            .order_by("site__code", "study_id"))


def patient_for_physician(user, study_id: str) -> Participant:
    person = evaluable(user).filter(study_id=study_id).first()
    if person is None:
        raise Http404("no such PRT participant at your sites")
    return person


# ------------------------------------------------------------------------------------ raters
def rater_site_ids(user) -> set[int]:
    return require_role(user, RATER, "fidelity rater")


def rater_sites(user) -> list[Site]:
    return list(Site.objects.filter(pk__in=rater_site_ids(user)).order_by("code"))


def rater_site(user, code: str) -> Site:
    site = Site.objects.filter(code=code, pk__in=rater_site_ids(user)).first()
    if site is None:
        raise Http404("no such site among yours")
    return site


def draw_for_rater(user, draw_id: int) -> FidelityDraw:
    ids = rater_site_ids(user)
    if not isinstance(draw_id, int) or not 0 < draw_id < 2**63:
        raise Http404("no such draw")
    draw = FidelityDraw.objects.select_related("site", "drawn_by").filter(pk=draw_id, site_id__in=ids).first()
    if draw is None:
        raise Http404("no such draw at your sites")
    return draw


def sampled_session(user, study_id: str, number: int) -> tuple[ProgramSession, FidelityDraw]:
    """A held session in the latest draw of one of the rater's sites, with that draw.

    404 when it is not in the sample (raters see only the sample); 403 when the rater held the
    session themselves (raters are independent of the therapist: protocol notes, "Fidelity").
    """
    ids = rater_site_ids(user)
    session = (ProgramSession.objects.select_related("participant__site", "therapist")
               .filter(participant__study_id=study_id, number=number, participant__site_id__in=ids,
                       status="held").first())
    if session is None:
        raise Http404("no such sampled session at your sites")
    draw = FidelityDraw.objects.filter(site_id=session.participant.site_id).first()  # newest first
    if draw is None or (session.participant.study_id, session.number) not in draw.sample:
        raise Http404("this session is not in the raters' sample")
    if session.therapist_id == user.pk:
        raise PermissionDenied("a rater never rates a session they held (raters are independent)")
    return session, draw


# ------------------------------------------------------------------------------------ coordinators, analysts
def coordinator_site_ids(user) -> set[int]:
    return require_role(user, COORDINATOR, "study coordinator")


def person_for_coordinator(user, study_id: str) -> Participant:
    """A PRT participant of the coordinator's sites (404 otherwise)."""
    person = (Participant.objects.select_related("site")
              .filter(study_id=study_id, site_id__in=coordinator_site_ids(user), arm="prt").first())
    if person is None:
        raise Http404("no such PRT participant at your sites")
    return person


def analyst_sites(user) -> list[Site]:
    from prt.web.analyst.access import analyst_sites as sites

    return sites(user)


def program_roles(user) -> list[str]:
    """The program roles ``user`` holds anywhere, in the order the hub lists them."""
    if not user.is_authenticated:
        return []
    held = set(user.memberships.values_list("role", flat=True))
    return [r for r in (THERAPIST, PHYSICIAN, RATER, COORDINATOR, ANALYST) if r in held]
