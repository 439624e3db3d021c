"""The readers under fuzzing, each wrapped to check the property every input must meet: the
reader returns an object that honours the file contract (`helpers.assert_valid_*`) or raises
`InputError`; never another exception type, never a hang (a generous time limit guards each
call). Each `load_*` writes the bytes into `folder`, reads them and returns the object or None.
"""
from __future__ import annotations

import tempfile
import warnings
from pathlib import Path

from hypothesis import HealthCheck, settings

from epicap.errors import InputError
from epicap.keypoints.openpose import read_openpose
from epicap.session import Cameras, Keypoints2D, Poses3D
from epicap.session.manifest import MANIFEST_FILE, SessionManifest
from tests.hardening.helpers import (assert_valid_cameras, assert_valid_keypoints,
                                     assert_valid_manifest, assert_valid_poses, time_limit)

FAST = settings(max_examples=60, deadline=None, derandomize=True, database=None,
                suppress_health_check=list(HealthCheck))
SLOW = settings(max_examples=2000, deadline=None, database=None,
                suppress_health_check=list(HealthCheck))
HANG_S = 60.0  # far above any honest read of these tiny files, even on a busy machine


def read_or_input_error(read, check):
    """Run `read()`; its result must pass `check`, and its only allowed failure is InputError."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # numpy's overflow warnings are not the property
        with time_limit(HANG_S):
            try:
                result = read()
            except InputError as e:
                assert str(e).strip()  # (one line on the terminal: the CLI's job, see the matrix)
                return None
    check(result)
    return result


def load_keypoints_npz(folder: Path, data: bytes):
    path = folder / "keypoints2d.npz"
    path.write_bytes(data)
    return read_or_input_error(lambda: Keypoints2D.from_npz(path), assert_valid_keypoints)


def load_poses_npz(folder: Path, data: bytes):
    path = folder / "poses3d.npz"
    path.write_bytes(data)
    return read_or_input_error(lambda: Poses3D.from_npz(path), assert_valid_poses)


def load_cameras_toml(folder: Path, data: bytes):
    path = folder / "cameras.toml"
    path.write_bytes(data)
    return read_or_input_error(lambda: Cameras.from_toml(path), assert_valid_cameras)


def read_openpose_folders(folders: list[dict[str, bytes]], image_size=(640, 480)):
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for c, files in enumerate(folders):
            folder = Path(tmp) / f"cam{c + 1:02d}_json"
            folder.mkdir()
            for name, data in files.items():
                (folder / name).write_bytes(data)
            paths.append(folder)
        return read_or_input_error(
            lambda: read_openpose(paths, image_size=image_size, fps=30.0), assert_valid_keypoints)


def load_manifest(folder: Path, data: bytes):
    (folder / MANIFEST_FILE).write_bytes(data)
    man = read_or_input_error(lambda: SessionManifest.load(folder),
                               lambda m: assert_valid_manifest(m, folder))
    if man is not None:  # the paths it gives are inside the session or were passed by the user
        for name in man.names:
            read_or_input_error(lambda: man.timestamps(folder, name),
                                 lambda ts: ts is None or (ts.ndim == 1 and ts.size >= 1))
    return man
