"""Home-page pieces of the program (for diary/home.html and diary/staff_home.html, added by the
integrator): the participant's program card and the staff's links to their program pages."""

from django import template

from prt.web.program import access, services
from prt.web.program.content import curriculum

register = template.Library()


@register.inclusion_tag("program/_card.html")
def program_card(participant):
    """The participant's program: their arm's content, or for PRT where the sessions stand."""
    if participant is None or participant.status not in access.ARM_STATUSES or not participant.arm:
        return {"show": False}
    if participant.arm != "prt":
        return {"show": True, "prt": False}
    progress = services.progress(participant)
    slots = services.calendar(participant)
    upcoming = next((s for s in slots if s.state in ("scheduled", "planned")), None)
    return {"show": True, "prt": True, "current": progress.current, "total": len(curriculum().sessions),
            "upcoming": upcoming, "home_practice": [curriculum().assignment(a).title for a in progress.home_practice]}


@register.inclusion_tag("program/_links.html")
def program_links(user):
    """Links to the program pages of the roles ``user`` holds (none: nothing shown)."""
    return {"roles": access.program_roles(user)}
