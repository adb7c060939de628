"""The PRT curriculum as data: components, steps, session plans, home practice, control arms.

Why data, not code: a therapist, a trial manager or an ethics committee must be able to read what
is delivered in which session, and a site must be able to adapt it without touching prt. The
packaged curriculum is ``content/curriculum.yaml`` with Markdown handouts beside it (structure from
the trial's protocol: shared/docs/trial-protocol-notes.md, "The PRT program as delivered";
wording prt's own). It is validated whole: a file that breaks a rule is refused with an
:class:`~prt.errors.InputError` naming the file and the key, never half-loaded.

A site adapts it in its own YAML file (``load_curriculum(site=...)``, ``prt program validate``):
entries of a list are matched by their id (``number`` for sessions, ``arm`` for control arms);
the keys given replace those of the entry, a new id adds an entry, ``remove: true`` removes one;
sections (``exposure``, ``evidence.strength`` ...) change only in the keys given; Markdown files
named by a site's ``text`` keys are read beside the site file. The result is validated as a
whole, with errors naming the site file. See docs/program.md.

>>> c = default_curriculum()
>>> [comp.id for comp in c.components]
['education', 'evidence', 'somatic_tracking', 'emotional_threats', 'positive_states']
>>> len(c.sessions), c.session_components(1)
(8, ('education', 'evidence'))
>>> [item.id for item in c.control_arm("usual_care").available(completed=("pre",))]
['continue_usual_care']
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Iterable

from prt.errors import InputError
from prt.files import CONTROL, load_yaml, loads_yaml, read_text
from prt.program._spec import CODE, Spec, join, name, unique
from prt.vocabulary import ARMS, TIMEPOINTS

#: Phases of a component (protocol notes: "education, evidence and somatic tracking first; 4 and 5
#: as needed").
PHASES = ("core", "as_needed")
#: Kinds of home practice (protocol notes, "Home practice": review education material, practise
#: somatic tracking, amplify positive sensations, move in feared ways; plus the evidence sheet,
#: which component 2 asks the patient to keep).
ASSIGNMENT_KINDS = ("review_education", "gather_evidence", "somatic_tracking", "positive_sensations",
                    "feared_movement")
#: Arms whose content the curriculum declares (the PRT arm's content is the curriculum itself).
CONTROL_ARMS = tuple(arm for arm in ARMS if arm != "prt")
#: A Markdown file named by a ``text`` key: a plain name beside the curriculum file (no folders).
TEXT_FILE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,80}\.md")
#: How a site's text file is keyed once merged (so a site's ``education.md`` never shadows prt's).
SITE_TEXT = "site:"
#: Largest Markdown handout read (characters).
MAX_TEXT = 100_000

TOP_KEYS = ("name", "version", "title", "source", "session_minutes", "closing_component", "components",
            "steps", "assignments", "sessions", "evidence", "somatic_tracking", "exposure", "fidelity",
            "physician_evaluation", "control_arms")


# ------------------------------------------------------------------------------------ the model
@dataclass(frozen=True)
class Component:
    """One of the protocol's five components; ``phase`` core (delivered to everyone, first) or
    as_needed (protocol notes, "The PRT program as delivered")."""

    id: str
    number: int
    phase: str
    title: str
    summary: str
    steps: tuple[str, ...]
    text: str = ""
    text_file: str = ""


@dataclass(frozen=True)
class Step:
    """One thing a therapist does within a component; sessions are planned as lists of steps."""

    id: str
    component: str
    title: str
    summary: str
    text: str = ""
    text_file: str = ""


@dataclass(frozen=True)
class Assignment:
    """A home-practice assignment: what, of which kind, and the suggested minutes and days per week."""

    id: str
    kind: str
    title: str
    summary: str
    minutes: int
    per_week: int
    component: str | None = None
    text: str = ""
    text_file: str = ""


@dataclass(frozen=True)
class SessionPlan:
    """One of the individual sessions: the steps planned, those delivered as needed, home practice."""

    number: int
    title: str
    minutes: int
    steps: tuple[str, ...]
    as_needed: tuple[str, ...] = ()
    assignments: tuple[str, ...] = ()
    notes: str = ""


@dataclass(frozen=True)
class Choice:
    """A declared option with an id and a title (an evidence kind, a red flag, a factor ...)."""

    id: str
    title: str
    prompt: str = ""


@dataclass(frozen=True)
class Band:
    minimum: int
    maximum: int
    label: str


@dataclass(frozen=True)
class EvidenceRule:
    """The evidence sheet's kinds and the declared rule that says how strong the evidence is."""

    items: tuple[Choice, ...]
    bands: tuple[Band, ...]
    source: str

    def strength(self, kinds_with_examples: int) -> str:
        for band in self.bands:
            if band.minimum <= kinds_with_examples <= band.maximum:
                return band.label
        raise InputError(f"evidence strength: {kinds_with_examples} kinds is outside the declared bands")


@dataclass(frozen=True)
class TrackingPhase:
    id: str
    title: str
    seconds: int
    cue: str


@dataclass(frozen=True)
class PainTool:
    tool: str
    title: str
    summary: str


