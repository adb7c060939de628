"""Fuzzing the CSV surface: whatever a cell, a header or the separator holds, read_trial returns
TrialData or raises InputError (one clear line), never another exception (developers' guide:
every input surface gets a property-based or fuzz test).
"""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from prt.data import TrialData, read_trial, redcap_frame, tidy_frame
from prt.errors import InputError

from tests.data.test_hardening import small_trial

FUZZ = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _tables() -> dict[str, list[list[str]]]:
    trial = small_trial()
    frames = {"flat": redcap_frame(trial, "flat"), "long": redcap_frame(trial, "long"), "tidy": tidy_frame(trial)}
    return {layout: [list(map(str, frame.columns))] + frame.astype(str).replace("nan", "").values.tolist()
            for layout, frame in frames.items()}


TABLES = _tables()
#: Cell text: anything, and values that probe the parser (numbers, dates, quotes, separators).
cells = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["", "nan", "NaN", "inf", "-inf", "1e308", "1e309", "-0", "99", "-5", "9999-12-31",
                     "4,5", '"', '""', "a\nb", "\r", "\x00", "=1+1", "<undefined>", "3", "2", "1"]),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers().map(str),
)


def _write(rows: list[list[str]], delimiter: str) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


def _read(source) -> TrialData | None:
    try:
        trial = read_trial(source)
    except InputError as exc:
        message = str(exc)
        assert message and "\n" not in message and "\r" not in message  # the CLI prints one line
        return None
    assert isinstance(trial, TrialData)
    return trial


@FUZZ
@given(layout=st.sampled_from(sorted(TABLES)), delimiter=st.sampled_from([",", ";", "\t", "|"]),
       edits=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 10_000), cells), max_size=4))
def test_any_cells_headers_and_separator_give_trial_data_or_input_error(layout, delimiter, edits):
    rows = [list(row) for row in TABLES[layout]]
    for r, c, text in edits:
        row = rows[r % len(rows)]
        row[c % len(row)] = text  # row 0 is the header
    trial = _read(io.StringIO(_write(rows, delimiter)))
    if not edits:
        assert trial is not None and trial.layout == layout


@FUZZ
@given(layout=st.sampled_from(sorted(TABLES)), delimiter=st.sampled_from([",", ";", "\t", "|"]),
       row=st.integers(0, 100), extra=st.lists(cells, min_size=1, max_size=3))
def test_rows_too_long_or_short_are_input_errors(layout, delimiter, row, extra):
    rows = [list(r) for r in TABLES[layout]]
    target = rows[1 + row % (len(rows) - 1)]
    target.extend(extra)
    _read(io.StringIO(_write(rows, delimiter)))
    del target[-len(extra) - 1:]
    _read(io.StringIO(_write(rows, delimiter)))


@FUZZ
@given(st.text(max_size=400))
def test_any_text_gives_trial_data_or_input_error(text):
    _read(io.StringIO(text))


@FUZZ
@given(st.binary(max_size=400), st.sampled_from([b"", b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff"]))
def test_any_bytes_give_trial_data_or_input_error(data, bom):
    _read(io.BytesIO(bom + data))


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_the_separator_never_changes_what_is_read(delimiter):
    for layout, rows in TABLES.items():
        comma = read_trial(io.StringIO(_write(rows, ",")))
        other = read_trial(io.StringIO(_write(rows, delimiter)))
        assert other.layout == layout == comma.layout
        assert other.measures.equals(comma.measures) and other.participants.equals(comma.participants)
