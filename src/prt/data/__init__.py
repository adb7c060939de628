"""Trial data in and out: the one reader every part of prt shares.

``read_trial`` takes a REDCap flat or long export or prt's tidy CSV and returns
:class:`TrialData`; ``write_redcap`` and ``write_tidy`` write it back. A :class:`Mapping`
(built in: :data:`BOULDER_MAPPING`; others: :func:`load_mapping`) names a project's events,
fields, codes, labels, units and ranges; :func:`load_redcap_dictionary` reads a REDCap data
dictionary to add to it. See ``docs/data.md``.
"""

from prt.data.dictionary import RedcapDictionary, load_redcap_dictionary
from prt.data.mapping import (
    AGE_RANGE,
    ARMS,
    BOULDER_MAPPING,
    OUTCOMES,
    RECORDED_SEXES,
    SEXES,
    TIMEPOINTS,
    Mapping,
    load_mapping,
)
from prt.data.model import TrialData
from prt.data.reader import read_trial
from prt.data.writer import redcap_frame, tidy_frame, write_redcap, write_tidy

__all__ = [
    # reading and writing
    "read_trial", "write_redcap", "write_tidy", "redcap_frame", "tidy_frame",
    # the data and how a project maps onto it
    "TrialData", "Mapping", "BOULDER_MAPPING", "load_mapping", "RedcapDictionary",
    "load_redcap_dictionary", "AGE_RANGE", "RECORDED_SEXES",
    # the vocabulary, re-exported from prt.vocabulary for compatibility
    "ARMS", "OUTCOMES", "SEXES", "TIMEPOINTS",
]
