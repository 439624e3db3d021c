"""What the viewing and sharing verbs read from a session; one clear line for a missing file.

Each session file is made by one verb; a missing file is reported as the file's path and the verb
that makes it, e.g. `SESSION/poses3d.npz: not found (make it with `epicap triangulate SESSION`)`.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from epicap.errors import InputError
from epicap.session import CAMERAS_FILE, KEYPOINTS_FILE, POSES_FILE, Cameras, Keypoints2D, Poses3D

__all__ = ["SessionData", "load_session", "session_path", "MAKER"]

# which verb writes each interface file
MAKER = {
    KEYPOINTS_FILE: "epicap detect SESSION` (or `epicap import",
    CAMERAS_FILE: "epicap calibrate SESSION",
    POSES_FILE: "epicap triangulate SESSION",
}


@dataclass
class SessionData:
    """The interface files of a session that were asked for (None where not loaded)."""

    root: Path
    cameras: Cameras | None = None
    poses: Poses3D | None = None
    keypoints: Keypoints2D | None = None


def session_path(session_dir: str | os.PathLike, name: str, verb: str = "") -> Path:
    """SESSION/name, or InputError naming the missing file and the verb that makes it.

    session_dir: the session folder. name: one of KEYPOINTS_FILE, CAMERAS_FILE, POSES_FILE.
    verb: the verb that needs the file, to say who asked ("epicap view needs ...").
    """
    root = Path(session_dir)
    if not root.is_dir():
        raise InputError(f"{root}: no such session folder")
    path = root / name
    if not path.is_file():
        maker = MAKER.get(name, "").replace("SESSION", str(root))
        who = f"epicap {verb} needs it; " if verb else ""
        raise InputError(f"{path}: not found ({who}make it with `{maker}`)")
    return path


def load_session(session_dir: str | os.PathLike, verb: str, cameras: bool = False,
                 poses: bool = False, keypoints: bool = False,
                 optional: tuple[str, ...] = ()) -> SessionData:
    """Load the session files a verb needs.

    session_dir: the session folder. verb: the asking verb (for the message). cameras, poses,
    keypoints: which files are required. optional: file names loaded when present, skipped
    silently otherwise (e.g. (KEYPOINTS_FILE,) for a report that can do without 2D keypoints).
    Raises InputError naming the first missing or unreadable required file.
    """
    data = SessionData(Path(session_dir))
    wanted = {CAMERAS_FILE: cameras, POSES_FILE: poses, KEYPOINTS_FILE: keypoints}
    for name, required in wanted.items():
        present = (data.root / name).is_file()
        if not required and not (name in optional and present):
            continue
        path = session_path(session_dir, name, verb)
        if name == CAMERAS_FILE:
            data.cameras = Cameras.from_toml(path)
        elif name == POSES_FILE:
            data.poses = Poses3D.from_npz(path)
            if data.poses.poses.shape[-3] == 0 or not data.poses.valid.any():  # no frames
                raise InputError(f"{path}: not one joint triangulated (every pose is NaN); "
                                 f"nothing for epicap {verb} to show")
        else:
            data.keypoints = Keypoints2D.from_npz(path)
    if data.cameras is not None and cameras and not data.cameras.has_extrinsics:
        raise InputError(f"{data.root / CAMERAS_FILE}: holds intrinsics only (epicap {verb} needs "
                         f"camera poses; make them with `epicap calibrate {data.root}`)")
    return data
