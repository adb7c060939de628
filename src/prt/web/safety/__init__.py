"""Adverse events: recorded by the participant's site, checked against the protocol's rules,
changed only with an audited reason; the SAE 24-hour report flag; counts per arm for the report."""
