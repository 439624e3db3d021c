"""Triangulation of many points seen by C calibrated cameras, all at once.

`triangulate_dlt` is the linear method (Hartley & Zisserman, 2nd ed., section 12.2), batched over
points with numpy. `triangulate` wraps it for keypoints: undistortion, confidence weights, outlier
views found by reprojection error (exhaustive camera-pair hypotheses or dropping the worst view) and
an optional Gauss-Newton refinement of the geometric error (H&Z 12.4), returning per-point
reprojection error, view counts and inlier masks.

Inside, points travel as component arrays (`u`, `v`: (C, N); points (3, N)): numpy's batched 3x3
matmul is ~25x slower than nine fused multiply-adds on long arrays.

See `epicap.geometry` for the conventions (`x_cam = R @ X + t`, OpenCV pixels, metres).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from epicap.errors import InputError, check_finite_or_nan, check_shape
from epicap.geometry.camera import distort_normalized, pad_distortion, undistort_points

__all__ = ["triangulate_dlt", "TriangulationOptions", "TriangulationResult", "triangulate"]

# det(M) / (trace(M) / 3)^3 below this means the rays are (nearly) parallel: no 3D point.
_MIN_CONDITION = 1e-9
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
    return _solve(P, xy[..., 0], xy[..., 1], w).T.copy()


def _solve(P: np.ndarray, u: np.ndarray, v: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted, row-normalized DLT of every point: (3, N), NaN where < 2 views (w > 0) or the
    rays are parallel. P (C, 3, 4); u, v, w (C, N), w exactly 0 where unseen."""
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
    return _solve_sym3(M, rhs, (w > 0).sum(axis=0) >= 2)


