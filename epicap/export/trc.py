"""OpenSim's TRC marker file: write and read.

Layout (tab-separated, as OpenSim's TRCFileAdapter and Pose2Sim's `make_trc` write it):

    PathFileType  4  (X/Y/Z)  NAME.trc  Y up (OpenSim); X = world y, Y = world z, Z = world x; m
    DataRate  CameraRate  NumFrames  NumMarkers  Units  OrigDataRate  OrigDataStartFrame  OrigNum...
    60  60  100  17  m  60  1  100
    Frame#  Time  pelvis      right_hip      ...
                  X1  Y1  Z1  X2  Y2  Z2  ...
    1  0.000000  x  y  z  ...

The first line states the axes and units after the file name (readers take its first four
fields); the Units field declares them too. Frame# counts from `first_frame` (the frame number
of the first row written, 1-based, also in OrigDataStartFrame); Time is (Frame# - 1) / rate.

Axes: OpenSim is Y up; epicap's world is Z up. The conversion is Pose2Sim's `zup2yup`, a proper
rotation (a cyclic permutation of the axes): X_trc = y, Y_trc = z, Z_trc = x. Units are metres or
millimetres as the header's `Units` declares. Missing markers are empty cells (NaN on reading).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from epicap.errors import InputError, check_shape
from epicap.session.io import atomic_write

__all__ = ["TrcData", "yup_from_zup", "zup_from_yup", "write_trc", "read_trc", "UNIT_SCALE"]

UNIT_SCALE = {"m": 1.0, "mm": 1000.0}


def yup_from_zup(points: np.ndarray) -> np.ndarray:
    """(..., 3) Z-up points -> OpenSim's Y-up frame: (x, y, z) -> (y, z, x) (Pose2Sim's zup2yup)."""
    points = np.asarray(points)
    return points[..., [1, 2, 0]]


def zup_from_yup(points: np.ndarray) -> np.ndarray:
    """The inverse of `yup_from_zup`: (X, Y, Z) Y-up -> (Z, X, Y) Z-up."""
    points = np.asarray(points)
    return points[..., [2, 0, 1]]


@dataclass
class TrcData:
    """A TRC file's content in its own frame: markers (T, M, 3) in `units`, Y up."""

    markers: np.ndarray
    names: list[str]
    rate_hz: float
    units: str
    first_frame: int = 1


def write_trc(path: str | os.PathLike, poses_world: np.ndarray, names: list[str], fps: float,
              units: str = "m", first_frame: int = 1) -> Path:
    """Write 3D joints as an OpenSim TRC file, atomically.

    poses_world: (T, M, 3) metres in epicap's world frame (Z up), NaN where missing.
    names: M marker names. fps: frames per second. units: "m" or "mm" (declared in the header).
    first_frame: the 1-based frame number of row 0 (Frame# and OrigDataStartFrame).
    Returns the path.
    """
    if units not in UNIT_SCALE:
        raise InputError(f"TRC units must be one of {', '.join(UNIT_SCALE)}, got {units!r}")
    if not 0 < fps < float("inf"):
        raise InputError(f"TRC: fps must be a positive number, got {fps}")
    check_shape(poses_world, "T, M, 3", "TRC: poses_world")
    X = yup_from_zup(np.asarray(poses_world, dtype=np.float64)) * UNIT_SCALE[units]
    T, M, _ = X.shape
    if len(names) != M:
        raise InputError(f"TRC: {len(names)} marker names for {M} markers")
    path = Path(path)
    if int(first_frame) < 1:
        raise InputError(f"TRC: first_frame must be 1 or more, got {first_frame}")
    first = int(first_frame)
    lines = [f"PathFileType\t4\t(X/Y/Z)\t{path.name}\tY up (OpenSim); X = world y, Y = world z,"
             f" Z = world x; {'metres' if units == 'm' else 'millimetres'}",
             "DataRate\tCameraRate\tNumFrames\tNumMarkers\tUnits\tOrigDataRate\t"
             "OrigDataStartFrame\tOrigNumFrames",
             f"{fps:g}\t{fps:g}\t{T}\t{M}\t{units}\t{fps:g}\t{first}\t{T}",
             "Frame#\tTime\t" + "\t\t\t".join(names) + "\t\t\t",
             "\t\t" + "\t".join(f"X{i + 1}\tY{i + 1}\tZ{i + 1}" for i in range(M)) + "\t"]
    for t in range(T):
        cells = ["" if not np.isfinite(v) else f"{v:.6f}" for v in X[t].reshape(-1)]
        lines.append(f"{first + t}\t{(first + t - 1) / fps:.6f}\t" + "\t".join(cells))
    with atomic_write(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def read_trc(path: str | os.PathLike) -> TrcData:
    """Read a TRC file (markers as written, in the file's frame and units).

    Raises InputError naming the file and the line for a malformed file.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: cannot read ({e})") from None
    if len(text) < 5 or not text[0].startswith("PathFileType"):
        raise InputError(f"{path}: not a TRC file (no PathFileType header)")
    keys, values = text[1].split("\t"), text[2].split("\t")
    header = dict(zip([k.strip() for k in keys], [v.strip() for v in values]))
    try:
        rate, M = float(header["DataRate"]), int(header["NumMarkers"])
        units, first = header["Units"], int(header.get("OrigDataStartFrame", 1))
    except (KeyError, ValueError) as e:
        raise InputError(f"{path}: line 3: bad header ({e})") from None
    names = [n.strip() for n in text[3].split("\t")[2:] if n.strip()]
    if len(names) != M:
        raise InputError(f"{path}: line 4 names {len(names)} markers, the header says {M}")
    rows = []
    for i, line in enumerate(text[5:], start=6):
        if not line.strip():
            continue
        cells = line.split("\t")[2:2 + 3 * M]
        cells += [""] * (3 * M - len(cells))
        try:
            rows.append([float(c) if c.strip() else np.nan for c in cells])
        except ValueError:
            raise InputError(f"{path}: line {i}: not a number") from None
    markers = np.array(rows, dtype=np.float64).reshape(-1, M, 3)
    return TrcData(markers, names, rate, units, first)
