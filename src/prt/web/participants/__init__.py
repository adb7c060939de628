"""Participants of the trial: study id, site, login, status and (once randomized) arm."""
