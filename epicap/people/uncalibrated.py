"""Match people across cameras that are not calibrated: tracklets that fit one epipolar geometry.

Two views of one moving person, pooled over many frames, fit one fundamental matrix F (Hartley &
Zisserman, "Multiple View Geometry", 2nd ed., ch. 9 and 11.4): every joint seen in both views at
the same frame is a correspondence of the same 3D point. Pairing person A in one camera with
person B in the other pairs different 3D points, and as they move no single F explains them.
Pairings that are right also agree with each other: their union fits one F. So, per camera pair:

1. every pair of tracklets (`epicap.people.tracklets`) seen together in enough frames gets its
   own F and an inlier ratio, all pairings at once (a RANSAC of normalized 8-point fits, H&Z
   algorithm 11.1, batched over pairings and hypotheses);
2. the best few pairings seed a set: F is refitted (`cv2.findFundamentalMat`, USAC_MAGSAC) on
   the union of the set's correspondences and the set regrown with every pairing whose median
   Sampson error under that F is small (at most one tracklet per camera and frame); the seed whose final set explains the most
   correspondences wins (a static bystander's pairing alone fits almost any F, but its set
   explains little);
3. accepted pairings become weighted edges between tracklets.

Over all cameras, tracklets are then clustered into people greedily, strongest edge first: two
clusters merge unless that would put two tracklets of one camera in the same frame (a
cycle-consistent, one-person-per-camera-and-frame grouping in the spirit of Dong et al.,
"Fast and Robust Multi-Person 3D Pose Estimation from Multiple Views", CVPR 2019). Pieces of a
person cut at an occlusion join through the other cameras; people who enter or leave are simply
tracklets that start or end. Then, twice: every camera pair's F is refitted on all matched
people, people who never share a camera-frame but whose views fit the cameras' F are merged
(`merge_people`: one person clustered as two, each seen by some cameras), and every detection
is re-matched frame by frame (`epicap.people.per_frame`; all frames of a camera in one batched
assignment), straight or with its left and right exchanged (a detector's swap, found and undone
here, before any calibration, when the joint set's left/right map is given); the last
re-matching is followed by one more merge (it can leave a person as two ids that take turns,
frame by frame, in each camera). Last, an id's early piece that the tracklets of two cameras
continue as another id takes that id, and an id that starts where another ended, after the
person was hidden from every camera for a while, is merged into it
(`epicap.people.continuity`). Person 0, the main
subject, is the most prominent: seen longest by most cameras, large and complete
(`assignment.order_people`).

Cameras must share one timeline (synchronized to within a few frames); they need no calibration.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from epicap.errors import check_shape
from epicap.geometry.epipolar import sampson_error
from epicap.people.assignment import gather, order_people, prominence
from epicap.people.continuity import rejoin_over_gaps, rejoin_pieces
from epicap.people.per_frame import merge_people, refine_per_frame
from epicap.people.tracklets import link_tracklets

__all__ = ["UncalibratedOptions", "UncalibratedMatch", "match_uncalibrated", "refine_per_frame",
           "merge_people"]


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
    max_single_fits: only the pairings with the most correspondences are fitted alone to pick
        the seeds (default 12); every pairing is still scored against each set's F.
    max_points: correspondences drawn (evenly) for one fit (default 600).
    single_points, single_iterations: the fit of one pairing alone (to rank the seeds) draws at
        most this many correspondences and MAGSAC iterations (defaults 200, 100): a right pairing
        fits in a few iterations, a wrong one should not cost the full budget.
    max_score_points: correspondences of one pairing kept (evenly) to score it against a set's
        F, its counts scaled up to all of them (default 1000).
    min_cameras: a person must be matched in this many cameras (default 2); 1 keeps every
        tracklet cluster, those seen by one camera too.
    min_person_frames: a person seen in fewer (camera, frame) pairs is dropped (default 10).
    refine: passes that reassign every detection frame by frame to the person whose views in
        the other cameras fit it best under the camera pairs' F (`refine_per_frame`; default 2,
        0 for none).
    swap_ratio: in the frame-by-frame re-matching, a detection is taken as swapped (left and
        right exchanged) when its exchanged joints cost at most this share of its own
        (default 0.5; needs the joint set's left/right map).
    seed: the random seed of the robust fits.
    """

    min_confidence: float = 0.3
    min_common: int = 40
    min_frames: int = 5
    threshold: float = 0.006
    accept: float = 1.5
    seeds: int = 3
    max_single_fits: int = 12
    max_points: int = 600
    max_score_points: int = 1000
    single_points: int = 120
    single_hypotheses: int = 32
    min_cameras: int = 2
    min_person_frames: int = 10
    refine: int = 2
    swap_ratio: float = 0.5
    seed: int = 0