@dataclass(frozen=True)
class TrackingPlan:
    """The guided somatic-tracking sequence and which tool to use at high versus low pain."""

    phases: tuple[TrackingPhase, ...]
    high_pain_from: int
    high: PainTool
    low: PainTool
    source: str

    @property
    def seconds(self) -> int:
        return sum(p.seconds for p in self.phases)


@dataclass(frozen=True)
class ExposureRule:
    """When a hierarchy step counts as mastered and when to hold off (see :mod:`prt.program.exposure`)."""

    attempts: int
    fear_fraction: float
    fear_floor: int
    hold_off_at: int
    source: str

    def threshold(self, step_fear: int) -> float:
        """Fear at or below which an attempt counts as 'fear has fallen' for a step rated ``step_fear``."""
        return max(float(self.fear_floor), step_fear * self.fear_fraction)


@dataclass(frozen=True)
class FidelityElement:
    id: str
    number: int
    title: str
    component: str | None = None


@dataclass(frozen=True)
class FidelityReference:
    """The trial's fidelity: elements present per rated session (protocol notes, "Fidelity")."""

    mean: float
    sd: float
    minimum: int
    source: str


@dataclass(frozen=True)
class FidelityPlan:
    elements: tuple[FidelityElement, ...]
    reference: FidelityReference
    patient_fraction: float
    sessions_per_patient: int
    sample_source: str


@dataclass(frozen=True)
class EvaluationPlan:
    """What the physician evaluation records (protocol notes, "Physician evaluation (before PRT)")."""

    red_flags: tuple[Choice, ...]
    education: tuple[Choice, ...]
    factors: tuple[Choice, ...]
    imaging_findings: tuple[Choice, ...]
    source: str


@dataclass(frozen=True)
class ArmItem:
    """One part of a control arm's content; ``release_after`` a timepoint before which it is withheld."""

    id: str
    title: str
    summary: str
    release_after: str | None = None
    text: str = ""
    text_file: str = ""


@dataclass(frozen=True)
class ControlArm:
    """A control arm's content and the schedule event that delivers it (prt.trial.schedule)."""

    arm: str
    title: str
    summary: str
    event: str
    items: tuple[ArmItem, ...]
    text: str = ""
    text_file: str = ""

    def available(self, completed: Iterable[str] = ()) -> tuple[ArmItem, ...]:
        """The items a participant may have once the timepoints in ``completed`` are done.

        Usual care's workbook and website are released after posttreatment (protocol notes,
        "Control arms"), so before ``post`` only "continue usual care" is available.
        """
        done = {completed} if isinstance(completed, str) else set(completed)
        return tuple(item for item in self.items if item.release_after is None or item.release_after in done)


