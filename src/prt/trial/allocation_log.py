"""The allocation log: append-only JSON Lines, hash-chained, signed, verifiable and replayable.

Why: concealment and auditability of randomization (CONSORT 2010 items 8-10; ICH E9 section 2.3).
Every allocation is one line holding its inputs (participant, factor values from the screening
record), the random draw, the generator state before the draw, the proposal (levels, imbalance
scores, probabilities) and the result, plus ``prev_hash`` (the previous line's ``hash``),
``hash`` = SHA-256 of the line's canonical JSON without ``hash`` and ``mac``, and ``mac`` =
HMAC-SHA256 of the line without ``mac`` under a 256-bit secret key (RFC 2104) that only the
unblinded statistician holds (:func:`create_key`). The first line is a header holding the
minimization config, the random source and the key's id (:func:`key_id`).

What this gives (docs/trial.md, "Integrity model"): without the key nobody can edit, insert,
reorder or append a line, or start a different log under the same key id, without verification
with the key failing. Nothing in the file can show that lines were removed from its end, or that
the key holder regenerated it: a head recorded outside the log (``head``, the receipt printed on
every allocation) or a witness file of every head (:func:`append_witness`) catches both.

Random source (documented, reproducible): ``pcg64``, numpy's PCG64 bit generator seeded once in
the header (from ``secrets.randbits(128)`` unless a seed is given); each draw is
``numpy.random.Generator(PCG64).random()`` from the state recorded on the line, and the state
after one draw must equal the next line's recorded state. ``secrets``: each draw is
``secrets.randbits(53) / 2**53`` (unpredictable; replay uses the recorded draws).

Writing: the log is created whole and exclusively (:func:`prt.files.atomic_write` with
``exclusive``: of ten simultaneous ``init-log`` one succeeds). Allocations: one ``os.write`` of the
whole line to the file opened with ``O_APPEND`` under an exclusive ``flock`` held from reading the
log to appending, then ``fsync``; on failure the file is truncated back, so a failed write leaves
it unchanged. Lines are never rewritten. Log version 1 (before keys) is still read, as unsigned.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import os
import re
import secrets
import stat
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np

from prt.errors import InputError, LogIntegrityError
from prt.files import atomic_write, decode_text, loads_json, os_error, read_bytes, read_text
from prt.trial.minimization import Minimization, MinimizationConfig

#: The log format written now (signed); version 1 logs (unsigned) are still read.
LOG_VERSION = 2
UNSIGNED_VERSION = 1
GENESIS = "0" * 64
SOURCES = ("pcg64", "secrets")
#: Bytes of a key made by :func:`create_key` (256 bits, the HMAC-SHA256 block-size guidance of RFC 2104).
KEY_BYTES = 32
#: Largest seed: PCG64 is seeded from 128 bits.
MAX_SEED = 2 ** 128 - 1

_HEX64 = re.compile(r"[0-9a-f]{64}")
_DIGITS = re.compile(r"[0-9]+")


# ----------------------------------------------------------------------------- hashing, keys
def canonical_json(entry: Mapping[str, Any]) -> str:
    """The one serialization that is hashed and signed: sorted keys, no spaces, ASCII."""
    return json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)


def entry_hash(entry: Mapping[str, Any]) -> str:
    """SHA-256 of the entry's canonical JSON without ``hash`` and ``mac``."""
    body = {k: v for k, v in entry.items() if k not in ("hash", "mac")}
    try:
        text = canonical_json(body)
    except (TypeError, ValueError):  # NaN, infinity, non-JSON values: prt never writes them
        return "not-hashable"
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def entry_mac(entry: Mapping[str, Any], key: bytes) -> str:
    """HMAC-SHA256 under ``key`` of the entry's canonical JSON without ``mac`` (covers ``hash``)."""
    body = {k: v for k, v in entry.items() if k != "mac"}
    try:
        text = canonical_json(body)
    except (TypeError, ValueError):
        return "not-signable"
    return hmac.new(key, text.encode("ascii"), hashlib.sha256).hexdigest()


def key_id(key: bytes) -> str:
    """A public name of a key (recorded in the header): a domain-separated SHA-256, 128 bits shown.

    It tells a wrong key from a tampered log and reveals nothing usable about the key.
    """
    return hashlib.sha256(b"prt allocation log key id\x00" + key).hexdigest()[:32]


