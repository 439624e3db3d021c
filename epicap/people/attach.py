"""Detections left over by the clustering, given to the person whose 3D their rays pass through.

A detection stays unassigned when it formed no cluster of two views (a person seen by one
camera in that frame, or too few joints in common with the other views) or when its cluster was
split from the person's main cluster. Each tracked person's 3D is known at that frame, or at the
nearest frame within `max_gap_frames` (a person only one camera sees now was seen by two a
moment ago). A leftover detection goes to the person whose joints lie nearest its rays (mean
point-to-ray distance, metres, of the straight or the left/right-exchanged detection) when that
is below the clustering threshold and the person has no detection of that camera-frame yet;
nearer detections win a contested person.
"""
from __future__ import annotations

import numpy as np

from epicap.geometry.camera import undistort_points
from epicap.session.cameras import Cameras

__all__ = ["nearest_frames", "nearest_in_time", "attach_leftovers", "swaps_over_time"]


def nearest_frames(have: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """((..., T) source, (..., T) gap): per frame, the nearest frame along the last axis where
    `have` (..., T) bool holds (earlier wins a tie), and how many frames away it is (T + 1
    where there is none)."""
    T = have.shape[-1]
    frames = np.arange(T)
    before = np.maximum.accumulate(np.where(have, frames, -1), axis=-1)
    after = np.minimum.accumulate(np.where(have, frames, T)[..., ::-1], axis=-1)[..., ::-1]
    gap_b = np.where(before >= 0, frames - before, T + 1)
    gap_a = np.where(after < T, after - frames, T + 1)
    source = np.clip(np.where(gap_b <= gap_a, before, after), 0, T - 1)
    return source, np.minimum(gap_b, gap_a)


def nearest_in_time(points3d: np.ndarray, max_gap_frames: int) -> np.ndarray:
    """(P, T, J, 3) each person's 3D with missing frames taken from the nearest frame that has
    any joint, at most `max_gap_frames` away (earlier wins a tie); NaN beyond."""
    source, gap = nearest_frames(np.isfinite(points3d).all(-1).any(-1))          # (P, T)
    out = np.take_along_axis(points3d, source[..., None, None], axis=1)
    return np.where((gap <= max_gap_frames)[..., None, None], out, np.nan)


def attach_leftovers(detections: np.ndarray, cameras: Cameras, assignment: np.ndarray,
                     points3d: np.ndarray, flip_index: np.ndarray, max_distance_m: float,
                     min_joints: int = 4, max_gap_frames: int = 5,
                     min_confidence: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """(assignment (C, T, S), exchanged (C, T, S) bool) with leftover detections attached.

    detections: (C, T, S, J, 3) pixels and confidence. assignment: (C, T, S) person or -1.
    points3d: (P, T, J, 3) the people's 3D, world metres. exchanged: attached detections that
    fit with left and right exchanged (swaps).
    """
    assignment = assignment.copy()
    C, T, S, J, _ = detections.shape
    P = points3d.shape[0]
    exchanged = np.zeros((C, T, S), dtype=bool)
    seen = (detections[..., 2] >= min_confidence) & np.isfinite(detections[..., :2]).all(-1)
    c, t, s = np.nonzero((assignment < 0) & (seen.sum(-1) >= min_joints))
    if P == 0 or len(c) == 0:
        return assignment, exchanged
    X = nearest_in_time(points3d, max_gap_frames)[:, t]                       # (P, M, J, 3)
    d = _rays(detections, cameras, c, t, s, seen)
    straight, flipped = _ray_costs(X, d, cameras.centers[c], flip_index, min_joints)
    cost = np.minimum(straight, flipped)                                      # (P, M)
    occupied = np.zeros((C, T, P + 1), dtype=bool)
    occupied[np.arange(C)[:, None, None], np.arange(T)[None, :, None], assignment] = True
    cost[occupied[c, t, :P].T] = np.inf
    best = cost.argmin(0)
    best_cost = cost[best, np.arange(len(c))]
    order = np.argsort(best_cost, kind="stable")
    order = order[best_cost[order] < max_distance_m]
    # one detection per person and camera-frame: the nearest
    key = (c[order] * T + t[order]) * P + best[order]
    _, first = np.unique(key, return_index=True)
    win = order[first]
    assignment[c[win], t[win], s[win]] = best[win]
    exchanged[c[win], t[win], s[win]] = (flipped[best[win], win]
                                         < 0.5 * straight[best[win], win])
    return assignment, exchanged


def swaps_over_time(detections: np.ndarray, cameras: Cameras, assignment: np.ndarray,
                    points3d: np.ndarray, flip_index: np.ndarray,
                    swapped: np.ndarray | None = None, min_distance_m: float = 0.05,
                    ratio: float = 0.5, min_joints: int = 4, min_confidence: float = 0.05,
                    window_frames: int = 3) -> np.ndarray:
    """(C, T, S) bool: the assigned detections whose left and right are exchanged, judged
    against the person's 3D of the neighbouring frames (the median of t - window_frames ..
    t + window_frames without t itself, so that a swap lasting two frames is outvoted).

    A detection is swapped when its left/right-exchanged rays pass `ratio` times nearer that 3D
    than its own and its own lie farther than `min_distance_m` (a swap a two-view frame cannot
    show); it is straight when the converse holds. Where neither holds (the neighbours unknown,
    a person standing still facing the camera), the verdict so far stands.

    detections: (C, T, S, J, 3); assignment: (C, T, S); points3d: (P, T, J, 3) world metres.
    swapped: (C, T, S) bool, the verdicts so far (default: none swapped), for instance of the
    leave-one-out test within each frame. A clear verdict over time overrides it: in a frame
    where two of five views were swapped, the leave-one-out test may exchange the other three
    instead, mirroring the person's whole 3D in that one frame, which its neighbours show.
    """
    C, T, S, J, _ = detections.shape
    P = points3d.shape[0]
    out = np.zeros((C, T, S), dtype=bool) if swapped is None else swapped.copy()
    out &= assignment >= 0
    seen = (detections[..., 2] >= min_confidence) & np.isfinite(detections[..., :2]).all(-1)
    c, t, s = np.nonzero(assignment >= 0)
    if P == 0 or len(c) == 0:
        return out
    ref = _around(points3d, window_frames)
    p = assignment[c, t, s]
    X = ref[p, t][None]                                                       # (1, M, J, 3)
    d = _rays(detections, cameras, c, t, s, seen)
    straight, flipped = (x[0] for x in _ray_costs(X, d, cameras.centers[c], flip_index,
                                                  min_joints))
    exchange = _clearly_nearer(flipped, straight, min_distance_m, ratio)
    keep = _clearly_nearer(straight, flipped, min_distance_m, ratio)
    out[c, t, s] = np.where(exchange, True, np.where(keep, False, out[c, t, s]))
    return out


def _clearly_nearer(a: np.ndarray, b: np.ndarray, min_distance_m: float, ratio: float
                    ) -> np.ndarray:
    """(M,) bool: mean ray distances a (M,) clearly nearer than b (M,), metres: b beyond
    min_distance_m and a under ratio x b. Where b is inf (under min_joints of the view's joints
    have a point: a side view of a person whose 3D has only the other side), a must fit by
    itself, under min_distance_m: a poor fit is no evidence."""
    return (b > min_distance_m) & (a < ratio * b) & (np.isfinite(b) | (a < min_distance_m))


def _around(points3d: np.ndarray, k: int) -> np.ndarray:
    """(P, T, J, 3) per frame, the median of the person's 3D at the k frames before and the k
    after it (not the frame itself), each joint and coordinate over the frames that have it;
    NaN where none does. Symmetric, so that steady motion does not bias it."""
    P, T = points3d.shape[:2]
    pad = np.full((P, k) + points3d.shape[2:], np.nan)
    around = np.concatenate([pad, points3d, pad], axis=1)
    shifted = np.sort(np.stack([around[:, k + o:k + o + T] for o in range(-k, k + 1)
                                if o != 0]), axis=0)                            # NaN last
    n = np.isfinite(shifted).sum(0)
    lo = np.take_along_axis(shifted, np.maximum(n - 1, 0)[None] // 2, axis=0)[0]
    hi = np.take_along_axis(shifted, (n // 2)[None], axis=0)[0]
    return np.where(n > 0, (lo + hi) / 2, np.nan)  # np.nanmedian, several times faster


def _rays(detections, cameras, c, t, s, seen) -> np.ndarray:
    """(M, J, 3) unit world rays of the joints of detections (c, t, s); NaN where unseen."""
    J = detections.shape[3]
    d = np.full((len(c), J, 3), np.nan)
    for cam in np.unique(c):
        k = np.nonzero(c == cam)[0]
        xy = undistort_points(detections[cam, t[k], s[k], :, :2].reshape(1, -1, 2),
                              cameras.K[cam:cam + 1], cameras.dist[cam:cam + 1])
        ray = np.concatenate([xy.reshape(len(k), J, 2), np.ones((len(k), J, 1))], -1)
        d[k] = ray @ cameras.R[cam]                                           # R^T @ ray
    d /= np.linalg.norm(d, axis=-1, keepdims=True)
    d[~seen[c, t, s]] = np.nan
    return d


def _ray_costs(X, d, origins, flip_index, min_joints):
    """Mean point-to-ray distance (P, M) of points X (P, M, J, 3) to rays d (M, J, 3) from
    origins (M, 3), straight and with the rays' left and right exchanged; inf below min_joints."""
    v = X - origins[None, :, None, :]
    costs = []
    for rays in (d, d[:, flip_index]):
        dist = np.linalg.norm(np.cross(v, rays[None]), axis=-1)               # (P, M, J)
        ok = np.isfinite(dist)
        n = ok.sum(-1)
        with np.errstate(invalid="ignore", divide="ignore"):
            costs.append(np.where(n >= min_joints, np.where(ok, dist, 0).sum(-1) / n, np.inf))
    return costs
