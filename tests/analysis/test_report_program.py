"""The report's adherence and fidelity section from a program export (issue 14): hand-computed
adherence and fidelity, every layout of the export, round trips, and bad exports refused."""

from __future__ import annotations

import csv
import io
import json
import math
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prt.analysis import load_results
from prt.cli import main
from prt.data import write_redcap
from prt.errors import InputError
from prt.program.evaluation import PhysicianEvaluation
from prt.program.export import ParticipantProgram, write_export
from prt.program.exposure import ExposureAttempt, Hierarchy
from prt.program.fidelity import SessionRating
from prt.program.report import (
    NO_THERAPIST,
    program_results,
    program_section,
    read_program_export,
    section_body,
)
from prt.program.tracking import Practice
from tests.analysis.test_report import _parse
from tests.factories import make_trial

ALL = ("education", "evidence", "somatic_tracking", "emotions", "positive_states", "home_practice")
CLEAR = dict.fromkeys(("tumour", "fracture", "infection", "inflammatory_disease", "neurological_deficit"), False)
#: Participant ids that must never reach results.json or the report.
IDS = "SECRET-{arm}-{i:03d}"
A, B, C = "SECRET-PR-000", "SECRET-PR-001", "SECRET-PL-000"


def _programs():
    """Two PRT participants (A, B) and one placebo (C) of the trial; numbers worked out below."""
    hierarchy = Hierarchy.from_dict({"steps": [{"id": "walk", "movement": "a walk", "fear": 3},
                                               {"id": "bend", "movement": "bending", "fear": 6}]})
    attempts = tuple(ExposureAttempt.from_dict({"step": "walk", "day": d, "expected_pain": 6, "actual_pain": 2,
                                                "expected_fear": 5, "actual_fear": 1}, hierarchy)
                     for d in ("2026-03-03", "2026-03-05"))
    practices = tuple(Practice.from_dict(p) for p in (
        {"day": "2026-03-02", "assignment": "tracking_practice", "minutes": 10, "pain_before": 6, "pain_after": 4,
         "fear_before": 5, "fear_after": 2},
        {"day": "2026-03-03", "assignment": "tracking_practice", "minutes": 30, "pain_before": 5, "pain_after": 4,
         "fear_before": 4, "fear_after": 4},
        {"day": "2026-03-03", "assignment": "read_education", "minutes": 20}))
    evaluation = PhysicianEvaluation.from_dict({"red_flags": CLEAR, "formulation": "mixed",
                                                "factors": {"stressful_onset": True}})
    people = [ParticipantProgram(A, tuple(range(1, 9)), practices, hierarchy, attempts, evaluation),
              ParticipantProgram(B, (1, 2, 3)),
              ParticipantProgram(C, (1,))]
    ratings = [SessionRating("T1", A, 2, "R1", ALL), SessionRating("T1", A, 5, "R1", ALL[:4]),
               SessionRating("T2", B, 1, "R1", ALL[:5])]
    return people, ratings


@pytest.fixture(scope="module")
def trial():
    return make_trial(n=5, id_format=IDS)


@pytest.fixture(scope="module")
def export_dir(tmp_path_factory):
    people, ratings = _programs()
    out = tmp_path_factory.mktemp("program") / "export"
    write_export(out, people, ratings)
    return out


def _by(results, by, group):
    return next(r for r in results["adherence"] if r["by"] == by and r["group"] == group)


