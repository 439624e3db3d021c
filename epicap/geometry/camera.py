"""The pinhole camera with OpenCV distortion: projection, undistortion, centres.

See `epicap.geometry` for the conventions (`x_cam = R @ X + t`, OpenCV pixels).
"""
from __future__ import annotations

import numpy as np

from epicap.errors import InputError, check_shape

__all__ = [
    "rotation_from_rodrigues", "rodrigues_from_rotation", "distort_normalized", "project_points",
    "undistort_points", "camera_centers", "projection_matrices", "pad_distortion",
    "radial_fold",
]


def rotation_from_rodrigues(rvec: np.ndarray) -> np.ndarray:
    """Rotation matrices (..., 3, 3) from Rodrigues vectors (..., 3) (axis * angle, radians).

    Example:
        >>> R = rotation_from_rodrigues(np.array([0.0, 0.0, np.pi / 2]))
        >>> np.round(R @ [1.0, 0.0, 0.0], 6) + 0.0
        array([0., 1., 0.])
    """
    rvec = np.asarray(rvec, dtype=np.float64)
    theta = np.linalg.norm(rvec, axis=-1)[..., None, None]
    safe = np.where(theta > 1e-12, theta, 1.0)
    k = rvec / safe[..., 0]
    Kx = np.zeros(rvec.shape[:-1] + (3, 3))
    Kx[..., 0, 1], Kx[..., 0, 2] = -k[..., 2], k[..., 1]
    Kx[..., 1, 0], Kx[..., 1, 2] = k[..., 2], -k[..., 0]
    Kx[..., 2, 0], Kx[..., 2, 1] = -k[..., 1], k[..., 0]
    eye = np.broadcast_to(np.eye(3), Kx.shape)
    R = eye + np.sin(theta) * Kx + (1 - np.cos(theta)) * (Kx @ Kx)
    return np.where(theta > 1e-12, R, eye)


def rodrigues_from_rotation(R: np.ndarray) -> np.ndarray:
    """Rodrigues vectors (..., 3) from rotation matrices (..., 3, 3); robust near 0 and pi."""
    from scipy.spatial.transform import Rotation

    R = np.asarray(R, dtype=np.float64)
    flat = Rotation.from_matrix(R.reshape(-1, 3, 3)).as_rotvec()
    return flat.reshape(R.shape[:-2] + (3,))


def pad_distortion(dist: np.ndarray) -> np.ndarray:
    """Distortion (..., 4 or 5 or 0) -> (..., 5) as k1 k2 p1 p2 k3 (missing terms zero)."""
    dist = np.asarray(dist, dtype=np.float64)
    if dist.shape[-1] > 5:
        raise InputError(f"distortion: at most 5 coefficients (k1 k2 p1 p2 k3), "
                         f"got {dist.shape[-1]}")
    pad = [(0, 0)] * (dist.ndim - 1) + [(0, 5 - dist.shape[-1])]
    return np.pad(dist, pad)


def distort_normalized(xy: np.ndarray, dist: np.ndarray) -> np.ndarray:
    """Apply OpenCV's radial-tangential distortion to normalized coordinates.

    xy: (..., N, 2) undistorted normalized coordinates. dist: (..., 5) k1 k2 p1 p2 k3, broadcast
    over the leading dims of xy. Returns (..., N, 2) distorted normalized coordinates.
    """
    d = pad_distortion(dist)[..., None, :]
    k1, k2, p1, p2, k3 = (d[..., i] for i in range(5))
    x, y = xy[..., 0], xy[..., 1]
    r2 = x * x + y * y
    radial = 1 + r2 * (k1 + r2 * (k2 + r2 * k3))
    xd = x * radial + 2 * p1 * x * y + p2 * (r2 + 2 * x * x)
    yd = y * radial + p1 * (r2 + 2 * y * y) + 2 * p2 * x * y
    return np.stack([xd, yd], axis=-1)


def radial_fold(dist: np.ndarray, max_radius: float = 10.0,
                samples: int = 4001) -> tuple[np.ndarray, np.ndarray]:
    """Where OpenCV's radial model stops mapping rays outward, per camera.

    dist: (C, 5) k1 k2 p1 p2 k3 (or fewer, padded). A ray at undistorted normalised radius r
    lands at r (1 + k1 r^2 + k2 r^4 + k3 r^6); that stops growing at the first r where its
    derivative 1 + 3 k1 r^2 + 5 k2 r^4 + 7 k3 r^6 reaches 0 (r^2 = -1 / (3 k1) for k1 alone),
    and rays beyond fold back onto pixels nearer the centre: no real lens does that inside its
    image. Returns (fold, reach), each (C,): that undistorted radius and the distorted radius
    it lands at, the farthest the model reaches from the principal point (both in focal
    lengths; inf for a lens that keeps growing out to `max_radius`, searched on `samples`
    radii)."""
    d = pad_distortion(np.atleast_2d(dist))
    r = np.linspace(0.0, max_radius, samples)
    k1, k2, k3 = (d[:, i, None] for i in (0, 1, 4))
    r2 = r * r
    slope = 1 + r2 * (3 * k1 + r2 * (5 * k2 + 7 * k3 * r2))
    folds = (slope <= 0).any(axis=1)
    fold = np.where(folds, r[np.argmax(slope <= 0, axis=1)], np.inf)
    f2 = np.where(folds, fold, 0.0) ** 2
    reach = np.where(folds, fold * (1 + f2 * (k1[:, 0] + f2 * (k2[:, 0] + f2 * k3[:, 0]))),
                     np.inf)
    return fold, reach


