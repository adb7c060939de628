"""Posted forms read into the plain dicts ``prt.program``'s records take (``from_dict``).

Nothing is judged here: a whole number is turned into an ``int`` and a date into a ``date`` when
it is one, anything else is passed on as text, so the record's own check refuses it with the key
named (docs/program.md, "For the web app": validate every form with the record's ``from_dict``).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from prt.web.errors import Refused

_WHOLE = re.compile(r"-?[0-9]{1,6}")
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
#: Most rows a hierarchy form may post (prt.program.exposure.MAX_STEPS, and a few blank ones).
MAX_ROWS = 40


def whole(value: Any) -> Any:
    """A posted whole number as ``int``; blank as None; anything else unchanged (refused later)."""
    if value is None:
        return None
    text = str(value).strip()
    if text == "":
        return None
    return int(text) if _WHOLE.fullmatch(text) else text


def day(value: Any, field: str) -> date | None:
    """A posted ``YYYY-MM-DD`` as a date; blank as None; else Refused naming ``field``."""
    text = (value or "").strip() if isinstance(value, str) else ""
    if not text:
        return None
    if _DAY.fullmatch(text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
    raise Refused(field, "expected a date as YYYY-MM-DD")


def flag(value: Any) -> bool | None:
    """yes/no radio buttons and checkboxes: True, False, or None when not given."""
    text = (value or "").strip().lower() if isinstance(value, str) else ""
    if text in ("yes", "on", "true", "1", "present"):
        return True
    if text in ("no", "false", "0", "absent"):
        return False
    return None


def practice(post) -> dict[str, Any]:
    """A practice (prt.program.Practice): day, assignment, minutes, optional ratings and setting."""
    out: dict[str, Any] = {"day": post.get("day", ""), "assignment": post.get("assignment", ""),
                           "minutes": whole(post.get("minutes"))}
    for key in ("pain_before", "pain_after", "fear_before", "fear_after"):
        value = whole(post.get(key))
        if value is not None:
            out[key] = value
    setting = (post.get("setting") or "").strip()
    if setting:
        out["setting"] = setting
    return out


def evidence(post, kinds) -> dict[str, list[str]]:
    """The evidence sheet: one textarea per kind, one example per line."""
    return {kind: [line for line in post.get(f"examples-{kind}", "").splitlines() if line.strip()]
            for kind in kinds}


def hierarchy(post) -> dict[str, Any]:
    """The hierarchy form's rows (``id-N``, ``movement-N``, ``fear-N``, ``remove-N``): blank rows
    are skipped, new rows get the next free code ``s1``, ``s2`` ...; ids of kept rows stay."""
    try:
        rows = min(int(post.get("rows", "0")), MAX_ROWS)
    except ValueError:
        raise Refused("rows", "the form was incomplete; open the page again") from None
    given = [(post.get(f"id-{i}", "").strip(), post.get(f"movement-{i}", ""), post.get(f"fear-{i}", ""),
              flag(post.get(f"remove-{i}"))) for i in range(max(rows, 0))]
    used = {code for code, *_ in given if code}
    steps, n = [], 0
    for code, movement, fear, remove in given:
        if remove or (not movement.strip() and not str(fear).strip()):
            continue
        if not code:
            n += 1
            while f"s{n}" in used:
                n += 1
            code = f"s{n}"
            used.add(code)
        steps.append({"id": code, "movement": movement, "fear": whole(fear)})
    return {"steps": steps}


def attempt(post) -> dict[str, Any]:
    return {"step": post.get("step", ""), "day": post.get("day", ""),
            **{k: whole(post.get(k)) for k in ("expected_pain", "actual_pain", "expected_fear", "actual_fear")}}


def evaluation(post, plan) -> dict[str, Any]:
    """The evaluation form: per red flag and factor a yes / no / not assessed radio, the topics
    ticked, imaging reviewed (yes / no / no imaging) with its findings, and the formulation."""
    def answers(prefix: str, choices) -> dict[str, bool | None]:
        return {c.id: flag(post.get(f"{prefix}-{c.id}")) for c in choices}

    imaging: dict[str, Any] = {}
    reviewed = flag(post.get("imaging_reviewed"))
    if reviewed is not None:
        imaging["reviewed"] = reviewed
    findings = [f for f in post.getlist("imaging_findings") if f]
    if findings:
        imaging["findings"] = findings
    explained = flag(post.get("findings_explained"))
    if explained is not None:
        imaging["explained"] = explained
    formulation = (post.get("formulation") or "").strip()
    return {"red_flags": answers("flag", plan.red_flags), "factors": answers("factor", plan.factors),
            "education": [t for t in post.getlist("education") if t], "imaging": imaging,
            **({"formulation": formulation} if formulation else {})}


def session(post) -> dict[str, Any]:
    return {"outcome": (post.get("outcome") or "").strip(), "held_on": day(post.get("held_on"), "held_on"),
            "minutes": whole(post.get("minutes")), "steps": post.getlist("steps"),
            "assignments": post.getlist("assignments"), "notes": post.get("notes", ""),
            "recorded": bool(flag(post.get("recorded")))}


def elements(post, ids) -> dict[str, Any]:
    """A rating's elements: each ``present`` / ``absent`` (not given: None, refused as unrated)."""
    return {e: flag(post.get(f"element-{e}")) for e in ids}
