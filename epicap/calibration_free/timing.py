"""Calibration with the sync's sub-frame offsets refined by the cameras it finds.

Offsets that `sync` estimated from the keypoints alone are a tenth of a frame or so off, and
moving people turn such a timing error into a systematic 2D error that the cameras take up
(`capture.sync_cameras` says how much). Once a calibration exists, the cameras say how far each
camera's keypoints run ahead (`capture.sync_cameras.refine_timing`); where that is clearly
more than nothing, the keypoints are shifted by it and the rig is calibrated again, and so on
while the shifts keep mattering. The calibration takes up part of a timing error in its turns,
so each calibration on shifted keypoints finds a little more of it.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from epicap.capture.sync_cameras import (TimingFit, shift_keypoints, shift_text,
                                         timed_keypoints)

__all__ = ["TimingRefinement", "calibrate_timed"]

MAX_RATIO = 0.75  # the share of a timing error a calibration may be taken to absorb


@dataclass
class TimingRefinement:
    """How far each camera's keypoints ran ahead of the common timeline, found with the cameras.

    names: the cameras of the keypoints. shift_frames: (C,) the shift applied to each camera's
    keypoints (its row t showed the instant t + shift; `capture.sync_cameras.shift_keypoints`
    undoes it); 0 for cameras held (offsets not estimated from the keypoints) or not calibrated.
    last: the last TimingFit computed (the one that stopped the rounds, or led to the last
    calibration when `max_rounds` ran out; None when there was nothing to refine). rounds:
    calibrations run after the first.
    """

    names: list[str]
    shift_frames: np.ndarray
    last: TimingFit | None
    rounds: int

    def describe(self) -> str:
        """One clause for the calibration's summary."""
        if self.rounds == 0:
            if self.last is None:
                return ("sync offsets not refined (fewer than three cameras calibrated, or "
                        "none on a timeline to hold)")
            why = (f"not applied, {self.last.doubt()}" if self.last.doubt() else
                   "no camera's keypoints run ahead of the others")
            return f"sync offsets checked with the cameras: {why}"
        shifts = shift_text(self.names, self.shift_frames)
        return (f"sync offsets refined with the cameras ({shifts}; the rig calibrated "
                f"{self.rounds + 1} times)")


def calibrate_timed(keypoints, intrinsics, options, repeat_track, calibrate,
                    max_rounds: int = 3):
    """`calibrate(...)` with the offsets of `options.refine_timing`'s cameras refined (module
    doc). calibrate: `pipeline.calibrate` (passed in, as `people.calibrate_people` gets it).
    Returns its CalibrationResult with `timing` set and `cameras` from the last round."""
    inner = dataclasses.replace(options, refine_timing=())
    names = list(keypoints.cameras)
    result = calibrate(keypoints, intrinsics, inner, None, repeat_track)
    total, fit, rounds, now, last = np.zeros(len(names)), None, 0, keypoints, None
    for _ in range(max_rounds):
        moved, fit = timed_keypoints(now, result.cameras, options.refine_timing,
                                     options.min_confidence)
        if moved is now:
            break
        step = fit.shift_frames
        if last is not None:  # each calibration takes up a share of what is left: Aitken
            ratio = float(np.clip(step @ last / max(last @ last, 1e-12), 0.0, MAX_RATIO))
            step = step / (1.0 - ratio)
        last = fit.shift_frames
        total += step
        moved = shift_keypoints(keypoints.keypoints, total, keypoints.skeleton.flip_index)
        now = dataclasses.replace(keypoints, keypoints=moved)
        result = calibrate(now, intrinsics, inner, None, repeat_track)
        rounds += 1
    result.timing = TimingRefinement(names, total, fit, rounds)
    return result
