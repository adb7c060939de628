"""CONSORT 2010 flow diagram from the trial's own records, with counts that must add up.

Boxes and wording follow the CONSORT 2010 flow diagram template (Schulz, Altman & Moher, BMJ
2010;340:c332, figure 1): enrollment (assessed for eligibility; excluded: not meeting inclusion
criteria, declined to participate, other reasons; randomized), then per arm allocation (allocated;
received / did not receive the allocated intervention), follow-up (lost to follow-up;
discontinued intervention) and analysis (analysed; excluded from analysis).

Counts come from the screening log (:mod:`prt.trial.eligibility`), the allocations (from the
allocation log) and one :class:`ParticipantFlow` per randomized participant (treatment receipt,
follow-up status, whether analysed). :meth:`ConsortCounts.check` enforces every sum and is run on
every build; a record that does not fit (randomized but never screened eligible, a flow for
someone never randomized, ...) raises InputError naming the record. The follow-up CSV is read by
:func:`read_flows` (errors name the row and column).

Free text (reasons, the title) is drawn literally: matplotlib's mathtext is off for every string,
so a ``$`` in a reason is a dollar sign, not the start of a formula. Files are rendered to memory
first and written with :func:`prt.files.atomic_write`, so a failure never replaces a good diagram.
"""

from __future__ import annotations

import io
import os
import re
import textwrap
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from prt.errors import InputError
from prt.trial.eligibility import ScreeningLog
from prt.vocabulary import ARM_NAMES, ARMS

FOLLOW_UP = ("completed", "lost", "discontinued")
#: Columns of the follow-up CSV; only ``participant`` is required (the others default to
#: received yes, follow-up completed, analysed yes).
FLOW_COLUMNS = ("participant", "received", "not_received_reason", "follow_up", "follow_up_reason",
                "analysed", "not_analysed_reason")
_CODE = re.compile(r"[a-z][a-z0-9]*(_[a-z0-9]+)+")    # a reason code such as pain_intensity_below_4
_YES = {"1", "yes", "true", "y"}
_NO = {"0", "no", "false", "n"}

#: Display text of the default eligibility rules' reason codes.
REASON_LABELS = {
    "age_out_of_range": "Age outside 21-70 years",
    "pain_days_below_half": "Back pain on fewer than half of days",
    "pain_intensity_below_4": "Average pain below 4/10",
    "leg_pain_not_exceeded": "Leg pain as bad as or worse than back pain",
    "mri_unsafe": "Not MRI-safe",
    "autoimmune_condition": "Autoimmune condition",
    "metastatic_cancer_history": "History of metastatic cancer",
}


@dataclass(frozen=True)
class ParticipantFlow:
    """What happened to one randomized participant after allocation.

    ``follow_up``: ``completed`` (not lost), ``lost`` (lost to follow-up) or ``discontinued``
    (withdrew or stopped the intervention); ``analysed``: included in the analysis (ITT: any data).
    """

    participant: str
    received: bool = True
    not_received_reason: str = ""
    follow_up: str = "completed"
    follow_up_reason: str = ""
    analysed: bool = True
    not_analysed_reason: str = ""

    def __post_init__(self) -> None:
        where = f"record {self.participant!r}"
        if self.follow_up not in FOLLOW_UP:
            raise InputError(f"{where}: follow_up must be one of {', '.join(FOLLOW_UP)}")
        if not self.received and not self.not_received_reason.strip():
            raise InputError(f"{where}: did not receive the intervention but no reason given")
        if self.follow_up != "completed" and not self.follow_up_reason.strip():
            raise InputError(f"{where}: {self.follow_up} but no reason given")
        if not self.analysed and not self.not_analysed_reason.strip():
            raise InputError(f"{where}: not analysed but no reason given")


@dataclass
class ArmFlow:
    """One arm's column of the diagram."""

    arm: str
    allocated: int = 0
    received: int = 0
    not_received: dict[str, int] = field(default_factory=dict)
    lost: dict[str, int] = field(default_factory=dict)
    discontinued: dict[str, int] = field(default_factory=dict)
    analysed: int = 0
    not_analysed: dict[str, int] = field(default_factory=dict)

    @property
    def n_not_received(self) -> int:
        return sum(self.not_received.values())

    @property
    def n_lost(self) -> int:
        return sum(self.lost.values())

    @property
    def n_discontinued(self) -> int:
        return sum(self.discontinued.values())

    @property
    def n_not_analysed(self) -> int:
        return sum(self.not_analysed.values())


