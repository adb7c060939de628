"""The analysis report's adherence and fidelity section, from a program export (issue 14).

``prt analyze EXPORT --program FILE`` reads the program data that :mod:`prt.program.export` writes
in REDCap's import layout (``records.csv``: one ``prt_program`` row per participant, one
``prt_fidelity`` instance per rated session) and adds to the report, per arm and per therapist:
sessions attended, home-practice minutes per week, somatic-tracking and graded-exposure progress,
and the fidelity scores beside the trial's reference (mean 4.93, SD 0.87, minimum 3; protocol
notes, "Fidelity").

- :func:`read_program_export` - the export read strictly: every column and cell checked against
  the program's data dictionary (:func:`prt.program.export.program_dictionary`, so a site's
  curriculum carries through), with errors naming the file, row, record and field.
- :func:`program_results` - the section's ``results.json`` entry (``program``): aggregates only,
  no participant ids. Fidelity statistics are :func:`prt.program.fidelity.fidelity_summary`'s.
- :func:`program_section` - the :class:`~prt.analysis.sections.ReportSection` (tables, two
  figures, a summary sentence).

Minutes per week: a participant's home-practice minutes over the program's weeks (sessions twice
weekly, :data:`SESSIONS_PER_WEEK`: 8 sessions, 4 weeks). A participant's therapist is the one
named in their rated sessions (the program form does not name one); participants whose sessions
were not rated are counted under "therapist not recorded".
"""

from __future__ import annotations

import math
import os
import statistics
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from prt.errors import InputError
from prt.program.curriculum import Curriculum, default_curriculum
from prt.program.export import (
    FIDELITY_FORM,
    PROGRAM_FORM,
    REFERRAL_CODES,
    REPEAT_COLUMNS,
    SUGGESTION_CODES,
    program_dictionary,
)
from prt.program.fidelity import SessionRating, fidelity_summary

#: PRT sessions are twice weekly (protocol notes: 8 sessions over 4 weeks).
SESSIONS_PER_WEEK = 2
#: The file holding the records in an export folder or zip (prt.program.export.write_export).
RECORDS_FILE = "records.csv"
#: Largest records file read from a zip (bytes): a program export is kilobytes.
MAX_RECORDS_BYTES = 64 * 1024 * 1024
#: Label of participants whose therapist the export does not name.
NO_THERAPIST = "Therapist not recorded"
SEVERAL_THERAPISTS = "More than one therapist"
_EVENT = "redcap_event_name"
#: The export's codes read back (the inverse of prt.program.export's).
_REFERRALS = {code: name for name, code in REFERRAL_CODES.items()}
_SUGGESTIONS = {code: name for name, code in SUGGESTION_CODES.items()}


@dataclass(frozen=True)
class ProgramExport:
    """A program export, checked: one row per participant and the rated sessions.

    ``source`` names the file in messages, ``name`` is its file name (shown in the report).
    ``participants`` is indexed by participant id with the numeric fields (names without the
    ``prt_`` prefix; NaN where blank), ``attended`` (tuple of session numbers), ``referral`` and
    ``suggestion`` (names) and ``row`` (the row in the file, for messages).
    """

    source: str
    name: str
    curriculum: Curriculum
    participants: pd.DataFrame
    ratings: tuple[SessionRating, ...] = ()

    @property
    def weeks(self) -> float:
        return len(self.curriculum.sessions) / SESSIONS_PER_WEEK


# ------------------------------------------------------------------------------------ reading
def _records_text(path: Path) -> tuple[str, str]:
    """The records CSV's text and its name for messages: a file, an export folder or a zip."""
    from prt.files import decode_text, read_text

    if path.is_dir():
        inner = path / RECORDS_FILE
        if not inner.is_file():
            raise InputError(f"program export {path}: a folder without {RECORDS_FILE} (prt.program.write_export "
                             "writes data_dictionary.csv, records.csv and repeating_forms.csv)")
        return read_text(inner, "program export"), f"program export {inner}"
    if not path.exists():
        raise InputError(f"program export {path}: not found")
    if zipfile.is_zipfile(path):
        where = f"program export {path}"
        try:
            with zipfile.ZipFile(path) as archive:
                names = [n for n in archive.namelist() if n.rsplit("/", 1)[-1] == RECORDS_FILE]
                if len(names) != 1:
                    raise InputError(f"{where}: expected one {RECORDS_FILE} in the zip, found {len(names)}")
                info = archive.getinfo(names[0])
                if info.file_size > MAX_RECORDS_BYTES:
                    raise InputError(f"{where}: {names[0]} is larger than {MAX_RECORDS_BYTES // 2**20} MiB")
                data = archive.read(info)
        except (zipfile.BadZipFile, OSError, RuntimeError) as exc:
            raise InputError(f"{where}: not a readable zip ({exc.__class__.__name__})") from None
        label = f"{where} ({names[0]})"
        return decode_text(data, label), label
    return read_text(path, "program export"), f"program export {path}"


