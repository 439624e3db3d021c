"""Advice on a recording that a stage can use but that will give a weaker result than it could.

Warnings, not errors: the stage still runs. Shared by the verbs and `epicap run`, so that both
say the same thing.
"""
from __future__ import annotations

from epicap.session import Keypoints2D

__all__ = ["recording_advice", "MIN_CALIBRATION_S"]

# What a good calibration needs (README, "What a good calibration needs"): the person walks
# through the whole capture volume for 20 s or more.
MIN_CALIBRATION_S = 20.0


def recording_advice(keypoints: Keypoints2D) -> list[str]:
    """Warnings about the recording behind `keypoints` for calibrating from the person.

    keypoints: the session's 2D keypoints (T frames at `fps`). Returns one line per problem
    (empty when none): a recording shorter than MIN_CALIBRATION_S seconds.
    """
    seconds = keypoints.num_frames / keypoints.fps if keypoints.fps > 0 else 0.0
    if seconds >= MIN_CALIBRATION_S:
        return []
    return [f"the recording is {seconds:.1f} s long ({keypoints.num_frames} frames at "
            f"{keypoints.fps:g} fps); calibration wants {MIN_CALIBRATION_S:.0f} s or more of the "
            "subject walking through the whole capture volume: expect a less accurate rig"]
