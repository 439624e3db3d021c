"""Focal lengths from the people in view, when no intrinsics are given.

With the principal point at the image centre, square pixels and no skew, a fundamental matrix F
between cameras i and j becomes an essential matrix E = K_j^T F K_i only for the right focal
lengths: then E's two non-zero singular values are equal. Mendonca & Cipolla (CVPR 1999) turn
that into a cost, (s1 - s2) / (s1 + s2), summed over every pair. We search it over one focal
length shared by all cameras (a 1-D grid then a bounded scalar minimisation, no fixed guess),
then, in per-camera mode, refine one focal length each from there with a weak pull toward the
shared value (two views alone fix focal lengths poorly when the optical axes nearly meet, as in
most rigs; bundle adjustment settles them afterwards).
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np

__all__ = ["FocalEstimate", "estimate_focal", "fundamental_matrices", "mendonca_cipolla_cost"]


@dataclass
class FocalEstimate:
    """Initial focal lengths (C,) pixels, the shared value, and the pairs that gave them.

    success: False (with `message`) when no pair gave a fundamental matrix.
    """

    focal_px: np.ndarray
    shared_px: float
    pairs_used: int
    success: bool = True
    message: str = ""


def fundamental_matrices(pixels: np.ndarray, weights: np.ndarray, threshold_px: float = 6.0,
                         min_points: int = 30) -> dict[tuple[int, int], tuple[np.ndarray, int]]:
    """Robust fundamental matrices {(i, j): (F (3, 3), num_inliers)} of every camera pair.

    pixels: (C, T, J, 2) pixels (NaN unseen), weights: (C, T, J) (0 unused). F maps view i to
    view j: x_j^T F x_i = 0. OpenCV's USAC MAGSAC++ with the 8-point solver on pooled joints.
    """
    import cv2

    out = {}
    C = pixels.shape[0]
    for i, j in combinations(range(C), 2):
        both = (weights[i] > 0) & (weights[j] > 0)
        a, b = pixels[i][both].astype(np.float64), pixels[j][both].astype(np.float64)
        if len(a) < min_points:
            continue
        if len(a) > 4000:
            keep = np.linspace(0, len(a) - 1, 4000).astype(int)
            a, b = a[keep], b[keep]
        F, mask = cv2.findFundamentalMat(a, b, cv2.USAC_MAGSAC, threshold_px, 0.9999, 10000)
        if F is None or F.shape != (3, 3) or mask is None or mask.sum() < min_points:
            continue
        out[(i, j)] = (F, int(mask.sum()))
    return out


def mendonca_cipolla_cost(F: np.ndarray, f_i: float, f_j: float, pp_i: np.ndarray,
                          pp_j: np.ndarray) -> float:
    """(s1 - s2) / (s1 + s2) of E = K_j^T F K_i: 0 for the right focal lengths, up to 1."""
    Ki = np.array([[f_i, 0, pp_i[0]], [0, f_i, pp_i[1]], [0, 0, 1.0]])
    Kj = np.array([[f_j, 0, pp_j[0]], [0, f_j, pp_j[1]], [0, 0, 1.0]])
    s = np.linalg.svd(Kj.T @ F @ Ki, compute_uv=False)
    return float((s[0] - s[1]) / max(s[0] + s[1], 1e-300))


def estimate_focal(pixels: np.ndarray, weights: np.ndarray, image_size: np.ndarray,
                   per_camera: bool = True, threshold_px: float = 6.0) -> FocalEstimate:
    """Initial focal lengths from the joints' epipolar geometry (Mendonca & Cipolla, 1999).

    pixels: (C, T, J, 2) pixels, NaN unseen. weights: (C, T, J). image_size: (C, 2) width, height
    (the principal point is taken at the image centre). per_camera: also refine one focal length
    per camera (needs 3 or more cameras; otherwise all get the shared value).
    """
    from scipy.optimize import least_squares, minimize_scalar

    C = pixels.shape[0]
    size = np.asarray(image_size, dtype=np.float64)
    pp = (size - 1) / 2
    diag = float(np.linalg.norm(size, axis=1).mean())
    Fs = fundamental_matrices(pixels, weights, threshold_px)
    if not Fs:
        fallback = np.full(C, diag)
        return FocalEstimate(fallback, diag, 0, False,
                             "no camera pair shares enough joints to estimate focal lengths")
    pair_w = {k: np.sqrt(n) for k, (_, n) in Fs.items()}

    def shared_cost(logf):
        f = np.exp(logf) * diag
        return sum(pair_w[k] * mendonca_cipolla_cost(F, f, f, pp[k[0]], pp[k[1]])
                   for k, (F, _) in Fs.items())

    grid = np.linspace(np.log(0.2), np.log(5.0), 60)  # focal from 0.2 to 5 image diagonals
    costs = [shared_cost(g) for g in grid]
    k = int(np.argmin(costs))
    lo, hi = grid[max(k - 1, 0)], grid[min(k + 1, len(grid) - 1)]
    best = minimize_scalar(shared_cost, bounds=(lo, hi), method="bounded",
                           options={"xatol": 1e-5}).x
    shared = float(np.exp(best) * diag)
    focal = np.full(C, shared)
    if per_camera and C >= 3 and len(Fs) >= C:
        def residuals(logf):
            f = np.exp(logf) * shared
            r = [pair_w[k] * mendonca_cipolla_cost(F, f[k[0]], f[k[1]], pp[k[0]], pp[k[1]])
                 for k, (F, _) in Fs.items()]
            return np.concatenate([r, 0.05 * np.sqrt(np.mean(list(pair_w.values()))) * logf])

        sol = least_squares(residuals, np.zeros(C), method="trf", bounds=(-1.0, 1.0))
        focal = np.exp(sol.x) * shared
    return FocalEstimate(focal, shared, len(Fs))
