"""Calibration TOML for Pose2Sim and Anipose, both directions.

epicap's `cameras.toml` already is the Pose2Sim / Anipose layout (`[cam]` sections with name, size
[w, h], matrix, distortions, rotation (Rodrigues, world -> camera), translation, fisheye, and a
`[metadata]` table), so the conversion is mostly naming and units:

- Pose2Sim: sections named after the cameras, translation in metres.
- Anipose: sections `cam_0`, `cam_1`, ... (aniposelib's `CameraGroup.load` order), translation in
  the unit of the calibration board's square size: `units_per_metre` (1000 for a board in mm).

Reading goes through `Cameras.from_toml` (any section names), scaling translations back to metres.
"""
from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from epicap.errors import InputError
from epicap.session import Cameras
from epicap.session.io import atomic_write, toml_string

__all__ = ["write_calibration", "read_calibration", "FLAVOURS"]

FLAVOURS = ("pose2sim", "anipose")


def write_calibration(path: str | os.PathLike, cameras: Cameras, flavour: str = "pose2sim",
                      units_per_metre: float = 1.0) -> Path:
    """Write the rig as a Pose2Sim or Anipose calibration TOML, atomically.

    flavour: "pose2sim" or "anipose". units_per_metre: translation scale (Anipose users with a
    board in millimetres pass 1000). Returns the path.
    """
    if flavour not in FLAVOURS:
        raise InputError(f"unknown calibration flavour {flavour!r}; valid: {', '.join(FLAVOURS)}")
    if not 0 < units_per_metre < float("inf"):
        raise InputError(f"units_per_metre must be a positive number, got {units_per_metre}")
    out = cameras
    if cameras.has_extrinsics and units_per_metre != 1.0:
        out = replace(cameras, t=cameras.t * units_per_metre)
    if flavour == "anipose":
        # the section keys are cam_0.., the names stay; Cameras.to_toml keys sections by name
        out = _rekeyed(out)
    out.to_toml(path)
    if flavour == "anipose":
        _restore_names(path, cameras.names)
    return Path(path)


def read_calibration(path: str | os.PathLike, units_per_metre: float = 1.0) -> Cameras:
    """Read a Pose2Sim or Anipose calibration TOML into metres (translation / units_per_metre)."""
    if not units_per_metre > 0:
        raise InputError(f"units_per_metre must be positive, got {units_per_metre}")
    cams = Cameras.from_toml(path)
    if cams.has_extrinsics and units_per_metre != 1.0:
        cams = replace(cams, t=cams.t / units_per_metre)
    return cams


def _rekeyed(cameras: Cameras) -> Cameras:
    return replace(cameras, names=[f"cam_{i}" for i in range(len(cameras.names))])


def _restore_names(path: str | os.PathLike, names: list[str]) -> None:
    """Put the real camera names back in the `name = ...` lines of an Anipose file."""
    text = Path(path).read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(text):
        for k, name in enumerate(names):
            if line == f'name = "cam_{k}"':
                text[i] = f"name = {toml_string(name)}"
    with atomic_write(path, "w") as f:
        f.write("\n".join(text) + "\n")
