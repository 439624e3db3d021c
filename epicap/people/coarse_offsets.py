"""Cameras started seconds apart: their offsets found before anyone is matched, on whole steps.

Matching without cameras (`epicap.people.uncalibrated`) pairs the views of one instant, and sync
(`epicap.capture.sync_people`) needs the people matched. Both hold for cameras started within a
fraction of a second of each other; a lab that starts its cameras by hand is seconds apart. On
synthetic three-person scenes (30 fps) matching at the cameras' own frames held up to 25 frames
of offset; at 40 frames every offset came out 0 and the rig 3.9 deg off, at 77 frames 100 deg.

The people themselves fix the offsets, with no identities known. For a camera pair (a, b) and a
lag L (b's frame t + L taken with a's frame t), the best consistent set of tracklet pairings
(`uncalibrated._match_pair`: pairings whose pooled joints fit one fundamental matrix) explains
many correspondences when L is right: every moving person, the bystander and everyone else fits
one F. At a wrong lag each moving person is seen at two instants, a different 3D point set per
person, and one F explains one of them at most (a walker's shift over a gait cycle is nearly a
translation, which a moved camera would explain). So each pair's support, the correspondences
within the epipolar threshold of the best set, is a curve over the lags with its peak at the
offset. The threshold is half the matching's (0.003 of the image diagonal): on a three-person
walk (2 px noise) a 40-frame shift kept 92% of the right lag's support at the matching's
threshold, 69% at this one, where a gait phase off by a fifth of a cycle no longer fits.

Offsets o_c (camera c's frame i at common time i + o_c) on a grid of `step_s` maximize the sum
over camera pairs of their curves at o_a - o_b (coordinate ascent from zero and from a spanning
tree of the pairs' peaks): the cameras' curves must agree around every cycle, so one pair with a
wrong peak (a camera whose detector mixes two people's joints for a while) is outvoted by the
others. The offsets are kept (`applied`) only when that sum beats the sum at zero offsets by
`min_gain`: cameras started together stay on their own frames, as before this search existed.
They are coarse (a step of 0.1 s); `epicap sync` then measures the offsets to a fraction of a
frame from the people matched on this timeline.

Limits. One walker alone is not enough: its steps repeat, and a shift along its path is what a
moved camera would see, so a gait cycle off fits nearly as well (it stays below `min_gain`; sync
finds such offsets from the one person anyway). People who all move as one rigid body look the
same shifted in time as from turned cameras: two synthetic walkers circling one centre at one
speed gave offsets 2.5 s off once in three seeds (a bystander, or anyone moving otherwise,
breaks it). A camera that sees one walker nearly alone shares that limit: on random realistic
rigs with four people (`benchmarks/people_unsync.py --random-rigs 4`, cameras up to 0.26 s
apart, 150 frames, feet hidden) one camera of seed 12 frames person 0's upper body, and comes
out one gait cycle (1.26 s) off at sync confidence 1: the synthetic walker goes round a circle
with an exactly periodic gait, so a cycle later the same poses are seen from a camera turned
about the circle's centre, and the others pass too rarely through that camera's view to break
it. Real walkers repeat neither path nor steps that exactly. Until the synthetic walkers were
given their own cadences and phases (`epicap.synthetic.people`), they walked in lockstep, and
seed 7 came out a cycle off too; it now ends in a named error (its fourth camera sees 0.44
people a frame, too few to place it).
On the Pose2Sim two-person videos (1.7 s long) with cam02 and cam04 started 0.5 and
0.2 s late, both were found, and cam03, whose detector mixes the two people in the second half,
came out 1 s off.
"""
from __future__ import annotations

from dataclasses import dataclass

import warnings

import numpy as np

from epicap.console import progress
from epicap.errors import check_shape
from epicap.people.uncalibrated import UncalibratedOptions, _match_pair, _PairScorer

__all__ = ["CoarseOptions", "CoarseOffsets", "coarse_offsets"]