@dataclass
class UncalibratedMatch:
    """People found across cameras.

    assignment: (C, T, S) int32 person of every detection slot, -1 for none.
    num_people: P. tracklets: (C, T, S) int32 tracklet ids (per camera, -1 empty).
    cameras_seen: (P,) int how many cameras see each person.
    pair_inliers: (C, C) inlier ratio of the best set of each camera pair (NaN: no set).
    edges: (camera a, tracklet i, camera b, tracklet j, support) of every accepted pairing.
    swapped: (C, T, S) bool assigned detections found with their left and right exchanged
        (all False unless `match_uncalibrated` was given the joint set's left/right map).
    """

    assignment: np.ndarray
    num_people: int
    tracklets: np.ndarray
    cameras_seen: np.ndarray
    pair_inliers: np.ndarray
    edges: list[tuple[int, int, int, int, float]] = field(default_factory=list)
    swapped: np.ndarray | None = None

    def __post_init__(self):
        if self.swapped is None:
            self.swapped = np.zeros(self.assignment.shape, dtype=bool)


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
    """Correspondences of the tracklet pairings of cameras a and b that are seen together enough,
    pooled in one flat list (pairing m owns the slice starts[m]:starts[m + 1]).

    Built from the detection slots in one pass (no loop over pairings). A pairing with more than
    `max_score_points` correspondences keeps that many, evenly spread in time; `count` is its
    full number and `scale` what one kept correspondence stands for."""

    def __init__(self, da: np.ndarray, db: np.ndarray, ia: np.ndarray, ib: np.ndarray,
                 Ka: int, Kb: int, opt: UncalibratedOptions):
        # da, db: (T, S, J, 3) detections of the two cameras; ia, ib: (T, S) their tracklet ids
        va = (da[..., 2] >= opt.min_confidence) & (ia >= 0)[..., None]
        vb = (db[..., 2] >= opt.min_confidence) & (ib >= 0)[..., None]
        self.occ_a, self.occ_b = _occupancy(va, ia, Ka), _occupancy(vb, ib, Kb)  # (T, K)
        both = va[:, :, None] & vb[:, None]                               # (T, Sa, Sb, J)
        t, sa, sb = np.nonzero(both.any(-1))
        key = ia[t, sa].astype(np.int64) * Kb + ib[t, sb]
        frames = np.bincount(key, minlength=Ka * Kb)  # one (tracklet, tracklet) pair per frame
        t, sa, sb, j = np.nonzero(both)
        key = ia[t, sa].astype(np.int64) * Kb + ib[t, sb]
        count = np.bincount(key, minlength=Ka * Kb)
        good = np.flatnonzero((count >= opt.min_common) & (frames >= opt.min_frames))
        self.pairs = np.stack(np.divmod(good, Kb), 1) if good.size else np.zeros((0, 2), int)
        self.count = count[good].astype(np.int64)
        rank = np.full(Ka * Kb, -1, dtype=np.int64)
        rank[good] = np.arange(good.size)
        pid = rank[key]
        order = np.argsort(pid, kind="stable")  # by pairing, in time order within each
        order = order[pid[order] >= 0]
        pid = pid[order]
        starts = np.r_[0, np.cumsum(self.count)]
        r = np.arange(len(order)) - starts[pid]  # rank within the pairing
        n, cap = self.count[pid], opt.max_score_points
        keep = (r * cap) % n < cap  # at most `cap` per pairing, evenly spread
        order, pid = order[keep], pid[keep]
        kept = np.bincount(pid, minlength=good.size).astype(np.int64)
        self.scale = self.count / np.maximum(kept, 1)
        self.starts = np.r_[0, np.cumsum(kept)].astype(np.int64)
        self.pid = pid
        t, sa, sb, j = t[order], sa[order], sb[order], j[order]
        self.p1 = da[t, sa, j, :2].astype(np.float64)
        self.p2 = db[t, sb, j, :2].astype(np.float64)
        self.kept = kept

    def points(self, ms) -> tuple[np.ndarray, np.ndarray]:
        """Pooled correspondences (N, 2), (N, 2) of the pairings with indices `ms`."""
        idx = np.concatenate([np.arange(self.starts[m], self.starts[m + 1]) for m in ms])
        return self.p1[idx], self.p2[idx]

    def below(self, F: np.ndarray, *thresholds_px: float) -> list[np.ndarray]:
        """Per threshold, (M,) per pairing how many of its correspondences lie within it of F."""
        d = sampson_error(F, self.p1, self.p2)
        return [np.bincount(self.pid, weights=d < thr, minlength=len(self.count)) * self.scale
                for thr in thresholds_px]


