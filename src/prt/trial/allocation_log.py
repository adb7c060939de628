"""The allocation log: append-only, hash-chained JSON Lines that can be verified and replayed.

Why: concealment and auditability of randomization (CONSORT 2010 items 8-10; ICH E9 section 2.3).
Every allocation is one line holding its inputs (participant, raw factor values), the random
draw, the generator state before the draw, the proposal (levels, imbalance scores, probabilities)
and the result, plus ``prev_hash`` (the previous line's ``hash``) and ``hash`` = SHA-256 of the
line's canonical JSON without ``hash``. The first line is a header holding the minimization config
and the random source. Editing, removing or reordering any line breaks the chain; truncating the
tail is caught against an anchored head hash (``verify_log(..., head=...)``; ``allocate`` returns
the new head for staff to record outside the log).

Random source (documented, reproducible): ``pcg64``, numpy's PCG64 bit generator seeded once in
the header (from ``secrets.randbits(128)`` unless a seed is given); each draw is
``numpy.random.Generator(PCG64).random()`` from the state recorded on the line, and the state
after one draw must equal the next line's recorded state. ``secrets``: each draw is
``secrets.randbits(53) / 2**53`` (unpredictable; replay uses the recorded draws).

Writing: one ``os.write`` of the whole line to a file opened with ``O_APPEND``, under an exclusive
``flock``, then ``fsync``; on failure the file is truncated back to its size before the write, so a
failed write leaves it unchanged. Lines are never rewritten.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np

from prt.errors import InputError
from prt.trial.minimization import Minimization, MinimizationConfig

LOG_VERSION = 1
GENESIS = "0" * 64
SOURCES = ("pcg64", "secrets")


# ----------------------------------------------------------------------------- hashing, I/O
def canonical_json(entry: Mapping[str, Any]) -> str:
    """The one serialization that is hashed: sorted keys, no spaces, ASCII."""
    return json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)


def entry_hash(entry: Mapping[str, Any]) -> str:
    body = {k: v for k, v in entry.items() if k != "hash"}
    try:
        text = canonical_json(body)
    except ValueError:  # NaN or infinity: prt never writes them
        return "not-hashable"
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def seal(entry: dict[str, Any], prev_hash: str) -> dict[str, Any]:
    """Set ``prev_hash`` and ``hash`` on a new entry."""
    entry = dict(entry)
    entry.pop("hash", None)
    entry["prev_hash"] = prev_hash
    entry["hash"] = entry_hash(entry)
    return entry


def append_jsonl(path: str | Path, entries: Iterable[Mapping[str, Any]]) -> None:
    """Append lines atomically: O_APPEND, one write, fsync; on failure truncate back (unchanged)."""
    data = _encode(entries)
    if not data:
        return
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        _lock(fd)
        _append_fd(fd, data)
    finally:
        os.close(fd)


def _encode(entries: Iterable[Mapping[str, Any]]) -> bytes:
    return "".join(canonical_json(e) + "\n" for e in entries).encode("ascii")


def _append_fd(fd: int, data: bytes) -> None:
    """Write ``data`` at the end of the (locked, O_APPEND) file; on any failure restore its size."""
    size = os.fstat(fd).st_size
    try:
        written = os.write(fd, data)
        if written != len(data):
            raise OSError(f"short write ({written} of {len(data)} bytes)")
        os.fsync(fd)
    except BaseException:
        os.ftruncate(fd, size)
        os.fsync(fd)
        raise


def _lock(fd: int) -> None:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        return
    fcntl.flock(fd, fcntl.LOCK_EX)


def read_jsonl(path: str | Path, what: str = "log") -> list[dict[str, Any]]:
    """Parse a JSON Lines file; InputError naming the line that is not a JSON object."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{what} {path}: file not found") from None
    except UnicodeDecodeError:
        raise InputError(f"{what} {path}: not UTF-8 text") from None
    entries = []
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the newline that ends the last line
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            raise InputError(f"{what} {path}: line {number} is blank (prt never writes blank lines)")
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            raise InputError(f"{what} {path}: line {number} is not valid JSON") from None
        if not isinstance(entry, dict):
            raise InputError(f"{what} {path}: line {number} is not a JSON object")
        entries.append(entry)
    return entries


