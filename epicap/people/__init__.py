"""People in view: per-camera tracklets, matching across cameras, and assignments of detections.

An assignment is int32 (C, T, S): the person index of each detection slot, -1 when unassigned.

`tracklets`: per-camera tracklets; `uncalibrated`: matching before any calibration (tracklet
pairings that fit one fundamental matrix, then frame-by-frame epipolar re-matching);
`assignment`: `gather` of detections into per-person keypoints and assignment checks.
"""
from epicap.people.assignment import check_assignment, gather, order_people, person_frames
from epicap.people.tracklets import link_tracklets
from epicap.people.uncalibrated import (UncalibratedMatch, UncalibratedOptions,
                                        match_uncalibrated)

__all__ = ["check_assignment", "gather", "order_people", "person_frames", "link_tracklets",
           "UncalibratedMatch", "UncalibratedOptions", "match_uncalibrated"]