def _occupancy(seen: np.ndarray, ids: np.ndarray, K: int) -> np.ndarray:
    """(T, K) bool: tracklet k has a slot with a seen joint at frame t. seen: (T, S, J) bool;
    ids: (T, S) tracklet ids, -1 none."""
    out = np.zeros((ids.shape[0], K), dtype=bool)
    t, s = np.nonzero((ids >= 0) & seen.any(-1))
    out[t, ids[t, s]] = True
    return out


def _grow(scorer: _PairScorer, F: np.ndarray, thr: float, opt: UncalibratedOptions):
    """The set of pairings consistent with F: (pairing indices, total support, supports)."""
    inliers, accepted = scorer.below(F, thr, opt.accept * thr)
    # median below accept * thr <=> more than half of the common joints below it
    within = accepted / np.maximum(scorer.count, 1)  # both scaled to all correspondences
    used_a = np.zeros(scorer.occ_a.T.shape, dtype=bool)  # (Ka, T) frames already paired
    used_b = np.zeros(scorer.occ_b.T.shape, dtype=bool)
    chosen, support = [], []
    for m in np.argsort(-within, kind="stable"):
        if not within[m] > 0.5:
            break
        i, j = scorer.pairs[m]
        both = scorer.occ_a[:, i] & scorer.occ_b[:, j]
        # one partner per tracklet per frame: i's partners in b never overlap in time, and j's
        if (used_a[i] & both).any() or (used_b[j] & both).any():
            continue
        used_a[i] |= both
        used_b[j] |= both
        chosen.append(int(m))
        support.append(float(inliers[m]))
    return chosen, float(sum(support)), support


def _rank_fits(scorer: _PairScorer, ms: np.ndarray, thr: float, opt: UncalibratedOptions):
    """((M,) inlier ratio, (M, 3, 3) F) of each pairing in `ms` alone, all at once: a RANSAC of
    `single_hypotheses` normalized 8-point fits (H&Z 11.2, algorithm 11.1) on at most
    `single_points` correspondences per pairing, batched over pairings and hypotheses. Only
    ranks the pairings (the chosen seeds are refitted with MAGSAC); ratio 0: too few points."""
    M, n, H = len(ms), opt.single_points, opt.single_hypotheses
    have = np.minimum(scorer.kept[ms], n)                                  # (M,)
    ratio, F_out = np.zeros(M), np.zeros((M, 3, 3))
    if M == 0 or have.max(initial=0) < 8:
        return ratio, F_out
    # (M, n) evenly spread indices into the pooled list; the padding repeats the last one
    frac = np.minimum(np.arange(n)[None] / np.maximum(have[:, None] - 1, 1), 1.0)
    idx = scorer.starts[ms][:, None] + np.round(
        frac * (scorer.kept[ms][:, None] - 1)).astype(np.int64)
    x1, x2 = scorer.p1[idx], scorer.p2[idx]                                # (M, n, 2)
    real = np.arange(n)[None] < have[:, None]
    T1, T2 = _normalizer(x1, real), _normalizer(x2, real)                  # (M, 3, 3)
    X1 = np.concatenate([x1, np.ones((M, n, 1))], -1)                     # (M, n, 3)
    X2 = np.concatenate([x2, np.ones((M, n, 1))], -1)
    h1, h2 = X1 @ T1.transpose(0, 2, 1), X2 @ T2.transpose(0, 2, 1)
    rng = np.random.default_rng(opt.seed)
    pick = (rng.random((M, H, 8)) * have[:, None, None]).astype(np.int64)  # (M, H, 8)
    m = np.arange(M)[:, None, None]
    a, b = h1[m, pick], h2[m, pick]                                        # (M, H, 8, 3)
    A = (b[..., :, None] * a[..., None, :]).reshape(M, H, 8, 9)            # rows of x2^T F x1
    _, v = np.linalg.eigh(A.transpose(0, 1, 3, 2) @ A)
    Fn = v[..., 0].reshape(M, H, 3, 3)                                     # least eigenvalue
    F = T2.transpose(0, 2, 1)[:, None] @ Fn @ T1[:, None]                  # (M, H, 3, 3)
    l2 = F @ X1.transpose(0, 2, 1)[:, None]                                # (M, H, 3, n): F x1
    l1 = F.transpose(0, 1, 3, 2) @ X2.transpose(0, 2, 1)[:, None]          # F^T x2
    num = (l2 * X2.transpose(0, 2, 1)[:, None]).sum(-2) ** 2
    den = (l2[:, :, :2] ** 2).sum(-2) + (l1[:, :, :2] ** 2).sum(-2)
    with np.errstate(invalid="ignore", divide="ignore"):
        inl = ((num / den < thr ** 2) & real[:, None]).sum(-1)            # (M, H)
    best = inl.argmax(-1)
    ok = have >= 8
    ratio = np.where(ok, inl[np.arange(M), best] / np.maximum(have, 1), 0.0)
    return ratio, F[np.arange(M), best]