# ----------------------------------------------------------------------------- random source
def _pcg64_state(seed: int) -> dict[str, Any]:
    return np.random.PCG64(seed).state


def draw_from_state(state: Mapping[str, Any]) -> tuple[float, dict[str, Any]]:
    """One uniform draw from a recorded PCG64 state, and the state after it."""
    bit_generator = np.random.PCG64()
    try:
        bit_generator.state = dict(state)
    except (TypeError, ValueError, KeyError):
        raise InputError("allocation log: recorded generator state is not a PCG64 state") from None
    draw = float(np.random.Generator(bit_generator).random())
    return draw, bit_generator.state


# ----------------------------------------------------------------------------- result objects
@dataclass(frozen=True)
class Allocation:
    """One allocation as recorded (and as recomputed by replay)."""

    seq: int
    participant: str
    arm: str
    levels: tuple[int, ...]
    scores: tuple[float, ...]
    probabilities: tuple[float, ...]
    draw: float
    timestamp: str
    hash: str


@dataclass(frozen=True)
class LogVerification:
    """Result of :func:`verify_entries`: the chain is intact (else InputError was raised)."""

    n_allocations: int
    head: str
    config: MinimizationConfig
    source: str


# ----------------------------------------------------------------------------- header
def new_header(config: MinimizationConfig, source: str = "pcg64", seed: int | None = None,
               created: str | None = None) -> dict[str, Any]:
    """The sealed first line of a new log."""
    if source not in SOURCES:
        raise InputError(f"allocation log: random source must be one of {', '.join(SOURCES)}")
    header: dict[str, Any] = {
        "type": "header",
        "seq": 0,
        "version": LOG_VERSION,
        "created": created or _now(),
        "config": config.to_dict(),
        "source": source,
    }
    if source == "pcg64":
        if seed is None:
            seed = secrets.randbits(128)
        if not isinstance(seed, int) or seed < 0:
            raise InputError("allocation log: seed must be a non-negative integer")
        header["seed"] = seed
        header["initial_state"] = _pcg64_state(seed)
    elif seed is not None:
        raise InputError("allocation log: a seed applies only to the pcg64 source")
    return seal(header, GENESIS)


def create_log(path: str | Path, config: MinimizationConfig, source: str = "pcg64",
               seed: int | None = None, created: str | None = None) -> dict[str, Any]:
    """Start a new allocation log at ``path``; refuses to touch an existing non-empty file."""
    path = Path(path)
    if path.exists() and path.stat().st_size > 0:
        raise InputError(f"allocation log {path}: already exists (a log is never rewritten)")
    header = new_header(config, source, seed, created)
    append_jsonl(path, [header])
    return header


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


# ----------------------------------------------------------------------------- verify, replay
_ALLOCATION_KEYS = {"type", "seq", "participant", "factors", "levels", "scores", "probabilities",
                    "draw", "state_before", "arm", "timestamp", "prev_hash", "hash"}
_HEADER_KEYS = {"type", "seq", "version", "created", "config", "source", "prev_hash", "hash"}