def _field_specs(curriculum: Curriculum) -> tuple[str, dict[str, dict], list[str]]:
    """The dictionary as ``(record id, {column: spec}, columns in order)``; checkboxes expanded."""
    from prt.data.dictionary import parse_choices

    dictionary = program_dictionary(curriculum)
    specs: dict[str, dict] = {}
    order: list[str] = []
    rows = dictionary.to_dict("records")
    record_id = rows[0]["Variable / Field Name"]
    for row in rows[1:]:
        name, kind = row["Variable / Field Name"], row["Field Type"]
        form = row["Form Name"]
        if kind == "checkbox":
            for code in parse_choices(row["Choices, Calculations, OR Slider Labels"], name):
                column = f"{name}___{code}"
                specs[column] = {"form": form, "kind": "flag", "field": name, "code": int(code)}
                order.append(column)
            continue
        spec: dict[str, Any] = {"form": form, "field": name}
        validation = row["Text Validation Type OR Show Slider Number"]
        if kind == "yesno":
            spec["kind"] = "flag"
        elif kind == "radio":
            spec.update(kind="choice", choices=set(parse_choices(row["Choices, Calculations, OR Slider Labels"], name)))
        elif validation in ("integer", "number"):
            low = row["Text Validation Min"]
            high = row["Text Validation Max"]
            spec.update(kind=validation, low=float(low) if low != "" else -math.inf,
                        high=float(high) if high != "" else math.inf)
        else:
            spec["kind"] = "code"
        specs[name] = spec
        order.append(name)
    return record_id, specs, order


def _cell(text: str, spec: dict, where: str) -> Any:
    """One cell as its value (None when blank); InputError naming ``where`` otherwise."""
    text = text.strip()
    if text == "":
        return None
    kind = spec["kind"]
    if kind == "flag":
        if text not in ("0", "1"):
            raise InputError(f"{where}: expected 1 or 0 (yes/no)")
        return text == "1"
    if kind == "choice":
        if text not in spec["choices"]:
            raise InputError(f"{where}: expected one of the codes {', '.join(sorted(spec['choices']))}")
        return int(text)
    if kind == "code":
        return text
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"{where}: expected {'a whole number' if kind == 'integer' else 'a number'}") from None
    if not math.isfinite(value) or (kind == "integer" and value != int(value)):
        raise InputError(f"{where}: expected {'a whole number' if kind == 'integer' else 'a number'}")
    if not spec["low"] <= value <= spec["high"]:
        low = "" if spec["low"] == -math.inf else f"{spec['low']:g}"
        high = "" if spec["high"] == math.inf else f"{spec['high']:g}"
        bounds = f"from {low} to {high}" if low and high else f"at least {low}" if low else f"at most {high}"
        raise InputError(f"{where}: expected a value {bounds}")
    return int(value) if kind == "integer" else value


