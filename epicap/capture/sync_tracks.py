"""Time offsets between cameras from the 2D keypoints of the subject (no recorded timestamps).

Convention: camera c's frame i was taken at common time `(i + offset_frames[c]) / fps`; the
reference camera has offset 0. A positive offset means the camera started later.

Every pair of cameras (i, j) gives a measurement d_ij ~ o_j - o_i, in three steps:

1. Coarse: cross-correlate the cameras' keypoint motion (vertical joint velocities relative to
   body size) over integer lags, as Pose2Sim's `synchronization.py` does with keypoint speeds;
   the few highest peaks are candidates.
2. Fine: the same instant seen by two cameras satisfies the epipolar constraint `x2^T F x1 = 0`
   (Hartley & Zisserman, ch. 9); pairing different instants breaks it by the joints' motion.
   F is fitted (USAC_MAGSAC, polished by the normalized 8-point algorithm on its inliers) at the
   candidate and then held fixed while the second camera is shifted in 0.1-frame steps: a refitted
   F would absorb part of a wrong shift. The cost is the robust mean of the signed Sampson
   distances (H&Z eq. 11.9) after removing each joint's slowly varying part by a Gaussian high-pass
   over time: a real detector's view-dependent bias (10-20 px on hips and knees) hardly changes
   within a fraction of a second and would otherwise swamp the few pixels a wrong offset causes,
   which follow the joints' velocity. Each joint is scaled by its own robust spread (MAD), so loose
   joints weigh less, and truncated at 3 spreads. F is refitted at the minimum and the search
   repeated until it stays put (a fixed F pulls the minimum towards where it was fitted); a
   parabola refines the minimum. Its standard deviation comes from a block jackknife over time
   (Efron & Tibshirani, An Introduction to the Bootstrap, 1993, ch. 11). Of the candidates whose
   residuals are within 25% of the smallest, the smallest offset wins: periodic motion (walking
   in a circle) is epipolar-consistent one period later too. Several people break that
   symmetry (one rigid motion cannot carry them all one stride on), so when the best candidate's
   F explains the views down to their noise before the high-pass, candidates whose F leaves a
   residual over 1.5 times larger are wrong and are dropped first.
3. Joint solution: the offsets o minimize sum (o_j - o_i - d_ij)^2 / std_ij^2 with o_ref = 0,
   reweighted by Cauchy weights (IRLS) from a median-of-paths start, so that a pair caught in a
   wrong minimum is outvoted by the others. Pairs whose F fits down to the noise are trusted
   over those that do not when they reach every camera (stride errors can agree around a
   triangle), and a pair that disagrees with the solution is refined again at the offset the
   solution implies (its correlation peaks may all have missed it), kept where it fits better.

Confidence = P(|error| < 0.5 frame) for a Gaussian error with the solution's standard deviation
(inflated by the pairs' disagreement where there is redundancy): 0.95 means about 2 in 40 such
offsets are off by half a frame or more. 1 for the reference camera. Where the tie-break decided
for a camera (in every pair it is in, a candidate a stride or more away fitted as well, and the
offset taken is not nearer 0 than it by half their gap), the offset is a guess among equals: the
confidence is divided among them and `CameraOffset.rivals_frames` lists the others. Measured on
one synthetic walker circling (30 fps, cameras 0.1-0.26 s apart): two of three cameras
came out a stride (38 frames) off at confidence 1 before; now at 0.33, the right offset listed.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from epicap.errors import InputError, check_shape

__all__ = ["SyncOptions", "CameraOffset", "SyncResult", "PairOffset", "motion_signal",
           "correlation_scores", "coarse_lag", "smooth_tracks", "sample_at"]


@dataclass(frozen=True)
class SyncOptions:
    """Knobs of the offset estimate.

    max_offset_s: the largest offset searched by cross-correlation, seconds (default 2.0).
    refine_window_frames: the fine search covers a candidate +- this many frames, moving on while
        the minimum sits on the window's edge (default 2).
    refine_step_frames: grid step of the fine search before a parabola refines it (default 0.1).
    min_confidence: joints below it are not used (default 0.3).
    threshold_px: MAGSAC's inlier threshold when fitting F, pixels (default 4).
    min_overlap_frames: the fewest frames two cameras must share to be compared (default 20).
    smooth_sigma_frames: Gaussian smoothing of the tracks before the fine search (default 2), so
        that interpolating between frames does not lower the noise at half-frame offsets (which
        would bias the estimate towards them).
    highpass_s: the Gaussian (sigma, seconds) whose smoothing of each joint's epipolar residual is
        subtracted: slower changes are taken as detector bias (default 0.2).
    candidates: coarse correlation peaks refined per pair (default 5).
    jackknife_blocks: time blocks of the jackknife that gives each pair's uncertainty (default 8).
    zero_within_std: an estimated offset within this many of its standard deviations of 0 is
        not told apart from no shift, and 0 is kept (default 2; 0 applies every estimate): many
        videos without timestamps come from synchronized cameras, and a sub-frame or one-frame
        shift that the motion cannot pin down would only add its own error.
    window_s: a longer recording is searched on this much of it (default 30 s; at least 4
        times `max_offset_s`; 0: all of it), the stretch whose frames show the most joints in
        all cameras together. Every camera is cut at the same frames, which leaves the offsets
        as they are. The cost of the search grows with the frames, its precision needs far
        fewer: measured on synthetic recordings of 4 cameras and 4 people walking at 30 fps
        (`benchmarks/sync.py --long`), 60 s took 90 s searched whole and 47 s on 30 s, the
        offsets the same within 0.01 frame; 180 s took 51 s, within 0.03 frame of the truth.
    """

    max_offset_s: float = 2.0
    refine_window_frames: float = 2.0
    refine_step_frames: float = 0.1
    min_confidence: float = 0.3
    threshold_px: float = 4.0
    min_overlap_frames: int = 20
    smooth_sigma_frames: float = 2.0
    highpass_s: float = 0.2
    candidates: int = 5
    jackknife_blocks: int = 8
    zero_within_std: float = 2.0
    window_s: float = 30.0


@dataclass
class CameraOffset:
    """One camera's offset: frames and seconds on the common timeline, and how sure it is.

    confidence: in [0, 1]; 1 for recorded timestamps and the reference camera; for estimates,
        P(|error| < 0.5 frame) given `std_frames` (see the module doc).
    method: "reference", "timestamps" or "keypoints".
    coarse_frames: the cross-correlation lag against the reference (None unless estimated).
    std_frames: standard deviation of the estimate, frames (0 unless estimated).
    estimated_frames: the estimate when 0 was kept instead (`SyncOptions.zero_within_std`: the
        estimate is within its noise of no shift); None when the estimate is applied.
    rivals_frames: other offsets of this camera that fit as well, a stride or more away, where
        every pair of cameras it is in had such a rival (periodic motion: `PairOffset.rivals`);
        the confidence is then divided among them. Empty when the offset is not in doubt.
    """

    name: str
    offset_frames: float
    offset_s: float
    confidence: float
    method: str
    coarse_frames: float | None = None
    std_frames: float = 0.0
    estimated_frames: float | None = None
    rivals_frames: list[float] = field(default_factory=list)


def estimated_cameras(cameras) -> tuple[str, ...]:
    """The names of (name, method, estimated_frames) triples whose offset was estimated from
    the keypoints and applied: method "keypoints" and no estimate kept aside for 0."""
    return tuple(name for name, method, kept_aside in cameras
                 if method == "keypoints" and kept_aside is None)


@dataclass
class SyncResult:
    """Offsets of every camera relative to `reference`, at `fps` frames per second.

    people_rematched: with several people, how many were matched again on the common timeline
    by `sync_session` (None: the people were kept as detected). several_people: the offsets
    came from several matched people (`sync_session` sets it; the warnings then say what an
    uncertain offset may mean there). searched_apart: the coarse offsets the people were matched
    at again, searched beyond detect's 2 s (`--max-offset`), as a line; None when not.
    """

    reference: str
    fps: float
    cameras: list[CameraOffset] = field(default_factory=list)
    people_rematched: int | None = None
    several_people: bool = False
    searched_apart: str | None = None

    @property
    def offset_frames(self) -> np.ndarray:
        """(C,) offsets in frames, in camera order."""
        return np.array([c.offset_frames for c in self.cameras], dtype=np.float64)

    @property
    def estimated(self) -> tuple[str, ...]:
        """The cameras whose offset was estimated from the keypoints and applied (not the
        reference, not timestamps, not kept at 0 as filmed in sync): the ones a calibration may
        refine (`CalibrationOptions.refine_timing`)."""
        return estimated_cameras([(c.name, c.method, c.estimated_frames) for c in self.cameras])

    def warnings(self, min_confidence: float = 0.5) -> list[str]:
        """One line per camera whose offset is more likely wrong than right (confidence, the
        probability of being within half a frame, under `min_confidence`), and per camera whose
        estimate, half a frame or more, was not told apart from 0 and not applied (a smaller one
        changes nothing a user would see: every synchronized rig has them)."""
        lines = []
        for c in self.cameras:
            if c.estimated_frames is not None and abs(c.estimated_frames) >= 0.5:
                lines.append(f"camera {c.name}: offset kept at 0: the estimate "
                             f"{c.estimated_frames:+.2f} +- {c.std_frames:.2f} frames is not told "
                             "apart from no shift; if the cameras were not synchronized, record "
                             "timestamps")
            elif c.rivals_frames:
                others = ", ".join(f"{r:+.1f}" for r in c.rivals_frames)
                lines.append(f"camera {c.name}: offset {c.offset_frames:+.2f} frames is a guess "
                             f"(confidence {c.confidence:.2f}): {others} frames fit as well, a "
                             "stride away (walking repeats itself, and one person moving along "
                             "a path looks the same a stride later from a moved camera); record "
                             "timestamps, clap at the start, or have a second person move "
                             "about")
            elif c.confidence < min_confidence:
                lines.append(f"camera {c.name}: offset {c.offset_frames:+.2f} frames is uncertain "
                             f"(confidence {c.confidence:.2f} of being within half a frame): the "
                             "joints' motion does not pin it down; check that the cameras see the "
                             "same people, or record timestamps")
        if self.several_people and any(c.confidence < min_confidence for c in self.cameras):
            # detect matches the people at offsets searched up to 2 s each way
            # (`epicap.people.coarse_offsets`); beyond, people are paired wrongly
            lines.append("several people: detect matched them across cameras at offsets it "
                         "searched up to 2 s each way, so cameras started further apart pair "
                         "different people and no offset fits; if so, search further with "
                         "--max-offset (seconds; sync or run), cut the videos to a common start "
                         "(a clap) or record timestamps")
        return lines


@dataclass
class PairOffset:
    """One pair's measurement: offset_frames ~ o_second - o_first, frames.

    std_frames: block-jackknife standard deviation. spread_px: robust spread (1.4826 MAD) of the
    high-passed Sampson distances at the minimum. coarse_frames: the correlation candidate.
    fit_px: the same spread of the Sampson distances without the high-pass, under F fitted at
    the minimum: how well one epipolar geometry explains the two views at that offset.
    rivals: the other candidates' offsets (frames, o_second - o_first) that explain the views as
    well (`sync_epipolar._rivals`), at least `RIVAL_GAP_S` away: the choice among them was a
    tie-break, not evidence.
    """

    first: int
    second: int
    offset_frames: float
    std_frames: float
    spread_px: float
    coarse_frames: float
    fit_px: float = float("nan")
    rivals: list[float] = field(default_factory=list)


def motion_signal(keypoints: np.ndarray, min_confidence: float = 0.3) -> np.ndarray:
    """(T, J) vertical image velocity of each joint, in body sizes per frame.

    keypoints: (T, J, 3) x, y pixels and confidence of one camera. Vertical motion is nearly the
    same in every camera with a level horizon (up is up in all of them), unlike horizontal
    motion, which mirrors between cameras facing each other. Central differences over +-2 frames;
    NaN where a joint is not seen.
    """
    check_shape(keypoints, "T, J, 3", "keypoints")
    y = np.where(keypoints[..., 2] >= min_confidence, keypoints[..., 1], np.nan).astype(float)
    xy = np.where(keypoints[..., 2:] >= min_confidence, keypoints[..., :2], np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN frames give NaN, as they should
        size = np.nanmedian(np.hypot(*(np.nanmax(xy, 1) - np.nanmin(xy, 1)).T))
    velocity = np.full_like(y, np.nan)
    velocity[2:-2] = (y[4:] - y[:-4]) / 4.0
    return velocity / size if np.isfinite(size) and size > 0 else velocity


def correlation_scores(reference: np.ndarray, moving: np.ndarray, max_lag: int,
                       min_overlap: int = 20) -> np.ndarray:
    """(2 max_lag + 1,) mean normalized cross-correlation at lags -max_lag..max_lag.

    reference, moving: (T1, J), (T2, J) signals per joint, NaN where unknown. At lag L,
    moving[i] is compared with reference[i + L] over the frames both have, per joint (joints with
    fewer than `min_overlap` such frames are left out), and the joints' correlations averaged.
    NaN where nothing overlaps enough.
    """
    reference, moving = np.atleast_2d(reference.T).T, np.atleast_2d(moving.T).T
    score = np.full(2 * max_lag + 1, np.nan)
    for k, lag in enumerate(range(-max_lag, max_lag + 1)):
        i0, i1 = max(0, -lag), min(len(moving), len(reference) - lag)
        if i1 - i0 < min_overlap:
            continue
        a, b = reference[i0 + lag:i1 + lag], moving[i0:i1]
        ok = np.isfinite(a) & np.isfinite(b)
        n = ok.sum(0)
        a = np.where(ok, a - np.nansum(np.where(ok, a, 0), 0) / np.maximum(n, 1), 0.0)
        b = np.where(ok, b - np.nansum(np.where(ok, b, 0), 0) / np.maximum(n, 1), 0.0)
        denom = np.sqrt((a * a).sum(0) * (b * b).sum(0))
        good = (n >= min_overlap) & (denom > 0)
        if good.any():
            score[k] = np.mean((a * b).sum(0)[good] / denom[good])
    return score


def coarse_lag(reference: np.ndarray, moving: np.ndarray, max_lag: int,
               min_overlap: int = 20) -> tuple[float, float]:
    """(lag, peak): the shift of `moving` that best matches `reference`, and its correlation.

    See `correlation_scores` (moving[i] ~ reference[i + lag]); the best lag is refined below a
    frame by a parabola through the peak. (nan, 0.0) when nothing overlaps.
    """
    score = correlation_scores(reference, moving, max_lag, min_overlap)
    if not np.isfinite(score).any():
        return float("nan"), 0.0
    k = int(np.nanargmax(score))
    return k - max_lag + _parabola_vertex(score, k), float(max(score[k], 0.0))


def _peaks(score: np.ndarray, count: int, separation: int = 3) -> list[int]:
    """Indices of up to `count` highest local maxima of `score`, at least `separation` apart."""
    order = [int(k) for k in np.argsort(np.where(np.isfinite(score), -score, np.inf))
             if np.isfinite(score[k])]
    chosen: list[int] = []
    for k in order:
        if len(chosen) == count:
            break
        if all(abs(k - c) >= separation for c in chosen):
            chosen.append(k)
    return chosen


def smooth_tracks(keypoints: np.ndarray, sigma_frames: float) -> np.ndarray:
    """(T, J, 3) keypoints smoothed over time by a Gaussian, never filling a missing frame.

    Normalized convolution: only present samples contribute, so a gap stays a gap and its edges
    are not pulled towards zero. sigma_frames <= 0 returns the input.
    """
    if sigma_frames <= 0:
        return keypoints
    out = np.array(keypoints, dtype=np.float64, copy=True)
    present = np.isfinite(out[..., :2]).all(-1) & (out[..., 2] > 0)
    out[..., :2] = np.where(present[..., None],
                            _smooth_present(np.where(present[..., None], out[..., :2], np.nan),
                                            sigma_frames), np.nan)
    return out


def _smooth_present(values: np.ndarray, sigma_frames: float) -> np.ndarray:
    """Gaussian smoothing along axis 0 over the finite entries only (normalized convolution)."""
    from scipy.ndimage import gaussian_filter1d

    ok = np.isfinite(values)
    weight = gaussian_filter1d(ok.astype(float), sigma_frames, axis=0, mode="nearest")
    total = gaussian_filter1d(np.where(ok, values, 0.0), sigma_frames, axis=0, mode="nearest")
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(weight > 1e-6, total / weight, np.nan)


def _parabola_vertex(values: np.ndarray, k: int) -> float:
    """Sub-sample shift of an extremum at index k from the parabola through k-1, k, k+1."""
    if 0 < k < len(values) - 1 and np.isfinite(values[k - 1:k + 2]).all():
        a, b, c = values[k - 1:k + 2]
        denom = a - 2 * b + c
        if denom != 0:
            return float(np.clip(0.5 * (a - c) / denom, -0.5, 0.5))
    return 0.0


JUMP_FACTOR = 4.0  # a joint moving this many times its median frame-to-frame motion jumps...
JUMP_MIN_PX = 8.0  # ... and at least this far (pixels)


def sample_at(keypoints: np.ndarray, positions: np.ndarray, jumps: bool = False,
              flip_index: np.ndarray | None = None) -> np.ndarray:
    """(K, J, 3) keypoints at fractional frame `positions`, linear between adjacent frames.

    keypoints: (T, J, 3) x, y pixels, confidence; missing (NaN, NaN, 0).
    positions: (K,) frame indices (fractional). A joint gets a value only if it is present in
    both frames around the position (or in the frame itself when the position is an integer);
    the confidence is the smaller of the two. Outside [0, T-1]: missing.
    jumps: a joint that jumps between the two frames (further than `JUMP_FACTOR` times its median
    frame-to-frame motion and `JUMP_MIN_PX`: a detector's left/right swap or another person's
    joint) is taken from the nearer frame, not blended: half of a swap is no joint at all, while
    a whole one can still be found and undone later (for the keypoints sync writes; the offset
    search keeps plain blending, whose cost is smooth in the offset).
    flip_index: (J0,) the joint set's left/right exchange, J = k * J0 (k people's joints one
    after the other, as `sync_people.as_joints` lays them out). Where a person's detection in
    one of the two frames is the other's with left and right exchanged (its sided joints, the
    body's motion taken out, over twice as near to the other frame's exchanged than as they
    are), it is exchanged to the nearer frame's labels before blending: the whole detection
    then carries one frame's labelling, which a later swap test can undo, instead of joints
    blended or taken from either frame, which none can.
    """
    T, J = keypoints.shape[:2]
    positions = np.asarray(positions, dtype=np.float64)
    out = np.full((len(positions), J, 3), np.nan)
    out[..., 2] = 0.0
    i0 = np.floor(positions + 1e-9).astype(np.int64)
    w = np.clip(positions - i0, 0.0, 1.0)
    w[w < 1e-9] = 0.0
    i1 = np.where(w > 0, i0 + 1, i0)
    ok = (i0 >= 0) & (i1 <= T - 1)
    if not ok.any():
        return out
    a, b, wk = keypoints[i0[ok]].astype(np.float64), keypoints[i1[ok]].astype(np.float64), w[ok]
    if flip_index is not None:
        a, b = _nearer_labels(a, b, wk, np.asarray(flip_index))
    xy = (1 - wk)[:, None, None] * a[..., :2] + wk[:, None, None] * b[..., :2]
    if jumps and T > 1:
        steps = np.linalg.norm(np.diff(keypoints[..., :2].astype(np.float64), axis=0), axis=-1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a joint never seen twice in a row
            usual = np.nanmedian(steps, axis=0)                                     # (J,)
        limit = np.maximum(JUMP_FACTOR * np.nan_to_num(usual, nan=np.inf), JUMP_MIN_PX)
        jump = np.linalg.norm(b[..., :2] - a[..., :2], axis=-1) > limit             # (K', J)
        nearer = np.where((wk < 0.5)[:, None, None], a[..., :2], b[..., :2])
        xy = np.where(jump[..., None], nearer, xy)
    conf = np.minimum(a[..., 2], b[..., 2])
    present = np.isfinite(xy).all(-1) & (conf > 0)
    res = np.concatenate([xy, conf[..., None]], axis=-1)
    res[~present] = (np.nan, np.nan, 0.0)
    out[ok] = res
    return out


def _nearer_labels(a: np.ndarray, b: np.ndarray, w: np.ndarray, flip_index: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray]:
    """(a, b) (K, k * J0, 3) with, per row and person, the farther frame's detection exchanged
    left for right where it is the nearer one's swap (`sample_at`, flip_index). w: (K,) the
    weight of b (b is the nearer frame from 0.5)."""
    K, J = a.shape[:2]
    J0 = len(flip_index)
    if J % J0:
        raise InputError(f"{J} joints are not whole people of {J0} (flip_index)")
    A, B = a.reshape(K, -1, J0, 3), b.reshape(K, -1, J0, 3)
    sided = flip_index != np.arange(J0)
    a_xy, b_xy = A[..., sided, :2], B[..., sided, :2]                                # (K, k, J', 2)
    b_crossed = B[..., flip_index, :][..., sided, :2]
    # the body's motion between the frames, which a swap leaves alone: the mean displacement
    # of the joints whose left/right partner is seen too, in both frames (a fast mover's motion
    # is as large as a side view's left-right distance)
    pair = np.isfinite(a_xy).all(-1) & np.isfinite(b_xy).all(-1) & \
        np.isfinite(A[..., flip_index, :][..., sided, :2]).all(-1) & np.isfinite(b_crossed).all(-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        motion = np.where(pair[..., None], b_xy - a_xy, 0.0).sum(-2) / pair.sum(-1)[..., None]
    motion = np.nan_to_num(motion)[..., None, :]                                    # (K, k, 1, 2)
    straight = np.linalg.norm(b_xy - a_xy - motion, axis=-1)                        # (K, k, J')
    crossed = np.linalg.norm(b_crossed - a_xy - motion, axis=-1)
    both = np.isfinite(straight) & np.isfinite(crossed)
    n = both.sum(-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        e0 = np.where(both, straight, 0.0).sum(-1) / n
        e1 = np.where(both, crossed, 0.0).sum(-1) / n
    swap = (n >= 4) & (e0 > JUMP_MIN_PX) & (e1 < 0.5 * e0)                       # (K, k)
    if not swap.any():
        return a, b
    near_a = (w < 0.5)[:, None]
    B = np.where((swap & near_a)[..., None, None], B[..., flip_index, :], B)
    A = np.where((swap & ~near_a)[..., None, None], A[..., flip_index, :], A)
    return A.reshape(a.shape), B.reshape(b.shape)

