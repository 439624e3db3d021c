"""Qualisys `.qca.txt` calibrations (XML, as QTM exports them) read into `Cameras`.

The layout follows Pose2Sim's `calibration.read_qca` / `calib_qca_fun` (BSD-3-Clause), which
converted the Pose2Sim demo:

- intrinsics are in 1/64 sub-pixels of the sensor (focal lengths, principal point and, as Pose2Sim
  reads them, the distortion coefficients), the principal point relative to the `fov_video`
  window, whose size is the image size (portrait videos have width < height);
- `transform` holds the camera's position (mm) and a rotation whose rows, as written r11..r33,
  are the camera's axes in the world (Qualisys camera axes: x right, y up, z backwards), so
  OpenCV's `cam_from_world` is R = diag(1, -1, -1) @ M and t = -R @ position.
"""
from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

from epicap.errors import InputError
from epicap.session.cameras import MAX_IMAGE_SIDE, Cameras

__all__ = ["read_qualisys"]

_FLIP = np.diag([1.0, -1.0, -1.0])  # Qualisys camera axes (y up, z back) -> OpenCV (y down, z on)


def _natural_key(name: str):
    return [int(p) if p.isdigit() else p.lower() for p in re.split(r"(\d+)", name)]


def read_qualisys(path: str | os.PathLike | None = None, text: str | None = None,
                  binning: int = 1) -> Cameras:
    """Cameras (intrinsics, distortion, `cam_from_world` in metres) from a Qualisys calibration.

    path: a `.qca.txt` file, or text: its content. binning: the sensor binning factor of the
    recording (1 unless filmed binned). Cameras come in natural name order (cam2 before cam10).
    Raises InputError naming the file and the camera for a malformed file.
    """
    where = str(path) if path is not None else "Qualisys calibration"
    try:
        root = ET.fromstring(Path(path).read_text(encoding="utf-8") if text is None else text)
    except FileNotFoundError:
        raise InputError(f"{where}: no such file") from None
    except (OSError, UnicodeDecodeError, ET.ParseError) as e:
        raise InputError(f"{where}: not a Qualisys XML calibration ({e})") from None
    cams = root.findall("cameras/camera")
    if not cams:
        raise InputError(f"{where}: no <cameras><camera> elements")
    rows = []
    for cam in cams:
        name = cam.get("serial") or f"cam{len(rows) + 1:02d}"
        try:
            fov = cam.find("fov_video")
            left, top = float(fov.get("left")), float(fov.get("top"))
            width = (float(fov.get("right")) - left + 1) / binning
            height = (float(fov.get("bottom")) - top + 1) / binning
            intr = cam.find("intrinsic")
            g = lambda k: float(intr.get(k)) / 64 / binning  # noqa: E731
            K = np.array([[g("focalLengthU"), 0, g("centerPointU") - left],
                          [0, g("focalLengthV"), g("centerPointV") - top], [0, 0, 1.0]])
            dist = np.array([g("radialDistortion1"), g("radialDistortion2"),
                             g("tangentalDistortion1"), g("tangentalDistortion2"),
                             g("radialDistortion3")])
            tr = cam.find("transform")
            M = np.array([[float(tr.get(f"r{i}{j}")) for j in (1, 2, 3)] for i in (1, 2, 3)])
            position = np.array([float(tr.get(k)) for k in "xyz"]) / 1000.0
        except (AttributeError, TypeError, ValueError) as e:
            raise InputError(f"{where}: camera {name}: missing or malformed values ({e})") from None
        if not all(np.isfinite(v).all() for v in (K, dist, M, position)) or \
                not (1 <= width <= MAX_IMAGE_SIDE and 1 <= height <= MAX_IMAGE_SIDE):
            raise InputError(f"{where}: camera {name}: non-finite values or an empty image")
        if abs(np.linalg.det(M) - 1) > 1e-3:
            raise InputError(f"{where}: camera {name}: the transform is not a rotation")
        R = _FLIP @ M
        rows.append((name, (width, height), K, dist, R, -R @ position))
    rows.sort(key=lambda r: _natural_key(r[0]))
    names = [r[0] for r in rows]
    if len(set(names)) != len(names):
        raise InputError(f"{where}: camera serials are not unique: {names}")
    return Cameras(names, np.rint([r[1] for r in rows]).astype(np.int64),
                   np.array([r[2] for r in rows]), np.array([r[3] for r in rows]),
                   np.array([r[4] for r in rows]), np.array([r[5] for r in rows]))