@dataclass(frozen=True)
class Curriculum:
    """The whole program, validated: look things up with :meth:`step`, :meth:`session` ..."""

    name: str
    version: str
    title: str
    source: str
    session_minutes: int
    closing_component: str
    components: tuple[Component, ...]
    steps: tuple[Step, ...]
    assignments: tuple[Assignment, ...]
    sessions: tuple[SessionPlan, ...]
    evidence: EvidenceRule
    tracking: TrackingPlan
    exposure: ExposureRule
    fidelity: FidelityPlan
    evaluation: EvaluationPlan
    control_arms: tuple[ControlArm, ...]
    site: str = ""
    origin: str = field(default="", compare=False)
    _index: dict = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        index = self._index
        index.update({("component", c.id): c for c in self.components})
        index.update({("step", s.id): s for s in self.steps})
        index.update({("assignment", a.id): a for a in self.assignments})
        index.update({("session", s.number): s for s in self.sessions})
        index.update({("arm", a.arm): a for a in self.control_arms})

    def _get(self, kind: str, key: Any, known: Iterable) -> Any:
        try:
            return self._index[(kind, key)]
        except (KeyError, TypeError):
            raise InputError(f"curriculum {self.name}: unknown {kind} {name(key)}; known: "
                             f"{', '.join(str(k) for k in known)}") from None

    def component(self, component_id: str) -> Component:
        return self._get("component", component_id, (c.id for c in self.components))

    def step(self, step_id: str) -> Step:
        return self._get("step", step_id, (s.id for s in self.steps))

    def assignment(self, assignment_id: str) -> Assignment:
        return self._get("assignment", assignment_id, (a.id for a in self.assignments))

    def session(self, number: int) -> SessionPlan:
        return self._get("session", number, (s.number for s in self.sessions))

    def control_arm(self, arm: str) -> ControlArm:
        return self._get("arm", arm, (a.arm for a in self.control_arms))

    def steps_of(self, component_id: str) -> tuple[Step, ...]:
        return tuple(self.step(s) for s in self.component(component_id).steps)

    def session_components(self, number: int, *, as_needed: bool = False) -> tuple[str, ...]:
        """Components a session plans (with ``as_needed``, also those it may add), in component order."""
        plan = self.session(number)
        ids = {self.step(s).component for s in plan.steps + (plan.as_needed if as_needed else ())}
        return tuple(c.id for c in self.components if c.id in ids)

    def assignments_of(self, number: int) -> tuple[Assignment, ...]:
        """The home practice set at the end of session ``number``."""
        return tuple(self.assignment(a) for a in self.session(number).assignments)

    def texts(self) -> dict[str, str]:
        """Every Markdown handout by the name its ``text`` key gives (for :meth:`from_dict`)."""
        out: dict[str, str] = {}
        for thing in (*self.components, *self.steps, *self.assignments, *self.control_arms,
                      *(i for a in self.control_arms for i in a.items)):
            if thing.text_file:
                out[thing.text_file] = thing.text
        return out

    def to_dict(self) -> dict[str, Any]:
        """The curriculum as the YAML declares it (``text`` keys name files; see :meth:`texts`)."""
        def with_text(entry: dict, thing) -> dict:
            if thing.text_file:
                entry["text"] = thing.text_file
            return entry

        out: dict[str, Any] = {
            "name": self.name, "version": self.version, "title": self.title, "source": self.source,
            "session_minutes": self.session_minutes, "closing_component": self.closing_component,
            "components": [with_text({"id": c.id, "number": c.number, "phase": c.phase, "title": c.title,
                                      "summary": c.summary}, c) for c in self.components],
            "steps": [with_text({"id": s.id, "component": s.component, "title": s.title, "summary": s.summary}, s)
                      for s in self.steps],
            "assignments": [with_text({k: v for k, v in {
                "id": a.id, "kind": a.kind, "component": a.component, "title": a.title, "summary": a.summary,
                "minutes": a.minutes, "per_week": a.per_week}.items() if v is not None}, a) for a in self.assignments],
            "sessions": [{k: v for k, v in {
                "number": s.number, "title": s.title,
                "minutes": s.minutes if s.minutes != self.session_minutes else None, "steps": list(s.steps),
                "as_needed": list(s.as_needed), "assignments": list(s.assignments), "notes": s.notes or None,
            }.items() if v is not None} for s in self.sessions],
            "evidence": {
                "items": [_choice_dict(c) for c in self.evidence.items],
                "strength": {"source": self.evidence.source, "bands": [
                    {"min": b.minimum, "max": b.maximum, "label": b.label} for b in self.evidence.bands]},
            },
            "somatic_tracking": {
                "phases": [{"id": p.id, "title": p.title, "seconds": p.seconds, "cue": p.cue}
                           for p in self.tracking.phases],
                "tool_by_pain": {
                    "high_from": self.tracking.high_pain_from, "source": self.tracking.source,
                    "high": {"tool": self.tracking.high.tool, "title": self.tracking.high.title,
                             "summary": self.tracking.high.summary},
                    "low": {"tool": self.tracking.low.tool, "title": self.tracking.low.title,
                            "summary": self.tracking.low.summary}},
            },
            "exposure": {"attempts": self.exposure.attempts, "fear_fraction": self.exposure.fear_fraction,
                         "fear_floor": self.exposure.fear_floor, "hold_off_at": self.exposure.hold_off_at,
                         "source": self.exposure.source},
            "fidelity": {
                "elements": [{k: v for k, v in {"id": e.id, "number": e.number, "title": e.title,
                                                "component": e.component}.items() if v is not None}
                             for e in self.fidelity.elements],
                "reference": {"mean": self.fidelity.reference.mean, "sd": self.fidelity.reference.sd,
                              "minimum": self.fidelity.reference.minimum,
                              "source": self.fidelity.reference.source},
                "sample": {"patient_fraction": self.fidelity.patient_fraction,
                           "sessions_per_patient": self.fidelity.sessions_per_patient,
                           "source": self.fidelity.sample_source},
            },
            "physician_evaluation": {
                "source": self.evaluation.source,
                **{key: [_choice_dict(c) for c in getattr(self.evaluation, key)]
                   for key in ("red_flags", "education", "factors", "imaging_findings")},
            },
            "control_arms": [with_text({
                "arm": a.arm, "title": a.title, "summary": a.summary, "event": a.event,
                "items": [with_text({k: v for k, v in {"id": i.id, "title": i.title, "summary": i.summary,
                                                       "release_after": i.release_after}.items() if v is not None}, i)
                          for i in a.items]}, a) for a in self.control_arms],
        }
        if self.site:
            out["site"] = self.site
        return out

    @classmethod
    def from_dict(cls, spec: Any, source: str = "<dict>", texts: Mapping[str, str] | None = None) -> "Curriculum":
        """Validate a whole curriculum (parsed YAML) and build it; errors name ``source`` and the key.

        ``texts`` maps the names the ``text`` keys give to their Markdown (the loaders read them);
        a name without text is an error. Why all rules here: a session that plans an unknown step or
        skips the protocol's order would be delivered wrongly to every patient (docs/program.md).
        """
        return _parse(spec, source, dict(texts or {}))

    def with_site(self, site: Any, source: str = "site curriculum", texts: Mapping[str, str] | None = None
                  ) -> "Curriculum":
        """This curriculum changed by a site's file (parsed YAML), validated whole.

        ``texts`` maps the Markdown file names the site's ``text`` keys give to their content.
        Errors name ``source``: the base is valid, so any new fault is the site's.
        """
        s = Spec(source)
        site = s.keys(site, "", required=("site",), optional=("version", *SITE_CHANGES))
        site_name = s.ident(site, "site", "", pattern=CODE)
        version = _version(s, site.get("version", 1))
        changes = _site_texts({k: v for k, v in site.items() if k not in ("site", "version")}, s)
        merged = _merge(self.to_dict(), changes, (), s)
        merged.update(name=f"{self.name}+{site_name}", version=f"{self.version}+{site_name}:{version}",
                      site=site_name)
        all_texts = {**self.texts(), **{SITE_TEXT + k: v for k, v in dict(texts or {}).items()}}
        return _parse(merged, source, all_texts)


