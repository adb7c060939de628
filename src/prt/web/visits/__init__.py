"""Visit schedule (skeleton: filled in by its own work)."""
