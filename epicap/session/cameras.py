"""`cameras.toml`: the Pose2Sim/Anipose calibration layout, read and written exactly.

    [cam01]
    name = "cam01"
    size = [1088.0, 1920.0]          # width, height
    matrix = [[fx, 0.0, cx], [0.0, fy, cy], [0.0, 0.0, 1.0]]
    distortions = [k1, k2, p1, p2]
    rotation = [rx, ry, rz]          # Rodrigues vector, world -> camera
    translation = [tx, ty, tz]       # metres, world -> camera
    fisheye = false

    [metadata]
    adjusted = false
    error = 0.41                     # RMS reprojection error, pixels

The same file with only name, size, matrix, distortions gives known intrinsics.
"""
from __future__ import annotations

import math
import os
import re
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from epicap.errors import InputError
from epicap.geometry.camera import (camera_centers, pad_distortion, project_points,
                                    rodrigues_from_rotation, rotation_from_rodrigues)
from epicap.session.io import atomic_write, toml_string
from epicap.session.names import check_camera_name

MAX_IMAGE_SIDE = 100_000  # pixels; a larger "image size" is a corrupt file, not a camera

__all__ = ["Cameras"]


@dataclass
class Cameras:
    """A rig of C pinhole cameras with OpenCV distortion.

    names: C camera names. image_size: (C, 2) int width, height in pixels. K: (C, 3, 3)
    intrinsics in pixels. dist: (C, 5) k1 k2 p1 p2 k3. R: (C, 3, 3) and t: (C, 3) metres,
    `cam_from_world`; None when only intrinsics are known. error_px: RMS reprojection error of
    the calibration in pixels, if known. adjusted: the `[metadata] adjusted` flag of the file.
    """

    names: list[str]
    image_size: np.ndarray
    K: np.ndarray
    dist: np.ndarray
    R: np.ndarray | None = None
    t: np.ndarray | None = None
    error_px: float | None = None
    adjusted: bool = False

    def __post_init__(self):
        self.names = [str(n) for n in self.names]
        C = len(self.names)
        self.image_size = np.asarray(self.image_size, dtype=np.int64).reshape(C, 2)
        self.K = np.asarray(self.K, dtype=np.float64).reshape(C, 3, 3)
        self.dist = pad_distortion(np.asarray(self.dist, dtype=np.float64).reshape(C, -1))
        if (self.R is None) != (self.t is None):
            raise InputError("cameras: rotation and translation must be given together")
        if self.R is not None:
            self.R = np.asarray(self.R, dtype=np.float64).reshape(C, 3, 3)
            self.t = np.asarray(self.t, dtype=np.float64).reshape(C, 3)

    def __len__(self) -> int:
        return len(self.names)

    @property
    def has_extrinsics(self) -> bool:
        """True when rotations and translations (`cam_from_world`) are known."""
        return self.R is not None

    @property
    def centers(self) -> np.ndarray:
        """(C, 3) camera centres in world metres."""
        self._need_extrinsics()
        return camera_centers(self.R, self.t)

    def project(self, points_world: np.ndarray) -> np.ndarray:
        """Pixels (C, N, 2) in each camera's original (distorted) image of world points (N, 3)
        or (C, N, 3) in metres; NaN behind a camera."""
        self._need_extrinsics()
        return project_points(points_world, self.K, self.R, self.t, self.dist)[0]

    def select(self, names: list[str]) -> "Cameras":
        """The cameras `names`, in that order; InputError for a name not in the rig."""
        idx = []
        for n in names:
            if n not in self.names:
                raise InputError(f"camera {n!r} is not in the calibration "
                                 f"(it has {', '.join(self.names)})")
            idx.append(self.names.index(n))
        return replace(self, names=list(names), image_size=self.image_size[idx], K=self.K[idx],
                       dist=self.dist[idx], R=None if self.R is None else self.R[idx],
                       t=None if self.t is None else self.t[idx])

    def _need_extrinsics(self) -> None:
        if self.R is None:
            raise InputError("cameras: only intrinsics are known (no rotation/translation); "
                             "run `epicap calibrate` first")

    # ---- TOML ----------------------------------------------------------------------------
    @classmethod
    def from_toml(cls, path: str | os.PathLike, require_extrinsics: bool = False) -> "Cameras":
        """Read a Pose2Sim/Anipose calibration TOML (intrinsics-only files are accepted unless
        `require_extrinsics`). InputError naming the file, the camera and the key on bad input."""
        path = Path(path)
        try:
            doc = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise InputError(f"{path}: no such file") from None
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
            raise InputError(f"{path}: not a readable TOML file ({e})") from None
        except RecursionError:
            raise InputError(f"{path}: not a readable TOML file (nested too deeply)") from None
        meta = doc.get("metadata", {})
        if not isinstance(meta, dict):
            raise InputError(f"{path}: [metadata] must be a table")
        sections = [(k, v) for k, v in doc.items() if k != "metadata" and isinstance(v, dict)]
        if not sections:
            raise InputError(f"{path}: no camera sections")
        names, sizes, Ks, dists, rvecs, tvecs = [], [], [], [], [], []
        for key, cam in sections:
            where = f"{path}: [{key}]"
            names.append(check_camera_name(cam.get("name", key), f"{where}: name"))
            sizes.append(_vector(cam, "size", 2, where))
            Ks.append(_matrix(cam, where))
            dists.append(_vector(cam, "distortions", None, where) if "distortions" in cam
                         else np.zeros(4))
            if len(dists[-1]) > 5:
                raise InputError(f"{where}: distortions has {len(dists[-1])} values, at most 5 "
                                 "(k1 k2 p1 p2 k3) are supported")
            if not isinstance(cam.get("fisheye", False), bool):
                raise InputError(f"{where}: fisheye must be true or false")
            if cam.get("fisheye", False):
                raise InputError(f"{where}: fisheye cameras are not supported")
            has_r, has_t = "rotation" in cam, "translation" in cam
            if has_r != has_t:
                raise InputError(f"{where}: rotation and translation must be given together")
            rvecs.append(_vector(cam, "rotation", 3, where) if has_r else None)
            tvecs.append(_vector(cam, "translation", 3, where) if has_t else None)
        if len(set(names)) != len(names):
            raise InputError(f"{path}: camera names are not unique: {names}")
        have = [r is not None for r in rvecs]
        if any(have) and not all(have):
            missing = [n for n, h in zip(names, have) if not h]
            raise InputError(f"{path}: cameras {', '.join(missing)} have no rotation/translation")
        if require_extrinsics and not all(have):
            raise InputError(f"{path}: holds intrinsics only; extrinsics are needed "
                             "(run `epicap calibrate`)")
        R = t = None
        if all(have):
            with np.errstate(all="ignore"):
                R = rotation_from_rodrigues(np.array(rvecs))
                orthonormal = np.abs(R @ np.swapaxes(R, 1, 2) - np.eye(3)).max() < 1e-6 \
                    if np.isfinite(R).all() else False
            if not orthonormal:
                raise InputError(f"{path}: a rotation is not a usable Rodrigues vector")
            t = np.array(tvecs)
        size = np.rint(np.array(sizes))
        if (size < 1).any() or (size > MAX_IMAGE_SIDE).any():
            raise InputError(f"{path}: image size must be positive pixels (at most "
                             f"{MAX_IMAGE_SIDE} a side)")
        error = meta.get("error")
        if error is not None and (isinstance(error, bool) or not isinstance(error, (int, float))
                                  or error < 0):
            raise InputError(f"{path}: [metadata] error must be a non-negative number (pixels)")
        adjusted = meta.get("adjusted", False)
        if not isinstance(adjusted, bool):
            raise InputError(f"{path}: [metadata] adjusted must be true or false")
        return cls(names, size.astype(np.int64), np.array(Ks),
                   np.array([pad_distortion(d) for d in dists]), R, t,
                   None if error is None else float(error), adjusted)

    def to_toml(self, path: str | os.PathLike) -> None:
        """Write the calibration atomically in the Pose2Sim/Anipose layout."""
        lines = []
        for c, name in enumerate(self.names):
            dist = self.dist[c] if self.dist[c, 4] != 0 else self.dist[c, :4]
            lines += [f"[{_key(name)}]", f"name = {toml_string(name)}",
                      f"size = {_fmt([float(v) for v in self.image_size[c]])}",
                      f"matrix = {_fmt(self.K[c].tolist())}",
                      f"distortions = {_fmt(dist.tolist())}"]
            if self.R is not None:
                lines += [f"rotation = {_fmt(rodrigues_from_rotation(self.R[c]).tolist())}",
                          f"translation = {_fmt(self.t[c].tolist())}"]
            lines += ["fisheye = false", ""]
        lines += ["[metadata]", f"adjusted = {'true' if self.adjusted else 'false'}"]
        if self.error_px is not None:
            lines.append(f"error = {_fmt(float(self.error_px))}")
        with atomic_write(path, "w") as f:
            f.write("\n".join(lines) + "\n")


