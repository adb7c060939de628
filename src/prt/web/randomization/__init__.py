"""Randomization by prt.trial minimization, with the allocation log kept in the database (issue 13)."""