def _normalizer(x: np.ndarray, real: np.ndarray) -> np.ndarray:
    """(M, 3, 3) Hartley normalization of each set of points x (M, n, 2) over `real` (M, n):
    centroid to the origin, mean distance sqrt(2)."""
    w = real[..., None].astype(np.float64)
    mean = (x * w).sum(1) / np.maximum(w.sum(1), 1)                        # (M, 2)
    dist = (np.linalg.norm(x - mean[:, None], axis=-1) * real).sum(1) / np.maximum(real.sum(1), 1)
    k = np.sqrt(2) / np.maximum(dist, 1e-9)
    T = np.zeros((len(x), 3, 3))
    T[:, 0, 0] = T[:, 1, 1] = k
    T[:, :2, 2] = -k[:, None] * mean
    T[:, 2, 2] = 1
    return T


def _match_pair(scorer: _PairScorer, thr: float, opt: UncalibratedOptions):
    """Best consistent set of pairings of one camera pair: ((i, j) pairs, supports, inlier
    ratio of the set's F, F or None)."""
    if len(scorer.count) == 0:
        return [], [], np.nan, None
    top = np.argsort(-scorer.count, kind="stable")[:opt.max_single_fits]
    ratio, F_top = _rank_fits(scorer, top, thr, opt)
    single = sorted(((ratio[n] * scorer.count[m], int(m), F_top[n]) for n, m in enumerate(top)
                     if ratio[n] > 0), key=lambda s: -s[0])
    best = ([], 0.0, [], np.nan, None)
    single_F = {m: F for _, m, F in single}
    for start in _seed_sets(scorer, [m for _, m, _ in single], opt.seeds):
        chosen, ratio, F = list(start), np.nan, single_F[start[0]]
        result = None  # _grow under the current F, once computed
        for _ in range(2):  # refit on the union, regrow
            F_set, ratio = _fit(*scorer.points(chosen), thr, opt)
            if F_set is None:
                break
            F = F_set
            result = _grow(scorer, F, thr, opt)
            if not result[0] or set(result[0]) == set(chosen):
                break
            chosen, result = result[0], None
        grown, total, support = result or _grow(scorer, F, thr, opt)
        if total > best[1]:
            best = (grown, total, support, ratio, F)
    pairs = [tuple(int(v) for v in scorer.pairs[m]) for m in best[0]]
    return pairs, best[2], best[3], best[4]


def _seed_sets(scorer: _PairScorer, ranked: list[int], seeds: int) -> list[tuple[int, ...]]:
    """The sets of pairings that start a search: each of the `seeds` best single pairings, then
    each of them with one of the next best pairings of two other tracklets seen at the same time.

    One person moving for a second or two hardly constrains F (a walk on the spot is nearly a
    degenerate, planar configuration): the F of their pairing alone may reject the right
    pairing of a second person, and the set stops at one person. Two people in different places
    fitted together pin F down; a wrong double pairing fits no single F and explains little.
    """
    starts: list[tuple[int, ...]] = [(m,) for m in ranked[:seeds]]
    for m in ranked[:seeds]:
        i, j = scorer.pairs[m]
        both = scorer.occ_a[:, i] & scorer.occ_b[:, j]
        for n in ranked[:seeds]:
            k, l = scorer.pairs[n]
            if k == i or l == j or not (both & scorer.occ_a[:, k] & scorer.occ_b[:, l]).any():
                continue
            if (n, m) not in starts:
                starts.append((m, n))
    return starts


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