@dataclass
class ConsortCounts:
    """Every number on the diagram. ``ineligible_reasons`` counts participants per reason code;
    one participant may have several, so those lines can sum to more than ``not_eligible``."""

    assessed: int
    not_eligible: int
    ineligible_reasons: dict[str, int]
    incomplete: int
    declined: int
    other: dict[str, int]
    randomized: int
    arms: list[ArmFlow]

    @property
    def excluded(self) -> int:
        return self.not_eligible + self.incomplete + self.declined + sum(self.other.values())

    def check(self) -> None:
        """Raise InputError unless every box adds up."""
        problems = []
        if self.assessed != self.excluded + self.randomized:
            problems.append(f"assessed {self.assessed} != excluded {self.excluded} + randomized {self.randomized}")
        if self.randomized != sum(a.allocated for a in self.arms):
            problems.append(f"randomized {self.randomized} != sum of allocated "
                            f"{sum(a.allocated for a in self.arms)}")
        if self.not_eligible and not self.ineligible_reasons:
            problems.append("participants not eligible but no reasons recorded")
        if any(n > self.not_eligible for n in self.ineligible_reasons.values()) or \
                (self.not_eligible and sum(self.ineligible_reasons.values()) < self.not_eligible):
            problems.append("ineligibility reasons do not match the number not eligible")
        for a in self.arms:
            if a.allocated != a.received + a.n_not_received:
                problems.append(f"{a.arm}: allocated {a.allocated} != received {a.received} + "
                                f"not received {a.n_not_received}")
            if a.allocated != a.analysed + a.n_not_analysed:
                problems.append(f"{a.arm}: allocated {a.allocated} != analysed {a.analysed} + "
                                f"excluded from analysis {a.n_not_analysed}")
            if a.n_lost + a.n_discontinued > a.allocated:
                problems.append(f"{a.arm}: more lost or discontinued than allocated")
        counts = [self.assessed, self.not_eligible, self.incomplete, self.declined, self.randomized,
                  *self.ineligible_reasons.values(), *self.other.values()]
        if any(n < 0 for n in counts):
            problems.append("negative count")
        if problems:
            raise InputError("CONSORT counts do not add up: " + "; ".join(problems))

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["excluded"] = self.excluded
        return out

    @classmethod
    def from_dict(cls, spec: Mapping[str, Any], source: str = "CONSORT counts") -> "ConsortCounts":
        """Counts from :meth:`to_dict`'s mapping (e.g. a saved ``--json``); checked like a build."""
        try:
            arms = [ArmFlow(**{k: v for k, v in a.items()}) for a in spec["arms"]]
            counts = cls(**{k: v for k, v in spec.items() if k not in ("arms", "excluded")}, arms=arms)
        except (KeyError, TypeError, AttributeError) as exc:
            raise InputError(f"{source}: malformed ({exc.__class__.__name__}: {exc})") from None
        counts.check()
        return counts


def _flag(value: Any, where: str, column: str) -> bool:
    text = "" if value is None else str(value).strip().lower()
    if not text:
        return True          # an empty received/analysed cell means yes (the usual case)
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise InputError(f"{where}, column {column!r}: expected yes or no (also 1/0, true/false, y/n)")


