"""A solve from nothing beside a refinement: keep the rig that explains the joints better.

Refining a calibration that is degrees off can stay near its start (a robust adjustment is a
local search), where a solve from nothing, which never saw the start, does not. `keep_better`
runs `calibrate` without the start on the same 2D, scores both rigs with one robust cost on the
same observations (`robust_cost`), and keeps the lower; a solve from nothing that is kept is
moved into the start's world frame and unit by a similarity fitted on the cameras the start
still agrees with (`align_onto`), as a refinement keeps the lab's frame.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from epicap.calibration_free.register import reprojection_px, triangulate_joints
from epicap.calibration_free.report import CalibrationResult
from epicap.calibration_free.world import WorldFrame, apply_world_frame
from epicap.errors import GeometryError, InputError
from epicap.geometry.camera import camera_centers, undistort_points
from epicap.geometry.rig_metrics import rotation_angle_deg
from epicap.session import Cameras

__all__ = ["keep_better", "robust_cost", "align_onto"]

FROM_NOTHING = "refine: from nothing"


def robust_cost(cams: Cameras, px: np.ndarray, w: np.ndarray, scale_px: float) -> float:
    """Mean robust reprojection cost in [0, 1] of the joints px seen by the rig `cams`.

    cams: C cameras with extrinsics (any world frame and unit: the cost does not depend on it).
    px: (C, F, J, 2) pixels of the original images, NaN unseen; w: (C, F, J) weights, 0 unused.
    Each joint is triangulated with every camera (linear, the worst view dropped when a view is
    more than 2 * scale_px off), and each observation costs the Geman-McClure
    e^2 / (e^2 + scale_px^2) of its reprojection error e (pixels); one that does not triangulate
    costs 1, the most. Returns the w-weighted mean over observations; lower explains better.
    """
    C = len(cams)
    xy = undistort_points(px.reshape(C, -1, 2), cams.K, cams.dist).reshape(px.shape)
    f = cams.K[:, [0, 1], [0, 1]].mean(axis=1)
    X = triangulate_joints(cams.R, cams.t, xy, w, list(range(C)), f, 2 * scale_px)
    seen = w > 0
    err = reprojection_px(cams.R, cams.t, f, X, np.where(seen[..., None], xy, np.nan))
    e2 = (np.where(np.isfinite(err), err, 0.0) / scale_px) ** 2
    rho = np.where(np.isfinite(err), e2 / (1 + e2), 1.0)
    return float((w * rho)[seen].sum() / w[seen].sum())


def align_onto(R: np.ndarray, t: np.ndarray, R_to: np.ndarray, t_to: np.ndarray,
               min_misfit_deg: float = 0.25) -> tuple[float, np.ndarray, np.ndarray, list[int]]:
    """The similarity taking rig (R, t) into the frame of rig (R_to, t_to), robust to moved cameras.

    R, R_to: (C, 3, 3), t, t_to: (C, 3) `cam_from_world` of the same C >= 1 cameras, each in
    its own world frame and unit. The fit (`refine._similarity_onto`: the mean turn, then scale
    and offset on the centres) starts on every camera; while three or more are fitted and their
    misfit (`_misfit`, degrees) exceeds `min_misfit_deg`, the camera without which the misfit
    drops to a third or less is left out (a camera bumped since the start was made: the others
    fix the frame, as they do in the lab).
    Returns (scale, Q, offset, anchors): X_to = scale * Q @ X + offset, the cameras fitted on.
    """
    from epicap.calibration_free.refine import _similarity_onto

    anchors = list(range(len(R)))
    while len(anchors) >= 3:
        base = _misfit(R, t, R_to, t_to, anchors)
        drops = [_misfit(R, t, R_to, t_to, [a for a in anchors if a != c]) for c in anchors]
        if not (base > min_misfit_deg and min(drops) < base / 3):
            break
        anchors.pop(int(np.argmin(drops)))
    s, Q, offset = _similarity_onto(R[anchors], t[anchors], R_to[anchors], t_to[anchors])
    return s, Q, offset, anchors


def _misfit(R, t, R_to, t_to, cams) -> float:
    """RMS over `cams` of how far each lands from its target after a similarity fitted on them:
    its turn and its centre's distance seen from the target rig's middle, in degrees."""
    from epicap.calibration_free.refine import _similarity_onto

    R, t, R_to, t_to = R[cams], t[cams], R_to[cams], t_to[cams]
    s, Q, offset = _similarity_onto(R, t, R_to, t_to)
    turn = rotation_angle_deg(R_to @ np.swapaxes(R @ Q.T, -1, -2))
    to = camera_centers(R_to, t_to)
    size = max(float(np.linalg.norm(to - to.mean(0), axis=1).mean()), 1e-12)
    dist = np.linalg.norm(s * camera_centers(R, t) @ Q.T + offset - to, axis=1)
    return float(np.sqrt(np.mean(turn ** 2 + np.degrees(dist / size) ** 2)))


def keep_better(refined: CalibrationResult, keypoints, start: Cameras, options,
                px: np.ndarray, w: np.ndarray, confidence: np.ndarray,
                repeat_track: np.ndarray | None = None) -> CalibrationResult:
    """`refined`, or the solve from nothing on the same 2D when it explains the joints better.

    refined: the refinement of `start` (the cameras of `keypoints`, intrinsics and extrinsics),
    in start's frame. px (C, F, J, 2), w and confidence (C, F, J): `calibrate`'s observations.
    The solve from nothing uses start's intrinsics as known; it is kept only when it calibrates
    every camera the refinement did and its `robust_cost` (scale `options.threshold_px`, joints
    weighed by confidence) is lower. A kept solve is moved into start's frame (`align_onto`),
    its method is FROM_NOTHING and a warning gives both costs. repeat_track: (T,) the person of
    each frame of `keypoints` (pooled people) or None, as in `calibrate`, for the solve.
    """
    from epicap.calibration_free.pipeline import calibrate

    intrinsics = Cameras(start.names, start.image_size, start.K, start.dist)
    try:
        rival = calibrate(keypoints, intrinsics, options, repeat_track=repeat_track)
    except (GeometryError, InputError):
        return refined
    if not set(refined.cameras.names) <= set(rival.cameras.names):
        return refined
    idx = [keypoints.cameras.index(n) for n in refined.cameras.names]
    scored = [rig.select(refined.cameras.names) for rig in (refined.cameras, rival.cameras)]
    ours, theirs = (robust_cost(rig, px[idx], confidence[idx], options.threshold_px)
                    for rig in scored)
    if not theirs < ours:
        return refined
    names = rival.cameras.names
    sel = start.select(names)
    s, Q, offset, anchors = align_onto(rival.cameras.R, rival.cameras.t, sel.R, sel.t)
    frame = WorldFrame(s, Q, offset, float("nan"), "initial", float("nan"))
    R, t, X = apply_world_frame(frame, rival.cameras.R, rival.cameras.t, rival.points3d)
    cams = dataclasses.replace(rival.cameras, R=R, t=t)
    note = (f"the solve from nothing explains the joints better than refining the given "
            f"calibration (robust cost {theirs:.4f} against {ours:.4f}): kept it, moved into "
            f"the given calibration's world frame and unit (fitted on "
            f"{', '.join(names[c] for c in anchors)})")
    return dataclasses.replace(rival, cameras=cams, points3d=X, world=frame,
                               method=FROM_NOTHING, warnings=list(rival.warnings) + [note])
