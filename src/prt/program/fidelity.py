"""Treatment fidelity: session ratings, their statistics beside the trial's, and the raters' sample.

The trial's independent raters coded audio of 2 random sessions from half the PRT patients,
present or absent, for six elements (education on brain origins and reversibility; gathering
personal evidence; somatic tracking; processing difficult emotions and stressors; generating
positive states; prescribing or reviewing home practice). A session's score is the number present
(0-6); the trial reported mean 4.93 (SD 0.87), minimum 3 (protocol notes, "Fidelity"). The
elements, the reference and the sampling fractions are declared in the curriculum (``fidelity``).

- :class:`SessionRating` - one rater's coding of one session; :func:`read_ratings` reads a CSV
  (``therapist, participant, session, rater, <element ids>``; cells 1/0, yes/no, present/absent).
- :func:`fidelity_summary` - mean, SD (sample, n - 1), minimum and maximum over all ratings, per
  therapist and per patient, the share of sessions with each element, and the sessions below the
  trial's minimum, with the reference beside them.
- :func:`fidelity_sample` - which sessions to rate, drawn reproducibly from a seed: participants
  ranked by SHA-256 of (method, seed, participant), the first ``ceil(fraction x eligible)`` taken
  (half rounded up); within each, sessions ranked by SHA-256 of (method, seed, participant,
  session), the first ``sessions_per_patient`` taken (all when fewer were recorded). A hash rank
  does not depend on the order of the input or on Python's random module, so anyone with the seed
  and the recorded sessions redraws the same sample (:func:`verify_sample`).

Hand-checkable: scores 6, 5, 4, 5, 3 have mean 4.6 and SD sqrt(5.2 / 4) = 1.1402.

>>> ratings = [SessionRating("T1", f"P{i}", 2, "R1", present) for i, present in enumerate(
...     [("education", "evidence", "somatic_tracking", "emotions", "positive_states", "home_practice"),
...      ("education", "evidence", "somatic_tracking", "emotions", "home_practice"),
...      ("education", "evidence", "somatic_tracking", "home_practice"),
...      ("education", "somatic_tracking", "positive_states", "emotions", "home_practice"),
...      ("education", "somatic_tracking", "home_practice")])]
>>> summary = fidelity_summary(ratings)
>>> summary.overall.mean, round(summary.overall.sd, 4), summary.overall.minimum
(4.6, 1.1402, 3)
"""

from __future__ import annotations

import hashlib
import json
import math
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from prt.errors import InputError
from prt.files import CONTROL
from prt.program._spec import CODE, Spec, name
from prt.program.curriculum import Curriculum, FidelityReference, default_curriculum

#: Columns of a ratings CSV besides one per element (``rater`` may be left out).
RATING_COLUMNS = ("therapist", "participant", "session", "rater")
_PRESENT = {"1": True, "yes": True, "y": True, "true": True, "present": True,
            "0": False, "no": False, "n": False, "false": False, "absent": False}
SAMPLE_METHOD = "prt-fidelity-sample-v1"


@dataclass(frozen=True)
class SessionRating:
    """One rater's coding of one session: the elements present (every element is rated)."""

    therapist: str
    participant: str
    session: int
    rater: str
    present: tuple[str, ...]

    @property
    def score(self) -> int:
        return len(self.present)

    @classmethod
    def from_dict(cls, data: Any, curriculum: Curriculum | None = None, source: str = "fidelity rating"
                  ) -> "SessionRating":
        """``{therapist, participant, session, rater?, elements: {id: true/false}}``, every element rated."""
        curriculum = curriculum or default_curriculum()
        s = Spec(source)
        data = s.keys(data, "", required=("therapist", "participant", "session", "elements"), optional=("rater",))
        ids = [e.id for e in curriculum.fidelity.elements]
        marks = s.keys(data["elements"], "elements", required=ids)
        present = tuple(e for e in ids if s.boolean(marks, e, "elements"))
        rater = "" if data.get("rater") in ("", None) else s.ident(data, "rater", "", pattern=CODE)
        return cls(therapist=s.ident(data, "therapist", "", pattern=CODE),
                   participant=_participant(s, data.get("participant"), "participant"),
                   session=s.integer(data, "session", "", 1, len(curriculum.sessions)), rater=rater, present=present)

    def to_dict(self, curriculum: Curriculum | None = None) -> dict[str, Any]:
        ids = [e.id for e in (curriculum or default_curriculum()).fidelity.elements]
        return {"therapist": self.therapist, "participant": self.participant, "session": self.session,
                "rater": self.rater, "elements": {e: e in self.present for e in ids}}