def _refit(d: np.ndarray, assignment: np.ndarray, P: int, size: np.ndarray, previous: dict,
           opt: UncalibratedOptions) -> dict:
    """F of every camera pair refitted on all matched people at once (better conditioned than
    the pairings of one set); a pair keeps its previous F when the refit fails."""
    people = gather(d, assignment, P)  # (C, T, P, J, 3)
    seen = people[..., 2] >= opt.min_confidence
    out = dict(previous)
    C = d.shape[0]
    for a in range(C):
        for b in range(a + 1, C):
            both = seen[a] & seen[b]
            if both.sum() < opt.min_common:
                continue
            thr = opt.threshold * float(np.hypot(*np.maximum(size[a], size[b])))
            F, _ = _fit(people[a][both][:, :2], people[b][both][:, :2], thr, opt)
            if F is not None:
                out[a, b] = (F, thr)
    return out


def match_uncalibrated(detections: np.ndarray, image_size: np.ndarray,
                       options: UncalibratedOptions | None = None,
                       tracklets: np.ndarray | None = None,
                       flip_index: np.ndarray | None = None) -> UncalibratedMatch:
    """People across cameras without calibration: an assignment (C, T, S) -> person or -1.

    detections: (C, T, S, J, 3) raw detections (x, y pixels, confidence; empty slots (NaN, NaN,
        0)), all cameras on one timeline. image_size: (C, 2) width, height pixels.
    options: UncalibratedOptions. tracklets: (C, T, S) tracklet ids if already linked (else linked
        here with `link_tracklets`). flip_index: (J,) the joint set's left/right map: with it,
        detections whose left and right are exchanged are found (`swapped`; exchange them back
        with `epicap.people.unswap` before `gather`); None: no swap test.
    People seen by fewer than `min_cameras` cameras or in fewer than `min_person_frames`
    (camera, frame) pairs are dropped (-1). Person 0 is the most prominent (`order_people`).
    """
    opt = options or UncalibratedOptions()
    d = np.asarray(detections, dtype=np.float32)
    dims = check_shape(d, "C, T, S, J, 3", "detections")
    C, T = dims["C"], dims["T"]
    size = np.asarray(image_size, dtype=np.float64).reshape(C, 2)
    ids = link_tracklets(d) if tracklets is None else np.asarray(tracklets, dtype=np.int32)
    K = [int(ids[c].max()) + 1 for c in range(C)]
    occupancy = [_occupancy(d[c, ..., 2] > 0, ids[c], K[c]) for c in range(C)]  # (T, K_c)
    edges = []
    pair_inliers = np.full((C, C), np.nan)
    fundamentals: dict[tuple[int, int], tuple[np.ndarray, float]] = {}
    for a in range(C):
        for b in range(a + 1, C):
            if K[a] == 0 or K[b] == 0:
                continue
            thr = opt.threshold * float(np.hypot(*np.maximum(size[a], size[b])))
            scorer = _PairScorer(d[a], d[b], ids[a], ids[b], K[a], K[b], opt)
            pairs, support, ratio, F = _match_pair(scorer, thr, opt)
            pair_inliers[a, b] = pair_inliers[b, a] = ratio
            if F is not None and pairs:
                fundamentals[a, b] = (F, thr)
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
    weight = prominence(d, size)                 # person 0: the most prominent (main subject)
    assignment, P = order_people(assignment, int(keep.sum()), weight)
    swapped = np.zeros(assignment.shape, dtype=bool)
    work = d  # the detections with the swaps found so far exchanged back
    for _ in range(opt.refine):
        if P:
            fundamentals = _refit(work, assignment, P, size, fundamentals, opt)
            assignment, P = merge_people(work, assignment, P, fundamentals, opt)
            assignment, found = refine_per_frame(work, assignment, P, fundamentals, opt,
                                                 flip_index)
            if found.any():
                work = np.where(found[..., None, None], work[..., flip_index, :], work)
                swapped ^= found
            assignment, P = order_people(assignment, P, weight)
    if P and opt.refine:
        # the last re-matching can leave one person as two that never share a camera-frame
        # (each holding the person in some cameras, frame by frame): merged as above, under
        # the pairs' F of that last round
        assignment, P = merge_people(work, assignment, P, fundamentals, opt)
        # an id holding one person early and another later (a tracklet carried from one to
        # the other): the early piece joins the id its tracklets continue as
        assignment, P = rejoin_pieces(work, assignment, P, ids, fundamentals, opt)
        # a person hidden from every camera for a while, back as a new id: the old one
        assignment, P = rejoin_over_gaps(work, assignment, P)
        assignment, P = order_people(assignment, P, weight)
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
    return UncalibratedMatch(assignment.astype(np.int32), P, ids, cameras_seen, pair_inliers, edges,
                             swapped & (assignment >= 0))
