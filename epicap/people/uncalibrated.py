"""Match people across cameras that are not calibrated: tracklets that fit one epipolar geometry.

Two views of one moving person, pooled over many frames, fit one fundamental matrix F (Hartley &
Zisserman, "Multiple View Geometry", 2nd ed., ch. 9 and 11.4): every joint seen in both views at
the same frame is a correspondence of the same 3D point. Pairing person A in one camera with
person B in the other pairs different 3D points, and as they move no single F explains them.
Pairings that are right also agree with each other: their union fits one F. So, per camera pair:

1. every pair of tracklets (`epicap.people.tracklets`) seen together in enough frames gets its
   own F (`cv2.findFundamentalMat`, USAC_MAGSAC) and an inlier count;
2. the best few pairings seed a set: F is refitted on the union of the set's correspondences and
   the set regrown with every pairing whose median Sampson error under that F is small (at most
   one tracklet per camera and frame); the seed whose final set explains the most
   correspondences wins (a static bystander's pairing alone fits almost any F, but its set
   explains little);
3. accepted pairings become weighted edges between tracklets.

Over all cameras, tracklets are then clustered into people greedily, strongest edge first: two
clusters merge unless that would put two tracklets of one camera in the same frame (a
cycle-consistent, one-person-per-camera-and-frame grouping in the spirit of Dong et al.,
"Fast and Robust Multi-Person 3D Pose Estimation from Multiple Views", CVPR 2019). Pieces of a
person cut at an occlusion join through the other cameras; people who enter or leave are simply
tracklets that start or end. Person 0 is seen in the most (camera, frame) pairs.

Cameras must share one timeline (synchronized to within a few frames); they need no calibration.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from epicap.errors import check_shape
from epicap.people.assignment import gather, order_people
from epicap.people.tracklets import link_tracklets

__all__ = ["UncalibratedOptions", "UncalibratedMatch", "match_uncalibrated", "sampson_distance"]


@dataclass(frozen=True)
class UncalibratedOptions:
    """Knobs of the matching without cameras.

    min_confidence: joints below it are not used as correspondences (default 0.3).
    min_common: a pairing of tracklets needs this many joints seen in both at the same frames
        (default 40) and `min_frames` frames together (default 5).
    threshold: epipolar (Sampson) distance of an inlier, as a fraction of the image diagonal
        (default 0.006, about 13 px on 1920x1080); a pairing is accepted when its median Sampson
        distance under the set's F is below `accept` times that (default 1.5).
    seeds: how many of the best single pairings start a set per camera pair (default 3).
    max_points: correspondences drawn (evenly) for one fit (default 600).
    min_cameras: a person must be matched in this many cameras (default 2); 1 keeps every
        tracklet cluster, those seen by one camera too.
    min_person_frames: a person seen in fewer (camera, frame) pairs is dropped (default 10).
    seed: the random seed of the robust fits.
    """

    min_confidence: float = 0.3
    min_common: int = 40
    min_frames: int = 5
    threshold: float = 0.006
    accept: float = 1.5
    seeds: int = 3
    max_points: int = 600
    min_cameras: int = 2
    min_person_frames: int = 10
    seed: int = 0


@dataclass
class UncalibratedMatch:
    """People found across cameras.

    assignment: (C, T, S) int32 person of every detection slot, -1 for none.
    num_people: P. tracklets: (C, T, S) int32 tracklet ids (per camera, -1 empty).
    cameras_seen: (P,) int how many cameras see each person.
    pair_inliers: (C, C) inlier ratio of the best set of each camera pair (NaN: no set).
    edges: (camera a, tracklet i, camera b, tracklet j, support) of every accepted pairing.
    """

    assignment: np.ndarray
    num_people: int
    tracklets: np.ndarray
    cameras_seen: np.ndarray
    pair_inliers: np.ndarray
    edges: list[tuple[int, int, int, int, float]] = field(default_factory=list)


def sampson_distance(F: np.ndarray, x1: np.ndarray, x2: np.ndarray) -> np.ndarray:
    """(...,) Sampson distance in pixels of correspondences x1 <-> x2 under F (H&Z eq. 11.9).

    F: (3, 3) with x2^T F x1 = 0. x1, x2: (..., 2) pixels (NaN propagates).
    """
    F = np.asarray(F, dtype=np.float64)
    h1 = np.concatenate([x1, np.ones(x1.shape[:-1] + (1,))], -1)
    h2 = np.concatenate([x2, np.ones(x2.shape[:-1] + (1,))], -1)
    Fx1 = h1 @ F.T
    Ftx2 = h2 @ F
    num = np.sum(h2 * Fx1, -1) ** 2
    den = Fx1[..., 0] ** 2 + Fx1[..., 1] ** 2 + Ftx2[..., 0] ** 2 + Ftx2[..., 1] ** 2
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.sqrt(num / den)


def _fit(x1: np.ndarray, x2: np.ndarray, threshold_px: float, opt: UncalibratedOptions):
    """(F, inlier ratio) of MAGSAC on at most max_points correspondences; (None, 0) on failure."""
    import cv2

    if len(x1) < 8:
        return None, 0.0
    if len(x1) > opt.max_points:
        pick = np.linspace(0, len(x1) - 1, opt.max_points).astype(int)
        x1, x2 = x1[pick], x2[pick]
    cv2.setRNGSeed(opt.seed)
    try:
        F, mask = cv2.findFundamentalMat(x1.astype(np.float64), x2.astype(np.float64),
                                         cv2.USAC_MAGSAC, threshold_px, 0.999, 1000)
    except cv2.error:
        return None, 0.0
    if F is None or F.shape != (3, 3) or mask is None:
        return None, 0.0
    return F, float(mask.mean())


class _PairScorer:
    """Correspondences and Sampson errors of every tracklet pairing of cameras a and b."""

    def __init__(self, xa: np.ndarray, xb: np.ndarray, opt: UncalibratedOptions):
        # xa: (T, Ka, J, 3), xb: (T, Kb, J, 3) per-tracklet keypoints of the two cameras
        self.xa, self.xb = xa[..., :2], xb[..., :2]
        va = xa[..., 2] >= opt.min_confidence
        vb = xb[..., 2] >= opt.min_confidence
        self.common = va[:, :, None] & vb[:, None, :]  # (T, Ka, Kb, J)
        self.count = self.common.sum((0, 3))  # (Ka, Kb)
        self.frames = self.common.any(-1).sum(0)
        self.occ_a = va.any(-1)  # (T, Ka) tracklet present
        self.occ_b = vb.any(-1)

    def points(self, pairs) -> tuple[np.ndarray, np.ndarray]:
        """Pooled correspondences (N, 2), (N, 2) of the pairings (i, j)."""
        p1, p2 = [], []
        for i, j in pairs:
            t, k = np.nonzero(self.common[:, i, j])
            p1.append(self.xa[t, i, k])
            p2.append(self.xb[t, j, k])
        return np.concatenate(p1), np.concatenate(p2)

    def errors(self, F: np.ndarray) -> np.ndarray:
        """(Ka, Kb, T, J) Sampson distance of every pairing's joint under F (NaN if not common)."""
        d = sampson_distance(F, self.xa[:, :, None], self.xb[:, None, :])  # (T, Ka, Kb, J)
        d = np.where(self.common, d, np.nan)
        return d.transpose(1, 2, 0, 3)