def project_points(points_world: np.ndarray, K: np.ndarray, R: np.ndarray, t: np.ndarray,
                   dist: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Project world points into every camera.

    points_world: (N, 3) metres, world frame, shared by all cameras, or (C, N, 3) per camera.
    K: (C, 3, 3) intrinsics in pixels. R: (C, 3, 3) and t: (C, 3) metres, `cam_from_world`.
    dist: (C, 4 or 5) OpenCV k1 k2 p1 p2 [k3], or None.
    Returns (pixels (C, N, 2), depth (C, N) metres along each camera's z). Points behind a camera
    (depth <= 0) or NaN project to NaN.

    Matches `cv2.projectPoints` for points in front of the camera.
    """
    C = check_shape(K, "C, 3, 3", "K")["C"]
    check_shape(R, "C, 3, 3", "R", {"C": C})
    check_shape(t, "C, 3", "t", {"C": C})
    X = np.asarray(points_world, dtype=np.float64)
    if X.ndim == 2:
        X = np.broadcast_to(X, (C,) + X.shape)
    check_shape(X, "C, N, 3", "points_world", {"C": C})
    x_cam = np.einsum("cij,cnj->cni", R, X) + np.asarray(t, dtype=np.float64)[:, None, :]
    depth = x_cam[..., 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        xy = x_cam[..., :2] / depth[..., None]
    if dist is not None:
        xy = distort_normalized(xy, np.asarray(dist, dtype=np.float64))
    K = np.asarray(K, dtype=np.float64)
    pixels = np.einsum("cij,cnj->cni", K[:, :2, :2], xy) + K[:, None, :2, 2]
    pixels[~(depth > 0)] = np.nan
    return pixels, depth


def undistort_points(pixels: np.ndarray, K: np.ndarray, dist: np.ndarray | None = None,
                     iterations: int = 20) -> np.ndarray:
    """Normalized undistorted coordinates (C, N, 2) from pixels (C, N, 2) of the distorted images.

    K: (C, 3, 3) intrinsics in pixels; dist: (C, 4 or 5) OpenCV k1 k2 p1 p2 [k3], or None.
    NaN pixels stay NaN. Without distortion this is
    K^-1 exactly; with it, OpenCV's iterative inversion (`cv2.undistortPoints` run to convergence:
    `iterations` steps or 1e-12 change).
    """
    C = check_shape(K, "C, 3, 3", "K")["C"]
    check_shape(pixels, "C, N, 2", "pixels", {"C": C})
    pixels = np.asarray(pixels, dtype=np.float64)
    K = np.asarray(K, dtype=np.float64)
    xy = np.einsum("cij,cnj->cni", np.linalg.inv(K[:, :2, :2]), pixels - K[:, None, :2, 2])
    if dist is None or not np.any(dist):
        return xy
    import cv2

    out = np.full_like(xy, np.nan)
    criteria = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, iterations, 1e-12)
    d = pad_distortion(dist)
    for c in range(C):
        ok = np.isfinite(pixels[c]).all(axis=-1)
        if ok.any():
            # OpenCV 4.x names the iterative variant undistortPointsIter; 5.x folds it into
            # undistortPoints(..., criteria=...).
            src = pixels[c][ok].reshape(-1, 1, 2)
            if hasattr(cv2, "undistortPointsIter"):
                und = cv2.undistortPointsIter(src, K[c], d[c], None, None, criteria)
            else:
                und = cv2.undistortPoints(src, K[c], d[c], criteria=criteria)
            out[c][ok] = und.reshape(-1, 2)
    return out


def camera_centers(R: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Camera centres (..., 3) in world metres, C = -R^T t, from R (..., 3, 3), t (..., 3)."""
    return -np.einsum("...ji,...j->...i", np.asarray(R, np.float64), np.asarray(t, np.float64))


def projection_matrices(K: np.ndarray, R: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Projection matrices P = K [R | t], (C, 3, 4), from K (C, 3, 3), R (C, 3, 3), t (C, 3)."""
    Rt = np.concatenate([np.asarray(R, np.float64), np.asarray(t, np.float64)[..., None]], axis=-1)
    return np.asarray(K, np.float64) @ Rt
