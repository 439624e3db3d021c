"""Triangulation of many points seen by C calibrated cameras, all at once.

`triangulate_dlt` is the linear method (Hartley & Zisserman, 2nd ed., section 12.2), batched over
points with numpy. `triangulate` wraps it for keypoints: undistortion, confidence weights, outlier
views found by reprojection error (exhaustive camera-pair hypotheses scored by confidence-weighted
MSAC, or dropping the worst view; `epicap.geometry.view_selection`) against a threshold tied to the
keypoint noise, and an optional Gauss-Newton refinement of the geometric error (H&Z 12.4),
returning per-point reprojection error, view counts and inlier masks. Each point is decided on its
own; `epicap.geometry.pose_triangulation` adds the skeleton and time for (C, T, J) keypoints.

Inside, points travel as component arrays (`epicap.geometry.linear_triangulation`).

See `epicap.geometry` for the conventions (`x_cam = R @ X + t`, OpenCV pixels, metres).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from epicap.errors import InputError, check_finite_or_nan, check_shape
from epicap.geometry.camera import pad_distortion
from epicap.geometry.linear_triangulation import Rig, normalize_views, solve_dlt
from epicap.geometry.view_selection import best_pair, drop_worst, noise_threshold_px, refine

__all__ = ["triangulate_dlt", "TriangulationOptions", "TriangulationResult", "triangulate"]

# Outlier search: "pairs" tries every camera pair as a hypothesis (C (C - 1) / 2 of them),
# "drop_worst" removes the worst view round by round; "auto" takes pairs up to this many cameras.
_METHODS = ("auto", "pairs", "drop_worst")
_MAX_PAIR_CAMERAS = 6


def triangulate_dlt(P: np.ndarray, points2d: np.ndarray,
                    weights: np.ndarray | None = None) -> np.ndarray:
    """Linear (DLT) triangulation of N points seen by C cameras, all at once.

    P: (C, 3, 4) projection matrices (K [R | t] with pixel points, or [R | t] with normalized
        points).
    points2d: (C, N, 2) in the same coordinates as P; NaN where unseen.
    weights: (C, N) >= 0 (e.g. detector confidence); a weight of 0 or NaN, or a NaN point, means
        unseen. None: every seen point weighs 1.
    Returns (N, 3) points in the frame of P (metres, world for `K [R | t]`); NaN where fewer than
    two views see the point or the rays are (nearly) parallel.

    Each view gives the two DLT rows `u P3 - P1`, `v P3 - P2` (H&Z 12.2). Each row is scaled to a
    unit normal (its residual becomes the distance of X from the plane through the camera centre
    and the image line), so a view's weight is exactly its share of the least-squares cost
    `sum_views w * (d_u^2 + d_v^2)`. The point is solved inhomogeneously (X = (x, y, z, 1)) from the
    3x3 normal equations in closed form, which suits points at finite distance (people).

    Example:
        >>> R = np.stack([np.eye(3)] * 2); t = np.array([[0.0, 0, 0], [-1.0, 0, 0]])
        >>> P = np.concatenate([R, t[:, :, None]], axis=2)
        >>> X = np.array([[0.2, -0.1, 4.0]])
        >>> x_cam = X[None] + t[:, None]
        >>> np.round(triangulate_dlt(P, x_cam[..., :2] / x_cam[..., 2:]), 9) + 0.0
        array([[ 0.2, -0.1,  4. ]])
    """
    C = check_shape(P, "C, 3, 4", "P")["C"]
    N = check_shape(points2d, "C, N, 2", "points2d", {"C": C})["N"]
    P = np.asarray(P, dtype=np.float64)
    xy = np.asarray(points2d, dtype=np.float64)
    seen = np.isfinite(xy).all(axis=-1)
    if weights is None:
        w = seen.astype(np.float64)
    else:
        check_shape(weights, "C, N", "weights", {"C": C, "N": N})
        w = np.asarray(weights, dtype=np.float64)
        seen &= np.isfinite(w) & (w > 0)
        w = np.where(seen, w, 0.0)
    xy = np.where(seen[..., None], xy, 0.0)
    return solve_dlt(P, xy[..., 0], xy[..., 1], w).T.copy()


# ---- robust triangulation of keypoints ---------------------------------------------------------
@dataclass(frozen=True)
class TriangulationOptions:
    """Knobs of `triangulate`.

    min_views: fewest views a point needs (>= 2); fewer -> NaN and views 0.
    min_confidence: a 2D point whose confidence is below this is treated as unseen.
    outlier_threshold_px: a view whose reprojection error (pixels) exceeds the threshold is an
        outlier; a point whose views all agree within it is solved from all of them, the others go
        through the outlier search of `method`; a point left without `min_views` agreeing views is
        not triangulated (NaN). None or inf: keep every view. (The test uses undistorted pixels,
        focal length times the normalized error: the pixel error up to the local lens scale.)
        With `noise_factor`, this is the largest threshold the noise estimate may give.
    noise_factor: tie the threshold to the keypoint noise: this many times the median per-view
        residual of the points whose views all agree (about 4.6 sigma for 4 views at 5), never
        above `outlier_threshold_px`, never below 1 px (`view_selection.noise_threshold_px`;
        the threshold used is `TriangulationResult.threshold_px`). None: the fixed threshold.
        Calls with fewer than 50 such points use the fixed threshold.
    method: outlier search: "pairs" (every camera pair is a hypothesis, scored by MSAC over all
        views, its inliers re-solved), "drop_worst" (drop the worst view and re-solve while it
        exceeds the threshold; cheaper for many cameras), "auto" (pairs up to 6 cameras).
    refine: after the linear solve, minimize the confidence-weighted reprojection error in pixels
        over the views kept by Gauss-Newton (H&Z 12.4's geometric error), batched.
    refine_iterations: Gauss-Newton steps (each a batched 3x3 solve).
    chunk_size: points solved together (bounds memory; results do not depend on it).
    """

    min_views: int = 2
    min_confidence: float = 0.1
    outlier_threshold_px: float | None = 20.0
    noise_factor: float | None = 5.0
    method: str = "auto"
    refine: bool = False
    refine_iterations: int = 3
    chunk_size: int = 65536

    def __post_init__(self):
        if int(self.min_views) < 2:
            raise InputError(f"min_views must be at least 2, got {self.min_views}")
        if not 0.0 <= self.min_confidence <= 1.0:
            raise InputError(f"min_confidence must lie in [0, 1], got {self.min_confidence}")
        if self.outlier_threshold_px is not None and not self.outlier_threshold_px > 0:
            raise InputError(f"outlier_threshold_px must be positive, got "
                             f"{self.outlier_threshold_px}")
        if self.noise_factor is not None and not self.noise_factor > 0:
            raise InputError(f"noise_factor must be positive, got {self.noise_factor}")
        if self.method not in _METHODS:
            raise InputError(f"method must be one of {', '.join(_METHODS)}, got {self.method!r}")
        if self.refine_iterations < 0 or self.chunk_size < 1:
            raise InputError("refine_iterations must be >= 0 and chunk_size >= 1")

    def uses_pair_search(self, n_cameras: int) -> bool:
        """Whether the outlier search of `method` tries camera pairs for a rig of n_cameras."""
        return self.method == "pairs" or (self.method == "auto"
                                          and n_cameras <= _MAX_PAIR_CAMERAS)


@dataclass
class TriangulationResult:
    """What `triangulate` found, for points of any leading shape `...` (e.g. T, J).

    points3d: (..., 3) metres, world frame; NaN where not triangulated.
    reprojection_error: (...) mean pixel distance, in the original (distorted) images, between the
        observed and the reprojected point over the views used; NaN where not triangulated.
    views: (...) int, number of views used (0 where not triangulated).
    inliers: (C, ...) bool, the views used for each point.
    threshold_px: the outlier threshold used (pixels; None: no outlier test).
    """

    points3d: np.ndarray
    reprojection_error: np.ndarray
    views: np.ndarray
    inliers: np.ndarray
    threshold_px: float | None = None

    @property
    def valid(self) -> np.ndarray:
        """(...) bool: points that were triangulated."""
        return self.views > 0


def triangulate(points2d: np.ndarray, K: np.ndarray, R: np.ndarray, t: np.ndarray,
                dist: np.ndarray | None = None, confidence: np.ndarray | None = None,
                options: TriangulationOptions = TriangulationOptions()) -> TriangulationResult:
    """Robust, confidence-weighted triangulation of keypoints seen by C calibrated cameras.

    points2d: (C, ..., 2) pixels of the original (distorted) images, e.g. (C, T, J, 2); NaN where
        unseen.
    K: (C, 3, 3). R: (C, 3, 3), t: (C, 3) metres, `cam_from_world`. dist: (C, 4 or 5) OpenCV
        k1 k2 p1 p2 [k3], or None.
    confidence: (C, ...) in [0, 1], the weight of each view (None: all 1); below
        `options.min_confidence` the point counts as unseen.
    Returns a TriangulationResult with points (..., 3) in world metres.

    Pixels are undistorted (`undistort_points`), then all points are solved at once by the
    row-normalized, confidence-weighted DLT (`triangulate_dlt`) in normalized coordinates. Points
    whose views disagree (a reprojection error above the threshold, `options.noise_factor` times
    the noise level up to `options.outlier_threshold_px`) go through the outlier search of
    `options.method`; every step is batched over points, the loops run over cameras or camera
    pairs only. The error reported is measured in pixels of the original images.

    Example:
        >>> K = np.tile(np.array([[800.0, 0, 320], [0, 800, 240], [0, 0, 1]]), (3, 1, 1))
        >>> R = np.tile(np.eye(3), (3, 1, 1)); t = np.array([[0, 0, 0], [-1, 0, 0], [0, -1, 0.]])
        >>> pixels = np.array([[[400.0, 280]], [[200, 280]], [[400, 80]]])  # (C, N, 2)
        >>> pixels[2, 0] += 50.0  # camera 2 is off by 50 px: an outlier
        >>> res = triangulate(pixels, K, R, t)
        >>> np.round(res.points3d, 6) + 0.0, res.views, res.inliers[:, 0]
        (array([[0.4, 0.2, 4. ]]), array([2]), array([ True,  True, False]))
    """
    C = check_shape(K, "C, 3, 3", "K")["C"]
    check_shape(R, "C, 3, 3", "R", {"C": C})
    check_shape(t, "C, 3", "t", {"C": C})
    pts = np.asarray(points2d, dtype=np.float64)
    if pts.ndim < 2 or pts.shape[0] != C or pts.shape[-1] != 2:
        raise InputError(f"points2d: expected shape (C={C}, ..., 2), got {pts.shape}")
    check_finite_or_nan(pts, "points2d")
    lead = pts.shape[1:-1]
    pts = pts.reshape(C, -1, 2)
    if confidence is None:
        conf = np.ones(pts.shape[:2])
    else:
        conf = np.asarray(confidence, dtype=np.float64)
        if conf.shape != (C,) + lead:
            raise InputError(f"confidence: expected shape {(C,) + lead}, got {conf.shape}")
        conf = conf.reshape(C, -1)
    K, R, t = (np.asarray(a, dtype=np.float64) for a in (K, R, t))
    if dist is not None:
        dist = pad_distortion(np.asarray(dist, dtype=np.float64))
        check_shape(dist, "C, 5", "dist", {"C": C})
        dist = dist if dist.any() else None

    cam = Rig(R, t, K)
    threshold = options.outlier_threshold_px
    if threshold is None or not np.isfinite(threshold):
        threshold = None
    elif options.noise_factor is not None:
        N = pts.shape[1]
        pick = np.linspace(0, N - 1, min(N, 20_000)).astype(np.int64)
        u, v, w, _ = normalize_views(pts[:, pick], conf[:, pick], K, dist, options.min_confidence)
        threshold = noise_threshold_px(cam, u, v, w, threshold, options.noise_factor)

    N = pts.shape[1]
    X = np.full((3, N), np.nan)
    error = np.full(N, np.nan)
    inliers = np.zeros((C, N), dtype=bool)
    for start in range(0, N, options.chunk_size):
        sl = slice(start, min(N, start + options.chunk_size))
        X[:, sl], error[sl], inliers[:, sl] = _triangulate_chunk(pts[:, sl], conf[:, sl], cam, dist,
                                                                 threshold, options)
    views = inliers.sum(axis=0)
    return TriangulationResult(X.T.reshape(lead + (3,)), error.reshape(lead),
                               views.reshape(lead), inliers.reshape((C,) + lead), threshold)


def _triangulate_chunk(pixels, conf, cam, dist, threshold, options):
    """One chunk of `triangulate`: (X (3, N), error (N,), inliers (C, N))."""
    u, v, w, seen = normalize_views(pixels, conf, cam.K, dist, options.min_confidence)
    X = solve_dlt(cam.P, u, v, w)
    robust = threshold is not None
    if robust:  # points whose views disagree get the outlier search
        disagree = (seen & (cam.errors(X, u, v) > threshold)).any(axis=0)
        todo = np.flatnonzero(disagree | (np.isnan(X[0]) & (seen.sum(axis=0) >= 2)))
        pairs = options.uses_pair_search(len(cam.P))
        if todo.size:
            sub = u[:, todo], v[:, todo], w[:, todo]
            X[:, todo], keep = (best_pair(cam, *sub, threshold) if pairs
                                else drop_worst(cam, *sub, threshold, options.min_views))
            seen[:, todo] = keep
            w = np.where(seen, w, 0.0)
    if options.refine:
        linear = X
        X = refine(cam, X, u, v, w, options.refine_iterations)
        if robust:  # a refined point that pushed a kept view past the threshold keeps its DLT
            moved_out = (seen & (cam.errors(X, u, v) > threshold)).any(axis=0)
            X[:, moved_out] = linear[:, moved_out]
    if robust:  # the views left must agree; otherwise the point is not trustworthy
        X[:, (seen & (cam.errors(X, u, v) > threshold)).any(axis=0)] = np.nan
    ok = np.isfinite(X).all(axis=0) & (seen.sum(axis=0) >= options.min_views)
    X[:, ~ok] = np.nan
    inliers = seen & ok
    pu, pv = cam.pixels(X, dist)
    with np.errstate(invalid="ignore", divide="ignore"):
        pixel_err = np.sqrt((pu - pixels[..., 0]) ** 2 + (pv - pixels[..., 1]) ** 2)
        error = np.where(inliers, pixel_err, 0.0).sum(axis=0) / inliers.sum(axis=0)
    return X, np.where(ok, error, np.nan), inliers
