"""People in view: matching detections across cameras and frames.

Pure, batched functions on arrays. An assignment is int32 (C, T, S): the person index of each
detection slot of each camera and frame, -1 where unassigned.

- `tracklets`: per-camera tracklets;
- `uncalibrated`: matching before any calibration (tracklet pairings that fit one fundamental
  matrix, then frame-by-frame epipolar re-matching);
- `calibrated`: matching with known cameras (rays across views, 3D tracking, left/right swaps);
  `track3d`: the 3D tracking it uses; `attach`: leftover detections and swaps over time;
- `assignment`: `gather` of detections into per-person keypoints, and assignment checks.
"""
from epicap.people.assignment import (check_assignment, gather, order_people, person_frames,
                                      prominence)
from epicap.people.calibrated import (CalibratedMatch, MatchOptions, match_calibrated,
                                      unswap)
from epicap.people.track3d import TrackOptions, track_clusters
from epicap.people.tracklets import link_tracklets
from epicap.people.uncalibrated import (UncalibratedMatch, UncalibratedOptions,
                                        match_uncalibrated)

__all__ = ["check_assignment", "gather", "order_people", "person_frames", "prominence",
           "CalibratedMatch", "MatchOptions", "match_calibrated", "unswap", "TrackOptions",
           "track_clusters", "link_tracklets", "UncalibratedMatch", "UncalibratedOptions",
           "match_uncalibrated"]
