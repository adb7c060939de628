"""prt.trial.inputs: the CSV tables people give the trial commands, read strictly (errors name the
file, row and column), the output-file check, and seeds."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given, settings, strategies as st

from prt.errors import InputError
from prt.files import CONTROL
from prt.trial.inputs import output_file, parse_csv, participant_id, read_csv


def test_parse_csv_rows_columns_and_padding():
    table = parse_csv('\n a , b ,\n1,"x, y",\n\n2\n3,"multi\nline"\n', "t")
    assert table.columns == ("a", "b")                     # names stripped, empty trailing column dropped
    assert table.records == ({"a": "1", "b": "x, y"}, {"a": "2", "b": ""}, {"a": "3", "b": "multi\nline"})
    assert table.rows == (3, 5, 6)                         # header on row 2 (a blank first line)
    frame = table.frame()
    assert list(frame.index) == [3, 5, 6] and frame.loc[5, "b"] == ""


@pytest.mark.parametrize("text, message", [
    ("", r"t: empty, expected a header row"),
    ("\n\n", r"t: empty"),
    ("a,a\n1,2\n", r"t row 1: column 'a' appears more than once"),
    ("a,,b\n1,2,3\n", r"t row 2, column 2: a value in a column with no name"),
    ("a,b\n1,2,3\n", r"t row 2: 3 cells but the header \(row 1\) names 2 columns"),
    ("a\n" + "x" * 200_000 + "\n", r"t line 2: not readable as CSV"),
])
def test_parse_csv_errors(text, message):
    with pytest.raises(InputError, match=message):
        parse_csv(text, "t")


def test_trailing_empty_cells_are_not_an_error():
    assert parse_csv("a,b\n1,2,,\n", "t").records == ({"a": "1", "b": "2"},)


def test_read_csv_file_errors(tmp_path):
    with pytest.raises(InputError, match=r"answers .*nope.csv: cannot be read \(No such file"):
        read_csv(tmp_path / "nope.csv", "answers")
    with pytest.raises(InputError, match="is a directory"):
        read_csv(tmp_path, "answers")
    (tmp_path / "b.csv").write_bytes(b"a\n\x00\x00")
    with pytest.raises(InputError, match="binary file"):
        read_csv(tmp_path / "b.csv", "answers")
    (tmp_path / "u.csv").write_bytes("a\n\u00e9\n".encode("utf-16"))
    assert read_csv(tmp_path / "u.csv", "answers").records == ({"a": "\u00e9"},)


def test_output_file(tmp_path):
    (tmp_path / "f").write_text("x")
    assert output_file(tmp_path / "new.csv") == tmp_path / "new.csv"
    with pytest.raises(InputError, match="is a directory"):
        output_file(tmp_path)
    with pytest.raises(InputError, match="f is a file, not a folder"):
        output_file(tmp_path / "f" / "deeper" / "x.csv")
    with pytest.raises(InputError, match="the folder .*missing does not exist"):
        output_file(tmp_path / "missing" / "x.csv")


TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=8)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(TEXT, max_size=5), max_size=6))
def test_property_written_tables_read_back_or_fail_cleanly(rows):
    """csv.writer output reads back to the same cells, or the table is refused with an InputError."""
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    try:
        table = parse_csv(buffer.getvalue(), "t")
    except InputError:
        return
    names = [c.strip() for c in next(r for r in rows if any(c.strip() for c in r))]
    assert table.columns == tuple(n for n in names if n)
    for record in table.records:
        assert set(record) == set(table.columns)


@pytest.mark.parametrize(("sep", "name"), [(";", "semicolons"), ("\t", "tabs"), ("|", "pipes")])
def test_semicolon_tab_and_pipe_tables_are_named_as_such(sep, name):
    """Issue 12 round 2: a semicolon-separated screening CSV got "no 'participant' column"."""
    text = sep.join(["participant", "age"]) + "\n" + sep.join(["p1", "45"]) + "\n"
    with pytest.raises(InputError, match=f"t row 1: the header is one column holding {name}"):
        parse_csv(text, "t")
    assert parse_csv("participant\np1\n", "t").columns == ("participant",)   # one column is fine


@pytest.mark.parametrize("pid", ["p1\t", " p1 ", "p1"])
def test_participant_ids_are_stripped(pid):
    assert participant_id(pid) == "p1"


@pytest.mark.parametrize("pid", ["", "  ", None, "a\tb", "a\nb", "a\x1bb", "a\u202eb", "a\u2028b"])
def test_participant_ids_that_are_empty_or_hold_control_characters_are_refused(pid):
    with pytest.raises(InputError, match="participant id"):
        participant_id(pid, "row 2")


@given(st.text(max_size=12))
def test_any_text_is_an_id_without_controls_or_an_input_error(text):
    try:
        pid = participant_id(text)
    except InputError as exc:
        assert "\n" not in str(exc)
        return
    assert pid and pid == pid.strip() and not CONTROL.search(pid)
