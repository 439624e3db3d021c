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
import json
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from epicap.errors import InputError
from epicap.session.io import atomic_write

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
        return [c.name for c in self.cameras]

    def camera(self, name: str) -> CameraEntry:
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
        version = doc.get("version")
        if version != FORMAT_VERSION:
            raise InputError(f"{path}: format version {version!r}, this epicap reads "
                             f"{FORMAT_VERSION}")
        cams = doc.get("camera")
        if not isinstance(cams, list) or not cams:
            raise InputError(f"{path}: no [[camera]] entries")
        entries = []
        for i, c in enumerate(cams):
            where = f"{path}: camera {i + 1}"
            try:
                entry = CameraEntry(
                    name=str(c["name"]), fps=float(c["fps"]), frame_count=int(c["frame_count"]),
                    width=int(c["width"]), height=int(c["height"]),
                    video=None if c.get("video") is None else str(c["video"]),
                    timestamps=None if c.get("timestamps") is None else str(c["timestamps"]),
                    external=bool(c.get("external", False)))
            except KeyError as e:
                raise InputError(f"{where}: missing key {e.args[0]!r}") from None
            except (TypeError, ValueError) as e:
                raise InputError(f"{where}: {e}") from None
            if entry.fps <= 0 or entry.frame_count < 0 or entry.width <= 0 or entry.height <= 0:
                raise InputError(f"{where}: fps, width and height must be positive")
            for p in (entry.video, entry.timestamps):
                if p is not None and not entry.external:
                    _inside(path, p)
            entries.append(entry)
        names = [e.name for e in entries]
        if len(set(names)) != len(names):
            raise InputError(f"{path}: camera names are not unique: {names}")
        return cls(entries, str(doc.get("source", "ingest")), str(doc.get("created", "")),
                   int(version))

    def save(self, session_dir: str | os.PathLike) -> None:
        """Write SESSION/session.toml atomically."""
        lines = [f"version = {self.version}", f"source = {json.dumps(self.source)}",
                 f"created = {json.dumps(self.created)}", ""]
        for c in self.cameras:
            lines += ["[[camera]]", f"name = {json.dumps(c.name)}"]
            if c.video is not None:
                lines.append(f"video = {json.dumps(str(c.video))}")
            if c.timestamps is not None:
                lines.append(f"timestamps = {json.dumps(str(c.timestamps))}")
            if c.external:
                lines.append("external = true")
            lines += [f"fps = {float(c.fps)!r}", f"frame_count = {int(c.frame_count)}",
                      f"width = {int(c.width)}", f"height = {int(c.height)}", ""]
        with atomic_write(Path(session_dir) / MANIFEST_FILE, "w") as f:
            f.write("\n".join(lines))


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
        ts = np.loadtxt(path, dtype=np.float64, ndmin=1, comments="#", delimiter=",")
    except (OSError, ValueError) as e:
        raise InputError(f"{path}: unreadable timestamps ({e})") from None
    if ts.ndim != 1 or not np.isfinite(ts).all():
        raise InputError(f"{path}: timestamps must be one finite number per line")
    return ts
