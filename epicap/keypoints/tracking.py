"""Choose and follow the main subject among the people a 2D detector found in each frame.

Detectors and other tools (OpenPose, MMPose, MediaPipe with several poses) report every person
they see, in an order that changes from frame to frame. The main subject is the person who is
large, confidently detected and present for most of the recording; bystanders are smaller, further
away or seen briefly. The procedure, per camera:

1. Link detections into tracks frame to frame: an optimal assignment (Hungarian algorithm,
   `scipy.optimize.linear_sum_assignment`) on the median joint displacement between a track's
   last pose and each candidate, relative to the body's size, gated by `max_jump`, with tracks
   allowed to resume after up to `max_gap` frames without a detection (the linking step of
   tracking-by-detection, e.g. Bewley et al., "Simple Online and Realtime Tracking", ICIP 2016,
   with a pose distance in place of box overlap).
2. Score each track by the sum over its frames of body size x mean confidence x the fraction of
   joints seen: the track with the largest score is the main subject. A track never in view
   together with the subject's, of alike body size and prominence, is the subject back after a
   gap longer than `max_gap` (one camera alone cannot tell better; `epicap.people` matches people
   across cameras, and `people.appearance` by their clothes).

Example:
    >>> import numpy as np
    >>> walker = [np.array([[[100.0 + t, 100.0, 0.9], [100.0 + t, 200.0, 0.9],
    ...                      [140.0 + t, 200.0, 0.9]]]) for t in range(5)]
    >>> select_main_subject(walker).shape
    (5, 3, 3)
"""
from __future__ import annotations

import contextlib
import warnings
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from epicap.errors import InputError, check_shape

__all__ = ["TrackingOptions", "SubjectTrack", "track_main_subject", "track_people",
           "select_main_subject", "select_main_subjects", "link_slots"]


@dataclass(frozen=True)
class TrackingOptions:
    """Knobs of the main-subject tracker.

    min_confidence: joints with a lower confidence count as unseen (default 0.05).
    min_joints: candidates with fewer seen joints are ignored (default 3).
    max_jump: the largest median joint displacement from one frame to the next, as a fraction of
        the body's size (bounding-box diagonal), for a candidate to continue a track (default 0.35).
        After a gap of g frames the gate is max_jump * sqrt(g).
    max_size_ratio: the largest change of body size between linked detections (default 2.0).
    max_gap: frames a track may go undetected and still resume (default 15).
    ambiguity_margin: when > 0, a link is refused (a new track starts) if another candidate or
        another track lies within twice the chosen link's distance plus this margin (fraction of
        body size): two people crossing end their tracks rather than risk swapping them
        (default 0, off; `epicap.people.tracklets` turns it on).
    """

    min_confidence: float = 0.05
    min_joints: int = 3
    max_jump: float = 0.35
    max_size_ratio: float = 2.0
    max_gap: int = 15
    ambiguity_margin: float = 0.0


@dataclass
class SubjectTrack:
    """The main subject of one camera.

    keypoints: (T, J, 3) x, y pixels, confidence; (NaN, NaN, 0) where the subject is not seen.
    person_index: (T,) int, which candidate of each frame was chosen; -1 where none.
    num_tracks: how many distinct people (tracks) were found in all.
    coverage: fraction of frames in which the main subject is seen.
    scores: every track's score (body size x mean confidence, summed over its frames), best
        first; the main subject's is the first.
    """

    keypoints: np.ndarray
    person_index: np.ndarray
    num_tracks: int
    coverage: float
    scores: list[float] = field(default_factory=list)


@dataclass
class _Track:
    frames: list[int] = field(default_factory=list)
    indices: list[int] = field(default_factory=list)
    poses: list[np.ndarray] = field(default_factory=list)  # (J, 3) each, fragments merged
    fragments: list[tuple[int, int]] = field(default_factory=list)  # (frame, index) merged in
    last: np.ndarray | None = None  # (J, 2) last seen positions, NaN where unseen
    size: float = 0.0
    score: float = 0.0