def verify_entries(entries: list[Mapping[str, Any]], head: str | None = None,
                   where: str = "allocation log") -> LogVerification:
    """Check the chain: header first, each hash recomputes, each prev_hash links, seq counts up.

    With ``head`` (a hash recorded outside the log), also check that entry is present, which
    detects removal of lines at the end. Raises InputError naming the first bad line.
    """
    if not entries:
        raise InputError(f"{where}: empty (no header)")
    prev = GENESIS
    config = None
    source = ""
    seen_head = head is None
    for i, entry in enumerate(entries):
        line = f"{where}: line {i + 1}"
        if entry.get("hash") != entry_hash(entry):
            raise InputError(f"{line} (seq {entry.get('seq')!r}): hash does not match its content (edited)")
        if entry.get("prev_hash") != prev:
            raise InputError(f"{line} (seq {entry.get('seq')!r}): does not follow the previous line "
                             "(a line was removed, inserted or reordered)")
        if entry.get("seq") != i:
            raise InputError(f"{line}: seq {entry.get('seq')!r}, expected {i}")
        if i == 0:
            if entry.get("type") != "header" or not _HEADER_KEYS <= set(entry):
                raise InputError(f"{line}: expected the log header")
            if entry.get("version") != LOG_VERSION:
                raise InputError(f"{line}: unsupported log version {entry.get('version')!r}")
            config = MinimizationConfig.from_dict(entry["config"], source=f"{line} config")
            source = entry.get("source")
            if source not in SOURCES or (source == "pcg64" and "initial_state" not in entry):
                raise InputError(f"{line}: unknown random source or missing initial state")
        elif entry.get("type") != "allocation" or set(entry) != _ALLOCATION_KEYS:
            raise InputError(f"{line}: not an allocation entry (expected keys {', '.join(sorted(_ALLOCATION_KEYS))})")
        prev = entry["hash"]
        seen_head = seen_head or prev == head
    if not seen_head:
        raise InputError(f"{where}: the anchored head {head} is not in the log (lines removed at the end?)")
    return LogVerification(n_allocations=len(entries) - 1, head=prev, config=config, source=source)


def replay_entries(entries: list[Mapping[str, Any]], head: str | None = None,
                   where: str = "allocation log") -> tuple[Minimization, list[Allocation]]:
    """Verify, then recompute every allocation from config + inputs + recorded draws.

    Checks per line: the participant is new; levels, scores and probabilities recompute (to
    1e-12); for pcg64 the recorded state chain continues from the header and regenerates the draw
    exactly; the draw picks the recorded arm. Returns the rebuilt minimization and allocations.
    """
    check = verify_entries(entries, head, where)
    minimization = Minimization(check.config)
    state = entries[0].get("initial_state")
    allocations: list[Allocation] = []
    seen: set[str] = set()
    for i, entry in enumerate(entries[1:], start=1):
        pid = str(entry["participant"])
        line = f"{where}: line {i + 1} (participant {pid!r})"
        if pid in seen:
            raise InputError(f"{line}: participant allocated twice")
        seen.add(pid)
        if not isinstance(entry["factors"], Mapping):
            raise InputError(f"{line}: factors must be a mapping")
        proposal = minimization.propose(entry["factors"], pid)
        if list(proposal.levels) != list(entry["levels"]):
            raise InputError(f"{line}: recorded levels do not match the factors")
        for name in ("scores", "probabilities"):
            recorded = entry[name]
            if not isinstance(recorded, list) or len(recorded) != len(check.config.arms) or not np.allclose(
                    np.asarray(recorded, dtype=float), getattr(proposal, name), rtol=0, atol=1e-12):
                raise InputError(f"{line}: recorded {name} do not recompute")
        draw = entry["draw"]
        if not isinstance(draw, float) or not 0.0 <= draw < 1.0:
            raise InputError(f"{line}: draw must be a number in [0, 1)")
        if check.source == "pcg64":
            if entry["state_before"] != state:
                raise InputError(f"{line}: generator state does not continue from the previous draw")
            regenerated, state = draw_from_state(entry["state_before"])
            if regenerated != draw:
                raise InputError(f"{line}: the recorded draw is not the generator's draw")
        elif entry["state_before"] is not None:
            raise InputError(f"{line}: a secrets draw has no generator state")
        arm = minimization.decide(proposal, draw)
        if arm != entry["arm"]:
            raise InputError(f"{line}: recorded arm {entry['arm']!r} but the draw gives {arm!r}")
        minimization.record(proposal.levels, arm)
        allocations.append(Allocation(i, pid, arm, proposal.levels, proposal.scores,
                                      proposal.probabilities, draw, str(entry["timestamp"]), entry["hash"]))
    return minimization, allocations


