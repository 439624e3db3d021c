"""Matching without cameras on one timeline: detections of cameras started at different times.

Matching without cameras (`epicap.people.uncalibrated`) pairs the views of one instant: a camera
started a quarter of a second late sees everyone a quarter of a second earlier in their walk, a
pairing no single fundamental matrix explains, and people split or swap identities (measured on
synthetic scenes with offsets up to 7.7 frames: 2-41 identity switches, 1-2 extra people). Once
sync knows the offsets, the detections are put on one timeline by whole frames (camera c's frame
i at common frame i + round(offset_c); half a frame at most is left, which matching tolerates),
matched there, and the assignment is taken back to each camera's own frames. Detector slots are
unordered, so they are shifted, never interpolated.
"""
from __future__ import annotations

import numpy as np

from epicap.errors import InputError, check_shape
from epicap.people.uncalibrated import UncalibratedMatch, UncalibratedOptions, match_uncalibrated

__all__ = ["frame_shifts", "to_common_frames", "to_camera_frames", "match_on_timeline",
           "match_started_apart"]


def frame_shifts(offsets_frames) -> np.ndarray:
    """(C,) int whole-frame shifts of the offsets (frames, `sync.toml`'s offset_frames), the
    smallest moved to 0 so that every shifted index is non-negative."""
    offsets = np.asarray(offsets_frames, dtype=np.float64)
    if offsets.ndim != 1 or not np.isfinite(offsets).all():
        raise InputError(f"offsets must be C finite numbers of frames, got {offsets_frames}")
    k = np.round(offsets).astype(np.int64)
    return k - k.min()


def to_common_frames(values: np.ndarray, shifts: np.ndarray, fill) -> np.ndarray:
    """(C, T + max(shifts), ...) `values` (C, T, ...) with camera c's frame i at row
    i + shifts[c]; `fill` elsewhere."""
    C, T = values.shape[:2]
    out = np.full((C, T + int(shifts.max())) + values.shape[2:], fill, dtype=values.dtype)
    for c in range(C):
        out[c, shifts[c]:shifts[c] + T] = values[c]
    return out


def to_camera_frames(values: np.ndarray, shifts: np.ndarray, num_frames: int) -> np.ndarray:
    """Inverse of `to_common_frames`: (C, T, ...) each camera's rows back at its own frames."""
    return np.stack([values[c, shifts[c]:shifts[c] + num_frames] for c in range(len(shifts))])


def match_on_timeline(detections: np.ndarray, image_size: np.ndarray, offsets_frames,
                      options: UncalibratedOptions | None = None,
                      flip_index: np.ndarray | None = None) -> UncalibratedMatch:
    """`match_uncalibrated` of cameras started at different times (module doc).

    detections: (C, T, S, J, 3) raw detections, pixels and confidence, each camera in its own
        frame numbering. image_size: (C, 2) pixels. offsets_frames: (C,) camera c's frame i was
        taken at common time i + offset (frames). options, flip_index: as `match_uncalibrated`.
    Returns the match with `assignment`, `swapped` and `tracklets` (C, T, S) in each camera's own
    frames (the tracklets were linked on the common timeline).
    """
    dims = check_shape(detections, "C, T, S, J, 3", "detections")
    shifts = frame_shifts(offsets_frames)
    if len(shifts) != dims["C"]:
        raise InputError(f"{len(shifts)} offsets for {dims['C']} cameras")
    empty = np.zeros(3, dtype=detections.dtype)
    empty[:2] = np.nan
    common = to_common_frames(detections, shifts, empty)
    m = match_uncalibrated(common, image_size, options, flip_index=flip_index)
    T = dims["T"]
    m.assignment = to_camera_frames(m.assignment, shifts, T)
    m.swapped = to_camera_frames(m.swapped, shifts, T)
    m.tracklets = to_camera_frames(m.tracklets, shifts, T)
    return m


def match_started_apart(detections: np.ndarray, image_size: np.ndarray, fps: float,
                        options: UncalibratedOptions | None = None,
                        flip_index: np.ndarray | None = None):
    """People matched across cameras whose start times are unknown: (UncalibratedMatch,
    CoarseOffsets).

    The offsets are searched first, from everyone in view and no identities
    (`epicap.people.coarse_offsets`, up to 2 s each way on a 0.1 s grid); the people are then
    matched on that timeline (`match_on_timeline`; on the cameras' own frames when no offset
    was found). detections: (C, T, S, J, 3) raw detections, each camera in its own frames.
    image_size: (C, 2) pixels. fps: frames per second. options, flip_index: as
    `match_uncalibrated`. The match's arrays are in each camera's own frames.
    """
    from epicap.people.coarse_offsets import coarse_offsets

    coarse = coarse_offsets(detections, image_size, fps)
    return match_on_timeline(detections, image_size, coarse.offsets_frames, options,
                             flip_index), coarse
