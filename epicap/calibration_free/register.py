"""Incremental registration: the best-conditioned pair first, then each camera by PnP.

Start from the pair whose pooled essential matrix is best conditioned (camera i at the origin,
camera j at unit baseline), triangulate the joints both see, then register the camera that sees
the most triangulated joints by robust PnP (OpenCV's RANSAC around EPnP, Lepetit et al., IJCV
2009, then Levenberg-Marquardt on the inliers), re-triangulate with every registered camera, and
repeat. The same strategy as incremental structure-from-motion (Schonberger & Frahm, CVPR 2016).
A camera that sees too few triangulated joints is reported, not guessed.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from epicap.calibration_free.pairs import PairGeometry
from epicap.geometry.triangulation import triangulate_dlt

__all__ = ["Registration", "register_cameras", "triangulate_joints", "reprojection_px"]


@dataclass
class Registration:
    """Poses of the registered cameras in the frame of the first one (unit first baseline).

    R: (C, 3, 3), t: (C, 3) `cam_from_world`, NaN for unregistered cameras. points3d: (T, J, 3)
    joints triangulated with the registered cameras (NaN where not). order: camera indices in the
    order they were registered. excluded: {camera index: reason}. pnp_inliers: {camera: count}.
    """

    R: np.ndarray
    t: np.ndarray
    points3d: np.ndarray
    order: list[int]
    excluded: dict[int, str] = field(default_factory=dict)
    pnp_inliers: dict[int, int] = field(default_factory=dict)


def triangulate_joints(R: np.ndarray, t: np.ndarray, xy: np.ndarray, weights: np.ndarray,
                       cams: list[int], focal_px: np.ndarray, max_error_px: float = np.inf
                       ) -> np.ndarray:
    """Joints (T, J, 3) triangulated from cameras `cams` (weighted linear DLT).

    R, t: (C, 3, 3), (C, 3) `cam_from_world`. xy: (C, T, J, 2) normalized, NaN unseen.
    weights: (C, T, J). focal_px: (C,) to measure the reprojection error in pixels; points whose
    largest error over the views used exceeds `max_error_px` are re-solved without the worst view
    (once) and dropped (NaN) if still above it.
    """
    C, T, J, _ = xy.shape
    cams = list(cams)
    x = xy[cams].reshape(len(cams), -1, 2)
    w = np.where(np.isfinite(x).all(-1), weights[cams].reshape(len(cams), -1), 0.0)
    x = np.nan_to_num(x)
    X = _triangulate(R[cams], t[cams], x, w)
    if np.isfinite(max_error_px):
        err = _errors(R[cams], t[cams], focal_px[cams], X, x, w)
        worst = np.nanargmax(np.where(w > 0, err, -1), axis=0)
        bad = np.nanmax(np.where(w > 0, err, -1), axis=0) > max_error_px
        if bad.any():
            w2 = w[:, bad].copy()
            w2[worst[bad], np.arange(bad.sum())] = 0
            X2 = _triangulate(R[cams], t[cams], x[:, bad], w2)
            e2 = _errors(R[cams], t[cams], focal_px[cams], X2, x[:, bad], w2)
            still = np.nanmax(np.where(w2 > 0, e2, -1), axis=0) > max_error_px
            X2[still | ((w2 > 0).sum(0) < 2)] = np.nan
            X[bad] = X2
    return X.reshape(T, J, 3)


def _triangulate(R, t, x, w):
    """Weighted linear triangulation (N, 3) from normalized x (C, N, 2), weights w (C, N)."""
    return triangulate_dlt(np.concatenate([R, t[:, :, None]], axis=2), x, w)


def _errors(R, t, f, X, x, w):
    xc = np.einsum("cij,nj->cni", R, np.nan_to_num(X)) + t[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        proj = xc[..., :2] / xc[..., 2:]
        err = np.linalg.norm(proj - x, axis=-1) * f[:, None]
    err[~(xc[..., 2] > 0)] = np.inf
    err[:, ~np.isfinite(X).all(-1)] = np.inf
    return np.where(w > 0, err, np.nan)


def reprojection_px(R: np.ndarray, t: np.ndarray, focal_px: np.ndarray, points3d: np.ndarray,
                    xy: np.ndarray) -> np.ndarray:
    """Reprojection errors (C, T, J) in pixels (focal times normalized error); NaN where unseen."""
    C = xy.shape[0]
    X = points3d.reshape(-1, 3)
    x = xy.reshape(C, -1, 2)
    w = np.isfinite(x).all(-1).astype(float)
    return _errors(R, t, focal_px, X, np.nan_to_num(x), w).reshape(xy.shape[:-1])


def register_cameras(xy: np.ndarray, weights: np.ndarray, focal_px: np.ndarray,
                     first: PairGeometry, threshold_px: float = 8.0,
                     min_points: int = 30, ransac_iterations: int = 2000) -> Registration:
    """Register every camera, starting from the pair `first`.

    xy: (C, T, J, 2) undistorted normalized coordinates, NaN unseen. weights: (C, T, J), 0 unused.
    focal_px: (C,) focal lengths (pixel thresholds). first: the starting pair (successful).
    threshold_px: PnP RANSAC threshold and the triangulation outlier threshold (x 2), pixels.
    min_points: a camera seeing fewer triangulated joints than this is excluded with the reason.
    ransac_iterations: PnP RANSAC's cap. Real 2D leaves a third of the joints or fewer as inliers
        (more while a focal length is still being searched), so RANSAC runs all of them: the
        focal search's quick solves, which only rank focal lengths, pass a few hundred.
    """
    import cv2

    C, T, J, _ = xy.shape
    R = np.full((C, 3, 3), np.nan)
    t = np.full((C, 3), np.nan)
    R[first.i], t[first.i] = np.eye(3), np.zeros(3)
    R[first.j], t[first.j] = first.pose.R, first.pose.t
    order = [first.i, first.j]
    w = weights.copy()
    inl = first.pose.inliers
    both = (weights[first.i] > 0) & (weights[first.j] > 0)
    pair_w = np.zeros((T, J), bool)
    pair_w[both] = inl
    w[[first.i, first.j]] *= np.where(both & ~pair_w, 0.0, 1.0)[None]
    X = triangulate_joints(R, t, xy, w, order, focal_px, 2 * threshold_px)
    reg = Registration(R, t, X, order)
    pending = [c for c in range(C) if c not in order]
    while pending:
        seen = np.isfinite(X).all(-1)
        counts = {c: int(((weights[c] > 0) & seen).sum()) for c in pending}
        c = max(pending, key=counts.get)
        pending.remove(c)
        if counts[c] < min_points:
            reg.excluded[c] = (f"sees only {counts[c]} of the joints the other cameras "
                               f"triangulated (at least {min_points} needed)")
            continue
        use = (weights[c] > 0) & seen
        obj, img = X[use].astype(np.float64), xy[c][use].astype(np.float64)
        thr = threshold_px / focal_px[c]
        ok, rvec, tvec, inliers = cv2.solvePnPRansac(
            obj, img, np.eye(3), None, iterationsCount=int(ransac_iterations), reprojectionError=thr,
            confidence=0.9999, flags=cv2.SOLVEPNP_EPNP)
        n_in = 0 if inliers is None else len(inliers)
        if not ok or n_in < min_points:
            reg.excluded[c] = (f"has a view that does not fit the others: PnP found {n_in} consistent "
                               f"joints of {counts[c]} (at least {min_points} needed)")
            continue
        idx = inliers.ravel()
        rvec, tvec = cv2.solvePnPRefineLM(obj[idx], img[idx], np.eye(3), None, rvec, tvec)
        R[c] = cv2.Rodrigues(rvec)[0]
        t[c] = tvec.ravel()
        reg.pnp_inliers[c] = n_in
        order.append(c)
        X = triangulate_joints(R, t, xy, weights, order, focal_px, 2 * threshold_px)
    reg.points3d = X
    reg.order = order
    return reg
