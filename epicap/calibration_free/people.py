"""Calibration from every person in view: matched people pooled as extra frames.

`calibrate` hands keypoints with a person axis (C, T, P, J, 3) here. Each person-frame is a set of
correspondences between the cameras like any frame of one person, so the people are stacked
along time: person p's frames become frames p*T .. (p+1)*T - 1 of one long single-person
sequence (person-frames seen by fewer than two cameras are left out). The usual solve runs on it:
more people spread over the room give better-conditioned geometry.

The world frame and the metric scale then come from one person alone, whose height
`--subject-height` gives: person 0, the main subject, or the one `--subject` names. The floor and
scale are estimated again on that person's adjusted joints and the rig moved once more. The
other people's heights are measured in that frame and reported
(`CalibrationResult.people_heights_m`), a check on the scale.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from epicap.calibration_free.world import apply_world_frame, estimate_world_frame, person_height
from epicap.errors import GeometryError, InputError
from epicap.session import Cameras, Keypoints2D

__all__ = ["pool_people", "calibrate_people"]


def pool_people(keypoints: Keypoints2D, min_confidence: float = 0.0
                ) -> tuple[Keypoints2D, np.ndarray, np.ndarray]:
    """(single-person Keypoints2D (C, F, J, 3), person (F,) and session frame (F,) of each
    pooled frame), person 0's frames first.

    keypoints: (C, T, P, J, 3) with `people`. A person-frame is kept when two cameras or more
    see at least 4 of its joints (confidence above `min_confidence`).
    """
    C, T, P, J, _ = keypoints.keypoints.shape
    seen = (keypoints.confidence > min_confidence).sum(-1) >= 4                # (C, T, P)
    keep = seen.sum(0) >= 2                                                   # (T, P)
    t_idx, p_idx = np.nonzero(keep.T)[1], np.nonzero(keep.T)[0]               # person-major
    pooled = keypoints.keypoints[:, t_idx, p_idx]                              # (C, F, J, 3)
    return (Keypoints2D(pooled, keypoints.cameras, keypoints.joint_set, keypoints.image_size,
                        keypoints.fps, keypoints.joints), p_idx, t_idx)


# taller than nearly every adult (the 99.99th percentile is about 2.05 m): someone measured
# taller with the given height says that height belongs to someone else (the Pose2Sim
# two-person trial, scaled from a seated person: 2.49 and 2.25 m)
MAX_PLAUSIBLE_HEIGHT_M = 2.10


def _subject_index(keypoints: Keypoints2D, subject: str) -> int:
    """The index of person `subject` (an id; "" = 0, the main subject) in `keypoints.people`."""
    if not subject:
        return 0
    if subject not in keypoints.people:
        raise InputError(f"--subject {subject}: no such person in the keypoints (people: "
                         f"{', '.join(keypoints.people)})")
    return keypoints.people.index(subject)


def calibrate_people(keypoints: Keypoints2D, intrinsics, options, initial, calibrate):
    """`calibrate` for keypoints with several people (module doc). Same arguments and result,
    plus `people_heights_m` {person id: height in metres, `world.person_height`}, the person
    whose height was given (`options.subject`, default p0) first. The rig is the same whoever
    that is; only the world frame and scale come from them.
    Raises InputError when `options.subject` names no person of the keypoints."""
    main = _subject_index(keypoints, options.subject)
    who = keypoints.people[main]
    pooled, person, session_frame = pool_people(keypoints, options.min_confidence)
    if (person == main).sum() == 0:
        raise GeometryError(f"person {who} (whose height sets the scale) is never seen by two "
                            "cameras")
    # the rig does not depend on whose height is given: only the world frame and scale below
    options = replace(options, subject="")
    result = calibrate(pooled, intrinsics, options, initial, repeat_track=person)
    skeleton = keypoints.skeleton
    frame_person = person[result.frames]
    cams = result.cameras
    if initial is None:
        mine = result.points3d[frame_person == main]
        try:
            again = estimate_world_frame(mine, skeleton, cams.R, cams.t,
                                         options.subject_height_m, options.seed)
        except GeometryError as e:
            raise GeometryError(f"person {who} (whose height sets the scale): {e}") from None
        R, t, X = apply_world_frame(again, cams.R, cams.t, result.points3d)
        w = result.world
        world = replace(again, scale=w.scale * again.scale, Q=again.Q @ w.Q,
                        offset=again.scale * again.Q @ w.offset + again.offset,
                        height_solve=again.height_solve / w.scale)
        cams = Cameras(cams.names, cams.image_size, cams.K, cams.dist, R, t, cams.error_px,
                       cams.adjusted)
        result = replace(result, cameras=cams, world=world, points3d=X)
    heights = {}
    for p in [main] + [q for q in range(len(keypoints.people)) if q != main]:
        own = result.points3d[frame_person == p]
        heights[keypoints.people[p]] = person_height(own, skeleton)[0] if len(own) else \
            float("nan")
    warnings = list(result.warnings)
    tall = {n: h for n, h in heights.items() if n != who and h > MAX_PLAUSIBLE_HEIGHT_M}
    if tall and initial is None:
        warnings.append(
            f"{', '.join(f'{n} measures {h:.2f} m' for n, h in tall.items())} with {who}'s "
            f"{options.subject_height_m:.2f} m setting the scale: is {who} the person whose "
            "height was given? --subject names another (ids as `epicap report` shows them)")
    # frames: session frame numbers again (a frame appears once per person adjusted in it)
    return replace(result, people_heights_m=heights, frames=session_frame[result.frames],
                   warnings=warnings)
