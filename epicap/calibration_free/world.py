"""The world frame of a calibration-free solve: Z up, the floor at z = 0, metres.

- Scale: limb lengths (upper arm, forearm, thigh, shank; the median over frames of each, both
  sides) divided by their share of body height (Winter, "Biomechanics and Motor Control of Human
  Movement", 4th ed., fig. 4.1: 0.186, 0.146, 0.245, 0.246 H), the median of those estimates
  is the subject's height in solve units; `subject_height_m` turns it into metres.
- Up and floor: the lowest foot joint of each foot in each frame, lifted by its height above the
  sole (ankle 0.039 H, Winter), is a floor contact candidate; a RANSAC plane through the lowest
  candidates with its normal within 30 degrees of the cameras' mean "up" (image -y axis) is the
  floor. When the contacts are too concentrated to fix a plane (standing still), the normal is
  the cameras' up, made perpendicular to the direction the contacts do spread along.
- Origin: on the floor under the subject's mean root position. X: towards the first camera.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from epicap.errors import GeometryError
from epicap.joint_sets import JointSet

__all__ = ["WorldFrame", "estimate_world_frame", "apply_world_frame", "HEIGHT_RATIOS"]

# limb length as a fraction of body height (Winter 2009, fig. 4.1)
HEIGHT_RATIOS = {("shoulder", "elbow"): 0.186, ("elbow", "wrist"): 0.146,
                 ("hip", "knee"): 0.245, ("knee", "ankle"): 0.246}
# height of a foot joint above the floor when standing, fraction of body height
_SOLE_HEIGHT = {"ankle": 0.039, "heel": 0.01, "big_toe": 0.01, "small_toe": 0.01,
                "foot_index": 0.01}


@dataclass
class WorldFrame:
    """`world_from_solve`: X_world = scale * Q @ X_solve + offset.

    scale: metres per solve unit. Q: (3, 3) rotation. offset: (3,) metres. height_solve: the
    subject's height in solve units. floor_from: "feet" (a plane fitted to the foot contacts) or
    "cameras" (the cameras' mean up, contacts too concentrated). floor_rms_m: RMS distance of the
    contact inliers from the floor.
    """

    scale: float
    Q: np.ndarray
    offset: np.ndarray
    height_solve: float
    floor_from: str
    floor_rms_m: float


def subject_height(points3d: np.ndarray, skeleton: JointSet) -> float:
    """The subject's height (solve units) from median limb lengths; NaN if no limb is seen."""
    estimates = []
    for (a, b), ratio in HEIGHT_RATIOS.items():
        for side in ("left_", "right_"):
            if side + a in skeleton.joints and side + b in skeleton.joints:
                ia, ib = skeleton.index(side + a), skeleton.index(side + b)
                length = np.linalg.norm(points3d[:, ia] - points3d[:, ib], axis=-1)
                length = length[np.isfinite(length)]
                if len(length) >= 3:
                    estimates.append(np.median(length) / ratio)
    return float(np.median(estimates)) if estimates else float("nan")


def _foot_contacts(points3d, skeleton, up, height):
    """Per frame and foot, the lowest foot joint along `up`, lowered to the sole: (M, 3)."""
    out = []
    for side in ("left_", "right_"):
        idx, lift = [], []
        for name, frac in _SOLE_HEIGHT.items():
            if side + name in skeleton.joints:
                idx.append(skeleton.index(side + name))
                lift.append(frac * height)
        if not idx:
            continue
        P = points3d[:, idx] - np.asarray(lift)[None, :, None] * up  # (T, k, 3) sole points
        h = np.where(np.isfinite(P).all(-1), P @ up, np.inf)
        k = np.argmin(h, axis=1)
        low = P[np.arange(len(P)), k]
        out.append(low[np.isfinite(h[np.arange(len(P)), k])])
    return np.concatenate(out) if out else np.zeros((0, 3))


def estimate_world_frame(points3d: np.ndarray, skeleton: JointSet, R: np.ndarray,
                         t: np.ndarray, subject_height_m: float = 1.70,
                         seed: int = 0) -> WorldFrame:
    """The similarity taking a solve's frame to the world frame (Z up, floor z = 0, metres).

    points3d: (T, J, 3) triangulated joints in the solve frame (NaN where missing).
    skeleton: their joint set. R, t: (C, 3, 3), (C, 3) the cameras' `cam_from_solve` poses.
    subject_height_m: the subject's height. Raises GeometryError when no limb or foot is seen.
    """
    height = subject_height(points3d, skeleton)
    if not np.isfinite(height) or height <= 0:
        raise GeometryError("cannot set the metric scale: no limb (arm or leg) was triangulated "
                            "in enough frames")
    scale = subject_height_m / height
    cam_up = -R[:, 1, :].mean(axis=0)  # image -y axes in the solve frame
    cam_up /= np.linalg.norm(cam_up)
    contacts = _foot_contacts(points3d, skeleton, cam_up, height)
    if len(contacts) < 3:
        raise GeometryError("cannot find the floor: the feet (ankles) were not triangulated")
    up, floor_from, inl = _fit_floor(contacts, cam_up, 0.03 * height, seed)
    d = float(np.median(contacts[inl] @ up))
    rms = float(np.sqrt(np.mean((contacts[inl] @ up - d) ** 2))) * scale
    root = skeleton.root_of(points3d).reshape(-1, 3)
    root = root[np.isfinite(root).all(1)]
    centre = root.mean(axis=0) if len(root) else contacts.mean(axis=0)
    centre = centre - (centre @ up - d) * up  # on the floor
    cam0 = -R[0].T @ t[0]
    x = cam0 - centre
    x -= (x @ up) * up
    if np.linalg.norm(x) < 1e-9:
        x = np.cross(up, [1.0, 0, 0]) if abs(up[0]) < 0.9 else np.cross(up, [0, 1.0, 0])
    x /= np.linalg.norm(x)
    Q = np.stack([x, np.cross(up, x), up])
    return WorldFrame(scale, Q, -scale * Q @ centre, height, floor_from, rms)


def _fit_floor(contacts, cam_up, tol, seed):
    """RANSAC plane through the lowest contacts, normal near cam_up; (normal, source, inliers)."""
    h = contacts @ cam_up
    low = h <= np.quantile(h, 0.5)
    P = contacts[low]
    rng = np.random.default_rng(seed)
    best_n, best_count = None, 0
    for _ in range(300):
        a, b, c = P[rng.choice(len(P), 3, replace=False)] if len(P) >= 3 else (P[0],) * 3
        n = np.cross(b - a, c - a)
        if np.linalg.norm(n) < 1e-12:
            continue
        n /= np.linalg.norm(n)
        n = n if n @ cam_up > 0 else -n
        if n @ cam_up < np.cos(np.radians(30)):
            continue
        count = int((np.abs((P - a) @ n) < tol).sum())
        if count > best_count:
            best_n, best_count = n, count
    if best_n is not None:
        d = np.median(P @ best_n)
        inl = np.abs(P @ best_n - d) < tol
        Q = P[inl] - P[inl].mean(axis=0)
        s, V = np.linalg.svd(Q, full_matrices=False)[1:]
        if inl.sum() >= 10 and s[1] > 4 * tol:  # contacts spread in two directions: a plane
            n = V[2] if V[2] @ cam_up > 0 else -V[2]
            full = np.abs(contacts @ n - np.median(P[inl] @ n)) < tol
            return n, "feet", full
        if inl.sum() >= 2 and s[0] > 4 * tol:  # spread along one line: up is perpendicular to it
            line = V[0]
            n = cam_up - (cam_up @ line) * line
            n /= np.linalg.norm(n)
            full = np.abs(contacts @ n - np.median(P[inl] @ n)) < tol
            return n, "feet+cameras", full
    full = np.abs(h - np.quantile(h, 0.1)) < tol
    return cam_up, "cameras", full if full.any() else np.ones(len(h), bool)


def apply_world_frame(frame: WorldFrame, R: np.ndarray, t: np.ndarray,
                      points3d: np.ndarray | None = None):
    """Cameras (R, t) and points moved into the world frame: (R_w, t_w, points_w or None).

    R: (C, 3, 3), t: (C, 3) `cam_from_solve`; points3d: (..., 3) solve frame.
    """
    Rw = R @ frame.Q.T
    tw = frame.scale * t - np.einsum("cij,j->ci", Rw, frame.offset)
    X = None if points3d is None else frame.scale * points3d @ frame.Q.T + frame.offset
    return Rw, tw, X
