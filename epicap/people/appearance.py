"""Who comes back into one camera's view: a person's tracks joined by the colours they wear.

One camera's tracker (`keypoints.tracking`) links detections frame to frame and lets a track
resume after `max_gap` frames; a person who leaves the view, or stays hidden behind someone, for
longer comes back as a new track. With several cameras the other views join the pieces
(`people.uncalibrated`, `people.track3d`); one camera alone (`epicap infer` on a video) has only
what the person looks like. The colours of the clothes are such a cue, the baseline of person
re-identification (HSV histograms of the torso and the legs, as in Farenzena et al., "Person
re-identification by symmetry-driven accumulation of local features", CVPR 2010):

1. Per track, up to `samples` frames spread over it in which its torso is seen confidently and
   no other track's torso box overlaps it; in each, the pixels inside the torso (shoulders and
   hips, shrunk toward their middle) and inside the thighs (hip-to-knee bands) are binned:
   coloured pixels by hue and saturation, grey, black and white ones by brightness.
2. Two tracks never in view in the same frame join when the Bhattacharyya distance of their
   histograms (the mean over the parts both show) is at most `max_distance`, their torsos are
   of alike size, and no rival is as close within `margin`: a rival is a third track that could
   be the same person as one of the two but is in view together with the other (two people,
   either of whom could be the one who came back: clothes alike do not tell). The best join is
   made first; a joined pair is one track for the next.

The same cue undoes the tracker's other mistake (`split_changed_clothes`): someone else who
steps in where a person was just lost, within the tracker's gap and gate, continues that person's
track; the track is cut where the clothes across a gap clearly differ.

Clothes of the same colours make tracks of different people look alike: such joins are refused
when both people are in view at once (rivals); a person who leaves and another who arrives
later in the same colours are joined.
"""
from __future__ import annotations

import itertools
import os
from dataclasses import dataclass

import numpy as np

from epicap.errors import InputError
from epicap.joint_sets import get_joint_set

__all__ = ["AppearanceOptions", "clothing_histograms", "join_returning", "histogram_distance",
           "split_changed_clothes"]

HUE_BINS, SAT_BINS, GREY_BINS = 12, 3, 4
BINS = HUE_BINS * SAT_BINS + GREY_BINS
PARTS = ("torso", "thighs")
_MIN_PIXELS = 30  # a part with fewer pixels in a frame is not counted there
MIN_CLEAR = 3  # frames with the torso clearly seen for a piece of a track to be told apart


@dataclass(frozen=True)
class AppearanceOptions:
    """Knobs of `clothing_histograms` and `join_returning` (module doc).

    samples: frames sampled per track. min_confidence: torso joints at least this confident.
    max_distance: the largest Bhattacharyya distance (0 same colours, 1 none shared) of tracks
    joined. margin: a rival at a distance under the join's + margin refuses it. max_size_ratio:
    the largest ratio of two tracks' median torso sizes (pixels) joined.
    """

    samples: int = 8
    min_confidence: float = 0.5
    max_distance: float = 0.35
    margin: float = 0.1
    max_size_ratio: float = 2.0

    def __post_init__(self):
        if self.samples < 1 or not 0 < self.max_distance <= 1 or self.margin < 0 or \
                self.max_size_ratio < 1:
            raise InputError(f"appearance options out of range: {self}")


def _joints(joint_set: str) -> dict[str, int]:
    names = list(get_joint_set(joint_set).joints)
    want = ("left_shoulder", "right_shoulder", "right_hip", "left_hip", "left_knee", "right_knee")
    missing = [n for n in want if n not in names]
    if missing:
        raise InputError(f"joint set {joint_set} lacks {', '.join(missing)}: no torso to see")
    return {n: names.index(n) for n in want}


def _shrunk(poly: np.ndarray, keep: float) -> np.ndarray:
    """The polygon (N, 2) scaled by `keep` about its centroid."""
    centre = poly.mean(axis=0)
    return centre + keep * (poly - centre)


def _part_polygons(xy: np.ndarray, idx: dict[str, int]) -> list[list[np.ndarray]]:
    """Per part, the polygons (pixels) of one person's torso and thighs; a part whose joints
    are not all seen has none. xy: (J, 2) pixels, NaN where unseen."""
    torso = xy[[idx["left_shoulder"], idx["right_shoulder"], idx["right_hip"], idx["left_hip"]]]
    parts = [[_shrunk(torso, 0.7)] if np.isfinite(torso).all() else [], []]
    for side in ("left", "right"):
        hip, knee = xy[idx[f"{side}_hip"]], xy[idx[f"{side}_knee"]]
        if not (np.isfinite(hip).all() and np.isfinite(knee).all()):
            continue
        along = knee - hip
        length = float(np.linalg.norm(along))
        if length < 4:
            continue
        across = np.array([-along[1], along[0]]) / length * 0.12 * length
        a, b = hip + 0.15 * along, hip + 0.85 * along
        parts[1].append(np.array([a - across, a + across, b + across, b - across]))
    return parts


