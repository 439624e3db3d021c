"""Sync with several people: every matched person's motion is evidence.

The offset estimate (`epicap.capture.sync_tracks`) works on per-joint tracks of one camera: it
correlates each joint's motion over lags and fits one fundamental matrix per camera pair to all
joints at once. Neither step needs the joints to belong to one body: the same instant seen by two
cameras satisfies `x2^T F x1 = 0` for every point in the room, and every joint's vertical motion
is its own signal. So P matched people are P x J joints of one camera, (C, T, P, J, 3) ->
(C, T, P*J, 3), and the offsets found from them are applied to every person alike; the resampled
keypoints are folded back to (C, T', P, J, 3) with their people.

A single-person file passes through unchanged (keypoints (C, T, J, 3)).
"""
from __future__ import annotations

import numpy as np

__all__ = ["as_joints", "from_joints", "synced_keypoints"]


def as_joints(keypoints: np.ndarray) -> np.ndarray:
    """(C, T, P*J, 3) view of (C, T, P, J, 3) keypoints (person p's joint j at p*J + j);
    (C, T, J, 3) single-person keypoints are returned as they are."""
    if keypoints.ndim == 4:
        return keypoints
    C, T, P, J = keypoints.shape[:4]
    return keypoints.reshape(C, T, P * J, 3)


def from_joints(keypoints: np.ndarray, num_people: int | None) -> np.ndarray:
    """Inverse of `as_joints`: (C, T, P*J, 3) back to (C, T, P, J, 3) for `num_people` P;
    None (a single-person file) returns the input."""
    if num_people is None:
        return keypoints
    C, T, PJ = keypoints.shape[:3]
    return keypoints.reshape(C, T, num_people, PJ // num_people, 3)


def synced_keypoints(kp, resampled: np.ndarray):
    """A Keypoints2D like `kp` (cameras, joints, people) holding `resampled`, the (C, T', P*J, 3)
    (or (C, T', J, 3)) keypoints on the common timeline."""
    from epicap.session import Keypoints2D

    people = None if kp.people is None else len(kp.people)
    return Keypoints2D(from_joints(resampled, people), kp.cameras, kp.joint_set, kp.image_size,
                       kp.fps, kp.joints, kp.people)
