"""The trial's imaging data as a BIDS-derivatives folder: what is where, checked before any analysis.

Layout (what ``prt imaging demo`` writes; BIDS 1.9 names, fMRIPrep's for the preprocessed rest)::

    participants.tsv            participant_id, arm (prt/placebo/usual_care), age, sex (male/female)
    masks/space-<S>_desc-localizer_dseg.nii.gz  + masks/desc-localizer_dseg.tsv (index, name)
    masks/space-<S>_desc-targets_dseg.nii.gz    + masks/desc-targets_dseg.tsv   (S1 and midline DMN)
    sub-<id>/ses-<pre|post>/func/
        sub-<id>_ses-<ses>_task-evokedpain_space-<S>_desc-intensity_effect.nii.gz  first-level map:
            the evoked-pain effect per unit of stimulus intensity (parametric slope), 3-D
        sub-<id>_ses-<ses>_task-evokedpain_events.tsv   onset, duration, trial_type, intensity, rating
        sub-<id>_ses-<ses>_task-rest_space-<S>_desc-preproc_bold.nii.gz  preprocessed rest, 4-D
        sub-<id>_ses-<ses>_task-rest_space-<S>_desc-preproc_bold.json    RepetitionTime (s)
        sub-<id>_ses-<ses>_task-rest_events.tsv         onset, duration, trial_type, rating (each minute)

Checks, each an InputError naming the file: a ``sub-*`` folder whose participant is not in
participants.tsv; a participant of the table without a session's file (unless missing sessions are
allowed, when the participant enters with the sessions present and a note says so); two files
matching one pattern; a participants table without the needed columns or with an unknown arm or sex.
Protocol: Ashar et al., JAMA Psychiatry 2022 (fMRI methods, supplement).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from prt.data.csvtext import read_table, source_text
from prt.errors import InputError
from prt.vocabulary import ARMS, SEXES

#: The two scan sessions (pre- and post-treatment), in order.
SESSIONS = ("pre", "post")
#: BIDS task labels of the two scans.
EVOKED_TASK = "evokedpain"
REST_TASK = "rest"
#: Values BIDS uses for "no value" in a TSV.
MISSING = {"", "n/a", "NA", "nan", "NaN"}

_SUBJECT = re.compile(r"^sub-([A-Za-z0-9]+)$")


@dataclass
class Dataset:
    """An imaging dataset folder, its participants and the files of each participant and session.

    ``participants``: one row per participant (index ``participant`` = the BIDS label without
    ``sub-``), columns arm, age, sex. ``files[(participant, session, kind)]`` -> path, for kinds
    ``evoked``, ``evoked_events``, ``rest``, ``rest_events`` present. ``notes``: what was left out.
    """

    root: Path
    participants: pd.DataFrame
    files: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)

    def path(self, participant: str, session: str, kind: str) -> Path | None:
        return self.files.get((participant, session, kind))

    def with_sessions(self, kind: str, sessions=SESSIONS) -> list[str]:
        """Participants having ``kind`` at every session in ``sessions``, in table order."""
        return [p for p in self.participants.index if all(self.path(p, s, kind) for s in sessions)]

    def mask(self, name: str) -> tuple[Path, Path]:
        """The label image and its TSV of ``masks/*desc-<name>_dseg.nii.gz``; InputError if absent."""
        folder = self.root / "masks"
        images = sorted(folder.glob(f"*desc-{name}_dseg.nii*")) if folder.is_dir() else []
        if not images:
            raise InputError(f"{folder}: no mask image matching *desc-{name}_dseg.nii.gz")
        if len(images) > 1:
            raise InputError(f"{folder}: more than one mask image matches *desc-{name}_dseg.nii.gz "
                             f"({images[0].name}, {images[1].name})")
        table = folder / f"desc-{name}_dseg.tsv"
        if not table.is_file():
            raise InputError(f"{table}: not found (the names of the labels of {images[0].name})")
        return images[0], table


_PATTERNS = {
    "evoked": f"task-{EVOKED_TASK}_*desc-intensity_effect.nii*",
    "evoked_events": f"task-{EVOKED_TASK}_events.tsv",
    "rest": f"task-{REST_TASK}_*desc-preproc_bold.nii*",
    "rest_events": f"task-{REST_TASK}_events.tsv",
}


def read_tsv(path, what: str) -> pd.DataFrame:
    """A BIDS TSV as text cells (``n/a`` kept as text); errors name the file."""
    text, name = source_text(path, what)
    return read_table(text, f"{what} {name}")


def numbers(frame: pd.DataFrame, column: str, where: str, allow_missing: bool = True) -> np.ndarray:
    """A TSV column as floats (``n/a`` -> NaN); InputError naming the file, column and line."""
    if column not in frame.columns:
        raise InputError(f"{where}: no column {column!r} (columns: {', '.join(frame.columns)})")
    out = np.empty(len(frame))
    for i, cell in enumerate(frame[column].tolist()):
        if cell in MISSING:
            if not allow_missing:
                raise InputError(f"{where}: row {i + 1}, {column} is missing")
            out[i] = np.nan
            continue
        try:
            out[i] = float(cell)
        except ValueError:
            raise InputError(f"{where}: row {i + 1}, {column} is not a number") from None
        if not np.isfinite(out[i]):
            raise InputError(f"{where}: row {i + 1}, {column} is not a finite number")
    return out


def read_participants(path: Path) -> pd.DataFrame:
    """participants.tsv -> frame indexed by participant (label without ``sub-``): arm, age, sex."""
    where = f"participants table {path}"
    frame = read_tsv(path, "participants table")
    for column in ("participant_id", "arm", "age", "sex"):
        if column not in frame.columns:
            raise InputError(f"{where}: no column {column!r}; expected participant_id, arm, age, sex")
    ids = []
    for i, raw in enumerate(frame["participant_id"].tolist()):
        match = _SUBJECT.match(raw)
        if not match:
            raise InputError(f"{where}: row {i + 1}, participant_id is not of the form sub-<label> (letters and "
                             "digits)")
        ids.append(match.group(1))
    if len(set(ids)) != len(ids):
        dup = next(p for p in ids if ids.count(p) > 1)
        raise InputError(f"{where}: participant sub-{dup} is listed more than once")
    arms = frame["arm"].tolist()
    sexes = frame["sex"].tolist()
    for i, (arm, sex) in enumerate(zip(arms, sexes)):
        if arm not in ARMS:
            raise InputError(f"{where}: sub-{ids[i]}, arm is not one of {', '.join(ARMS)}")
        if sex not in SEXES:
            raise InputError(f"{where}: sub-{ids[i]}, sex is not one of {', '.join(SEXES)}")
    age = numbers(frame, "age", where, allow_missing=False)
    return pd.DataFrame({"arm": arms, "age": age, "sex": sexes}, index=pd.Index(ids, name="participant"))


def open_dataset(root, *, kinds=("evoked", "evoked_events", "rest", "rest_events"),
                 allow_missing_sessions: bool = False) -> Dataset:
    """Index a dataset folder (layout in the module docstring); every check names the file.

    Only ``kinds`` are looked for. Without ``allow_missing_sessions`` a participant of the table
    lacking a file of a kind at a session is an error naming the expected file; with it the
    participant enters with what is present and ``notes`` says what is missing.
    """
    root = Path(root)
    if not root.is_dir():
        raise InputError(f"dataset {root}: not a folder")
    table = root / "participants.tsv"
    if not table.is_file():
        raise InputError(f"dataset {root}: no participants.tsv (participant_id, arm, age, sex)")
    participants = read_participants(table)
    for folder in sorted(root.glob("sub-*")):
        match = _SUBJECT.match(folder.name)
        if folder.is_dir() and match and match.group(1) not in participants.index:
            raise InputError(f"{folder}: participant {folder.name} is not in {table}")
    dataset = Dataset(root=root, participants=participants)
    missing = []
    for participant in participants.index:
        for session in SESSIONS:
            func = root / f"sub-{participant}" / f"ses-{session}" / "func"
            stem = f"sub-{participant}_ses-{session}_"
            for kind in kinds:
                found = sorted(func.glob(stem + _PATTERNS[kind])) if func.is_dir() else []
                if len(found) > 1:
                    raise InputError(f"{func}: more than one file matches {stem}{_PATTERNS[kind]} "
                                     f"({found[0].name}, {found[1].name})")
                if found:
                    dataset.files[(participant, session, kind)] = found[0]
                else:
                    missing.append((participant, session, kind, func / (stem + _PATTERNS[kind])))
    if missing:
        participant, session, kind, expected = missing[0]
        if not allow_missing_sessions:
            more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
            raise InputError(f"{expected}: not found for participant sub-{participant}, session {session}{more}; "
                             "add it, remove the participant from participants.tsv, or allow missing sessions "
                             "(--allow-missing-sessions)")
        for participant, session, kind, _ in missing:
            dataset.notes.append(f"sub-{participant}: no {kind.replace('_', ' ')} at {session}")
    return dataset


def read_label_names(path: Path, labels_present) -> dict[int, str]:
    """``index -> name`` from a dseg TSV; InputError for a label of the image the table lacks."""
    where = f"label table {path}"
    frame = read_tsv(path, "label table")
    index = numbers(frame, "index", where, allow_missing=False)
    if "name" not in frame.columns:
        raise InputError(f"{where}: no column 'name'")
    names = {int(i): str(n) for i, n in zip(index, frame["name"].tolist())}
    for label in labels_present:
        if int(label) not in names:
            raise InputError(f"{where}: label {int(label)} of the image has no name")
    return names


__all__ = ["Dataset", "EVOKED_TASK", "REST_TASK", "SESSIONS", "numbers", "open_dataset", "read_label_names",
           "read_participants", "read_tsv"]