def _bin_pixels(hsv: np.ndarray) -> np.ndarray:
    """(BINS,) counts of HSV pixels (N, 3) in OpenCV's ranges (H 0-179, S and V 0-255)."""
    h, s, v = (hsv[:, k].astype(np.int64) for k in range(3))
    coloured = (s >= 60) & (v >= 50)
    hue = np.minimum(h * HUE_BINS // 180, HUE_BINS - 1)
    sat = np.minimum((s - 60) * SAT_BINS // 196, SAT_BINS - 1)
    grey = HUE_BINS * SAT_BINS + np.minimum(v * GREY_BINS // 256, GREY_BINS - 1)
    return np.bincount(np.where(coloured, hue * SAT_BINS + sat, grey), minlength=BINS)


def _torso_boxes(keypoints: np.ndarray, idx: dict[str, int], min_confidence: float):
    """((P, T, 4) x0, y0, x1, y1 of each torso, NaN unseen; (P, T) torso size in pixels)."""
    t = [idx[n] for n in ("left_shoulder", "right_shoulder", "right_hip", "left_hip")]
    pts = keypoints[:, :, t]                                                 # (P, T, 4, 3)
    ok = (pts[..., 2] >= min_confidence).all(-1) & np.isfinite(pts[..., :2]).all((-1, -2))
    xy = np.where(ok[..., None, None], pts[..., :2], np.nan)
    box = np.concatenate([xy.min(axis=2), xy.max(axis=2)], axis=-1)
    shoulders, hips = xy[..., :2, :].mean(axis=2), xy[..., 2:, :].mean(axis=2)
    return box, np.linalg.norm(shoulders - hips, axis=-1)


def _clear_torsos(keypoints: np.ndarray, idx: dict[str, int], min_confidence: float
                  ) -> np.ndarray:
    """(P, T) bool: each track's torso seen confidently, its box overlapping no other track's
    (a box that overlaps another shows both people)."""
    P = keypoints.shape[0]
    box, _ = _torso_boxes(keypoints, idx, min_confidence)
    seen = np.isfinite(box).all(-1)                                          # (P, T)
    x0, y0, x1, y1 = (box[..., k] for k in range(4))
    with np.errstate(invalid="ignore"):
        inter = (np.minimum(x1[:, None], x1[None]) > np.maximum(x0[:, None], x0[None])) & \
            (np.minimum(y1[:, None], y1[None]) > np.maximum(y0[:, None], y0[None]))   # (P, P, T)
    inter &= ~np.eye(P, dtype=bool)[..., None]
    return seen & ~inter.any(axis=1)


def clothing_histograms(video: str | os.PathLike, keypoints: np.ndarray, joint_set: str,
                        frames: np.ndarray | None = None,
                        options: AppearanceOptions = AppearanceOptions(),
                        pieces: np.ndarray | None = None) -> np.ndarray:
    """(P, 2, BINS) colour histograms of each person's torso and thighs, each summing to 1;
    NaN where the part was never seen clearly.

    video: the camera's video. keypoints: (P, T, J, 3) x, y pixels and confidence of P tracks
    (NaN, NaN, 0 unseen), in `joint_set`. frames: (T,) the video frame of each keypoint frame
    (default 0..T-1). pieces: (P, T) int, when given, a histogram per piece id (0..Q-1; -1 in
    frames left out) instead of per track: (Q, 2, BINS). Sampling, parts and bins: module doc.
    The video is read once, front to back, as far as the last frame sampled.
    """
    import cv2

    P, T = keypoints.shape[:2]
    frames = np.arange(T) if frames is None else np.asarray(frames, dtype=np.int64)
    if frames.shape != (T,):
        raise InputError(f"frames must have shape ({T},), got {frames.shape}")
    if pieces is None:
        pieces = np.broadcast_to(np.arange(P)[:, None], (P, T))
    elif pieces.shape != (P, T):
        raise InputError(f"pieces must have shape ({P}, {T}), got {pieces.shape}")
    Q = int(pieces.max(initial=-1)) + 1
    idx = _joints(joint_set)
    clear = _clear_torsos(keypoints, idx, options.min_confidence)
    picks = {}                                           # video frame -> [(piece, track, t)]
    for q in range(Q):
        ps, ts = np.nonzero(clear & (pieces == q))
        if len(ts) > options.samples:
            pick = np.linspace(0, len(ts) - 1, options.samples).round().astype(int)
            ps, ts = ps[pick], ts[pick]
        for p, t in zip(ps, ts):
            picks.setdefault(int(frames[t]), []).append((q, int(p), int(t)))
    counts = np.zeros((Q, len(PARTS), BINS))
    if picks:
        cap = cv2.VideoCapture(str(video))
        if not cap.isOpened():
            raise InputError(f"{video}: cannot open the video")
        try:
            frame_no, last = -1, max(picks)
            while frame_no < last:
                got, image = cap.read()
                if not got:
                    break
                frame_no += 1
                if frame_no not in picks:
                    continue
                hsv = cv2.cvtColor(image, cv2.COLOR_BGR2HSV)
                for q, p, t in picks[frame_no]:
                    xy = np.where(keypoints[p, t, :, 2:] > 0, keypoints[p, t, :, :2], np.nan)
                    for k, polygons in enumerate(_part_polygons(xy, idx)):
                        if not polygons:
                            continue
                        mask = np.zeros(hsv.shape[:2], np.uint8)
                        cv2.fillPoly(mask, [np.round(q).astype(np.int32) for q in polygons], 1)
                        pixels = hsv[mask.astype(bool)]
                        if len(pixels) >= _MIN_PIXELS:
                            counts[q, k] += _bin_pixels(pixels) / len(pixels)
        finally:
            cap.release()
    total = counts.sum(-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, counts / total, np.nan)


def split_changed_clothes(video: str | os.PathLike, keypoints: np.ndarray, joint_set: str,
                          frames: np.ndarray | None = None,
                          options: AppearanceOptions = AppearanceOptions()
                          ) -> tuple[np.ndarray, np.ndarray]:
    """(keypoints (P', T, J, 3), histograms (P', 2, BINS)): tracks cut where the clothes change.

    One camera's tracker lets a track resume up to `max_gap` frames after it was last seen, near
    where it was: someone else who steps in there within that time continues it (one person
    leaves behind a pillar as another comes out). Each track is cut at its gaps into pieces; a
    piece whose clothes are clearly unlike those of its track so far (Bhattacharyya distance
    over `max_distance + margin`, the join's threshold with the margin on top, so that a cut
    piece and its track are never joined again) starts a new track, appended after the input's
    tracks. Pieces whose torso is clearly seen in fewer than `MIN_CLEAR` frames are not told
    apart: they stay with the piece before them.

    keypoints: (P, T, J, 3) tracks (x, y pixels, confidence; NaN, NaN, 0 unseen) in
    `joint_set`; frames: as `clothing_histograms`'. histograms: every output track's, for
    `join_returning`. The video is read once, and not at all when there is one piece in all.
    """
    P, T = keypoints.shape[:2]
    present = (keypoints[..., 2] > 0).any(-1)                                # (P, T)
    clear = _clear_torsos(keypoints, _joints(joint_set), options.min_confidence)
    pieces = np.full((P, T), -1, dtype=np.int64)
    owner = []                                                  # piece id -> its track
    for p in range(P):
        ts = np.flatnonzero(present[p])
        if not len(ts):
            continue
        runs = np.split(ts, np.flatnonzero(np.diff(ts) > 1) + 1)
        merged = [runs[0]]
        for run in runs[1:]:
            if clear[p, run].sum() >= MIN_CLEAR and clear[p, merged[-1]].sum() >= MIN_CLEAR:
                merged.append(run)
            else:  # too little seen on one side to tell: one piece
                merged[-1] = np.concatenate([merged[-1], run])
        for run in merged:
            pieces[p, run] = len(owner)
            owner.append(p)
    if len(owner) <= 1:  # nothing to tell apart or join: the video is not read
        return keypoints.copy(), np.full((P, len(PARTS), BINS), np.nan)
    hist = clothing_histograms(video, keypoints, joint_set, frames, options, pieces)
    groups: list[list[int]] = [[] for _ in range(P)]  # track p's first group stays at p
    current: dict[int, int] = {}                           # track -> its group now
    for q, p in enumerate(owner):                          # each track's pieces in time order
        k = current.setdefault(p, p)
        if groups[k] and histogram_distance(_merged_histogram(hist[groups[k]]), hist[q]) > \
                options.max_distance + options.margin:  # NaN (a torso unseen): not told apart
            groups.append([])
            k = current[p] = len(groups) - 1
        groups[k].append(q)
    out = np.full((len(groups),) + keypoints.shape[1:], np.nan, dtype=keypoints.dtype)
    out[..., 2] = 0
    out_hist = np.full((len(groups), len(PARTS), BINS), np.nan)
    for k, g in enumerate(groups):
        for q in g:
            mine = pieces[owner[q]] == q
            out[k, mine] = keypoints[owner[q], mine]
        if g:
            out_hist[k] = _merged_histogram(hist[g])
    return out, out_hist


def histogram_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Bhattacharyya distance of two people's (2, BINS) histograms: the mean over the parts both
    show of sqrt(1 - sum sqrt(a * b)), in [0, 1]; NaN without the torso in both."""
    both = np.isfinite(a).all(-1) & np.isfinite(b).all(-1)
    if not both[0]:
        return float("nan")
    bc = np.sqrt(np.clip(a[both] * b[both], 0, None)).sum(-1)
    return float(np.sqrt(np.clip(1 - bc, 0, None)).mean())


def join_returning(keypoints: np.ndarray, histograms: np.ndarray, joint_set: str,
                   options: AppearanceOptions = AppearanceOptions()
                   ) -> tuple[np.ndarray, list[list[int]]]:
    """(keypoints (P', T, J, 3), groups): one camera's tracks of one person joined (module doc).

    keypoints: (P, T, J, 3) tracks, at most one detection per track and frame; histograms:
    (P, 2, BINS) from `clothing_histograms`. groups: P' lists of the input tracks each output
    track joins, in input order; output track i is group i, ordered by its first track's index
    (so a track 0, the main subject, stays first).
    """
    P = keypoints.shape[0]
    present = (keypoints[..., 2] > 0).any(-1)                                # (P, T)
    _, size = _torso_boxes(keypoints, _joints(joint_set), options.min_confidence)
    sizes = np.array([_median(s) for s in size])                               # (P,)
    groups = [[p] for p in range(P) if present[p].any()]
    hist = {g[0]: histograms[g[0]] for g in groups}  # a group's key: its first track
    refused = set()
    while True:
        seen = {g[0]: present[g].any(0) for g in groups}
        size_of = {g[0]: _median(sizes[g]) for g in groups}
        pairs = []
        for a, b in itertools.combinations([g[0] for g in groups], 2):
            if (a, b) in refused or (seen[a] & seen[b]).any():
                continue  # one person is never twice in a frame
            ratio = max(size_of[a], size_of[b]) / min(size_of[a], size_of[b])
            d = histogram_distance(hist[a], hist[b])
            if d <= options.max_distance and ratio <= options.max_size_ratio:
                pairs.append((d, a, b))
        if not pairs:
            break
        d, a, b = min(pairs)
        if _rivalled(d, a, b, seen, hist, size_of, options):
            refused.add((a, b))
            continue
        ga = next(g for g in groups if g[0] == a)
        gb = next(g for g in groups if g[0] == b)
        groups.remove(gb)
        ga.extend(gb)
        ga.sort()
        for g in (a, b):
            hist.pop(g)
        hist[ga[0]] = _merged_histogram(histograms[ga])
        refused = {(x, y) for x, y in refused if x not in ga and y not in ga}
    groups.sort(key=lambda g: g[0])
    out = np.full((len(groups),) + keypoints.shape[1:], np.nan, dtype=keypoints.dtype)
    out[..., 2] = 0
    for k, g in enumerate(groups):
        for p in g:
            mine = present[p]
            out[k, mine] = keypoints[p, mine]
    return out, groups


def _median(values: np.ndarray) -> float:
    """The median of the finite values, NaN when there are none."""
    finite = values[np.isfinite(values)]
    return float(np.median(finite)) if len(finite) else float("nan")


def _merged_histogram(h: np.ndarray) -> np.ndarray:
    """The mean of several tracks' (2, BINS) histograms over those that show each part."""
    shown = np.isfinite(h).all(-1, keepdims=True)                             # (K, 2, 1)
    n = shown.sum(0)
    with np.errstate(invalid="ignore"):
        return np.where(n > 0, np.where(shown, h, 0.0).sum(0) / n, np.nan)


def _rivalled(d: float, a: int, b: int, seen: dict, hist: dict, size_of: dict,
              options: AppearanceOptions) -> bool:
    """Whether another track k is as plausible within `options.margin`: k could be a's person
    (never in view with a, of a's size) but is in view with b, so k and b are two people either
    of whom could be a's; or the same with a and b exchanged. seen: {key: (T,) bool}; hist:
    {key: (2, BINS)}; size_of: {key: median torso size, pixels}."""
    for k in seen:
        if k in (a, b):
            continue
        for x, y in ((a, b), (b, a)):
            if (seen[k] & seen[x]).any() or not (seen[k] & seen[y]).any():
                continue
            ratio = max(size_of[k], size_of[x]) / min(size_of[k], size_of[x])
            other = histogram_distance(hist[x], hist[k])
            if ratio <= options.max_size_ratio and other < d + options.margin:
                return True
    return False
