"""Errors every part of prt raises for bad input.

The CLI turns an :class:`InputError` into one line on stderr and exit status 2; the message must
name the record, field or item at fault and what was expected (developers' guide), and must never
carry patient data values beyond what identifies the fault.
"""


class InputError(ValueError):
    """Input that prt cannot accept: the message names the record/field/item and what it allows."""
