"""Refine an existing calibration with the people in view (`calibrate(initial=...)`).

A board calibration from last week, a camera nudged since: the joints the cameras see now say
where each camera is. A camera whose joints the others no longer explain is re-posed first (PnP
on the joints the other cameras triangulate), then the rig is adjusted as in `calibrate`, and the
result is put back into the given calibration's world frame and unit.
"""
from __future__ import annotations

import numpy as np

from epicap.calibration_free.pipeline import _adjust, _intrinsics_for, _normalize, _result
from epicap.calibration_free.register import reprojection_px, triangulate_joints
from epicap.calibration_free.report import CalibrationResult
from epicap.calibration_free.world import WorldFrame
from epicap.errors import GeometryError, InputError
from epicap.geometry.camera import camera_centers

__all__ = ["refine"]


def refine(keypoints, initial, intrinsics, options, px, w, confidence, coverage, excluded,
           frames, warnings) -> CalibrationResult:
    """`calibrate(initial=...)`: the adjustment started from a given rig, kept in its frame.

    Called by `calibrate` with its prepared observations: px (C, F, J, 2) pixels, w and
    confidence (C, F, J), coverage (C,), excluded {camera: reason}, frames (F,) and warnings.
    """
    if intrinsics is not None:
        raise InputError("give either intrinsics or a calibration to refine (it holds the "
                         "intrinsics), not both")
    if options.method != "epicap":
        raise InputError(f"refining a calibration adjusts it: method {options.method!r} "
                         "cannot refine (use epicap)")
    if not initial.has_extrinsics:
        raise InputError("the calibration to refine has no extrinsics (rotation, translation)")
    init = _intrinsics_for(keypoints, initial)
    K, dist, R, t = init.K.copy(), init.dist.copy(), init.R.copy(), init.t.copy()
    xy = _normalize(px, K, dist)
    f = K[:, [0, 1], [0, 1]].mean(axis=1)
    used = [c for c in range(len(K)) if c not in excluded]
    moved = _reseat(R, t, xy, w, used, f, options)
    X = triangulate_joints(R, t, xy, w, used, f, 2 * options.threshold_px)
    if np.isfinite(X).all(-1).sum() < options.min_points:
        raise GeometryError(f"only {int(np.isfinite(X).all(-1).sum())} joints triangulate with "
                            "the calibration to refine (is it for these cameras and this "
                            "session?)")
    Ra, ta, _, Xa, rms, inliers = _adjust(px, w, confidence, K, dist, R, t, X, used, options,
                                          init, keypoints.skeleton)
    anchors = [c for c in used if c not in moved] or used
    s, Q, offset = _similarity_onto(Ra[anchors], ta[anchors], init.R[anchors], init.t[anchors])
    world = WorldFrame(s, Q, offset, float("nan"), "initial", float("nan"))
    return _result(keypoints, world, Ra, ta, K, dist, Xa, rms, inliers, used, w, coverage,
                   excluded, frames, warnings, "refine", {})


def _similarity_onto(R, t, R_to, t_to):
    """(scale, Q, offset) taking rig (R, t) onto rig (R_to, t_to): X_to = scale * Q @ X + offset.

    R, R_to: (C, 3, 3), t, t_to: (C, 3) `cam_from_world` of the same C >= 1 cameras. The turn is
    the mean of the cameras' own (orientations are what a refinement keeps best), the scale and
    offset fit the camera centres (scale 1 for a single camera).
    """
    U, _, Vt = np.linalg.svd(np.einsum("cji,cjk->ik", R_to, R))
    Q = U @ np.diag([1, 1, np.linalg.det(U @ Vt)]) @ Vt
    a, b = camera_centers(R, t) @ Q.T, camera_centers(R_to, t_to)
    da, db = a - a.mean(0), b - b.mean(0)
    scale = float((da * db).sum() / (da * da).sum()) if (da * da).sum() > 0 else 1.0
    return scale, Q, b.mean(0) - scale * a.mean(0)


def _reseat(R, t, xy, w, used, f, options) -> list[int]:
    """Re-pose, in place, each camera the others' joints fit better than its given pose.

    A nudged camera's joints sit tens of pixels off: its given pose would have the robust
    adjustment reject them all and keep the camera where it was. With three cameras or more,
    each camera's pose is re-estimated by PnP (RANSAC, then refined) on the joints the other
    cameras triangulate, and kept when it fits clearly more of them than the given pose does.
    R: (C, 3, 3), t: (C, 3) `cam_from_world`; xy: (C, F, J, 2) normalized; w: (C, F, J);
    f: (C,) focal lengths in pixels (thresholds). Returns the cameras re-posed.
    """
    import cv2

    moved = []
    if len(used) < 3:
        return moved
    for c in used:
        others = [o for o in used if o != c]
        X = triangulate_joints(R, t, xy, w, others, f, 2 * options.threshold_px)
        use = (w[c] > 0) & np.isfinite(X).all(-1)
        if use.sum() < options.min_points:
            continue
        obj, img = X[use].astype(np.float64), xy[c][use].astype(np.float64)
        thr = options.threshold_px / f[c]
        before = reprojection_px(R[c:c + 1], t[c:c + 1], f[c:c + 1], X, xy[c:c + 1])[0][use]
        ok, rvec, tvec, inliers = cv2.solvePnPRansac(
            obj, img, np.eye(3), None, iterationsCount=1000, reprojectionError=thr,
            confidence=0.999, flags=cv2.SOLVEPNP_EPNP)
        if not ok or inliers is None or len(inliers) < 1.2 * (before < options.threshold_px).sum():
            continue
        idx = inliers.ravel()
        rvec, tvec = cv2.solvePnPRefineLM(obj[idx], img[idx], np.eye(3), None, rvec, tvec)
        R[c], t[c] = cv2.Rodrigues(rvec)[0], tvec.ravel()
        moved.append(c)
    return moved
