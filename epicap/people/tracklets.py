"""Per-camera tracklets: every detection slot linked over time into short, safe tracks.

A tracklet is a run of detections of one camera that are, with high confidence, one person: the
frame-to-frame linking of `epicap.keypoints.tracking` (Hungarian assignment on a pose distance
relative to body size, Bewley et al., "Simple Online and Realtime Tracking", ICIP 2016), run with
a short gap, so that a tracklet ends at an occlusion; the matching across cameras
(`epicap.people.uncalibrated`) joins the pieces of one person again and re-matches single frames
epipolarly, which undoes a swap where two people cross. Tracklets end where a link has a close
rival (`TrackingOptions.ambiguity_margin` 0.01 of the body size: only near-ties, so people who
walk round each other keep long pieces); a tracklet that swapped two people at a crossing
blocked the clustering of both (measured: 19 identity switches on a 6-person scene, 0 with it).
"""
from __future__ import annotations

import numpy as np

from epicap.errors import check_shape
from epicap.keypoints.tracking import TrackingOptions
from epicap.people.assignment import assign_small

__all__ = ["TRACKLET_OPTIONS", "link_tracklets", "tracklet_lengths"]

TRACKLET_OPTIONS = TrackingOptions(max_jump=0.35, max_gap=5, ambiguity_margin=0.01)


