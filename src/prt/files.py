"""Reading and writing files safely: the one place prt touches the file system for its parts.

- Reading: :func:`read_text` (UTF-8 with or without BOM, UTF-16 with BOM; binary files and
  directories refused), :func:`loads_json` / :func:`load_json` (duplicate keys, NaN and nesting
  deeper than :data:`MAX_DEPTH` refused), :func:`loads_yaml` / :func:`load_yaml` (duplicate keys
  refused). Every failure is an :class:`~prt.errors.InputError` naming the file, line and column.
- Writing: :func:`atomic_write` (a temporary file beside the target, fsync, rename: a reader sees
  the old file or the new one, never half of one), :func:`write_csv` (cells neutralised against
  formula injection, OWASP's rule), :func:`write_output_dir` (a whole directory, all or nothing,
  never replacing a directory prt did not write).
OS errors (read-only or full disk, a file where a folder should be) become InputError naming the
path and the reason.
"""

from __future__ import annotations

import codecs
import json
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any, Callable, TypeVar

import yaml

from prt.errors import InputError

T = TypeVar("T")

#: Deepest nesting of JSON arrays/objects prt reads (FHIR resources nest a few levels).
MAX_DEPTH = 64

#: Characters no name prt reads may hold (record ids, column names): C0/C1 controls (tab, line
#: breaks, escape sequences), Unicode line separators and the bidirectional overrides that reorder
#: text on screen (Unicode TR9; "Trojan Source", CVE-2021-42574). They would break a one-line
#: message or a tab-separated listing, or make one id display as another.
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


# ------------------------------------------------------------------------------------ reading
def os_error(path: str | os.PathLike, exc: OSError, doing: str = "cannot be read") -> InputError:
    """An OSError as an InputError naming the path and the reason (no traceback, no data)."""
    reason = exc.strerror or exc.__class__.__name__
    if isinstance(exc, IsADirectoryError):
        reason = "is a directory, expected a file"
    elif isinstance(exc, NotADirectoryError):
        reason = "a part of the path is a file, not a folder"
    return InputError(f"{path}: {doing} ({reason})")


