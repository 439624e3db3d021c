"""Time offsets between cameras, and 2D keypoints resampled onto one common timeline.

Convention: camera c's frame i was taken at common time `(i + offset_frames[c]) / fps`; the
reference camera has offset 0. A positive offset means the camera started later.

From recorded timestamps the offsets are read off directly. Without them they are estimated from
the 2D keypoints of the subject, in two steps:

1. Coarse: cross-correlate each camera's keypoint motion (vertical joint velocities relative to
   body size) with the reference camera's over integer lags, as Pose2Sim's `synchronization.py`
   does with keypoint speeds; the peak of the normalized cross-correlation gives the lag.
2. Fine: the same instant seen by two cameras satisfies the epipolar constraint `x2^T F x1 = 0`
   (Hartley & Zisserman, ch. 9); a wrong offset pairs points of different instants and breaks it.
   Around the coarse lag, the offset is found that minimizes the robust mean Sampson error
   (H&Z eq. 11.9) of all joints of all frames under one pooled fundamental matrix (OpenCV
   USAC_MAGSAC), sampling the moving camera between frames by linear interpolation.

Resampling never interpolates across a gap: a common frame gets a value only from the camera
frame at exactly that time, or from two adjacent frames (timestamps less than 1.5 frames apart)
that both hold the joint; otherwise it stays (NaN, NaN, 0).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from epicap.errors import InputError, check_shape

__all__ = ["SyncOptions", "CameraOffset", "SyncResult", "motion_signal", "coarse_lag",
           "smooth_tracks", "sample_at", "epipolar_cost", "estimate_offsets", "offsets_from_timestamps",
           "resample_to_timeline", "sync_session", "SYNC_FILE", "RAW_KEYPOINTS_FILE"]


@dataclass(frozen=True)
class SyncOptions:
    """Knobs of the offset estimate.

    max_offset_s: the largest offset searched by cross-correlation, seconds (default 2.0).
    refine_window_frames: the fine search covers the coarse lag +- this many frames (default 2).
    refine_step_frames: grid step of the fine search before a parabola refines it (default 0.1).
    min_confidence: joints below it are not used (default 0.3).
    threshold_px: MAGSAC's inlier threshold and the Sampson error's truncation, pixels (default 4).
    min_overlap_frames: the fewest frames two cameras must share to be compared (default 20).
    smooth_sigma_frames: Gaussian smoothing of the tracks before the fine search (default 2), so
        that interpolating between frames does not lower the noise at half-frame offsets (which
        would bias the estimate towards them).
    """

    max_offset_s: float = 2.0
    refine_window_frames: float = 2.0
    refine_step_frames: float = 0.1
    min_confidence: float = 0.3
    threshold_px: float = 4.0
    min_overlap_frames: int = 20
    smooth_sigma_frames: float = 2.0


@dataclass
class CameraOffset:
    """One camera's offset: frames and seconds on the common timeline, and how sure it is.

    confidence: in [0, 1]; 1 for recorded timestamps and the reference camera; for estimates, the
        peak normalized cross-correlation of motion times how distinct the epipolar minimum is
        (1 - cost at the minimum / median cost over the fine window).
    method: "reference", "timestamps" or "keypoints".
    coarse_frames: the cross-correlation lag (None unless estimated).
    """

    name: str
    offset_frames: float
    offset_s: float
    confidence: float
    method: str
    coarse_frames: float | None = None


@dataclass
class SyncResult:
    """Offsets of every camera relative to `reference`, at `fps` frames per second."""

    reference: str
    fps: float
    cameras: list[CameraOffset] = field(default_factory=list)

    @property
    def offset_frames(self) -> np.ndarray:
        """(C,) offsets in frames, in camera order."""
        return np.array([c.offset_frames for c in self.cameras], dtype=np.float64)


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


def coarse_lag(reference: np.ndarray, moving: np.ndarray, max_lag: int,
               min_overlap: int = 20) -> tuple[float, float]:
    """(lag, peak): the shift of `moving` that best matches `reference`, and its correlation.

    reference, moving: (T1, J), (T2, J) signals per joint, NaN where unknown. For every integer
    lag L (moving[i] ~ reference[i + L]) the normalized cross-correlation of each joint over the
    frames both have is averaged over joints with at least `min_overlap` such frames; the best
    lag is refined below a frame by a parabola through the peak. (nan, 0.0) when nothing overlaps.
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
    if not np.isfinite(score).any():
        return float("nan"), 0.0
    k = int(np.nanargmax(score))
    return k - max_lag + _parabola_vertex(score, k), float(max(score[k], 0.0))


