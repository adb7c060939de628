"""Trial data in and out: the one reader every part of prt shares.

``read_trial`` takes a REDCap flat or long export or prt's tidy CSV and returns
:class:`TrialData`; ``write_redcap`` and ``write_tidy`` write it back. See ``docs/data.md``.
"""

from prt.data.mapping import (
    ARMS,
    BOULDER_MAPPING,
    OUTCOMES,
    SEXES,
    TIMEPOINTS,
    Mapping,
    load_mapping,
    mapping_from_dict,
)
from prt.data.model import TrialData
from prt.data.reader import read_trial
from prt.data.writer import redcap_frame, tidy_frame, write_redcap, write_tidy

__all__ = [
    "ARMS", "BOULDER_MAPPING", "OUTCOMES", "SEXES", "TIMEPOINTS", "Mapping", "TrialData",
    "load_mapping", "mapping_from_dict", "read_trial", "redcap_frame", "tidy_frame",
    "write_redcap", "write_tidy",
]