def _clean(pose: np.ndarray, min_confidence: float) -> np.ndarray:
    """(P, J, 3) -> copy with unseen joints set to (NaN, NaN, 0)."""
    pose = np.array(pose, dtype=np.float64, copy=True)
    unseen = ~np.isfinite(pose[..., :2]).all(-1) | ~(pose[..., 2] >= min_confidence)
    pose[unseen] = (np.nan, np.nan, 0.0)
    return pose


def _body_size(xy: np.ndarray) -> np.ndarray:
    """(P, J, 2) -> (P,) bounding-box diagonal of the seen joints in pixels (0 if fewer than 2)."""
    extent = np.fmax.reduce(xy, axis=1) - np.fmin.reduce(xy, axis=1)  # NaN-ignoring, no warning
    size = np.hypot(extent[:, 0], extent[:, 1])
    return np.where(np.isfinite(size), size, 0.0)


@contextlib.contextmanager
def _no_nan_warnings():
    """Silence numpy's "All-NaN slice" / "Mean of empty slice" warnings (NaN is the answer)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


def _nanmedian_last(d: np.ndarray) -> np.ndarray:
    """np.nanmedian(d, axis=-1) without its per-call overhead (NaN where a row is all NaN)."""
    n = np.isfinite(d).sum(-1)
    srt = np.sort(d, axis=-1)  # NaN sort last
    lo = np.take_along_axis(srt, np.maximum((n - 1) // 2, 0)[..., None], -1)[..., 0]
    hi = np.take_along_axis(srt, np.maximum(n // 2, 0)[..., None], -1)[..., 0]
    hi = np.where(n % 2 == 1, lo, hi)
    return np.where(n > 0, (lo + hi) / 2, np.nan)


def _pose_distance(track_xy: np.ndarray, cand_xy: np.ndarray) -> np.ndarray:
    """(K, J, 2), (P, J, 2) -> (K, P) median displacement of joints seen in both, pixels.

    Pairs with fewer than 2 joints in common compare the means of their seen joints instead.
    """
    d = np.linalg.norm(track_xy[:, None] - cand_xy[None], axis=-1)  # (K, P, J)
    common = np.isfinite(d)
    med = _nanmedian_last(d)
    with _no_nan_warnings():
        centre = np.linalg.norm(np.nanmean(track_xy, 1)[:, None] - np.nanmean(cand_xy, 1)[None],
                                axis=-1)
    return np.where(common.sum(-1) >= 2, med, centre)


def _merge_fragments(poses: np.ndarray, matched: dict[int, int], rel: np.ndarray | None,
                     alive: list[int], opt: TrackingOptions) -> dict[int, int]:
    """Merge into each matched candidate the unmatched ones that are parts of the same body.

    Bottom-up detectors (OpenPose) sometimes split one person into two detections, e.g. the upper
    and the lower body. An unmatched candidate that shares at most one joint with a matched one and
    lies within the gate of the same track is merged into it (joints it adds are copied in place).
    poses: (P, J, 3), modified in place. rel: (K, P) relative distances of alive tracks to
    candidates. Returns the merged candidates' indices, each mapped to the one it was merged into.
    """
    consumed: dict[int, int] = {}
    if rel is None:
        return consumed
    row = {k: r for r, k in enumerate(alive)}
    seen = poses[..., 2] > 0
    for c, k in matched.items():
        for u in range(poses.shape[0]):
            if u in matched or u in consumed or rel[row[k], u] > opt.max_jump:
                continue
            if (seen[u] & seen[c]).sum() <= 1:
                add = seen[u] & ~seen[c]
                poses[c, add] = poses[u, add]
                seen[c] |= add
                consumed[u] = c
    return consumed


def _ambiguous(rel: np.ndarray, ok: np.ndarray, r: int, c: int, margin: float) -> bool:
    """Whether the link of track r to candidate c has a rival within `margin` (see options)."""
    if margin <= 0:
        return False
    limit = 2.0 * rel[r, c] + margin
    row = np.where(ok[r], rel[r], np.inf)
    col = np.where(ok[:, c], rel[:, c], np.inf)
    row[c] = col[r] = np.inf
    return bool(row.min(initial=np.inf) <= limit or col.min(initial=np.inf) <= limit)


def _link(frames: list[np.ndarray], J: int, opt: TrackingOptions) -> list[_Track]:
    """Link the cleaned people of every frame ((P, J, 3) each) into tracks (step 1 above)."""
    from scipy.optimize import linear_sum_assignment

    tracks: list[_Track] = []
    for t, people in enumerate(frames):
        if people.shape[0] == 0:
            continue
        seen = people[..., 2] > 0
        keep = np.flatnonzero(seen.sum(-1) >= opt.min_joints)
        if keep.size == 0:
            continue
        xy = people[keep, :, :2]
        size = _body_size(xy)
        quality = size * people[keep, :, 2].sum(-1) / J  # size x mean conf x fraction seen
        alive = [k for k, tr in enumerate(tracks) if t - tr.frames[-1] <= opt.max_gap + 1]
        matched: dict[int, int] = {}
        if alive:
            last = np.stack([tracks[k].last for k in alive])
            sizes = np.array([tracks[k].size for k in alive])
            gaps = np.array([t - tracks[k].frames[-1] for k in alive], dtype=np.float64)
            scale = np.maximum(sizes[:, None], size[None])
            rel = _pose_distance(last, xy) / np.maximum(scale, 1e-9)
            ratio = np.maximum(sizes[:, None], size[None]) / np.maximum(
                np.minimum(sizes[:, None], size[None]), 1e-9)
            ok = (rel <= opt.max_jump * np.sqrt(gaps)[:, None]) & (ratio <= opt.max_size_ratio)
            cost = np.where(ok, rel + np.log(ratio), 1e6)
            for r, c in zip(*linear_sum_assignment(cost)):
                if ok[r, c] and not _ambiguous(rel, ok, r, c, opt.ambiguity_margin):
                    matched[c] = alive[r]
        poses = people[keep]
        consumed = _merge_fragments(poses, matched, rel if alive else None, alive, opt)
        sizes_now = _body_size(poses[:, :, :2]) if consumed else size
        for c in range(len(keep)):
            if c in consumed:
                continue
            tr = tracks[matched[c]] if c in matched else None
            if tr is None:
                tr = _Track()
                tracks.append(tr)
            tr.frames.append(t)
            tr.indices.append(int(keep[c]))
            tr.poses.append(poses[c])
            tr.last = poses[c, :, :2]
            tr.size = float(sizes_now[c])
            tr.score += float(quality[c])
            tr.fragments.extend((t, int(keep[u])) for u, into in consumed.items() if into == c)
    return tracks


def link_slots(slots: np.ndarray, options: TrackingOptions | None = None) -> np.ndarray:
    """(T, S) int32 track id of every detection slot of one camera; -1 for an empty slot.

    slots: (T, S, J, 3) the detections of each frame (x, y pixels, confidence; empty slots and
        unseen joints NaN or confidence 0), in any order. Every track, not only the main subject,
        is returned: ids 0, 1, ... in order of first appearance. A fragment merged into another
        detection of the same body (see `_merge_fragments`) gets that detection's id.
    """
    opt = options or TrackingOptions()
    slots = np.asarray(slots)
    check_shape(slots, "T, S, J, 3", "slots")
    T, S, J, _ = slots.shape
    ids = np.full((T, S), -1, dtype=np.int32)
    if S == 0 or J == 0:
        return ids
    frames = [_clean(slots[t], opt.min_confidence) for t in range(T)]
    for k, tr in enumerate(_link(frames, J, opt)):
        ids[tr.frames, tr.indices] = k
        for t, i in tr.fragments:
            ids[t, i] = k
    return ids


def _frames(candidates: Sequence[np.ndarray | None], opt: TrackingOptions
            ) -> tuple[list[np.ndarray], int | None]:
    """The cleaned people of every frame ((P, J, 3) each, P = 0 for nobody) and J (None when
    nobody was ever found); InputError for a frame whose joints differ from the others'."""
    J = None
    frames: list[np.ndarray] = []
    for t, c in enumerate(candidates):
        if c is None or np.size(c) == 0:
            frames.append(np.zeros((0, J or 0, 3)))
            continue
        c = np.asarray(c)
        if c.ndim != 3 or c.shape[-1] != 3 or (J is not None and c.shape[1] != J):
            raise InputError(f"frame {t}: expected people as (P, {J or 'J'}, 3), got {c.shape}")
        J = c.shape[1]
        frames.append(_clean(c, opt.min_confidence))
    # frames with nobody before the first person was seen were made (0, 0, 3): give them J
    return [f if f.shape[1] == (J or 0) else np.zeros((0, J or 0, 3)) for f in frames], J


