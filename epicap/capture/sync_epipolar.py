"""Time offsets from 2D keypoints: per-pair epipolar refinement and the joint solution.

The method (coarse correlation candidates, bias-robust epipolar cost under a fixed F, block
jackknife, Cauchy-reweighted least squares over all pairs) is described in
`epicap.capture.sync_tracks`, which holds the options, results and track helpers.
"""
from __future__ import annotations

import math
import warnings
from contextlib import contextmanager

import numpy as np

from epicap.capture.sync_tracks import (CameraOffset, PairOffset, SyncOptions, SyncResult,
                                        _parabola_vertex, _peaks, _smooth_present,
                                        correlation_scores, motion_signal, sample_at,
                                        smooth_tracks)
from epicap.errors import GeometryError, InputError, check_shape
from epicap.geometry.epipolar import signed_sampson

__all__ = ["signed_sampson", "fit_fundamental", "pair_residuals", "refine_pair",
           "interpolation_noise_factor",
           "solve_offsets", "estimate_offsets", "busiest_window"]

_TRUNCATE = 3.0  # residuals beyond this many robust spreads count as this many
_MAX_REFITS = 6  # fits of F while the offset it leads to keeps moving (a fixed F pulls the
# minimum towards the offset it was fitted at, so one fit from a start 2 frames off stops short)
_MAX_MOVES = 4  # times the fine window may follow a minimum on its edge
_MIN_STD_FRAMES = 0.02  # floor on a pair's jackknife standard deviation
_CAUCHY = 2.385  # Cauchy constant with 95% efficiency on Gaussian residuals
# a candidate offset whose un-high-passed Sampson spread is more than this times the best one's
# is not one epipolar geometry (measured, 3 people: right offsets 0.76-0.83 px, whole strides
# off 2.2-22 px; one person in a circle: 0.72-0.81 px for both, which nothing can tell apart)
_FIT_RATIO = 1.5
_NOISE_RATIO = 2.5  # ... when the best fit is within this many high-passed spreads (noise level)
_MIN_COMMON_SHARE = 0.5  # the joints seen at every offset of a search window, of those at any
_TIE_RATIO = 1.25  # candidates whose high-passed spread is within this of the least tie
# a tied candidate at least this far from the one chosen is a rival (periodic motion: a walk's
# stride, 1-1.3 s). Nearer ties are one minimum's neighbours: on the Pose2Sim videos 2-11
# frames at 60 fps (under 0.2 s) from the chosen offset, which they confirm rather than contest
RIVAL_GAP_S = 0.3


