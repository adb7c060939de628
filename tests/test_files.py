"""prt.files: strict reading (JSON, YAML, text), atomic writing, CSV-injection guard, output dirs."""

from __future__ import annotations

import json
import os

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prt.errors import InputError
from prt.files import (
    MAX_DEPTH,
    OUTPUT_MARKER,
    atomic_write,
    csv_safe,
    csv_safe_frame,
    decode_text,
    loads_json,
    loads_yaml,
    read_text,
    write_csv,
    write_output_dir,
)

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4),
    max_leaves=20,
)


@given(JSON_VALUES)
def test_valid_json_round_trips(value):
    assert loads_json(json.dumps(value)) == value


@given(st.text(max_size=200))
@settings(max_examples=300)
def test_any_text_is_parsed_or_refused_with_input_error(text):
    try:
        loads_json(text, "responses")
    except InputError as exc:
        assert "responses" in str(exc) and "\n" not in str(exc)


@given(st.binary(max_size=200))
def test_any_bytes_decode_or_are_refused(data):
    try:
        assert isinstance(decode_text(data, "file x"), str)
    except InputError as exc:
        assert "file x" in str(exc)


def test_duplicate_keys_nan_and_deep_nesting_are_refused():
    with pytest.raises(InputError, match="'1' appears more than once"):
        loads_json('{"1": 3, "1": 5}')
    with pytest.raises(InputError, match="NaN"):
        loads_json('{"a": NaN}')
    with pytest.raises(InputError, match="nested more than"):
        loads_json("[" * 5000 + "]" * 5000)
    assert loads_json("[" * MAX_DEPTH + "]" * MAX_DEPTH) is not None
    assert loads_json('"[[[[' + "[" * 100 + '"') == "[[[[" + "[" * 100  # brackets in strings do not count


def test_bom_and_utf16_are_read_binary_is_refused(tmp_path):
    (tmp_path / "bom.json").write_bytes(b"\xef\xbb\xbf" + b'{"a": 1}')
    assert loads_json(read_text(tmp_path / "bom.json")) == {"a": 1}
    (tmp_path / "u16.json").write_bytes('{"a": 2}'.encode("utf-16"))
    assert loads_json(read_text(tmp_path / "u16.json")) == {"a": 2}
    (tmp_path / "bin").write_bytes(b"\x00\x01\x02")
    with pytest.raises(InputError, match="binary"):
        read_text(tmp_path / "bin")
    with pytest.raises(InputError, match="is a directory"):
        read_text(tmp_path)
    with pytest.raises(InputError, match="No such file"):
        read_text(tmp_path / "missing.json")


def test_malformed_json_names_line_and_column():
    with pytest.raises(InputError, match=r"line 2, column 1"):
        loads_json('{"a": 1,\n}', "f.json")


def test_yaml_duplicate_keys_and_errors_name_the_place():
    assert loads_yaml("a: 1\nb: [1, 2]\n") == {"a": 1, "b": [1, 2]}
    with pytest.raises(InputError, match="'a' appears more than once"):
        loads_yaml("a: 1\na: 2\n", "rules.yaml")
    with pytest.raises(InputError, match=r"rules.yaml: not valid YAML at line \d"):
        loads_yaml("a: [1,\n", "rules.yaml")
    with pytest.raises(InputError):
        loads_yaml("!!python/object/apply:os.system ['true']")


@pytest.mark.parametrize("cell, safe", [
    ("=1+1", "'=1+1"), ("+cmd", "'+cmd"), ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"), ("\t=x", "'\t=x"),
    ("-1.5", "-1.5"), ("-3", "-3"), ("+4", "+4"), ("-1.14 [-1.61, -0.67]", "-1.14 [-1.61, -0.67]"),
    ("-0.70 (0.24)", "-0.70 (0.24)"), ("-1+cmd|' /C calc'!A0", "'-1+cmd|' /C calc'!A0"), ("-2+3", "'-2+3"), ("text", "text"), ("", ""), (2.5, 2.5), (None, None),
])
def test_csv_cells_are_neutralised_and_numbers_kept(cell, safe):
    assert csv_safe(cell) == safe


@given(st.text(max_size=30))
def test_no_written_text_cell_can_start_a_formula(text):
    out = csv_safe(text)
    if out and out[0] in "=+-@\t\r":  # only numbers and formatted negative statistics keep a sign
        assert not any(c.isalpha() or c in "=+@|!\"'&^*/:;<>" for c in out[1:]) or float(out) is not None