def _keypoints(track: _Track, T: int, J: int) -> np.ndarray:
    """(T, J, 3) a track's poses, (NaN, NaN, 0) in the frames it misses."""
    keypoints = np.full((T, J, 3), np.nan)
    keypoints[..., 2] = 0.0
    if track.frames:
        keypoints[track.frames] = track.poses
    return keypoints


def track_main_subject(candidates: Sequence[np.ndarray | None],
                       options: TrackingOptions | None = None) -> SubjectTrack:
    """Link the people of every frame into tracks and return the main subject: the most
    prominent track, with the subject's later (or earlier) tracks after gaps longer than
    `max_gap` (`_main_chain`).

    candidates: T entries, one per frame: an array (P, J, 3) of the P people found in that frame
        (x, y in pixels, confidence in [0, 1]; NaN or confidence 0 where a joint is unseen), or
        None / an array with P = 0 when nobody was found. J must be the same in every frame.
    options: TrackingOptions (defaults when None).
    Returns a SubjectTrack; its keypoints are all missing when nobody was ever found.
    """
    opt = options or TrackingOptions()
    frames, J = _frames(candidates, opt)
    T = len(frames)
    if J is None:
        return SubjectTrack(np.zeros((T, 0, 3)), np.full(T, -1), 0, 0.0)
    tracks = _link(frames, J, opt)
    person = np.full(T, -1, dtype=np.int64)
    if not tracks:
        return SubjectTrack(_keypoints(_Track(), T, J), person, 0, 0.0)
    main = _Track()
    for tr in _main_chain(tracks, opt):
        main.frames += tr.frames
        main.indices += tr.indices
        main.poses += tr.poses
    person[main.frames] = main.indices
    return SubjectTrack(_keypoints(main, T, J), person, len(tracks), len(main.frames) / max(T, 1),
                        sorted((tr.score for tr in tracks), reverse=True))


