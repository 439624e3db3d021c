"""Closed-form kernels of batched triangulation, on component arrays.

Points travel as components (`u`, `v`: (C, N) normalized image coordinates; points (3, N)):
numpy's batched 3x3 matmul is ~25x slower than nine fused multiply-adds on long arrays. These are
the building blocks of `epicap.geometry.triangulation` and `epicap.geometry.view_selection`; users
call `triangulate_dlt` / `triangulate` instead.

See `epicap.geometry` for the conventions (`x_cam = R @ X + t`, OpenCV pixels, metres).
"""
from __future__ import annotations

import numpy as np

from epicap.geometry.camera import distort_normalized, undistort_points

__all__ = ["normalize_views", "solve_dlt", "solve_sym3", "Rig"]

# det(M) / (trace(M) / 3)^3 below this means the rays are (nearly) parallel: no 3D point.
_MIN_CONDITION = 1e-9


def normalize_views(pixels: np.ndarray, conf: np.ndarray, K: np.ndarray, dist: np.ndarray | None,
                    min_confidence: float):
    """Normalized components of keypoints, ready for the kernels.

    pixels: (C, N, 2) original (distorted) image pixels, NaN where unseen. conf: (C, N) in [0, 1].
    K: (C, 3, 3); dist: (C, 5) or None. A point is seen where finite and conf >= min_confidence > 0.
    Returns u, v, w, seen, each (C, N): normalized coordinates and weights (0 where unseen).
    """
    seen = np.isfinite(pixels).all(axis=-1) & (conf >= min_confidence) & (conf > 0)
    if dist is None:  # K^-1 on components (undistort_points does the same, slower)
        y = (pixels[..., 1] - K[:, 1, 2, None]) / K[:, 1, 1, None]
        x = (pixels[..., 0] - K[:, 0, 2, None] - K[:, 0, 1, None] * y) / K[:, 0, 0, None]
    else:
        x, y = np.moveaxis(undistort_points(pixels, K, dist), -1, 0)
    seen &= np.isfinite(x) & np.isfinite(y)
    return np.where(seen, x, 0.0), np.where(seen, y, 0.0), np.where(seen, conf, 0.0), seen


def solve_dlt(P: np.ndarray, u: np.ndarray, v: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted, row-normalized linear triangulation of every point (H&Z 12.2).

    P: (C, 3, 4) projection matrices in the coordinates of u, v. u, v: (C, N) image coordinates
    (any value where unseen). w: (C, N) view weights, exactly 0 where unseen.
    Returns (3, N) points; NaN where fewer than two views have w > 0 or the rays are parallel.
    Each DLT row is scaled to a unit normal, so a view's weight is its share of the cost
    `sum_views w * (d_u^2 + d_v^2)` (distances to the planes through the centre and image lines).
    """
    N = u.shape[1]
    M = np.zeros((6, N))  # unique entries xx, xy, xz, yy, yz, zz of the symmetric 3x3 system
    rhs = np.zeros((3, N))
    for c in range(P.shape[0]):
        p3 = P[c, 2]
        for coord, p in ((u[c], P[c, 0]), (v[c], P[c, 1])):
            # the DLT row a = coord * P3 - P_k, with a[:3] . X + a[3] = 0 for the true point
            ax, ay, az, b = (coord * p3[k] - p[k] for k in range(4))
            scale = w[c] / (ax * ax + ay * ay + az * az)
            sx, sy, sz = scale * ax, scale * ay, scale * az
            M[0] += sx * ax
            M[1] += sx * ay
            M[2] += sx * az
            M[3] += sy * ay
            M[4] += sy * az
            M[5] += sz * az
            rhs[0] -= sx * b
            rhs[1] -= sy * b
            rhs[2] -= sz * b
    return solve_sym3(M, rhs, (w > 0).sum(axis=0) >= 2)


def solve_sym3(M: np.ndarray, rhs: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """Solve N symmetric 3x3 systems by Cramer's rule (the adjugate).

    M: (6, N) unique entries xx, xy, xz, yy, yz, zz. rhs: (3, N). ok: (N,) bool, False -> NaN.
    Returns (3, N); NaN where not `ok` or the system is ill-conditioned.
    """
    m00, m01, m02, m11, m12, m22 = M
    c00 = m11 * m22 - m12 * m12
    c01 = m02 * m12 - m01 * m22
    c02 = m01 * m12 - m02 * m11
    c11 = m00 * m22 - m02 * m02
    c12 = m01 * m02 - m00 * m12
    c22 = m00 * m11 - m01 * m01
    det = m00 * c00 + m01 * c01 + m02 * c02
    trace = m00 + m11 + m22
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ok = ok & (det > _MIN_CONDITION * (trace / 3.0) ** 3)
        inv_det = np.where(ok, 1.0 / det, np.nan)
    r0, r1, r2 = rhs
    return np.stack([(c00 * r0 + c01 * r1 + c02 * r2) * inv_det,
                     (c01 * r0 + c11 * r1 + c12 * r2) * inv_det,
                     (c02 * r0 + c12 * r1 + c22 * r2) * inv_det])


class Rig:
    """The cameras of one solve, as scalars ready for component arithmetic.

    R: (C, 3, 3), t: (C, 3) `cam_from_world` (metres); K: (C, 3, 3). `P` is [R | t] (C, 3, 4) for
    normalized points; `focal` (C, 2) the pixels per normalized unit.
    """

    def __init__(self, R: np.ndarray, t: np.ndarray, K: np.ndarray):
        self.R, self.t, self.K = R, t, K
        self.P = np.concatenate([R, t[:, :, None]], axis=2)
        self.focal = np.stack([K[:, 0, 0], K[:, 1, 1]], axis=-1)

    def camera_frame(self, X: np.ndarray) -> list[np.ndarray]:
        """x_cam = R X + t of points X (3, N) in every camera: three (C, N) arrays."""
        R, t = self.R, self.t
        return [R[:, k, 0, None] * X[0] + R[:, k, 1, None] * X[1] + R[:, k, 2, None] * X[2]
                + t[:, k, None] for k in range(3)]

    def errors(self, X: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        """(C, N) reprojection error of X (3, N) against normalized u, v (C, N), in undistorted
        pixels; inf where a point is behind a camera, NaN where X is NaN."""
        x, y, z = self.camera_frame(X)
        with np.errstate(divide="ignore", invalid="ignore"):
            du = (x / z - u) * self.focal[:, 0, None]
            dv = (y / z - v) * self.focal[:, 1, None]
            behind = np.where(np.isnan(z), np.nan, np.inf)
            return np.where(z > 0, np.sqrt(du * du + dv * dv), behind)

    def pixels(self, X: np.ndarray, dist: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """Pixels (u, v), each (C, N), of X (3, N) in the original images (as `project_points`);
        NaN behind a camera. dist: (C, 5) or None."""
        x, y, z = self.camera_frame(X)
        with np.errstate(divide="ignore", invalid="ignore"):
            x, y = np.where(z > 0, x / z, np.nan), np.where(z > 0, y / z, np.nan)
        if dist is not None:
            x, y = np.moveaxis(distort_normalized(np.stack([x, y], axis=-1), dist), -1, 0)
        K = self.K
        return (K[:, 0, 0, None] * x + K[:, 0, 1, None] * y + K[:, 0, 2, None],
                K[:, 1, 1, None] * y + K[:, 1, 2, None])
