"""Delivering PRT on the platform (issue 14): skeleton, filled in by its own work."""