def _key(name: str) -> str:
    return name if re.fullmatch(r"[A-Za-z0-9_-]+", name) else toml_string(name)


def _fmt(value) -> str:
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    v = float(value)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return repr(v)


def _vector(cam: dict, key: str, n: int | None, where: str) -> np.ndarray:
    if key not in cam:
        raise InputError(f"{where}: missing key {key!r}")
    if _has_bool(cam[key]):
        raise InputError(f"{where}: {key} must be a list of numbers")
    try:
        v = np.asarray(cam[key], dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise InputError(f"{where}: {key} must be a list of numbers") from None
    if n is not None and v.shape != (n,):
        raise InputError(f"{where}: {key} must have {n} numbers, got {v.size}")
    if not np.isfinite(v).all():
        raise InputError(f"{where}: {key} has non-finite values")
    return v


def _matrix(cam: dict, where: str) -> np.ndarray:
    if "matrix" not in cam:
        raise InputError(f"{where}: missing key 'matrix'")
    if _has_bool(cam["matrix"]):
        raise InputError(f"{where}: matrix must be 3x3 numbers")
    try:
        K = np.asarray(cam["matrix"], dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"{where}: matrix must be 3x3 numbers") from None
    if K.shape != (3, 3) or not np.isfinite(K).all():
        raise InputError(f"{where}: matrix must be 3x3 finite numbers, got shape {K.shape}")
    if not (K[0, 0] > 0 and K[1, 1] > 0) or not np.allclose(K[2], [0, 0, 1]):
        raise InputError(f"{where}: matrix is not a camera matrix "
                         "([[fx, s, cx], [0, fy, cy], [0, 0, 1]] with fx, fy > 0)")
    return K


def _has_bool(value) -> bool:
    """True if `value` or any item of a nested list is a bool (TOML's true would read as 1.0)."""
    if isinstance(value, bool):
        return True
    return isinstance(value, list) and any(_has_bool(v) for v in value)