def _main_chain(tracks: list[_Track], opt: TrackingOptions) -> list[_Track]:
    """The main subject's tracks. A chain grows from one track (the most prominent, or one at
    least `_MIN_RETURN` frames long) by each track never in view
    together with those chosen, of alike body size (median, within `max_size_ratio`), at least
    `_MIN_RETURN` frames long and at least half as prominent per frame as the first (someone back
    after a gap longer than `max_gap`), most prominent first; the chain with the largest summed
    score is the subject's, so that a subject seen in pieces still outweighs a bystander who
    stands in view throughout (and overlaps every piece of the subject)."""
    order = sorted(tracks, key=lambda tr: -tr.score)
    size = [float(np.median(_body_size(np.stack(tr.poses)[..., :2]))) for tr in order]
    best, best_score = [], -np.inf
    for k, seed in enumerate(order):
        if k and len(seed.frames) < _MIN_RETURN:
            continue
        chain, taken = [k], set(seed.frames)
        prominence = seed.score / len(seed.frames)
        for i, tr in enumerate(order):
            if i == k or len(tr.frames) < _MIN_RETURN or \
                    tr.score / len(tr.frames) < 0.5 * prominence or \
                    max(size[i], size[k]) > opt.max_size_ratio * max(min(size[i], size[k]), 1e-9) \
                    or taken.intersection(tr.frames):
                continue
            chain.append(i)
            taken.update(tr.frames)
        score = sum(order[i].score for i in chain)
        if score > best_score:
            best, best_score = chain, score
    return [order[i] for i in best]


