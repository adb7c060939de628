"""Questionnaire reminders (skeleton: filled in by its own work)."""
