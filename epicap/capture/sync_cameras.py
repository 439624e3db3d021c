"""Sub-frame time offsets refined with calibrated cameras.

The offsets `sync` estimates from 2D keypoints alone rest on one fundamental matrix per pair of
cameras, with the lens's distortion unmodelled, and come out a tenth of a frame or so off
(random synthetic rigs with lenses of k1 down to -0.35: up to 0.25 frame). People walking
keep moving the same way, so such a timing error is a systematic 2D error along each joint's
motion, and the calibration takes it up in the cameras' turns: on one rig 0.12 frame cost
1.06 deg against 0.28 deg with the true offsets. With the cameras known, every joint seen by
two cameras or more says how far each camera's view of it runs ahead along its own motion.

The model: camera c's keypoints at common frame t show the instant t + e_c, so its pixel is
the projection of the joint at t plus e_c times the joint's image velocity (pixels per frame,
from the camera's own track by central differences). The unknowns e_c (cameras whose offset is
refined; the others are held) and every joint's 3D position are solved together by
Gauss-Newton: the points' 3x3 blocks are eliminated per point, which leaves a C x C system
(Triggs et al., "Bundle adjustment - a modern synthesis", sec. 6.1). The noise in a central
difference shrinks each step's estimate (errors in the variables), so the step is repeated on
the keypoints shifted by the estimate so far until it stops moving.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from epicap.capture.sync_epipolar import busiest_window
from epicap.capture.sync_tracks import SyncOptions, sample_at
from epicap.errors import check_shape
from epicap.geometry.camera import project_points
from epicap.geometry.linear_triangulation import normalize_views, solve_dlt

__all__ = ["TimingFit", "refine_timing", "shift_keypoints", "shift_text",
           "timed_keypoints"]

_CAUCHY = 2.5  # Cauchy scale of the residuals, in robust standard deviations
_STEP_M = 1e-4  # metres: central differences of the projection for the point Jacobians
MAX_SHIFT_FRAMES = 0.5  # a refinement within the frame sync found (`TimingFit.doubt`)


@dataclass
class TimingFit:
    """How far each camera's keypoints run ahead of the common timeline.

    shift_frames: (C,) e_c: camera c's keypoints at common frame t show the instant t + e_c
        (0 for cameras held). std_frames: (C,) its standard deviation (0 for cameras held).
    converged: the last step moved every shift by less than the tolerance; a shift that keeps
        moving is not a timing error but something the motion correlates with (measured on the
        real Pose2Sim videos, filmed in sync: MediaPipe's joints drifted between -0.48 and -0.56
        frame on one camera, and shifting by that turned the rig 1.1 deg further from Qualisys).
    iterations: steps taken. points: joints (point-frames) seen by two cameras or more.
    """

    shift_frames: np.ndarray
    std_frames: np.ndarray
    converged: bool
    iterations: int
    points: int

    def significant(self, min_frames: float = 0.02, sigmas: float = 3.0) -> np.ndarray:
        """(C,) bool: shifts beyond `min_frames` and `sigmas` standard deviations; none where
        the fit is not to be trusted (`doubt`)."""
        if self.doubt():
            return np.zeros(len(self.shift_frames), dtype=bool)
        return ((np.abs(self.shift_frames) > min_frames)
                & (np.abs(self.shift_frames) > sigmas * self.std_frames))

    def doubt(self) -> str:
        """Why the shifts are not to be applied, or "": the fit did not converge (see the class
        doc), or a shift reaches half a frame (a sub-frame refinement of offsets found to the
        frame: a larger one says the sync or the rig is off, not the timing: measured on a
        random rig synced a whole stride off and calibrated 41 deg off, the shifts kept
        growing round after round)."""
        if not self.converged:
            return "the estimate kept moving: not a timing error"
        if np.abs(self.shift_frames).max() >= MAX_SHIFT_FRAMES:
            return (f"a shift of {np.abs(self.shift_frames).max():.2f} frame: the sync or the "
                    "rig is off, not the timing")
        return ""


def shift_text(names: list[str], shift_frames: np.ndarray) -> str:
    """"cam02 +0.10, cam03 -0.13 frames": the cameras of `names` whose shift is not 0."""
    return ", ".join(f"{n} {s:+.2f}" for n, s in zip(names, shift_frames) if s != 0.0) + \
        " frames"


def shift_keypoints(keypoints: np.ndarray, shift_frames: np.ndarray,
                    flip_index: np.ndarray | None = None) -> np.ndarray:
    """Keypoints moved along each camera's timeline by `shift_frames`.

    keypoints: (C, T, ..., 3) x, y pixels, confidence on a common timeline, missing
        (NaN, NaN, 0). shift_frames: (C,) e_c as `TimingFit.shift_frames`.
    Returns float32 keypoints of the same shape whose row t of camera c is its old row t - e_c,
    linear between rows (a joint that jumps between them, a left/right swap, is taken from the
    nearer one: `sample_at`), with the nearer row's confidence (a small shift leaves the
    weights as they were). A joint missing in one of the two rows is taken from the nearer row
    where it is there (as it was, for shifts under half a frame): occlusions and dropped
    detections would otherwise take out the neighbours of every gap. flip_index: (J0,) the
    joint set's left/right exchange for keypoints of whole people of J0 joints: a person
    swapped in one of the two rows takes the nearer row's labels whole (`sample_at`).
    """
    k = np.asarray(keypoints)
    C, T = k.shape[:2]
    shift = np.asarray(shift_frames, dtype=np.float64)
    check_shape(shift, "C", "shift_frames", {"C": C})
    flat = k.reshape(C, T, -1, 3)
    out = np.array(flat, dtype=np.float32)
    for c in range(C):
        if shift[c] == 0.0:
            continue
        at = np.arange(T) - shift[c]
        moved = sample_at(flat[c], at, jumps=True, flip_index=flip_index)
        nearest = np.clip(np.round(at).astype(np.int64), 0, T - 1)
        near = flat[c, nearest]
        gap = ~(moved[..., 2] > 0) & (near[..., 2] > 0)
        moved[gap] = near[gap]
        moved[..., 2] = np.where(moved[..., 2] > 0, near[..., 2], moved[..., 2])
        out[c] = moved
    return out.reshape(k.shape)


def refine_timing(keypoints: np.ndarray, K: np.ndarray, dist: np.ndarray, R: np.ndarray,
                  t: np.ndarray, free: np.ndarray, min_confidence: float = 0.2,
                  max_iterations: int = 30, tol_frames: float = 0.002) -> TimingFit:
    """Each free camera's timing error on a common timeline, from calibrated cameras.

    keypoints: (C, T, ..., 3) x, y pixels, confidence (several people: any middle axes; every
        joint of every person is a point), missing (NaN, NaN, 0). K (C, 3, 3), dist (C, 5),
        R (C, 3, 3), t (C, 3): the cameras, `cam_from_world`, metres. free: (C,) bool, the
        cameras whose shift is estimated (the others are held at 0: the reference, cameras on
        timestamps or filmed in sync); at least one camera must be held.
    Returns a TimingFit (module doc). Shifts stay 0 where a camera sees too little moving.
    """
    k = np.asarray(keypoints, dtype=np.float64)
    C, T = k.shape[:2]
    free = np.asarray(free, dtype=bool)
    check_shape(free, "C", "free", {"C": C})
    if free.all():
        raise ValueError("refine_timing: at least one camera must be held")
    flat = k.reshape(C, T, -1, 3)
    shift, std = np.zeros(C), np.zeros(C)
    P = np.concatenate([R, t[:, :, None]], axis=2)
    converged, points, it = False, 0, 0
    for it in range(1, max_iterations + 1):
        step, std, points = _step(shift_keypoints(flat, shift), K, dist, R, t, P, free,
                                  min_confidence)
        shift += step
        if np.abs(step).max() < tol_frames:
            converged = True
            break
    return TimingFit(shift, std, converged, it, points)


def _step(kp, K, dist, R, t, P, free, min_confidence):
    """One Gauss-Newton step (step (C,), std (C,), points): see the module doc."""
    C = kp.shape[0]
    px = kp[..., :2].astype(np.float64)                                     # (C, T, N, 2)
    vel = np.full_like(px, np.nan)
    vel[:, 1:-1] = (px[:, 2:] - px[:, :-2]) / 2
    px, vel = px.reshape(C, -1, 2), vel.reshape(C, -1, 2)
    conf = kp[..., 2].reshape(C, -1).astype(np.float64)
    u, v, w, seen = normalize_views(px, conf, K, dist, min_confidence)
    X = solve_dlt(P, u, v, w).T                                             # (M, 3)
    pred, _ = project_points(X, K, R, t, dist)
    J = np.stack([(project_points(X + _STEP_M * e, K, R, t, dist)[0]
                   - project_points(X - _STEP_M * e, K, R, t, dist)[0]) / (2 * _STEP_M)
                  for e in np.eye(3)], axis=-1)                              # (C, M, 2, 3)
    r = px - pred
    ok = (seen & np.isfinite(r).all(-1) & np.isfinite(vel).all(-1)
          & np.isfinite(J).all(axis=(-1, -2)))
    ok &= ok.sum(axis=0) >= 2
    points = int(ok.any(axis=0).sum())
    if points == 0:
        return np.zeros(C), np.zeros(C), 0
    r = np.where(ok[..., None], r, 0.0)
    vel = np.where(ok[..., None], vel, 0.0)
    J = np.where(ok[..., None, None], J, 0.0)
    size = np.linalg.norm(r, axis=-1)
    sigma = max(1.4826 * float(np.median(size[ok])), 1e-6)
    wt = np.where(ok, conf / (1 + (size / (_CAUCHY * sigma)) ** 2), 0.0)
    A = np.einsum("cm,cmki,cmkj->mij", wt, J, J)                            # (M, 3, 3)
    B = np.einsum("cm,cmki,cmk->mic", wt, J, vel)                           # (M, 3, C)
    gX = np.einsum("cm,cmki,cmk->mi", wt, J, r)
    D = np.einsum("cm,cmk,cmk->c", wt, vel, vel)
    ge = np.einsum("cm,cmk,cmk->c", wt, vel, r)
    tr = np.trace(A, axis1=1, axis2=2)
    good = np.linalg.det(A) > 1e-9 * (tr / 3) ** 3
    Ai = np.zeros_like(A)
    Ai[good] = np.linalg.inv(A[good])
    S = np.diag(D) - np.einsum("mic,mij,mjd->cd", B, Ai, B)
    rhs = ge - np.einsum("mic,mij,mj->c", B, Ai, gX)
    idx = np.flatnonzero(free & (D > 0))
    step, std = np.zeros(C), np.zeros(C)
    if len(idx) == 0:
        return step, std, points
    Sf = S[np.ix_(idx, idx)]
    try:
        cov = np.linalg.inv(Sf)
    except np.linalg.LinAlgError:
        return step, std, points
    step[idx] = cov @ rhs[idx]
    std[idx] = sigma * np.sqrt(np.clip(np.diag(cov), 0.0, None))
    return step, std, points


def timed_keypoints(keypoints, cameras, refinable, min_confidence: float = 0.2,
                    window_s: float = SyncOptions.window_s):
    """(keypoints, fit): a `Keypoints2D` shifted by the timing its cameras find, or as it was.

    keypoints: a Keypoints2D on a common timeline (one person or several). cameras: Cameras
    with extrinsics, matched by name (cameras it lacks are held and not shifted). refinable:
    names of the cameras whose offsets `sync` estimated from the keypoints (`sync.
    estimated_offsets`); the others are held. window_s: the timing is fitted on the busiest
    stretch this long of a longer recording (as `sync` searches it: `SyncOptions.window_s`;
    0: all of it) and applied to all of it. Returns the keypoints shifted where the fit is
    significant (`TimingFit.significant`: then every refined camera is shifted by its
    estimate), and the fit over the keypoints' cameras (None when there was nothing to refine:
    fewer than three calibrated cameras, none refinable or none held).
    """
    import dataclasses

    names = list(keypoints.cameras)
    idx = [names.index(n) for n in cameras.names if n in names]
    free = np.array([names[i] in refinable for i in idx], dtype=bool)
    if len(idx) < 3 or not free.any() or free.all():
        return keypoints, None
    rig = cameras.select([names[i] for i in idx])
    kp = np.asarray(keypoints.keypoints)[idx]
    if window_s > 0:
        start, stop = busiest_window(kp.reshape(kp.shape[:2] + (-1, 3)),
                                     int(np.ceil(window_s * keypoints.fps)), min_confidence)
        kp = kp[:, start:stop]                                   # every camera cut alike
    fit = refine_timing(kp, rig.K, rig.dist, rig.R, rig.t, free, min_confidence)
    whole = TimingFit(np.zeros(len(names)), np.zeros(len(names)), fit.converged,
                      fit.iterations, fit.points)
    whole.shift_frames[idx], whole.std_frames[idx] = fit.shift_frames, fit.std_frames
    if not fit.significant().any():
        return keypoints, whole
    return (dataclasses.replace(keypoints,
                                keypoints=shift_keypoints(keypoints.keypoints, whole.shift_frames,
                                                          keypoints.skeleton.flip_index)),
            whole)
