"""`session.toml`: what a session holds: its cameras, their videos and per-frame timestamps.

    version = 1
    source = "ingest"            # record | ingest | synth | import
    created = "2026-11-21T20:50:00Z"

    [[camera]]
    name = "cam01"
    video = "videos/cam01.mp4"   # relative to the session folder (or absolute when the user gave it)
    timestamps = "timestamps/cam01.csv"   # optional: one line per frame, seconds
    fps = 60.0
    frame_count = 100
    width = 1088
    height = 1920

Paths inside a manifest are relative to the session folder and may not leave it, unless the user
passed them on the command line (ingest without copying): those are stored absolute and marked
`external = true`.
"""
from __future__ import annotations

import datetime as _dt
import math
import os
import tomllib
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from epicap.errors import InputError
from epicap.session.io import atomic_write, toml_string
from epicap.session.names import check_camera_name

__all__ = ["MANIFEST_FILE", "CameraEntry", "SessionManifest", "read_timestamps"]

MANIFEST_FILE = "session.toml"
FORMAT_VERSION = 1


@dataclass
class CameraEntry:
    """One camera of a session. Paths are relative to the session folder unless `external`."""

    name: str
    fps: float
    frame_count: int
    width: int
    height: int
    video: str | None = None
    timestamps: str | None = None
    external: bool = False


@dataclass
class SessionManifest:
    """The cameras of a session, in order, and where their data lie."""

    cameras: list[CameraEntry]
    source: str = "ingest"
    created: str = field(default_factory=lambda: _dt.datetime.now(_dt.timezone.utc)
                         .strftime("%Y-%m-%dT%H:%M:%SZ"))
    version: int = FORMAT_VERSION

    @property
    def names(self) -> list[str]:
        """The camera names, in session order."""
        return [c.name for c in self.cameras]

    def camera(self, name: str) -> CameraEntry:
        """The entry of camera `name`; InputError listing the session's cameras if unknown."""
        for c in self.cameras:
            if c.name == name:
                return c
        raise InputError(f"session has no camera {name!r}; it has {', '.join(self.names)}")

    def video_path(self, session_dir: str | os.PathLike, name: str) -> Path | None:
        """Absolute path of camera `name`'s video, or None when the session has none."""
        cam = self.camera(name)
        return None if cam.video is None else _resolve(session_dir, cam.video, cam.external)

    def timestamps(self, session_dir: str | os.PathLike, name: str) -> np.ndarray | None:
        """Per-frame timestamps (T,) in seconds of camera `name`, or None when not recorded."""
        cam = self.camera(name)
        if cam.timestamps is None:
            return None
        return read_timestamps(_resolve(session_dir, cam.timestamps, cam.external))

    @classmethod
    def load(cls, session_dir: str | os.PathLike) -> "SessionManifest":
        """Read SESSION/session.toml; InputError naming the file and the problem."""
        path = Path(session_dir) / MANIFEST_FILE
        try:
            doc = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise InputError(f"{path}: no such file (make a session with `epicap ingest` or "
                             "`epicap record`)") from None
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
            raise InputError(f"{path}: not a readable TOML file ({e})") from None
        except RecursionError:
            raise InputError(f"{path}: not a readable TOML file (nested too deeply)") from None
        version = doc.get("version")
        if type(version) is not int or version != FORMAT_VERSION:
            raise InputError(f"{path}: format version {version!r}, this epicap reads "
                             f"{FORMAT_VERSION}")
        cams = doc.get("camera")
        if not isinstance(cams, list) or not cams:
            raise InputError(f"{path}: no [[camera]] entries")
        entries = []
        for i, c in enumerate(cams):
            where = f"{path}: camera {i + 1}"
            if not isinstance(c, dict):
                raise InputError(f"{where}: not a table of keys")
            missing = [k for k in ("name", "fps", "frame_count", "width", "height") if k not in c]
            if missing:
                raise InputError(f"{where}: missing key {missing[0]!r}")
            external = c.get("external", False)
            if not isinstance(external, bool):
                raise InputError(f"{where}: external must be true or false")
            entry = CameraEntry(
                name=check_camera_name(c["name"], f"{where}: name"),
                fps=_number(c, "fps", where), frame_count=_count(c, "frame_count", where),
                width=_count(c, "width", where), height=_count(c, "height", where),
                video=_path(c, "video", where), timestamps=_path(c, "timestamps", where),
                external=external)
            if not entry.fps > 0 or entry.width <= 0 or entry.height <= 0:
                raise InputError(f"{where}: fps, width and height must be positive")
            for p in (entry.video, entry.timestamps):
                if p is not None and not (entry.external and Path(p).is_absolute()):
                    _inside(path, p)
            entries.append(entry)
        names = [e.name for e in entries]
        if len(set(names)) != len(names):
            raise InputError(f"{path}: camera names are not unique: {names}")
        return cls(entries, str(doc.get("source", "ingest")), str(doc.get("created", "")),
                   int(version))

    def save(self, session_dir: str | os.PathLike) -> None:
        """Write SESSION/session.toml atomically."""
        lines = [f"version = {self.version}", f"source = {toml_string(self.source)}",
                 f"created = {toml_string(self.created)}", ""]
        for c in self.cameras:
            lines += ["[[camera]]", f"name = {toml_string(c.name)}"]
            if c.video is not None:
                lines.append(f"video = {toml_string(c.video)}")
            if c.timestamps is not None:
                lines.append(f"timestamps = {toml_string(c.timestamps)}")
            if c.external:
                lines.append("external = true")
            lines += [f"fps = {float(c.fps)!r}", f"frame_count = {int(c.frame_count)}",
                      f"width = {int(c.width)}", f"height = {int(c.height)}", ""]
        with atomic_write(Path(session_dir) / MANIFEST_FILE, "w") as f:
            f.write("\n".join(lines))


def _number(c: dict, key: str, where: str) -> float:
    v = c[key]
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise InputError(f"{where}: {key} must be a finite number, got {v!r}")
    return float(v)


def _count(c: dict, key: str, where: str) -> int:
    v = c[key]
    if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v < 2**31:
        raise InputError(f"{where}: {key} must be a whole number from 0 to 2^31, got {v!r}")
    return v


def _path(c: dict, key: str, where: str) -> str | None:
    v = c.get(key)
    if v is None:
        return None
    if not isinstance(v, str) or not v or "\x00" in v or v.strip() in (".", ""):
        raise InputError(f"{where}: {key} must be a file path, got {v!r}")
    return v


def _inside(manifest: Path, rel: str) -> None:
    p = Path(rel)
    if p.is_absolute() or ".." in p.parts:
        raise InputError(f"{manifest}: path {rel!r} points outside the session "
                         "(only paths the user passed may, and they are marked external)")


def _resolve(session_dir: str | os.PathLike, rel: str, external: bool) -> Path:
    p = Path(rel)
    return p if (external and p.is_absolute()) else Path(session_dir) / p


def read_timestamps(path: str | os.PathLike) -> np.ndarray:
    """Per-frame timestamps (T,) float64 seconds from a text file with one number per line."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "input contained no data": an error below
            ts = np.loadtxt(path, dtype=np.float64, ndmin=1, comments="#", delimiter=",")
    except (OSError, ValueError) as e:
        raise InputError(f"{path}: unreadable timestamps ({e})") from None
    if ts.ndim != 1 or ts.size == 0 or not np.isfinite(ts).all():
        raise InputError(f"{path}: timestamps must be one finite number per line")
    return ts