def _grow(scorer: _PairScorer, F: np.ndarray, candidates: np.ndarray, thr: float,
          opt: UncalibratedOptions):
    """The set of pairings consistent with F: (pairs, support = inlier count, per-pair support)."""
    err = scorer.errors(F)
    Ka, Kb = scorer.count.shape
    flat = err.reshape(Ka, Kb, -1)
    with np.errstate(invalid="ignore"):  # NaN: joints not seen in both
        inliers = (flat < thr).sum(-1)
        # median below accept * thr <=> more than half of the common joints below it
        within = (flat < opt.accept * thr).sum(-1) / np.maximum(scorer.count, 1)
    within = np.where(candidates, within, 0.0)
    order = np.argsort(-within, axis=None, kind="stable")
    used_a = np.zeros((Ka, scorer.occ_a.shape[0]), dtype=bool)  # frames already paired
    used_b = np.zeros((Kb, scorer.occ_b.shape[0]), dtype=bool)
    pairs, support = [], []
    for flat_index in order:
        i, j = divmod(int(flat_index), Kb)
        if not within[i, j] > 0.5:
            break
        both = scorer.occ_a[:, i] & scorer.occ_b[:, j]
        # one partner per tracklet per frame: i's partners in b never overlap in time, and j's
        if (used_a[i] & both).any() or (used_b[j] & both).any():
            continue
        used_a[i] |= both
        used_b[j] |= both
        pairs.append((i, j))
        support.append(float(inliers[i, j]))
    return pairs, float(sum(support)), support


def _match_pair(scorer: _PairScorer, thr: float, opt: UncalibratedOptions):
    """Best consistent set of pairings of one camera pair: (pairs, supports, inlier ratio)."""
    candidates = (scorer.count >= opt.min_common) & (scorer.frames >= opt.min_frames)
    if not candidates.any():
        return [], [], np.nan
    single = []
    for i, j in zip(*np.nonzero(candidates)):
        F, ratio = _fit(*scorer.points([(i, j)]), thr, opt)
        if F is not None:
            single.append((ratio * scorer.count[i, j], ratio, (int(i), int(j)), F))
    single.sort(key=lambda s: -s[0])
    best = ([], 0.0, [], np.nan)
    for _, ratio, seed, F in single[:opt.seeds]:
        pairs = [seed]
        for _ in range(2):  # refit on the union, regrow
            F_set, ratio = _fit(*scorer.points(pairs), thr, opt)
            if F_set is None:
                break
            F = F_set
            grown, total, support = _grow(scorer, F, candidates, thr, opt)
            if not grown or set(grown) == set(pairs):
                pairs = grown or pairs
                break
            pairs = grown
        grown, total, support = _grow(scorer, F, candidates, thr, opt)
        if total > best[1]:
            best = (grown, total, support, ratio)
    return best[0], best[2], best[3]


