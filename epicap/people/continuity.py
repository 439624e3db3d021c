"""People's pieces that each camera's tracklets say continue as someone else: moved over.

Matching without cameras (`epicap.people.uncalibrated`) can give one person two ids over time.
A tracklet that a detector carried from one person onto another (someone walking in front of
a person and taking over their detection) binds both into one cluster; the frame-by-frame
re-matching (`epicap.people.per_frame`) then moves the detections of the person they were
wrongly bound to onto their own id wherever that person's own id is seen in other cameras, but
at the timeline's edges (cameras started apart, a person seen by a few cameras only at first)
those few cameras agree on the wrong id among themselves and nothing contradicts them. The id
then holds the first person early and the second later: an identity switch of the first.

Such an id falls apart into pieces that no camera links: its detections are grouped into runs
(each camera's tracklet cut where its id changes), runs of one id are joined where two cameras
see them at the same frames and their views fit the pair's fundamental matrix, and the joined
groups are the pieces. A piece that the tracklets of two cameras or more continue (a run of the
piece directly before or after a run of another id in the same tracklet) as another id that no
camera sees at the piece's camera-frames is that other person: it takes their id. An id in one
piece is left alone, and so is a piece no camera continues (a person hidden from every camera
for a while keeps their id across the gap).

A person hidden from every camera for longer than a tracklet bridges (a bystander behind the
people walking past) comes back as a new id. `rejoin_over_gaps` gives it the old one where, in
two cameras or more, the new id's first detection lies where the old id's last one was, within
the tracklets' own gate for that gap (relative distance at most `max_jump` times the square
root of the gap, body size within `max_size_ratio`), and no camera sees them apart. Limit:
someone leaving where someone else of the same size enters, within that gap and in two
cameras alike (a door), is taken for one person.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from epicap.geometry.epipolar import sampson_error
from epicap.people.assignment import gather, order_people
from epicap.people.tracklets import _median_last

if TYPE_CHECKING:
    from epicap.people.uncalibrated import UncalibratedOptions

__all__ = ["rejoin_pieces", "rejoin_over_gaps", "MIN_VOTES", "MAX_GAP_FRAMES"]

# a piece moves to the id that this many cameras' tracklets continue it as (one camera's
# tracklet alone may be the detector's handover itself)
MIN_VOTES = 2
# the longest gap (frames, in every camera) over which an id is continued by another
MAX_GAP_FRAMES = 45
# a piece may share at most this share of its camera-frames with the id it joins
MAX_SHARED = 0.01


def _runs(assignment: np.ndarray, tracklets: np.ndarray):
    """Detections grouped into runs of one tracklet and one id, in time order.

    assignment, tracklets: (C, T, S) person and tracklet of each slot, -1 for none.
    Returns (c, t, s, k, run): (N,) camera, frame, slot, tracklet and run of every detection that
    has a tracklet and a person, sorted by camera, tracklet and frame; and (R,) each run's person.
    """
    has = (assignment >= 0) & (tracklets >= 0)
    c, t, s = np.nonzero(has)
    k, p = tracklets[c, t, s], assignment[c, t, s]
    order = np.lexsort((s, t, k, c))
    c, t, s, k, p = c[order], t[order], s[order], k[order], p[order]
    new = np.ones(len(c), dtype=bool)
    new[1:] = (c[1:] != c[:-1]) | (k[1:] != k[:-1]) | (p[1:] != p[:-1])
    run = np.cumsum(new) - 1
    return c, t, s, k, run, p[new]


def _pieces(detections, assignment, P, run_of, run_person, fundamentals, opt) -> np.ndarray:
    """(R,) the piece of each run: runs of one person joined where two cameras see them at one
    frame and their views fit the pair's F (more frames within `accept` thresholds than not)."""
    R = len(run_person)
    people = gather(detections, assignment, P)                             # (C, T, P, J, 3)
    seen = people[..., 2] >= opt.min_confidence
    xy = np.where(seen[..., None], people[..., :2], np.nan)
    good = np.zeros(0, dtype=np.int64)
    bad = np.zeros(0, dtype=np.int64)
    for (a, b), (F, thr) in fundamentals.items():
        dist = sampson_error(F, xy[a], xy[b])                             # (T, P, J)
        med, n = _median_last(dist)
        both = (n >= 4) & (run_of[a] >= 0) & (run_of[b] >= 0)
        key = run_of[a][both].astype(np.int64) * R + run_of[b][both]
        fits = med[both] <= opt.accept * thr
        good = np.concatenate([good, key[fits]])
        bad = np.concatenate([bad, key[~fits]])
    keys, inverse = np.unique(np.concatenate([good, bad]), return_inverse=True)
    n_good = np.bincount(inverse[:len(good)], minlength=len(keys))
    n_bad = np.bincount(inverse[len(good):], minlength=len(keys))
    join = keys[n_good > n_bad]
    graph = coo_matrix((np.ones(len(join)), (join // R, join % R)), shape=(R, R))
    return connected_components(graph, directed=False)[1]


def rejoin_pieces(detections: np.ndarray, assignment: np.ndarray, num_people: int,
                  tracklets: np.ndarray, fundamentals: dict,
                  options: "UncalibratedOptions | None" = None) -> tuple[np.ndarray, int]:
    """(assignment (C, T, S) int32, P): pieces of a person's id that the cameras' tracklets
    continue as another id moved to that id (module doc).

    detections: (C, T, S, J, 3) pixels and confidence (swaps found so far exchanged back).
    assignment: (C, T, S) person of each slot or -1; num_people: P. tracklets: (C, T, S) each
    camera's tracklet ids (`link_tracklets`), -1 for none. fundamentals: (a, b) with a < b ->
    (F with x_b^T F x_a = 0, inlier threshold px), as `refine_per_frame`.
    Ids left empty are dropped and the people ordered again (`order_people`).
    """
    from epicap.people.per_frame import _options

    opt = _options(options)
    P = int(num_people)
    if P < 2:
        return assignment, P
    C, T, _ = assignment.shape
    c, t, s, k, run, run_person = _runs(assignment, tracklets)
    R = len(run_person)
    run_of = np.full((C, T, P), -1, dtype=np.int64)                       # (C, T, P) -> run
    run_of[c, t, run_person[run]] = run
    piece = _pieces(detections, assignment, P, run_of, run_person, fundamentals, opt)
    pieces_of = [np.unique(piece[run_person == p]) for p in range(P)]
    split = np.array([len(x) > 1 for x in pieces_of])
    if not split.any():
        return assignment, P
    # tracklets that continue one run as the next: (piece before, person after) and
    # (piece after, person before), each camera counted once
    step = (c[1:] == c[:-1]) & (k[1:] == k[:-1]) & (run[1:] != run[:-1])
    r0, r1 = run[:-1][step], run[1:][step]
    cams = c[1:][step]
    # distinct (piece, person, camera) triples, then cameras per (piece, person), most first
    triples = np.unique(np.stack([np.r_[piece[r0], piece[r1]],
                                  np.r_[run_person[r1], run_person[r0]],
                                  np.r_[cams, cams]], axis=1), axis=0)
    pairs, n_cams = np.unique(triples[:, :2], axis=0, return_counts=True)
    piece_person = np.zeros(piece.max() + 1, dtype=np.int64)
    piece_person[piece] = run_person
    occupied = np.zeros((P, C, T), dtype=bool)
    occupied[assignment[c, t, s], c, t] = True
    det_piece = piece[run]
    moved = False
    for i in np.argsort(-n_cams, kind="stable"):
        (u, q), p = pairs[i].tolist(), int(piece_person[pairs[i, 0]])
        if n_cams[i] < MIN_VOTES or q == p or not split[p]:
            continue
        mine = det_piece == u
        here = np.zeros((C, T), dtype=bool)
        here[c[mine], t[mine]] = True
        if (here & occupied[q]).sum() > MAX_SHARED * here.sum():
            continue
        assignment = assignment.copy() if not moved else assignment
        assignment[c[mine], t[mine], s[mine]] = q
        occupied[p] = (assignment == p).any(-1)  # p may keep another slot of those frames
        occupied[q] |= here
        piece_person[u] = q
        moved = True
    if not moved:
        return assignment, P
    return order_people(assignment, P)


def _ends(people: np.ndarray, min_joints: int):
    """Each camera's first and last frame of each person: (first, last) (C, P) int, -1 where the
    camera never sees them. people: (C, T, P, J, 3)."""
    seen = (people[..., 2] > 0).sum(-1) >= min_joints                       # (C, T, P)
    T = seen.shape[1]
    any_ = seen.any(1)
    first = np.where(any_, seen.argmax(1), -1)
    last = np.where(any_, T - 1 - seen[:, ::-1].argmax(1), -1)
    return first, last


def rejoin_over_gaps(detections: np.ndarray, assignment: np.ndarray, num_people: int,
                     max_gap_frames: int = MAX_GAP_FRAMES) -> tuple[np.ndarray, int]:
    """(assignment (C, T, S) int32, P): an id that continues another after a gap in every
    camera merged into it (module doc).

    detections: (C, T, S, J, 3) pixels and confidence; assignment: (C, T, S) person of each slot
    or -1; num_people: P. Two ids are one when no camera sees both at one frame (at most
    MAX_SHARED of the camera-frames of the one seen less), and in MIN_VOTES cameras or more
    (more than those that disagree) one's last detection before the other's first, at most
    `max_gap_frames` earlier, is within the tracklets' gate of it (`TRACKLET_OPTIONS`). Merged
    one pair at a time, most cameras first; ids left empty are dropped (`order_people`).
    """
    from epicap.people.tracklets import TRACKLET_OPTIONS, _costs

    opt = TRACKLET_OPTIONS
    P = int(num_people)
    while P >= 2:
        people = gather(detections, assignment, P)                           # (C, T, P, J, 3)
        C = people.shape[0]
        first, last = _ends(people, opt.min_joints)
        occupied = (assignment[..., None] == np.arange(P)).any(2)            # (C, T, P)
        flat = occupied.reshape(-1, P).astype(np.float64)
        shared = flat.T @ flat
        alone = np.diag(shared)
        # camera c, p ending before q starts: candidate continuations (c, p, q)
        c, p, q = np.nonzero((last[:, :, None] >= 0) & (first[:, None, :] >= 0)
                             & (last[:, :, None] < first[:, None, :])
                             & (first[:, None, :] - last[:, :, None] <= max_gap_frames))
        keep = shared[p, q] <= MAX_SHARED * np.minimum(alone[p], alone[q])
        c, p, q = c[keep], p[keep], q[keep]
        if len(c) == 0:
            break
        e, b = last[c, p], first[c, q]
        xy = np.where(people[..., 2:3] >= opt.min_confidence, people[..., :2], np.nan)
        a_xy, b_xy = xy[c, e, p], xy[c, b, q]                                 # (N, J, 2)
        with np.errstate(invalid="ignore", divide="ignore"):
            ext = [np.fmax.reduce(v, axis=-2) - np.fmin.reduce(v, axis=-2) for v in (a_xy, b_xy)]
            mid = [np.nansum(v, -2) / np.isfinite(v).sum(-2) for v in (a_xy, b_xy)]
        size = [np.nan_to_num(np.hypot(*x.T)) for x in ext]
        _, _, ok = _costs(a_xy, b_xy, size[0], size[1], mid[0], mid[1], b - e, opt)
        votes = np.zeros((P, P), dtype=int)
        against = np.zeros((P, P), dtype=int)
        np.add.at(votes, (p[ok], q[ok]), 1)
        np.add.at(against, (p[~ok], q[~ok]), 1)
        votes, against = votes + votes.T, against + against.T
        score = np.where((votes >= MIN_VOTES) & (votes > against), votes, 0)
        if not score.any():
            break
        i, j = np.unravel_index(np.argmax(score), score.shape)
        keep_id, gone = (i, j) if alone[i] >= alone[j] else (j, i)
        # a camera-frame seeing both keeps the detection of the id that stays
        clash = (assignment == gone) & occupied[..., keep_id][..., None]
        assignment = np.where(clash, -1, np.where(assignment == gone, keep_id, assignment))
        assignment, P = order_people(assignment, P)
    return assignment, P