def test_write_csv_guards_text_columns_and_keeps_numbers(tmp_path):
    frame = pd.DataFrame({"label": ["=1+1, n (%)", "ok"], "value": [-1.5, 2.0]})
    path = write_csv(frame, tmp_path / "t.csv")
    back = pd.read_csv(path, dtype=str)
    assert list(back["label"]) == ["'=1+1, n (%)", "ok"] and list(back["value"]) == ["-1.5", "2.0"]
    assert list(csv_safe_frame(frame.astype({"label": "string"}))["label"])[0] == "'=1+1, n (%)"


def test_atomic_write_replaces_whole_or_not_at_all(tmp_path):
    target = tmp_path / "a.txt"
    atomic_write(target, "first")
    atomic_write(target, "second")
    assert target.read_text() == "second" and os.listdir(tmp_path) == ["a.txt"]
    with pytest.raises(InputError, match="already exists"):
        atomic_write(target, "third", exclusive=True)
    assert target.read_text() == "second"
    with pytest.raises(InputError, match="is a directory"):
        atomic_write(tmp_path, "x")
    with pytest.raises(InputError, match="cannot be written"):
        atomic_write(target / "under_a_file.txt", "x")
    assert os.listdir(tmp_path) == ["a.txt"]


def test_output_dir_is_all_or_nothing_and_never_replaces_foreign_folders(tmp_path):
    out = tmp_path / "out"

    def fill(work):
        (work / "results.json").write_text("{}")
        return "done"

    assert write_output_dir(out, fill) == "done"
    assert (out / OUTPUT_MARKER).is_file()
    assert write_output_dir(out, fill) == "done"  # its own output: replaced

    def broken(work):
        (work / "half.txt").write_text("x")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write_output_dir(out, broken)
    assert sorted(p.name for p in out.iterdir()) == [OUTPUT_MARKER, "results.json"]
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "thesis.docx").write_text("years of work")
    with pytest.raises(InputError, match="did not write"):
        write_output_dir(foreign, fill)
    assert (foreign / "thesis.docx").read_text() == "years of work"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine", "out"]


def test_atomic_write_never_replaces_a_device_or_fifo(tmp_path):
    """Issue 12 round 2: ``--out /dev/null`` run as root renamed a regular file over the device node."""
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match="not a regular file"):
        atomic_write(fifo, "data")
    assert fifo.is_fifo() and os.listdir(tmp_path) == ["pipe"]


def test_atomic_write_replaces_a_symlink_and_never_writes_through_it(tmp_path):
    (tmp_path / "real.csv").write_text("original")
    (tmp_path / "link.csv").symlink_to(tmp_path / "real.csv")
    atomic_write(tmp_path / "link.csv", "new")
    assert (tmp_path / "real.csv").read_text() == "original" and not (tmp_path / "link.csv").is_symlink()


def test_output_dir_keeps_a_file_added_to_a_previous_output(tmp_path):
    """Issue 12 round 2: the input (or notes) put into a previous output were deleted with it (rc 0)."""
    out = tmp_path / "out"

    def fill(work):
        (work / "results.json").write_text("{}")
        (work / "figs").mkdir()
        (work / "figs" / "a.svg").write_text("<svg/>")

    write_output_dir(out, fill)
    marker = (out / OUTPUT_MARKER).read_text()
    assert "file: results.json" in marker and "file: figs/a.svg" in marker
    write_output_dir(out, fill)  # only what prt wrote: replaced
    (out / "input.csv").write_text("the trial's export")
    with pytest.raises(InputError, match="'input.csv', which prt did not write"):
        write_output_dir(out, fill)
    assert (out / "input.csv").read_text() == "the trial's export"
    (out / "input.csv").unlink()
    (out / "figs" / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="'figs/notes.txt'"):
        write_output_dir(out, fill)
    assert (out / "figs" / "notes.txt").read_text() == "mine"


def test_output_dir_written_before_markers_listed_files_is_still_replaced(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / OUTPUT_MARKER).write_text("written by prt (analyze); prt may replace this directory\n")
    (out / "results.json").write_text("{}")
    write_output_dir(out, lambda work: (work / "table1.csv").write_text("x"))
    assert sorted(p.name for p in out.iterdir()) == [OUTPUT_MARKER, "table1.csv"]


def test_atomic_writes_get_the_usual_permissions(tmp_path):
    """Files prt writes are created as open() would create them (umask applies), not 0600."""
    old = os.umask(0o022)
    try:
        atomic_write(tmp_path / "report.csv", "x")
    finally:
        os.umask(old)
    assert (tmp_path / "report.csv").stat().st_mode & 0o777 == 0o644