def decode_text(data: bytes, what: str) -> str:
    """Bytes of a text file as str: UTF-8 (BOM stripped) or UTF-16/32 with a BOM; else InputError."""
    for bom, codec in ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
                       (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            try:
                return data.decode(codec)
            except UnicodeDecodeError:
                raise InputError(f"{what}: not valid {codec.upper()} text") from None
    if b"\x00" in data:
        raise InputError(f"{what}: a binary file, expected UTF-8 text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{what}: not UTF-8 text (invalid byte at offset {exc.start})") from None


def read_bytes(path: str | os.PathLike, what: str = "file") -> bytes:
    """A file's bytes; InputError naming ``what`` and the path (not found, a directory, no access)."""
    label = f"{what} {path}" if what else str(path)
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise os_error(label, exc) from None


def read_text(path: str | os.PathLike, what: str = "file") -> str:
    """A text file's content; InputError naming ``what`` and the path when it cannot be read."""
    return decode_text(read_bytes(path, what), f"{what} {path}" if what else str(path))


def _unique_pairs(where: str):
    def hook(pairs):
        out = {}
        for key, value in pairs:
            if key in out:
                raise InputError(f"{where}: key {key!r} appears more than once in one object")
            out[key] = value
        return out
    return hook


def _no_constants(name: str):
    raise ValueError(f"{name} is not a JSON number")


def loads_json(text: str, what: str = "JSON") -> Any:
    """Parse JSON strictly: duplicate keys, NaN/Infinity and nesting deeper than MAX_DEPTH refused."""
    if text.startswith("\ufeff"):
        text = text[1:]
    _check_depth(text, what)
    try:
        return json.loads(text, object_pairs_hook=_unique_pairs(what), parse_constant=_no_constants)
    except json.JSONDecodeError as exc:
        raise InputError(f"{what}: malformed JSON at line {exc.lineno}, column {exc.colno} ({exc.msg})") from None
    except ValueError as exc:
        if isinstance(exc, InputError):
            raise
        raise InputError(f"{what}: {exc}") from None
    except RecursionError:
        raise InputError(f"{what}: nested more than {MAX_DEPTH} levels deep") from None


def _check_depth(text: str, what: str) -> None:
    """Refuse deep nesting before parsing (the parser would recurse), ignoring brackets in strings."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return
    depth, in_string, escaped = 0, False, False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                raise InputError(f"{what}: nested more than {MAX_DEPTH} levels deep")
        elif ch in "]}":
            depth -= 1


def load_json(path: str | os.PathLike, what: str = "JSON file") -> Any:
    """Read and strictly parse a JSON file (see :func:`loads_json`)."""
    label = f"{what} {path}" if what else str(path)
    return loads_json(read_text(path, what), label)


class _StrictLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """yaml's safe loader that refuses a key given twice in one mapping."""


def _construct_mapping(loader, node, deep=False):
    seen = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        try:
            duplicate = key in seen
        except TypeError:
            raise yaml.constructor.ConstructorError(None, None, "a mapping key is not a plain value",
                                                    key_node.start_mark) from None
        if duplicate:
            raise yaml.constructor.ConstructorError(None, None, f"key {key!r} appears more than once",
                                                    key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def loads_yaml(text: str, what: str = "YAML") -> Any:
    """Parse YAML safely (no code, no duplicate keys); InputError naming ``what``, line and column."""
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a safe loader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise InputError(f"{what}: not valid YAML{where} ({exc.problem or exc.context})") from None
    except (yaml.YAMLError, RecursionError) as exc:
        raise InputError(f"{what}: not valid YAML ({exc.__class__.__name__})") from None


def load_yaml(path: str | os.PathLike, what: str = "YAML file") -> Any:
    """Read and parse a YAML (or JSON, by suffix) spec file; errors name the file."""
    label = f"{what} {path}" if what else str(path)
    text = read_text(path, what)
    if Path(path).suffix.lower() == ".json":
        return loads_json(text, label)
    return loads_yaml(text, label)


# ------------------------------------------------------------------------------------ writing
def atomic_write(path: str | os.PathLike, data: str | bytes, *, encoding: str = "utf-8",
                 exclusive: bool = False) -> Path:
    """Write a whole file atomically: temp file beside it, fsync, rename over the target.

    ``exclusive`` refuses an existing target (InputError). A target that exists but is not a
    regular file (``/dev/null``, a FIFO) is refused: renaming over it would replace the device node.
    A symbolic link is replaced, never written through. OS errors become InputError naming the
    path; on any failure the temporary file is removed and the target is untouched.
    """
    target = Path(path)
    payload = data.encode(encoding) if isinstance(data, str) else bytes(data)
    if target.is_dir():
        raise InputError(f"{target}: is a directory, expected a file name")
    if target.exists() and not target.is_file():  # renaming over it would replace /dev/null or a FIFO
        raise InputError(f"{target}: is not a regular file (a device, FIFO or socket); prt writes regular "
                         "files only")
    if exclusive and target.exists():
        raise InputError(f"{target}: already exists (prt does not overwrite it)")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent or ".")
    except OSError as exc:
        raise os_error(target, exc, "cannot be written") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            os.fchmod(fh.fileno(), _default_mode())  # as open() would create it (mkstemp makes 0600)
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        if exclusive:
            os.link(tmp, target)  # fails if the target appeared meanwhile
            os.unlink(tmp)
        else:
            os.replace(tmp, target)
    except FileExistsError:
        _remove_quietly(tmp)
        raise InputError(f"{target}: already exists (prt does not overwrite it)") from None
    except OSError as exc:
        _remove_quietly(tmp)
        raise os_error(target, exc, "cannot be written") from None
    except BaseException:
        _remove_quietly(tmp)
        raise
    return target


def _default_mode() -> int:
    """0666 less the process umask: the permissions a plainly created file gets."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def _remove_quietly(path) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


#: First characters that make a spreadsheet read a cell as a formula (OWASP CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


#: A negative number as the report formats it, alone or with an interval or a percentage
#: (``-1.14 [-1.61, -0.67]``, ``-0.70 (0.24)``, ``-3%``): digits, signs and brackets only, so it can
#: call no function, link or DDE command; such cells keep their minus sign.
_FORMATTED_NUMBER = re.compile(r"-[0-9][0-9.,%\s\[\]()-]*")


def csv_safe(value: Any) -> Any:
    """One cell made safe to open in a spreadsheet (OWASP CSV injection): a text cell starting with
    = + - @ tab or CR gets a leading apostrophe; numbers (``-1.5``, ``-3``) and formatted negative
    statistics (``-1.14 [-1.61, -0.67]``) keep their minus sign; other values pass unchanged."""
    if not isinstance(value, str) or not value.startswith(FORMULA_STARTS):
        return value
    if _FORMATTED_NUMBER.fullmatch(value):
        return value
    try:
        float(value)
    except ValueError:
        return "'" + value
    return value


def csv_safe_frame(frame):
    """A copy of a DataFrame with every text cell (and column name) neutralised by :func:`csv_safe`."""
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    safe = frame.copy()
    safe.columns = [csv_safe(c) if isinstance(c, str) else c for c in safe.columns]
    for column in safe.columns:  # object and pandas string dtypes alike; numbers are left alone
        if not (is_numeric_dtype(safe[column]) or is_bool_dtype(safe[column])):
            safe[column] = safe[column].map(csv_safe).astype(object)
    return safe


def write_csv(frame, path: str | os.PathLike, *, index: bool = False, for_people: bool = True) -> Path:
    """Write a DataFrame as CSV atomically; ``for_people`` neutralises formula-like text cells."""
    if for_people:
        frame = csv_safe_frame(frame)
    return atomic_write(path, frame.to_csv(index=index, lineterminator="\n"))


#: File that marks a directory as written by prt (and so replaceable by prt).
OUTPUT_MARKER = ".prt-output"


def write_output_dir(out: str | os.PathLike, fill: Callable[[Path], T], *, kind: str = "output") -> T:
    """Write a whole output directory, all or nothing, and never delete what prt did not write.

    ``fill(work)`` writes everything into a fresh temporary directory beside ``out``; only when it
    returns is the directory renamed into place (with a marker file :data:`OUTPUT_MARKER` listing
    what prt wrote). An existing ``out`` is replaced only when it is empty or is a previous prt
    output holding nothing but the files its marker lists: a directory without the marker, or a
    previous output to which someone added a file (the input, notes), is refused, so prt never
    deletes a file it did not write. Leftover temporary folders of a killed run are removed first.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out}: exists and is not a directory")
    if out.is_dir():
        _check_replaceable(out)
    resolved = out.resolve()
    parent = resolved.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise os_error(parent, exc, "cannot be created") from None
    _clean_stale(parent, resolved.name)
    try:
        work = Path(tempfile.mkdtemp(prefix=f".{resolved.name}.tmp-", dir=parent))
    except OSError as exc:
        raise os_error(parent, exc, "cannot be written") from None
    try:
        result = fill(work)
        listed = "files:\n" + "".join(f"{_LISTED}{name}\n" for name in _entries(work))
        (work / OUTPUT_MARKER).write_text(f"written by prt ({kind}); prt may replace this directory\n{listed}",
                                          encoding="utf-8")
        if resolved.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{resolved.name}.old-", dir=parent))
            os.replace(resolved, old / resolved.name)
            os.replace(work, resolved)
            shutil.rmtree(old, ignore_errors=True)  # prt's own previous output, marked
        else:
            os.replace(work, resolved)
    except OSError as exc:
        shutil.rmtree(work, ignore_errors=True)
        raise os_error(out, exc, "cannot be written") from None
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return result


