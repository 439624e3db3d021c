"""Sync with several people: every matched person's motion is evidence.

The offset estimate (`epicap.capture.sync_tracks`) works on per-joint tracks of one camera: it
correlates each joint's motion over lags and fits one fundamental matrix per camera pair to all
joints at once. Neither step needs the joints to belong to one body: the same instant seen by two
cameras satisfies `x2^T F x1 = 0` for every point in the room, and every joint's vertical motion
is its own signal. So P matched people are P x J joints of one camera, (C, T, P, J, 3) ->
(C, T, P*J, 3), and the offsets found from them are applied to every person alike; the resampled
keypoints are folded back to (C, T', P, J, 3) with their people.

A single-person file passes through unchanged (keypoints (C, T, J, 3)).

The people themselves were matched at detect time on each camera's own frames; when the offsets
found are a frame or more, `rematch_people` matches them again from the raw detections on the
common timeline before the keypoints are resampled (matching pairs the views of one instant).
"""
from __future__ import annotations

import numpy as np

__all__ = ["as_joints", "from_joints", "synced_keypoints", "rematch_people", "match_apart"]


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


def rematch_people(kp, detections, offsets_frames, min_cameras: int = 2,
                   max_people: int | None = None):
    """The people of `kp` matched again from the raw `detections` on one timeline, or None.

    kp: the session's Keypoints2D as detected (several people: `people` set). detections: its
    `Detections2D` (same cameras, frames and joints). offsets_frames: (C,) sync's offsets.
    People are matched without cameras at the offsets (`epicap.people.timeline`): cameras
    started at different times pair the views of different instants, which splits people and
    swaps identities. min_cameras, max_people: as `--people` (a person seen by this many
    cameras; at most this many people, the most seen first). Returns a Keypoints2D in each
    camera's own frames, like `kp` (one person: the single-person shapes), with left/right swaps
    found on the timeline exchanged back; None when nothing is to be done (one person, offsets
    under half a frame, detections that do not belong to `kp`, nobody matched).
    """
    from epicap.people.timeline import frame_shifts, match_on_timeline
    from epicap.people.uncalibrated import UncalibratedOptions

    if not _belong(kp, detections) or not frame_shifts(offsets_frames).any():
        return None
    m = match_on_timeline(detections.keypoints, detections.image_size, offsets_frames,
                          UncalibratedOptions(min_cameras=min_cameras),
                          detections.skeleton.flip_index)
    return _matched_keypoints(kp, detections, m, max_people)


def match_apart(kp, detections, max_offset_s: float, min_cameras: int = 2,
                max_people: int | None = None):
    """The people of `kp` matched again from the raw `detections` at offsets searched up to
    `max_offset_s` seconds each way without identities (`epicap.people.coarse_offsets`), for
    cameras started further apart than detect searched (2 s). Returns (Keypoints2D in each
    camera's own frames, or None when no offset was found or nothing is to be done; the
    CoarseOffsets, or None). Arguments as `rematch_people`."""
    from epicap.people.coarse_offsets import CoarseOptions, coarse_offsets
    from epicap.people.timeline import match_on_timeline
    from epicap.people.uncalibrated import UncalibratedOptions

    if not _belong(kp, detections):
        return None, None
    coarse = coarse_offsets(detections.keypoints, detections.image_size, detections.fps,
                            CoarseOptions(max_offset_s=max_offset_s))
    if not coarse.applied:
        return None, coarse
    m = match_on_timeline(detections.keypoints, detections.image_size, coarse.offsets_frames,
                          UncalibratedOptions(min_cameras=min_cameras),
                          detections.skeleton.flip_index)
    return _matched_keypoints(kp, detections, m, max_people), coarse


def _belong(kp, detections) -> bool:
    """Several people, and `detections` are the ones they were matched from."""
    return (kp.people is not None and detections is not None
            and list(detections.cameras) == list(kp.cameras) and detections.joints == kp.joints
            and detections.keypoints.shape[1] == kp.num_frames)


def _matched_keypoints(kp, detections, m, max_people):
    """A Keypoints2D like `kp` of the people of the match `m` (at most `max_people`), their
    swaps exchanged back; None when nobody was matched."""
    from epicap.people.assignment import gather
    from epicap.people.per_frame import exchanged_back
    from epicap.session import Keypoints2D

    P = m.num_people if max_people is None else min(m.num_people, int(max_people))
    if P == 0:
        return None
    flip = detections.skeleton.flip_index
    assignment = np.where(m.assignment < P, m.assignment, -1).astype(np.int32)
    people = gather(exchanged_back(detections.keypoints, m.swapped & (assignment >= 0), flip),
                    assignment, P)
    singles = [Keypoints2D(people[:, :, p], kp.cameras, kp.joint_set, kp.image_size, kp.fps,
                           kp.joints) for p in range(P)]
    return Keypoints2D.stack(singles, [f"p{p}" for p in range(P)])