def _paired(reference: np.ndarray, moving: np.ndarray, offset: float, min_confidence: float
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x1 (T1, J, 2), x2 (T1, J, 2), both (T1, J)): reference frame k with moving at k - offset."""
    other = sample_at(moving, np.arange(len(reference)) - offset)
    both = (reference[..., 2] >= min_confidence) & (other[..., 2] >= min_confidence)
    return reference[..., :2].astype(np.float64), other[..., :2], both


def fit_fundamental(reference: np.ndarray, moving: np.ndarray, offset: float,
                    options: SyncOptions) -> np.ndarray | None:
    """(3, 3) F pooled over all joints of all frames paired at `offset`, or None.

    reference, moving: (T1, J, 3), (T2, J, 3) keypoints (x, y px, confidence). USAC_MAGSAC with
    `threshold_px`, then the normalized 8-point algorithm on its inliers (H&Z alg. 11.1).
    None with fewer than 30 pairs or when the fit fails.
    """
    import cv2

    x1, x2, both = _paired(reference, moving, offset, options.min_confidence)
    x1, x2 = x1[both], x2[both]
    if len(x1) < 30:
        return None
    cv2.setRNGSeed(0)
    F, inliers = cv2.findFundamentalMat(x1, x2, cv2.USAC_MAGSAC, options.threshold_px, 0.999,
                                        2000)
    if F is None or F.shape != (3, 3) or inliers is None or inliers.sum() < 8:
        return None
    inliers = inliers.ravel().astype(bool)
    F_ls, _ = cv2.findFundamentalMat(x1[inliers], x2[inliers], cv2.FM_8POINT)
    return F_ls[:3] if F_ls is not None and F_ls.shape[0] >= 3 else F


def pair_residuals(reference: np.ndarray, moving: np.ndarray, F: np.ndarray, offset: float,
                   highpass_frames: float, min_confidence: float = 0.3) -> np.ndarray:
    """(T1, J) high-passed signed Sampson distances, pixels; NaN where a joint is not in both.

    reference, moving: (T1, J, 3), (T2, J, 3) keypoints; reference frame k is paired with the
    moving camera at frame k - offset (interpolated). F: (3, 3), x_moving^T F x_reference = 0.
    Each joint's residual minus its Gaussian smoothing over time (sigma `highpass_frames`, only
    over the frames where it is present): what is left follows the joints' motion, not the
    detector's slowly varying bias. highpass_frames <= 0: no high-pass.
    """
    x1, x2, both = _paired(reference, moving, offset, min_confidence)
    with np.errstate(invalid="ignore"):
        e = np.where(both, signed_sampson(F, x1, x2), np.nan)
    return e - _smooth_present(e, highpass_frames) if highpass_frames > 0 else e


def _joint_spreads(e: np.ndarray) -> np.ndarray | None:
    """(J,) robust spread (1.4826 MAD) of each joint's residuals (T, J), floored at 0.3 x their
    median so that one very still joint cannot dominate; NaN for joints with < 10 samples."""
    n = np.isfinite(e).sum(0)
    with np.errstate(invalid="ignore"), warnings_off():
        spread = 1.4826 * np.nanmedian(np.abs(e - np.nanmedian(e, 0)), 0)
    spread = np.where(n >= 10, spread, np.nan)
    if not np.isfinite(spread).any():
        return None
    return np.maximum(spread, max(0.3 * float(np.nanmedian(spread)), 1e-3))


@contextmanager
def warnings_off():
    """A context in which numpy's all-NaN RuntimeWarnings are silenced (they are expected)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


def interpolation_noise_factor(offset: float, smooth_sigma_frames: float) -> float:
    """Expected noise of a residual at `offset`, relative to an integer offset (<= 1).

    The moving camera's track is read between two frames (`sample_at`, linear): at fraction a its
    noise variance is (1 - a)^2 + a^2 + 2 a (1 - a) rho times a frame's, rho the correlation of
    adjacent frames' noise (exp(-1 / (4 s^2)) after a Gaussian smoothing of s frames, 0 without).
    The reference camera's frames are not interpolated. Half-frame offsets therefore look
    quieter, and an uncorrected cost pulls every offset towards them: measured, a whole-frame
    truth came out up to 0.4 frame off at 2-3 px noise, against 0.2-0.37 corrected.
    """
    a = (-float(offset)) % 1.0
    rho = (float(np.exp(-1.0 / (4.0 * smooth_sigma_frames ** 2)))
           if smooth_sigma_frames > 0 else 0.0)
    moving = (1 - a) ** 2 + a ** 2 + 2 * a * (1 - a) * rho
    return (1.0 + moving) / 2.0


def _noise_factors(grid: np.ndarray, smooth_sigma_frames: float) -> np.ndarray:
    """(G,) `interpolation_noise_factor` of each offset of `grid` (frames)."""
    return np.array([interpolation_noise_factor(d, smooth_sigma_frames) for d in grid])


