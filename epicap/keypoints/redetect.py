"""Find the people a single-person-minded detector missed: paint over those found, look again.

MediaPipe's pose detector (BlazePose, Bazarevsky et al. 2020) was trained for one prominent
person: with two people close together, or one small at the back, it often reports only one of
them even when asked for four, because its non-maximum suppression merges nearby people's boxes
and its 224 x 224 input leaves small people a few pixels tall. Measured on the Pose2Sim two-person
trial (4 cameras x 100 frames, 2 participants in every view): VIDEO mode with 4 slots found both
participants in 22-78% of the frames per camera (0% in cam03).

Remedy, per frame: after the landmarker has run (VIDEO mode, tracking as before), every person
found is painted over with flat grey (the convex hull of their landmarks, grown by a margin), and
the landmarker runs again in IMAGE mode (a fresh person detection) on the painted frame; repeated
while people are found and slots are left. Each pass costs one landmarker call on the frame. A
pose found in a later pass whose joints lie mostly inside the painted area is a ghost of someone
already found (an arm left outside the hull) and is dropped.

Known limit: a person mostly hidden behind someone found earlier is painted over with them.
"""
from __future__ import annotations

import numpy as np

__all__ = ["paint_over", "inside_fraction"]

GREY = 127  # the flat colour painted over people already found


def paint_over(image: np.ndarray, poses: np.ndarray, margin: float = 0.06,
               min_confidence: float = 0.05) -> np.ndarray:
    """(H, W) bool mask of the people in `poses`, painted grey into `image` in place.

    image: (H, W, 3) uint8 frame. poses: (P, J, 3) x, y pixels, confidence; joints below
        `min_confidence` (or NaN) are ignored, a pose with fewer than 3 joints paints nothing.
    margin: the hull of each pose's joints is grown by this fraction of the pose's size (the
        larger side of its bounding box), so that the limbs' outlines around the joints go too.
    """
    import cv2

    H, W = image.shape[:2]
    mask = np.zeros((H, W), dtype=np.uint8)
    for pose in np.asarray(poses, dtype=np.float64):
        xy = pose[(pose[:, 2] >= min_confidence) & np.isfinite(pose[:, :2]).all(1), :2]
        if len(xy) < 3:
            continue
        one = np.zeros_like(mask)
        cv2.fillConvexPoly(one, cv2.convexHull(xy.astype(np.float32)).astype(np.int32), 1)
        grow = int(round(margin * float(np.max(xy.max(0) - xy.min(0)))))
        if grow > 0:
            one = cv2.dilate(one, cv2.getStructuringElement(cv2.MORPH_ELLIPSE,
                                                            (2 * grow + 1, 2 * grow + 1)))
        mask |= one
    painted = mask.astype(bool)
    image[painted] = GREY
    return painted


def inside_fraction(poses: np.ndarray, mask: np.ndarray, min_confidence: float = 0.05
                    ) -> np.ndarray:
    """(P,) fraction of each pose's joints (confidence >= `min_confidence`) that fall inside
    `mask` ((H, W) bool); joints outside the image count as outside; 0 for a pose with none."""
    poses = np.asarray(poses, dtype=np.float64)
    H, W = mask.shape
    seen = (poses[..., 2] >= min_confidence) & np.isfinite(poses[..., :2]).all(-1)
    x = np.clip(np.nan_to_num(np.round(poses[..., 0]), nan=-1), -1, W).astype(np.int64)
    y = np.clip(np.nan_to_num(np.round(poses[..., 1]), nan=-1), -1, H).astype(np.int64)
    valid = seen & (x >= 0) & (x < W) & (y >= 0) & (y < H)
    hit = np.zeros(seen.shape, dtype=bool)
    hit[valid] = mask[y[valid], x[valid]]
    n = seen.sum(-1)
    return np.where(n > 0, hit.sum(-1) / np.maximum(n, 1), 0.0)
