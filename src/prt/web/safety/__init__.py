"""Adverse events (skeleton: filled in by its own work)."""
