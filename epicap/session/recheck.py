"""Which keypoints file a stage reads once triangulate has re-checked the people with the cameras.

Triangulate (`epicap.pipeline.rematch`) rewrites keypoints2d.npz with the views the cameras
corrected (left/right swaps exchanged back, views moved to another person or dropped) and keeps
the keypoints as they were in keypoints2d_unmatched.npz. keypoints2d_recheck.json ties the two
by their sha256: while both files are as it recorded them, every stage that starts from the
detections (sync, calibrate, triangulate) reads the keypoints as they were
(`keypoints_before_recheck`):

- a calibration never depends on the one it replaces: `calibrate` after `run` gives `run`'s rig;
- triangulating with new cameras re-checks the detector's own views, not views an earlier
  calibration already moved, and never copies those over keypoints2d_unmatched.npz;
- sync rerun starts from its raw keypoints, which it does not overwrite.

Keypoints detected, imported or synced again break the tie (keypoints2d.npz changes) and are
read as they are.

Example:
    >>> import tempfile
    >>> keypoints_before_recheck(tempfile.mkdtemp()).name
    'keypoints2d.npz'
"""
from __future__ import annotations

import json
import os
from pathlib import Path

__all__ = ["UNMATCHED_FILE", "RECHECK_FILE", "keypoints_before_recheck", "record_recheck"]

UNMATCHED_FILE = "keypoints2d_unmatched.npz"  # keypoints2d.npz as it was before the re-check
RECHECK_FILE = "keypoints2d_recheck.json"  # ties keypoints2d.npz to the file it was re-checked from


def _digest(path: Path) -> str | None:
    from epicap.assets import sha256_of

    return sha256_of(path) if path.is_file() else None


def keypoints_before_recheck(session: str | os.PathLike) -> Path:
    """The session's keypoints as the detector, importer or sync left them.

    SESSION/keypoints2d_unmatched.npz while SESSION/keypoints2d.npz is the re-check's output from
    it (both sha256 as `record_recheck` wrote them), else SESSION/keypoints2d.npz (whether or
    not it exists).
    """
    from epicap.session import KEYPOINTS_FILE

    session = Path(session)
    kp, unmatched = session / KEYPOINTS_FILE, session / UNMATCHED_FILE
    try:
        link = json.loads((session / RECHECK_FILE).read_text())
    except (OSError, ValueError):
        return kp
    if not isinstance(link, dict) or link.get(UNMATCHED_FILE) is None:
        return kp
    if link[UNMATCHED_FILE] == _digest(unmatched) and link.get(KEYPOINTS_FILE) == _digest(kp):
        return unmatched
    return kp


def record_recheck(session: str | os.PathLike, linked: bool) -> None:
    """Write SESSION/keypoints2d_recheck.json (atomically) with the sha256 of keypoints2d.npz and
    keypoints2d_unmatched.npz when `linked` (the first is the re-check of the second); otherwise
    remove it."""
    from epicap.session import KEYPOINTS_FILE
    from epicap.session.io import atomic_write

    session = Path(session)
    path = session / RECHECK_FILE
    if not linked:
        path.unlink(missing_ok=True)
        return
    link = {KEYPOINTS_FILE: _digest(session / KEYPOINTS_FILE),
            UNMATCHED_FILE: _digest(session / UNMATCHED_FILE)}
    with atomic_write(path, "w") as f:
        json.dump(link, f, indent=1)