@dataclass(frozen=True)
class CoarseOptions:
    """Knobs of the offset search without identities.

    max_offset_s: the largest offset between two cameras searched, seconds (default 2.0, as
        `epicap sync`'s `--max-offset`).
    step_s: the grid of lags and offsets, seconds (default 0.1).
    threshold: epipolar (Sampson) distance of a correspondence that fits, a fraction of the
        image diagonal (default 0.003; module doc).
    min_gain: the offsets are kept when the summed support at them is at least this times the
        support at zero offsets (default 1.4). Synthetic walks (4 cameras up to 1.7 s apart):
        three people 1.8-2.1, two 2.0-2.5; one walker alone 1.20-1.25, at offsets a gait cycle
        off (its steps repeat, and a shift along its path is what a moved camera would see);
        cameras started together 1.0.
    window_s: at most this much of the recording is searched, the stretch with the most
        detections (default 20 s; the cost grows with it).
    min_overlap_s: a lag leaves at least this much of a short recording to both cameras
        (default 0.5).
    fixed_window_s: where the recording is at least twice `max_offset_s` plus this long, every
        lag is scored on the same stretch of camera a's frames, at least this long, whose frames
        every lag pairs with frames of b's recording; a shorter recording is scored whole, and
        the lags that overlap less explain fewer correspondences, which favours small offsets
        (default 5 s). Counted on a whole 8 s recording, camera 1 started 3.2 s late came out
        0.6 s early (its 0.6 s lag overlapped 1.9 times as much); on one stretch it is found.
    max_partners: with more than 2 * max_partners cameras, each camera is searched against the
        next `max_partners` cameras (by index, round the rig) rather than all (default 4: 8
        cameras take 28 pairs, about 30 s on 10 s of video, 16 cameras 64 rather than 120).
    """

    max_offset_s: float = 2.0
    step_s: float = 0.1
    threshold: float = 0.003
    min_gain: float = 1.4
    window_s: float = 20.0
    min_overlap_s: float = 0.5
    fixed_window_s: float = 5.0
    max_partners: int = 4


@dataclass
class CoarseOffsets:
    """The offsets found (module doc).

    offsets_frames: (C,) int frames, camera c's frame i at common time i + offsets_frames[c]
        (camera 0 at 0); all 0 unless `applied`.
    applied: the offsets beat zero offsets by `min_gain`.
    gain: summed support at the offsets found over that at zero offsets (1 when equal).
    lags: (L,) int frames searched per pair. support: (C, C, L) the support of pair (a, b) at
        lag lags[l] (b's frame t + lag with a's frame t), NaN where not scored; support[b, a] is
        support[a, b] reversed.
    """

    offsets_frames: np.ndarray
    applied: bool
    gain: float
    lags: np.ndarray
    support: np.ndarray

    def describe(self, names, fps: float) -> str:
        """One line: each camera's offset in frames and seconds (at `fps`), and the gain."""
        return ", ".join(f"{n} {o:+d} ({o / fps:+.2f} s)"
                         for n, o in zip(names, self.offsets_frames.tolist())) \
            + f" frames (support x{self.gain:.2f} over no offsets)"


def _shifted(x: np.ndarray, lag: int, fill) -> np.ndarray:
    """x (T, ...) moved so that row t holds x[t + lag]; `fill` where that is outside x."""
    out = np.empty_like(x)
    out[...] = fill
    T = len(x)
    if lag >= 0:
        out[:max(T - lag, 0)] = x[lag:]
    else:
        out[-lag:] = x[:max(T + lag, 0)]
    return out


def camera_pairs(C: int, max_partners: int) -> list[tuple[int, int]]:
    """The camera pairs (a < b) searched: all of them up to 2 * max_partners cameras, else each
    camera with the next `max_partners` round the rig (every camera in max_partners * 2 pairs,
    and cycles through all of them, which `_solve` needs to outvote a wrong peak)."""
    if C <= 2 * max_partners:
        return [(a, b) for a in range(C) for b in range(a + 1, C)]
    return sorted({tuple(sorted((a, (a + k) % C))) for a in range(C)
                   for k in range(1, max_partners + 1)})


