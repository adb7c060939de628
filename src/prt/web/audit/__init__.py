"""The append-only audit trail of every create, update and delete of trial data."""
