"""Which joints a camera sees on the far side of the body: where 2D detectors guess.

A detector places a joint it cannot see (the left hip seen from the right, the nose seen from
behind) where a body usually has it, 20-50 px off, while the same joint seen from its own side
lands within a few pixels: measured on the Pose2Sim demo under its Qualisys calibration
(OpenPose BODY_25B: cam01's far-side left shoulder and hip 34 and 46 px against 6 and 5 px for
its near-side right ones; cam03, behind the subject: nose 33 px, far-side right shoulder and hip
46 and 54 px). That bias does not average out over frames: bundle adjustment tilts the cameras
to fit it. This module scores each observation from the current 3D alone, so the cameras cannot
hide the bias in the residuals before it is found.

Each frame's body frame comes from the triangulated shoulders and hips: `left` (right-to-left
across the shoulders and hips), `up` (hips to shoulders) and `forward` = left x up. A joint's
outward direction is `forward` for the face (nose, eyes, mouth), the body's side for the
shoulders and hips (ears: the side, leaning forward a little), none for the other joints: the
limbs stick out of the trunk's silhouette, so the trunk's facing says little about whether they
are hidden, and midline joints (neck, head top) have no far side. Measured: scoring the limbs
too weighed away a third of the data and worsened every result, real and synthetic.
The cosine between that direction and the direction from the joint to the camera centre is the
joint's facing; a joint facing away (cosine below `cutoff`) weighs `floor`, with a logistic
step of width `width` in between. Frames whose shoulders and hips are not triangulated, and
midline joints, weigh 1.
"""
from __future__ import annotations

import numpy as np

from epicap.joint_sets import JointSet

__all__ = ["body_frames", "facing_cosines", "occlusion_weights"]

_FACE = ("nose", "eye", "mouth")
_TRUNK = ("shoulder", "hip")


def body_frames(points3d: np.ndarray, skeleton: JointSet) -> tuple[np.ndarray, np.ndarray]:
    """The subject's left and forward directions per frame, from the shoulders and hips.

    points3d: (T, J, 3) joints in any frame and unit; NaN where not triangulated.
    skeleton: the joint set (needs left/right shoulders and hips).
    Returns (left, forward): (T, 3) unit vectors in the frame of `points3d`, NaN for frames
    whose shoulders or hips are missing or degenerate (shoulders and hips on one line).
    """
    names = list(skeleton.joints)
    need = ("left_shoulder", "right_shoulder", "left_hip", "right_hip")
    T = points3d.shape[0]
    if not all(n in names for n in need):
        return np.full((T, 3), np.nan), np.full((T, 3), np.nan)
    ls, rs, lh, rh = (points3d[:, names.index(n)] for n in need)
    up = (ls + rs) - (lh + rh)
    up /= np.linalg.norm(up, axis=-1, keepdims=True)
    left = (ls - rs) + (lh - rh)
    left = left - (left * up).sum(-1, keepdims=True) * up
    norm = np.linalg.norm(left, axis=-1, keepdims=True)
    left = np.where(norm > 1e-9, left / np.where(norm > 1e-9, norm, 1), np.nan)
    forward = np.cross(left, up)
    return left, forward


def _outward(skeleton: JointSet) -> tuple[np.ndarray, np.ndarray]:
    """(J,) forward and (J,) left components of each joint's outward direction (0, 0: none)."""
    fwd = np.zeros(len(skeleton.joints))
    lat = np.zeros(len(skeleton.joints))
    for j, name in enumerate(skeleton.joints):
        side = 1.0 if name.startswith("left_") else -1.0 if name.startswith("right_") else 0.0
        if any(k in name for k in _FACE):
            fwd[j] = 1.0
        elif "ear" in name:
            fwd[j], lat[j] = 0.3, side
        elif any(k in name for k in _TRUNK):
            lat[j] = side
    norm = np.hypot(fwd, lat)
    norm[norm == 0] = 1
    return fwd / norm, lat / norm


def facing_cosines(points3d: np.ndarray, centers: np.ndarray, skeleton: JointSet) -> np.ndarray:
    """Cosine between each joint's outward direction and its direction to each camera.

    points3d: (T, J, 3) joints, world frame (any unit); NaN where not triangulated.
    centers: (C, 3) camera centres in the same frame and unit.
    Returns (C, T, J): +1 the joint faces the camera, -1 it faces away; NaN where the body
    frame or the joint is unknown, or the joint has no outward direction (limbs, midline).
    """
    left, forward = body_frames(points3d, skeleton)
    fwd, lat = _outward(skeleton)
    normal = forward[:, None, :] * fwd[None, :, None] + left[:, None, :] * lat[None, :, None]
    normal[:, (fwd == 0) & (lat == 0)] = np.nan
    view = centers[:, None, None, :] - points3d[None]
    view /= np.linalg.norm(view, axis=-1, keepdims=True)
    return (view * normal[None]).sum(-1)


def occlusion_weights(points3d: np.ndarray, centers: np.ndarray, skeleton: JointSet,
                      cutoff: float = -0.5, width: float = 0.1, floor: float = 0.05
                      ) -> np.ndarray:
    """(C, T, J) observation weight factors in [floor, 1]: small for far-side joints.

    points3d: (T, J, 3) joints, world frame; centers: (C, 3) camera centres (same frame, unit).
    cutoff: the facing cosine at which the weight is halfway (-0.5: the camera is 30 degrees
        past the joint's side plane, i.e. the body stands between them); width: the width of
        the logistic step, in cosine; floor: the weight of a joint facing straight away.
    Unknown facings (limbs, midline joints, frames without shoulders and hips) weigh 1.
    """
    cos = facing_cosines(points3d, centers, skeleton)
    step = 1.0 / (1.0 + np.exp(-(np.nan_to_num(cos, nan=1.0) - cutoff) / width))
    return np.where(np.isfinite(cos), floor + (1.0 - floor) * step, 1.0)
