"""CONSORT input and output: the follow-up CSV (row/column errors, property test), literal text
in the drawing (no mathtext), atomic files that never replace a good diagram with a broken one."""

from __future__ import annotations

import codecs
import html
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from prt.errors import InputError
from prt.trial.consort import (
    FLOW_COLUMNS,
    ParticipantFlow,
    consort_counts,
    flows_from_records,
    read_flows,
    render_consort,
    write_consort,
)
from prt.trial.eligibility import Enrolment, ScreeningLog, ScreeningResult

HEADER = ",".join(FLOW_COLUMNS)


def _log(*eligible: str, declined: dict[str, str] | None = None) -> ScreeningLog:
    log = ScreeningLog()
    for pid in eligible:
        log.screenings[pid] = ScreeningResult(pid, "eligible", ())
        log.enrolments[pid] = Enrolment(pid, True)
    for pid, reason in (declined or {}).items():
        log.screenings[pid] = ScreeningResult(pid, "eligible", ())
        log.enrolments[pid] = Enrolment(pid, False, reason)
    return log


# ------------------------------------------------------------------ the follow-up CSV
def test_read_flows_defaults_and_values(tmp_path):
    path = tmp_path / "flow.csv"
    path.write_text(f"{HEADER}\na1,,,,,,\na2,no,moved away,LOST,no reply,0,no data\n\n", encoding="utf-8")
    a1, a2 = read_flows(path)
    assert a1 == ParticipantFlow("a1")                       # empty cells: received, completed, analysed
    assert a2 == ParticipantFlow("a2", False, "moved away", "lost", "no reply", False, "no data")


def test_only_participant_is_required_and_utf16_with_bom_is_read(tmp_path):
    path = tmp_path / "flow.csv"
    path.write_bytes(codecs.BOM_UTF16_LE + "participant,analysed\r\nä1,yes\r\n".encode("utf-16-le"))
    assert read_flows(path) == [ParticipantFlow("ä1")]


@pytest.mark.parametrize("body, message", [
    ("participant,received\na1,maybe\n", r"row 2 \(record 'a1'\), column 'received': expected yes or no"),
    ("participant,analysed\na1,yes\na2,2\n", r"row 3 \(record 'a2'\), column 'analysed'"),
    ("participant,follow_up\na1,gone\n", r"row 2 \(record 'a1'\), column 'follow_up': expected one of"),
    ("participant,follow_up\na1,lost\n", r"row 2 \(record 'a1'\), column 'follow_up_reason': a reason is required"),
    ("participant,received\na1,no\n", r"column 'not_received_reason': a reason is required when received is no"),
    ("participant,analysed\na1,no\n", r"column 'not_analysed_reason'"),
    ("participant\na1\n\na1\n", r"row 4, column 'participant': record 'a1' already on row 2"),
    ("participant\n \n", None),                                 # a blank row is skipped, not an error
    ("participant,recieved\na1,no\n", r"unknown column\(s\) 'recieved'"),
    ("received\nyes\n", r"no 'participant' column"),
    ("participant,received\na1,yes,extra\n", r"row 2: 3 cells but the header \(row 1\) names 2 columns"),
    ("participant,participant\na1,a1\n", r"column 'participant' appears more than once"),
    ("", r"empty, expected a header row"),
])
def test_bad_rows_name_the_file_row_and_column(tmp_path, body, message):
    path = tmp_path / "flow.csv"
    path.write_text(body, encoding="utf-8")
    if message is None:
        assert read_flows(path) == []
        return
    with pytest.raises(InputError, match=message) as exc:
        read_flows(path)
    assert str(path) in str(exc.value)


def test_errors_never_echo_cell_values(tmp_path):
    path = tmp_path / "flow.csv"
    path.write_text("participant,received\na1,SECRET-diagnosis\n", encoding="utf-8")
    with pytest.raises(InputError) as exc:
        read_flows(path)
    assert "SECRET" not in str(exc.value)


@pytest.mark.parametrize("make, message", [
    (lambda p: p.mkdir(), "is a directory"),
    (lambda p: p.write_bytes(b"participant\x00\x01\x02"), "binary file"),
    (lambda p: p.write_bytes(b"participant\na\xff1\n"), "not UTF-8"),
    (lambda p: None, "No such file"),
])
def test_unreadable_files_are_one_input_error(tmp_path, make, message):
    path = tmp_path / "flow.csv"
    make(path)
    with pytest.raises(InputError, match=message):
        read_flows(path)


def test_flows_from_records_numbers_rows_under_a_header():
    with pytest.raises(InputError, match="flows row 3 .*'received'"):
        flows_from_records([{"participant": "a"}, {"participant": "b", "received": "?"}], "flows")
    with pytest.raises(InputError, match="flows row 12, column 'participant': empty"):
        flows_from_records([{"participant": " "}], "flows", rows=[12])


