"""Several people: matching detections across cameras and frames.

Pure, batched functions on arrays. An assignment is int32 (C, T, S): the person index of each
detection slot of each camera and frame, -1 where unassigned.

`calibrated`: matching with known cameras (rays across views, 3D tracking, left/right swaps);
`track3d`: the 3D tracking it uses; `attach`: leftover detections and swaps over time.
"""
from epicap.people.calibrated import (CalibratedMatch, MatchOptions, match_calibrated,
                                      unswap)
from epicap.people.track3d import TrackOptions, track_clusters

__all__ = ["CalibratedMatch", "MatchOptions", "match_calibrated", "unswap", "TrackOptions",
           "track_clusters"]
