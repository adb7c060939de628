"""Screening, consent, enrolment and withdrawal: the coordinator's pages (issue 13)."""