def read_program_export(path: str | os.PathLike, curriculum: Curriculum | None = None) -> ProgramExport:
    """Read a program export (``records.csv``, the folder holding it, or the web's zip) strictly.

    Refused, naming the file, row, record and field: a column the program's data dictionary does
    not declare (or one missing), a repeat instrument other than ``prt_fidelity``, a cell that is
    not the field's type or is out of its range, a participant given twice, a rating without the
    participant's row, a fidelity score that is not the number of elements marked present, a
    session count that disagrees with the sessions ticked, a ``prt_fid_n`` that disagrees with the
    ratings, a value in the other form's fields.
    """
    from prt.program._spec import name
    from prt.trial.inputs import parse_csv, participant_id

    curriculum = curriculum or default_curriculum()
    text, source = _records_text(Path(path))
    table = parse_csv(text, source)
    record_id, specs, order = _field_specs(curriculum)
    columns = list(table.columns)
    if not columns or columns[0].startswith(("prt_", "redcap_")):
        raise InputError(f"{source}: the first column must be the record id (REDCap's import layout)")
    id_column = columns[0]
    allowed = {id_column, _EVENT, *REPEAT_COLUMNS, *order}
    unknown = [c for c in columns if c not in allowed]
    if unknown:
        raise InputError(f"{source}: unknown column {name(unknown[0])}; a program export has {record_id}, "
                         f"{', '.join(REPEAT_COLUMNS)} and the prt_ fields of the program's data dictionary "
                         "(prt.program.export; was it written with another curriculum?)")
    missing = [c for c in (*REPEAT_COLUMNS, *order) if c not in columns]
    if missing:
        raise InputError(f"{source}: no column {missing[0]!r} (a program export has every field of the "
                         "program's data dictionary)")
    if not table.records:
        raise InputError(f"{source}: no records (a header but no rows)")
    elements = [e.id for e in curriculum.fidelity.elements]
    n_sessions = len(curriculum.sessions)
    people: dict[str, dict] = {}
    ratings: list[tuple[int, SessionRating, dict]] = []
    instances: dict[tuple[str, str], int] = {}
    for row, record in zip(table.rows, table.records):
        where_row = f"{source} row {row}"
        pid = participant_id(record[id_column], f"{where_row}, column {id_column!r}")
        where = f"{where_row}, record {name(pid)}"
        instrument = record["redcap_repeat_instrument"].strip()
        if instrument not in ("", FIDELITY_FORM):
            raise InputError(f"{where}: repeat instrument {name(instrument)}; expected blank (the "
                             f"{PROGRAM_FORM} row) or {FIDELITY_FORM!r}")
        form = PROGRAM_FORM if instrument == "" else FIDELITY_FORM
        values = {}
        for column in order:
            spec = specs[column]
            cell = record[column]
            if spec["form"] != form:
                if cell.strip():
                    raise InputError(f"{where}, field {column!r}: a value in a field of the other form "
                                     f"({spec['form']}) on a {form} row")
                continue
            values[column] = _cell(cell, spec, f"{where}, field {column!r}")
        if form == PROGRAM_FORM:
            if record["redcap_repeat_instance"].strip():
                raise InputError(f"{where}: the {PROGRAM_FORM} row has a repeat instance (expected blank)")
            if pid in people:
                raise InputError(f"{where}: the participant's {PROGRAM_FORM} row is given twice (first in row "
                                 f"{people[pid]['row']})")
            people[pid] = {"row": row, **values}
            continue
        instance = record["redcap_repeat_instance"].strip()
        if not (instance.isascii() and instance.isdigit() and int(instance) >= 1):
            raise InputError(f"{where}: redcap_repeat_instance must be a whole number 1 or more")
        if (pid, instance) in instances:
            raise InputError(f"{where}: {FIDELITY_FORM} instance {instance} is given twice (first in row "
                             f"{instances[(pid, instance)]})")
        instances[(pid, instance)] = row
        for required in ("prt_fid_therapist", "prt_fid_session", *(f"prt_fe_{e}" for e in elements)):
            if values.get(required) is None:
                raise InputError(f"{where}, field {required!r}: blank (every rated session names the therapist, "
                                 "the session and each element)")
        marks = {e: bool(values[f"prt_fe_{e}"]) for e in elements}
        spec = {"therapist": values["prt_fid_therapist"], "participant": pid,
                "session": int(values["prt_fid_session"]), "elements": marks}
        if values.get("prt_fid_rater"):
            spec["rater"] = values["prt_fid_rater"]
        rating = SessionRating.from_dict(spec, curriculum, where)
        score = values.get("prt_fid_score")
        if score is not None and score != rating.score:
            raise InputError(f"{where}, field 'prt_fid_score': {score} but {rating.score} elements are marked present")
        ratings.append((row, rating, {"where": where}))
    by_participant: dict[str, list[SessionRating]] = {}
    seen: dict[tuple, int] = {}
    for row, rating, info in ratings:
        if rating.participant not in people:
            raise InputError(f"{info['where']}: a rated session of a participant without a {PROGRAM_FORM} row")
        key = (rating.participant, rating.session, rating.rater)
        if key in seen:
            raise InputError(f"{info['where']}: session {rating.session} is rated again by the same rater "
                             f"(first in row {seen[key]})")
        seen[key] = row
        by_participant.setdefault(rating.participant, []).append(rating)
    frame_rows = []
    for pid, values in people.items():
        where = f"{source} row {values['row']}, record {name(pid)}"
        attended = tuple(n for n in range(1, n_sessions + 1) if values.get(f"prt_sessions___{n}"))
        count = values.get("prt_sessions_n")
        if count is not None and count != len(attended):
            raise InputError(f"{where}, field 'prt_sessions_n': {count} but {len(attended)} sessions are ticked "
                             f"(prt_sessions___1 ... ___{n_sessions})")
        rated = len(by_participant.get(pid, []))
        if values.get("prt_fid_n") is not None and values["prt_fid_n"] != rated:
            raise InputError(f"{where}, field 'prt_fid_n': {values['prt_fid_n']} but the export holds {rated} "
                             f"{FIDELITY_FORM} instance(s) for the participant")
        out = {"participant": pid, "row": values["row"], "attended": attended}
        for column, value in values.items():
            if column == "row" or column.startswith("prt_sessions___") or specs[column]["form"] != PROGRAM_FORM:
                continue
            out[column[len("prt_"):]] = value
        out["referral"] = _REFERRALS.get(values.get("prt_eval_referral"))
        out["suggestion"] = _SUGGESTIONS.get(values.get("prt_exp_suggest"))
        frame_rows.append(out)
    frame = pd.DataFrame(frame_rows).set_index("participant")
    numeric = [c for c in frame.columns if c not in ("row", "attended", "referral", "suggestion")]
    for column in numeric:
        frame[column] = [math.nan if v is None or v != v else float(v) for v in frame[column]]
    ordered = tuple(r for _, r, _ in sorted(ratings, key=lambda x: x[0]))
    return ProgramExport(source=source, name=Path(path).name, curriculum=curriculum, participants=frame,
                         ratings=ordered)


