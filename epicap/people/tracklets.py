"""Per-camera tracklets: every detection slot linked over time into short, safe tracks.

A tracklet is a run of detections of one camera that are, with high confidence, one person: the
frame-to-frame linking of `epicap.keypoints.tracking` (Hungarian assignment on a pose distance
relative to body size, Bewley et al., "Simple Online and Realtime Tracking", ICIP 2016), run with
a short gap, so that a tracklet ends at an occlusion; the matching across cameras
(`epicap.people.uncalibrated`) joins the pieces of one person again and re-matches single frames
epipolarly, which undoes a swap where two people cross. (`TrackingOptions.ambiguity_margin` can
cut tracklets where people cross instead; on scenes where people walk round each other it cut
them into pieces too short to match, so it is off here.)
"""
from __future__ import annotations

import numpy as np

from epicap.errors import check_shape
from epicap.keypoints.tracking import TrackingOptions, link_slots

__all__ = ["TRACKLET_OPTIONS", "link_tracklets", "tracklet_lengths"]

TRACKLET_OPTIONS = TrackingOptions(max_jump=0.35, max_gap=5)


def link_tracklets(keypoints: np.ndarray, options: TrackingOptions | None = None) -> np.ndarray:
    """(C, T, S) int32 tracklet id of every detection slot; -1 for an empty slot.

    keypoints: (C, T, S, J, 3) raw detections (`Detections2D.keypoints`): x, y pixels,
        confidence; empty slots (NaN, NaN, 0), slots in arbitrary order.
    options: linking knobs (default TRACKLET_OPTIONS).
    Ids are per camera, 0, 1, ... in order of first appearance; id k of camera 0 and id k of
    camera 1 are unrelated.

    Example:
        >>> kp = np.full((1, 3, 2, 3, 3), np.nan); kp[..., 2] = 0
        >>> kp[0, :, 0] = [[10, 10, 1], [10, 60, 1], [40, 60, 1]]
        >>> kp[0, 1:, 1] = [[300, 10, 1], [300, 60, 1], [330, 60, 1]]
        >>> link_tracklets(kp)[0].tolist()
        [[0, -1], [0, 1], [0, 1]]
    """
    opt = options or TRACKLET_OPTIONS
    kp = np.asarray(keypoints)
    dims = check_shape(kp, "C, T, S, J, 3", "detections")
    out = np.full((dims["C"], dims["T"], dims["S"]), -1, dtype=np.int32)
    for c in range(dims["C"]):
        out[c] = link_slots(kp[c], opt)
    return out


def tracklet_lengths(ids: np.ndarray) -> list[np.ndarray]:
    """Per camera, (K_c,) int: the frames each tracklet spans with a detection.

    ids: (C, T, S) int tracklet ids (-1 empty), as `link_tracklets` returns them.
    """
    out = []
    for cam in np.asarray(ids):
        K = int(cam.max()) + 1 if cam.size else 0
        frames = np.zeros((cam.shape[0], max(K, 0)), dtype=bool)
        t, s = np.nonzero(cam >= 0)
        frames[t, cam[t, s]] = True
        out.append(frames.sum(0))
    return out