def flows_from_records(records: Iterable[Mapping[str, Any]], source: str = "follow-up records",
                       rows: Sequence[int] | None = None) -> list[ParticipantFlow]:
    """One :class:`ParticipantFlow` per record of the follow-up table (columns :data:`FLOW_COLUMNS`).

    ``rows`` numbers the records for messages (default: 2, 3, ... under a header row). Errors name
    the source, row and column: an unknown column, an empty participant, a yes/no cell that is
    neither, an unknown follow-up status, a missing reason, a participant listed twice.
    """
    records = list(records)
    numbers = list(rows) if rows is not None else list(range(2, len(records) + 2))
    flows: list[ParticipantFlow] = []
    first_row: dict[str, int] = {}
    for row, record in zip(numbers, records):
        where = f"{source} row {row}"
        unknown = sorted(str(k) for k in record if k not in FLOW_COLUMNS)
        if unknown:
            raise InputError(f"{where}: unknown column(s) {', '.join(repr(u) for u in unknown)} "
                             f"(expected {', '.join(FLOW_COLUMNS)})")
        cell = {c: "" if record.get(c) is None else str(record.get(c)).strip() for c in FLOW_COLUMNS}
        pid = cell["participant"]
        if not pid:
            raise InputError(f"{where}, column 'participant': empty")
        if pid in first_row:
            raise InputError(f"{where}, column 'participant': record {pid!r} already on row {first_row[pid]}")
        first_row[pid] = row
        where = f"{where} (record {pid!r})"
        received = _flag(cell["received"], where, "received")
        analysed = _flag(cell["analysed"], where, "analysed")
        follow_up = cell["follow_up"].lower() or "completed"
        if follow_up not in FOLLOW_UP:
            raise InputError(f"{where}, column 'follow_up': expected one of {', '.join(FOLLOW_UP)}")
        for needed, column, why in ((not received, "not_received_reason", "received is no"),
                                    (follow_up != "completed", "follow_up_reason", f"follow_up is {follow_up}"),
                                    (not analysed, "not_analysed_reason", "analysed is no")):
            if needed and not cell[column]:
                raise InputError(f"{where}, column {column!r}: a reason is required when {why}")
        flows.append(ParticipantFlow(pid, received, cell["not_received_reason"], follow_up,
                                     cell["follow_up_reason"], analysed, cell["not_analysed_reason"]))
    return flows


def read_flows(path: str | os.PathLike) -> list[ParticipantFlow]:
    """The follow-up CSV (one row per randomized participant, :data:`FLOW_COLUMNS`) as flows."""
    from prt.trial.inputs import read_csv

    table = read_csv(path, "follow-up CSV")
    if "participant" not in table.columns:
        raise InputError(f"{table.source}: no 'participant' column (expected {', '.join(FLOW_COLUMNS)})")
    unknown = [c for c in table.columns if c not in FLOW_COLUMNS]
    if unknown:
        raise InputError(f"{table.source}: unknown column(s) {', '.join(repr(u) for u in unknown)} "
                         f"(expected {', '.join(FLOW_COLUMNS)})")
    return flows_from_records(table.records, table.source, table.rows)


