"""The record `epicap run` keeps of every stage: SESSION/run.toml, file fingerprints, a lock.

    version = 1
    [stages.calibrate]
    status = "ran"                   # ran | running | skipped | failed
    reason = ""                      # why skipped or failed
    finished = "2026-11-21T20:50:00Z"
    seconds = 4.1
    figure = "3 cameras, RMS 0.93 px"
    [stages.calibrate.params]        # the options that change the outputs
    subject_height_m = 1.7
    [stages.calibrate.inputs]        # every file the stage read: its fingerprint
    "keypoints2d.npz" = "sha256:9f2c..."
    [stages.calibrate.outputs]       # every file the stage wrote: its fingerprint
    "cameras.toml" = "sha256:41aa..."
    [stages.calibrate.done]          # the last success, while the latest attempt is not one
    ...                              # (status, finished, ..., params, inputs, outputs as above)

Each record holds the fingerprints of what the stage read and wrote as they were when it
finished. A stage is done when its last success (the record itself when `ran`, else its `done`
table) has the same parameters, every input still has the recorded fingerprint and every output
is there as recorded, or as a later stage that read it and rewrote it recorded it (sync reads
detect's keypoints2d.npz and rewrites it: detect stays done; `RunRecord.intact`). A failed,
skipped or interrupted attempt never erases the record of an earlier success: it goes to `done`.
`running` is written before a stage starts: after a kill, the next run knows that the outputs it
finds are its own (half-finished work, safe to replace) and not a user's.

Fingerprints: files up to 16 MiB are hashed whole (`sha256:...`); bigger ones (videos) cheaply,
by size, modification time and the first and last MiB (`quick:...`), so a touched or re-encoded
video counts as changed but an untouched one costs no full read.
"""
from __future__ import annotations

import contextlib
import datetime as _dt
import fcntl
import hashlib
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from epicap.errors import InputError
from epicap.session.io import atomic_write, toml_string

__all__ = ["RECORD_FILE", "StageRecord", "RunRecord", "fingerprint", "session_lock",
           "remove_stale_temporaries", "utc_now"]

RECORD_FILE = "run.toml"
FORMAT_VERSION = 1
QUICK_HASH_ABOVE = 16 << 20  # bytes: bigger files get the quick fingerprint
_MIB = 1 << 20
# what `epicap.session.io.atomic_write` leaves behind when its process is killed
_TEMPORARY = re.compile(r"^\..+\.[A-Za-z0-9_]{8}\.tmp$")


def utc_now() -> str:
    """The current UTC time as ISO 8601 to the second, e.g. "2026-01-31T12:00:00Z"."""
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def fingerprint(path: str | os.PathLike) -> str | None:
    """The fingerprint of a file (see the module docstring); None when it does not exist."""
    path = Path(path)
    try:
        st = path.stat()
        if not path.is_file():
            return None
        h = hashlib.sha256()
        with open(path, "rb") as f:
            if st.st_size <= QUICK_HASH_ABOVE:
                for block in iter(lambda: f.read(_MIB), b""):
                    h.update(block)
                return f"sha256:{h.hexdigest()}"
            h.update(f.read(_MIB))
            f.seek(-_MIB, os.SEEK_END)
            h.update(f.read(_MIB))
    except FileNotFoundError:
        return None
    return f"quick:{st.st_size}:{st.st_mtime_ns}:{h.hexdigest()}"


@dataclass
class StageRecord:
    """What one stage did last: status, why, its parameters and the files it read and wrote.

    inputs, outputs: {path (relative to the session when inside it): fingerprint}.
    """

    status: str
    reason: str = ""
    params: dict = field(default_factory=dict)
    inputs: dict[str, str] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)
    finished: str = ""
    seconds: float = 0.0
    figure: str = ""
    done: "StageRecord | None" = None

    @property
    def success(self) -> "StageRecord | None":
        """The record of the stage's last successful run: itself when `ran`, else `done`."""
        return self if self.status == "ran" else self.done

    def attempt(self, status: str, reason: str = "", **fields) -> "StageRecord":
        """A record of a new attempt that is not a success, keeping this one's last success."""
        return StageRecord(status, reason, done=self.success, **fields)


