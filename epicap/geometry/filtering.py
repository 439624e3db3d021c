"""Temporal filtering of 3D joint trajectories that respects gaps, and a body-extent check.

A joint's trajectory is split into runs of consecutive triangulated frames; each run is smoothed
on its own by a zero-phase Butterworth low-pass (`scipy.signal.sosfiltfilt`: the filter run forward
and backward, so no lag; Winter, "Biomechanics and Motor Control of Human Movement", 4th ed., 3.4,
uses the same 4th-order zero-lag filter at ~6 Hz for gait). NaN runs are never bridged, except
short interior gaps when `max_gap_s` asks for them to be filled by interpolation first.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from epicap.errors import InputError, check_shape

__all__ = ["SmoothingOptions", "contiguous_runs", "fill_gaps", "smooth_poses", "far_joints"]


@dataclass(frozen=True)
class SmoothingOptions:
    """Knobs of `smooth_poses`.

    cutoff_hz: low-pass cutoff in Hz (must lie below fps / 2). Human motion: 6 Hz for walking,
        10-12 Hz for fast sports.
    order: Butterworth order of the filter run once each way (the result has twice the roll-off).
    max_gap_s: interior NaN gaps up to this long (seconds) are filled by interpolation before
        filtering (the filled frames stay filled); 0 fills nothing. Longer gaps split the runs.
    """

    cutoff_hz: float = 6.0
    order: int = 4
    max_gap_s: float = 0.0

    def __post_init__(self):
        if not self.cutoff_hz > 0:
            raise InputError(f"smoothing cutoff must be positive, got {self.cutoff_hz} Hz")
        if not 1 <= self.order <= 8:
            raise InputError(f"smoothing order must lie in 1..8, got {self.order}")
        if not self.max_gap_s >= 0:
            raise InputError(f"max_gap_s must be >= 0, got {self.max_gap_s}")


def contiguous_runs(valid: np.ndarray) -> list[tuple[int, int]]:
    """(start, stop) index pairs of the runs of True in a 1-D bool array, stop exclusive.

    Example:
        >>> contiguous_runs(np.array([1, 1, 0, 0, 1, 0, 1, 1], bool))
        [(0, 2), (4, 5), (6, 8)]
    """
    v = np.concatenate([[False], np.asarray(valid, dtype=bool), [False]])
    edges = np.flatnonzero(v[1:] != v[:-1])
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2])]


def fill_gaps(poses: np.ndarray, max_gap_frames: int, kind: str = "linear") -> np.ndarray:
    """Poses with interior NaN gaps of at most `max_gap_frames` frames filled by interpolation.

    poses: (T, J, 3) metres, NaN where missing. kind: "linear" or "cubic" (a cubic spline
    through the whole run of each joint, `scipy.interpolate.CubicSpline`). Gaps at the start or
    end, and longer gaps, stay NaN. Returns a new (T, J, 3) array.
    """
    check_shape(poses, "T, J, 3", "poses")
    if kind not in ("linear", "cubic"):
        raise InputError(f"gap filling kind must be linear or cubic, got {kind!r}")
    out = np.array(poses, dtype=np.float64)
    frames = np.arange(out.shape[0])
    for j in range(out.shape[1]):
        valid = np.isfinite(out[:, j]).all(-1)
        if valid.sum() < 2 or valid.all():
            continue
        gaps = [(a, b) for a, b in contiguous_runs(~valid)
                if a > 0 and b < len(valid) and b - a <= max_gap_frames]
        if not gaps:
            continue
        fill = np.concatenate([frames[a:b] for a, b in gaps])
        if kind == "linear":
            for k in range(3):
                out[fill, j, k] = np.interp(fill, frames[valid], out[valid, j, k])
        else:
            from scipy.interpolate import CubicSpline

            out[fill, j] = CubicSpline(frames[valid], out[valid, j])(fill)
    return out


def smooth_poses(poses: np.ndarray, fps: float,
                 options: SmoothingOptions = SmoothingOptions()) -> np.ndarray:
    """Zero-phase Butterworth low-pass of every joint trajectory, one contiguous run at a time.

    poses: (T, J, 3) metres, NaN where not triangulated. fps: frames per second.
    Returns (T, J, 3): NaN exactly where the input is NaN after the optional gap filling. Runs too
    short for the filter's edge padding use a shorter padding; runs of fewer than 3 frames are
    returned as they are.
    """
    from scipy.signal import butter, sosfiltfilt

    check_shape(poses, "T, J, 3", "poses")
    if not (np.isfinite(fps) and fps > 0):
        raise InputError(f"fps must be positive, got {fps}")
    if options.cutoff_hz >= fps / 2:
        raise InputError(f"smoothing cutoff {options.cutoff_hz} Hz must lie below half the frame "
                         f"rate ({fps / 2:g} Hz)")
    out = np.array(poses, dtype=np.float64)
    if options.max_gap_s > 0:
        out = fill_gaps(out, int(round(options.max_gap_s * fps)))
    sos = butter(options.order, options.cutoff_hz, btype="low", fs=fps, output="sos")
    default_pad = 3 * (2 * len(sos) + 1)  # sosfiltfilt's own default
    for j in range(out.shape[1]):
        for a, b in contiguous_runs(np.isfinite(out[:, j]).all(-1)):
            if b - a >= 3:
                out[a:b, j] = sosfiltfilt(sos, out[a:b, j], axis=0,
                                          padlen=min(default_pad, b - a - 1))
    return out


def far_joints(poses: np.ndarray, max_distance_m: float = 2.0) -> np.ndarray:
    """(T, J) bool: joints farther than `max_distance_m` from the median of their own frame's
    joints, which no single person's joint can be (a triangulation from views that agree by
    chance). poses: (T, J, 3) metres, NaN where missing (never flagged).

    Example:
        >>> poses = np.zeros((1, 5, 3)); poses[0, 4] = [0.0, 0.0, 3.0]
        >>> far_joints(poses)
        array([[False, False, False, False,  True]])
    """
    check_shape(poses, "T, J, 3", "poses")
    if not max_distance_m > 0:
        raise InputError(f"max_distance_m must be positive, got {max_distance_m}")
    poses = np.asarray(poses, dtype=np.float64)
    valid = np.isfinite(poses).all(-1)
    median = np.full((poses.shape[0], 1, 3), np.nan)
    some = valid.any(-1)
    median[some] = np.nanmedian(poses[some], axis=1, keepdims=True)
    with np.errstate(invalid="ignore"):
        return valid & (np.linalg.norm(poses - median, axis=-1) > max_distance_m)
