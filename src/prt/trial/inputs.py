"""The trial tools' input files and options, read strictly: CSV tables, trial exports, seeds.

Every table a person gives ``prt trial`` (screening answers, the schedule's participants, the
CONSORT follow-up CSV) is read here: decoded with :func:`prt.files.read_text` (UTF-8 with or
without BOM, UTF-16/32 with BOM; binary files and directories refused), parsed with the standard
``csv`` module, and checked so a problem names the file, the row (the header is row 1, as in a
spreadsheet) and the column, never a cell's content (developers' guide: no patient data in errors).
"""

from __future__ import annotations

import csv
import io
import numbers
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prt.errors import InputError
from prt.files import CONTROL, read_text

#: Largest cell the CSV reader accepts (characters): the csv module's default field limit.
MAX_CELL = csv.field_size_limit()


@dataclass(frozen=True)
class Table:
    """A CSV table: column names (stripped) and one ``{column: cell text}`` record per data row.

    ``rows`` holds each record's row number in the file (header = row 1; blank lines count, as in
    a spreadsheet), so later checks can name the row at fault.
    """

    source: str
    columns: tuple[str, ...]
    records: tuple[dict[str, str], ...]
    rows: tuple[int, ...]

    def frame(self):
        """The table as a pandas DataFrame of text (index: row numbers)."""
        import pandas as pd

        return pd.DataFrame(list(self.records), columns=list(self.columns),
                            index=pd.Index(self.rows, name="row"), dtype=object)


def parse_csv(text: str, source: str) -> Table:
    """Parse CSV text into a :class:`Table`; InputError naming ``source``, row and column otherwise.

    Refused: no header row, an unnamed column holding data, a column named twice, a row with more
    cells than the header (trailing empty cells are ignored), a cell over :data:`MAX_CELL`
    characters. Short rows are padded with empty cells; blank lines are skipped. A header that is
    one column holding semicolons, tabs or pipes (a spreadsheet's export in many locales) is an
    error saying so, not one column named ``participant;age;...`` and a misleading "no
    'participant' column".
    """
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header: list[str] | None = None
        header_row = 0
        records: list[dict[str, str]] = []
        rows: list[int] = []
        keep: list[int] = []
        for number, cells in enumerate(reader, start=1):
            if not any(c.strip() for c in cells):
                continue                                   # a blank line, before or after the header
            if header is None:
                header_row = number
                names = [c.strip() for c in cells]
                header, keep = _header(names, source, number)
                unnamed = [i for i, name in enumerate(names) if not name]
                continue
            if len(cells) > len(names) and any(c.strip() for c in cells[len(names):]):
                raise InputError(f"{source} row {number}: {len(cells)} cells but the header (row {header_row}) "
                                 f"names {len(names)} columns")
            cells = cells + [""] * (len(names) - len(cells))
            for i in unnamed:
                if cells[i].strip():
                    raise InputError(f"{source} row {number}, column {i + 1}: a value in a column with no name")
            records.append({names[i]: cells[i] for i in keep})
            rows.append(number)
    except csv.Error as exc:
        raise InputError(f"{source} line {reader.line_num}: not readable as CSV ({exc})") from None
    if header is None:
        raise InputError(f"{source}: empty, expected a header row naming the columns")
    return Table(source, tuple(header), tuple(records), tuple(rows))


_OTHER_SEPARATORS = {";": "semicolon", "\t": "tab", "|": "pipe"}


def _header(names: list[str], source: str, row: int) -> tuple[list[str], list[int]]:
    if len(names) == 1:
        other = next((name for sep, name in _OTHER_SEPARATORS.items() if sep in names[0]), None)
        if other:
            raise InputError(f"{source} row {row}: the header is one column holding {other}s; prt reads "
                             "comma-separated tables (save the sheet as CSV with commas)")
    seen: set[str] = set()
    keep = []
    for i, name in enumerate(names):
        if not name:
            continue
        if name in seen:
            raise InputError(f"{source} row {row}: column {name!r} appears more than once in the header")
        seen.add(name)
        keep.append(i)
    return [names[i] for i in keep], keep


def read_csv(path: str | os.PathLike, what: str = "CSV") -> Table:
    """Read a CSV file (see :func:`parse_csv`); errors start with ``what`` and the path."""
    return parse_csv(read_text(path, what), f"{what} {path}")


def read_trial_file(path: str | os.PathLike, what: str = "input", mapping=None):
    """A trial export (REDCap flat/long or tidy CSV) read with :func:`prt.data.read_trial`.

    The file is decoded with :func:`prt.files.read_text` first, so UTF-16 exports (Excel's
    "Unicode text") are read and binary files or directories refused with one line naming the file.
    """
    from prt.data import read_trial

    label = f"{what} {path}"
    text = read_text(path, what)
    try:
        return read_trial(io.StringIO(text, newline=""), mapping=mapping)
    except InputError as exc:
        message = str(exc)
        if message.startswith("input: "):      # the reader's name for a stream
            message = message[len("input: "):]
        raise InputError(f"{label}: {message}") from None


def output_file(path: str | os.PathLike, what: str = "--out") -> Path:
    """Check that ``path`` can be a new or replaced file: its folder exists and it is no folder.

    Output is then written with :func:`prt.files.atomic_write`, which turns a read-only folder or a
    full disk into one line too. prt does not create folders for one file (a typo would go unseen).
    """
    target = Path(path)
    if target.is_dir():
        raise InputError(f"{what} {target}: is a directory, expected a file name")
    parent = target.parent
    for folder in (parent, *parent.parents):
        if folder.exists() and not folder.is_dir():
            raise InputError(f"{what} {target}: {folder} is a file, not a folder")
    if not parent.is_dir():
        raise InputError(f"{what} {target}: the folder {parent} does not exist")
    return target


def participant_id(value: Any, where: str = "participant") -> str:
    """A participant's id as the logs keep it: text without surrounding spaces, never empty, and
    without tabs, line breaks, escape sequences or bidirectional overrides (:data:`prt.files.CONTROL`).

    Why: an id ``p9<TAB>eligible`` printed ``p9  eligible  ineligible`` in the screening listing,
    and one with a newline or an escape sequence rewrote the coordinator's screen; the data reader
    already refuses such record ids. ``where`` names the row or option at fault.
    """
    text = "" if value is None else str(value).strip()
    if not text:
        raise InputError(f"{where}: the participant id is empty")
    if CONTROL.search(text):
        raise InputError(f"{where}: the participant id {text!r} holds a tab, line break or control character")
    return text


def check_seed(seed: Any, what: str = "seed") -> int | None:
    """A random seed for ``numpy.random.default_rng``: None or an integer >= 0 (numpy refuses < 0)."""
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise InputError(f"{what}: expected a non-negative integer, got {type(seed).__name__}")
    if int(seed) < 0:
        raise InputError(f"{what}: expected a non-negative integer, got {int(seed)}")
    return int(seed)


__all__ = ["MAX_CELL", "Table", "check_seed", "output_file", "parse_csv", "participant_id", "read_csv",
           "read_trial_file"]