def _choice_dict(choice: Choice) -> dict[str, str]:
    out = {"id": choice.id, "title": choice.title}
    if choice.prompt:
        out["prompt"] = choice.prompt
    return out


# ------------------------------------------------------------------------------------ validation
def _parse(spec: Any, source: str, texts: dict[str, str]) -> Curriculum:
    s = Spec(source)
    top = s.keys(spec, "", required=TOP_KEYS, optional=("site",))
    version = _version(s, top["version"])
    site = s.text(top, "site", "", required=False)

    def text_of(entry: Mapping, where: str) -> tuple[str, str]:
        ref = s.text(entry, "text", where, required=False)
        if not ref:
            return "", ""
        plain = ref[len(SITE_TEXT):] if ref.startswith(SITE_TEXT) else ref
        if not TEXT_FILE.fullmatch(plain):
            raise s.fail(join(where, "text"), "expected a Markdown file name beside the curriculum file "
                                              "(name.md, no folders)")
        if ref not in texts:
            raise s.fail(join(where, "text"), f"text file {name(plain)} was not found")
        content = texts[ref]
        if not isinstance(content, str) or len(content) > MAX_TEXT:
            raise s.fail(join(where, "text"), f"text file {name(plain)}: expected Markdown text of at most "
                                              f"{MAX_TEXT} characters")
        return ref, content

    components = _components(s, top, text_of)
    component_ids = [c.id for c in components]
    closing = s.ident(top, "closing_component", "")
    if closing not in component_ids:
        raise s.fail("closing_component", f"unknown component {name(closing)}")
    steps = _steps(s, top, component_ids, text_of)
    components = tuple(
        Component(c.id, c.number, c.phase, c.title, c.summary, tuple(st.id for st in steps if st.component == c.id),
                  c.text, c.text_file) for c in components)
    for c in components:
        if not c.steps:
            raise s.fail(f"components[{c.id}]", "has no steps (declare at least one under steps)")
    assignments = _assignments(s, top, component_ids, text_of)
    session_minutes = s.integer(top, "session_minutes", "", 10, 240)
    sessions = _sessions(s, top, components, steps, assignments, session_minutes, closing)
    evidence = _evidence(s, top)
    tracking = _tracking(s, top)
    exposure = _exposure(s, top)
    fidelity = _fidelity(s, top, component_ids, len(sessions))
    evaluation = _evaluation(s, top)
    arms = _arms(s, top, text_of)
    return Curriculum(
        name=s.text(top, "name", "", maximum=80), version=version, title=s.text(top, "title", ""),
        source=s.text(top, "source", ""), session_minutes=session_minutes, closing_component=closing,
        components=components, steps=steps, assignments=assignments, sessions=sessions, evidence=evidence,
        tracking=tracking, exposure=exposure, fidelity=fidelity, evaluation=evaluation, control_arms=arms,
        site=site, origin=source)


def _version(s: Spec, value: Any) -> str:
    """A version: a whole number or one line of short text."""
    text = str(value).strip() if isinstance(value, (int, str)) and not isinstance(value, bool) else ""
    if not text or len(text) > 80 or CONTROL.search(text):
        raise s.fail("version", "expected a number or one line of short text")
    return text


def _entries(s: Spec, mapping: Mapping, key: str, where: str, id_key: str, required: tuple,
             optional: tuple = (), *, minimum: int = 1, maximum: int = 100) -> list[tuple[str, Mapping, Any]]:
    """A list of entries, each a mapping of known keys with a unique id: [(path, entry, id)]."""
    out = []
    for i, raw in enumerate(s.items(mapping, key, where, minimum=minimum, maximum=maximum)):
        path = f"{join(where, key)}[{i}]"
        given = s.mapping(raw, path).get(id_key)
        named = (f"{join(where, key)}[{given}]" if isinstance(given, (str, int)) and not isinstance(given, bool)
                 and str(given).isprintable() and 0 < len(str(given)) <= 40 else path)
        entry = s.keys(raw, named, required=(id_key, *required), optional=optional)
        if id_key == "number":
            ident = s.integer(entry, "number", path, 1, 50)
        elif id_key == "arm":
            ident = entry["arm"]
            if ident not in CONTROL_ARMS:
                raise s.fail(join(path, "arm"), f"expected one of {', '.join(CONTROL_ARMS)} (the PRT arm's "
                                                "content is the curriculum itself)")
        else:
            ident = s.ident(entry, id_key, path)
        out.append((f"{join(where, key)}[{ident}]", entry, ident))
    twice = unique(str(ident) for _, _, ident in out)
    if twice:
        raise s.fail(join(where, key), f"declares {id_key} {name(twice[0])} more than once")
    return out


