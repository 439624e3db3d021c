"""People tracked over time in 3D: per-frame clusters linked into tracklets, tracklets into people.

Input: per frame, candidate 3D people (clusters of matched views, `epicap.people.calibrated`).
1. Consecutive frames are linked by the Hungarian method (Kuhn 1955; scipy's
   `linear_sum_assignment`) on the mean 3D distance of the joints both clusters have, a link
   only below `max_step_m`. Frames whose nearest neighbours are mutual and unique (nearly all)
   skip the solver: there its answer is the mutual nearest neighbours.
2. Linked clusters form tracklets (connected components). A tracklet ends where a person is
   occluded, leaves the views or is mismatched for a frame.
3. Tracklets, in order of their start, join the person whose last position is nearest their first
   (pelvis-free: the centroid of the joints), within `rejoin_base_m + rejoin_m_per_frame * gap`
   and a gap of at most `max_gap_frames`, and whose body size (median bone lengths) agrees within
   `max_size_ratio`; otherwise they start a new person.
   A tracklet of fewer than `min_new_frames` frames that continues no one is dropped (a ghost).
4. People seen in fewer than `min_person_frames` frames are dropped (spurious matches); the rest
   are ordered by how many views they were seen in, most first (`match_calibrated` then puts the
   most prominent first: `epicap.people.assignment.order_people`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

__all__ = ["TrackOptions", "track_clusters", "step_costs"]

_BLOCK = 4_000_000


@dataclass(frozen=True)
class TrackOptions:
    """Knobs of `track_clusters` (distances in metres, gaps in frames).

    min_joints: clusters with fewer triangulated joints are not people.
    max_step_m: the most the mean joint may move between consecutive frames.
    rejoin_base_m, rejoin_m_per_frame, max_gap_frames: a tracklet may continue a person it starts
        within this distance of, after a gap of at most max_gap_frames.
    max_size_ratio: the bone lengths of a rejoined tracklet agree within this factor (median).
    min_person_frames: people seen in fewer frames are dropped.
    min_new_frames: a tracklet shorter than this starts no person (a ghost: detections of
        different people whose rays meet by chance); it may still continue one.
    """

    min_joints: int = 5
    max_step_m: float = 0.3
    rejoin_base_m: float = 0.5
    rejoin_m_per_frame: float = 0.05
    max_gap_frames: int = 150
    max_size_ratio: float = 1.12
    min_person_frames: int = 10
    min_new_frames: int = 3


def step_costs(X: np.ndarray, min_common: int = 3) -> np.ndarray:
    """(T - 1, R, R) mean distance (metres) between the joints of cluster a at frame t and cluster
    b at frame t + 1, over joints both have; inf with fewer than `min_common` of them.

    X: (T, R, J, 3) world metres, NaN where a joint (or the whole cluster) is missing.
    """
    T, R, J, _ = X.shape
    out = np.full((max(T - 1, 0), R, R), np.inf)
    step = max(1, _BLOCK // max(R * R * J * 3, 1))
    for t0 in range(0, T - 1, step):
        a, b = X[t0:t0 + step], X[t0 + 1:t0 + 1 + step]
        a = a[:len(b)]
        dist = np.linalg.norm(a[:, :, None] - b[:, None], axis=-1)            # (t, R, R, J)
        ok = np.isfinite(dist)
        n = ok.sum(-1)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[t0:t0 + len(b)] = np.where(n >= min_common, np.where(ok, dist, 0).sum(-1) / n,
                                           np.inf)
    return out


def _links(cost: np.ndarray, limit: float):
    """Links (t, a, b) between cluster a of frame t and b of frame t + 1: Hungarian per frame
    where nearest neighbours contend, mutual nearest neighbours elsewhere."""
    Tm, R, _ = cost.shape
    if Tm == 0:
        return np.zeros((3, 0), dtype=np.int64)
    c = np.where(cost < limit, cost, np.inf)
    row_best = c.argmin(2)                                                    # (Tm, R)
    col_best = c.argmin(1)
    has = np.isfinite(np.take_along_axis(c, row_best[..., None], 2)[..., 0])
    mutual = has & (np.take_along_axis(col_best, row_best, 1) == np.arange(R))
    # contention: a row with a finite option that is not mutual, or a column wanted twice
    contended = (has & ~mutual).any(1)
    t, a = np.nonzero(mutual & ~contended[:, None])
    links = [np.stack([t, a, row_best[t, a]])]
    for tf in np.nonzero(contended)[0]:
        rows = np.nonzero(np.isfinite(c[tf]).any(1))[0]
        cols = np.nonzero(np.isfinite(c[tf]).any(0))[0]
        sub = c[tf][np.ix_(rows, cols)]
        ra, cb = linear_sum_assignment(np.where(np.isfinite(sub), sub, 1e9))
        keep = np.isfinite(sub[ra, cb])
        links.append(np.stack([np.full(keep.sum(), tf), rows[ra[keep]], cols[cb[keep]]]))
    return np.concatenate(links, axis=1)


def track_clusters(X: np.ndarray, size: np.ndarray, bones: np.ndarray | None = None,
                   options: TrackOptions = TrackOptions()) -> tuple[np.ndarray, int]:
    """(person (T, R) int -1 where none, P): the person of every cluster of every frame.

    X: (T, R, J, 3) the 3D of cluster r at frame t, world metres, NaN where missing.
    size: (T, R) how many views each cluster holds (the weight of a person's frame).
    bones: (B, 2) joint indices for body size; None: no size check.
    """
    T, R_all, J, _ = X.shape
    valid_all = np.isfinite(X).all(-1).sum(-1) >= options.min_joints
    # compact: the valid clusters of each frame first, as few columns as any frame needs
    order = np.argsort(~valid_all, axis=1, kind="stable")
    R = max(int(valid_all.sum(1).max(initial=0)), 1)
    order = order[:, :R]
    valid = np.take_along_axis(valid_all, order, 1)
    X = np.where(valid[..., None, None], np.take_along_axis(X, order[..., None, None], 1), np.nan)
    size = np.take_along_axis(size, order, 1)
    t, a, b = _links(step_costs(X), options.max_step_m)
    node = np.arange(T * R).reshape(T, R)
    graph = coo_matrix((np.ones(len(t)), (node[t, a], node[t + 1, b])), shape=(T * R, T * R))
    _, comp = connected_components(graph, directed=False)
    comp = comp.reshape(T, R)
    tv, rv = np.nonzero(valid)
    ids, inverse = np.unique(comp[tv, rv], return_inverse=True)
    K = len(ids)
    start = np.full(K, T)
    end = np.full(K, -1)
    np.minimum.at(start, inverse, tv)
    np.maximum.at(end, inverse, tv)
    weight = np.zeros(K)
    np.add.at(weight, inverse, size[tv, rv])
    frames = np.bincount(inverse, minlength=K)
    ok = np.isfinite(X)
    centroid = np.where(ok, X, 0).sum(2) / np.maximum(ok.sum(2), 1)           # (T, R, 3)
    at_start = np.zeros((K, 3))
    at_end = np.zeros((K, 3))
    first, last = tv == start[inverse], tv == end[inverse]
    at_start[inverse[first]] = centroid[tv[first], rv[first]]
    at_end[inverse[last]] = centroid[tv[last], rv[last]]
    body = _body_sizes(X, bones, tv, rv, inverse, K)

    # join tracklets into people, in order of their start
    person_of = np.full(K, -1)
    p_end, p_pos, p_body, p_frames, p_weight = [], [], [], [], []
    for k in np.argsort(start, kind="stable"):
        best, best_cost = -1, np.inf
        for p in range(len(p_end)):
            gap = start[k] - p_end[p]
            if not 0 < gap <= options.max_gap_frames:
                continue
            cost = np.linalg.norm(at_start[k] - p_pos[p])
            if cost > options.rejoin_base_m + options.rejoin_m_per_frame * gap:
                continue
            if not _same_size(body[k], p_body[p], options.max_size_ratio):
                continue
            if cost < best_cost:
                best, best_cost = p, cost
        if best < 0 and frames[k] < options.min_new_frames:
            continue
        if best < 0:
            best = len(p_end)
            p_end.append(0), p_pos.append(None), p_body.append(body[k])
            p_frames.append(0), p_weight.append(0.0)
        person_of[k] = best
        p_end[best], p_pos[best] = end[k], at_end[k]
        p_frames[best] += frames[k]
        p_weight[best] += weight[k]
        if p_body[best] is None or not np.isfinite(p_body[best]).any():
            p_body[best] = body[k]
    keep = np.nonzero(np.asarray(p_frames) >= options.min_person_frames)[0]
    keep = keep[np.argsort(-np.asarray(p_weight)[keep], kind="stable")]
    renumber = np.full(len(p_end) + 1, -1)  # the last entry: tracklets of no person (-1)
    renumber[keep] = np.arange(len(keep))
    person = np.full((T, R_all), -1)
    person[tv, order[tv, rv]] = renumber[person_of[inverse]]
    return person, len(keep)


def _body_sizes(X, bones, tv, rv, inverse, K) -> list:
    """Per tracklet, the median length of each bone (B,) metres (NaN where never seen)."""
    if bones is None:
        return [None] * K
    bones = np.asarray(bones)
    lengths = np.linalg.norm(X[tv, rv][:, bones[:, 0]] - X[tv, rv][:, bones[:, 1]], axis=-1)
    order = np.argsort(inverse, kind="stable")
    splits = np.split(lengths[order], np.cumsum(np.bincount(inverse, minlength=K))[:-1])
    with np.errstate(invalid="ignore"):
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return [np.nanmedian(s, axis=0) for s in splits]


def _same_size(a, b, max_ratio: float) -> bool:
    """Whether two bone-length vectors agree within max_ratio (median ratio over common bones)."""
    if a is None or b is None:
        return True
    ok = np.isfinite(a) & np.isfinite(b) & (a > 0) & (b > 0)
    if ok.sum() < 3:
        return True
    return abs(np.log(np.median(a[ok] / b[ok]))) <= np.log(max_ratio)
