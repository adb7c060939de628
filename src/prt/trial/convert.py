"""Write trial data as a CSV people open, and convert exports between layouts (``prt trial convert``).

A REDCap export is opened in a spreadsheet, so every text cell is neutralised against formula
injection (OWASP "CSV Injection": a cell starting with ``=``, ``+``, ``-``, ``@``, tab or CR gets a
leading apostrophe; numbers such as ``-1.5`` stay as they are) by :func:`prt.files.write_csv`,
which also writes atomically: a failed write leaves the previous file whole.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path

from prt.errors import InputError
from prt.trial.inputs import output_file, read_trial_file

LAYOUTS = ("flat", "long", "tidy")


def trial_frame(trial, layout: str = "flat", mapping=None):
    """The trial as the text cells of a REDCap ``flat``/``long`` export or prt's ``tidy`` CSV.

    Cells are exactly what :func:`prt.data.write_redcap` / :func:`prt.data.write_tidy` write
    (integers without a decimal point, missing as empty), read back as text.
    """
    import pandas as pd

    from prt.data import write_redcap, write_tidy

    if layout not in LAYOUTS:
        raise InputError(f"layout: expected one of {', '.join(LAYOUTS)}, got {layout!r}")
    buffer = io.StringIO()
    if layout == "tidy":
        write_tidy(trial, buffer)
    else:
        write_redcap(trial, buffer, layout=layout, mapping=mapping)
    return pd.read_csv(io.StringIO(buffer.getvalue()), dtype=str, keep_default_na=False)


def write_trial(trial, path: str | os.PathLike, layout: str = "flat", mapping=None) -> Path:
    """Write the trial as a CSV for people (formula-like text neutralised), atomically."""
    from prt.files import write_csv

    target = output_file(path)
    return write_csv(trial_frame(trial, layout, mapping), target)


@dataclass(frozen=True)
class Conversion:
    """What :func:`convert_trial` did: the file written and notes for the user."""

    path: Path
    layout_in: str
    layout_out: str
    notes: tuple[str, ...]


def convert_trial(source: str | os.PathLike, to: str, out: str | os.PathLike,
                  mapping_path: str | os.PathLike | None = None) -> Conversion:
    """Read an export (layout detected; ``mapping_path`` for a non-Boulder project) and write it as ``to``.

    Nothing is written when the input cannot be read; the output replaces ``out`` atomically, but
    never the input itself (a conversion can drop empty columns and free text: the export is the record).
    """
    from prt.data import load_mapping

    if to not in LAYOUTS:
        raise InputError(f"--to: expected one of {', '.join(LAYOUTS)}, got {to!r}")
    output_file(out)
    if _same_file(source, out):
        raise InputError(f"--out {out}: is the input file; write the {to} layout to another file "
                         "(prt does not replace the export it reads)")
    mapping = load_mapping(mapping_path) if mapping_path else None
    trial = read_trial_file(source, "input", mapping=mapping)
    notes = []
    if trial.layout == to:
        notes.append(f"{source} is already in the {to} layout; writing it normalised")
    if to == "tidy" and len(trial.text):
        notes.append("the tidy layout carries numeric measures only; free-text fields are not written")
    path = write_trial(trial, out, to, mapping=None if to == "tidy" else trial.mapping)
    return Conversion(path, trial.layout, to, tuple(notes))


def _same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:  # either does not exist (yet): not the same file
        return False


__all__ = ["LAYOUTS", "Conversion", "convert_trial", "trial_frame", "write_trial"]
