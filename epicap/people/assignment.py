"""Assignments of raw detections to people, and gathering them into per-person keypoints.

An assignment is int32 (C, T, S): for every camera, frame and detection slot of a
`Detections2D`, the index of the person it shows, or -1 when it is nobody's (unassigned, empty).
Two slots of one camera and frame may name the same person only when they are fragments of one
body (a bottom-up detector's split upper and lower body): `gather` merges them joint by joint.
"""
from __future__ import annotations

import numpy as np

from epicap.errors import InputError, check_shape

__all__ = ["gather", "check_assignment", "order_people", "person_frames", "prominence",
           "assign_small"]


def check_assignment(assignment: np.ndarray, shape: tuple[int, int, int], num_people: int,
                     where: str = "assignment") -> np.ndarray:
    """The assignment as int32 after checking it; InputError in one line naming `where`.

    assignment: (C, T, S) integers in [-1, P). shape: the expected (C, T, S). num_people: P.
    """
    a = np.asarray(assignment)
    if a.dtype.kind not in "iu":
        raise InputError(f"{where}: must hold integers, got {a.dtype}")
    check_shape(a, "C, T, S", where, dict(zip("CTS", shape)))
    if a.size and (a.min() < -1 or a.max() >= num_people):
        raise InputError(f"{where}: person indices must lie in -1..{num_people - 1}, got "
                         f"{int(a.min())}..{int(a.max())}")
    return a.astype(np.int32)


def gather(detections: np.ndarray, assignment: np.ndarray, num_people: int) -> np.ndarray:
    """(C, T, P, J, 3) float32 keypoints of every person from raw detections.

    detections: (C, T, S, J, 3) x, y pixels, confidence; empty (NaN, NaN, 0).
    assignment: (C, T, S) int person index of each slot, -1 for none. num_people: P.
    Person p of camera c at frame t is the detection assigned to p there; where several slots
    are assigned to p (fragments of one body), each joint comes from the most confident one.
    Where no slot is assigned to p: (NaN, NaN, 0).

    Example:
        >>> d = np.zeros((1, 1, 2, 1, 3)); d[0, 0, :, 0] = [[1, 2, .5], [3, 4, .25]]
        >>> gather(d, np.array([[[1, 0]]]), 2)[0, 0, :, 0].tolist()
        [[3.0, 4.0, 0.25], [1.0, 2.0, 0.5]]
    """
    d = np.asarray(detections)
    dims = check_shape(d, "C, T, S, J, 3", "detections")
    C, T, S, J = dims["C"], dims["T"], dims["S"], dims["J"]
    a = check_assignment(assignment, (C, T, S), num_people)
    P = int(num_people)
    out = np.full((C * T * P, J, 3), np.nan, dtype=np.float32)
    out[..., 2] = 0.0
    c, t, s = np.nonzero(a >= 0)
    if c.size == 0:
        return out.reshape(C, T, P, J, 3)
    key = (c * T + t) * P + a[c, t, s]
    dets = d[c, t, s].astype(np.float32)  # (N, J, 3)
    conf = np.where(np.isfinite(dets[..., :2]).all(-1), np.nan_to_num(dets[..., 2]), 0.0)
    if np.unique(key).size == key.size:  # one slot per person and frame: no merging
        seen = conf > 0
        out[key] = np.where(seen[..., None], dets, out[key])
        return out.reshape(C, T, P, J, 3)
    best = np.zeros((C * T * P, J), dtype=np.float32)
    np.maximum.at(best, key, conf)
    n, j = np.nonzero((conf >= best[key]) & (conf > 0))
    out[key[n], j] = dets[n, j]
    return out.reshape(C, T, P, J, 3)


def person_frames(assignment: np.ndarray, num_people: int) -> np.ndarray:
    """(C, T, P) bool: person p has at least one slot in camera c at frame t."""
    a = np.asarray(assignment)
    C, T, _ = a.shape
    seen = np.zeros((C, T, int(num_people)), dtype=bool)
    c, t, s = np.nonzero(a >= 0)
    seen[c, t, a[c, t, s]] = True
    return seen


