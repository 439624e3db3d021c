"""Refine an existing calibration with the people in view (`calibrate(initial=...)`).

A board calibration from last week, a camera nudged since: the joints the cameras see now say
where each camera is. Every camera whose joints the others no longer explain is re-posed first
(PnP on the joints the other cameras triangulate), then the rig is adjusted as in `calibrate`
with thresholds that start loose and tighten (graduated non-convexity, Blake & Zisserman 1987;
Yang et al., RA-L 2020): a start a degree off puts good detections 20-50 px away, and a tight
first threshold would shut them out and keep the rig near its start. A solve from nothing runs
alongside (`rival`), and whichever rig explains the joints better under one robust cost is kept.
The result is put back into the given calibration's world frame and unit.
"""
from __future__ import annotations

import numpy as np

from epicap.calibration_free.focal_choice import normalize
from epicap.calibration_free.pipeline import _adjust, _intrinsics_for, _result
from epicap.calibration_free.register import reprojection_px, triangulate_joints
from epicap.calibration_free.report import CalibrationResult
from epicap.calibration_free.rival import align_onto, keep_better
from epicap.calibration_free.world import WorldFrame
from epicap.errors import GeometryError, InputError
from epicap.geometry.bundle_adjustment import robust_sigma
from epicap.geometry.camera import camera_centers
from epicap.session import Cameras

__all__ = ["refine", "starting_rig"]


def starting_rig(keypoints, initial: Cameras, intrinsics: Cameras | None) -> Cameras:
    """The rig to start from, for the cameras of `keypoints` in their order.

    initial: a calibration with extrinsics (`cam_from_world`, its world frame and unit).
    intrinsics: None to keep `initial`'s intrinsics; otherwise they win: K and distortion come
        from `intrinsics`, only the extrinsics from `initial` (both matched by camera name).
    Raises InputError naming the file's missing camera or an image size that does not match.
    """
    if not initial.has_extrinsics:
        raise InputError("the calibration to refine has no extrinsics (rotation, translation)")
    if intrinsics is None:
        return _intrinsics_for(keypoints, initial)
    intr = _intrinsics_for(keypoints, intrinsics)
    missing = [n for n in keypoints.cameras if n not in initial.names]
    if missing:
        raise InputError(f"the calibration to refine has no camera {', '.join(missing)} "
                         f"(it has {', '.join(initial.names)})")
    ext = initial.select(keypoints.cameras)
    return Cameras(intr.names, intr.image_size, intr.K, intr.dist, ext.R, ext.t)


def refine(keypoints, initial, intrinsics, options, px, w, confidence, coverage, excluded,
           frames, warnings, repeat_track=None) -> CalibrationResult:
    """`calibrate(initial=...)`: the adjustment started from a given rig, kept in its frame.

    Called by `calibrate` with its prepared observations: px (C, F, J, 2) pixels, w and
    confidence (C, F, J), coverage (C,), excluded {camera: reason}, frames (F,) and warnings.
    intrinsics: None, or known intrinsics that win over `initial`'s (`starting_rig`).
    repeat_track: (T,) the person of each frame of `keypoints` (pooled people), or None: as in
    `calibrate`.
    The result's method is "refine", or "refine: from nothing" when the solve from nothing
    explained the joints better and was kept (aligned onto `initial`'s frame; a warning says so).
    """
    if options.method != "epicap":
        raise InputError(f"refining a calibration adjusts it: method {options.method!r} "
                         "cannot refine (use epicap)")
    init = starting_rig(keypoints, initial, intrinsics)
    track = None if repeat_track is None else repeat_track[frames]
    refined = _refine_from(keypoints, init, options, px, w, confidence, coverage, excluded,
                           frames, list(warnings), track)
    return keep_better(refined, keypoints, init, options, px, w, confidence, repeat_track)


def _refine_from(keypoints, init, options, px, w, confidence, coverage, excluded, frames,
                 warnings, repeat_track=None) -> CalibrationResult:
    """The refined rig: re-posing, then adjustments from a loose to the usual threshold."""
    K, dist, R, t = init.K.copy(), init.dist.copy(), init.R.copy(), init.t.copy()
    xy = normalize(px, K, dist)
    f = K[:, [0, 1], [0, 1]].mean(axis=1)
    used = [c for c in range(len(K)) if c not in excluded]
    tight = 2 * options.threshold_px
    _reseat(R, t, xy, w, used, f, options, _loose_px(R, t, xy, w, used, f, tight))
    for threshold in _schedule(_loose_px(R, t, xy, w, used, f, tight), tight):
        X = triangulate_joints(R, t, xy, w, used, f, threshold)
        if np.isfinite(X).all(-1).sum() < options.min_points:
            raise GeometryError(f"only {int(np.isfinite(X).all(-1).sum())} joints triangulate "
                                "with the calibration to refine (is it for these cameras and "
                                "this session?)")
        R, t, _, _, Xa, rms, inliers, checked, _ = _adjust(
            px, w, confidence, K, dist, R, t, X, used, options, init, keypoints.skeleton,
            repeat_track=repeat_track)
    s, Q, offset, _ = align_onto(R[used], t[used], init.R[used], init.t[used])
    world = WorldFrame(s, Q, offset, float("nan"), "initial", float("nan"))
    return _result(keypoints, world, R, t, K, dist, Xa, rms, inliers, used, w, coverage,
                   excluded, frames, warnings, "refine", {}, None, checked)


def _loose_px(R, t, xy, w, used, f, tight) -> float:
    """A first triangulation threshold (pixels) that keeps the start's good detections.

    Three times the robust spread of the reprojection errors of the joints triangulated by every
    camera with the starting rig; never below `tight`.
    """
    X = triangulate_joints(R, t, xy, w, used, f)
    err = reprojection_px(R[used], t[used], f[used], X, np.where((w[used] > 0)[..., None],
                                                                  xy[used], np.nan))
    sigma = robust_sigma(err)
    return max(tight, 3 * sigma) if np.isfinite(sigma) else tight


def _schedule(loose, tight) -> list[float]:
    """Triangulation thresholds of the adjustments (pixels): `loose` first, then `tight`."""
    return [float(loose), float(tight)] if loose > 1.25 * tight else [float(tight)]


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


def _reseat(R, t, xy, w, used, f, options, threshold_px) -> list[int]:
    """Re-pose, in place, each camera the others' joints fit better than its given pose.

    A nudged camera's joints sit tens of pixels off: its given pose would have the robust
    adjustment reject them all and keep the camera where it was. With three cameras or more,
    each camera's pose is re-estimated by PnP (RANSAC, then refined) on the joints the other
    cameras triangulate (within threshold_px, pixels), and kept when it fits clearly more of them
    than the given pose does. R: (C, 3, 3), t: (C, 3) `cam_from_world`; xy: (C, F, J, 2)
    normalized; w: (C, F, J); f: (C,) focal lengths in pixels. Returns the cameras re-posed.
    """
    import cv2

    moved = []
    if len(used) < 3:
        return moved
    for c in used:
        others = [o for o in used if o != c]
        X = triangulate_joints(R, t, xy, w, others, f, threshold_px)
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
