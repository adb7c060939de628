"""Shared by the coordinator's tests: an eligible person's answers, a key, a person taken to enrolment."""

from __future__ import annotations

from datetime import date

import pytest

#: Answers of an eligible person (the trial's criteria; factors: 40s, female, pain 6-7, no opioid).
ELIGIBLE = {"age": "45", "sex": "female", "back_pain_half_days_6mo": "yes", "pain_avg_week": "6",
            "back_pain_intensity": "6", "leg_pain_intensity": "2", "mri_safe": "yes",
            "autoimmune_condition": "no", "metastatic_cancer_history": "no", "opioid": "no"}
TODAY = date(2026, 3, 10)  # the tests' clock at Boulder (tests/web/conftest.py)


@pytest.fixture
def allocation_key(settings, tmp_path):
    """A fresh key made as ``prt trial keygen`` makes it, set as PRT_ALLOCATION_KEY_FILE."""
    from prt.trial.allocation_log import create_key, load_key

    path = tmp_path / "allocation.key"
    create_key(path)
    settings.PRT_ALLOCATION_KEY_FILE = str(path)
    return load_key(path)


def enrolled(site, study_id, actor, **answers):
    """Screen (eligible), consent and enrol ``study_id`` at ``site``; the Participant."""
    from prt.web.enrolment import services

    screening = services.screen_person(site, study_id, {**ELIGIBLE, **answers}, actor)
    assert screening.status == "eligible", screening.reasons
    services.record_consent(screening.participant, form_version="v2.1", consent_date=TODAY, actor=actor)
    return services.enrol(screening.participant, actor=actor)
