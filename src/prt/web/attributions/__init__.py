"""Pain attributions on the platform (issue 15, "Platform"): the causal item coded on submission,
the therapist's view of a patient's answers and their change, and the coder's review queue."""
