"""Who may export, run analyses and search the audit trail (issue 13): analysts, for the sites
where they hold the analyst role (de-identified data only); the audit trail, admins only.
A user with no such role gets 403."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied

from prt.web.accounts.models import Site


def analyst_sites(user) -> list[Site]:
    """The sites where ``user`` is an analyst; PermissionDenied (403) when none."""
    ids = user.site_ids_with("analyst") if user.is_authenticated else set()
    if not ids:
        raise PermissionDenied("only an analyst does this")
    return list(Site.objects.filter(pk__in=ids).order_by("code"))


def require_admin(user) -> None:
    """The audit trail is the admin role's (or a superuser's); PermissionDenied (403) otherwise."""
    if not (user.is_authenticated and (user.is_superuser or user.has_role("admin"))):
        raise PermissionDenied("only an administrator searches the audit trail")