def _numbered(s: Spec, where: str, numbers: list[int]) -> None:
    if sorted(numbers) != list(range(1, len(numbers) + 1)):
        raise s.fail(where, f"numbers must run 1 to {len(numbers)} without gaps or repeats")


def _components(s: Spec, top: Mapping, text_of) -> list[Component]:
    out = []
    for path, entry, cid in _entries(s, top, "components", "", "id", ("number", "phase", "title", "summary"),
                                     ("text",), maximum=20):
        phase = s.text(entry, "phase", path)
        if phase not in PHASES:
            raise s.fail(join(path, "phase"), f"expected one of {', '.join(PHASES)}")
        ref, content = text_of(entry, path)
        out.append(Component(cid, s.integer(entry, "number", path, 1, 20), phase, s.text(entry, "title", path),
                             s.text(entry, "summary", path), (), content, ref))
    _numbered(s, "components", [c.number for c in out])
    if not any(c.phase == "core" for c in out):
        raise s.fail("components", "expected at least one core component")
    return sorted(out, key=lambda c: c.number)


def _steps(s: Spec, top: Mapping, component_ids: list[str], text_of) -> tuple[Step, ...]:
    out = []
    for path, entry, sid in _entries(s, top, "steps", "", "id", ("component", "title", "summary"), ("text",),
                                     maximum=200):
        component = s.ident(entry, "component", path)
        if component not in component_ids:
            raise s.fail(join(path, "component"), f"unknown component {name(component)}")
        ref, content = text_of(entry, path)
        out.append(Step(sid, component, s.text(entry, "title", path), s.text(entry, "summary", path), content, ref))
    return tuple(out)


def _assignments(s: Spec, top: Mapping, component_ids: list[str], text_of) -> tuple[Assignment, ...]:
    out = []
    for path, entry, aid in _entries(s, top, "assignments", "", "id",
                                     ("kind", "title", "summary", "minutes", "per_week"), ("component", "text"),
                                     maximum=100):
        kind = s.text(entry, "kind", path)
        if kind not in ASSIGNMENT_KINDS:
            raise s.fail(join(path, "kind"), f"expected one of {', '.join(ASSIGNMENT_KINDS)}")
        component = s.ident(entry, "component", path, required=False)
        if component is not None and component not in component_ids:
            raise s.fail(join(path, "component"), f"unknown component {name(component)}")
        ref, content = text_of(entry, path)
        out.append(Assignment(aid, kind, s.text(entry, "title", path), s.text(entry, "summary", path),
                              s.integer(entry, "minutes", path, 1, 240), s.integer(entry, "per_week", path, 1, 14),
                              component, content, ref))
    return tuple(out)


def _sessions(s: Spec, top: Mapping, components: tuple[Component, ...], steps: tuple[Step, ...],
              assignments: tuple[Assignment, ...], session_minutes: int, closing: str) -> tuple[SessionPlan, ...]:
    component_of = {st.id: st.component for st in steps}
    phase_of = {c.id: c.phase for c in components}
    out = []
    for path, entry, number in _entries(s, top, "sessions", "", "number", ("title", "steps"),
                                        ("as_needed", "assignments", "minutes", "notes"), maximum=50):
        planned = s.id_list(entry, "steps", path, component_of, minimum=1, what="step")
        as_needed = s.id_list(entry, "as_needed", path, component_of, required=False, what="step")
        both = [x for x in planned if x in as_needed]
        if both:
            raise s.fail(join(path, "as_needed"), f"step {name(both[0])} is also planned in steps")
        for sid in planned:
            if phase_of[component_of[sid]] == "as_needed":
                raise s.fail(join(path, "steps"), f"step {name(sid)} belongs to the as-needed component "
                                                  f"{name(component_of[sid])}: list it under as_needed")
        out.append(SessionPlan(
            number=number, title=s.text(entry, "title", path),
            minutes=s.integer(entry, "minutes", path, 10, 240, required=False, default=session_minutes),
            steps=planned, as_needed=as_needed,
            assignments=s.id_list(entry, "assignments", path, [a.id for a in assignments], required=False,
                                  what="assignment"),
            notes=s.text(entry, "notes", path, required=False, maximum=4000, one_line=False)))
    _numbered(s, "sessions", [p.number for p in out])
    out.sort(key=lambda p: p.number)
    # The protocol's order (protocol notes, "The PRT program as delivered"): every core component
    # first, the as-needed ones only after all core ones are introduced, and back to sensations last.
    introduced = {}
    for plan in out:
        for sid in plan.steps:
            introduced.setdefault(component_of[sid], plan.number)
    for c in components:
        if c.phase == "core" and c.id not in introduced:
            raise s.fail(f"components[{c.id}]", "no session plans a step of this core component")
    last_core = max(introduced[c.id] for c in components if c.phase == "core")
    for plan in out:
        early = [sid for sid in plan.as_needed if phase_of[component_of[sid]] == "as_needed"]
        if early and plan.number <= last_core:
            raise s.fail(f"sessions[{plan.number}].as_needed",
                         f"step {name(early[0])} of an as-needed component comes before every core component "
                         f"is introduced (the last in session {last_core}); the protocol delivers the core first")
    if not any(component_of[sid] == closing for sid in out[-1].steps):
        raise s.fail(f"sessions[{out[-1].number}].steps",
                     f"the last session must plan a step of {name(closing)} (closing_component: the protocol "
                     "returns to sensations at the end)")
    used = {sid for plan in out for sid in plan.steps + plan.as_needed}
    for st in steps:
        if st.id not in used:
            raise s.fail(f"steps[{st.id}]", "no session plans this step (add it to a session or remove it)")
    given = {aid for plan in out for aid in plan.assignments}
    for a in assignments:
        if a.id not in given:
            raise s.fail(f"assignments[{a.id}]", "no session sets this assignment (add it to a session or remove it)")
    return tuple(out)


