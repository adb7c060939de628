"""Calibration figures for the simulated trial (aggregate summaries only; see ``derive.py``)."""
