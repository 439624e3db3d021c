"""Each camera's own focal length, by resection against the joints the other cameras triangulate.

The focal search (`focal_search`) finds one focal length for every camera: right for a rig of one
camera model, wrong for a lab that mixes lenses (a phone, an action camera, a zoomed camcorder:
focal lengths 2-3x apart). Registered with a shared value, such a camera lands off and pulls the
rest; measured on random rigs, the median rotation error was 2-3 deg against 0.08 for one camera
model. Here, after a quick solve at the shared focal length, every camera is resected on its
own: the joints the *other* cameras triangulate are 3D points, and the focal length whose PnP
pose (RANSAC, OpenCV) reprojects them best, searched over a log grid of 1/3x-3x and refined by a
parabola, is the camera's (Hartley & Zisserman ch. 7: resection; the focal length is the one
intrinsic a pose cannot absorb). A camera keeps the shared value unless its own fits clearly
better (`MIN_GAIN`), and the solve is repeated once with the new values, whose 3D is better.
"""
from __future__ import annotations

import numpy as np

__all__ = ["resect_focals", "MIN_GAIN"]

MIN_GAIN = 0.75  # a camera's own focal length must cut its median reprojection error to this
GRID = np.exp(np.linspace(np.log(1 / 3), np.log(3.0), 29))  # focal multipliers searched
_MIN_POINTS = 30


def _median_pnp_error(X: np.ndarray, uv: np.ndarray, size: np.ndarray, focal_px: float,
                      threshold_px: float) -> float:
    """Median reprojection error (pixels) of the RANSAC PnP pose of 3D points X (N, 3) seen at
    pixels uv (N, 2) by a camera of focal `focal_px`, principal point at the image centre."""
    import cv2

    K = np.array([[focal_px, 0, (size[0] - 1) / 2], [0, focal_px, (size[1] - 1) / 2], [0, 0, 1]])
    ok, rvec, tvec, inliers = cv2.solvePnPRansac(
        X.astype(np.float64), uv.astype(np.float64), K, None, iterationsCount=200,
        reprojectionError=float(threshold_px), confidence=0.999, flags=cv2.SOLVEPNP_EPNP)
    if not ok or inliers is None or len(inliers) < 6:
        return np.inf
    proj, _ = cv2.projectPoints(X.astype(np.float64), rvec, tvec, K, None)
    return float(np.median(np.linalg.norm(proj[:, 0] - uv, axis=1)))


def resect_focals(points3d_by_camera: list[np.ndarray | None], pixels: list[np.ndarray | None],
                  size: np.ndarray, start_px: np.ndarray, threshold_px: float) -> np.ndarray:
    """(C,) focal lengths (pixels): each camera's own where it fits clearly better than its start.

    points3d_by_camera: per camera c, (N_c, 3) joints triangulated *without* camera c (any
        world frame and scale), or None. pixels: per camera, (N_c, 2) its detections of them.
    size: (C, 2) image width, height. start_px: (C,) the focal lengths so far (pixels), the
        centre of each camera's search. threshold_px: PnP RANSAC's inlier threshold.
    """
    C = len(pixels)
    out = np.asarray(start_px, dtype=np.float64).copy()
    for c in range(C):
        shared_px = out[c]
        X, uv = points3d_by_camera[c], pixels[c]
        if X is None or len(X) < _MIN_POINTS:
            continue
        errors = np.array([_median_pnp_error(X, uv, size[c], shared_px * g, threshold_px)
                           for g in GRID])
        if not np.isfinite(errors).any():
            continue
        k = int(np.argmin(errors))
        shared = errors[np.argmin(np.abs(GRID - 1.0))]
        if not errors[k] < MIN_GAIN * shared:
            continue
        step = np.log(GRID[1] / GRID[0])
        log_g = np.log(GRID[k])
        if 0 < k < len(GRID) - 1 and np.isfinite(errors[k - 1:k + 2]).all():
            a, b, d = errors[k - 1], errors[k], errors[k + 1]
            denom = a - 2 * b + d
            if denom > 0:
                log_g += step * float(np.clip(0.5 * (a - d) / denom, -0.5, 0.5))
        out[c] = shared_px * float(np.exp(log_g))
    return out
