"""Package data: one YAML definition per instrument (see docs/instruments.md)."""