def next_entry(entries: list[Mapping[str, Any]], participant: str, factors: Mapping[str, Any],
               timestamp: str | None = None, draw: float | None = None) -> dict[str, Any]:
    """The sealed line that allocates ``participant`` next (pure: nothing is written).

    ``draw`` is only for a ``secrets`` log in tests; normally it comes from the log's source.
    """
    minimization, allocations = replay_entries(entries)
    participant = str(participant).strip()
    if not participant:
        raise InputError("allocation: participant id is empty")
    if any(a.participant == participant for a in allocations):
        raise InputError(f"participant {participant!r}: already allocated (an allocation is made exactly once)")
    proposal = minimization.propose(factors, participant)
    header = entries[0]
    if header["source"] == "pcg64":
        if draw is not None:
            raise InputError("allocation: a pcg64 log draws from its own generator")
        if allocations:
            _, state_before = draw_from_state(entries[-1]["state_before"])
        else:
            state_before = dict(header["initial_state"])
        draw, _ = draw_from_state(state_before)
    else:
        state_before = None
        if draw is None:
            draw = secrets.randbits(53) / 2.0 ** 53
    arm = minimization.decide(proposal, float(draw))
    entry = {
        "type": "allocation",
        "seq": len(entries),
        "participant": participant,
        "factors": {k: _json_value(v) for k, v in factors.items()},
        "levels": list(proposal.levels),
        "scores": list(proposal.scores),
        "probabilities": list(proposal.probabilities),
        "draw": float(draw),
        "state_before": state_before,
        "arm": arm,
        "timestamp": timestamp or _now(),
    }
    return seal(entry, entries[-1]["hash"])


def _json_value(value: Any) -> Any:
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


# ----------------------------------------------------------------------------- file-level API
def verify_log(path: str | Path, head: str | None = None) -> LogVerification:
    """Verify the chain of the log at ``path`` (and the anchored ``head`` if given)."""
    return verify_entries(read_jsonl(path, "allocation log"), head, where=f"allocation log {path}")


def replay_log(path: str | Path, head: str | None = None) -> list[Allocation]:
    """Verify and replay the log at ``path``; the recomputed allocations."""
    return replay_entries(read_jsonl(path, "allocation log"), head, where=f"allocation log {path}")[1]


def allocate(path: str | Path, participant: str, factors: Mapping[str, Any], *, eligibility: str,
             enrolled: bool, timestamp: str | None = None) -> Allocation:
    """Allocate one enrolled, eligible participant with complete factors, and append it to the log.

    The whole log is verified and replayed first (a broken log allocates nobody). ``eligibility``
    is the participant's latest screening status; anything but ``"eligible"`` is refused, as is a
    participant not enrolled (consented) or already in the log.
    """
    if eligibility != "eligible":
        raise InputError(f"participant {participant!r}: screening status is {eligibility!r}, "
                         "only eligible participants are allocated")
    if not enrolled:
        raise InputError(f"participant {participant!r}: not enrolled (consent not recorded)")
    path = Path(path)
    if not path.is_file():
        raise InputError(f"allocation log {path}: file not found (start one with create_log)")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND)  # one lock across read + append
    try:
        _lock(fd)
        entries = read_jsonl(path, "allocation log")
        entry = next_entry(entries, participant, factors, timestamp)
        _append_fd(fd, _encode([entry]))
    finally:
        os.close(fd)
    return Allocation(entry["seq"], entry["participant"], entry["arm"], tuple(entry["levels"]),
                      tuple(entry["scores"]), tuple(entry["probabilities"]), entry["draw"],
                      entry["timestamp"], entry["hash"])
