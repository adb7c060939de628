"""R oracle for prt.analysis.mixed: fit_lmer.R, freeze_oracle.py and the frozen results."""
