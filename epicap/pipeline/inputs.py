"""A session file a verb needs, or one line saying which verb makes it.

    SESSION/keypoints2d.npz: no such file (make it with `epicap detect SESSION` or `epicap import`)

The README's "When something goes wrong" table lists this form; every verb that reads a file
another verb writes (calibrate, sync, triangulate, label) checks with `require_session_file`.
"""
from __future__ import annotations

import os
from pathlib import Path

from epicap.errors import InputError
from epicap.session import CAMERAS_FILE, KEYPOINTS_FILE, POSES_FILE

__all__ = ["require_session_file", "MAKERS"]

# the verb that writes each interface file ({session}: the session folder)
MAKERS = {
    KEYPOINTS_FILE: "`epicap detect {session}` or `epicap import`",
    CAMERAS_FILE: "`epicap calibrate {session}`",
    POSES_FILE: "`epicap triangulate {session}`",
}


def detected_keypoints(session: str | os.PathLike) -> Path:
    """SESSION's keypoints as the detector, importer or sync left them: keypoints2d_unmatched.npz
    while keypoints2d.npz is triangulate's re-check of it (`session.recheck`), else
    keypoints2d.npz; InputError naming the verb that makes it when there is none."""
    from epicap.session import KEYPOINTS_FILE
    from epicap.session.recheck import keypoints_before_recheck

    source = keypoints_before_recheck(session)
    return require_session_file(session, KEYPOINTS_FILE) if source.name == KEYPOINTS_FILE \
        else source


def require_session_file(session: str | os.PathLike, name: str, otherwise: str = "") -> Path:
    """SESSION/name when it is a file; else InputError naming the verb that makes it.

    session: the session folder (InputError when it is not one). name: a key of MAKERS.
    otherwise: another way to give the file, added to the hint (e.g. "pass --cameras FILE").
    """
    session = Path(session)
    if not session.is_dir():
        raise InputError(f"{session}: no such session folder")
    path = session / name
    if not path.is_file():
        hint = MAKERS[name].format(session=session) + (f", or {otherwise}" if otherwise else "")
        raise InputError(f"{path}: no such file (make it with {hint})")
    return path