def _participant(s: Spec, value: Any, key: str) -> str:
    """A participant id as the trial's logs keep it (:func:`prt.trial.inputs.participant_id`)."""
    from prt.trial.inputs import participant_id

    if not isinstance(value, str):
        raise s.fail(key, "expected a participant id (text)")
    return participant_id(value, f"{s.source}: key '{key}'")


def ratings_from_rows(records: Iterable[Mapping[str, str]], columns: Iterable[str], source: str,
                      curriculum: Curriculum | None = None, rows: Iterable[int] | None = None
                      ) -> tuple[SessionRating, ...]:
    """Ratings from CSV records (all cells text); errors name ``source``, the row and the column."""
    curriculum = curriculum or default_curriculum()
    ids = [e.id for e in curriculum.fidelity.elements]
    columns = list(columns)
    unknown = [c for c in columns if c not in RATING_COLUMNS and c not in ids]
    if unknown:
        raise InputError(f"{source}: unknown column {name(unknown[0])}; expected {', '.join(RATING_COLUMNS)} "
                         f"and one column per element: {', '.join(ids)}")
    missing = [c for c in ("therapist", "participant", "session", *ids) if c not in columns]
    if missing:
        raise InputError(f"{source}: no column {', '.join(missing)} (one column per fidelity element)")
    out, seen = [], {}
    records = list(records)
    rows = list(rows) if rows is not None else list(range(2, len(records) + 2))
    for row, record in zip(rows, records):
        where = f"{source} row {row}"
        marks = {}
        for e in ids:
            cell = record.get(e, "").strip().lower()
            if cell not in _PRESENT:
                raise InputError(f"{where}, column {e!r}: expected 1/0, yes/no or present/absent")
            marks[e] = _PRESENT[cell]
        session = record.get("session", "").strip()
        spec = {"therapist": record.get("therapist", "").strip(), "participant": record.get("participant", ""),
                "session": int(session) if session.isascii() and session.isdigit() and len(session) < 4 else session,
                "elements": marks}
        if record.get("rater", "").strip():
            spec["rater"] = record["rater"].strip()
        rating = SessionRating.from_dict(spec, curriculum, where)
        key = (rating.participant, rating.session, rating.rater)
        if key in seen:
            by = f"by {rating.rater!r} " if rating.rater else ""
            raise InputError(f"{where}: participant {rating.participant!r} session {rating.session} is rated "
                             f"{by}again (first in row {seen[key]})")
        seen[key] = row
        out.append(rating)
    if not out:
        raise InputError(f"{source}: no ratings (a header but no rows)")
    return tuple(out)


def read_ratings(path, curriculum: Curriculum | None = None) -> tuple[SessionRating, ...]:
    """Read a ratings CSV strictly (prt.trial.inputs.read_csv: encodings, duplicate columns, row numbers)."""
    from prt.trial.inputs import read_csv

    table = read_csv(path, "fidelity ratings")
    return ratings_from_rows(table.records, table.columns, table.source, curriculum, table.rows)


@dataclass(frozen=True)
class GroupFidelity:
    """Scores of a group of rated sessions; ``sd`` is None for one session."""

    name: str
    sessions: int
    mean: float
    sd: float | None
    minimum: int
    maximum: int
    below_minimum: int


@dataclass(frozen=True)
class ElementRate:
    id: str
    title: str
    present: int
    rated: int

    @property
    def share(self) -> float:
        return self.present / self.rated