def test_adherence_and_fidelity_by_hand(trial, export_dir):
    results = program_results(trial, read_program_export(export_dir))
    assert results["n_participants"] == 3 and results["n_ratings"] == 3
    assert results["curriculum"] == {"name": "prt", "version": "1", "sessions": 8, "weeks": 4.0, "elements": 6}
    prt = _by(results, "arm", "prt")
    # sessions 8 and 3: mean 5.5, SD sqrt(12.5); practice 60 and 0 minutes over 4 weeks: 15 and 0 a week
    assert (prt["participants"], prt["sessions_all"], prt["evaluated"], prt["referred"]) == (2, 1, 1, 1)
    assert prt["sessions_mean"] == 5.5 and prt["sessions_sd"] == pytest.approx(math.sqrt(12.5))
    assert prt["minutes_per_week_mean"] == 7.5 and prt["minutes_per_week_sd"] == pytest.approx(math.sqrt(112.5))
    assert prt["practice_minutes_mean"] == 30.0 and prt["practice_days_mean"] == 1.0      # 2 days and 0
    # tracking: (4 - 6 + 4 - 5) / 2 = -1.5 pain, (2 - 5 + 4 - 4) / 2 = -1.5 fear; one participant rated
    assert (prt["tracking_participants"], prt["tracking_pain_change"], prt["tracking_fear_change"]) == (1, -1.5, -1.5)
    # exposure: 2 steps, 2 attempts, walk mastered (fear 1 <= max(2, 1.5)), expected 6 - actual 2 = 4
    assert (prt["exposure_participants"], prt["exposure_steps_mean"], prt["exposure_attempts_mean"],
            prt["exposure_mastered_mean"], prt["exposure_any_mastered"], prt["exposure_pain_surprise"]) == (
        1, 2.0, 2.0, 1.0, 1, 4.0)
    placebo = _by(results, "arm", "placebo")
    assert (placebo["participants"], placebo["sessions_mean"], placebo["sessions_sd"]) == (1, 1.0, None)
    assert "usual_care" not in {r["group"] for r in results["adherence"]}
    # therapists as the rated sessions name them; participant 6 has none
    assert _by(results, "therapist", "T1")["sessions_mean"] == 8.0
    assert _by(results, "therapist", "T2")["sessions_mean"] == 3.0
    assert _by(results, "therapist", NO_THERAPIST)["participants"] == 1
    attendance = {(r["arm"], r["session"]): (r["attended"], r["participants"]) for r in results["attendance"]}
    assert attendance[("prt", 1)] == (2, 2) and attendance[("prt", 4)] == (1, 2) and attendance[("placebo", 2)] == (0, 1)
    # fidelity: scores 6, 4, 5 -> mean 5, SD 1; T1 6, 4 -> SD sqrt(2); the trial's reference beside
    fidelity = results["fidelity"]
    assert fidelity["overall"]["mean"] == 5.0 and fidelity["overall"]["sd"] == pytest.approx(1.0)
    t1, t2 = fidelity["therapists"]
    assert (t1["name"], t1["sessions"], t1["mean"], t1["minimum"]) == ("T1", 2, 5.0, 4)
    assert t1["sd"] == pytest.approx(math.sqrt(2)) and t2["sd"] is None
    assert (fidelity["reference"]["mean"], fidelity["reference"]["sd"], fidelity["reference"]["minimum"]) == (
        4.93, 0.87, 3)
    shares = {e["id"]: (e["present"], e["rated"]) for e in fidelity["elements"]}
    assert shares["education"] == (3, 3) and shares["emotions"] == (3, 3) and shares["home_practice"] == (1, 3)
    assert fidelity["below_minimum"] == [] and fidelity["participants_rated"] == 2
    assert "participants" not in fidelity  # no participant ids in results.json
    assert "SECRET" not in json.dumps(results)


def test_the_section_reads_well(trial, export_dir):
    section = program_section(trial, export_dir)
    html = section.body
    assert "Sessions and home practice" in html and "5.5 (3.5)" in html and "8 (11)" in html
    assert "Trial (Ashar et al. 2022)" in html and "4.93" in html and "0.87" in html
    assert [f.name for f in section.figures] == ["fig_program_attendance", "fig_program_fidelity"]
    assert section.summary[0].startswith("Program: PRT participants in the program export (2) attended on average "
                                         "5.5 of 8 sessions")
    assert "fidelity averaged 5.00 of 6 elements (SD 1.00, 3 rated sessions; the trial: 4.93, SD 0.87)" in \
        section.summary[0]
    assert html.count("<table>") == html.count("<caption>") == 4


def _records_text(export_dir) -> str:
    return (export_dir / "records.csv").read_text(encoding="utf-8")


def test_every_layout_of_the_export_reads_the_same(trial, export_dir, tmp_path):
    folder = program_results(trial, read_program_export(export_dir))
    csv_file = program_results(trial, read_program_export(export_dir / "records.csv"))
    archive = tmp_path / "prt-program-redcap.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for name in ("records.csv", "data_dictionary.csv"):
            z.write(export_dir / name, name)
    zipped = program_results(trial, read_program_export(archive))
    for other in (csv_file, zipped):
        assert {k: v for k, v in other.items() if k != "source"} == {k: v for k, v in folder.items() if k != "source"}
    # a longitudinal project's records (redcap_event_name) read too
    people, ratings = _programs()
    write_export(tmp_path / "long", people, ratings, event="post")
    assert program_results(trial, read_program_export(tmp_path / "long"))["adherence"] == folder["adherence"]


