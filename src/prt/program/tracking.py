"""Somatic tracking and home practice: the timed guided sequence, which tool at which pain, the log.

Somatic tracking (component 3; protocol notes, "The PRT program as delivered") is mindful
attention to the sensation, safety reappraisal and positive affect, practised seated and then
during feared movements. The curriculum declares the guided sequence with each phase's seconds
(``somatic_tracking.phases``); :func:`tracking_cues` lays it on a timeline and :func:`phase_at`
says which cue is on at a moment, for a player in the web app.

Whether to track at a given moment depends on the pain level (protocol notes, home practice);
:func:`tool_for_pain` applies the curriculum's cut-off (``tool_by_pain.high_from``, 7 by default:
prt's, not the trial's): at or above it, calm the system first; below it, track.

Each home practice is a :class:`Practice`: the day, the assignment, minutes, and for somatic
tracking the pain and fear ratings (0-10) before and after. :func:`summarize_practice` gives the
minutes, days and mean changes that the REDCap export and the therapist's view show.

>>> [(c.phase, c.start, c.end) for c in tracking_cues()]
[('attend', 0, 120), ('reappraise', 120, 210), ('positive', 210, 300)]
>>> tool_for_pain(7).tool, tool_for_pain(6).tool
('calm_first', 'somatic_tracking')
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from prt.errors import InputError
from prt.program._spec import Spec
from prt.program.curriculum import Curriculum, default_curriculum

#: Settings a tracking practice may name (protocol: seated first, then during feared movements).
SETTINGS = ("seated", "movement")
RATINGS = ("pain_before", "pain_after", "fear_before", "fear_after")
#: Longest single practice recorded (minutes).
MAX_MINUTES = 240


@dataclass(frozen=True)
class Cue:
    """One phase of the guided sequence on the timeline (seconds from the start)."""

    phase: str
    title: str
    cue: str
    start: int
    end: int


def tracking_cues(curriculum: Curriculum | None = None) -> tuple[Cue, ...]:
    """The guided sequence as consecutive cues: each starts where the previous ended."""
    curriculum = curriculum or default_curriculum()
    out, at = [], 0
    for phase in curriculum.tracking.phases:
        out.append(Cue(phase.id, phase.title, phase.cue, at, at + phase.seconds))
        at += phase.seconds
    return tuple(out)


def phase_at(seconds: float, curriculum: Curriculum | None = None) -> Cue | None:
    """The cue on at ``seconds`` from the start (a phase owns [start, end)); None once it is over."""
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not seconds >= 0:
        raise InputError("seconds: expected a number of seconds >= 0")
    for cue in tracking_cues(curriculum):
        if cue.start <= seconds < cue.end:
            return cue
    return None


@dataclass(frozen=True)
class ToolAdvice:
    """Which tool to use at a pain level, and why (the rule's source)."""

    pain: int
    high: bool
    tool: str
    title: str
    summary: str
    rule: str


def tool_for_pain(pain: int, curriculum: Curriculum | None = None) -> ToolAdvice:
    """The curriculum's tool for pain ``pain`` (0-10): ``high`` at or above ``high_from``."""
    curriculum = curriculum or default_curriculum()
    level = Spec("pain level").integer_value(pain, "pain", 0, 10)
    plan = curriculum.tracking
    high = level >= plan.high_pain_from
    tool = plan.high if high else plan.low
    return ToolAdvice(level, high, tool.tool, tool.title, tool.summary, plan.source)


@dataclass(frozen=True)
class Practice:
    """One home practice as the patient logged it."""

    day: date
    assignment: str
    minutes: int
    pain_before: int | None = None
    pain_after: int | None = None
    fear_before: int | None = None
    fear_after: int | None = None
    setting: str | None = None

    @property
    def pain_change(self) -> int | None:
        """After minus before (negative: the pain eased)."""
        return None if self.pain_before is None or self.pain_after is None else self.pain_after - self.pain_before

    @property
    def fear_change(self) -> int | None:
        return None if self.fear_before is None or self.fear_after is None else self.fear_after - self.fear_before

    @classmethod
    def from_dict(cls, data: Any, curriculum: Curriculum | None = None, source: str = "practice") -> "Practice":
        """Validate one logged practice against the curriculum's assignments.

        A somatic-tracking practice needs all four ratings (the protocol's before/after pain and
        fear, 0-10); for other kinds they are optional, given in before/after pairs.
        """
        curriculum = curriculum or default_curriculum()
        s = Spec(source)
        data = s.keys(data, "", required=("day", "assignment", "minutes"), optional=(*RATINGS, "setting"))
        known = [a.id for a in curriculum.assignments]
        assignment = s.ident(data, "assignment", "")
        if assignment not in known:
            raise s.fail("assignment", f"unknown assignment; known: {', '.join(known)}")
        kind = curriculum.assignment(assignment).kind
        tracking = kind == "somatic_tracking"
        ratings = {key: s.integer(data, key, "", 0, 10, required=tracking) for key in RATINGS}
        for what in ("pain", "fear"):
            if (ratings[f"{what}_before"] is None) != (ratings[f"{what}_after"] is None):
                raise s.fail(f"{what}_after", f"give {what} before and after together, or neither")
        setting = s.text(data, "setting", "", required=False) or None
        if setting is not None and setting not in SETTINGS:
            raise s.fail("setting", f"expected one of {', '.join(SETTINGS)}")
        return cls(day=s.day(data, "day", ""), assignment=assignment,
                   minutes=s.integer(data, "minutes", "", 1, MAX_MINUTES), setting=setting, **ratings)

    def to_dict(self) -> dict[str, Any]:
        out = {"day": self.day.isoformat(), "assignment": self.assignment, "minutes": self.minutes}
        out.update({k: getattr(self, k) for k in (*RATINGS, "setting") if getattr(self, k) is not None})
        return out


@dataclass(frozen=True)
class AssignmentPractice:
    id: str
    practices: int
    minutes: int


@dataclass(frozen=True)
class PracticeSummary:
    """Totals of a patient's logged practice; mean changes are after minus before (None: no pairs)."""

    practices: int
    minutes: int
    days: int
    by_assignment: tuple[AssignmentPractice, ...]
    rated: int
    mean_pain_change: float | None
    mean_fear_change: float | None

    def to_dict(self) -> dict[str, Any]:
        return {"practices": self.practices, "minutes": self.minutes, "days": self.days, "rated": self.rated,
                "mean_pain_change": self.mean_pain_change, "mean_fear_change": self.mean_fear_change,
                "by_assignment": {a.id: {"practices": a.practices, "minutes": a.minutes} for a in self.by_assignment}}


def summarize_practice(practices: Iterable[Practice]) -> PracticeSummary:
    """Count practices, minutes and distinct days; mean pain and fear change over rated practices."""
    practices = list(practices)
    for p in practices:
        if not isinstance(p, Practice):
            raise InputError("practices: expected Practice records (Practice.from_dict)")
    by: dict[str, list[int]] = {}
    for p in practices:
        by.setdefault(p.assignment, []).append(p.minutes)
    pain = [p.pain_change for p in practices if p.pain_change is not None]
    fear = [p.fear_change for p in practices if p.fear_change is not None]
    return PracticeSummary(
        practices=len(practices), minutes=sum(p.minutes for p in practices),
        days=len({p.day for p in practices}),
        by_assignment=tuple(AssignmentPractice(a, len(m), sum(m)) for a, m in sorted(by.items())),
        rated=len(pain),
        mean_pain_change=round(statistics.fmean(pain), 4) if pain else None,
        mean_fear_change=round(statistics.fmean(fear), 4) if fear else None)


__all__ = ["AssignmentPractice", "Cue", "Practice", "PracticeSummary", "RATINGS", "SETTINGS", "ToolAdvice",
           "phase_at", "summarize_practice", "tool_for_pain", "tracking_cues"]