CELL = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
ROW = st.lists(CELL, min_size=0, max_size=len(FLOW_COLUMNS) + 2)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(header=st.lists(st.sampled_from(FLOW_COLUMNS + ("notes", "", " participant ")), min_size=1, max_size=9),
       rows=st.lists(ROW, max_size=6), raw=st.binary(max_size=40), use_raw=st.booleans())
def test_property_any_flow_csv_gives_flows_or_one_input_error(header, rows, raw, use_raw):
    """Arbitrary header, cells (quotes, commas, newlines, control characters) or bytes: flows or InputError."""
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    data = raw if use_raw else buffer.getvalue().encode("utf-8")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "flow.csv"
        path.write_bytes(data)
        try:
            flows = read_flows(path)
        except InputError as exc:
            assert "\n" not in str(exc) or "\n" in str(path)
            return
    assert all(isinstance(f, ParticipantFlow) and f.participant == f.participant.strip() and f.participant
               for f in flows)
    assert len({f.participant for f in flows}) == len(flows)


# ------------------------------------------------------------------ literal text in the drawing
#: Free text that matplotlib's mathtext misreads: the first two raised ValueError at save time and
#: left a truncated SVG in place of the previous diagram; the others were silently typeset as math.
SPECIAL = ["Cost $x^$ week", r"A $\frac{$ b", "Costs $40 $ a week", r"Back\slash \n and \\", "X^2 and a_b",
           "{braces} and $x_{1}^{2}$", "Refund $10 ($_ fee)", "50% & <more>"]


@pytest.fixture(scope="module")
def special_counts():
    pids = [f"p{i}" for i in range(len(SPECIAL))]
    log = _log(*pids, declined={"d1": "declined", "o1": "Price $$ too high", "o2": r"\frac{1}{2} a day"})
    flows = [ParticipantFlow(pid, received=False, not_received_reason=reason, follow_up="lost",
                             follow_up_reason=reason, analysed=False, not_analysed_reason=reason)
             for pid, reason in zip(pids, SPECIAL)]
    arms = ("prt", "placebo", "usual_care") * 3
    return consort_counts(log, dict(zip(pids, arms)), flows)


def test_dollar_backslash_caret_underscore_braces_are_drawn_literally(special_counts, tmp_path):
    paths = write_consort(special_counts, tmp_path / "consort", title="Trial $A$ ^_^ {x}")
    svg = html.unescape(paths[0].read_text(encoding="utf-8"))
    for text in [*SPECIAL, "Price $$ too high", r"\frac{1}{2} a day", "Trial $A$ ^_^ {x}"]:
        assert text in svg, text
    assert paths[1].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_every_text_of_the_figure_has_mathtext_off(special_counts):
    from prt.trial.consort import draw_consort

    texts = draw_consort(special_counts, title="$x^$").axes[0].texts
    assert len(texts) > 20 and not any(t.get_parse_math() for t in texts)


def test_control_characters_in_reasons_become_spaces():
    log = _log("a", declined={"o": "Line one\nline\ttwo\x07"})
    counts = consort_counts(log, {"a": "prt"}, [ParticipantFlow("a")])
    svg = render_consort(counts, formats=("svg",))["svg"].decode("utf-8")
    assert "Line one line two" in svg


# ------------------------------------------------------------------ atomic files
def test_a_failed_render_leaves_the_previous_diagram_whole(special_counts, tmp_path, monkeypatch):
    stem = tmp_path / "consort"
    svg, png = write_consort(special_counts, stem)
    before = (svg.read_bytes(), png.read_bytes())
    from matplotlib.figure import Figure

    original = Figure.savefig

    def broken(self, fname, *args, format=None, **kwargs):
        if format == "png":
            raise RuntimeError("renderer crashed")
        return original(self, fname, *args, format=format, **kwargs)

    monkeypatch.setattr(Figure, "savefig", broken)
    with pytest.raises(RuntimeError):
        write_consort(special_counts, stem, title="new")
    assert (svg.read_bytes(), png.read_bytes()) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["consort.png", "consort.svg"]   # no temp files


@pytest.mark.parametrize("stem, message", [
    ("missing/consort", "folder .*missing does not exist"),
    ("afile/consort", "afile is a file, not a folder"),
])
def test_bad_output_stems_are_refused_before_drawing(special_counts, tmp_path, stem, message):
    (tmp_path / "afile").write_text("x")
    with pytest.raises(InputError, match=message):
        write_consort(special_counts, tmp_path / stem)


def test_a_read_only_folder_is_one_input_error(special_counts, tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("prt.files.tempfile.mkstemp", refuse)
    with pytest.raises(InputError, match="cannot be written .Permission denied"):
        write_consort(special_counts, tmp_path / "consort")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root ignores folder permissions")
def test_a_real_read_only_folder(special_counts, tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(InputError, match="cannot be written"):
            write_consort(special_counts, folder / "consort")
    finally:
        folder.chmod(0o700)