def link_tracklets(keypoints: np.ndarray, options: TrackingOptions | None = None) -> np.ndarray:
    """(C, T, S) int32 tracklet id of every detection slot; -1 for an empty slot.

    keypoints: (C, T, S, J, 3) raw detections (`Detections2D.keypoints`): x, y pixels,
        confidence; empty slots (NaN, NaN, 0), slots in arbitrary order.
    options: linking knobs (default TRACKLET_OPTIONS).
    Ids are per camera, 0, 1, ... in order of first appearance; id k of camera 0 and id k of
    camera 1 are unrelated.

    The linking of `epicap.keypoints.tracking.link_slots` (same gates, costs and fragment
    merging, except that the size gate compares the extents of the joints both detections
    show, where they share three or more), batched over every camera and frame: the
    assignments between consecutive frames are solved all at once (`assign_small`), then the
    ends of tracks are joined to starts up to `max_gap` frames later, shortest gaps first, and
    chains are labelled by pointer jumping. With
    `ambiguity_margin` > 0 a link with a rival (another detection or track within twice its
    distance plus the margin; a detection sharing at most one joint with the chosen one is a
    fragment of it, no rival) is not made: the track ends there.

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
    C, T, S = dims["C"], dims["T"], dims["S"]
    if C * T * S == 0 or dims["J"] == 0:
        return np.full((C, T, S), -1, dtype=np.int32)
    conf = kp[..., 2].astype(np.float64)
    xy = kp[..., :2].astype(np.float64)
    seen = np.isfinite(xy).all(-1) & (conf >= opt.min_confidence)        # (C, T, S, J)
    xy = np.where(seen[..., None], xy, np.nan)
    valid = seen.sum(-1) >= opt.min_joints                                # (C, T, S)
    with np.errstate(invalid="ignore"):
        extent = np.fmax.reduce(xy, axis=-2) - np.fmin.reduce(xy, axis=-2)
    size = np.nan_to_num(np.hypot(extent[..., 0], extent[..., 1]))        # (C, T, S)
    with np.errstate(invalid="ignore", divide="ignore"):
        centre = np.nansum(xy, -2) / seen.sum(-1)[..., None]             # (C, T, S, 2)
    pred = np.full((C, T, S), -1, dtype=np.int64)  # flat index (t * S + s) of the predecessor
    ends = valid.copy()    # a track may continue from here
    starts = valid.copy()  # a track may begin here
    for gap in range(1, opt.max_gap + 2):
        if gap >= T:
            break
        # candidate links (c, t, i) -> (c, t + gap, k), priced in one flat batch
        c, t, i, k = np.nonzero(ends[:, :-gap, :, None] & starts[:, gap:, None, :])
        if c.size == 0:
            continue
        rel, cost, ok = _costs(xy[c, t, i], xy[c, t + gap, k], size[c, t, i],
                               size[c, t + gap, k], centre[c, t, i], centre[c, t + gap, k],
                               gap, opt)
        problem, first = np.unique(c * T + t, return_inverse=True)        # one per (c, t)
        priced = np.full((len(problem), S, S), np.inf)
        priced[first, i, k] = np.where(ok, cost, np.inf)
        choice = assign_small(priced, np.inf)                             # (B, S) next slot
        pc, pt = np.divmod(problem, T)
        bb, ii = np.nonzero(choice >= 0)
        kk = choice[bb, ii]
        if opt.ambiguity_margin > 0:  # a rival within reach: end the track rather than guess
            rel_b = np.full((len(problem), S, S), np.inf)
            rel_b[first, i, k] = np.where(ok, rel, np.inf)
            mine = rel_b[bb, ii, kk]
            col, row = rel_b[bb, :, kk].copy(), rel_b[bb, ii].copy()       # (L, S)
            col[np.arange(len(bb)), ii] = row[np.arange(len(bb)), kk] = np.inf
            after = seen[pc[bb], pt[bb] + gap]                             # (L, S, J)
            parts = (after & after[np.arange(len(bb)), kk][:, None]).sum(-1) <= 1
            before = seen[pc[bb], pt[bb]]
            col[(before & before[np.arange(len(bb)), ii][:, None]).sum(-1) <= 1] = np.inf
            row[parts] = np.inf  # another part of the same body is no rival
            rival = np.minimum(col.min(-1), row.min(-1))
            sure = ~(rival <= 2.0 * mine + opt.ambiguity_margin)
            ends[pc[bb[~sure]], pt[bb[~sure]], ii[~sure]] = False
            bb, ii, kk = bb[sure], ii[sure], kk[sure]
        cc, tt = pc[bb], pt[bb]
        pred[cc, tt + gap, kk] = tt * S + ii
        ends[cc, tt, ii] = False
        starts[cc, tt + gap, kk] = False
        if gap == 1:  # fragments of one body: merged into the detection its track continues to
            near = np.zeros((C, T - 1, S, S), dtype=bool)
            near[c, t, i, k] = rel <= opt.max_jump
            link = np.full((C, T - 1, S), -1, dtype=np.int64)
            link[cc, tt, ii] = kk
            fc, ft, fu, fk = _fragments(near, seen, link, valid)
            pred[fc, ft + 1, fu] = (ft + 1) * S + fk
            starts[fc, ft + 1, fu] = ends[fc, ft + 1, fu] = False
    return _label(pred, valid, S)


def _costs(a, b, size_a, size_b, centre_a, centre_b, gap, opt):
    """(N,) relative distance, link cost and gate of N candidate links from detections a to
    detections b `gap` frames later (see `epicap.keypoints.tracking._link`).

    a, b: (N, J, 2) pixels, NaN where unseen. size_*: (N,) body sizes px. centre_*: (N, 2).
    """
    d = np.hypot(a[..., 0] - b[..., 0], a[..., 1] - b[..., 1])            # (N, J)
    med, common = _median_last(d)
    far = np.hypot(*(centre_a - centre_b).T)
    dist = np.where(common >= 2, med, far)
    big, small = np.maximum(size_a, size_b), np.minimum(size_a, size_b)
    rel = dist / np.maximum(big, 1e-9)
    ratio = big / np.maximum(small, 1e-9)
    # the size change over the joints both show: a body half hidden in one frame and not in
    # the next has the same size, its visible extent does not (a walker passing behind
    # another: 85 -> 194 px, which ended the track, and another track's end took the start)
    both = np.isfinite(d)                                                  # (N, J) in both
    ext_a, ext_b = _extent(a, both), _extent(b, both)
    with np.errstate(invalid="ignore", divide="ignore"):
        shared = np.maximum(ext_a, ext_b) / np.minimum(ext_a, ext_b)
    ratio = np.where((both.sum(-1) >= 3) & (np.fmin(ext_a, ext_b) > 0), shared, ratio)
    with np.errstate(invalid="ignore"):
        ok = (rel <= opt.max_jump * np.sqrt(gap)) & (ratio <= opt.max_size_ratio)
    return rel, rel + np.log(np.maximum(ratio, 1.0)), ok


def _extent(xy, keep):
    """(N,) diagonal of the bounding box of the joints xy (N, J, 2) where keep (N, J); 0 where
    none is kept."""
    span = []
    for axis in (0, 1):  # contiguous (N, J) per axis: reductions along the last axis are fast
        v = xy[..., axis]
        span.append(np.where(keep, v, -np.inf).max(-1) - np.where(keep, v, np.inf).min(-1))
    with np.errstate(invalid="ignore"):
        return np.nan_to_num(np.hypot(*span), nan=0.0, posinf=0.0, neginf=0.0)


def _fragments(near, seen, link, valid):
    """(c, t, u, k): slot u of frame t + 1 is a fragment of slot k there: k continues a track
    of frame t whose gate u lies within too, u continues none, and the two share at most one
    joint. near: (C, T-1, S, S) within the gate; seen: (C, T, S, J); link: (C, T-1, S) the slot
    of frame t + 1 each slot of frame t continues to, -1 none; valid: (C, T, S)."""
    C, T1, S = link.shape
    linked = np.zeros((C, T1, S), dtype=bool)
    c, t, i = np.nonzero(link >= 0)
    k = link[c, t, i]
    linked[c, t, k] = True
    free = valid[:, 1:][c, t] & ~linked[c, t]                             # (N, S) over u
    after = seen[:, 1:][c, t]                                             # (N, S, J)
    overlap = (after & after[np.arange(len(k)), k][:, None]).sum(-1)      # (N, S)
    n, u = np.nonzero(near[c, t, i] & free & (overlap <= 1))
    # one owner per fragment: the first track in slot order, as the frame-by-frame linker does
    _, first = np.unique((c[n] * T1 + t[n]) * S + u, return_index=True)
    n, u = n[first], u[first]
    return c[n], t[n], u, k[n]


def _label(pred: np.ndarray, valid: np.ndarray, S: int) -> np.ndarray:
    """(C, T, S) int32 ids from predecessor links: every chain's root numbered per camera in
    order of first appearance (frame, then slot)."""
    C, T, _ = pred.shape
    flat = pred.reshape(C, -1)
    root = np.where(flat >= 0, flat, np.arange(T * S)[None])
    while True:  # pointer jumping: log2(T) rounds
        nxt = np.take_along_axis(root, root, 1)
        if (nxt == root).all():
            break
        root = nxt
    out = np.full((C, T * S), -1, dtype=np.int32)
    v = valid.reshape(C, -1)
    for c in range(C):
        roots, ids = np.unique(root[c][v[c]], return_inverse=True)  # roots sorted = first seen
        out[c][v[c]] = ids
    return out.reshape(C, T, S)


def _median_last(d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(np.nanmedian(d, axis=-1), count of finite values): NaN where a row is all NaN, without
    a warning, by one sort."""
    n = np.isfinite(d).sum(-1)
    srt = np.sort(d, axis=-1)  # NaN sort last
    lo = np.take_along_axis(srt, np.maximum((n - 1) // 2, 0)[..., None], -1)[..., 0]
    hi = np.take_along_axis(srt, np.maximum(n // 2, 0)[..., None], -1)[..., 0]
    with np.errstate(invalid="ignore"):
        return np.where(n > 0, (lo + np.where(n % 2 == 1, lo, hi)) / 2, np.nan), n


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
