"""People in view: per-camera tracklets, matching across cameras, and assignments of detections.

An assignment is int32 (C, T, S): the person index of each detection slot, -1 when unassigned.
"""