#: Prefix of a line of the marker naming one entry prt wrote (path relative to the directory).
_LISTED = "file: "


def _entries(directory: Path) -> list[str]:
    """Every file and folder under ``directory`` (relative POSIX paths; links not followed), but the marker."""
    names = []
    for root, dirs, files in os.walk(directory):
        for name in dirs + files:
            rel = (Path(root) / name).relative_to(directory).as_posix()
            if rel != OUTPUT_MARKER:
                names.append(rel)
    return sorted(names)


def _check_replaceable(out: Path) -> None:
    """Refuse a non-empty ``out`` that is not a previous prt output holding only what prt wrote."""
    try:
        present = _entries(out)
        marker = (out / OUTPUT_MARKER).read_text(encoding="utf-8") if (out / OUTPUT_MARKER).is_file() else None
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or exc.__class__.__name__
        raise InputError(f"--out {out}: cannot be checked ({reason})") from None
    if marker is None:
        if present:
            raise InputError(
                f"--out {out}: a non-empty directory that prt did not write; prt replaces only its own "
                f"output (marked by {OUTPUT_MARKER}) - choose a new or empty directory")
        return
    lines = marker.splitlines()
    if "files:" not in lines:
        return  # a marker from before prt listed its files: the directory is prt's
    listed = {line[len(_LISTED):] for line in lines if line.startswith(_LISTED)}
    extra = [name for name in present if name not in listed]
    if extra:
        raise InputError(
            f"--out {out}: a previous prt output that now also holds {extra[0]!r}, which prt did not write; "
            "prt would delete it when replacing the directory - move it out or choose another directory")


def _clean_stale(parent: Path, name: str) -> None:
    """Remove ``.NAME.tmp-*`` / ``.NAME.old-*`` folders a killed run left (prt made them)."""
    for pattern in (f".{name}.tmp-*", f".{name}.old-*"):
        for stale in parent.glob(pattern):
            if stale.is_dir():
                shutil.rmtree(stale, ignore_errors=True)


__all__ = ["CONTROL", "MAX_DEPTH", "OUTPUT_MARKER", "atomic_write", "csv_safe", "csv_safe_frame", "decode_text",
           "load_json", "load_yaml", "loads_json", "loads_yaml", "os_error", "read_bytes", "read_text", "write_csv",
           "write_output_dir"]