def _frame_costs(reference, moving, F, grid, spread, hp, options
                 ) -> tuple[np.ndarray, np.ndarray]:
    """(G, T1) truncated squared normalized residual summed over joints, and their counts.

    Every offset of the grid is scored on the same joints: those seen at all of them, when they
    are at least `_MIN_COMMON_SHARE` of those seen at any. Scored each on its own, the offsets
    saw different joints (a joint flickering in and out of the moving view counts at some
    offsets only), and the mean cost stepped at whole frames by more than the offset changed it:
    on the Pose2Sim two-person videos at half size, a pair of cameras filmed in sync came out
    1.1 frames off. Each offset's cost is divided by its `interpolation_noise_factor`, so that
    no offset wins by being read between frames.
    """
    e = np.stack([pair_residuals(reference, moving, F, d, hp, options.min_confidence) / spread
                  for d in grid])                                                  # (G, T1, J)
    ok = np.isfinite(e)
    common = ok.all(axis=0)
    if common.sum() >= _MIN_COMMON_SHARE * ok.any(axis=0).sum():
        ok = np.broadcast_to(common, ok.shape)
    factor = _noise_factors(grid, options.smooth_sigma_frames)
    sums = np.where(ok, np.minimum(e * e, _TRUNCATE ** 2), 0.0).sum(2) / factor[:, None]
    return sums, ok.sum(2).astype(np.float64)