def check_participants(trial, export: ProgramExport) -> None:
    """Every participant of the export is one of the trial's (else an InputError naming the row)."""
    from prt.program._spec import name

    known = set(map(str, trial.participants.index))
    for pid, row in export.participants["row"].items():
        if str(pid) not in known:
            raise InputError(f"{export.source} row {row}: record {name(pid)} is not a participant of the trial "
                             "being analysed")


# ------------------------------------------------------------------------------------ results
def _mean(values) -> float:
    values = [float(v) for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    return statistics.fmean(values) if values else math.nan


def _sd(values) -> float:
    values = [float(v) for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    return statistics.stdev(values) if len(values) > 1 else math.nan


def therapist_of(export: ProgramExport) -> pd.Series:
    """Each participant's therapist as the rated sessions name them (or :data:`NO_THERAPIST`,
    :data:`SEVERAL_THERAPISTS`)."""
    named: dict[str, set[str]] = {}
    for r in export.ratings:
        named.setdefault(r.participant, set()).add(r.therapist)
    out = {}
    for pid in export.participants.index:
        who = named.get(pid, set())
        out[pid] = next(iter(who)) if len(who) == 1 else SEVERAL_THERAPISTS if who else NO_THERAPIST
    return pd.Series(out, dtype=object)


def _adherence(by: str, group: str, rows: pd.DataFrame, export: ProgramExport) -> dict[str, Any]:
    n_sessions = len(export.curriculum.sessions)
    sessions = rows["attended"].map(len)
    minutes = rows["practice_min"] / export.weeks
    tracked = rows[rows["track_rated"].fillna(0) > 0]
    exposure = rows[rows["exp_steps"].notna()]
    return {
        "by": by, "group": group, "participants": int(len(rows)),
        "evaluated": int((rows["eval_done"] == 1).sum()),
        "referred": int((rows["referral"] == "refer").sum()),
        "sessions_mean": _mean(sessions), "sessions_sd": _sd(sessions),
        "sessions_all": int((sessions == n_sessions).sum()),
        "practice_minutes_mean": _mean(rows["practice_min"]),
        "minutes_per_week_mean": _mean(minutes), "minutes_per_week_sd": _sd(minutes),
        "practice_days_mean": _mean(rows["practice_days"]),
        "tracking_participants": int(len(tracked)),
        "tracking_pain_change": _mean(tracked["track_pain_chg"]),
        "tracking_fear_change": _mean(tracked["track_fear_chg"]),
        "exposure_participants": int(len(exposure)),
        "exposure_steps_mean": _mean(exposure["exp_steps"]),
        "exposure_attempts_mean": _mean(exposure["exp_attempts"]),
        "exposure_mastered_mean": _mean(exposure["exp_mastered"]),
        "exposure_any_mastered": int((exposure["exp_mastered"].fillna(0) > 0).sum()),
        "exposure_pain_surprise": _mean(exposure["exp_pain_surp"]),
    }


def program_results(trial, export: ProgramExport) -> dict[str, Any]:
    """The ``program`` entry of results.json (aggregates only; module docstring)."""
    from prt.analysis.results import jsonable
    from prt.vocabulary import ARMS

    check_participants(trial, export)
    people = export.participants
    arms = trial.participants["arm"].reindex(people.index)
    therapists = therapist_of(export)
    curriculum = export.curriculum
    adherence = []
    for arm in ARMS:
        rows = people[arms == arm]
        if len(rows):
            adherence.append(_adherence("arm", arm, rows, export))
    order = sorted(t for t in set(therapists) if t not in (NO_THERAPIST, SEVERAL_THERAPISTS))
    order += [t for t in (SEVERAL_THERAPISTS, NO_THERAPIST) if t in set(therapists)]
    for therapist in order:
        adherence.append(_adherence("therapist", therapist, people[therapists == therapist], export))
    attendance = []
    for arm in ARMS:
        rows = people[arms == arm]
        if not len(rows):
            continue
        for number in range(1, len(curriculum.sessions) + 1):
            attendance.append({"arm": arm, "session": number, "participants": int(len(rows)),
                               "attended": int(rows["attended"].map(lambda a, n=number: n in a).sum())})
    fidelity = None
    if export.ratings:
        summary = fidelity_summary(export.ratings, curriculum).to_dict()
        fidelity = {
            "elements_total": summary["elements_total"], "overall": summary["overall"],
            "reference": summary["reference"], "therapists": summary["therapists"],
            "elements": summary["elements"],
            "participants_rated": len({r.participant for r in export.ratings}),
            "below_minimum": [{k: r[k] for k in ("therapist", "session", "score")} for r in summary["below_minimum"]],
        }
    notes = []
    if not export.ratings:
        notes.append("fidelity: the program export holds no rated sessions")
    if (therapists == NO_THERAPIST).any():
        notes.append(f"{int((therapists == NO_THERAPIST).sum())} participant(s) without a rated session: their "
                     "therapist is not recorded in the export")
    return jsonable({
        "source": export.name,
        "curriculum": {"name": curriculum.name, "version": curriculum.version,
                       "sessions": len(curriculum.sessions), "weeks": export.weeks,
                       "elements": len(curriculum.fidelity.elements)},
        "n_participants": int(len(people)),
        "n_ratings": len(export.ratings),
        "adherence": adherence, "attendance": attendance, "fidelity": fidelity,
        "notes": notes,
    })


# ------------------------------------------------------------------------------------ figures
def fig_attendance(results: dict):
    """Share of each arm's participants attending each session, and minutes per week (mean)."""
    import matplotlib

    from prt.analysis.figures import ARM_COLOURS, STYLE, _new_figure
    from prt.vocabulary import ARM_LABELS, ARMS

    with matplotlib.rc_context(STYLE):
        records = results.get("attendance") or []
        fig = _new_figure(8.5, 3.4)
        ax = fig.add_subplot()
        arms = [a for a in ARMS if any(r["arm"] == a for r in records)]
        sessions = sorted({r["session"] for r in records})
        width = 0.8 / max(len(arms), 1)
        hatches = {"prt": "", "placebo": "//", "usual_care": ".."}
        x = np.arange(len(sessions), dtype=float)
        for i, arm in enumerate(arms):
            by = {r["session"]: r for r in records if r["arm"] == arm}
            share = [100.0 * by[s]["attended"] / by[s]["participants"] if by[s]["participants"] else 0.0
                     for s in sessions]
            n = by[sessions[0]]["participants"] if sessions else 0
            ax.bar(x + (i - (len(arms) - 1) / 2) * width, share, width, color=ARM_COLOURS[arm], hatch=hatches[arm],
                   edgecolor="white", linewidth=0.5, label=f"{ARM_LABELS[arm]} (n = {n})")
        ax.set_xticks(x, [str(s) for s in sessions])
        ax.set_xlabel("Session")
        ax.set_ylabel("Attended, % of participants")
        ax.set_ylim(0, 105)
        ax.grid(axis="x", visible=False)
        fig.legend(loc="outside lower center", ncols=max(len(arms), 1), fontsize=8)
        ax.set_title("Sessions attended", loc="left")
        return fig


def fig_fidelity(results: dict):
    """Mean fidelity score (± SD) per therapist and overall, with the trial's reference beside."""
    import matplotlib

    from prt.analysis.figures import STYLE, _new_figure

    with matplotlib.rc_context(STYLE):
        fidelity = results.get("fidelity") or {}
        groups = [("All rated sessions", fidelity["overall"])] + [
            (f"Therapist {g['name']}", g) for g in fidelity.get("therapists") or []]
        reference = fidelity["reference"]
        total = fidelity["elements_total"]
        fig = _new_figure(7.5, 1.3 + 0.42 * (len(groups) + 1))
        ax = fig.add_subplot()
        y = np.arange(len(groups) + 1, dtype=float)[::-1]
        ref_y = y[-1]
        ax.axvspan(reference["mean"] - reference["sd"], reference["mean"] + reference["sd"], color="#dddddd",
                   alpha=0.6, zorder=0, label="Trial: mean ± SD")
        ax.axvline(reference["mean"], color="#555555", linewidth=1.2)
        ax.axvline(reference["minimum"], color="#D55E00", linewidth=1.0, linestyle="--",
                   label=f"Trial's lowest session ({reference['minimum']:g})")
        for (label, g), yi in zip(groups, y[:-1]):
            sd = g.get("sd")
            if sd is not None and not (isinstance(sd, float) and math.isnan(sd)):
                ax.hlines(yi, g["mean"] - sd, g["mean"] + sd, color="#0072B2", linewidth=1.6)
            ax.plot([g["mean"]], [yi], "o", color="#0072B2", markersize=6)
            ax.text(total + 0.1, yi, f"n = {g['sessions']}", va="center", fontsize=8)
        ax.plot([reference["mean"]], [ref_y], "D", color="#555555", markersize=6)
        ax.hlines(ref_y, reference["mean"] - reference["sd"], reference["mean"] + reference["sd"], color="#555555",
                  linewidth=1.6)
        ax.set_yticks(y, [label for label, _ in groups] + ["Trial (Ashar et al. 2022)"])
        ax.set_xlim(0, total + 0.8)
        ax.set_xticks(range(0, total + 1))
        ax.set_xlabel(f"Fidelity score: elements present of {total} (mean ± SD)")
        ax.grid(axis="y", visible=False)
        fig.legend(loc="outside lower center", ncols=2, fontsize=8)
        return fig


ALT_TEXT = {
    "fig_program_attendance": "Grouped bar chart of the percentage of each arm's participants in the program "
                              "export who attended each PRT session, session 1 to the last.",
    "fig_program_fidelity": "Dot plot of the mean fidelity score with SD bars for all rated sessions and for "
                            "each therapist, beside the trial's mean, SD band and lowest session score.",
}


# ------------------------------------------------------------------------------------ section
def _num(value, digits: int = 1) -> str:
    from prt.analysis.tables import fmt_number

    return fmt_number(value, digits)


def _mean_sd(mean, sd, digits: int = 1) -> str:
    from prt.analysis.tables import MISSING, is_missing

    if is_missing(mean):
        return MISSING
    return f"{_num(mean, digits)} ({_num(sd, digits)})" if not is_missing(sd) else _num(mean, digits)


def _of(k: int, n: int) -> str:
    from prt.analysis.tables import fmt_count

    return fmt_count(int(k), int(n))


def _group_label(record: dict) -> str:
    from prt.vocabulary import ARM_LABELS

    if record["by"] == "arm":
        return ARM_LABELS.get(record["group"], record["group"])
    g = record["group"]
    return g if g in (NO_THERAPIST, SEVERAL_THERAPISTS) else f"Therapist {g}"


def section_body(results: dict) -> str:
    """The section's HTML from its results (escaped throughout)."""
    from prt.analysis.sections import heading, paragraph, table

    curriculum = results["curriculum"]
    n_sessions = curriculum["sessions"]
    parts = [paragraph(
        f"Source: the program export \u201c{results['source']}\u201d, made with curriculum {curriculum['name']} "
        f"version {curriculum['version']} ({n_sessions} sessions over {curriculum['weeks']:g} weeks). It holds "
        f"{results['n_participants']} participant(s) and {results['n_ratings']} rated session(s).")]
    rows = []
    for r in results["adherence"]:
        rows.append({
            "by": "By arm" if r["by"] == "arm" else "By therapist (as named in the rated sessions)",
            "group": _group_label(r), "participants": str(r["participants"]),
            "evaluated": _of(r["evaluated"], r["participants"]), "referred": _of(r["referred"], r["participants"]),
            "sessions": _mean_sd(r["sessions_mean"], r["sessions_sd"]),
            "all": _of(r["sessions_all"], r["participants"]),
            "minutes": _mean_sd(r["minutes_per_week_mean"], r["minutes_per_week_sd"], 0),
            "days": _num(r["practice_days_mean"]),
        })
    frame = pd.DataFrame(rows)
    parts.append(heading("Sessions and home practice"))
    parts.append(table(frame, {
        "by": "", "group": "Group", "participants": "n", "evaluated": "Evaluated",
        "referred": "Referred", "sessions": "Sessions", "all": f"All {n_sessions}", "minutes": "Minutes/week",
        "days": "Practice days"},
        f"Attendance and home practice by arm and by therapist: n participants; evaluated by the physician and "
        f"referred to PRT, n (%); sessions attended of {n_sessions}, mean (SD); all {n_sessions} attended, n (%); "
        "home-practice minutes per week, mean (SD); days with home practice, mean",
        row_header="group", group_by="by"))
    rows = []
    for r in results["adherence"]:
        if r["by"] != "arm":
            continue
        rows.append({
            "group": _group_label(r),
            "tracking": str(r["tracking_participants"]),
            "pain": _num(r["tracking_pain_change"], 2), "fear": _num(r["tracking_fear_change"], 2),
            "exposure": str(r["exposure_participants"]),
            "steps": _num(r["exposure_steps_mean"]), "attempts": _num(r["exposure_attempts_mean"]),
            "mastered": _num(r["exposure_mastered_mean"]),
            "any": _of(r["exposure_any_mastered"], r["exposure_participants"]) if r["exposure_participants"] else "-",
            "surprise": _num(r["exposure_pain_surprise"], 2),
        })
    parts.append(heading("Somatic tracking and graded exposure"))
    parts.append(table(pd.DataFrame(rows), {
        "group": "Arm", "tracking": "Tracking, n", "pain": "Pain change", "fear": "Fear change",
        "exposure": "Hierarchy, n", "steps": "Steps", "attempts": "Attempts", "mastered": "Mastered",
        "any": "Any mastered", "surprise": "Pain surprise"},
        "Somatic tracking and graded exposure by arm: participants with rated tracking practices and their "
        "pain and fear change over a practice (after minus before, 0-10; mean of the participants' means); "
        "participants with an exposure hierarchy, its steps, attempts and steps mastered (means), those with "
        "at least one step mastered, n (%), and expected minus actual pain (mean)", row_header="group"))
    fidelity = results.get("fidelity")
    parts.append(heading("Fidelity"))
    if not fidelity:
        parts.append(paragraph("No rated sessions in the program export: fidelity cannot be shown.", css="empty"))
    else:
        ref = fidelity["reference"]
        total = fidelity["elements_total"]
        rows = []
        for label, g in [("All rated sessions", fidelity["overall"])] + [
                (f"Therapist {g['name']}", g) for g in fidelity["therapists"]]:
            rows.append({"group": label, "sessions": str(g["sessions"]), "mean": _num(g["mean"], 2),
                         "sd": _num(g["sd"], 2), "minimum": str(g["minimum"]), "maximum": str(g["maximum"]),
                         "below": str(g["below_minimum"])})
        rows.append({"group": "Trial (Ashar et al. 2022)", "sessions": "-", "mean": _num(ref["mean"], 2),
                     "sd": _num(ref["sd"], 2), "minimum": f"{ref['minimum']:g}", "maximum": "-", "below": "-"})
        parts.append(table(pd.DataFrame(rows), {
            "group": "Group", "sessions": "Rated sessions", "mean": "Mean score", "sd": "SD", "minimum": "Lowest",
            "maximum": "Highest", "below": f"Sessions below {ref['minimum']:g}"},
            f"Fidelity score (elements present of {total}) overall and per therapist, with the trial's reference",
            row_header="group"))
        rows = [{"element": e["title"], "present": _of(e["present"], e["rated"])} for e in fidelity["elements"]]
        parts.append(table(pd.DataFrame(rows), {"element": "Element", "present": "Present in rated sessions"},
                           "How often each fidelity element was present", row_header="element"))
        below = fidelity["below_minimum"]
        if below:
            listed = "; ".join(f"therapist {b['therapist']}, session {b['session']}: {b['score']}" for b in below)
            parts.append(paragraph(f"Sessions below the trial's lowest score ({ref['minimum']:g}): {listed}.",
                                   css="note"))
    notes = results.get("notes") or []
    if notes:
        parts.append(paragraph("Notes: " + "; ".join(notes) + ".", css="note"))
    return "\n".join(parts)


def methods(results: dict) -> tuple[str, ...]:
    """How the section's numbers were made, in plain sentences."""
    n_sessions, weeks = results["curriculum"]["sessions"], results["curriculum"]["weeks"]
    fidelity = results.get("fidelity") or {}
    ref = fidelity.get("reference") or vars(default_curriculum().fidelity.reference)
    return (
        f"Sessions attended: the sessions ticked in the export (prt_sessions___1 to ___{n_sessions}). Minutes per "
        f"week: a participant's home-practice minutes over the program's {weeks:g} weeks (sessions twice weekly).",
        "Somatic tracking: each participant's mean change (after minus before, 0-10) over their rated practices, "
        "averaged over participants. Graded exposure: hierarchy steps, attempts and steps mastered by prt's "
        "rule (two attempts with fear at or below half the step's rated fear, at least 2).",
        f"Fidelity: independent raters marked each of the {results['curriculum']['elements']} elements present or "
        "absent in sampled sessions (the trial: 2 random sessions from half the PRT patients); a session's score is "
        f"the number present. Mean, SD (n − 1) and range overall and per therapist, beside the trial's mean "
        f"{ref['mean']:g} (SD {ref['sd']:g}), minimum {ref['minimum']:g}.",
        "A participant's therapist is the one named in their rated sessions; the program form does not name one.",
    )


def summary_sentence(results: dict) -> str | None:
    prt = next((r for r in results["adherence"] if r["by"] == "arm" and r["group"] == "prt"), None)
    parts = []
    if prt is not None:
        parts.append(f"PRT participants in the program export ({prt['participants']}) attended on average "
                     f"{_num(prt['sessions_mean'])} of {results['curriculum']['sessions']} sessions and practised "
                     f"{_num(prt['minutes_per_week_mean'], 0)} minutes a week at home")
    fidelity = results.get("fidelity")
    if fidelity:
        o, ref = fidelity["overall"], fidelity["reference"]
        parts.append(f"fidelity averaged {_num(o['mean'], 2)} of {fidelity['elements_total']} elements (SD "
                     f"{_num(o['sd'], 2)}, {o['sessions']} rated sessions; the trial: {_num(ref['mean'], 2)}, "
                     f"SD {_num(ref['sd'], 2)})")
    if not parts:
        return None
    return "Program: " + "; ".join(parts) + "."


def program_section(trial, export, curriculum: Curriculum | None = None):
    """The report's adherence and fidelity section (:class:`~prt.analysis.sections.ReportSection`).

    ``export``: a :class:`ProgramExport` or a path :func:`read_program_export` reads.
    """
    from prt.analysis.sections import ReportSection, render_figure

    if not isinstance(export, ProgramExport):
        export = read_program_export(export, curriculum)
    results = program_results(trial, export)
    figures = [render_figure(fig_attendance(results), "fig_program_attendance",
                             "Sessions attended: share of each arm's participants in the program export present at "
                             "each session.", ALT_TEXT["fig_program_attendance"])]
    if results.get("fidelity"):
        figures.append(render_figure(fig_fidelity(results), "fig_program_fidelity",
                                     "Fidelity: mean score (± SD) of the rated sessions overall and per therapist, "
                                     "beside the trial's mean, SD and lowest session (Ashar et al. 2022).",
                                     ALT_TEXT["fig_program_fidelity"]))
    sentence = summary_sentence(results)
    return ReportSection(key="program", title="Program delivery: adherence and fidelity",
                         body=section_body(results), results=results, figures=tuple(figures),
                         summary=(sentence,) if sentence else (), notes=tuple(results["notes"]),
                         methods=methods(results))


__all__ = ["NO_THERAPIST", "ProgramExport", "SESSIONS_PER_WEEK", "check_participants", "fig_attendance",
           "fig_fidelity", "program_results", "program_section", "read_program_export", "therapist_of"]