def _window(d: np.ndarray, length: int, margin: int) -> tuple[int, int]:
    """(start, end) of the `length` frames with the most detections over all cameras, at least
    `margin` frames from either end of the recording."""
    T = d.shape[1]
    count = np.r_[0, np.cumsum((d[..., 2] > 0).any(-1).sum((0, 2)))]
    starts = np.arange(margin, T - margin - length + 1)
    start = int(starts[np.argmax(count[starts + length] - count[starts])])
    return start, start + length


def _pair_curve(d, ids, K, a, b, lags, window, thr, opt) -> np.ndarray:
    """(L,) support of pair (a, b) at each lag: camera a's frames in `window`, b's shifted."""
    empty = np.zeros(3, dtype=d.dtype)
    empty[:2] = np.nan
    lo, hi = window
    da, ia = d[a].copy(), ids[a].copy()
    da[:lo], da[hi:], ia[:lo], ia[hi:] = empty, empty, -1, -1
    out = np.zeros(len(lags))
    for k, lag in enumerate(lags):
        scorer = _PairScorer(da, _shifted(d[b], int(lag), empty), ia,
                             _shifted(ids[b], int(lag), -1), K[a], K[b], opt)
        out[k] = float(np.sum(_match_pair(scorer, thr, opt)[1]))
    return out


def _at(support: np.ndarray, offsets: np.ndarray, lags: np.ndarray) -> np.ndarray:
    """(..., C, C) each camera pair's support (C, C, L) at its lag o_a - o_b, for offsets
    (..., C) frames on the lags' grid; NaN outside the lags searched and on the diagonal."""
    C = support.shape[0]
    step = int(lags[1] - lags[0]) if len(lags) > 1 else 1
    k = (offsets[..., :, None] - offsets[..., None, :] - int(lags[0])) // step  # (..., C, C)
    inside = (k >= 0) & (k < len(lags)) & ~np.eye(C, dtype=bool)
    a, b = np.meshgrid(np.arange(C), np.arange(C), indexing="ij")
    got = support[a, b, np.clip(k, 0, len(lags) - 1)]
    return np.where(inside, got, np.nan)


def _totals(excess: np.ndarray, offsets: np.ndarray, lags: np.ndarray) -> np.ndarray:
    """(...,) the sum over camera pairs of their support over its median at o_a - o_b, for
    offsets (..., C): 0 for a pair whose lag was not searched (a pair of cameras further apart
    than `max_offset_s`, which says nothing of the offsets, is neither for nor against them)."""
    return np.nansum(np.triu(_at(excess, offsets, lags), 1), axis=(-2, -1))