def _minimum(sums: np.ndarray, counts: np.ndarray, grid: np.ndarray, step: float
             ) -> tuple[float, int]:
    """(offset at the parabola-refined minimum of the mean cost, its grid index)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        cost = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    if not np.isfinite(cost).any():
        return float("nan"), -1
    k = int(np.nanargmin(cost))
    return float(grid[k] + step * _parabola_vertex(cost, k)), k


def refine_pair(reference: np.ndarray, moving: np.ndarray, centre: float, fps: float,
                options: SyncOptions | None = None) -> PairOffset | None:
    """The sub-frame offset of `moving` against `reference` near `centre` (see the module doc).

    reference, moving: (T1, J, 3), (T2, J, 3) keypoints (already smoothed), x, y px, confidence.
    centre: starting offset, frames (moving frame k - d shows reference frame k's instant).
    fps: frames per second (the high-pass is in seconds). Returns None when the two cameras share
    too few joints (fewer than `min_overlap_frames` frames or 30 points) to fit F.
    """
    opt = options or SyncOptions()
    hp = max(opt.highpass_s * fps, 1.0)
    step, half = opt.refine_step_frames, opt.refine_window_frames
    offset = float(centre)
    for _ in range(_MAX_REFITS):  # fit F at the offset, search with F fixed, refit F there
        previous = offset
        F = fit_fundamental(reference, moving, offset, opt)
        if F is None:
            return None
        spread = _joint_spreads(pair_residuals(reference, moving, F, offset, hp,
                                               opt.min_confidence))
        if spread is None:
            return None
        for _ in range(_MAX_MOVES + 1):
            grid = offset + np.arange(-half, half + step / 2, step)
            sums, counts = _frame_costs(reference, moving, F, grid, spread, hp, opt)
            best, k = _minimum(sums.sum(1), counts.sum(1), grid, step)
            if not np.isfinite(best):
                return None
            offset = best
            if 0 < k < len(grid) - 1:
                break
        if abs(offset - previous) < step / 2:  # F fitted here agrees: converged
            break
    frames = np.flatnonzero(counts[k] > 0)
    if len(frames) < opt.min_overlap_frames:
        return None
    # the spread of the minimum without the interpolation correction too: where the residuals
    # are mostly a detector's bias and flicker rather than noise, the cost barely changes over a
    # frame and the correction alone (<= 1.5% after smoothing) pins its minimum to a whole frame,
    # where every jackknife sample finds it (the Pose2Sim two-person videos with cam02 started 7
    # frames late: 5.88 +- 0.17 frames from the corrected spread, 6.29 +- 1.01 with both)
    plain = sums * _noise_factors(grid, opt.smooth_sigma_frames)[:, None]
    std = max(_jackknife(sums, counts, grid, step, frames, opt.jackknife_blocks),
              _jackknife(plain, counts, grid, step, frames, opt.jackknife_blocks))
    e = pair_residuals(reference, moving, F, offset, hp, opt.min_confidence)
    raw = pair_residuals(reference, moving, F, offset, 0.0, opt.min_confidence)
    with warnings_off():
        spread_px = float(1.4826 * np.nanmedian(np.abs(e)))
        fit_px = float(1.4826 * np.nanmedian(np.abs(raw)))
    return PairOffset(-1, -1, offset, max(std, _MIN_STD_FRAMES), spread_px, float(centre),
                      fit_px)


def _jackknife(sums, counts, grid, step, frames, blocks: int) -> float:
    """Block-jackknife standard deviation of the minimum, leaving out one time block at a time."""
    edges = np.linspace(frames[0], frames[-1] + 1, max(2, blocks) + 1).astype(int)
    total_s, total_n = sums.sum(1), counts.sum(1)
    estimates = []
    for a, b in zip(edges[:-1], edges[1:]):
        s, n = total_s - sums[:, a:b].sum(1), total_n - counts[:, a:b].sum(1)
        est, _ = _minimum(s, n, grid, step)
        if np.isfinite(est):
            estimates.append(est)
    m = len(estimates)
    if m < 2:
        return float("inf")
    est = np.asarray(estimates)
    return float(np.sqrt((m - 1) / m * np.sum((est - est.mean()) ** 2)))


def solve_offsets(pairs: list[PairOffset], num_cameras: int, reference: int = 0
                  ) -> tuple[np.ndarray, np.ndarray]:
    """(offsets (C,), std (C,)) frames, from pair measurements d_ij ~ o_j - o_i, o_ref = 0.

    pairs: measurements with `first`, `second`, `offset_frames`, `std_frames`. Weighted least
    squares, reweighted by Cauchy weights of the normalized residuals (IRLS), started from the
    median over paths of one or two pairs from the reference, so that one wrong pair is outvoted.
    std: from the weighted normal equations, times sqrt(chi^2 / dof) when the pairs are redundant
    and disagree more than their std says (never shrunk). NaN for a camera no pair reaches.
    """
    C = num_cameras
    start = _consensus_start(pairs, C, reference)
    reached = np.isfinite(start)
    free = [c for c in range(C) if c != reference and reached[c]]
    offsets, std = np.where(reached, start, np.nan), np.full(C, np.nan)
    std[reference] = 0.0
    used = [p for p in pairs if reached[p.first] and reached[p.second]]
    if not free or not used:
        return offsets, std
    col = {c: i for i, c in enumerate(free)}
    A = np.zeros((len(used), len(free)))
    for r, p in enumerate(used):
        if p.second in col:
            A[r, col[p.second]] += 1.0
        if p.first in col:
            A[r, col[p.first]] -= 1.0
    b = np.array([p.offset_frames for p in used])
    s = np.array([p.std_frames for p in used])
    x = start[free]
    for _ in range(30):
        u = (A @ x - b) / s
        w = 1.0 / (1.0 + (u / _CAUCHY) ** 2) / s ** 2
        N = A.T @ (w[:, None] * A)
        x_new = np.linalg.lstsq(N, A.T @ (w * b), rcond=None)[0]
        if np.max(np.abs(x_new - x)) < 1e-6:
            x = x_new
            break
        x = x_new
    u = (A @ x - b) / s
    robust = 1.0 / (1.0 + (u / _CAUCHY) ** 2)
    cov = np.linalg.pinv(A.T @ ((robust / s ** 2)[:, None] * A))
    dof = float(robust.sum()) - len(free)
    factor = max(1.0, float(np.sum(robust * u ** 2)) / dof) if dof >= 1 else 1.0
    offsets[free] = x
    std[free] = np.sqrt(np.diag(cov) * factor)
    return offsets, std


def _consensus_start(pairs: list[PairOffset], C: int, reference: int, trees: int = 300,
                     seed: int = 0) -> np.ndarray:
    """(C,) starting offsets that the most pairs agree with (NaN for unreachable cameras).

    Walking is periodic: a pair may lock onto the wrong stride (a whole period off), and two
    such pairs can make two of the paths to a camera agree on a wrong value, which a median of
    paths then takes. Here candidate offsets come from spanning trees of the pairs (the median
    of paths, the reference's direct pairs, and `trees` random ones); the one that the most pairs
    agree with (within 1 frame or 3 of their std) is kept; ties go to the smaller squared
    disagreement, then to the smaller offsets (cameras are usually started close together).
    """
    base = _median_of_paths(pairs, C, reference)
    reached = np.isfinite(base)
    usable = [p for p in pairs if reached[p.first] and reached[p.second]]
    if len(usable) < 2:
        return base
    tol = np.array([max(1.0, 3.0 * p.std_frames) for p in usable])
    d = np.array([p.offset_frames for p in usable])
    first = np.array([p.first for p in usable])
    second = np.array([p.second for p in usable])

    def score(o):
        u = o[second] - o[first] - d
        agree = np.abs(u) < tol
        return (int(agree.sum()), -float(np.sum((u[agree] / tol[agree]) ** 2)),
                -float(np.nansum(np.abs(o))))

    best, best_score = base, score(base)
    rng = np.random.default_rng(seed)
    for k in range(trees + 1):
        order = np.arange(len(usable)) if k == 0 else rng.permutation(len(usable))
        if k == 0:  # the reference's own pairs first
            order = sorted(order, key=lambda i: reference not in (first[i], second[i]))
        o = _tree_offsets(first[order], second[order], d[order], C, reference)
        if not np.array_equal(np.isfinite(o), reached):
            continue
        sc = score(o)
        if sc > best_score:
            best, best_score = o, sc
    return best


def _tree_offsets(first, second, d, C, reference) -> np.ndarray:
    """(C,) offsets along the spanning tree that takes pairs in the given order (Kruskal-like:
    a pair joining a reached camera to an unreached one fixes it), NaN where unreached."""
    o = np.full(C, np.nan)
    o[reference] = 0.0
    changed = True
    while changed:
        changed = False
        for i, j, v in zip(first, second, d):
            if np.isfinite(o[i]) and not np.isfinite(o[j]):
                o[j], changed = o[i] + v, True
            elif np.isfinite(o[j]) and not np.isfinite(o[i]):
                o[i], changed = o[j] - v, True
    return o


def _median_of_paths(pairs: list[PairOffset], C: int, reference: int) -> np.ndarray:
    """(C,) starting offsets: the median of the direct and two-pair paths from the reference,
    then (for cameras still unreached) breadth-first along single pairs; NaN if unreachable."""
    d = np.full((C, C), np.nan)
    for p in pairs:
        d[p.first, p.second], d[p.second, p.first] = p.offset_frames, -p.offset_frames
    start = np.full(C, np.nan)
    start[reference] = 0.0
    for c in range(C):
        if c != reference:
            paths = [d[reference, c]] + [d[reference, k] + d[k, c] for k in range(C)
                                         if k not in (c, reference)]
            paths = [v for v in paths if np.isfinite(v)]
            start[c] = np.median(paths) if paths else np.nan
    for _ in range(C):
        for c in np.flatnonzero(~np.isfinite(start)):
            known = [start[k] + d[k, c] for k in range(C) if np.isfinite(start[k] + d[k, c])]
            if known:
                start[c] = np.median(known)
    return start


def _choose(found: list[PairOffset | None]) -> PairOffset | None:
    """The refined candidate to keep.

    First, when the best explains the views down to their noise (`_fits_to_noise`), only the
    candidates under which one epipolar geometry explains them about as well (`fit_px`, the
    Sampson spread before the high-pass, within `_FIT_RATIO` of the smallest): a wrong offset puts every person somewhere else, and as soon as two people
    move differently no single F fits them all. Then, of those whose high-passed spread is within
    25% of the smallest, the smallest offset: for one person walking in a circle, one stride later
    is the same pose moved rigidly, a valid epipolar geometry too (no F can tell), and cameras are
    usually started close together."""
    found = [p for p in found if p is not None]
    if not found:
        return None
    return min(_tied(found), key=lambda p: abs(p.offset_frames))


def _tied(found: list[PairOffset]) -> list[PairOffset]:
    """The candidates `_choose` chooses among: those whose epipolar geometry fits about as well
    as the best one's (when it fits down to the noise), and of them those whose high-passed
    spread is within `_TIE_RATIO` of the least."""
    if _fits_to_noise(found):
        least_fit = min(p.fit_px for p in found if np.isfinite(p.fit_px))
        found = [p for p in found if not p.fit_px > _FIT_RATIO * least_fit]
    least = min(p.spread_px for p in found)
    return [p for p in found if p.spread_px <= _TIE_RATIO * least]


def _rivals(found: list[PairOffset | None], best: PairOffset, fps: float) -> list[float]:
    """The offsets (frames) of the candidates that tied with `best` (`_tied`) at least
    RIVAL_GAP_S away from it, one per minimum: `_choose` took the smallest offset among them,
    a guess (cameras are usually started close together), not a measurement."""
    out: list[float] = []
    for p in sorted(_tied([p for p in found if p is not None]),
                    key=lambda p: abs(p.offset_frames - best.offset_frames)):
        if abs(p.offset_frames - best.offset_frames) >= RIVAL_GAP_S * fps and all(
                abs(p.offset_frames - r) > 1.0 for r in out):
            out.append(float(p.offset_frames))
    return out


def _fits_to_noise(found: list[PairOffset]) -> bool:
    """Whether the best candidate's epipolar geometry explains the views down to their noise
    (`fit_px` at most `_NOISE_RATIO` times its high-passed spread). Only then does a worse fit
    say the offset is wrong: a detector's bias (10-20 px on hips and knees) leaves every
    candidate's F a residual of its own that says nothing about time (measured: a biased walk's
    right offset fitted 3x worse than a stride off)."""
    fits = [p for p in found if np.isfinite(p.fit_px)]
    if not fits:
        return False
    best = min(fits, key=lambda p: p.fit_px)
    return best.fit_px <= _NOISE_RATIO * best.spread_px


def _solve_trusting_fits(pairs: list[PairOffset], C: int, reference: int
                         ) -> tuple[np.ndarray, np.ndarray]:
    """`solve_offsets` on the pairs whose epipolar geometry fits down to the noise when they
    reach every camera and some pairs do not (those pairs' right offset may be missing from
    their candidates; strides off, their errors can agree with each other around a triangle
    and outvote the right pairs); on all pairs otherwise."""
    good = [p for p in pairs if _fits_to_noise([p])]
    if good and len(good) < len(pairs):
        offsets, std = solve_offsets(good, C, reference)
        if np.isfinite(offsets).all():
            return offsets, std
    return solve_offsets(pairs, C, reference)


def _recheck(pairs: list[PairOffset], offsets: np.ndarray, tracks: list[np.ndarray], fps: float,
             opt: SyncOptions) -> bool:
    """Refine again, at the offset the joint solution implies, every pair whose own measurement
    disagrees with it by over a frame (its correlation candidates may all have missed the right
    one), and keep that measurement where one epipolar geometry fits it clearly better, down to
    the noise (`fit_px`, `_fits_to_noise`).
    Returns whether any pair changed."""
    changed = False
    for k, p in enumerate(pairs):
        implied = offsets[p.second] - offsets[p.first]
        if not np.isfinite(implied) or abs(implied - p.offset_frames) <= 1.0:
            continue
        again = refine_pair(tracks[p.first], tracks[p.second], float(implied), fps, opt)
        if again is not None and _fits_to_noise([again]) and again.fit_px < p.fit_px / _FIT_RATIO:
            again.first, again.second = p.first, p.second
            pairs[k] = again
            changed = True
    return changed


def _lost_message(pairs: list[PairOffset], offsets: np.ndarray, names: list[str],
                  reference: int) -> str:
    """Why some cameras could not be placed: the cameras outside the largest group that the
    pairs found tie together (connected components of the graph of pairs). The reference camera seeing too little leaves every other camera
    unplaced; it is then the one named, with the cameras that could be placed without it."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    C = len(names)
    edges = np.array([(p.first, p.second) for p in pairs], dtype=np.int64).reshape(-1, 2)
    graph = coo_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(C, C))
    _, group = connected_components(graph, directed=False)
    sizes = np.bincount(group)
    # the largest group; of equal ones, the reference's
    largest = max(range(len(sizes)), key=lambda g: (sizes[g], g == group[reference]))
    lost = [names[c] for c in range(C) if group[c] != largest]
    if group[reference] != largest and sizes[largest] >= 2:
        placed = [names[c] for c in range(C) if group[c] == largest]
        return (f"{', '.join(lost)}: too few frames with the subject seen together with the "
                f"other cameras to estimate the time offset ({', '.join(placed)} can be placed "
                f"against each other: the reference camera {names[reference]} cannot)")
    lost = lost or [names[c] for c in range(C) if not np.isfinite(offsets[c])]
    return (f"{', '.join(lost)}: too few frames with the subject seen together with the other "
            "cameras to estimate the time offset")