def _choices(s: Spec, mapping: Mapping, key: str, where: str, *, prompt: bool = False,
             maximum: int = 30) -> tuple[Choice, ...]:
    required = ("title", "prompt") if prompt else ("title",)
    return tuple(Choice(cid, s.text(entry, "title", path), s.text(entry, "prompt", path, required=prompt))
                 for path, entry, cid in _entries(s, mapping, key, where, "id", required, maximum=maximum))


def _evidence(s: Spec, top: Mapping) -> EvidenceRule:
    section = s.keys(top["evidence"], "evidence", required=("items", "strength"))
    items = _choices(s, section, "items", "evidence", prompt=True, maximum=20)
    strength = s.keys(section["strength"], "evidence.strength", required=("source", "bands"))
    bands = []
    expected_min = 0
    for i, raw in enumerate(s.items(strength, "bands", "evidence.strength", minimum=1, maximum=len(items) + 1)):
        path = f"evidence.strength.bands[{i}]"
        entry = s.keys(raw, path, required=("min", "max", "label"))
        lo = s.integer(entry, "min", path, 0, len(items))
        hi = s.integer(entry, "max", path, 0, len(items))
        if lo != expected_min or hi < lo:
            raise s.fail(path, f"bands must cover 0 to {len(items)} kinds of evidence in order, each starting "
                               f"one above the last (expected min {expected_min}, max >= min)")
        bands.append(Band(lo, hi, s.text(entry, "label", path, maximum=40)))
        expected_min = hi + 1
    if expected_min != len(items) + 1:
        raise s.fail("evidence.strength.bands", f"bands must end at {len(items)}, the number of evidence kinds")
    return EvidenceRule(items, tuple(bands), s.text(strength, "source", "evidence.strength"))


def _tracking(s: Spec, top: Mapping) -> TrackingPlan:
    section = s.keys(top["somatic_tracking"], "somatic_tracking", required=("phases", "tool_by_pain"))
    phases = tuple(
        TrackingPhase(pid, s.text(entry, "title", path), s.integer(entry, "seconds", path, 10, 1800),
                      s.text(entry, "cue", path))
        for path, entry, pid in _entries(s, section, "phases", "somatic_tracking", "id", ("title", "seconds", "cue"),
                                         maximum=10))
    where = "somatic_tracking.tool_by_pain"
    rule = s.keys(section["tool_by_pain"], where, required=("high_from", "high", "low", "source"))
    tools = []
    for key in ("high", "low"):
        entry = s.keys(rule[key], join(where, key), required=("tool", "title", "summary"))
        path = join(where, key)
        tools.append(PainTool(s.ident(entry, "tool", path), s.text(entry, "title", path),
                              s.text(entry, "summary", path)))
    if tools[0].tool == tools[1].tool:
        raise s.fail(where, "high and low name the same tool")
    return TrackingPlan(phases, s.integer(rule, "high_from", where, 1, 10), tools[0], tools[1],
                        s.text(rule, "source", where))


def _exposure(s: Spec, top: Mapping) -> ExposureRule:
    where = "exposure"
    section = s.keys(top["exposure"], where, required=("attempts", "fear_fraction", "fear_floor", "hold_off_at",
                                                       "source"))
    floor = s.integer(section, "fear_floor", where, 0, 9)
    hold = s.integer(section, "hold_off_at", where, 1, 10)
    if hold <= floor:
        raise s.fail("exposure.hold_off_at", "must be above fear_floor")
    return ExposureRule(s.integer(section, "attempts", where, 1, 10),
                        s.number(section, "fear_fraction", where, 0, 1, open_low=True), floor, hold,
                        s.text(section, "source", where))