def seal(entry: dict[str, Any], prev_hash: str, key: bytes | None = None) -> dict[str, Any]:
    """Set ``prev_hash``, ``hash`` and (with a key) ``mac`` on a new entry."""
    entry = {k: v for k, v in entry.items() if k not in ("hash", "mac")}
    entry["prev_hash"] = prev_hash
    entry["hash"] = entry_hash(entry)
    if key is not None:
        entry["mac"] = entry_mac(entry, key)
    return entry


def create_key(path: str | Path) -> str:
    """Write a new random 256-bit key (64 hex digits) to ``path``, mode 0600; return its id.

    The file is created exclusively: an existing file is never replaced (a log's signatures
    depend on its key), and a failed write leaves nothing behind.
    """
    path = Path(path)
    if path.is_dir():
        raise InputError(f"key file {path}: is a directory, expected a file name")
    key = secrets.token_bytes(KEY_BYTES)
    data = (key.hex() + "\n").encode("ascii")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise InputError(f"key file {path}: already exists (prt never overwrites a key: the logs signed with "
                         "it could no longer be verified)") from None
    except OSError as exc:
        raise os_error(f"key file {path}", exc, "cannot be created") from None
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(fd, 0o600)
        if os.write(fd, data) != len(data):
            raise OSError(f"short write to {path}")
        os.fsync(fd)
    except BaseException as exc:
        os.close(fd)
        _remove_quietly(path)
        if isinstance(exc, OSError):
            raise os_error(f"key file {path}", exc, "cannot be written") from None
        raise
    os.close(fd)
    return key_id(key)


def load_key(path: str | Path) -> bytes:
    """The key in a file made by :func:`create_key`; InputError if unreadable, malformed or not private."""
    label = f"key file {path}"
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise InputError(f"{label}: file not found") from None
    except OSError as exc:
        raise os_error(label, exc) from None
    if os.name == "posix" and st.st_mode & 0o077:
        raise InputError(f"{label}: readable or writable by other users (mode {st.st_mode & 0o777:o}); "
                         f"the key must stay private: chmod 600 {path}")
    if not stat.S_ISREG(st.st_mode):  # checked before reading: /dev/zero or a FIFO would never end
        raise os_error(label, IsADirectoryError() if stat.S_ISDIR(st.st_mode) else OSError(0, "not a regular file"))
    try:
        with open(path, "rb") as handle:
            data = handle.read(1024)  # a key file is 65 bytes
    except OSError as exc:
        raise os_error(label, exc) from None
    try:
        text = data.decode("ascii").strip().lower()
    except UnicodeDecodeError:
        text = ""
    if not _HEX64.fullmatch(text):
        raise InputError(f"{label}: expected 64 hexadecimal digits (a key made by 'prt trial keygen')")
    return bytes.fromhex(text)


def parse_seed(value: Any, what: str = "seed") -> int:
    """A PCG64 seed: a whole number 0 .. 2**128 - 1 (text: ASCII digits only, so ``4_5`` or ``1e5``
    are refused instead of read as something else)."""
    if isinstance(value, str):
        text = value.strip()
        if not _DIGITS.fullmatch(text):
            raise InputError(f"{what} {value!r}: expected a whole number from 0 to 2**128 - 1")
        value = int(text)
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 0 <= int(value) <= MAX_SEED:
        raise InputError(f"{what}: expected a whole number from 0 to 2**128 - 1")
    return int(value)


def parse_head(value: str, what: str = "--head") -> str:
    """A head hash as printed by ``allocate`` (64 lowercase hex digits)."""
    text = str(value).strip().lower()
    if not _HEX64.fullmatch(text):
        raise InputError(f"{what} {value!r}: expected the 64-digit hash printed as 'head'")
    return text


# ----------------------------------------------------------------------------- file I/O
def append_jsonl(path: str | Path, entries: Iterable[Mapping[str, Any]]) -> None:
    """Append lines atomically: O_APPEND, one write, fsync; on failure truncate back (unchanged).

    A file this call created is removed again when the write fails, so a failure never leaves
    an empty log behind.
    """
    data = _encode(entries)
    if data:
        _append_bytes(path, data)


