"""Make a session from existing videos: probe each one, copy or reference it, write the manifest.

Each video is decoded once with OpenCV to count its frames and read each frame's presentation
time (`epicap.capture.video.probe_video`). A video whose frames are not evenly spaced (variable
frame rate) gets a timestamps file, `timestamps/<camera>.csv`, so later stages use the true times.
Videos are copied into `SESSION/videos/` (atomically: under a temporary name, then renamed) or,
with `copy=False`, referenced where they are by absolute path and marked `external`.
"""
from __future__ import annotations

import contextlib
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from epicap.capture.video import VideoInfo, probe_video
from epicap.errors import InputError
from epicap.session.io import atomic_write, native_path
from epicap.session.names import check_camera_name

__all__ = ["IngestedCamera", "ingest_videos", "camera_names_for"]


@dataclass
class IngestedCamera:
    """One ingested video: its camera name, what the probe found and what was stored."""

    name: str
    info: VideoInfo
    stored_timestamps: bool
    warning: str | None = None


def camera_names_for(videos: Sequence[str | os.PathLike]) -> list[str]:
    """Camera names from video file names (`cam01.mp4` -> `cam01`), made unique with a suffix."""
    names: list[str] = []
    for v in videos:
        stem = Path(v).stem or "cam"
        name, k = stem, 2
        while name in names:
            name, k = f"{stem}_{k}", k + 1
        names.append(name)
    return names


def ingest_videos(videos: Sequence[str | os.PathLike], out_dir: str | os.PathLike,
                  names: Sequence[str] | None = None, copy: bool = True, fps: float | None = None,
                  force: bool = False, progress=None) -> list[IngestedCamera]:
    """Write the session `out_dir` from `videos` and return what was found per camera.

    videos: C video files, one per camera. names: C camera names (default from the file names).
    copy: copy the videos into SESSION/videos (True) or reference them in place (False).
    fps: override the frame rate the containers declare (frames per second).
    force: replace an existing SESSION/session.toml.
    progress: optional callable(camera name, frames read so far).
    All videos are probed before anything is written: a video that cannot be read raises
    InputError naming it and leaves the session untouched. A truncated video (fewer frames
    than declared) is kept with the frames that decode, and a warning says so. A failure while
    writing (a full disk) removes again every file and folder this call created.
    """
    from epicap.session.manifest import MANIFEST_FILE, CameraEntry, SessionManifest

    if not videos:
        raise InputError("no videos given")
    out = Path(out_dir)
    given_names = names is not None
    names = list(names) if given_names else camera_names_for(videos)
    if len(names) != len(videos):
        raise InputError(f"{len(names)} camera names for {len(videos)} videos")
    if len(set(names)) != len(names):
        raise InputError(f"camera names are not unique: {names}")
    for name in names:
        check_camera_name(name, "--names" if given_names else "camera name from the file name "
                          "(pass --names)")
    if (out / MANIFEST_FILE).exists() and not force:
        raise InputError(f"{out / MANIFEST_FILE}: a session exists; pass --force to replace it")
    if fps is not None and not fps > 0:
        raise InputError(f"fps must be positive, got {fps}")

    found: list[IngestedCamera] = []
    for name, video in zip(names, videos):
        cb = None if progress is None else (lambda n, name=name: progress(name, n))
        info = probe_video(video, read_frames=True, progress=cb)
        if fps is not None:
            info.fps = float(fps)
        warning = None
        if info.truncated:
            warning = (f"camera {name}: {info.path} decodes {info.frame_count} of the "
                       f"{info.declared_frames} frames it declares (truncated?); keeping those")
        found.append(IngestedCamera(name, info, stored_timestamps=not info.uniform,
                                    warning=warning))

    if not copy:  # the manifest (TOML, UTF-8) stores these paths
        for cam in found:
            native_path(cam.info.path.resolve(), "video")
    created: list[Path] = []  # removed again if anything fails: nothing half-written
    try:
        entries = []
        for cam in found:
            info = cam.info
            if copy:
                rel = f"videos/{cam.name}{info.path.suffix.lower() or '.mp4'}"
                _note_new(out / rel, created)
                _copy_atomic(info.path, out / rel)
                video, external = rel, False
            else:
                video, external = str(info.path.resolve()), True
            stamps = None
            if cam.stored_timestamps:
                stamps = f"timestamps/{cam.name}.csv"
                _note_new(out / stamps, created)
                with atomic_write(out / stamps, "w") as f:
                    f.write(f"# presentation time of each frame of {info.path.name}, seconds\n")
                    np.savetxt(f, info.timestamps, fmt="%.6f")
            entries.append(CameraEntry(name=cam.name, fps=info.fps, frame_count=info.frame_count,
                                       width=info.width, height=info.height, video=video,
                                       timestamps=stamps, external=external))
            # with external = true the manifest resolves relative paths (the timestamps)
            # against the session folder and absolute ones (the referenced video) as they are
        SessionManifest(entries, source="ingest").save(out)
    except BaseException:
        for path in reversed(created):
            if path.is_dir():
                with contextlib.suppress(OSError):
                    path.rmdir()  # only when empty
            else:
                path.unlink(missing_ok=True)
        raise
    return found


def _note_new(path: Path, created: list[Path]) -> None:
    """Add `path` and the folders above it that do not exist yet to `created`."""
    missing = [p for p in [*reversed(path.parents), path] if not p.exists()]
    created.extend(p for p in missing if p not in created)


def _copy_atomic(src: Path, dst: Path) -> None:
    """Copy a file under a temporary name beside `dst`, then rename it (InputError on failure)."""
    tmp = dst.with_name(f".{dst.name}.partial")
    try:
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, tmp)
        os.replace(tmp, dst)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise InputError(f"{dst}: copying {src} failed ({e.strerror or e})") from None