def estimate_offsets(keypoints: np.ndarray, fps: float, names: list[str],
                     reference: int = 0, options: SyncOptions | None = None,
                     prior: np.ndarray | None = None) -> SyncResult:
    """Offsets of every camera from its 2D keypoints (see `epicap.capture.sync_tracks`).

    keypoints: (C, T, J, 3) x, y pixels, confidence of the same subject in C cameras (each
        camera's own frame numbering). fps: frames per second. names: C camera names.
    reference: index of the camera whose offset is 0.
    prior: (C,) offsets (frames) already known to within a few frames (several people matched
        at them: `epicap.people.coarse_offsets`); each pair is then refined from their
        difference alone, not searched by correlation. A walk's steps repeat, and the fine cost,
        which leaves out slow motion as detector bias, fits a whole gait cycle off nearly as
        well: searched over 4 s, a walker 3.2 s late came out a gait cycle early at
        confidence 1.
    An offset within `options.zero_within_std` of its standard deviations of 0 is kept at 0,
    the estimate in `CameraOffset.estimated_frames`. A recording longer than
    `options.window_s` is searched on its busiest stretch that long (`busiest_window`).
    Raises GeometryError naming the cameras that share too little motion or too few joints
    with the others to be placed.
    """
    opt = options or SyncOptions()
    dims = check_shape(keypoints, "C, T, J, 3", "keypoints")
    C = dims["C"]
    if C < 2:
        raise InputError("one camera: nothing to synchronize")
    if opt.window_s > 0:
        span = max(opt.window_s, 4 * opt.max_offset_s) * fps
        start, stop = busiest_window(keypoints, int(math.ceil(span)), opt.min_confidence)
        keypoints = keypoints[:, start:stop]
        dims["T"] = stop - start
    max_lag = max(1, min(int(round(opt.max_offset_s * fps)), dims["T"] - opt.min_overlap_frames))
    tracks = [smooth_tracks(keypoints[c], opt.smooth_sigma_frames) for c in range(C)]
    signals = [motion_signal(t, opt.min_confidence) for t in tracks]
    pairs: list[PairOffset] = []
    coarse = np.full(C, np.nan)
    for i in range(C):
        for j in range(i + 1, C):
            if prior is not None:
                centres = [float(prior[j] - prior[i])]
            else:
                score = correlation_scores(signals[i], signals[j], max_lag,
                                           opt.min_overlap_frames)
                centres = [k - max_lag for k in
                           _peaks(score, opt.candidates, int(2 * opt.refine_window_frames) + 1)]
                if all(abs(k) > opt.refine_window_frames for k in centres):
                    centres.append(0)  # no shift is always a candidate: most start together
            found = [refine_pair(tracks[i], tracks[j], float(k), fps, opt) for k in centres]
            best = _choose(found)
            if best is not None:
                best.first, best.second = i, j
                best.rivals = _rivals(found, best, fps)
                pairs.append(best)
                if reference in (i, j):
                    coarse[j if i == reference else i] = best.coarse_frames * (
                        1 if i == reference else -1)
    offsets, std = _solve_trusting_fits(pairs, C, reference)
    if C > 2 and _recheck(pairs, offsets, tracks, fps, opt):
        offsets, std = _solve_trusting_fits(pairs, C, reference)
    if not np.isfinite(offsets).all():
        raise GeometryError(_lost_message(pairs, offsets, names, reference))
    result = SyncResult(names[reference], float(fps))
    for c, name in enumerate(names):
        if c == reference:
            result.cameras.append(CameraOffset(name, 0.0, 0.0, 1.0, "reference"))
            continue
        confidence = math.erf(0.5 / (math.sqrt(2.0) * std[c])) if std[c] > 0 else 1.0
        rivals = _camera_rivals(pairs, offsets, c)
        confidence /= 1 + len(rivals)  # equally good offsets share it
        offset, estimated = float(offsets[c]), None
        if offset != 0 and abs(offset) <= opt.zero_within_std * std[c]:
            offset, estimated = 0.0, offset  # within its noise of no shift: keep 0 (and say so)
        result.cameras.append(CameraOffset(
            name, offset, offset / fps, float(confidence), "keypoints",
            None if not np.isfinite(coarse[c]) else float(coarse[c]), float(std[c]), estimated,
            rivals))
    return result


