"""The coordinator's part of ``prt web demo``: people in every state before and at randomization.

Simulated answers (fixed), screened, consented, enrolled and randomized through the same services
as the pages, so every step is audited and the allocation log verifies. The allocation key is
created (``prt trial keygen``'s :func:`prt.trial.create_key`) where ``PRT_ALLOCATION_KEY_FILE``
points, by default the data folder, only if no key is there.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from django.conf import settings

from prt.trial.allocation_log import create_key
from prt.web.enrolment import services

ELIGIBLE = {"age": "45", "sex": "female", "back_pain_half_days_6mo": "yes", "pain_avg_week": "6",
            "back_pain_intensity": "6", "leg_pain_intensity": "2", "mri_safe": "yes",
            "autoimmune_condition": "no", "metastatic_cancer_history": "no", "opioid": "no"}
#: (study id, answers changed from ELIGIBLE, how far the person goes).
PEOPLE = (
    ("DEMO-S01", {}, "screened"),
    ("DEMO-S02", {"age": "19", "pain_avg_week": "3"}, "ineligible"),
    ("DEMO-S03", {"mri_safe": ""}, "incomplete"),
    ("DEMO-E01", {"age": "58", "sex": "male"}, "enrolled"),
    ("DEMO-R01", {"age": "33", "pain_avg_week": "7", "back_pain_intensity": "7"}, "randomized"),
    ("DEMO-R02", {"age": "61", "sex": "male", "opioid": "yes"}, "randomized"),
    ("DEMO-R03", {"age": "42", "pain_avg_week": "8", "back_pain_intensity": "8"}, "randomized"),
    ("DEMO-W01", {"age": "50"}, "withdrawn"),
)


def ensure_key() -> None:
    """The demo's allocation key, made once where ``PRT_ALLOCATION_KEY_FILE`` points."""
    key = Path(settings.PRT_ALLOCATION_KEY_FILE)
    if not key.exists():
        key.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        create_key(key)


def create_people(site, coordinator) -> None:
    """Create the demo's coordinator-side people at ``site`` (skipped for those already there)."""
    ensure_key()
    from prt.web.participants.models import Participant
    from prt.web.randomization import services as randomization

    for study_id, changes, stage in PEOPLE:
        if Participant.objects.filter(study_id=study_id).exists():
            continue
        person = services.screen_person(site, study_id, {**ELIGIBLE, **changes}, coordinator).participant
        if stage in ("screened", "ineligible", "incomplete"):
            continue
        services.record_consent(person, form_version="demo v1", consent_date=site.today(), actor=coordinator)
        person = services.enrol(person, actor=coordinator)
        if stage in ("randomized", "withdrawn"):
            randomization.randomize(person, client_uuid=uuid.uuid4(), actor=coordinator)
        if stage == "withdrawn":
            services.withdraw(person, withdrawal_date=site.today(), reason="demo: moved away", actor=coordinator)