def prominence(detections: np.ndarray, image_size: np.ndarray) -> np.ndarray:
    """(C, T, S) how prominent each detection is: body size x mean confidence x share of joints
    seen, 0 for an empty slot.

    detections: (C, T, S, J, 3) pixels and confidence, missing joints (NaN, NaN, 0).
    image_size: (C, 2) width, height pixels. The body size is the bounding-box diagonal of the
    seen joints as a share of the image diagonal, so cameras of different resolutions count
    alike; size x summed confidence / J is the single-camera tracker's score per frame
    (`epicap.keypoints.tracking`). Large, complete, confident people score high; a bystander
    at the back (small), a figure seen from the waist up (part of the joints, a small box) or a
    false detection (low confidence) score low.
    """
    d = np.asarray(detections, dtype=np.float64)
    conf = np.nan_to_num(d[..., 2])
    xy = np.where((conf > 0)[..., None], d[..., :2], np.nan)
    extent = np.fmax.reduce(xy, axis=3) - np.fmin.reduce(xy, axis=3)        # (C, T, S, 2)
    size = np.nan_to_num(np.hypot(extent[..., 0], extent[..., 1]))
    diagonal = np.hypot(*np.asarray(image_size, np.float64).reshape(-1, 2).T)  # (C,)
    return size / diagonal[:, None, None] * conf.sum(-1) / max(d.shape[3], 1)


def order_people(assignment: np.ndarray, num_people: int,
                 weight: np.ndarray | None = None) -> tuple[np.ndarray, int]:
    """(assignment, P) with people renumbered by how much they are seen, unseen ones dropped.

    Person 0 is the main subject, whose height sets a calibration's scale. assignment:
    (C, T, S) int. weight: (C, T, S) `prominence` of each detection: a person scores the sum
    over the (camera, frame) pairs that see them of their most prominent slot there, i.e. seen
    longest by most cameras, large and complete. On the Pose2Sim two-person trial (OpenPose) a
    still figure seen from the waist up in every frame of every camera would otherwise come
    first and set the scale, 1.5 times too large. None: the number of (camera, frame) pairs.
    Ties keep the earlier index.
    """
    a = np.asarray(assignment, dtype=np.int32)
    P = int(num_people)
    if weight is None:
        seen = person_frames(a, P).sum((0, 1)).astype(np.float64)
    else:
        C, T, _ = a.shape
        best = np.zeros((C, T, P + 1))                    # column P: unassigned slots
        np.maximum.at(best, (*np.indices(a.shape)[:2], np.where(a >= 0, a, P)),
                      np.asarray(weight, np.float64))
        seen = best[..., :P].sum((0, 1))
        seen = np.where(person_frames(a, P).any((0, 1)), np.maximum(seen, 1e-12), 0.0)
    order = [p for p in np.argsort(-seen, kind="stable") if seen[p] > 0]
    new = np.full(P + 1, -1, dtype=np.int32)  # index -1 -> last entry -> -1
    new[order] = np.arange(len(order), dtype=np.int32)
    return new[a], len(order)


def assign_small(cost: np.ndarray, limit: float) -> np.ndarray:
    """(B, R) int32 the column given to each row of B small assignment problems; -1 for none.

    cost: (B, R, P) float, rows (detections) against columns (people); NaN or inf: not allowed.
    limit: entries above it are not allowed either.
    Each problem pairs rows and columns one to one, first as many allowed pairs as possible, then
    the least total cost (what `scipy.optimize.linear_sum_assignment` gives with forbidden
    entries priced prohibitively). All problems are solved together: where every row's cheapest
    allowed column is its own (no two rows want one column) that is optimal, as each row sits at
    its lower bound; only the problems with a conflict go to the Hungarian algorithm, one by one.

    Example:
        >>> assign_small(np.array([[[1., 5.], [2., 3.]], [[1., 9.], [9., 9.]]]), 4.0).tolist()
        [[0, 1], [0, -1]]
    """
    from scipy.optimize import linear_sum_assignment

    c = np.asarray(cost, dtype=np.float64)
    B, R, P = c.shape
    out = np.full((B, R), -1, dtype=np.int32)
    if B == 0 or R == 0 or P == 0:
        return out
    ok = np.isfinite(c) & (c <= limit)
    priced = np.where(ok, c, np.inf)
    best = priced.argmin(-1)                                         # (B, R)
    has = ok.any(-1)
    taken = np.zeros((B, P + 1), dtype=np.int32)                    # column P: rows with none
    np.add.at(taken, (np.arange(B)[:, None].repeat(R, 1), np.where(has, best, P)), 1)
    clash = (taken[:, :P] > 1).any(-1)
    simple = ~clash
    out[simple] = np.where(has[simple], best[simple], -1)
    for b in np.flatnonzero(clash):
        r, p = linear_sum_assignment(np.where(ok[b], c[b], 1e6))
        good = ok[b][r, p]
        out[b, r[good]] = p[good]
    return out