def test_analyze_with_program_round_trips(trial, export_dir, tmp_path, capsys):
    export = tmp_path / "export.csv"
    write_redcap(trial, export, layout="flat")
    out = tmp_path / "out"
    assert main(["analyze", str(export), "--out", str(out), "--bootstrap", "20", "--mediation-bootstrap", "0",
                 "--program", str(export_dir)]) == 0
    printed = capsys.readouterr()
    assert "program delivery" in printed.out and "therapist is not recorded" in printed.err
    data = json.loads((out / "results.json").read_text())
    assert data["program"]["fidelity"]["overall"]["mean"] == 5.0
    assert {"fig_program_attendance.svg", "fig_program_fidelity.png"} <= {p.name for p in out.iterdir()}
    loaded = load_results(out / "results.json")
    assert loaded.sections["program"] == data["program"] and loaded.to_dict()["program"] == data["program"]
    html = (out / "report.html").read_text()
    page = _parse(html)
    assert 'id="program"' in html and "Program delivery: adherence and fidelity" in html
    assert sum(1 for tag, _ in page.tags if tag == "img") == 6
    assert all(a.get("scope") in {"col", "row", "colgroup", "rowgroup"} for tag, a in page.tags if tag == "th")


def _edit(text: str, row: int, column: str, value: str) -> str:
    rows = list(csv.DictReader(io.StringIO(text)))
    rows[row][column] = value
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


# rows of records.csv (data rows from 0): 0 = participant 1, 1-2 its ratings, 3 = participant 2, 4 its rating, 5 = 6
@pytest.mark.parametrize("row, column, value, expected", [
    (0, "prt_sessions_n", "x", r"row 2, record 'SECRET-PR-000', field 'prt_sessions_n': expected a whole number"),
    (0, "prt_sessions_n", "9", r"field 'prt_sessions_n': expected a value from 0 to 8"),
    (0, "prt_sessions_n", "7", r"field 'prt_sessions_n': 7 but 8 sessions are ticked"),
    (0, "prt_sessions___3", "yes", r"field 'prt_sessions___3': expected 1 or 0"),
    (0, "prt_eval_referral", "9", r"field 'prt_eval_referral': expected one of the codes 1, 2, 3, 4"),
    (0, "prt_track_pain_chg", "nan", r"field 'prt_track_pain_chg': expected a number"),
    (0, "prt_fid_n", "5", r"field 'prt_fid_n': 5 but the export holds 2 prt_fidelity instance"),
    (0, "prt_fid_score", "6", r"field 'prt_fid_score': a value in a field of the other form"),
    (1, "prt_fid_score", "5", r"row 3, record 'SECRET-PR-000', field 'prt_fid_score': 5 but 6 elements are marked"),
    (1, "prt_fid_therapist", "", r"row 3, record 'SECRET-PR-000', field 'prt_fid_therapist': blank"),
    (1, "prt_fid_therapist", "=cmd()", r"row 3, record 'SECRET-PR-000': key 'therapist': expected a short code"),
    (1, "redcap_repeat_instrument", "prt_diary", r"repeat instrument 'prt_diary'"),
    (2, "redcap_repeat_instance", "1", r"row 4, record 'SECRET-PR-000': prt_fidelity instance 1 is given twice "
                                       r"\(first in row 3\)"),
    (2, "prt_fid_session", "2", r"row 4, record 'SECRET-PR-000': session 2 is rated again by the same rater "
                                r"\(first in row 3\)"),
    (3, "record_id", A, r"row 5, record 'SECRET-PR-000': the participant's prt_program row is given twice "
                        r"\(first in row 2\)"),
    (4, "record_id", "7", r"row 6, record '7': a rated session of a participant without a prt_program row"),
    (5, "record_id", "404", r"row 7: record '404' is not a participant of the trial"),
])
def test_bad_exports_name_the_file_row_record_and_field(trial, export_dir, tmp_path, row, column, value, expected):
    path = tmp_path / "records.csv"
    path.write_text(_edit(_records_text(export_dir), row, column, value), encoding="utf-8")
    with pytest.raises(InputError, match=expected) as caught:
        program_section(trial, path)
    assert str(path) in str(caught.value)


def test_bad_files_and_columns(trial, export_dir, tmp_path):
    text = _records_text(export_dir)
    cases = {
        "unknown.csv": (text.replace("prt_exp_steps", "prt_exp_stairs", 1), "unknown column 'prt_exp_stairs'"),
        "missing.csv": ("\n".join(",".join(line.split(",")[:-1]) for line in text.splitlines()),
                        "no column 'prt_fid_score'"),
        "first.csv": ("\n".join(",".join(line.split(",")[1:] + line.split(",")[:1]) for line in text.splitlines()),
                      "the first column must be the record id"),
        "empty.csv": (text.splitlines()[0] + "\n", "no records"),
    }
    for name, (content, expected) in cases.items():
        (tmp_path / name).write_text(content, encoding="utf-8")
        with pytest.raises(InputError, match=expected):
            read_program_export(tmp_path / name)
    with pytest.raises(InputError, match="not found"):
        read_program_export(tmp_path / "nothing.csv")
    (tmp_path / "folder").mkdir()
    with pytest.raises(InputError, match="a folder without records.csv"):
        read_program_export(tmp_path / "folder")
    with zipfile.ZipFile(tmp_path / "other.zip", "w") as z:
        z.writestr("notes.txt", "hello")
    with pytest.raises(InputError, match=r"expected one records.csv in the zip, found 0"):
        read_program_export(tmp_path / "other.zip")
    (tmp_path / "binary.csv").write_bytes(b"\x00\x01\x02")
    with pytest.raises(InputError, match="binary"):
        read_program_export(tmp_path / "binary.csv")