def _append_bytes(path: str | Path, data: bytes) -> None:
    path = Path(path)
    while True:
        created = False
        try:
            try:
                fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_EXCL, 0o600)
                created = True
            except FileExistsError:
                fd = os.open(path, os.O_RDWR | os.O_APPEND)
        except OSError as exc:
            raise os_error(path, exc, "cannot be written") from None
        try:
            _lock(fd)
            if os.fstat(fd).st_nlink == 0:   # removed by a failed first write while we waited: reopen
                continue
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":  # appending would glue two lines into one
                raise InputError(f"{path}: the last line has no newline (the file was cut or edited, or is "
                                 "not a prt log); prt appends only to a file whose lines are whole")
            try:
                _append_fd(fd, data)
            except BaseException:
                if created and os.fstat(fd).st_size == 0:
                    _remove_quietly(path)
                raise
            return
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


def _remove_quietly(path) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def read_jsonl(path: str | Path, what: str = "log") -> list[dict[str, Any]]:
    """Parse a JSON Lines file strictly (duplicate keys, NaN refused); InputError naming the line."""
    label = f"{what} {path}"
    text = read_text(path, what)
    entries = []
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the newline that ends the last line
    for number, line in enumerate(lines, start=1):
        where = f"{label}: line {number}"
        if not line.strip():
            raise InputError(f"{where} is blank (prt never writes blank lines)")
        entry = loads_json(line, where)
        if not isinstance(entry, dict):
            raise InputError(f"{where} is not a JSON object")
        entries.append(entry)
    return entries


def read_log(path: str | Path) -> list[dict[str, Any]]:
    """The lines of an allocation log, parsed strictly (see :func:`parse_log`)."""
    return parse_log(read_bytes(path, "allocation log"), f"allocation log {path}")


def parse_log(data: bytes, where: str = "allocation log") -> list[dict[str, Any]]:
    """Lines of a log as prt wrote them, or LogIntegrityError naming the first line that is not.

    Each line must be a JSON object (duplicate keys refused) written exactly in prt's canonical
    form, and the file must end with a newline: any changed byte is caught, not only changed values.
    """
    if not data:
        raise LogIntegrityError(f"{where}: empty (no header; prt never leaves an empty log)")
    if not data.endswith(b"\n"):
        raise LogIntegrityError(f"{where}: the last line has no newline (the file was cut or edited)")
    entries = []
    for number, raw in enumerate(data[:-1].split(b"\n"), start=1):
        line = f"{where}: line {number}"
        if not raw.strip():
            raise LogIntegrityError(f"{line} is blank (prt never writes blank lines)")
        try:
            text = raw.decode("ascii")
        except UnicodeDecodeError:
            raise LogIntegrityError(f"{line}: not ASCII (prt writes ASCII only: the line was edited)") from None
        try:
            entry = loads_json(text, line)
        except InputError as exc:
            message = str(exc).replace("malformed JSON at line 1, column", "malformed JSON at column")
            raise LogIntegrityError(f"{message} (the line was edited or damaged)") from None
        if not isinstance(entry, dict):
            raise LogIntegrityError(f"{line} is not a JSON object (the line was edited)")
        try:
            canonical = canonical_json(entry)
        except (TypeError, ValueError):
            canonical = None
        if canonical != text:
            raise LogIntegrityError(f"{line}: not in prt's canonical form (the line was edited)")
        entries.append(entry)
    return entries


# ----------------------------------------------------------------------------- witness
@dataclass(frozen=True)
class WitnessMark:
    """One witnessed head: the log's line ``seq`` had hash ``head`` at ``time``."""

    seq: int
    head: str
    time: str
    line: int


def append_witness(path: str | Path, seq: int, head: str, time: str) -> None:
    """Append ``SEQ HEAD TIME`` to a witness file (created if absent), atomically as the log."""
    _append_bytes(path, f"{int(seq)} {head} {time}\n".encode("ascii"))


