"""`export_session`: one session to one format, the library call behind `epicap export`.

TRC and C3D hold only real frames: the frames at the start and the end of the timeline where no
joint was triangulated (nothing seen: e.g. the padding `sync` adds) are left out, and the files
number their frames as the videos do (1-based frames of the sync reference camera, from
sync.toml's `first_frame`; the timeline's own rows when the session was not synced).
"""
from __future__ import annotations

import os
import tomllib
from pathlib import Path

import numpy as np

from epicap.errors import InputError

__all__ = ["export_session", "FORMATS", "real_frames", "timeline_first_frame"]

FORMATS = ("trc", "c3d", "colmap", "json", "pose2sim", "anipose")


def real_frames(poses: np.ndarray) -> slice:
    """The rows of poses (T, J, 3) from the first to the last frame with a triangulated joint
    (an empty slice when there is none)."""
    seen = np.nonzero(np.isfinite(poses).all(-1).any(-1))[0]
    return slice(int(seen[0]), int(seen[-1]) + 1) if len(seen) else slice(0, 0)


def timeline_first_frame(session: Path) -> int:
    """The reference camera's 0-based video frame at row 0 of the session's timeline
    (sync.toml's `first_frame`, e.g. -1 when sync padded one frame in front; 0 without sync)."""
    path = session / "sync.toml"
    if not path.is_file():
        return 0
    try:
        return int(tomllib.loads(path.read_text(encoding="utf-8")).get("first_frame", 0))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, TypeError, ValueError) as e:
        raise InputError(f"{path}: unreadable ({e})") from None


def export_session(session: str | os.PathLike, fmt: str, out: str | os.PathLike,
                   units: str | None = None,
                   units_per_metre: float = 1.0, text: bool = False, force: bool = False,
                   marker_names: str = "pose2sim") -> Path | list[Path]:
    """Export a session folder in format `fmt` to `out`; returns the path written.

    Several people (poses3d.npz with `people`): trc and c3d write one file per person,
    FILE_<id>.ext beside `out` (each with that person's real frames), and return their paths
    (`epicap.export.people`); json holds everyone in `out`.

    fmt: one of FORMATS (see `epicap export --help`). units: "m" or "mm" for trc (default m) and
    c3d (default mm). units_per_metre: anipose translation scale. text: colmap text files.
    force: overwrite an existing `out`. marker_names: trc and c3d, "pose2sim" (the names
    Pose2Sim's OpenSim models expect, see `epicap.export.markers`) or "epicap" (joint names).
    InputError naming a missing session file and its verb.
    """
    from epicap.export.markers import MARKER_NAMINGS

    from epicap.session import CAMERAS_FILE
    from epicap.session.io import refuse_overwrite
    from epicap.viz.inputs import load_session

    if fmt not in FORMATS:
        raise InputError(f"unknown export format {fmt!r}; valid: {', '.join(FORMATS)}")
    if not (0 < units_per_metre < float("inf")):
        raise InputError(f"--units-per-metre must be a positive number, got {units_per_metre}")
    if marker_names not in MARKER_NAMINGS:
        raise InputError(f"--marker-names: {marker_names!r} is not one of "
                         f"{', '.join(MARKER_NAMINGS)}")
    out = Path(out)
    per_file = fmt in ("trc", "c3d")  # checked below: several people write FILE_<id>.ext
    if not per_file and (fmt != "colmap" or out.is_file() or (out.is_dir() and any(out.iterdir()))):
        refuse_overwrite(out, force, "output")
    if fmt in ("trc", "c3d", "json"):
        data = load_session(session, "export", poses=True,
                            optional=(CAMERAS_FILE,) if fmt == "json" else ())
        poses = data.poses
        if per_file and poses.people is not None:  # one TRC/C3D per person
            from epicap.export.people import write_per_person

            return write_per_person(out, poses, lambda path, one: export_poses(
                path, one, data.root, fmt, units, marker_names), force)
        if per_file:
            refuse_overwrite(out, force, "output")
            return export_poses(out, poses, data.root, fmt, units, marker_names)
        from epicap.export.jsonfmt import write_json

        return write_json(out, poses, data.cameras)
    from epicap.session import POSES_FILE

    data = load_session(session, "export", cameras=fmt == "colmap",
                        optional=(POSES_FILE,) if fmt == "colmap" else ())
    if fmt == "colmap":
        from epicap.export.colmap import write_colmap

        return write_colmap(out, data.cameras, data.poses, text=text)
    from epicap.export.calibration import write_calibration
    from epicap.viz.inputs import session_path

    cams = data.cameras
    if cams is None:  # calibration formats accept intrinsics-only rigs too
        from epicap.session import Cameras

        cams = Cameras.from_toml(session_path(session, CAMERAS_FILE, "export"))
    return write_calibration(out, cams, fmt, units_per_metre)


def export_poses(out: Path, poses, root: Path, fmt: str, units: str | None,
                 marker_names: str) -> Path:
    """Write one person's `poses` (Poses3D, (T, J, 3)) of the session folder `root` as `fmt`
    "trc" or "c3d" to `out`: its real frames, numbered as the videos are (module docstring)."""
    from epicap.export.markers import markers_for_export

    rows = real_frames(poses.poses)
    if rows.stop == rows.start:
        raise InputError(f"{root}: poses3d.npz has no triangulated joint; nothing to export")
    markers, names = markers_for_export(poses.poses[rows], poses.joint_set, poses.joints,
                                        marker_names)
    first = timeline_first_frame(root) + rows.start + 1  # 1-based video frame
    if first < 1:  # real frames before the reference camera's first: count from 1
        first = 1
    if fmt == "trc":
        from epicap.export.trc import write_trc

        return write_trc(out, markers, names, poses.fps, units or "m", first)
    from epicap.export.c3d import write_c3d

    return write_c3d(out, markers, names, poses.fps, units or "mm", first)