def test_cli_refuses_bad_program_input_and_writes_nothing(trial, export_dir, tmp_path, capsys):
    export = tmp_path / "export.csv"
    write_redcap(trial, export, layout="flat")
    bad = tmp_path / "records.csv"
    bad.write_text(_edit(_records_text(export_dir), 5, "record_id", "404"), encoding="utf-8")
    out = tmp_path / "out"
    for extra, expected in (
            (["--program", str(bad)], "record '404' is not a participant of the trial"),
            (["--curriculum", str(bad)], "--curriculum describes a program export: give --program FILE with it"),
            (["--program", str(tmp_path / "missing")], "not found")):
        assert main(["analyze", str(export), "--out", str(out), "--bootstrap", "10", *extra]) == 2
        err = capsys.readouterr().err
        assert expected in err and len(err.strip().splitlines()) == 1
        assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export.csv", "records.csv"]


def test_a_site_curriculum_carries_through(trial, tmp_path):
    """A site with a seventh fidelity element: its export reads with --curriculum, not without."""
    from prt.program.curriculum import load_curriculum

    site = tmp_path / "site.yaml"
    site.write_text("site: lon\nfidelity:\n  elements:\n    - {id: pacing, number: 7, title: Pacing}\n",
                    encoding="utf-8")
    curriculum = load_curriculum(site)
    people, _ = _programs()
    ratings = [SessionRating("T1", A, 2, "R1", (*ALL, "pacing"))]
    write_export(tmp_path / "export", people, ratings, curriculum)
    with pytest.raises(InputError, match="unknown column 'prt_fe_pacing'"):
        read_program_export(tmp_path / "export")
    results = program_results(trial, read_program_export(tmp_path / "export", curriculum))
    assert results["curriculum"]["elements"] == 7 and results["fidelity"]["overall"]["mean"] == 7.0


# ------------------------------------------------------------------------------ property-based
@st.composite
def _exports(draw):
    n = draw(st.integers(1, 5))  # the trial's PRT participants
    people = []
    for i in range(n):
        attended = tuple(sorted(draw(st.sets(st.integers(1, 8), max_size=8))))
        minutes = draw(st.lists(st.integers(1, 60), max_size=4))
        practices = tuple(Practice.from_dict({"day": f"2026-03-{d + 1:02d}", "assignment": "read_education",
                                              "minutes": m}) for d, m in enumerate(minutes))
        people.append(ParticipantProgram(f"SECRET-PR-{i:03d}", attended, practices))
    return people


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(people=_exports())
def test_property_sessions_and_minutes_survive_the_export(trial, tmp_path_factory, people):
    """Whatever the program holds, the section's sessions and minutes per week are the inputs' own."""
    out = tmp_path_factory.mktemp("prop") / "export"
    write_export(out, people, [])
    results = program_results(trial, read_program_export(out))
    prt = _by(results, "arm", "prt")
    sessions = [len(p.sessions_attended) for p in people]
    weekly = [sum(x.minutes for x in p.practices) / 4 for p in people]
    assert prt["participants"] == len(people)
    assert prt["sessions_mean"] == pytest.approx(sum(sessions) / len(sessions))
    assert prt["minutes_per_week_mean"] == pytest.approx(sum(weekly) / len(weekly))
    assert prt["sessions_all"] == sessions.count(8)
    assert results["fidelity"] is None


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(row=st.integers(0, 5), column=st.integers(0, 39), value=st.text(max_size=12))
def test_property_any_cell_edit_is_read_or_refused_in_one_line(trial, export_dir, tmp_path_factory, row, column,
                                                               value):
    """Edit any cell to any text: the export is read, or refused with an InputError naming the file."""
    text = _records_text(export_dir)
    header = text.splitlines()[0].split(",")
    if column >= len(header):
        return
    path = tmp_path_factory.mktemp("fuzz") / "records.csv"
    path.write_text(_edit(text, row, header[column], value), encoding="utf-8")
    try:
        section_body(program_results(trial, read_program_export(path)))
    except InputError as exc:
        assert str(path) in str(exc) and "\n" not in str(exc)