def _solve_sym3(M: np.ndarray, rhs: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """Solve N symmetric 3x3 systems given as unique entries M (6, N) and rhs (3, N) by Cramer's
    rule (the adjugate); (3, N), NaN where `ok` is False or the system is ill-conditioned."""
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


# ---- robust triangulation of keypoints ---------------------------------------------------------
@dataclass(frozen=True)
class TriangulationOptions:
    """Knobs of `triangulate`.

    min_views: fewest views a point needs (>= 2); fewer -> NaN and views 0.
    min_confidence: a 2D point whose confidence is below this is treated as unseen.
    outlier_threshold_px: a view whose reprojection error (pixels) exceeds this is an outlier;
        a point whose views all agree within it is solved from all of them, the others go through
        the outlier search of `method`; a point left without `min_views` agreeing views is not
        triangulated (NaN). None or inf: keep every view. (The test uses undistorted pixels,
        focal length times the normalized error: the pixel error up to the local lens scale.)
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
        if self.method not in _METHODS:
            raise InputError(f"method must be one of {', '.join(_METHODS)}, got {self.method!r}")
        if self.refine_iterations < 0 or self.chunk_size < 1:
            raise InputError("refine_iterations must be >= 0 and chunk_size >= 1")


@dataclass
class TriangulationResult:
    """What `triangulate` found, for points of any leading shape `...` (e.g. T, J).

    points3d: (..., 3) metres, world frame; NaN where not triangulated.
    reprojection_error: (...) mean pixel distance, in the original (distorted) images, between the
        observed and the reprojected point over the views used; NaN where not triangulated.
    views: (...) int, number of views used (0 where not triangulated).
    inliers: (C, ...) bool, the views used for each point.
    """

    points3d: np.ndarray
    reprojection_error: np.ndarray
    views: np.ndarray
    inliers: np.ndarray

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
    whose views disagree (a reprojection error above the threshold) go through the outlier search
    of `options.method`; every step is batched over points, the loops run over cameras or camera
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

    N = pts.shape[1]
    X = np.full((3, N), np.nan)
    error = np.full(N, np.nan)
    inliers = np.zeros((C, N), dtype=bool)
    for start in range(0, N, options.chunk_size):
        sl = slice(start, min(N, start + options.chunk_size))
        X[:, sl], error[sl], inliers[:, sl] = _triangulate_chunk(pts[:, sl], conf[:, sl], K, R, t,
                                                                 dist, options)
    views = inliers.sum(axis=0)
    return TriangulationResult(X.T.reshape(lead + (3,)), error.reshape(lead),
                               views.reshape(lead), inliers.reshape((C,) + lead))


def _triangulate_chunk(pixels, conf, K, R, t, dist, options):
    """One chunk of `triangulate`: (X (3, N), error (N,), inliers (C, N))."""
    seen = np.isfinite(pixels).all(axis=-1) & (conf >= options.min_confidence) & (conf > 0)
    if dist is None:  # K^-1 on components (undistort_points does the same, slower)
        y = (pixels[..., 1] - K[:, 1, 2, None]) / K[:, 1, 1, None]
        x = (pixels[..., 0] - K[:, 0, 2, None] - K[:, 0, 1, None] * y) / K[:, 0, 0, None]
    else:
        x, y = np.moveaxis(undistort_points(pixels, K, dist), -1, 0)
    seen &= np.isfinite(x) & np.isfinite(y)
    u, v = np.where(seen, x, 0.0), np.where(seen, y, 0.0)
    w = np.where(seen, conf, 0.0)
    cam = _Rig(R, t, K)

    X = _solve(cam.P, u, v, w)
    threshold = options.outlier_threshold_px
    robust = threshold is not None and np.isfinite(threshold)
    if robust:  # points whose views disagree get the outlier search
        disagree = (seen & (cam.errors(X, u, v) > threshold)).any(axis=0)
        todo = np.flatnonzero(disagree | (np.isnan(X[0]) & (seen.sum(axis=0) >= 2)))
        pairs = options.method == "pairs" or (options.method == "auto"
                                              and len(R) <= _MAX_PAIR_CAMERAS)
        if todo.size:
            search = _best_pair if pairs else _drop_worst
            X[:, todo], keep = search(cam, u[:, todo], v[:, todo], w[:, todo], threshold,
                                      options.min_views)
            seen[:, todo] = keep
            w = np.where(seen, w, 0.0)
    if options.refine:
        linear = X
        X = _refine(cam, X, u, v, w, options.refine_iterations)
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


class _Rig:
    """The cameras of one solve, as scalars ready for component arithmetic."""

    def __init__(self, R, t, K):
        self.R, self.t, self.K = R, t, K
        self.P = np.concatenate([R, t[:, :, None]], axis=2)  # [R | t] for normalized points
        self.focal = np.stack([K[:, 0, 0], K[:, 1, 1]], axis=-1)  # pixels per normalized unit

    def camera_frame(self, X):
        """x_cam = R X + t of points X (3, N) in every camera: three (C, N) arrays."""
        R, t = self.R, self.t
        return [R[:, k, 0, None] * X[0] + R[:, k, 1, None] * X[1] + R[:, k, 2, None] * X[2]
                + t[:, k, None] for k in range(3)]

    def errors(self, X, u, v):
        """(C, N) reprojection error of X (3, N) against normalized u, v (C, N), in undistorted
        pixels; inf where a point is behind a camera, NaN where X is NaN."""
        x, y, z = self.camera_frame(X)
        with np.errstate(divide="ignore", invalid="ignore"):
            du = (x / z - u) * self.focal[:, 0, None]
            dv = (y / z - v) * self.focal[:, 1, None]
            behind = np.where(np.isnan(z), np.nan, np.inf)
            return np.where(z > 0, np.sqrt(du * du + dv * dv), behind)

    def pixels(self, X, dist):
        """Pixels (u, v), each (C, N), of X (3, N) in the original images (as `project_points`);
        NaN behind a camera."""
        x, y, z = self.camera_frame(X)
        with np.errstate(divide="ignore", invalid="ignore"):
            x, y = np.where(z > 0, x / z, np.nan), np.where(z > 0, y / z, np.nan)
        if dist is not None:
            x, y = np.moveaxis(distort_normalized(np.stack([x, y], axis=-1), dist), -1, 0)
        K = self.K
        return (K[:, 0, 0, None] * x + K[:, 0, 1, None] * y + K[:, 0, 2, None],
                K[:, 1, 1, None] * y + K[:, 1, 2, None])


def _best_pair(cam, u, v, w, threshold, min_views):
    """Exhaustive two-view hypotheses (RANSAC over views with every sample drawn, scored by MSAC's
    truncated quadratic cost, Torr & Zisserman 2000) and the inliers of the best one re-solved twice
    (the local optimization of LO-RANSAC). Returns (X (3, N), inlier views (C, N))."""
    C, N = u.shape
    seen = w > 0
    best_cost = np.full(N, np.inf)
    best_X = np.full((3, N), np.nan)
    for i in range(C):
        for j in range(i + 1, C):
            pair = [i, j]
            Xp = _solve(cam.P[pair], u[pair], v[pair], w[pair])
            err = np.minimum(cam.errors(Xp, u, v), threshold)
            cost = np.where(seen, err * err, 0.0).sum(axis=0)
            better = cost < best_cost  # False where Xp is NaN (cost NaN)
            best_cost[better] = cost[better]
            best_X[:, better] = Xp[:, better]
    X = best_X
    for _ in range(2):
        inliers = seen & (cam.errors(X, u, v) <= threshold)
        X = _solve(cam.P, u, v, np.where(inliers, w, 0.0))
    return X, inliers


def _drop_worst(cam, u, v, w, threshold, min_views):
    """Drop each point's worst view while it exceeds `threshold` and more than `min_views`
    remain, re-solving after each round. Returns (X (3, N), views kept (C, N))."""
    w = w.copy()
    X = _solve(cam.P, u, v, w)
    active = np.flatnonzero(np.isfinite(X[0]))
    for _ in range(len(cam.P) - min_views):
        seen = w[:, active] > 0
        err = np.where(seen, cam.errors(X[:, active], u[:, active], v[:, active]), -1.0)
        worst = np.argmax(np.nan_to_num(err, nan=np.inf), axis=0)
        worst_err = np.take_along_axis(err, worst[None], axis=0)[0]
        drop = (worst_err > threshold) & (seen.sum(axis=0) > min_views)
        if not drop.any():
            break
        active, worst = active[drop], worst[drop]
        w[worst, active] = 0.0
        X[:, active] = _solve(cam.P, u[:, active], v[:, active], w[:, active])
        active = active[np.isfinite(X[0, active])]
    return X, w > 0


def _refine(cam, X, u, v, w, iterations):
    """Gauss-Newton on sum_views w * |f (x/z - u, y/z - v)|^2 (undistorted pixels), batched;
    a step that fails (singular, non-finite) leaves its point where it was."""
    R = cam.R
    for _ in range(iterations):
        M = np.zeros((6,) + X.shape[1:])
        g = np.zeros_like(X)
        x_cam = cam.camera_frame(X)
        with np.errstate(divide="ignore", invalid="ignore"):
            inv_z = 1.0 / x_cam[2]
            for k, obs in ((0, u), (1, v)):  # d(x_k / z)/dX = (R_k - (x_k / z) R_2) / z
                proj = x_cam[k] * inv_z
                s = np.where(w > 0, w * cam.focal[:, k, None] ** 2, 0.0)
                r = np.where(w > 0, obs - proj, 0.0)
                J = [np.where(w > 0, (R[:, k, i, None] - proj * R[:, 2, i, None]) * inv_z, 0.0)
                     for i in range(3)]
                for e, (a, b) in enumerate(((0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (2, 2))):
                    M[e] += (s * J[a] * J[b]).sum(axis=0)
                for i in range(3):
                    g[i] += (s * J[i] * r).sum(axis=0)
        step = _solve_sym3(M, g, np.isfinite(X[0]))
        X = np.where(np.isfinite(step), X + step, X)
    return X
