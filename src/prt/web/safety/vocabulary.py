"""The adverse-event vocabularies, defined once: codes (stored) and their labels (shown).

Sources: seriousness criteria and "related" as a reasonable possibility, ICH E2A (1994) II.B and
III.A; severity grades, NCI CTCAE v5.0 (grade 1-5, grade 5 = death related to the event); outcome,
relatedness and action codelists after CDISC SDTM AE (AEOUT, AEREL, AEACN); immediate SAE reporting,
ICH E6(R2) 4.11.1 (the protocol sets "immediately" as within 24 hours of the site's awareness).
"""

from __future__ import annotations

#: Severity: the three-point scale or a CTCAE v5.0 grade (a site uses one; both are stored as codes).
SEVERITIES = {
    "mild": "Mild",
    "moderate": "Moderate",
    "severe": "Severe",
    "grade_1": "CTCAE grade 1 (mild)",
    "grade_2": "CTCAE grade 2 (moderate)",
    "grade_3": "CTCAE grade 3 (severe or medically significant)",
    "grade_4": "CTCAE grade 4 (life-threatening)",
    "grade_5": "CTCAE grade 5 (death related to the event)",
}
#: Severities a fatal event may have (CTCAE: death is grade 5; on the three-point scale, severe).
FATAL_SEVERITIES = ("severe", "grade_5")

#: What makes an adverse event serious (ICH E2A II.B); a serious event ticks at least one.
SAE_CRITERIA = {
    "death": "Results in death",
    "life_threatening": "Is life-threatening",
    "hospitalisation": "Requires inpatient hospitalisation or prolongs an existing one",
    "disability": "Results in persistent or significant disability or incapacity",
    "congenital_anomaly": "Is a congenital anomaly or birth defect",
    "other_important": "Is another important medical event",
}

#: Relatedness to the study intervention; "related" = a reasonable possibility (ICH E2A III.A.1).
RELATEDNESS = {
    "not_related": "Not related",
    "unlikely": "Unlikely related",
    "possible": "Possibly related",
    "probable": "Probably related",
    "definite": "Definitely related",
}
RELATED = ("possible", "probable", "definite")

#: Action taken with the study intervention (after CDISC AEACN, in a therapy trial's words).
ACTIONS = {
    "none": "None: the study intervention continued",
    "interrupted": "Study intervention interrupted",
    "discontinued": "Study intervention discontinued",
    "not_applicable": "Not applicable (no study intervention at the time, e.g. before randomization)",
    "unknown": "Unknown",
}

#: Outcome (CDISC AEOUT).
OUTCOMES = {
    "recovered": "Recovered / resolved",
    "recovering": "Recovering / resolving",
    "not_recovered": "Not recovered / not resolved",
    "recovered_with_sequelae": "Recovered / resolved with sequelae",
    "fatal": "Fatal",
    "unknown": "Unknown",
}
#: Outcomes that close the event: an end date is required (for a fatal event, the date of death).
OUTCOMES_ENDED = ("recovered", "recovered_with_sequelae", "fatal")
#: Outcomes of an event still going on: no end date.
OUTCOMES_ONGOING = ("recovering", "not_recovered")

#: Hours from the site's awareness of a serious event to its report (sponsor, ethics committee).
SAE_REPORT_HOURS = 24

#: The fields of an adverse event as the form and the API name them, in the form's order.
FIELDS = ("onset_date", "end_date", "description", "severity", "serious", "sae_criteria", "relatedness",
          "expected", "action_taken", "outcome", "sae_reported_on")
#: Longest description and reason (free text: patient data, shown only to the site's staff).
DESCRIPTION_MAX = 1000
REASON_MAX = 1000


def label(vocabulary: dict[str, str], code: str) -> str:
    """A code's label (the code itself if unknown: an old record is still shown)."""
    return vocabulary.get(code, code)