def _writable_witness(path: str | Path) -> Path:
    """Check before the log is written that the witness can be appended to (an existing file, or a
    new one in an existing folder), so a typo never leaves an allocation without its witness line."""
    path = Path(path)
    if path.is_dir():
        raise InputError(f"witness {path}: is a directory, expected a file")
    if not path.exists() and not path.parent.is_dir():
        raise InputError(f"witness {path}: the folder {path.parent} does not exist")
    try:
        with open(path, "rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            if size:
                handle.seek(size - 1)
            whole = size == 0 or handle.read(1) == b"\n"
    except FileNotFoundError:
        whole = True
    except OSError as exc:
        raise os_error(f"witness {path}", exc) from None
    if not whole:  # the new mark would be glued onto the last one, after the log line was written
        raise InputError(f"witness {path}: the last line has no newline (cut or edited); nothing was allocated")
    return path


def read_witness(path: str | Path) -> list[WitnessMark]:
    """The marks of a witness file; InputError naming the line that is not ``SEQ HEAD TIME``."""
    label = f"witness {path}"
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise InputError(f"{label}: file not found") from None
    except OSError as exc:
        raise os_error(label, exc) from None
    lines = decode_text(data, label).split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    marks = []
    for number, line in enumerate(lines, start=1):
        parts = line.strip().split(" ")
        if len(parts) != 3 or not _DIGITS.fullmatch(parts[0]) or not _HEX64.fullmatch(parts[1]) or not parts[2]:
            raise InputError(f"{label}: line {number}: expected 'SEQ HEAD TIME' as prt writes it")
        marks.append(WitnessMark(int(parts[0]), parts[1], parts[2], number))
    if not marks:
        raise InputError(f"{label}: empty (no witnessed head)")
    return marks


def check_witness(entries: list[Mapping[str, Any]], marks: Iterable[WitnessMark],
                  where: str = "allocation log", witness: str = "the witness") -> int:
    """Every witnessed head must be the log's line at that seq; LogIntegrityError otherwise.

    Catches lines removed from the end (the log ends before a witnessed seq) and a log
    regenerated or edited, even by the key holder (a witnessed hash differs). Returns the count.
    """
    count = 0
    for mark in marks:
        if mark.seq >= len(entries):
            raise LogIntegrityError(
                f"{where}: ends at seq {len(entries) - 1}, but {witness} line {mark.line} witnessed seq "
                f"{mark.seq}: lines were removed from the end (or the log was replaced by an older copy)")
        if entries[mark.seq].get("hash") != mark.head:
            raise LogIntegrityError(
                f"{where}: line {mark.seq + 1} (seq {mark.seq}) is not the line {witness} line {mark.line} "
                "witnessed: the log was regenerated or edited")
        count += 1
    return count


# ----------------------------------------------------------------------------- random source
def _pcg64_state(seed: int) -> dict[str, Any]:
    return np.random.PCG64(seed).state


def draw_from_state(state: Mapping[str, Any]) -> tuple[float, dict[str, Any]]:
    """One uniform draw from a recorded PCG64 state, and the state after it."""
    bit_generator = np.random.PCG64()
    try:
        bit_generator.state = dict(state)
    except (TypeError, ValueError, KeyError, OverflowError):
        raise LogIntegrityError("allocation log: recorded generator state is not a PCG64 state") from None
    draw = float(np.random.Generator(bit_generator).random())
    return draw, bit_generator.state


# ----------------------------------------------------------------------------- result objects
@dataclass(frozen=True)
class Allocation:
    """One allocation as recorded (and as recomputed by replay). ``repeat``: reported again to a
    retry for a participant already in the log (nothing was written)."""

    seq: int
    participant: str
    arm: str
    levels: tuple[int, ...]
    scores: tuple[float, ...]
    probabilities: tuple[float, ...]
    draw: float
    timestamp: str
    hash: str
    factors: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    repeat: bool = False


@dataclass(frozen=True)
class LogVerification:
    """Result of :func:`verify_entries` (it raises on any problem).

    ``authenticated``: every line's signature verified with the key; False for a chain-only check
    (an unsigned version-1 log, or no key given), which anyone able to edit the file can forge.
    """

    n_allocations: int
    head: str
    config: MinimizationConfig
    source: str
    version: int
    key_id: str | None
    authenticated: bool
    witnessed: int = 0


@dataclass(frozen=True)
class Replay:
    """Result of :func:`replay_entries`: the verification, the rebuilt minimization, the allocations."""

    verification: LogVerification
    minimization: Minimization
    allocations: list[Allocation]


# ----------------------------------------------------------------------------- header
def new_header(config: MinimizationConfig, source: str = "pcg64", seed: int | None = None,
               created: str | None = None, *, key: bytes) -> dict[str, Any]:
    """The sealed, signed first line of a new log."""
    if source not in SOURCES:
        raise InputError(f"allocation log: random source must be one of {', '.join(SOURCES)}")
    header: dict[str, Any] = {
        "type": "header",
        "seq": 0,
        "version": LOG_VERSION,
        "created": created or _now(),
        "config": config.to_dict(),
        "source": source,
        "key_id": key_id(key),
    }
    if source == "pcg64":
        seed = secrets.randbits(128) if seed is None else parse_seed(seed)
        header["seed"] = seed
        header["initial_state"] = _pcg64_state(seed)
    elif seed is not None:
        raise InputError("allocation log: a seed applies only to the pcg64 source")
    return seal(header, GENESIS, key)


def create_log(path: str | Path, config: MinimizationConfig, source: str = "pcg64", seed: int | None = None,
               created: str | None = None, *, key: bytes, witness: str | Path | None = None) -> dict[str, Any]:
    """Start a new log at ``path``, created exclusively (an existing file is refused, even empty).

    With ``witness``, the header's hash is its first witnessed head (seq 0).
    """
    header = new_header(config, source, seed, created, key=key)
    if witness is not None:
        _writable_witness(witness)
    data = _encode([header])
    atomic_write(path, data, exclusive=True)
    if witness is not None:
        try:
            append_witness(witness, 0, header["hash"], header["created"])
        except BaseException:
            if Path(path).read_bytes() == data:     # still only our header: undo, so init-log can be rerun
                _remove_quietly(path)
            raise
    return header


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


# ----------------------------------------------------------------------------- verify, replay
_ALLOCATION_KEYS = {"type", "seq", "participant", "factors", "levels", "scores", "probabilities",
                    "draw", "state_before", "arm", "timestamp", "prev_hash", "hash"}
_HEADER_KEYS = {"type", "seq", "version", "created", "config", "source", "prev_hash", "hash"}
_SIGNED = {"mac"}


def verify_entries(entries: list[Mapping[str, Any]], *, key: bytes | None = None, allow_unsigned: bool = False,
                   head: str | None = None, witness: Iterable[WitnessMark] | None = None,
                   where: str = "allocation log", witness_label: str = "the witness") -> LogVerification:
    """Check the log: header first, every hash recomputes, every signature verifies with ``key``,
    each ``prev_hash`` links, seq counts up; ``head`` (recorded outside the log) and every
    ``witness`` mark must be in it.

    Without ``key`` (or for an unsigned version-1 log) only ``allow_unsigned`` lets the hash chain
    alone be checked, and the result says ``authenticated=False``. Raises LogIntegrityError naming
    the first bad line; InputError when a key is needed and missing.
    """
    if not entries:
        raise LogIntegrityError(f"{where}: empty (no header)")
    header = entries[0]
    line1 = f"{where}: line 1"
    if header.get("type") != "header":
        raise LogIntegrityError(f"{line1}: expected the log header")
    version = header.get("version")
    if isinstance(version, bool) or version not in (UNSIGNED_VERSION, LOG_VERSION):
        raise LogIntegrityError(f"{line1}: unsupported log version {version!r}")
    signed = version == LOG_VERSION
    log_key = header.get("key_id") if signed else None
    if signed and not (isinstance(log_key, str) and re.fullmatch(r"[0-9a-f]{32}", log_key)):
        raise LogIntegrityError(f"{line1}: no valid key id in the header")
    if signed and key is not None and key_id(key) != log_key:
        raise LogIntegrityError(f"{where}: signed with key id {log_key}, but the key given has id {key_id(key)}: "
                                "the wrong key file, or a log regenerated under another key")
    if not signed and key is not None:
        raise LogIntegrityError(f"{where}: not signed (log version 1, no key id) although a key was given: an old "
                                "unsigned log, or a signed log stripped of its signatures; an old log can be checked "
                                "without --key, with --allow-unsigned")
    if key is None and not allow_unsigned:
        if signed:
            raise InputError(f"{where}: signed with key id {log_key}; give the key (--key FILE) to verify it "
                             "(--allow-unsigned checks the hash chain alone, which proves nothing)")
        raise InputError(f"{where}: an unsigned log (version 1): anyone able to edit it can regenerate its hash "
                         "chain; --allow-unsigned checks the chain anyway (not authenticated)")
    authenticated = signed and key is not None
    expected_keys = (_ALLOCATION_KEYS | _SIGNED) if signed else _ALLOCATION_KEYS
    prev = GENESIS
    config = None
    source = ""
    seen_head = head is None
    for i, entry in enumerate(entries):
        line = f"{where}: line {i + 1}"
        seq = entry.get("seq")
        if entry.get("hash") != entry_hash(entry):
            raise LogIntegrityError(f"{line} (seq {seq!r}): hash does not match its content (edited)")
        if signed and not isinstance(entry.get("mac"), str):
            raise LogIntegrityError(f"{line} (seq {seq!r}): no signature (edited)")
        if authenticated and not hmac.compare_digest(entry["mac"].encode("utf-8", "surrogatepass"),
                                                     entry_mac(entry, key).encode("ascii")):
            raise LogIntegrityError(f"{line} (seq {seq!r}): signature does not verify with the key (edited or "
                                    "written without the key)")
        if entry.get("prev_hash") != prev:
            raise LogIntegrityError(f"{line} (seq {seq!r}): does not follow the previous line "
                                    "(a line was removed, inserted or reordered)")
        if isinstance(seq, bool) or seq != i:
            raise LogIntegrityError(f"{line}: seq {seq!r}, expected {i}")
        if i == 0:
            config, source = _check_header(entry, signed, line)
        elif entry.get("type") != "allocation" or set(entry) != expected_keys:
            raise LogIntegrityError(
                f"{line}: not an allocation entry (expected keys {', '.join(sorted(expected_keys))})")
        prev = entry["hash"]
        seen_head = seen_head or prev == head
    if not seen_head:
        raise LogIntegrityError(f"{where}: the anchored head {head} is not in the log (lines removed at the end, "
                                "or the log regenerated)")
    witnessed = check_witness(entries, witness, where, witness_label) if witness is not None else 0
    return LogVerification(n_allocations=len(entries) - 1, head=prev, config=config, source=source,
                           version=version, key_id=log_key, authenticated=authenticated, witnessed=witnessed)


def _check_header(entry: Mapping[str, Any], signed: bool, line: str) -> tuple[MinimizationConfig, str]:
    source = entry.get("source")
    keys = _HEADER_KEYS | ({"key_id", "mac"} if signed else set())
    if source == "pcg64":
        keys = keys | {"seed", "initial_state"}
    exact = set(entry) == keys if signed else keys <= set(entry)   # version 1 checked its keys loosely
    if not exact:
        raise LogIntegrityError(f"{line}: expected the log header (keys {', '.join(sorted(keys))})")
    if source not in SOURCES:
        raise LogIntegrityError(f"{line}: unknown random source {source!r}")
    if not isinstance(entry.get("created"), str):
        raise LogIntegrityError(f"{line}: no creation time")
    if source == "pcg64":
        seed = entry.get("seed")
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED or \
                entry.get("initial_state") != _pcg64_state(seed):
            raise LogIntegrityError(f"{line}: the initial generator state is not the seed's")
    spec = entry.get("config")
    if not signed and isinstance(spec, Mapping):
        # version 1 predates the arm-size rule: its allocations were made without one
        spec = {"max_arm_difference": None, **spec}
    try:
        config = MinimizationConfig.from_dict(spec, source=f"{line} config")
    except LogIntegrityError:
        raise
    except InputError as exc:
        raise LogIntegrityError(str(exc)) from None
    return config, source


def replay_entries(entries: list[Mapping[str, Any]], *, key: bytes | None = None, allow_unsigned: bool = False,
                   head: str | None = None, witness: Iterable[WitnessMark] | None = None, screening=None,
                   where: str = "allocation log", witness_label: str = "the witness") -> Replay:
    """Verify, then recompute every allocation from config + inputs + recorded draws.

    Checks per line: the participant is new; levels, scores and probabilities recompute (to
    1e-12); for pcg64 the recorded state chain continues from the header and regenerates the draw
    exactly; the draw picks the recorded arm. With ``screening`` (a
    :class:`prt.trial.eligibility.ScreeningLog`), also: the participant's latest screening is
    eligible, they are enrolled, and the recorded factors agree with their screening answers.
    Any mismatch is a LogIntegrityError naming the line and participant.
    """
    check = verify_entries(entries, key=key, allow_unsigned=allow_unsigned, head=head, witness=witness,
                           where=where, witness_label=witness_label)
    config = check.config
    minimization = Minimization(config)
    state = entries[0].get("initial_state")
    allocations: list[Allocation] = []
    seen: set[str] = set()
    for i, entry in enumerate(entries[1:], start=1):
        pid = entry["participant"]
        if not isinstance(pid, str) or not pid.strip() or pid != pid.strip():
            raise LogIntegrityError(f"{where}: line {i + 1}: participant must be a non-empty id")
        line = f"{where}: line {i + 1} (participant {pid!r})"
        if pid in seen:
            raise LogIntegrityError(f"{line}: participant allocated twice")
        seen.add(pid)
        factors = entry["factors"]
        if not isinstance(factors, dict):
            raise LogIntegrityError(f"{line}: factors must be a mapping")
        if screening is not None:
            _check_screening(screening, config, pid, factors, line)
        try:
            proposal = minimization.propose(factors, pid)
        except LogIntegrityError:
            raise
        except InputError as exc:
            raise LogIntegrityError(f"{line}: {exc}") from None
        if entry["levels"] != list(proposal.levels):
            raise LogIntegrityError(f"{line}: recorded levels do not match the factors")
        for name in ("scores", "probabilities"):
            recorded = entry[name]
            if not _numbers(recorded, len(config.arms)) or not np.allclose(
                    np.asarray(recorded, dtype=float), getattr(proposal, name), rtol=0, atol=1e-12):
                raise LogIntegrityError(f"{line}: recorded {name} do not recompute")
        draw = entry["draw"]
        if not isinstance(draw, float) or not 0.0 <= draw < 1.0:
            raise LogIntegrityError(f"{line}: draw must be a number in [0, 1)")
        if check.source == "pcg64":
            if entry["state_before"] != state:
                raise LogIntegrityError(f"{line}: generator state does not continue from the previous draw")
            regenerated, state = draw_from_state(entry["state_before"])
            if regenerated != draw:
                raise LogIntegrityError(f"{line}: the recorded draw is not the generator's draw")
        elif entry["state_before"] is not None:
            raise LogIntegrityError(f"{line}: a secrets draw has no generator state")
        arm = minimization.decide(proposal, draw)
        if arm != entry["arm"]:
            raise LogIntegrityError(f"{line}: recorded arm {entry['arm']!r} but the draw gives {arm!r}")
        if not isinstance(entry["timestamp"], str):
            raise LogIntegrityError(f"{line}: timestamp must be text")
        minimization.record(proposal.levels, arm)
        allocations.append(Allocation(i, pid, arm, proposal.levels, proposal.scores, proposal.probabilities,
                                      draw, entry["timestamp"], entry["hash"], dict(factors)))
    return Replay(check, minimization, allocations)


def _numbers(values: Any, n: int) -> bool:
    return isinstance(values, list) and len(values) == n and all(
        isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)


def _check_screening(screening, config: MinimizationConfig, pid: str, factors: Mapping[str, Any], line: str) -> None:
    status = screening.status(pid)
    if status != "eligible":
        raise LogIntegrityError(f"{line}: allocated, but the screening log's latest screening is {status!r}")
    if not screening.enrolled(pid):
        raise LogIntegrityError(f"{line}: allocated, but the screening log has no enrolment (consent)")
    try:
        config.factor_values(pid, screening.answers(pid), factors)
    except InputError as exc:
        raise LogIntegrityError(f"{line}: {exc}") from None


def _next_entry(replay: Replay, entries: list[Mapping[str, Any]], participant: str, factors: Mapping[str, Any],
                key: bytes, timestamp: str | None, draw: float | None) -> dict[str, Any]:
    minimization = replay.minimization
    proposal = minimization.propose(factors, participant)
    header = entries[0]
    if header["source"] == "pcg64":
        if draw is not None:
            raise InputError("allocation: a pcg64 log draws from its own generator")
        if replay.allocations:
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
    return seal(entry, entries[-1]["hash"], key)


def next_entry(entries: list[Mapping[str, Any]], participant: str, factors: Mapping[str, Any], *, key: bytes,
               timestamp: str | None = None, draw: float | None = None) -> dict[str, Any]:
    """The sealed, signed line that allocates ``participant`` next (pure: nothing is written).

    ``factors`` are checked values (:meth:`MinimizationConfig.factor_values`). ``draw`` is only
    for a ``secrets`` log in tests; normally it comes from the log's source.
    """
    replay = replay_entries(entries, key=key)
    participant = _participant_id(participant)
    if any(a.participant == participant for a in replay.allocations):
        raise InputError(f"participant {participant!r}: already allocated (an allocation is made exactly once)")
    return _next_entry(replay, entries, participant, factors, key, timestamp, draw)


def _participant_id(participant: Any) -> str:
    from prt.trial.inputs import participant_id

    return participant_id(participant, "allocation")


def _json_value(value: Any) -> Any:
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


# ----------------------------------------------------------------------------- file-level API
def verify_log(path: str | Path, head: str | None = None, *, key: bytes | None = None,
               allow_unsigned: bool = False, witness: str | Path | None = None) -> LogVerification:
    """Verify the log at ``path`` (see :func:`verify_entries`); ``witness`` is a witness file."""
    marks = read_witness(witness) if witness is not None else None
    return verify_entries(read_log(path), key=key, allow_unsigned=allow_unsigned, head=head, witness=marks,
                          where=f"allocation log {path}", witness_label=f"witness {witness}")


def replay_file(path: str | Path, head: str | None = None, *, key: bytes | None = None,
                allow_unsigned: bool = False, witness: str | Path | None = None, screening=None) -> Replay:
    """Verify and replay the log at ``path`` (see :func:`replay_entries`)."""
    marks = read_witness(witness) if witness is not None else None
    return replay_entries(read_log(path), key=key, allow_unsigned=allow_unsigned, head=head, witness=marks,
                          screening=screening, where=f"allocation log {path}", witness_label=f"witness {witness}")


def replay_log(path: str | Path, head: str | None = None, *, key: bytes | None = None,
               allow_unsigned: bool = False, witness: str | Path | None = None, screening=None) -> list[Allocation]:
    """Verify and replay the log at ``path``; the recomputed allocations."""
    return replay_file(path, head, key=key, allow_unsigned=allow_unsigned, witness=witness,
                       screening=screening).allocations


def allocate(path: str | Path, participant: str, factors: Mapping[str, Any] | None = None, *, key: bytes,
             screening, witness: str | Path | None = None, timestamp: str | None = None,
             draw: float | None = None) -> Allocation:
    """Allocate one enrolled, eligible participant and append the signed line to the log.

    The whole log is verified with ``key`` and replayed first (a broken log allocates nobody),
    and checked against ``witness`` when that file exists. Factors come from the participant's
    screening record in ``screening`` (a :class:`prt.trial.eligibility.ScreeningLog`); ``factors``
    (command line) fill gaps and must agree with it. A participant already in the log gets their
    recorded allocation back with ``repeat=True`` and nothing is written (a retry after a crash).
    With ``witness``, the new head is appended to that file. ``draw``: secrets logs in tests only.
    """
    participant = _participant_id(participant)
    path = Path(path)
    where = f"allocation log {path}"
    if witness is not None:
        _writable_witness(witness)
    if not path.is_file():
        raise InputError(f"{where}: file not found (start one with 'prt trial init-log')")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND)  # one lock across read + append
    except OSError as exc:
        raise os_error(where, exc, "cannot be written") from None
    try:
        _lock(fd)
        entries = read_log(path)
        marks = read_witness(witness) if witness is not None and Path(witness).exists() else None
        replay = replay_entries(entries, key=key, witness=marks, where=where, witness_label=f"witness {witness}")
        existing = next((a for a in replay.allocations if a.participant == participant), None)
        if existing is not None:
            if factors:
                config = replay.verification.config
                recorded = {f.source_field: existing.factors.get(f.name) for f in config.factors}
                config.factor_values(participant, recorded, factors)
            if witness is not None and not any(m.seq == len(entries) - 1 for m in marks or ()):
                append_witness(witness, len(entries) - 1, entries[-1]["hash"], _now())
            return dataclasses.replace(existing, repeat=True)
        status = screening.status(participant)
        if status != "eligible":
            raise InputError(f"participant {participant!r}: screening status is {status!r}, "
                             "only eligible participants are allocated")
        if not screening.enrolled(participant):
            raise InputError(f"participant {participant!r}: not enrolled (consent not recorded)")
        values = replay.verification.config.factor_values(participant, screening.answers(participant), factors)
        entry = _next_entry(replay, entries, participant, values, key, timestamp, draw)
        _append_fd(fd, _encode([entry]))
        if witness is not None:
            append_witness(witness, entry["seq"], entry["hash"], entry["timestamp"])
    finally:
        os.close(fd)
    return Allocation(entry["seq"], entry["participant"], entry["arm"], tuple(entry["levels"]),
                      tuple(entry["scores"]), tuple(entry["probabilities"]), entry["draw"],
                      entry["timestamp"], entry["hash"], dict(entry["factors"]))
