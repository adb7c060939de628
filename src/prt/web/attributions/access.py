"""Who sees pain attributions, in one place.

- A **therapist** sees the answers and codes of the participants in their own active caseload
  (prt.web.program.access: another participant, even at their site, is 404; a non-therapist 403).
- A **coder** is a user holding the ``rater`` role: the platform's independent, blinded role
  (issue 14's fidelity raters code sampled session recordings; here they code answers). They see the
  queued answers of their sites stripped of study id, arm and timepoint, as the study's coders saw
  them (protocol notes, "Pain attributions"), and never the site's participants. Another site's
  answer is 404; a user who is no rater anywhere, 403.
- **Participants** never see codes (no page or API answer of theirs carries one).
"""

from __future__ import annotations

from django.http import Http404

from prt.web.attributions.models import AttributionCode
from prt.web.program import access as program_access

#: The role that codes answers (accounts.ROLES: "rater", the independent coder of the platform).
CODER_ROLE = "rater"


def coder_site_ids(user) -> set[int]:
    """The sites where ``user`` codes answers; PermissionDenied (403) when none."""
    return program_access.require_role(user, CODER_ROLE, "rater (coder)")


def code_for_coder(user, code_id: int) -> AttributionCode:
    """An answer's code at one of the coder's sites (404 otherwise, existence not disclosed)."""
    ids = coder_site_ids(user)
    if not isinstance(code_id, int) or not 0 < code_id < 2**63:
        raise Http404("no such answer")
    code = (AttributionCode.objects.select_related("submission", "decided_by")
            .filter(pk=code_id, submission__participant__site_id__in=ids).first())
    if code is None:
        raise Http404("no such answer at your sites")
    return code


def patient_for_therapist(user, study_id: str):
    """A participant of the therapist's own caseload (404 otherwise, 403 for a non-therapist)."""
    return program_access.patient_for_therapist(user, study_id)
