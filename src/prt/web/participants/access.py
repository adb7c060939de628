"""Who may see which participant: the object-level permission rule, in one place.

A participant sees only themselves; coordinators, therapists and physicians see the participants
of the sites where they hold that role; analysts get de-identified exports (a later session), not
identified records; the admin role manages accounts in Django's admin. Views answer 404 for a
participant the user may not see (its existence is not disclosed) and 403 when the user holds no
role that sees participants at all.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from prt.web.accounts.models import CARE_ROLES, User
from prt.web.participants.models import Participant


def own_participant(user) -> Participant | None:
    """The participant record whose login is ``user``, or None (with its site).

    A signed-in request's user comes with it (accounts.backends.get_user), so no query then."""
    if not user.is_authenticated:
        return None
    if User.participant.is_cached(user):
        return getattr(user, "participant", None)
    return next(iter(Participant.objects.select_related("site").filter(user=user).order_by()[:1]), None)


def sees_participants(user) -> bool:
    """Whether ``user`` may see any participant at all (their own record or a care role)."""
    return user.is_authenticated and (
        Participant.objects.filter(user=user).exists() or user.has_role(*CARE_ROLES))


def visible_participants(user) -> QuerySet[Participant]:
    """The participants ``user`` may see: themselves, and everyone at their care-role sites."""
    if not user.is_authenticated:
        return Participant.objects.none()
    return Participant.objects.select_related("site").filter(
        Q(user=user) | Q(site_id__in=user.site_ids_with(*CARE_ROLES)))