@dataclass(frozen=True)
class FidelitySummary:
    overall: GroupFidelity
    therapists: tuple[GroupFidelity, ...]
    participants: tuple[GroupFidelity, ...]
    elements: tuple[ElementRate, ...]
    below_minimum: tuple[SessionRating, ...]
    reference: FidelityReference
    elements_total: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "elements_total": self.elements_total, "overall": vars(self.overall),
            "reference": vars(self.reference),
            "therapists": [vars(g) for g in self.therapists], "participants": [vars(g) for g in self.participants],
            "elements": [{"id": e.id, "title": e.title, "present": e.present, "rated": e.rated,
                          "share": round(e.share, 4)} for e in self.elements],
            "below_minimum": [{"participant": r.participant, "session": r.session, "rater": r.rater,
                               "therapist": r.therapist, "score": r.score} for r in self.below_minimum],
        }


def _group(label: str, scores: list[int], minimum: int) -> GroupFidelity:
    return GroupFidelity(label, len(scores), statistics.fmean(scores),
                         statistics.stdev(scores) if len(scores) > 1 else None, min(scores), max(scores),
                         sum(1 for x in scores if x < minimum))


def fidelity_summary(ratings: Iterable[SessionRating], curriculum: Curriculum | None = None) -> FidelitySummary:
    """Statistics of the ratings (module docstring) with the trial's reference beside them."""
    plan = (curriculum or default_curriculum()).fidelity
    ratings = list(ratings)
    if not ratings:
        raise InputError("fidelity ratings: none given")
    ids = {e.id for e in plan.elements}
    for r in ratings:
        if not isinstance(r, SessionRating) or not set(r.present) <= ids:
            raise InputError("fidelity ratings: expected SessionRating records of this curriculum's elements")
    minimum = plan.reference.minimum
    by_therapist: dict[str, list[int]] = {}
    by_participant: dict[str, list[int]] = {}
    for r in ratings:
        by_therapist.setdefault(r.therapist, []).append(r.score)
        by_participant.setdefault(r.participant, []).append(r.score)
    return FidelitySummary(
        overall=_group("all", [r.score for r in ratings], minimum),
        therapists=tuple(_group(t, s, minimum) for t, s in sorted(by_therapist.items())),
        participants=tuple(_group(p, s, minimum) for p, s in sorted(by_participant.items())),
        elements=tuple(ElementRate(e.id, e.title, sum(e.id in r.present for r in ratings), len(ratings))
                       for e in plan.elements),
        below_minimum=tuple(sorted((r for r in ratings if r.score < minimum),
                                   key=lambda r: (r.participant, r.session, r.rater))),
        reference=plan.reference, elements_total=len(plan.elements))