def _fidelity(s: Spec, top: Mapping, component_ids: list[str], n_sessions: int) -> FidelityPlan:
    where = "fidelity"
    section = s.keys(top["fidelity"], where, required=("elements", "reference", "sample"))
    elements = []
    for path, entry, eid in _entries(s, section, "elements", where, "id", ("number", "title"), ("component",),
                                     maximum=20):
        component = s.ident(entry, "component", path, required=False)
        if component is not None and component not in component_ids:
            raise s.fail(join(path, "component"), f"unknown component {name(component)}")
        elements.append(FidelityElement(eid, s.integer(entry, "number", path, 1, 20), s.text(entry, "title", path),
                                        component))
    _numbered(s, "fidelity.elements", [e.number for e in elements])
    elements.sort(key=lambda e: e.number)
    n = len(elements)
    ref = s.keys(section["reference"], "fidelity.reference", required=("mean", "sd", "minimum", "source"))
    reference = FidelityReference(s.number(ref, "mean", "fidelity.reference", 0, n),
                                  s.number(ref, "sd", "fidelity.reference", 0, n),
                                  s.integer(ref, "minimum", "fidelity.reference", 0, n),
                                  s.text(ref, "source", "fidelity.reference"))
    sample = s.keys(section["sample"], "fidelity.sample", required=("patient_fraction", "sessions_per_patient",
                                                                    "source"))
    return FidelityPlan(tuple(elements), reference,
                        s.number(sample, "patient_fraction", "fidelity.sample", 0, 1, open_low=True),
                        s.integer(sample, "sessions_per_patient", "fidelity.sample", 1, n_sessions),
                        s.text(sample, "source", "fidelity.sample"))


def _evaluation(s: Spec, top: Mapping) -> EvaluationPlan:
    where = "physician_evaluation"
    section = s.keys(top[where], where, required=("source", "red_flags", "education", "factors", "imaging_findings"))
    lists = {key: _choices(s, section, key, where) for key in ("red_flags", "education", "factors", "imaging_findings")}
    return EvaluationPlan(source=s.text(section, "source", where), **lists)


def _arms(s: Spec, top: Mapping, text_of) -> tuple[ControlArm, ...]:
    out = []
    for path, entry, arm in _entries(s, top, "control_arms", "", "arm", ("title", "summary", "event", "items"),
                                     ("text",), minimum=0, maximum=len(CONTROL_ARMS)):
        items = []
        for ipath, item, iid in _entries(s, entry, "items", path, "id", ("title", "summary"),
                                         ("release_after", "text"), maximum=30):
            release = s.text(item, "release_after", ipath, required=False) or None
            if release is not None and release not in TIMEPOINTS:
                raise s.fail(join(ipath, "release_after"), f"expected a timepoint: {', '.join(TIMEPOINTS)}")
            ref, content = text_of(item, ipath)
            items.append(ArmItem(iid, s.text(item, "title", ipath), s.text(item, "summary", ipath), release,
                                 content, ref))
        ref, content = text_of(entry, path)
        out.append(ControlArm(arm, s.text(entry, "title", path), s.text(entry, "summary", path),
                              s.ident(entry, "event", path), tuple(items), content, ref))
    return tuple(out)


# ------------------------------------------------------------------------------------ a site's changes
#: Keys a site file may change (everything but the curriculum's own name and version).
SITE_CHANGES = tuple(k for k in TOP_KEYS if k not in ("name", "version"))
#: Lists whose entries a site changes by identity (others are replaced whole).
LIST_IDS = {
    ("components",): "id", ("steps",): "id", ("assignments",): "id", ("sessions",): "number",
    ("evidence", "items"): "id", ("somatic_tracking", "phases"): "id", ("fidelity", "elements"): "id",
    ("physician_evaluation", "red_flags"): "id", ("physician_evaluation", "education"): "id",
    ("physician_evaluation", "factors"): "id", ("physician_evaluation", "imaging_findings"): "id",
    ("control_arms",): "arm", ("control_arms", "items"): "id",
}


def _dotted(path: tuple) -> str:
    return ".".join(str(p) for p in path) or "<top>"


def _merge(base: Any, change: Any, path: tuple, s: Spec) -> Any:
    """``base`` changed by ``change``: mappings key by key, id-keyed lists entry by entry."""
    if isinstance(base, dict):
        if not isinstance(change, Mapping):
            raise s.fail(_dotted(path), "expected a mapping of the keys to change")
        out = dict(base)
        for key, value in change.items():
            out[key] = _merge(out[key], value, (*path, key), s) if key in out else value
        return out
    ident = LIST_IDS.get(tuple(p for p in path if isinstance(p, str)))
    if isinstance(base, list) and ident is not None:
        if not isinstance(change, list):
            raise s.fail(_dotted(path), f"expected a list of entries, each with its {ident}")
        entries = {entry[ident]: entry for entry in base}
        seen: set = set()
        for i, entry in enumerate(change):
            where = f"{_dotted(path)}[{i}]"
            if not isinstance(entry, Mapping) or ident not in entry:
                raise s.fail(where, f"expected a mapping with the {ident} of the entry to add, change or remove")
            key = entry[ident]
            if not isinstance(key, (str, int)) or isinstance(key, bool):
                raise s.fail(join(where, ident), f"expected the {ident} of an entry")
            if key in seen:
                raise s.fail(where, f"{ident} {name(key)} is given more than once (the later would silently win)")
            seen.add(key)
            remove = entry.get("remove", False)
            if not isinstance(remove, bool):
                raise s.fail(join(where, "remove"), "expected true or false (unquoted)")
            if remove:
                if key not in entries:
                    raise s.fail(where, f"removes {ident} {name(key)}, which the curriculum does not have")
                if set(entry) - {ident, "remove"}:
                    raise s.fail(where, "an entry that is removed takes no other keys")
                del entries[key]
                continue
            body = {k: v for k, v in entry.items() if k != "remove"}
            entries[key] = _merge(entries[key], body, path, s) if key in entries else body
        return list(entries.values())
    return change