def smooth_tracks(keypoints: np.ndarray, sigma_frames: float) -> np.ndarray:
    """(T, J, 3) keypoints smoothed over time by a Gaussian, never filling a missing frame.

    Normalized convolution: only present samples contribute, so a gap stays a gap and its edges
    are not pulled towards zero. sigma_frames <= 0 returns the input.
    """
    from scipy.ndimage import gaussian_filter1d

    if sigma_frames <= 0:
        return keypoints
    out = np.array(keypoints, dtype=np.float64, copy=True)
    present = np.isfinite(out[..., :2]).all(-1) & (out[..., 2] > 0)
    weight = gaussian_filter1d(present.astype(float), sigma_frames, axis=0, mode="nearest")
    total = gaussian_filter1d(np.where(present[..., None], out[..., :2], 0.0), sigma_frames,
                              axis=0, mode="nearest")
    out[..., :2] = np.where(present[..., None], total / np.maximum(weight, 1e-12)[..., None],
                            np.nan)
    return out


def _parabola_vertex(values: np.ndarray, k: int) -> float:
    """Sub-sample shift of an extremum at index k from the parabola through k-1, k, k+1."""
    if 0 < k < len(values) - 1 and np.isfinite(values[k - 1:k + 2]).all():
        a, b, c = values[k - 1:k + 2]
        denom = a - 2 * b + c
        if denom != 0:
            return float(np.clip(0.5 * (a - c) / denom, -0.5, 0.5))
    return 0.0