def consort_counts(screening: ScreeningLog, allocations: Mapping[str, str], flows: Iterable[ParticipantFlow],
                   arms: Sequence[str] = ARMS) -> ConsortCounts:
    """Count the diagram's boxes from the records; raises InputError if records contradict.

    >>> from prt.trial.eligibility import Enrolment, ScreeningLog, ScreeningResult
    >>> log = ScreeningLog()
    >>> log.screenings["a"] = ScreeningResult("a", "eligible", ())
    >>> log.enrolments["a"] = Enrolment("a", True)
    >>> log.screenings["b"] = ScreeningResult("b", "ineligible", ("mri_unsafe",))
    >>> counts = consort_counts(log, {"a": "prt"}, [ParticipantFlow("a")])
    >>> counts.assessed, counts.excluded, counts.randomized, counts.arms[0].analysed
    (2, 1, 1, 1)
    >>> counts.ineligible_reasons
    {'mri_unsafe': 1}
    """
    flows = list(flows)
    by_id: dict[str, ParticipantFlow] = {}
    for flow in flows:
        if flow.participant in by_id:
            raise InputError(f"record {flow.participant!r}: two follow-up records")
        if flow.participant not in allocations:
            raise InputError(f"record {flow.participant!r}: follow-up record but never randomized")
        by_id[flow.participant] = flow
    for pid, arm in allocations.items():
        if arm not in arms:
            raise InputError(f"record {pid!r}: arm {arm!r} is not one of {', '.join(arms)}")
        if screening.status(pid) != "eligible":
            raise InputError(f"record {pid!r}: randomized but latest screening is {screening.status(pid)!r}")
        if not screening.enrolled(pid):
            raise InputError(f"record {pid!r}: randomized but not recorded as enrolled")
        if pid not in by_id:
            raise InputError(f"record {pid!r}: randomized but no follow-up record (received, follow-up, analysed)")
    reasons: Counter[str] = Counter()
    not_eligible = incomplete = declined = 0
    other: Counter[str] = Counter()
    for pid, result in screening.screenings.items():
        if pid in allocations:
            continue
        if result.status == "ineligible":
            not_eligible += 1
            reasons.update(result.reasons)
        elif result.status == "incomplete":
            incomplete += 1
        else:
            decision = screening.enrolments.get(pid)
            if decision is None:
                other["No enrolment decision recorded"] += 1
            elif decision.enrolled:
                other["Enrolled, not randomized"] += 1
            elif decision.reason.lower().startswith("declin"):
                declined += 1
            else:
                other[decision.reason] += 1
    columns = []
    for arm in arms:
        col = ArmFlow(arm)
        for pid, allocated_arm in allocations.items():
            if allocated_arm != arm:
                continue
            f = by_id[pid]
            col.allocated += 1
            if f.received:
                col.received += 1
            else:
                col.not_received[f.not_received_reason] = col.not_received.get(f.not_received_reason, 0) + 1
            if f.follow_up == "lost":
                col.lost[f.follow_up_reason] = col.lost.get(f.follow_up_reason, 0) + 1
            elif f.follow_up == "discontinued":
                col.discontinued[f.follow_up_reason] = col.discontinued.get(f.follow_up_reason, 0) + 1
            if f.analysed:
                col.analysed += 1
            else:
                col.not_analysed[f.not_analysed_reason] = col.not_analysed.get(f.not_analysed_reason, 0) + 1
        columns.append(col)
    counts = ConsortCounts(
        assessed=len(screening.screenings), not_eligible=not_eligible,
        ineligible_reasons=dict(sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))),
        incomplete=incomplete, declined=declined, other=dict(other), randomized=len(allocations),
        arms=columns,
    )
    counts.check()
    return counts


# ----------------------------------------------------------------------------- drawing
def _plain(text: str) -> str:
    """Free text on one line: any run of whitespace or control characters becomes one space."""
    return " ".join("".join(ch if ch.isprintable() else " " for ch in str(text)).split())


def _reason_label(reason: str, labels: Mapping[str, str]) -> str:
    """A reason code's label (``mri_unsafe`` -> its label, else words); free text as written."""
    if reason in labels:
        return _plain(labels[reason])
    if _CODE.fullmatch(reason):
        return reason.replace("_", " ").capitalize()
    text = _plain(reason)
    return text[:1].upper() + text[1:]


def _reason_lines(reasons: Mapping[str, int], labels: Mapping[str, str]) -> list[str]:
    return [f"  \u2022 {_reason_label(code, labels)} (n={n})" for code, n in reasons.items()]


