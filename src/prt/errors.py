"""Errors and warnings of every part of prt, defined once here (the whole hierarchy).

::

    PrtError                  base of everything prt raises on purpose
    ├── InputError            bad input: a file, a field, a value, an option (CLI exit status 2)
    │   ├── LogIntegrityError an allocation log whose chain or signatures do not verify (exit 3)
    │   └── prt.web.errors.Refused  a web request refused: names the field, carries the HTTP status
    PrtWarning                base of prt's warnings (a result you get, with a caveat)
    ├── ConvergenceWarning    the mixed model did not converge; its t, df and p are not reported
    └── AnalysisSkippedWarning an analysis was left out for lack of data (the reason is the message)

Messages name the record, field or item at fault and what was expected (developers' guide), and
never carry patient data values beyond what identifies the fault. ``LogIntegrityError`` has its
own exit status so scripts can tell tampering from a typo.
"""


class PrtError(Exception):
    """Base of every error prt raises on purpose."""

    #: exit status of the ``prt`` command line for this error
    exit_status = 2


class InputError(PrtError, ValueError):
    """Input that prt cannot accept: the message names the record/field/item and what it allows."""

    exit_status = 2


class LogIntegrityError(InputError):
    """An allocation log whose hash chain, signatures or head anchor do not verify (tampering)."""

    exit_status = 3


class PrtWarning(UserWarning):
    """Base of prt's warnings."""


class ConvergenceWarning(PrtWarning):
    """The mixed model's optimiser or its Satterthwaite df could not be trusted (like statsmodels')."""


class AnalysisSkippedWarning(PrtWarning):
    """An analysis was skipped because the data lack what it needs; the message says what."""


__all__ = ["PrtError", "InputError", "LogIntegrityError", "PrtWarning", "ConvergenceWarning",
           "AnalysisSkippedWarning"]
