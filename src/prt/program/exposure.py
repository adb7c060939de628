"""Graded exposure: a personal hierarchy of feared movements, logged attempts, and the next step.

Somatic tracking is practised during feared postures or movements (protocol notes, component 3),
and home practice includes moving in feared ways, though a therapist may advise holding off an
activity that is too painful or frightening. prt keeps this as:

- a :class:`Hierarchy`: the patient's feared movements, each with a fear rating (0-10), ordered
  from least to most feared (ties keep the patient's order);
- :class:`ExposureAttempt` records: the day, the pain and fear expected beforehand and those
  actually felt (0-10);
- :func:`exposure_progress`: the curriculum's declared rule (``exposure``; prt's, the trial
  published none). A step is mastered when its last ``attempts`` (2) attempts each had actual fear
  at or below ``max(fear_floor, fear_fraction x the step's rated fear)`` (2, 0.5). The current step
  is the least-feared step not yet mastered. Suggestion: ``hold_off`` when the latest attempt had
  pain or fear at or above ``hold_off_at`` (8) - the therapist reviews, and the highest mastered
  step below is offered instead; otherwise ``complete`` when every step is mastered, ``start``
  before any attempt, ``advance`` when fear has fallen on the step below and the current step is
  untried, else ``repeat``.

Movements are the patient's words: they never appear in messages or summaries (step ids do).

>>> h = Hierarchy.from_dict({"steps": [{"id": "bend", "movement": "bending to the floor", "fear": 6},
...                                    {"id": "walk", "movement": "a 10-minute walk", "fear": 3}]})
>>> [step.id for step in h.steps]
['walk', 'bend']
>>> tries = [ExposureAttempt.from_dict({"step": "walk", "day": d, "expected_pain": 5, "actual_pain": 3,
...                                     "expected_fear": 4, "actual_fear": 2}, h)
...          for d in ("2026-03-02", "2026-03-04")]
>>> progress = exposure_progress(h, tries)
>>> progress.suggestion, progress.step, progress.mastered
('advance', 'bend', 1)
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from prt.errors import InputError
from prt.program._spec import CODE, Spec, name, unique
from prt.program.curriculum import Curriculum, default_curriculum

SUGGESTIONS = ("start", "repeat", "advance", "hold_off", "complete")
#: Most steps a hierarchy holds, and the longest description of a movement (characters).
MAX_STEPS = 30
MAX_MOVEMENT = 200


@dataclass(frozen=True)
class ExposureStep:
    id: str
    movement: str
    fear: int


@dataclass(frozen=True)
class Hierarchy:
    """Feared movements from least to most feared (ties in the order given)."""

    steps: tuple[ExposureStep, ...]

    @classmethod
    def from_dict(cls, data: Any, source: str = "exposure hierarchy") -> "Hierarchy":
        """``{"steps": [{"id", "movement", "fear"}, ...]}``; ids are short codes, fear 0-10."""
        s = Spec(source)
        data = s.keys(data, "", required=("steps",))
        steps = []
        for i, raw in enumerate(s.items(data, "steps", "", minimum=1, maximum=MAX_STEPS)):
            path = f"steps[{i}]"
            entry = s.keys(raw, path, required=("id", "movement", "fear"))
            steps.append(ExposureStep(s.ident(entry, "id", path, pattern=CODE),
                                      s.text(entry, "movement", path, maximum=MAX_MOVEMENT),
                                      s.integer(entry, "fear", path, 0, 10)))
        twice = unique(step.id for step in steps)
        if twice:
            raise s.fail("steps", f"step id {name(twice[0])} is given more than once")
        return cls(tuple(sorted(steps, key=lambda step: step.fear)))  # sorted() is stable

    def step(self, step_id: str) -> ExposureStep:
        for step in self.steps:
            if step.id == step_id:
                return step
        raise InputError(f"exposure hierarchy: no step {name(step_id)}")

    def to_dict(self) -> dict[str, Any]:
        return {"steps": [{"id": s.id, "movement": s.movement, "fear": s.fear} for s in self.steps]}


@dataclass(frozen=True)
class ExposureAttempt:
    """One try at a step: pain and fear expected beforehand and actually felt (0-10)."""

    step: str
    day: date
    expected_pain: int
    actual_pain: int
    expected_fear: int
    actual_fear: int

    @property
    def pain_surprise(self) -> int:
        """Expected minus actual pain: positive when it hurt less than feared (the prediction failed)."""
        return self.expected_pain - self.actual_pain

    @property
    def fear_surprise(self) -> int:
        return self.expected_fear - self.actual_fear

    @classmethod
    def from_dict(cls, data: Any, hierarchy: Hierarchy, source: str = "exposure attempt") -> "ExposureAttempt":
        s = Spec(source)
        data = s.keys(data, "", required=("step", "day", "expected_pain", "actual_pain", "expected_fear",
                                          "actual_fear"))
        step = s.ident(data, "step", "", pattern=CODE)
        if step not in {st.id for st in hierarchy.steps}:
            raise s.fail("step", f"no step {name(step)} in the hierarchy")
        ratings = {key: s.integer(data, key, "", 0, 10)
                   for key in ("expected_pain", "actual_pain", "expected_fear", "actual_fear")}
        return cls(step=step, day=s.day(data, "day", ""), **ratings)

    def to_dict(self) -> dict[str, Any]:
        return {"step": self.step, "day": self.day.isoformat(), "expected_pain": self.expected_pain,
                "actual_pain": self.actual_pain, "expected_fear": self.expected_fear, "actual_fear": self.actual_fear}


@dataclass(frozen=True)
class StepProgress:
    id: str
    fear: int
    threshold: float
    attempts: int
    mastered: bool
    last_fear: int | None


@dataclass(frozen=True)
class ExposureProgress:
    """Where a patient stands in their hierarchy and what to try next (ids and numbers only)."""

    suggestion: str
    step: str | None
    current: str | None
    reason: str
    steps: tuple[StepProgress, ...]
    attempts: int
    mastered: int
    mean_pain_surprise: float | None
    mean_fear_surprise: float | None
    rule: str

    def to_dict(self) -> dict[str, Any]:
        return {"suggestion": self.suggestion, "step": self.step, "current": self.current, "reason": self.reason,
                "attempts": self.attempts, "mastered": self.mastered,
                "mean_pain_surprise": self.mean_pain_surprise, "mean_fear_surprise": self.mean_fear_surprise,
                "steps": [vars(p) for p in self.steps], "rule": self.rule}


def exposure_progress(hierarchy: Hierarchy, attempts: Iterable[ExposureAttempt],
                      curriculum: Curriculum | None = None) -> ExposureProgress:
    """Apply the curriculum's progression rule (module docstring) to a hierarchy and its attempts."""
    rule = (curriculum or default_curriculum()).exposure
    attempts = list(attempts)
    known = {step.id for step in hierarchy.steps}
    for attempt in attempts:
        if not isinstance(attempt, ExposureAttempt) or attempt.step not in known:
            raise InputError("exposure attempts: expected ExposureAttempt records of steps in the hierarchy")
    attempts.sort(key=lambda a: a.day)  # stable: same-day attempts keep their logged order
    by_step: dict[str, list[ExposureAttempt]] = {step.id: [] for step in hierarchy.steps}
    for attempt in attempts:
        by_step[attempt.step].append(attempt)
    progress = []
    for step in hierarchy.steps:
        tries, threshold = by_step[step.id], rule.threshold(step.fear)
        recent = tries[-rule.attempts:]
        mastered = len(recent) == rule.attempts and all(a.actual_fear <= threshold for a in recent)
        progress.append(StepProgress(step.id, step.fear, threshold, len(tries), mastered,
                                     tries[-1].actual_fear if tries else None))
    index = {p.id: i for i, p in enumerate(progress)}
    current = next((p for p in progress if not p.mastered), None)
    last = attempts[-1] if attempts else None
    if last is not None and max(last.actual_pain, last.actual_fear) >= rule.hold_off_at:
        below = [p for p in progress[:index[last.step]] if p.mastered]
        fallback = below[-1].id if below else None
        suggestion, step = "hold_off", fallback
        reason = (f"the latest attempt (step {last.step}) reached {max(last.actual_pain, last.actual_fear)}/10 "
                  f"pain or fear (hold off at {rule.hold_off_at}): hold off that step until the therapist reviews it"
                  + (f"; practise step {fallback} meanwhile" if fallback else ""))
    elif current is None:
        suggestion, step, reason = "complete", None, "every step of the hierarchy is mastered"
    elif not attempts:
        suggestion, step = "start", current.id
        reason = f"no attempts yet: start with the least-feared step, {current.id}"
    elif current.attempts == 0 and index[current.id] > 0:
        below = progress[index[current.id] - 1]
        suggestion, step = "advance", current.id
        reason = f"fear has fallen on step {below.id} (mastered): move up to step {current.id}"
    elif current.attempts == 0:
        suggestion, step = "start", current.id
        reason = f"step {current.id}, the least-feared not yet mastered, has no attempts yet"
    else:
        recent = by_step[current.id][-rule.attempts:]
        low = sum(1 for a in recent if a.actual_fear <= current.threshold)
        suggestion, step = "repeat", current.id
        reason = (f"step {current.id}: {low} of the last {len(recent)} attempts had fear at or below "
                  f"{current.threshold:g} ({rule.attempts} needed in a row): keep practising it")
    return ExposureProgress(
        suggestion=suggestion, step=step, current=current.id if current else None, reason=reason,
        steps=tuple(progress), attempts=len(attempts), mastered=sum(p.mastered for p in progress),
        mean_pain_surprise=round(statistics.fmean(a.pain_surprise for a in attempts), 4) if attempts else None,
        mean_fear_surprise=round(statistics.fmean(a.fear_surprise for a in attempts), 4) if attempts else None,
        rule=rule.source)


__all__ = ["ExposureAttempt", "ExposureProgress", "ExposureStep", "Hierarchy", "MAX_MOVEMENT", "MAX_STEPS",
           "StepProgress", "SUGGESTIONS", "exposure_progress"]
