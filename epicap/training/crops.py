"""Person crops for the image student: a square box from the 2D keypoints, read from the video.

The box is centred on the root joint's pixel (the pelvis), so the crop's centre is the origin of
the root-relative 3D pose the integral student predicts, and its side is proportional to the
person's extent in the image (EpipolarPose and Sun et al.'s integral regression crop the same
way: a square patch around the person, resized to the network's input size).
"""
from __future__ import annotations

import os

import numpy as np

from epicap.errors import InputError

__all__ = ["crop_boxes", "crop_affine", "read_crops"]

_MIN_SIDE_PX = 16.0


def crop_boxes(keypoints: np.ndarray, root_index: np.ndarray, margin: float = 1.2) -> np.ndarray:
    """Square boxes around people: (N, 3) x0, y0, side in pixels; NaN rows where nothing is seen.

    keypoints: (N, J, 3) x, y pixels and confidence; missing joints NaN.
    root_index: (R,) joints whose mean is the box centre (the bounding box centre if one of them
        is missing). margin: side = 2 * margin * the largest x or y distance of a joint from the
        centre (at least 16 px).
    """
    xy = np.asarray(keypoints, dtype=np.float64)[..., :2]
    seen = np.isfinite(xy).all(axis=-1)
    with np.errstate(invalid="ignore"), _quiet():
        lo, hi = np.nanmin(xy, axis=1), np.nanmax(xy, axis=1)
        centre = xy[:, root_index].mean(axis=1)
    centre = np.where(np.isfinite(centre), centre, (lo + hi) / 2)
    with _quiet():
        extent = np.nanmax(np.abs(xy - centre[:, None]), axis=(1, 2))
    side = np.maximum(2 * margin * extent, _MIN_SIDE_PX)
    box = np.column_stack([centre - side[:, None] / 2, side])
    box[~seen.any(axis=1)] = np.nan
    return box


def crop_affine(box: np.ndarray, size: int) -> np.ndarray:
    """(N, 2, 3) affine maps from original pixels to crop pixels of a size x size crop.

    box: (N, 3) x0, y0, side from `crop_boxes`. Pixel centres follow OpenCV (the top-left pixel's
    centre at (0, 0)), so the box's corner (x0, y0) maps to (-0.5, -0.5).
    """
    box = np.asarray(box, dtype=np.float64)
    s = size / box[:, 2]
    A = np.zeros((len(box), 2, 3))
    A[:, 0, 0] = A[:, 1, 1] = s
    # x_crop = s * (x - x0) - 0.5: the box centre x0 + side / 2 lands on the crop centre S/2 - 0.5
    A[:, 0, 2] = -s * box[:, 0] - 0.5
    A[:, 1, 2] = -s * box[:, 1] - 0.5
    return A


def read_crops(video: str | os.PathLike, frames: np.ndarray, boxes: np.ndarray,
               size: int) -> tuple[np.ndarray, np.ndarray]:
    """Read the crops `boxes` of `frames` from a video: (crops (N, S, S, 3) uint8 RGB, ok (N,)).

    video: a file OpenCV can read. frames: (N,) frame indices (any order). boxes: (N, 3) from
    `crop_boxes`. The video is read once, front to back; `ok` is False for frames the video does
    not have. Outside the image the crop is black.
    """
    import cv2

    frames = np.asarray(frames, dtype=np.int64)
    crops = np.zeros((len(frames), size, size, 3), dtype=np.uint8)
    ok = np.zeros(len(frames), dtype=bool)
    if len(frames) == 0:
        return crops, ok
    cap = cv2.VideoCapture(str(video))
    if not cap.isOpened():
        raise InputError(f"{video}: cannot open the video")
    A = crop_affine(boxes, size)
    order = np.argsort(frames, kind="stable")
    try:
        frame_no, image, k = -1, None, 0
        while k < len(order):
            want = frames[order[k]]
            while frame_no < want:
                got, image = cap.read()
                if not got:
                    return crops, ok
                frame_no += 1
            i = order[k]
            crop = cv2.warpAffine(image, A[i], (size, size), flags=cv2.INTER_LINEAR,
                                  borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0))
            crops[i] = crop[..., ::-1]  # BGR -> RGB
            ok[i] = True
            k += 1
    finally:
        cap.release()
    return crops, ok


class _quiet:
    """Silence numpy's all-NaN-slice warnings (NaN is the expected answer there)."""

    def __enter__(self):
        import warnings

        self._w = warnings.catch_warnings()
        self._w.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc):
        self._w.__exit__(*exc)
