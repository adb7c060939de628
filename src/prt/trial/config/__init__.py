"""Package data: the trial's default eligibility rules (eligibility.yaml)."""
