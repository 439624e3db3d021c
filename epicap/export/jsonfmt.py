"""Plain JSON of a session's cameras and 3D poses, for scripts in any language.

    {"format": "epicap.poses3d+json", "version": 1,
     "units": "m", "up": "+Z", "camera_convention": "x_cam = R @ X_world + t; OpenCV pixels",
     "joint_set": "h36m17", "joints": [...], "bones": [[0, 1], ...], "fps": 60.0,
     "cameras": [{"name", "image_size": [w, h], "K": 3x3, "dist": [k1 k2 p1 p2 k3],
                  "R": 3x3, "t": [3], "center": [3]}, ...],
     "frames": [{"index": 0, "time_s": 0.0, "joints": [[x, y, z] | null, ...],
                 "reprojection_error_px": [.. | null], "views": [..]}, ...]}

Missing joints are null (JSON has no NaN).

Several people (poses3d.npz with `people`): the document gains `"people": ["p0", "p1", ...]` and
each frame holds one entry per person, in that order, instead of the joints:
     "frames": [{"index": 0, "time_s": 0.0, "people": [{"id": "p0", "joints": [...],
                 "reprojection_error_px": [...], "views": [...]}, ...]}, ...]
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from epicap.errors import InputError
from epicap.session import Cameras, Poses3D
from epicap.session.io import atomic_write

__all__ = ["session_to_json", "write_json", "read_json", "FORMAT"]

FORMAT = "epicap.poses3d+json"
VERSION = 1


def _num(v: float, digits: int = 6):
    return None if not np.isfinite(v) else round(float(v), digits)


def session_to_json(poses: Poses3D, cameras: Cameras | None = None) -> dict:
    """The JSON document (a dict) of the poses and, when given, the cameras."""
    doc = {"format": FORMAT, "version": VERSION, "units": "m", "up": "+Z",
           "camera_convention": "x_cam = R @ X_world + t; pixels: OpenCV, top-left pixel centre "
                                "at (0, 0)",
           "joint_set": poses.joint_set, "joints": list(poses.joints),
           "bones": poses.skeleton.bone_index.tolist(), "fps": poses.fps, "cameras": []}
    if cameras is not None:
        for c, name in enumerate(cameras.names):
            cam = {"name": name, "image_size": cameras.image_size[c].tolist(),
                   "K": cameras.K[c].tolist(), "dist": cameras.dist[c].tolist()}
            if cameras.has_extrinsics:
                cam.update(R=cameras.R[c].tolist(), t=cameras.t[c].tolist(),
                           center=cameras.centers[c].tolist())
            doc["cameras"].append(cam)
    if poses.people is not None:
        doc["people"] = list(poses.people)
    singles = [poses.person(p) for p in range(poses.num_people)]
    frames = []
    for t in range(poses.poses.shape[-3]):
        entries = [_frame_entry(one, t) for one in singles]
        frame = {"index": t, "time_s": round(t / poses.fps, 6)}
        if poses.people is None:
            frame.update(entries[0])
        else:
            frame["people"] = [{"id": pid, **e} for pid, e in zip(poses.people, entries)]
        frames.append(frame)
    doc["frames"] = frames
    return doc


def _frame_entry(poses: Poses3D, t: int) -> dict:
    """Frame t of one person: joints (null where missing), reprojection errors, views."""
    return {"joints": [None if not np.isfinite(p).all() else [_num(v) for v in p]
                       for p in poses.poses[t]],
            "reprojection_error_px": [_num(e, 3) for e in poses.reprojection_error[t]],
            "views": poses.views[t].astype(int).tolist()}


def write_json(path: str | os.PathLike, poses: Poses3D, cameras: Cameras | None = None) -> Path:
    """Write `session_to_json` atomically (UTF-8, one frame per line for readable diffs)."""
    doc = session_to_json(poses, cameras)
    frames = doc.pop("frames")
    head = json.dumps(doc, indent=1)[:-2]
    body = ",\n".join("  " + json.dumps(f, separators=(",", ":")) for f in frames)
    with atomic_write(path, "w") as f:
        f.write(f'{head},\n "frames": [\n{body}\n ]\n}}\n')
    return Path(path)


def read_json(path: str | os.PathLike) -> tuple[Poses3D, Cameras | None]:
    """Read a file written by `write_json` back into Poses3D (and Cameras when it has them)."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise InputError(f"{path}: not a readable JSON file ({e})") from None
    if doc.get("format") != FORMAT:
        raise InputError(f"{path}: not an {FORMAT} file")
    frames = doc["frames"]
    if "people" in doc:
        ids = list(doc["people"])
        poses = Poses3D.stack([_person_from_json(doc, [f["people"][p] for f in frames])
                               for p in range(len(ids))], ids)
    else:
        poses = _person_from_json(doc, frames)
    cams = None
    if doc["cameras"]:
        cs = doc["cameras"]
        has = all("R" in c for c in cs)
        cams = Cameras([c["name"] for c in cs], [c["image_size"] for c in cs],
                       [c["K"] for c in cs], [c["dist"] for c in cs],
                       [c["R"] for c in cs] if has else None, [c["t"] for c in cs] if has else None)
    return poses, cams


def _person_from_json(doc: dict, frames: list[dict]) -> Poses3D:
    """One person's Poses3D from its per-frame entries (joints, errors, views)."""
    J = len(doc["joints"])
    X = np.array([[p if p is not None else [np.nan] * 3 for p in f["joints"]] for f in frames],
                 dtype=np.float64).reshape(len(frames), J, 3)
    err = np.array([[np.nan if e is None else e for e in f["reprojection_error_px"]]
                    for f in frames], dtype=np.float64).reshape(len(frames), J)
    views = np.array([f["views"] for f in frames]).reshape(len(frames), J)
    return Poses3D(X, err, views, doc["joint_set"], doc["fps"], doc["joints"])