@dataclass
class RunRecord:
    """SESSION/run.toml in memory: one StageRecord per stage that has been planned."""

    session: Path
    stages: dict[str, StageRecord] = field(default_factory=dict)

    @property
    def path(self) -> Path:
        return self.session / RECORD_FILE

    @classmethod
    def load(cls, session: str | os.PathLike) -> "RunRecord":
        """Read SESSION/run.toml (an empty record when absent); InputError when unreadable."""
        session = Path(session)
        path = session / RECORD_FILE
        try:
            doc = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls(session)
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
            raise InputError(f"{path}: not a readable TOML file ({e}); delete it to start the "
                             "run record afresh") from None
        if doc.get("version") != FORMAT_VERSION:
            raise InputError(f"{path}: format version {doc.get('version')!r}, this epicap "
                             f"reads {FORMAT_VERSION}; delete it to start afresh")
        stages = {name: _stage_from_toml(path, name, s)
                  for name, s in doc.get("stages", {}).items()}
        return cls(session, stages)

    def intact(self, stage: str, key: str, recorded: str, later: tuple[str, ...]) -> bool:
        """True when file `key`, written by `stage` with fingerprint `recorded`, is still there
        as written, or as rewritten by the stages in `later` (in order) that read that very
        file and own it now (their last success lists `key` among its outputs)."""
        expected = recorded
        for name in later:
            rec = self.stages.get(name)
            success = rec.success if rec is not None else None
            if success is not None and key in success.outputs and \
                    expected in success.inputs.values():
                expected = success.outputs[key]
        path = Path(key) if os.path.isabs(key) else self.session / key
        return fingerprint(path) == expected

    def save(self) -> None:
        """Write SESSION/run.toml atomically."""
        lines = ["# what `epicap run` did to this session; delete it to start afresh",
                 f"version = {FORMAT_VERSION}", ""]
        for name, s in self.stages.items():
            lines += _stage_to_toml(f"stages.{name}", s)
            if s.done is not None and s.status != "ran":
                lines += _stage_to_toml(f"stages.{name}.done", s.done)
        with atomic_write(self.path, "w") as f:
            f.write("\n".join(lines))


def _stage_to_toml(table: str, s: StageRecord) -> list[str]:
    lines = [f"[{table}]", f"status = {toml_string(s.status)}",
             f"reason = {toml_string(s.reason)}", f"finished = {toml_string(s.finished)}",
             f"seconds = {float(s.seconds)!r}", f"figure = {toml_string(s.figure)}"]
    for part in ("params", "inputs", "outputs"):
        values = getattr(s, part)
        if values:
            lines.append(f"[{table}.{part}]")
            lines += [f"{toml_string(k)} = {_toml_value(v)}" for k, v in values.items()]
    return lines + [""]


def _stage_from_toml(path: Path, name: str, s) -> StageRecord:
    if not isinstance(s, dict) or not isinstance(s.get("status"), str):
        raise InputError(f"{path}: stage {name!r} has no status")
    try:
        done = s.get("done")
        return StageRecord(
            s["status"], str(s.get("reason", "")), dict(s.get("params", {})),
            {str(k): str(v) for k, v in s.get("inputs", {}).items()},
            {str(k): str(v) for k, v in s.get("outputs", {}).items()},
            str(s.get("finished", "")), float(s.get("seconds", 0.0)), str(s.get("figure", "")),
            None if done is None else _stage_from_toml(path, f"{name}.done", done))
    except (AttributeError, TypeError, ValueError):
        raise InputError(f"{path}: stage {name!r} is malformed; delete the file to start the "
                         "run record afresh") from None


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if value == value and abs(value) != float("inf") else \
            toml_string(repr(value))
    return toml_string(str(value))


@contextlib.contextmanager
def session_lock(session: Path):
    """Hold an exclusive lock on the session folder while a run works on it.

    InputError when another `epicap run` holds it. The kernel drops the lock when the process
    ends, however it ends (kill -9 included): nothing is left to clean up.
    """
    fd = os.open(session, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise InputError(f"{session}: another `epicap run` is working on this session") \
                from None
        yield
    finally:
        os.close(fd)


def remove_stale_temporaries(folders: list[Path]) -> list[Path]:
    """Delete the temporary files that killed writers left in `folders` (not recursive).

    Only names that `atomic_write` makes (`.NAME.XXXXXXXX.tmp`) are touched; call this while
    holding `session_lock`. Returns the files removed.
    """
    removed = []
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in folder.iterdir():
            if _TEMPORARY.match(path.name) and path.is_file():
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
                    removed.append(path)
    return removed