_MIN_RETURN = 5  # frames: a shorter track (a false detection now and then) is no return


def track_people(candidates: Sequence[np.ndarray | None],
                 options: TrackingOptions | None = None) -> np.ndarray:
    """(P, T, J, 3) every person one camera's detector found, followed over time.

    candidates: as `track_main_subject`'s. Person 0 is the main subject's most prominent track,
    the others follow by frames seen, most first; each row holds
    x, y pixels and confidence, (NaN, NaN, 0) where that person is not seen. One camera alone
    cannot tell a person who comes back after more than `max_gap` frames from someone new: such
    a person gets a second row. P = 0 when nobody was ever found.

    Example:
        >>> import numpy as np
        >>> walker = np.array([[100.0, 100, 0.9], [100, 200, 0.9], [140, 200, 0.9]])
        >>> people = [np.stack([walker + t, walker + (300, 0, 0)]) for t in range(4)]
        >>> people[3] = people[3][:1]  # the second person leaves
        >>> track_people(people).shape
        (2, 4, 3, 3)
    """
    opt = options or TrackingOptions()
    frames, J = _frames(candidates, opt)
    T = len(frames)
    if J is None:
        return np.zeros((0, T, 0, 3))
    tracks = _link(frames, J, opt)
    if not tracks:
        return np.zeros((0, T, J, 3))
    best = max(range(len(tracks)), key=lambda k: tracks[k].score)
    order = [best] + sorted((k for k in range(len(tracks)) if k != best),
                            key=lambda k: (-len(tracks[k].frames), k))
    return np.stack([_keypoints(tracks[k], T, J) for k in order])


def select_main_subject(candidates: Sequence[np.ndarray | None],
                        options: TrackingOptions | None = None) -> np.ndarray:
    """(T, J, 3) keypoints of the main subject, (NaN, NaN, 0) where not seen.

    candidates: T entries, each (P, J, 3) people of one frame in pixels with confidence, or None.
    See `track_main_subject` for the procedure and a richer result.
    """
    return track_main_subject(candidates, options).keypoints


def select_main_subjects(per_camera: Sequence[Sequence[np.ndarray | None]], num_joints: int,
                         options: TrackingOptions | None = None,
                         camera_names: Sequence[str] | None = None
                         ) -> tuple[np.ndarray, list[SubjectTrack]]:
    """Stack the main subject of every camera into one (C, T, J, 3) float32 array.

    per_camera: C lists of candidates (see `track_main_subject`); shorter ones are padded with
        missing frames to the longest T.
    num_joints: J (needed when a camera never saw anybody).
    camera_names: C names, only for error messages.
    Returns (keypoints (C, T, J, 3) float32, the C SubjectTracks).
    """
    T = max((len(c) for c in per_camera), default=0)
    out = np.full((len(per_camera), T, num_joints, 3), np.nan, dtype=np.float32)
    out[..., 2] = 0.0
    results = []
    for ci, cands in enumerate(per_camera):
        name = camera_names[ci] if camera_names else f"camera {ci}"
        try:
            res = track_main_subject(cands, options)
        except InputError as e:
            raise InputError(f"{name}: {e}") from None
        if res.keypoints.shape[1] not in (0, num_joints):
            raise InputError(f"{name}: {res.keypoints.shape[1]} joints, expected {num_joints}")
        if res.keypoints.shape[1]:
            out[ci, :len(cands)] = res.keypoints
        results.append(res)
    return out, results