# ------------------------------------------------------------------------------------ the raters' sample
@dataclass(frozen=True)
class FidelitySample:
    """The sessions to rate and everything needed to log and redraw them."""

    method: str
    seed: int | str
    patient_fraction: float
    sessions_per_patient: int
    eligible: dict[str, tuple[int, ...]]
    inputs_sha256: str
    participants: tuple[str, ...]
    sessions: tuple[tuple[str, int], ...]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready record for the audit trail; :func:`verify_sample` checks it later."""
        return {"method": self.method, "seed": self.seed, "patient_fraction": self.patient_fraction,
                "sessions_per_patient": self.sessions_per_patient,
                "eligible": {p: list(s) for p, s in self.eligible.items()}, "inputs_sha256": self.inputs_sha256,
                "participants": list(self.participants), "sessions": [list(x) for x in self.sessions]}


def _rank(*parts: Any) -> str:
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode("utf-8")).hexdigest()


def _seed(value: Any) -> int | str:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise InputError("fidelity sample: seed: expected a whole number >= 0 or a short text")
    if isinstance(value, int):
        if value < 0:
            raise InputError("fidelity sample: seed: expected a whole number >= 0 or a short text")
        return value
    value = value.strip()
    if not value or len(value) > 100 or CONTROL.search(value):
        raise InputError("fidelity sample: seed: expected one line of 1-100 characters")
    return value


def fidelity_sample(sessions: Mapping[str, Iterable[int]], seed: int | str, curriculum: Curriculum | None = None,
                    *, patient_fraction: float | None = None, sessions_per_patient: int | None = None
                    ) -> FidelitySample:
    """Draw the sessions to rate: ``sessions`` maps each PRT participant to the session numbers
    recorded (audio available); participants with none are not eligible. Defaults from the
    curriculum (half the patients, 2 sessions each). Pure: the same inputs give the same sample."""
    curriculum = curriculum or default_curriculum()
    plan = curriculum.fidelity
    s = Spec("fidelity sample")
    fraction = s.number({"patient_fraction": plan.patient_fraction if patient_fraction is None else patient_fraction},
                        "patient_fraction", "", 0, 1, open_low=True)
    per_patient = s.integer({"sessions_per_patient": plan.sessions_per_patient if sessions_per_patient is None
                             else sessions_per_patient}, "sessions_per_patient", "", 1, len(curriculum.sessions))
    seed = _seed(seed)
    if not isinstance(sessions, Mapping):
        raise InputError("fidelity sample: expected a mapping of participant -> recorded session numbers")
    eligible: dict[str, tuple[int, ...]] = {}
    for participant, numbers in sessions.items():
        pid = _participant(s, participant, "participant")
        if pid in eligible:
            raise InputError(f"fidelity sample: participant {pid!r} is given twice")
        if isinstance(numbers, (str, bytes, Mapping)) or not isinstance(numbers, Iterable):
            raise s.fail(f"sessions of {pid}", "expected a list of session numbers")
        recorded = sorted({s.integer_value(n, f"sessions of {pid}", 1, len(curriculum.sessions)) for n in numbers})
        if recorded:
            eligible[pid] = tuple(recorded)
    eligible = dict(sorted(eligible.items()))
    digest = hashlib.sha256(json.dumps({p: list(v) for p, v in eligible.items()}, sort_keys=True,
                                       separators=(",", ":")).encode("utf-8")).hexdigest()
    take = math.ceil(Fraction(str(fraction)) * len(eligible))
    drawn = sorted(sorted(eligible, key=lambda p: _rank(SAMPLE_METHOD, seed, p))[:take])
    chosen = []
    for pid in drawn:
        ranked = sorted(eligible[pid], key=lambda n: _rank(SAMPLE_METHOD, seed, pid, n))[:per_patient]
        chosen.extend((pid, n) for n in sorted(ranked))
    return FidelitySample(SAMPLE_METHOD, seed, fraction, per_patient, eligible, digest, tuple(drawn), tuple(chosen))


def verify_sample(record: Mapping[str, Any], curriculum: Curriculum | None = None) -> FidelitySample:
    """Redraw a logged sample from its own seed and inputs; InputError when anything differs."""
    s = Spec("fidelity sample record")
    record = s.keys(record, "", required=("method", "seed", "patient_fraction", "sessions_per_patient", "eligible",
                                          "inputs_sha256", "participants", "sessions"))
    if record["method"] != SAMPLE_METHOD:
        raise s.fail("method", f"expected {SAMPLE_METHOD} (the only method prt draws with)")
    redrawn = fidelity_sample(s.mapping(record["eligible"], "eligible"), record["seed"], curriculum,
                              patient_fraction=record["patient_fraction"],
                              sessions_per_patient=record["sessions_per_patient"])
    logged = redrawn.to_dict()
    for key in ("inputs_sha256", "participants", "sessions"):
        if record[key] != logged[key]:
            raise s.fail(key, "does not match a redraw from the record's seed and inputs (altered or not prt's)")
    return redrawn


__all__ = ["ElementRate", "FidelitySample", "FidelitySummary", "GroupFidelity", "RATING_COLUMNS", "SAMPLE_METHOD",
           "SessionRating", "fidelity_sample", "fidelity_summary", "ratings_from_rows", "read_ratings",
           "verify_sample"]
