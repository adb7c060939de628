"""CONSORT flow (skeleton: filled in by its own work)."""