def _cluster(edges, occupancy: list[np.ndarray], C: int, T: int):
    """Union tracklets along edges (strongest first) unless one camera would hold two at once.

    occupancy: per camera, (T, K_c) bool frames of each tracklet. Returns per camera (K_c,) int
    cluster label of each tracklet.
    """
    offsets = np.cumsum([0] + [o.shape[1] for o in occupancy])
    n = int(offsets[-1])
    parent = np.arange(n)
    occ = np.zeros((n, C, T), dtype=bool)  # each cluster's frames per camera (at its root)
    for c, o in enumerate(occupancy):
        occ[offsets[c]:offsets[c + 1], c] = o.T

    def root(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, i, b, j, _ in sorted(edges, key=lambda e: -e[4]):
        ra, rb = root(offsets[a] + i), root(offsets[b] + j)
        if ra == rb or (occ[ra] & occ[rb]).any():
            continue
        parent[rb] = ra
        occ[ra] |= occ[rb]
    labels = np.array([root(x) for x in range(n)])
    return [labels[offsets[c]:offsets[c + 1]] for c in range(C)]


def match_uncalibrated(detections: np.ndarray, image_size: np.ndarray,
                       options: UncalibratedOptions | None = None,
                       tracklets: np.ndarray | None = None) -> UncalibratedMatch:
    """People across cameras without calibration: an assignment (C, T, S) -> person or -1.

    detections: (C, T, S, J, 3) raw detections (x, y pixels, confidence; empty slots (NaN, NaN,
        0)), all cameras on one timeline. image_size: (C, 2) width, height pixels.
    options: UncalibratedOptions. tracklets: (C, T, S) tracklet ids if already linked (else linked
        here with `link_tracklets`).
    People seen by fewer than `min_cameras` cameras or in fewer than `min_person_frames`
    (camera, frame) pairs are dropped (-1). Person 0 is seen in the most (camera, frame) pairs.
    """
    opt = options or UncalibratedOptions()
    d = np.asarray(detections, dtype=np.float32)
    dims = check_shape(d, "C, T, S, J, 3", "detections")
    C, T = dims["C"], dims["T"]
    size = np.asarray(image_size, dtype=np.float64).reshape(C, 2)
    ids = link_tracklets(d) if tracklets is None else np.asarray(tracklets, dtype=np.int32)
    K = [int(ids[c].max()) + 1 for c in range(C)]
    per_cam = [gather(d[c:c + 1], ids[c:c + 1], K[c])[0] for c in range(C)]  # (T, K_c, J, 3)
    occupancy = [(p[..., 2] > 0).any(-1) for p in per_cam]
    edges = []
    pair_inliers = np.full((C, C), np.nan)
    for a in range(C):
        for b in range(a + 1, C):
            if K[a] == 0 or K[b] == 0:
                continue
            thr = opt.threshold * float(np.hypot(*np.maximum(size[a], size[b])))
            scorer = _PairScorer(per_cam[a], per_cam[b], opt)
            pairs, support, ratio = _match_pair(scorer, thr, opt)
            pair_inliers[a, b] = pair_inliers[b, a] = ratio
            edges += [(a, i, b, j, s) for (i, j), s in zip(pairs, support)]
    labels = _cluster(edges, occupancy, C, T)
    # one person index per cluster, then keep clusters seen by enough cameras
    roots = np.unique(np.concatenate(labels)) if labels else np.zeros(0, int)
    index = {r: p for p, r in enumerate(roots)}
    cams = np.zeros(len(roots), dtype=int)
    for c in range(C):
        for r in set(labels[c].tolist()):
            cams[index[r]] += 1
    keep = cams >= opt.min_cameras
    lut = np.full(len(roots), -1, dtype=np.int32)
    lut[keep] = np.arange(int(keep.sum()), dtype=np.int32)
    assignment = np.full(ids.shape, -1, dtype=np.int32)
    for c in range(C):
        if K[c] == 0:
            continue
        person = lut[[index[r] for r in labels[c]]]
        valid = ids[c] >= 0
        assignment[c][valid] = person[ids[c][valid]]
    assignment, P = order_people(assignment, int(keep.sum()))
    if P:
        from epicap.people.assignment import person_frames

        seen = person_frames(assignment, P)
        big = seen.sum((0, 1)) >= opt.min_person_frames
        if not big.all():
            lut = np.full(P + 1, -1, dtype=np.int32)
            lut[:P][big] = np.arange(int(big.sum()), dtype=np.int32)
            assignment, P = lut[assignment], int(big.sum())
    cameras_seen = (assignment[..., None] == np.arange(P)).any((1, 2)).sum(0) if P else \
        np.zeros(0, dtype=int)
    return UncalibratedMatch(assignment.astype(np.int32), P, ids, cameras_seen, pair_inliers, edges)
