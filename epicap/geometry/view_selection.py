"""Which views of a point to trust: outlier-view searches and refinement for `triangulate`.

All functions work on the component arrays of `epicap.geometry.linear_triangulation` (normalized
`u`, `v`, weights `w`: (C, N), w exactly 0 where unseen; points (3, N)) and are batched over
points: loops run over cameras or camera pairs only.

- `pair_hypotheses`: every camera pair triangulates a hypothesis, scored over all views by MSAC's
  truncated quadratic cost (Torr & Zisserman, CVIU 2000), each view's term weighted by its
  confidence, so a hypothesis that rejects a confident view costs more than one rejecting a doubtful
  view (the tie-break between "2 of 3 agree" sets).
- `best_pair`: the cheapest hypothesis, its inliers re-solved (LO-RANSAC's local optimization,
  Chum et al., DAGM 2003); `drop_worst`: greedy removal of the worst view.
- `noise_threshold_px`: the outlier threshold tied to the keypoint noise (a multiple of the median
  per-view residual of points whose views all agree).
- `refine`: Gauss-Newton on the geometric (pixel) error, H&Z 12.4.
"""
from __future__ import annotations

import numpy as np

from epicap.geometry.linear_triangulation import Rig, solve_dlt, solve_sym3

__all__ = ["pair_hypotheses", "best_pair", "drop_worst", "noise_threshold_px", "refine"]


def _msac_cost(cam: Rig, X: np.ndarray, u, v, w, threshold: float) -> np.ndarray:
    """(N,) confidence-weighted MSAC cost sum_views w * min(e, threshold)^2 (pixels^2); NaN
    where X is NaN."""
    err = np.minimum(cam.errors(X, u, v), threshold)
    return np.where(w > 0, w * err * err, 0.0).sum(axis=0)


def pair_hypotheses(cam: Rig, u, v, w, threshold: float, local_steps: int = 2):
    """Every camera pair's hypothesis, its inliers re-solved `local_steps` times, and its cost.

    cam: the rig; u, v, w: (C, N); threshold: pixels. Returns X (H, 3, N), cost (H, N) (the
    weighted MSAC cost after the re-solves; inf where the hypothesis is NaN) and inliers
    (H, C, N) bool, H = C (C - 1) / 2 in the order (0, 1), (0, 2), ..., (C - 2, C - 1).
    """
    C, N = u.shape
    seen = w > 0
    Xs, costs, inliers = [], [], []
    for i in range(C):
        for j in range(i + 1, C):
            pair = [i, j]
            X = solve_dlt(cam.P[pair], u[pair], v[pair], w[pair])
            keep = seen & (cam.errors(X, u, v) <= threshold)
            for _ in range(local_steps):
                X = solve_dlt(cam.P, u, v, np.where(keep, w, 0.0))
                keep = seen & (cam.errors(X, u, v) <= threshold)
            cost = _msac_cost(cam, X, u, v, w, threshold)
            Xs.append(X)
            costs.append(np.where(np.isfinite(cost), cost, np.inf))
            inliers.append(keep)
    return np.stack(Xs), np.stack(costs), np.stack(inliers)


def best_pair(cam: Rig, u, v, w, threshold: float):
    """The pair hypothesis of least weighted MSAC cost, its inliers re-solved twice.

    u, v, w: (C, N); threshold: pixels. Returns (X (3, N), inlier views (C, N)). Pairs are scored
    before the re-solves (cheap: one 2-view solve per pair); `pair_hypotheses` scores after them.
    """
    C, N = u.shape
    seen = w > 0
    best_cost = np.full(N, np.inf)
    best_X = np.full((3, N), np.nan)
    for i in range(C):
        for j in range(i + 1, C):
            pair = [i, j]
            Xp = solve_dlt(cam.P[pair], u[pair], v[pair], w[pair])
            cost = _msac_cost(cam, Xp, u, v, w, threshold)
            better = cost < best_cost  # False where Xp is NaN (cost NaN)
            best_cost[better] = cost[better]
            best_X[:, better] = Xp[:, better]
    X = best_X
    for _ in range(2):
        inliers = seen & (cam.errors(X, u, v) <= threshold)
        X = solve_dlt(cam.P, u, v, np.where(inliers, w, 0.0))
    return X, inliers


def drop_worst(cam: Rig, u, v, w, threshold: float, min_views: int):
    """Drop each point's worst view while it exceeds `threshold` (pixels) and more than
    `min_views` remain, re-solving after each round. Returns (X (3, N), views kept (C, N))."""
    w = w.copy()
    X = solve_dlt(cam.P, u, v, w)
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
        X[:, active] = solve_dlt(cam.P, u[:, active], v[:, active], w[:, active])
        active = active[np.isfinite(X[0, active])]
    return X, w > 0


def noise_threshold_px(cam: Rig, u, v, w, max_threshold: float, factor: float,
                       min_points: int = 50, sample: int = 20_000) -> float:
    """The outlier threshold tied to the keypoint noise: `factor` x the median per-view residual
    (undistorted pixels) of the points seen by 3 or more views that all agree within
    `max_threshold`, clipped to [1 px, max_threshold].

    u, v, w: (C, N); at most `sample` points, evenly spread, are used. Returns `max_threshold`
    when fewer than `min_points` points qualify. With Gaussian noise of sigma px per coordinate
    and 4 views, the median residual is about 0.93 sigma, so a factor of 5 sits near 4.6 sigma
    (a residual beyond it is an outlier with odds below 1e-4). The median is the robust scale,
    like the MAD (Rousseeuw & Croux, JASA 1993): the agreeing points may still hold a few
    outliers that sneaked under `max_threshold`.
    """
    N = u.shape[1]
    if N > sample:
        pick = np.linspace(0, N - 1, sample).astype(np.int64)
        u, v, w = u[:, pick], v[:, pick], w[:, pick]
    seen = w > 0
    X = solve_dlt(cam.P, u, v, w)
    err = cam.errors(X, u, v)
    agree = (seen.sum(axis=0) >= 3) & ~(seen & ~(err <= max_threshold)).any(axis=0)
    if agree.sum() < min_points:
        return float(max_threshold)
    median = float(np.median(err[:, agree][seen[:, agree]]))
    return float(np.clip(factor * median, 1.0, max_threshold))


def refine(cam: Rig, X: np.ndarray, u, v, w, iterations: int) -> np.ndarray:
    """Gauss-Newton on sum_views w * |f (x/z - u, y/z - v)|^2 (undistorted pixels), batched;
    X (3, N) metres. A step that fails (singular, non-finite) leaves its point where it was."""
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
        step = solve_sym3(M, g, np.isfinite(X[0]))
        X = np.where(np.isfinite(step), X + step, X)
    return X