def _solve(support: np.ndarray, lags: np.ndarray) -> np.ndarray:
    """(C,) offsets (frames, on the lags' grid, camera 0 at 0) maximizing `_total`: coordinate
    ascent from zero and from a maximum spanning tree of the pairs' peaks (module doc)."""
    C = support.shape[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # pairs not scored: all NaN
        median = np.nanmedian(support, axis=-1, keepdims=True)
    support = support - median
    step = int(lags[1] - lags[0]) if len(lags) > 1 else 1
    grid = np.arange(-2 * int(lags[-1]), 2 * int(lags[-1]) + 1, step)
    # a spanning tree (Prim) over the pairs by the prominence of their peaks
    peak = np.where(np.isfinite(support).any(-1), np.nanmax(np.nan_to_num(support, nan=-np.inf),
                                                            axis=-1), -1.0)
    best_lag = lags[np.argmax(np.nan_to_num(support, nan=-np.inf), axis=-1)]
    tree = np.zeros(C, dtype=np.int64)
    inside = [0]
    while len(inside) < C:
        outside = [c for c in range(C) if c not in inside]
        a, b = max(((a, b) for a in inside for b in outside), key=lambda p: peak[p])
        tree[b] = tree[a] - best_lag[a, b]  # o_a - o_b = lag
        inside.append(b)
    best, best_total = None, -np.inf
    for o in (np.zeros(C, dtype=np.int64), tree):
        total = float(_totals(support, o, lags))
        for _ in range(10):  # sweeps of coordinate ascent, each camera over the whole grid
            moved = False
            for c in range(1, C):
                trial = np.repeat(o[None], len(grid), 0)
                trial[:, c] = grid
                totals = _totals(support, trial, lags)
                k = int(np.argmax(totals))
                if totals[k] > total + 1e-9:
                    o, total, moved = trial[k], float(totals[k]), True
            if not moved:
                break
        if total > best_total + 1e-9:
            best, best_total = o, total
    return best


def coarse_offsets(detections: np.ndarray, image_size: np.ndarray, fps: float,
                   options: CoarseOptions | None = None) -> CoarseOffsets:
    """Offsets of cameras started apart, from everyone in view, no identities (module doc).

    detections: (C, T, S, J, 3) raw detections (x, y pixels, confidence; empty slots NaN, NaN,
        0), each camera in its own frames. image_size: (C, 2) pixels. fps: frames per second.
    A progress bar counts the camera pairs on a terminal.
    Returns CoarseOffsets; with fewer than 2 cameras or too short a recording, zero offsets not
    applied. Cost: about 15 ms per camera pair and lag on 10 s of video (41 lags at 0.1 s
    steps over 2 s each way): 4 cameras 3-4 s, 8 cameras 30 s on one core.
    """
    from epicap.people.tracklets import link_tracklets

    opt = options or CoarseOptions()
    d = np.asarray(detections, dtype=np.float32)
    dims = check_shape(d, "C, T, S, J, 3", "detections")
    C, T = dims["C"], dims["T"]
    size = np.asarray(image_size, dtype=np.float64).reshape(C, 2)
    step = max(1, int(round(opt.step_s * fps)))
    reach = min(int(round(opt.max_offset_s * fps)),
                T - int(round(opt.min_overlap_s * fps))) // step * step
    lags = step * np.arange(-(max(reach, 0) // step), max(reach, 0) // step + 1)
    zero = CoarseOffsets(np.zeros(C, dtype=np.int64), False, 1.0, lags,
                         np.full((C, C, len(lags)), np.nan))
    if C < 2 or reach < step:
        return zero
    # every lag scored on one stretch of camera a's frames, paired at every lag with frames of
    # b's recording, where the recording is long enough; a short one is scored whole
    length = min(int(round(opt.window_s * fps)), T - 2 * reach)
    if length >= int(round(opt.fixed_window_s * fps)):
        window = _window(d, length, reach)
    else:
        window = _window(d, min(int(round(opt.window_s * fps)), T), 0)
    ids = link_tracklets(d)
    K = [int(ids[c].max()) + 1 for c in range(C)]
    # lighter fits than matching's: 200 points, 2 seeds, 400 points scored per pairing (the
    # offsets found on the synthetic scenes unchanged, twice as fast)
    match_opt = UncalibratedOptions(threshold=opt.threshold, max_points=200, seeds=2,
                                    max_score_points=400)
    support = zero.support
    pairs = camera_pairs(C, opt.max_partners)
    bar = progress(total=len(pairs), desc="camera offsets", unit="pair")
    for a, b in pairs:
        if K[a] and K[b]:
            thr = opt.threshold * float(np.hypot(*np.maximum(size[a], size[b])))
            support[a, b] = _pair_curve(d, ids, K, a, b, lags, window, thr, match_opt)
            support[b, a] = support[a, b, ::-1]
        bar.update(1)
    bar.close()
    offsets = _solve(support, lags)
    # the raw support of the pairs searched at the offsets found, against theirs at no offsets
    found = np.triu(_at(support, offsets, lags), 1)
    pairs = np.isfinite(found)
    at_zero = float(np.triu(_at(support, np.zeros(C, np.int64), lags), 1)[pairs].sum())
    found = float(found[pairs].sum())
    gain = found / at_zero if at_zero > 0 else (np.inf if found > 0 else 1.0)
    applied = bool(offsets.any() and gain >= opt.min_gain)
    return CoarseOffsets(offsets if applied else np.zeros(C, dtype=np.int64), applied,
                         float(gain), lags, support)
