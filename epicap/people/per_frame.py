"""Matching without cameras, frame by frame: detections re-matched to people under the camera
pairs' epipolar geometry, left/right swaps found, and people split between cameras merged.

The tracklet-level matching (`epicap.people.uncalibrated`) decides who is who per tracklet; a
detector's per-frame mistakes live inside tracklets. Given the fundamental matrix of every camera
pair fitted on the matched people (F with x_b^T F x_a = 0, Hartley & Zisserman eq. 9.2), each
detection is scored against each person's views in the other cameras by the median Sampson
distance of its joints, straight and with its left and right exchanged. A detection whose
exchanged joints fit a person clearly better than its own is that person seen by a detector that
swapped left and right (MediaPipe does so for tens of frames when a person turns): it keeps its
person and is marked swapped, so that the keypoints written carry it exchanged back, at a
quarter of its confidence (`exchanged_back`).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from epicap.geometry.epipolar import sampson_error
from epicap.people.assignment import assign_small, gather, order_people
from epicap.people.tracklets import _median_last

if TYPE_CHECKING:
    from epicap.people.uncalibrated import UncalibratedOptions

__all__ = ["epipolar_cost", "merge_people", "refine_per_frame", "exchanged_back",
           "SWAPPED_CONFIDENCE"]

# a view whose left and right the detector exchanged keeps this share of its confidence once
# exchanged back: the detector that confused the sides also placed those joints worse (single-
# person Pose2Sim videos, MediaPipe, cam02's 26 such views: calibrated at full weight 2.22 deg
# from Qualisys, left out 1.68, at a quarter 1.72); triangulation still has them
SWAPPED_CONFIDENCE = 0.25
# two people that a camera saw together in at most this share of the camera-frames of the one
# seen less can still be one person (`merge_people`): a stray detection of someone else taken
MAX_SHARED = 0.01


def _options(options):
    from epicap.people.uncalibrated import UncalibratedOptions

    return UncalibratedOptions() if options is None else options


def epipolar_cost(detections: np.ndarray, people: np.ndarray, fundamentals: dict, c: int,
                  options: "UncalibratedOptions") -> np.ndarray:
    """(T, S, P) how far each detection of camera c lies from each person's views in the other
    cameras: the mean over those cameras of the median joint Sampson distance, as a multiple of
    that pair's inlier threshold (capped at 10); NaN where no other camera sees the person then.

    detections: (C, T, S, J, 3) pixels and confidence. people: (C, T, P, J, 3) the people's
    views (`gather`). fundamentals: (a, b) with a < b -> (F, inlier threshold px).
    """
    opt = options
    C = detections.shape[0]
    total = np.zeros(detections.shape[1:3] + people.shape[2:3])
    weight = np.zeros_like(total)
    mine = np.where((detections[c, ..., 2] >= opt.min_confidence)[..., None],
                    detections[c, ..., :2], np.nan)
    for b in range(C):
        key = (min(b, c), max(b, c))
        if b == c or key not in fundamentals:
            continue
        F, thr = fundamentals[key]
        theirs = np.where((people[b, ..., 2] >= opt.min_confidence)[..., None],
                          people[b, ..., :2], np.nan)
        x_c, x_b = mine[:, :, None], theirs[:, None]  # (T, S, 1, J, 2), (T, 1, P, J, 2)
        dist = sampson_error(F, x_c, x_b) if c < b else sampson_error(F, x_b, x_c)
        enough = np.isfinite(dist).sum(-1) >= 4
        med = _median_last(dist)[0] / thr
        total += np.where(enough, np.minimum(med, 10.0), 0.0)
        weight += enough
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(weight > 0, total / weight, np.nan)


def merge_people(detections: np.ndarray, assignment: np.ndarray, num_people: int,
                 fundamentals: dict, options: "UncalibratedOptions | None" = None
                 ) -> tuple[np.ndarray, int]:
    """(assignment, P) with people that are views of one person merged.

    Tracklets cut where people cross can leave one person as two clusters, each seen by some
    of the cameras at the same time. Two people p, q are one when a camera hardly ever sees
    both at one frame (in at most MAX_SHARED of the camera-frames of the one seen less) and,
    at the frames where one camera sees p and another sees q, their views fit the pair's F
    (median joint Sampson distance within `accept` thresholds) in at least 80% of `min_frames`
    or more such (frame, camera pair)s. Merged greedily, most consistent first. Where a camera
    saw both in one frame, the detection of the one that camera sees less often is left
    unassigned (a detection of someone else that person had taken: a synthetic 6-person
    scene, 8 cameras, kept one walker as two, 1,993 and 279 camera-frames, that shared 2).
    detections: (C, T, S, J, 3); assignment: (C, T, S); fundamentals as `refine_per_frame`.
    """
    opt = _options(options)
    P = int(num_people)
    if P < 2:
        return assignment, P
    people = gather(detections, assignment, P)                            # (C, T, P, J, 3)
    seen = people[..., 2] >= opt.min_confidence
    xy = np.where(seen[..., None], people[..., :2], np.nan)
    fit = np.zeros((P, P))
    tried = np.zeros((P, P))
    for (a, b), (F, thr) in fundamentals.items():
        dist = sampson_error(F, xy[a][:, :, None], xy[b][:, None])     # (T, P, P, J)
        med, n = _median_last(dist)
        enough = n >= 4
        fit += (enough & (med <= opt.accept * thr)).sum(0)
        tried += enough.sum(0)
    fit, tried = fit + fit.T, tried + tried.T
    flat = (people[..., 2] > 0).any(-1).reshape(-1, P)                    # (C T, P)
    together = flat.T.astype(np.float64) @ flat                           # camera-frames
    alone = np.diag(together)

    def apart(n_shared, n_p, n_q):
        return n_shared <= MAX_SHARED * np.minimum(n_p, n_q)

    with np.errstate(invalid="ignore", divide="ignore"):
        score = np.where((tried >= opt.min_frames)
                         & apart(together, alone[:, None], alone[None, :]), fit / tried, 0.0)
    np.fill_diagonal(score, 0.0)
    lut = np.arange(P)
    for k in np.argsort(-score, axis=None):
        p, q = np.unravel_index(k, score.shape)
        if score[p, q] < 0.8:
            break
        rp, rq = lut[p], lut[q]
        if rp == rq:
            continue
        in_p, in_q = flat[:, lut == rp].any(1), flat[:, lut == rq].any(1)
        if apart((in_p & in_q).sum(), in_p.sum(), in_q.sum()):
            lut[lut == rq] = rp
    if (lut == np.arange(P)).all():
        return assignment, P
    merged = np.where(assignment >= 0, lut[assignment], -1)
    # a camera-frame holding two people now one: the one this camera sees less gives up its
    # detection (a stray is rare in its camera; the person it joined is seen there throughout)
    c, t, k = np.nonzero(merged >= 0)
    per_camera = (assignment[..., None] == np.arange(P)).any(2).sum(1)    # (C, P) frames
    key = (c * assignment.shape[1] + t) * P + merged[c, t, k]
    order = np.lexsort((-per_camera[c, assignment[c, t, k]], key))
    twice = order[1:][key[order][1:] == key[order][:-1]]
    merged[c[twice], t[twice], k[twice]] = -1
    return order_people(merged, P)


def refine_per_frame(detections: np.ndarray, assignment: np.ndarray, num_people: int,
                     fundamentals: dict, options: "UncalibratedOptions | None" = None,
                     flip_index: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(assignment (C, T, S) int32, swapped (C, T, S) bool): every frame's detections re-matched
    epipolarly, and the detections whose left and right are exchanged.

    detections: (C, T, S, J, 3) pixels and confidence, with any swaps found earlier already
        exchanged back. assignment: (C, T, S) the current matching, P = `num_people` people.
    fundamentals: (a, b) with a < b -> (F with x_b^T F x_a = 0, inlier threshold px).
    flip_index: (J,) the joint set's left/right map; None: no swap test (swapped all False).
    Per camera and frame, detections and people are paired by a Hungarian assignment on
    `epipolar_cost` (a slot keeping its current person gets a bonus of half a threshold), a
    pairing costing more than `accept` thresholds refused. With `flip_index`, a detection's cost
    for a person is the smaller of straight and exchanged; it is swapped for the person it gets
    when exchanged costs at most `swap_ratio` times straight. A slot whose person nobody else sees
    at that frame keeps it unless another person fits it well. Cuts tracklet errors (a swap
    inside a tracklet, a fragment too short to match) down to the frames where they happen.
    """
    opt = _options(options)
    P = int(num_people)
    people = gather(detections, assignment, P)
    out = assignment.copy()
    swapped = np.zeros(assignment.shape, dtype=bool)
    occupied = (detections[..., 2] > 0).any(-1)
    for c in range(detections.shape[0]):
        cost = epipolar_cost(detections, people, fundamentals, c, opt)  # (T, S, P)
        flip = np.zeros(cost.shape, dtype=bool)
        if flip_index is not None:
            exchanged = detections.copy()
            exchanged[c] = detections[c][..., flip_index, :]
            cost_x = epipolar_cost(exchanged, people, fundamentals, c, opt)
            with np.errstate(invalid="ignore"):
                flip = cost_x <= opt.swap_ratio * cost
            cost = np.where(flip, cost_x, cost)
        current = assignment[c][..., None] == np.arange(P)  # (T, S, P)
        # a slot whose person nobody else sees at that frame (one camera's person) stays theirs
        # unless another person fits it well: its cost is taken as just acceptable
        cost = np.where(current & np.isnan(cost), opt.accept, cost)
        evidence = np.isfinite(cost).any(-1) & occupied[c]  # (T, S)
        adjusted = np.where(np.isfinite(cost) & evidence[..., None], cost - 0.5 * current, np.inf)
        # all frames at once; a slot without evidence keeps its person
        out[c] = np.where(evidence, assign_small(adjusted, opt.accept), assignment[c])
        got = np.clip(out[c], 0, max(P - 1, 0))[..., None]
        swapped[c] = (out[c] >= 0) & np.take_along_axis(flip, got, -1)[..., 0] if P else False
    return out.astype(np.int32), swapped


def exchanged_back(detections: np.ndarray, swapped: np.ndarray, flip_index: np.ndarray
                   ) -> np.ndarray:
    """Detections (C, T, S, J, 3) with left and right exchanged back where `swapped` (C, T, S),
    those views' confidence scaled by `SWAPPED_CONFIDENCE`."""
    out = np.where(swapped[..., None, None], detections[..., flip_index, :], detections)
    out = out.copy()
    out[..., 2] = np.where(swapped[..., None], out[..., 2] * SWAPPED_CONFIDENCE, out[..., 2])
    return out