def sample_at(keypoints: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """(K, J, 3) keypoints at fractional frame `positions`, linear between adjacent frames.

    keypoints: (T, J, 3) x, y pixels, confidence; missing (NaN, NaN, 0).
    positions: (K,) frame indices (fractional). A joint gets a value only if it is present in
    both frames around the position (or in the frame itself when the position is an integer);
    the confidence is the smaller of the two. Outside [0, T-1]: missing.
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
    xy = (1 - wk)[:, None, None] * a[..., :2] + wk[:, None, None] * b[..., :2]
    conf = np.minimum(a[..., 2], b[..., 2])
    present = np.isfinite(xy).all(-1) & (conf > 0)
    res = np.concatenate([xy, conf[..., None]], axis=-1)
    res[~present] = (np.nan, np.nan, 0.0)
    out[ok] = res
    return out


def _sampson(F: np.ndarray, x1: np.ndarray, x2: np.ndarray) -> np.ndarray:
    """(N,) Sampson distances in pixels (sqrt of H&Z eq. 11.9) of pairs x1 <-> x2 under F."""
    h1 = np.column_stack([x1, np.ones(len(x1))])
    h2 = np.column_stack([x2, np.ones(len(x2))])
    Fx1, Ftx2 = h1 @ F.T, h2 @ F
    num = np.einsum("ni,ni->n", h2, Fx1) ** 2
    den = Fx1[:, 0] ** 2 + Fx1[:, 1] ** 2 + Ftx2[:, 0] ** 2 + Ftx2[:, 1] ** 2
    return np.sqrt(num / np.maximum(den, 1e-300))


def epipolar_cost(reference: np.ndarray, moving: np.ndarray, offset: float,
                  options: SyncOptions | None = None) -> tuple[float, int]:
    """(cost, N): robust mean Sampson error (px) of the two cameras paired at `offset`.

    reference, moving: (T1, J, 3), (T2, J, 3) keypoints of two cameras. Reference frame k is
    paired with the moving camera at frame k - offset (interpolated). All pairs of all frames are
    pooled, F is fitted with USAC_MAGSAC, and each pair's Sampson distance, truncated at
    `threshold_px`, is averaged. Returns (nan, N) when fewer than 30 pairs or F fails.
    """
    import cv2

    opt = options or SyncOptions()
    k = np.arange(len(reference))
    other = sample_at(moving, k - offset)
    both = (reference[..., 2] >= opt.min_confidence) & (other[..., 2] >= opt.min_confidence)
    x1 = reference[..., :2][both].astype(np.float64)
    x2 = other[..., :2][both].astype(np.float64)
    if len(x1) < 30:
        return float("nan"), len(x1)
    cv2.setRNGSeed(0)
    F, inliers = cv2.findFundamentalMat(x1, x2, cv2.USAC_MAGSAC, opt.threshold_px, 0.999, 2000)
    if F is None or F.shape != (3, 3) or inliers is None or inliers.sum() < 8:
        return float("nan"), len(x1)
    inliers = inliers.ravel().astype(bool)  # polish by least squares (normalized 8-point)
    F_ls, _ = cv2.findFundamentalMat(x1[inliers], x2[inliers], cv2.FM_8POINT)
    F = F_ls[:3] if F_ls is not None and F_ls.shape[0] >= 3 else F
    err = np.minimum(_sampson(F, x1, x2), opt.threshold_px)
    return float(err.mean()), len(x1)



def estimate_offsets(keypoints: np.ndarray, fps: float, names: list[str],
                     reference: int = 0, options: SyncOptions | None = None) -> SyncResult:
    """Offsets of every camera from its 2D keypoints: cross-correlation, then epipolar refinement.

    keypoints: (C, T, J, 3) x, y pixels, confidence of the same subject in C cameras (each
        camera's own frame numbering). fps: frames per second. names: C camera names.
    reference: index of the camera whose offset is 0.
    Raises GeometryError when a camera shares too little motion or too few joints with the
    reference to be placed.
    """
    from epicap.errors import GeometryError

    opt = options or SyncOptions()
    dims = check_shape(keypoints, "C, T, J, 3", "keypoints")
    if dims["C"] < 2:
        raise InputError("one camera: nothing to synchronize")
    max_lag = max(1, min(int(round(opt.max_offset_s * fps)), dims["T"] - opt.min_overlap_frames))
    ref_kp = smooth_tracks(keypoints[reference], opt.smooth_sigma_frames)
    ref_signal = motion_signal(ref_kp, opt.min_confidence)
    result = SyncResult(names[reference], float(fps))
    for c, name in enumerate(names):
        if c == reference:
            result.cameras.append(CameraOffset(name, 0.0, 0.0, 1.0, "reference"))
            continue
        moving = smooth_tracks(keypoints[c], opt.smooth_sigma_frames)
        lag, peak = coarse_lag(ref_signal, motion_signal(moving, opt.min_confidence), max_lag,
                               opt.min_overlap_frames)
        if not np.isfinite(lag):
            raise GeometryError(f"{name}: too few frames with the subject in both {name} and "
                                f"{names[reference]} to estimate their time offset")
        centre = float(np.round(lag))
        steps = np.arange(-opt.refine_window_frames, opt.refine_window_frames + 1e-9,
                          opt.refine_step_frames)
        grid = centre + steps
        costs = np.array([epipolar_cost(ref_kp, moving, d, opt)[0] for d in grid])
        if not np.isfinite(costs).any():
            raise GeometryError(f"{name}: too few joints seen together with {names[reference]} "
                                "to refine the time offset (epipolar geometry)")
        k = int(np.nanargmin(costs))
        offset = float(grid[k] + opt.refine_step_frames * _parabola_vertex(-costs, k))
        distinct = 1.0 - costs[k] / np.nanmedian(costs) if np.nanmedian(costs) > 0 else 0.0
        confidence = float(np.clip(peak * np.clip(distinct, 0, 1), 0, 1))
        result.cameras.append(CameraOffset(name, offset, offset / fps, confidence, "keypoints",
                                           float(lag)))
    return result


def offsets_from_timestamps(timestamps: list[np.ndarray], fps: float, names: list[str],
                            reference: int = 0) -> SyncResult:
    """Offsets from recorded per-frame timestamps (seconds on one clock shared by all cameras).

    timestamps: C arrays (T_c,) of seconds. fps: the common timeline's rate.
    The offset is the median of (timestamp x fps - frame index) relative to the reference, which
    is robust to a few late frames; `frame_times` gives the exact per-frame times for resampling.
    """
    starts = [float(np.median(np.asarray(ts) * fps - np.arange(len(ts)))) for ts in timestamps]
    result = SyncResult(names[reference], float(fps))
    for c, name in enumerate(names):
        off = starts[c] - starts[reference]
        method = "reference" if c == reference else "timestamps"
        result.cameras.append(CameraOffset(name, off, off / fps, 1.0, method))
    return result


def resample_to_timeline(keypoints: np.ndarray, frame_times: list[np.ndarray]
                         ) -> tuple[np.ndarray, int]:
    """(C, K, J, 3) keypoints on the common integer timeline, and its first frame.

    keypoints: (C, T, J, 3), missing (NaN, NaN, 0).
    frame_times: C arrays (T_c,) with T_c <= T: the common-timeline time, in frames, of each of
        camera c's frames (increasing), e.g. i + offset_frames[c], or timestamps x fps.
    The timeline runs over every integer time covered by some camera (their union); a camera
    is interpolated only between two of its frames less than 1.5 frames apart (no gaps bridged).
    Returns (resampled keypoints float32, the common time of its first row).
    """
    check_shape(keypoints, "C, T, J, 3", "keypoints")
    C, T, J = keypoints.shape[:3]
    tol = 1e-3  # frames: timestamps rounded to microseconds still land on their frame
    lo = int(np.floor(min(float(np.min(t)) for t in frame_times) + tol))
    hi = int(np.ceil(max(float(np.max(t)) for t in frame_times) - tol))
    grid = np.arange(lo, hi + 1, dtype=np.float64)
    out = np.full((C, len(grid), J, 3), np.nan, dtype=np.float32)
    out[..., 2] = 0.0
    for c, times in enumerate(frame_times):
        times = np.asarray(times, dtype=np.float64)
        if len(times) > T or np.any(np.diff(times) <= 0):
            raise InputError(f"camera {c}: frame times must be increasing, at most {T} of them")
        # fractional index of each grid time among this camera's frames; gaps > 1.5 frames: none
        pos = np.interp(grid, times, np.arange(len(times)), left=np.nan, right=np.nan)
        ends = np.isnan(pos) & ((np.abs(grid - times[0]) < tol) | (np.abs(grid - times[-1]) < tol))
        pos[ends] = np.where(np.abs(grid[ends] - times[0]) < tol, 0, len(times) - 1)
        i0 = np.floor(pos + 1e-9)
        exact = np.isfinite(pos) & (np.abs(pos - np.round(pos)) < tol)
        gap_ok = np.zeros(len(grid), dtype=bool)
        inside = np.isfinite(pos) & ~exact
        idx = i0[inside].astype(np.int64)
        gap_ok[inside] = (times[np.minimum(idx + 1, len(times) - 1)] - times[idx]) < 1.5
        pos = np.where(exact, np.round(pos), np.where(gap_ok, pos, np.nan))
        pos = np.where(np.isfinite(pos), pos, -10.0)  # -10: outside, stays missing
        out[c] = sample_at(keypoints[c, :len(times)], pos)
    return out, lo


SYNC_FILE = "sync.toml"
RAW_KEYPOINTS_FILE = "keypoints2d_raw.npz"


def sync_session(session, method: str = "auto", reference: str | None = None,
                 options: SyncOptions | None = None) -> SyncResult | None:
    """Estimate the offsets of a session's cameras, write `sync.toml`, resample the keypoints.

    session: a session folder with `keypoints2d.npz` (and `session.toml` for timestamps).
    method: "auto" (timestamps when every camera has them, else keypoints), "timestamps" or
        "keypoints". reference: the camera with offset 0 (default: the first).
    The keypoints as detected are kept as `keypoints2d_raw.npz` and are the input of every rerun
    (as long as `keypoints2d.npz` is the one sync wrote; a newer one, e.g. from a new detect,
    becomes the raw input). Returns None, writing nothing, when the session has one camera.
    """
    import json
    from pathlib import Path

    from epicap.assets import sha256_of
    from epicap.session import KEYPOINTS_FILE, Keypoints2D
    from epicap.session.io import atomic_write
    from epicap.session.manifest import MANIFEST_FILE, SessionManifest

    if method not in ("auto", "timestamps", "keypoints"):
        raise InputError(f"unknown sync method {method!r}; valid: auto, timestamps, keypoints")
    session = Path(session)
    current, raw_path = session / KEYPOINTS_FILE, session / RAW_KEYPOINTS_FILE
    source = current
    previous = _read_sync(session / SYNC_FILE)
    if raw_path.is_file() and current.is_file() and previous.get("synced_sha256") == \
            sha256_of(current):
        source = raw_path  # keypoints2d.npz is our own output: start again from the raw one
    kp = Keypoints2D.from_npz(source)
    if len(kp.cameras) < 2:
        return None
    ref = kp.camera_index(reference) if reference else 0
    stamps = None
    if method != "keypoints" and (session / MANIFEST_FILE).is_file():
        manifest = SessionManifest.load(session)
        if all(n in manifest.names for n in kp.cameras):
            stamps = [manifest.timestamps(session, n) for n in kp.cameras]
            stamps = None if any(s is None for s in stamps) else stamps
    if method == "timestamps" and stamps is None:
        raise InputError(f"{session}: not every camera has recorded timestamps; "
                         "use --method keypoints")
    T = kp.num_frames
    if stamps is not None:
        result = offsets_from_timestamps(stamps, kp.fps, kp.cameras, ref)
        t0 = float(np.median(np.asarray(stamps[ref]) * kp.fps - np.arange(len(stamps[ref]))))
        times = [np.asarray(s[:T], dtype=np.float64) * kp.fps - t0 for s in stamps]
    else:
        result = estimate_offsets(kp.keypoints, kp.fps, kp.cameras, ref, options)
        times = [np.arange(T) + c.offset_frames for c in result.cameras]
    resampled, first = resample_to_timeline(kp.keypoints, times)
    synced = Keypoints2D(resampled, kp.cameras, kp.joint_set, kp.image_size, kp.fps, kp.joints)
    if source == current:
        kp.save(raw_path)
    synced.save(current)
    lines = ["version = 1", f"reference = {json.dumps(result.reference)}",
             f"fps = {result.fps!r}", f"first_frame = {first}",
             f"frames = {synced.num_frames}",
             f"raw_sha256 = {json.dumps(sha256_of(raw_path))}",
             f"synced_sha256 = {json.dumps(sha256_of(current))}", ""]
    for c in result.cameras:
        lines += [f"[cameras.{json.dumps(c.name)}]", f"offset_frames = {c.offset_frames:.4f}",
                  f"offset_s = {c.offset_s:.6f}", f"confidence = {c.confidence:.3f}",
                  f"method = {json.dumps(c.method)}"]
        if c.coarse_frames is not None:
            lines.append(f"coarse_frames = {c.coarse_frames:.2f}")
        lines.append("")
    with atomic_write(session / SYNC_FILE, "w") as f:
        f.write("# time offsets: camera frame i was taken at common time (i + offset_frames) / fps"
                "\n# row 0 of keypoints2d.npz is common frame `first_frame`\n" + "\n".join(lines))
    return result


def _read_sync(path) -> dict:
    """The previous sync.toml as a dict, {} when absent or unreadable."""
    import tomllib

    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError):
        return {}