def diagram_text(counts: ConsortCounts, reason_labels: Mapping[str, str] | None = None,
                 arm_labels: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The diagram's boxes as lines of text (what is drawn; also handy for tests and screens)."""
    labels = {**REASON_LABELS, **(reason_labels or {})}
    arm_names = {**ARM_NAMES, **(arm_labels or {})}
    excluded = [f"Excluded (n={counts.excluded})",
                f"  Not meeting inclusion criteria (n={counts.not_eligible})",
                *["  " + line for line in _reason_lines(counts.ineligible_reasons, labels)]]
    if counts.incomplete:
        excluded.append(f"  Screening incomplete (n={counts.incomplete})")
    excluded.append(f"  Declined to participate (n={counts.declined})")
    n_other = sum(counts.other.values())
    excluded.append(f"  Other reasons (n={n_other})")
    excluded += ["  " + line for line in _reason_lines(counts.other, labels)]
    arms = []
    for a in counts.arms:
        arms.append({
            "allocation": [f"Allocated to {arm_names.get(a.arm, a.arm)} (n={a.allocated})",
                           f"  Received allocated intervention (n={a.received})",
                           f"  Did not receive allocated intervention (n={a.n_not_received})",
                           *_reason_lines(a.not_received, labels)],
            "follow_up": [f"Lost to follow-up (n={a.n_lost})", *_reason_lines(a.lost, labels),
                          f"Discontinued intervention (n={a.n_discontinued})",
                          *_reason_lines(a.discontinued, labels)],
            "analysis": [f"Analysed (n={a.analysed})",
                         f"  Excluded from analysis (n={a.n_not_analysed})",
                         *_reason_lines(a.not_analysed, labels)],
        })
    return {"assessed": [f"Assessed for eligibility (n={counts.assessed})"], "excluded": excluded,
            "randomized": [f"Randomized (n={counts.randomized})"], "arms": arms}


def _wrap(lines: Sequence[str], width_chars: int) -> list[str]:
    """Wrap each line to the box; the first (bold) line gets 10% fewer characters."""
    out = []
    for n, line in enumerate(lines):
        width = width_chars if n else int(width_chars * 0.9)
        indent = len(line) - len(line.lstrip(" "))
        body = line.strip()
        sub = "    " if body.startswith("\u2022") else "  "
        wrapped = textwrap.wrap(body, max(10, width - indent)) or [""]
        out.append(" " * indent + wrapped[0])
        out += [" " * indent + sub + w for w in wrapped[1:]]
    return out


def draw_consort(counts: ConsortCounts, reason_labels: Mapping[str, str] | None = None,
                 arm_labels: Mapping[str, str] | None = None, title: str | None = None):
    """A matplotlib Figure of the CONSORT 2010 flow diagram (checks the counts first)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure
    from matplotlib.patches import FancyBboxPatch

    counts.check()
    text = diagram_text(counts, reason_labels, arm_labels)
    k = len(counts.arms)
    fontsize = 8.5
    line_h = fontsize * 1.45 / 72          # inches per text line
    pad = 0.09
    margin, gap = 0.25, 0.25
    width = max(10.0, k * 3.3 + 2 * margin + (k - 1) * gap)
    col_w = (width - 2 * margin - (k - 1) * gap) / k
    em = fontsize / 72 * 0.56                # inches per character, DejaVu Sans ~0.56 em
    chars = lambda w: int(w / em)  # noqa: E731

    def height(lines):
        return len(lines) * line_h + 2 * pad

    excluded_w = min(4.6, width / 2 - 0.3)
    excluded = _wrap(text["excluded"], chars(excluded_w - 2 * pad))
    excluded_w = min(excluded_w, max(len(s) for s in excluded) * em * 0.92 + 2 * pad + 0.1)
    arm_boxes = [{key: _wrap(lines, chars(col_w - 2 * pad)) for key, lines in arm.items()} for arm in text["arms"]]
    row_h = {key: max(height(a[key]) for a in arm_boxes) for key in ("allocation", "follow_up", "analysis")}
    center = width / 2
    small_w = 3.0
    header_h = 0.28

    # vertical layout, top down (y grows downward; flipped at the end)
    y = margin + (0.35 if title else 0)
    layout: list[tuple[str, float, float, float, float, list[str]]] = []  # kind, x, y, w, h, lines
    layout.append(("header", margin, y, width - 2 * margin, header_h, ["Enrollment"]))
    y += header_h + 0.2
    assessed_y = y
    layout.append(("box", center - small_w / 2, y, small_w, height(text["assessed"]), text["assessed"]))
    y += height(text["assessed"]) + 0.25
    excluded_y = y
    ex_x = center + 0.45
    layout.append(("box", ex_x, y, excluded_w, height(excluded), excluded))
    y += height(excluded) + 0.25
    randomized_y = y
    layout.append(("box", center - small_w / 2, y, small_w, height(text["randomized"]), text["randomized"]))
    y += height(text["randomized"]) + 0.3
    rows = {}
    for key, name in (("allocation", "Allocation"), ("follow_up", "Follow-Up"), ("analysis", "Analysis")):
        layout.append(("header", margin, y, width - 2 * margin, header_h, [name]))
        y += header_h + 0.22
        rows[key] = y
        for i, a in enumerate(arm_boxes):
            layout.append(("box", margin + i * (col_w + gap), y, col_w, row_h[key], a[key]))
        y += row_h[key] + 0.22
    total_h = y + margin - 0.22

    fig = Figure(figsize=(width, total_h), dpi=150)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(total_h, 0)
    ax.axis("off")
    if title:
        ax.text(center, margin, _plain(title), ha="center", va="top", fontsize=fontsize + 2, fontweight="bold",
                parse_math=False)
    for kind, x, top, w, h, lines in layout:
        if kind == "header":
            ax.add_patch(FancyBboxPatch((x, top), w, h, boxstyle="round,pad=0,rounding_size=0.08",
                                        facecolor="#cfe2f3", edgecolor="#6d9eeb", linewidth=0.8, zorder=3))
            ax.text(x + w / 2, top + h / 2, lines[0], ha="center", va="center", fontsize=fontsize + 1,
                    fontweight="bold", zorder=4, parse_math=False)
            continue
        ax.add_patch(FancyBboxPatch((x, top), w, h, boxstyle="square,pad=0", facecolor="white",
                                    edgecolor="black", linewidth=0.9))
        for j, line in enumerate(lines):
            ax.text(x + pad, top + pad + (j + 0.5) * line_h, line, ha="left", va="center", fontsize=fontsize,
                    fontweight="bold" if j == 0 else "normal", family="DejaVu Sans", parse_math=False)

    def arrow(x0, y0, x1, y1):
        ax.annotate("", xy=(x1, y1), xytext=(x0, y0), parse_math=False,
                    arrowprops=dict(arrowstyle="-|>", color="black", linewidth=0.9, shrinkA=0, shrinkB=0))

    def line(x0, y0, x1, y1):
        ax.plot([x0, x1], [y0, y1], color="black", linewidth=0.9)

    assessed_bottom = assessed_y + height(text["assessed"])
    arrow(center, assessed_bottom, center, randomized_y)
    branch_y = excluded_y + min(0.35, height(excluded) / 2)
    arrow(center, branch_y, ex_x, branch_y)
    randomized_bottom = randomized_y + height(text["randomized"])
    split_y = randomized_bottom + 0.12
    line(center, randomized_bottom, center, split_y)
    xs = [margin + i * (col_w + gap) + col_w / 2 for i in range(k)]
    line(xs[0], split_y, xs[-1], split_y)
    for x in xs:
        arrow(x, split_y, x, rows["allocation"])
    for upper, lower in (("allocation", "follow_up"), ("follow_up", "analysis")):
        for i, x in enumerate(xs):
            arrow(x, rows[upper] + row_h[upper], x, rows[lower])
    return fig


def render_consort(counts: ConsortCounts, formats: Sequence[str] = ("svg", "png"),
                   **kwargs: Any) -> dict[str, bytes]:
    """The diagram's files as bytes by format (deterministic SVG); nothing touches the disk."""
    import matplotlib

    unknown = [f for f in formats if f not in ("svg", "png")]
    if unknown or not formats:
        raise InputError(f"CONSORT formats: expected svg or png, got {', '.join(unknown) or 'none'}")
    fig = draw_consort(counts, **kwargs)
    out = {}
    with matplotlib.rc_context({"svg.hashsalt": "prt-consort", "svg.fonttype": "none", "text.usetex": False}):
        for fmt in formats:
            buffer = io.BytesIO()
            meta = {"Date": None} if fmt == "svg" else {}
            fig.savefig(buffer, format=fmt, metadata=meta)
            out[fmt] = buffer.getvalue()
    return out


def write_consort(counts: ConsortCounts, stem: str | Path, formats: Sequence[str] = ("svg", "png"),
                  **kwargs: Any) -> list[Path]:
    """Draw the diagram and write ``stem.svg`` and ``stem.png``, each atomically.

    Every file is rendered before any is written, so a drawing error leaves the previous diagram
    untouched; each write replaces its file whole (:func:`prt.files.atomic_write`).
    """
    from prt.files import atomic_write
    from prt.trial.inputs import output_file

    targets = {fmt: output_file(f"{stem}.{fmt}") for fmt in formats}
    rendered = render_consort(counts, formats, **kwargs)
    return [atomic_write(targets[fmt], data) for fmt, data in rendered.items()]
