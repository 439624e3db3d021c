"""`export_session`: one session to one format, the library call behind `epicap export`."""
from __future__ import annotations

import os
from pathlib import Path

from epicap.errors import InputError

__all__ = ["export_session", "FORMATS"]

FORMATS = ("trc", "c3d", "colmap", "json", "pose2sim", "anipose")


def export_session(session: str | os.PathLike, fmt: str, out: str | os.PathLike,
                   units: str | None = None,
                   units_per_metre: float = 1.0, text: bool = False, force: bool = False) -> Path:
    """Export a session folder in format `fmt` to `out`; returns the path written.

    fmt: one of FORMATS (see `epicap export --help`). units: "m" or "mm" for trc (default m) and
    c3d (default mm). units_per_metre: anipose translation scale. text: colmap text files.
    force: overwrite an existing `out`. InputError naming a missing session file and its verb.
    """
    from epicap.session import CAMERAS_FILE
    from epicap.session.io import refuse_overwrite
    from epicap.viz.inputs import load_session

    if fmt not in FORMATS:
        raise InputError(f"unknown export format {fmt!r}; valid: {', '.join(FORMATS)}")
    if not (0 < units_per_metre < float("inf")):
        raise InputError(f"--units-per-metre must be a positive number, got {units_per_metre}")
    out = Path(out)
    if fmt != "colmap" or out.is_file() or (out.is_dir() and any(out.iterdir())):
        refuse_overwrite(out, force, "output")
    if fmt in ("trc", "c3d", "json"):
        data = load_session(session, "export", poses=True,
                            optional=(CAMERAS_FILE,) if fmt == "json" else ())
        poses = data.poses
        if fmt == "trc":
            from epicap.export.trc import write_trc

            return write_trc(out, poses.poses, poses.joints, poses.fps, units or "m")
        if fmt == "c3d":
            from epicap.export.c3d import write_c3d

            return write_c3d(out, poses.poses, poses.joints, poses.fps, units or "mm")
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
