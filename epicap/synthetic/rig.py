"""Simulated camera rigs: a ring of cameras around the capture volume, all looking inwards."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from epicap.errors import GeometryError, InputError
from epicap.geometry.camera import pad_distortion, rotation_from_rodrigues
from epicap.session.cameras import Cameras

__all__ = ["ring_rig", "look_at_rotation"]


def look_at_rotation(center: np.ndarray, target: np.ndarray,
                     up: Sequence[float] = (0.0, 0.0, 1.0)) -> np.ndarray:
    """`cam_from_world` rotations (C, 3, 3) of cameras at `center` (C, 3) looking at `target`
    (C, 3) or (3,), world metres, with the image's y axis pointing down along -`up` (no roll).

    OpenCV axes: rows are the camera's x (right), y (down), z (forward) in world coordinates.
    GeometryError when a camera sits on its target or looks straight along `up`.
    """
    center = np.atleast_2d(np.asarray(center, dtype=np.float64))
    forward = np.broadcast_to(np.asarray(target, dtype=np.float64), center.shape) - center
    dist = np.linalg.norm(forward, axis=-1, keepdims=True)
    if (dist < 1e-9).any():
        raise GeometryError("a camera sits on the point it should look at")
    z = forward / dist
    x = np.cross(z, np.asarray(up, dtype=np.float64))
    norm = np.linalg.norm(x, axis=-1, keepdims=True)
    if (norm < 1e-6).any():
        raise GeometryError("a camera looks straight up or down; its roll is undefined")
    x /= norm
    y = np.cross(z, x)
    return np.stack([x, y, z], axis=-2)


def ring_rig(num_cameras: int = 4, radius_m: float = 4.0,
             height_m: float | Sequence[float] = 1.6, focal_px: float = 1000.0,
             image_size: tuple[int, int] = (1280, 720),
             look_at: Sequence[float] = (0.0, 0.0, 1.0), jitter_deg: float = 0.0,
             jitter_m: float = 0.0, seed: int = 0, names: Sequence[str] | None = None,
             distortion: Sequence[float] | np.ndarray | None = None,
             azimuth0_deg: float = 0.0) -> Cameras:
    """A ring of `num_cameras` cameras evenly spaced around the vertical axis, looking at `look_at`.

    Camera c sits at azimuth `azimuth0_deg + 360 c / C` degrees (0 = on the +X axis, counter-
    clockwise seen from above), `radius_m` from the Z axis, `height_m` above the floor (one value,
    or one per camera), world metres, Z up.
    focal_px: fx = fy in pixels; the principal point is the image centre ((w - 1) / 2, (h - 1) / 2).
    image_size: (width, height) pixels. distortion: OpenCV k1 k2 p1 p2 [k3], one set (shared) or
        (C, 4|5); default none.
    jitter_deg: each camera is then turned by a random rotation whose angle is normal with this
        standard deviation (degrees, random axis); jitter_m: each centre moves by a normal offset
        with this standard deviation per axis (metres). Seeded by `seed`, reproducibly.
    names: camera names; default cam01, cam02, ...
    Returns `epicap.session.Cameras` with R, t (`cam_from_world`).
    """
    C = int(num_cameras)
    if C < 1:
        raise InputError(f"a rig needs at least one camera, got {num_cameras}")
    if not radius_m > 0:
        raise InputError(f"ring radius must be positive, got {radius_m} m")
    if not focal_px > 0:
        raise InputError(f"focal length must be positive, got {focal_px} px")
    w, h = (int(v) for v in image_size)
    if w <= 0 or h <= 0:
        raise InputError(f"image size must be positive, got {image_size}")
    heights = np.broadcast_to(np.asarray(height_m, dtype=np.float64), (C,)) \
        if np.ndim(height_m) == 0 else np.asarray(height_m, dtype=np.float64)
    if heights.shape != (C,):
        raise InputError(f"{len(heights)} camera heights given for {C} cameras")
    names = [f"cam{c + 1:02d}" for c in range(C)] if names is None else [str(n) for n in names]
    if len(names) != C or len(set(names)) != C:
        raise InputError(f"need {C} distinct camera names, got {names}")

    azimuth = np.deg2rad(azimuth0_deg + 360.0 * np.arange(C) / C)
    centers = np.stack([radius_m * np.cos(azimuth), radius_m * np.sin(azimuth), heights], axis=1)
    R = look_at_rotation(centers, np.asarray(look_at, dtype=np.float64))
    rng = np.random.default_rng(seed)
    if jitter_deg > 0:
        axes = rng.normal(size=(C, 3))
        axes /= np.linalg.norm(axes, axis=1, keepdims=True)
        angles = np.deg2rad(rng.normal(scale=jitter_deg, size=(C, 1)))
        R = rotation_from_rodrigues(axes * angles) @ R  # turn in the camera's own frame
    if jitter_m > 0:
        centers = centers + rng.normal(scale=jitter_m, size=(C, 3))
    t = -np.einsum("cij,cj->ci", R, centers)

    K = np.zeros((C, 3, 3))
    K[:, 0, 0] = K[:, 1, 1] = focal_px
    K[:, 0, 2], K[:, 1, 2], K[:, 2, 2] = (w - 1) / 2.0, (h - 1) / 2.0, 1.0
    if distortion is None:
        dist = np.zeros((C, 5))
    else:
        d = np.asarray(distortion, dtype=np.float64)
        if d.ndim == 1:
            d = np.broadcast_to(d, (C, d.shape[0]))
        if d.shape[0] != C or d.shape[1] not in (4, 5):
            raise InputError(f"distortion must be 4 or 5 coefficients, shared or one row per "
                             f"camera, got shape {d.shape}")
        dist = pad_distortion(d)
    return Cameras(names, np.tile([w, h], (C, 1)), K, dist, R, t)
