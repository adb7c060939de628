"""Coding the causal item on submission, the coder's review, and the therapist's view: the rules.

Issue 15, "Platform": participants answer the IPQ-R causal item (``ipq_causes``: the three most
important causes of their back pain, free text) at pretreatment and posttreatment; each answer is
coded when the submission is saved, by ``prt.attribution``'s coder (never by rules written here):

- the coder is the lemma coder (word lists, no training), or the trained model file that
  ``PRT_ATTRIBUTION_MODEL`` names (``prt attribution train``), loaded once per process and again
  when the file changes;
- an answer below the coder's review threshold (``prt.attribution.coders.REVIEW_BELOW``, or the
  model file's own) is queued for a coder; so is one the coder refuses (an answer with no words,
  a control character: ``prt.attribution.answers.clean_answer``) and every answer when the model
  file fails to load, each with the reason in ``note``: never a silent ``other``;
- a coder's code wins (confidence 1, ``source = human``), as in ``prt.attribution.review``;
- every code is an audit event in the transaction that writes it; a review is an update event
  with old and new values and a reason (the coder's own when they change a human code).

Nothing here puts an answer's words in a log, a URL or an audit event (the rows keep a SHA-256).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from prt.attribution.scheme import SCHEME
from prt.errors import InputError
from prt.trial.redcap_dictionary import SCHEDULE
from prt.web.attributions.models import CODER_MAX, NOTE_MAX, REASON_MAX, SLOTS, AttributionCode
from prt.web.audit import trail
from prt.web.errors import Refused
from prt.web.questionnaires.models import Submission

logger = logging.getLogger(__name__)

#: The instrument whose answers are coded (prt.instruments' definition of the IPQ-R causal item).
CAUSAL_ITEM = "ipq_causes"
#: Where the battery collects it (the REDCap instrument-event mapping: pretreatment and posttreatment).
EVENTS = SCHEDULE[CAUSAL_ITEM]
#: The audit reason of a first review when the coder gives none (a queued answer is there to be coded).
REVIEW_REASON = "coder's review of an automatically coded answer"
#: The reason of the automatic codes' create events.
CODED_REASON = "coded automatically on submission"


# ------------------------------------------------------------------------------------ the coder
@dataclass(frozen=True)
class ActiveCoder:
    """The coder answers are coded with now: ``coder`` None when the configured model failed to load
    (``error`` says why, naming the file); ``name`` is what each code records."""

    coder: object | None
    name: str
    error: str = ""


def active_coder() -> ActiveCoder:
    """The lemma coder, or the model file of ``PRT_ATTRIBUTION_MODEL`` (reloaded when it changes)."""
    path = getattr(settings, "PRT_ATTRIBUTION_MODEL", None)
    if not path:
        return _lemma()
    try:
        stat = Path(path).stat()
        stamp = (stat.st_mtime_ns, stat.st_size)
    except OSError:
        stamp = (None, None)
    return _model(str(path), *stamp)


@lru_cache(maxsize=1)
def _lemma() -> ActiveCoder:
    from prt.attribution import LemmaCoder

    return ActiveCoder(LemmaCoder(), "lemma")


@lru_cache(maxsize=4)
def _model(path: str, mtime_ns, size) -> ActiveCoder:
    from prt.attribution import load_model

    try:
        coder = load_model(path)
        digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except (InputError, OSError) as exc:
        message = str(exc) if isinstance(exc, InputError) else f"model file {path}: {type(exc).__name__}"
        logger.error("pain attributions: %s; causal-item answers are queued for a coder", message)
        return ActiveCoder(None, "none", message)
    return ActiveCoder(coder, f"{coder.name} model sha256:{digest}"[:CODER_MAX])


def check_model() -> str:
    """Why the configured model cannot code (empty when it can, or none is configured): the
    deployment check (checks.py) and ``prt web manage check`` say it before anyone submits."""
    return active_coder().error


def prepare(instrument_id: str) -> None:
    """Load the coder (and the embedding model it may need) before a causal-item submission takes
    its lock: the first load of a sentence-transformer takes seconds, the coding of three answers
    milliseconds. A failure is left for :func:`code_submission` to record."""
    if instrument_id != CAUSAL_ITEM:
        return
    active = active_coder()
    if active.coder is not None and getattr(active.coder, "name", "") == "embedding":
        from prt.attribution.coders import load_encoder

        try:
            load_encoder()
        except InputError:
            pass


# ------------------------------------------------------------------------------------ coding on submission
def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _note(exc: InputError, where: str) -> str:
    return str(exc).removeprefix(f"{where}: ")[:NOTE_MAX]


def code_submission(submission: Submission, now: datetime | None = None) -> list[AttributionCode]:
    """Code each answered item of a causal-item submission, once (call inside its transaction).

    Returns the codes (none for another instrument; the stored ones when already coded). An answer
    the coder cannot code is queued with the reason; the submission itself is never refused here.
    """
    if submission.instrument != CAUSAL_ITEM:
        return []
    from prt.attribution.answers import clean_answer  # pandas: loaded on the first causal-item submission

    existing = list(AttributionCode.objects.filter(submission=submission))
    if existing:
        return existing
    now = now or timezone.now()
    answers = submission.answers or {}
    given = [(slot, answers[str(slot)]) for slot in SLOTS
             if isinstance(answers.get(str(slot)), str) and answers[str(slot)].strip()]
    active = active_coder()
    cleaned, refused = [], {}
    for slot, raw in given:
        try:
            cleaned.append((slot, clean_answer(raw, "answer")))
        except InputError as exc:
            refused[slot] = _note(exc, "answer")
    decided = {}
    if active.coder is None:
        refused.update({slot: f"automatic coder unavailable: {active.error}"[:NOTE_MAX] for slot, _ in cleaned})
    elif cleaned:
        try:
            frame = active.coder.code([text for _, text in cleaned])
            decided = {slot: row for (slot, _), row in zip(cleaned, frame.to_dict("records"))}
        except InputError as exc:  # the embedding package missing or broken: every answer to a human
            logger.error("pain attributions: the coder failed (%s); answers queued for a coder", exc)
            refused.update({slot: f"automatic coder failed: {exc}"[:NOTE_MAX] for slot, _ in cleaned})
    rows = []
    for slot, raw in given:
        row = decided.get(slot)
        common = {"submission": submission, "slot": slot, "text_sha256": _sha256(raw), "coder": active.name,
                  "coded_at": now, "decided_at": now, "source": "automatic"}
        if row is None:
            code = AttributionCode(**common, rule="refused", note=refused[slot], state="queued")
        else:
            category = str(row["category"])
            code = AttributionCode(**common, automatic_category=category,
                                   automatic_confidence=round(float(row["confidence"]), 6), rule=str(row["rule"]),
                                   category=category, mind_brain=SCHEME.is_mind_brain(category),
                                   confidence=round(float(row["confidence"]), 6),
                                   state="queued" if bool(row["needs_review"]) else "coded")
        code.save()
        trail.record(None, "create", code, trail.diff(None, trail.snapshot(code)), CODED_REASON)
        rows.append(code)
    return rows


def code_uncoded(site_ids=None, now: datetime | None = None) -> int:
    """Code causal-item submissions that have no codes yet (made before this app, or by a loader
    that bypassed it); returns how many answers were coded. Each submission in its own transaction."""
    subs = Submission.objects.filter(instrument=CAUSAL_ITEM, attribution_codes__isnull=True)
    if site_ids is not None:
        subs = subs.filter(participant__site_id__in=list(site_ids))
    count = 0
    for pk in subs.order_by("pk").values_list("pk", flat=True).distinct():
        with transaction.atomic():
            count += len(code_submission(Submission.objects.select_for_update().get(pk=pk), now))
    return count


# ------------------------------------------------------------------------------------ the coder's review
@dataclass(frozen=True)
class Reviewed:
    code: AttributionCode
    #: "reviewed" (a first human code), "changed" (a human code changed), "unchanged" (nothing written).
    outcome: str


def check_category(value) -> str:
    """One of the scheme's 17 category ids, exactly (the form's radio values), else Refused."""
    if not isinstance(value, str) or value not in SCHEME.ids:
        raise Refused("category", f"expected one of {', '.join(SCHEME.ids)}")
    return value


def check_reason(value, *, required: bool) -> str:
    text = (value or "").strip() if isinstance(value, str) else ""
    if not text:
        if required:
            raise Refused("reason", "required: why a coder's code is changed (kept in the audit trail)")
        return ""
    if len(text) > REASON_MAX:
        raise Refused("reason", f"expected at most {REASON_MAX} characters")
    if any(not ch.isprintable() for ch in text):
        raise Refused("reason", "expected one line of text")
    return text


def review(code: AttributionCode, category, *, actor, reason: str = "", seen: str | None = None,
           now: datetime | None = None) -> Reviewed:
    """A coder's category for one answer; it wins over the automatic code (``source = human``).

    ``seen`` is :attr:`AttributionCode.version` as the form showed it: a code changed since (another
    coder) is refused (409). Changing a human code needs a reason; the first review of an
    automatic one carries the coder's reason or :data:`REVIEW_REASON`. Audited old -> new.
    """
    category = check_category(category)
    now = now or timezone.now()
    with transaction.atomic():
        row = AttributionCode.objects.select_for_update().get(pk=code.pk)
        if seen is not None and seen != row.version:
            raise Refused("version", "this answer was coded by someone else since you opened it; "
                                     "reload the page", status=409)
        if row.source == "human" and row.category == category:
            return Reviewed(row, "unchanged")
        changing = row.source == "human"
        why = check_reason(reason, required=changing) or REVIEW_REASON
        before = trail.snapshot(row)
        row.category, row.mind_brain, row.confidence = category, SCHEME.is_mind_brain(category), 1.0
        row.source, row.state, row.decided_by, row.decided_at = "human", "reviewed", actor, now
        row.save(update_fields=["category", "mind_brain", "confidence", "source", "state", "decided_by",
                                "decided_at"])
        trail.record(actor, "update", row, trail.diff(before, trail.snapshot(row)), why)
    return Reviewed(row, "changed" if changing else "reviewed")


def blind_order(code_id: int) -> str:
    """A fixed shuffle of the queue (keyed by the server's secret): answers are not listed in the
    order they came in, so the queue does not reveal which came before and which after treatment
    (the study's coders saw answers shuffled and stripped of ids; protocol notes)."""
    return hmac.new(settings.SECRET_KEY.encode(), str(code_id).encode(), hashlib.sha256).hexdigest()


def queue(site_ids, *, limit: int = 100) -> tuple[list[AttributionCode], int]:
    """The queued answers of the sites, blind-shuffled: (the first ``limit``, how many in all)."""
    rows = list(AttributionCode.objects.select_related("submission")
                .filter(state="queued", submission__participant__site_id__in=list(site_ids)))
    rows.sort(key=lambda r: blind_order(r.pk))
    return rows[:limit], len(rows)


def reviewed_by(user, site_ids, *, limit: int = 50) -> list[AttributionCode]:
    """The answers ``user`` coded at the sites, latest first (to change one)."""
    return list(AttributionCode.objects.select_related("submission")
                .filter(state="reviewed", decided_by=user, submission__participant__site_id__in=list(site_ids))
                .order_by("-decided_at", "-pk")[:limit])


# ------------------------------------------------------------------------------------ the therapist's view
@dataclass(frozen=True)
class Answer:
    slot: int
    text: str
    code: AttributionCode | None


@dataclass(frozen=True)
class Timepoint:
    event: str
    submission: Submission | None
    answers: tuple[Answer, ...]
    #: The mind-brain score 0-3 (prt.attribution.analysis.scores: only when all three are coded).
    score: int | None
    #: Answers whose code awaits a coder (the score then is provisional, or undefined without a code).
    queued: int


def timepoints(person) -> list[Timepoint]:
    """The participant's causal-item answers at each event with their codes and mind-brain score."""
    import pandas as pd

    from prt.attribution.analysis import SCORE, scores

    subs = {s.event: s for s in Submission.objects.filter(participant=person, instrument=CAUSAL_ITEM,
                                                          event__in=EVENTS)}
    codes = {(c.submission_id, c.slot): c for c in AttributionCode.objects.filter(submission__in=subs.values())}
    out = []
    for event in EVENTS:
        sub = subs.get(event)
        answers = []
        if sub is not None:
            for slot in SLOTS:
                text = sub.answers.get(str(slot))
                if isinstance(text, str) and text.strip():
                    answers.append(Answer(slot, text, codes.get((sub.pk, slot))))
        coded = [a for a in answers if a.code is not None and a.code.category]
        score = None
        if coded and len(coded) == len(answers):
            frame = pd.DataFrame({"participant": person.study_id, "timepoint": event,
                                  "slot": [a.slot for a in coded], "category": [a.code.category for a in coded]})
            value = scores(frame, SCHEME)[SCORE].iloc[0]
            score = None if pd.isna(value) else int(value)
        queued = sum(1 for a in answers if a.code is None or a.code.state == "queued")
        out.append(Timepoint(event, sub, tuple(answers), score, queued))
    return out