def _site_texts(change: Any, s: Spec) -> Any:
    """A site's ``text`` names keyed as the site's (``site:name.md``), so they are read beside its file."""
    if isinstance(change, Mapping):
        out = {}
        for key, value in change.items():
            if key == "text" and isinstance(value, str):
                value = SITE_TEXT + value.strip()
            out[key] = _site_texts(value, s)
        return out
    if isinstance(change, list):
        return [_site_texts(v, s) for v in change]
    return change


# ------------------------------------------------------------------------------------ loading
def text_names(spec: Any, path: str = "") -> list[tuple[str, str]]:
    """Every ``text`` name a spec gives, with its key path: [(path, name)]."""
    out: list[tuple[str, str]] = []
    if isinstance(spec, Mapping):
        for key, value in spec.items():
            if key == "text" and isinstance(value, str):
                out.append((join(path, "text"), value.strip()))
            else:
                out.extend(text_names(value, join(path, str(key))))
    elif isinstance(spec, list):
        for i, value in enumerate(spec):
            out.extend(text_names(value, f"{path}[{i}]"))
    return out


def _read_texts(spec: Any, folder, label: str) -> dict[str, str]:
    """The Markdown files a spec names, read from ``folder`` (a Path or a package resource)."""
    s = Spec(label)
    out: dict[str, str] = {}
    for path, ref in text_names(spec):
        if ref in out:
            continue
        if not TEXT_FILE.fullmatch(ref):
            raise s.fail(path, "expected a Markdown file name beside the curriculum file (name.md, no folders)")
        target = folder / ref
        if isinstance(target, Path):
            if not target.is_file():
                raise s.fail(path, f"text file {name(ref)} was not found beside the file")
            out[ref] = read_text(target, "text file")
        else:
            if not target.is_file():
                raise s.fail(path, f"text file {name(ref)} was not found beside the file")
            out[ref] = target.read_text(encoding="utf-8")
        if len(out[ref]) > MAX_TEXT:
            raise s.fail(path, f"text file {name(ref)}: longer than {MAX_TEXT} characters")
    return out


PACKAGED = "packaged curriculum content/curriculum.yaml"


@lru_cache(maxsize=1)
def default_curriculum() -> Curriculum:
    """The packaged curriculum (``content/curriculum.yaml`` and its handouts), validated once."""
    folder = resources.files("prt.program").joinpath("content")
    spec = loads_yaml(folder.joinpath("curriculum.yaml").read_text(encoding="utf-8"), PACKAGED)
    return Curriculum.from_dict(spec, PACKAGED, _read_texts(spec, folder, PACKAGED))


def is_site_file(spec: Any) -> bool:
    """A site's change file declares ``site:`` and no ``name`` (a whole curriculum has a name)."""
    return isinstance(spec, Mapping) and "site" in spec and "name" not in spec


def read_curriculum_file(path: str | os.PathLike) -> tuple[Any, dict[str, str], str]:
    """(parsed YAML, the Markdown it names, label for messages) of a curriculum or site file."""
    path = Path(path)
    spec = load_yaml(path, "curriculum file")
    label = f"{'site curriculum' if is_site_file(spec) else 'curriculum'} {path}"
    return spec, _read_texts(spec, path.parent, label), label


def load_curriculum(path: str | os.PathLike | None = None, site: str | os.PathLike | None = None) -> Curriculum:
    """The curriculum from ``path`` (default: the packaged one), changed by a ``site`` file if given.

    A ``path`` that is itself a site file (it declares ``site:``) changes the packaged curriculum.
    Files are read strictly (:func:`prt.files.load_yaml`: a key given twice is an error).
    """
    if path is None:
        base = default_curriculum()
    else:
        spec, texts, label = read_curriculum_file(path)
        if is_site_file(spec):
            if site is not None:
                raise InputError(f"{label}: is a site file; give it as the site, with a whole curriculum as the base")
            return default_curriculum().with_site(spec, label, texts)
        base = Curriculum.from_dict(spec, label, texts)
    if site is None:
        return base
    spec, texts, label = read_curriculum_file(site)
    if not is_site_file(spec):
        raise InputError(f"{label}: a site file must declare 'site: <name>' and only the changes")
    return base.with_site(spec, label, texts)


__all__ = [
    "ASSIGNMENT_KINDS", "ArmItem", "Assignment", "Band", "Choice", "Component", "ControlArm", "CONTROL_ARMS",
    "Curriculum", "EvaluationPlan", "EvidenceRule", "ExposureRule", "FidelityElement", "FidelityPlan",
    "FidelityReference", "PHASES", "PainTool", "SessionPlan", "Step", "TrackingPhase", "TrackingPlan",
    "default_curriculum", "is_site_file", "load_curriculum", "read_curriculum_file", "text_names",
]