def busiest_window(keypoints: np.ndarray, frames: int, min_confidence: float = 0.3
                   ) -> tuple[int, int]:
    """(start, stop): the `frames` consecutive frames (all of them when there are fewer) whose
    joints seen with at least `min_confidence`, summed over the cameras, are the most; the
    earliest such stretch. keypoints: (C, T, J, 3) x, y pixels, confidence, every camera on its
    own frame numbering (cutting all cameras at the same frames leaves their offsets as they
    are)."""
    T = keypoints.shape[1]
    if frames >= T:
        return 0, T
    seen = (np.nan_to_num(keypoints[..., 2]) >= min_confidence).sum(axis=(0, 2))   # (T,)
    total = np.concatenate([[0], np.cumsum(seen)])
    start = int(np.argmax(total[frames:] - total[:-frames]))
    return start, start + frames


def _camera_rivals(pairs: list[PairOffset], offsets: np.ndarray, c: int) -> list[float]:
    """Camera c's other offsets (frames) that fit as well, nearest first, at most 3: where every
    pair it is in had rivals (`PairOffset.rivals`), each rival (and each pair's own choice where
    the solution differs from it) moved to c's offset by the other camera's solved offset, and
    kept unless c's offset is nearer 0 by half their gap (one synthetic walker circling, 30 fps:
    a camera found at +7.7 frames, right, has rivals a stride, 38 frames, further out). Empty
    when some pair of c had none: that pair pins c down (and it carries the solution, its
    rivals' pairs disagreeing with it)."""
    mine = [p for p in pairs if c in (p.first, p.second)]
    if not mine or not all(p.rivals for p in mine):
        return []
    out: list[float] = []
    for p in mine:
        other = p.first if p.second == c else p.second
        for r in [p.offset_frames] + p.rivals:  # ~ o_second - o_first; the pair's own choice
            alt = offsets[other] + r if p.second == c else offsets[other] - r  # may differ
            if abs(alt - offsets[c]) > 1.0 and all(abs(alt - a) > 1.0 for a in out):
                out.append(float(alt))
    # cameras are usually started close together: an offset nearer 0 than a rival by half
    # their gap or more is the likelier one, and keeps its confidence
    out = [a for a in out if abs(a) < abs(offsets[c]) + abs(a - offsets[c]) / 2]
    return sorted(out, key=lambda a: abs(a - offsets[c]))[:3]
