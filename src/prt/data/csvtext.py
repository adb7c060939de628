"""CSV text in: bytes or text to a header and rows of stripped cells, or one clear InputError.

pandas' reader renames a repeated header (``age``, ``age.1``) and guesses types; prt reads every
cell as text and parses the CSV itself (RFC 4180 quoting, Python's :mod:`csv`), so a duplicated
column is reported instead of silently analysed, and a semicolon- or tab-separated export (what a
spreadsheet in many locales saves) is read like a comma-separated one.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
from pathlib import Path

import pandas as pd

from prt.errors import InputError
from prt.files import CONTROL, decode_text, os_error  # noqa: F401 - CONTROL re-exported for the reader

#: Separators a trial export may use; the header line decides (most frequent outside quotes wins,
#: ties go to the earlier one). Spreadsheets in locales with a decimal comma save ``;``.
DELIMITERS = (",", ";", "\t", "|")
_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}


def source_text(source, what: str = "input") -> tuple[str, str]:
    """The text of a path or an open file/buffer, and the name to use in messages.

    UTF-8 (with or without BOM) and UTF-16/32 with a BOM are decoded (:func:`prt.files.decode_text`);
    UTF-16 without a BOM, other binary data, a directory or a missing file is an InputError.
    """
    if isinstance(source, (str, os.PathLike)):
        name = str(source)
        try:
            data = Path(source).read_bytes()
        except OSError as exc:
            raise os_error(name, exc) from None
    elif hasattr(source, "read"):
        name = str(getattr(source, "name", what)) if isinstance(getattr(source, "name", None), str) else what
        try:
            data = source.read()
        except UnicodeDecodeError as exc:
            raise InputError(f"{name}: not UTF-8 text (invalid byte at offset {exc.start})") from None
        except OSError as exc:
            raise os_error(name, exc) from None
        if isinstance(data, str):
            return (data[1:] if data.startswith("\ufeff") else data), name
    else:
        raise InputError(f"{what}: expected a file path, an open file or a DataFrame, got {type(source).__name__}")
    data = bytes(data)
    if _looks_like_utf16_without_bom(data):
        raise InputError(f"{name}: looks like UTF-16 text without a byte-order mark; save it as UTF-8 "
                         "(or UTF-16 with a BOM)")
    return decode_text(data, name), name


def _looks_like_utf16_without_bom(data: bytes) -> bool:
    """ASCII text in UTF-16 has a zero byte at every other position (and no BOM)."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or len(data) < 4:
        return False
    head = data[: min(len(data), 4096) & ~1]
    evens, odds = head[0::2], head[1::2]
    return (odds.count(0) >= 0.9 * len(odds) and evens.count(0) == 0) or (
        evens.count(0) >= 0.9 * len(evens) and odds.count(0) == 0)


def detect_delimiter(text: str, name: str) -> str:
    """The separator of the header line: the most frequent of :data:`DELIMITERS` outside quotes."""
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        elif not quoted:
            if ch in "\r\n":
                break
            if ch in counts:
                counts[ch] += 1
    best = max(DELIMITERS, key=lambda d: counts[d])  # max keeps the first of equal counts
    if counts[best] == 0:
        raise InputError(
            f"{name}: the header line has a single column; expected a CSV export whose columns are "
            "separated by commas (semicolons and tabs are also read)")
    return best


def read_table(text: str, name: str) -> pd.DataFrame:
    """CSV text -> DataFrame of stripped text cells (header row required, names unique).

    Blank lines are skipped; a column with no name is dropped when it is empty throughout (a
    spreadsheet's trailing separator) and refused otherwise; a row with more or fewer cells than
    the header is refused with its line number.
    """
    if not text.strip():
        raise InputError(f"{name}: the file is empty (expected a CSV export with a header row)")
    delimiter = detect_delimiter(text, name)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"', strict=True)
    try:
        header = None
        rows: list[list[str]] = []
        for cells in reader:
            if not any(c.strip() for c in cells):
                continue  # a blank line, or a row of empty cells
            cells = [c.strip() for c in cells]
            if header is None:
                header = cells
                continue
            if len(cells) != len(header):
                raise InputError(
                    f"{name}: line {reader.line_num} has {len(cells)} cells but the header has "
                    f"{len(header)} ({_DELIMITER_NAMES[delimiter]}-separated)")
            rows.append(cells)
    except csv.Error as exc:
        raise InputError(f"{name}: not a readable CSV file (line {reader.line_num}: {exc})") from None
    if header is None:
        raise InputError(f"{name}: the file is empty (expected a CSV export with a header row)")
    frame = pd.DataFrame(rows, columns=range(len(header)), dtype=object)
    keep = []
    for i, column in enumerate(header):
        if column == "":
            if len(frame) and frame[i].ne("").any():
                raise InputError(f"{name}: column {i + 1} holds values but has no name in the header")
            continue
        keep.append(i)
    frame = frame[keep]
    frame.columns = [header[i] for i in keep]
    check_unique_columns(frame.columns, name)
    if frame.empty:
        raise InputError(f"{name}: the export has a header but no records")
    return frame


def check_unique_columns(columns, name: str) -> None:
    """A column name given twice is an error naming it (two values for one field); so is a name
    with a line break or other control character (no REDCap field has one, and messages stay one line)."""
    seen: set[str] = set()
    for i, column in enumerate(columns):
        if CONTROL.search(column):
            raise InputError(f"{name}: the name of column {i + 1} holds a line break or control character")
        if column in seen:
            raise InputError(f"{name}: column {column!r} appears more than once in the header")
        seen.add(column)

