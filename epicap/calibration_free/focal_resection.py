"""Each camera's own focal length, by resection against the joints the other cameras triangulate.

The focal search (`focal_search`) finds one focal length for every camera: right for a rig of one
camera model, wrong for a lab that mixes lenses (a phone, an action camera, a zoomed camcorder:
focal lengths 2-3x apart). Registered with a shared value, such a camera lands off and pulls the
rest; measured on random rigs, the median rotation error was 2-3 deg against 0.08 for one camera
model. Here, after a quick solve at the shared focal length, every camera is resected on its
own: the joints the *other* cameras triangulate are 3D points, and the camera's pose and focal
length come from them together (Hartley & Zisserman ch. 7: resection; the focal length is the one
intrinsic a pose cannot absorb): pycolmap's LO-RANSAC over the minimal solver with unknown focal
length (P4Pf, Bujnak et al. 2008; Larsson et al. 2017), then a robust refinement of pose and focal
length on the inliers. A camera keeps its start unless its own focal length cuts the median
reprojection error of every joint clearly (`MIN_GAIN`) against the same resection at the start
(P3P LO-RANSAC and refinement, the focal length fixed), and a focal length more than 3x from the
start is not believed.

It replaced a 29-point grid over 1/3x-3x with one OpenCV PnP RANSAC per point, a third of an
unknown-focal calibration of the Pose2Sim demo; this takes a twentieth of that time.
"""
from __future__ import annotations

import numpy as np

__all__ = ["resect_focals", "MIN_GAIN"]

MIN_GAIN = 0.75  # a camera's own focal length must cut its median reprojection error to this
MAX_FACTOR = 3.0  # an own focal length further than this factor from the start is not believed
_MIN_POINTS = 30
# RANSAC trials per resection: with the quick solves' low inlier shares pycolmap's default (10,000)
# always ran them all; on the Pose2Sim demo 2,000 find the same inliers, 5x faster
MAX_TRIALS = 2000


def _resect(X: np.ndarray, uv: np.ndarray, size: np.ndarray, focal_px: float,
            threshold_px: float, free_focal: bool) -> tuple[float, float]:
    """(focal length in pixels, median reprojection error in pixels over every point) of a camera
    resected against 3D points X (N, 3) seen at pixels uv (N, 2), principal point at the image
    centre: pycolmap's LO-RANSAC and robust refinement, at `focal_px` or with the focal length
    free (P4Pf, started at `focal_px`); (nan, inf) when it fails."""
    import cv2
    import pycolmap

    # pycolmap's pixel centres are at +0.5 (the top-left pixel spans 0..1)
    camera = pycolmap.Camera(model="SIMPLE_PINHOLE", width=int(size[0]), height=int(size[1]),
                             params=[float(focal_px), size[0] / 2, size[1] / 2])
    estimation = pycolmap.AbsolutePoseEstimationOptions()
    estimation.estimate_focal_length = free_focal
    estimation.ransac.max_error = float(threshold_px)
    estimation.ransac.random_seed = 0
    estimation.ransac.max_num_trials = MAX_TRIALS
    refinement = pycolmap.AbsolutePoseRefinementOptions()
    refinement.refine_focal_length = free_focal
    found = pycolmap.estimate_and_refine_absolute_pose(uv + 0.5, X, camera, estimation,
                                                       refinement)
    focal = float(camera.params[0])
    if found is None or found["num_inliers"] < 6 or not np.isfinite(focal) or focal <= 0:
        return float("nan"), np.inf
    pose = found["cam_from_world"]
    K = np.array([[focal, 0, (size[0] - 1) / 2], [0, focal, (size[1] - 1) / 2], [0, 0, 1]])
    proj, _ = cv2.projectPoints(X, cv2.Rodrigues(pose.rotation.matrix())[0],
                                np.asarray(pose.translation, np.float64), K, None)
    return focal, float(np.median(np.linalg.norm(proj[:, 0] - uv, axis=1)))


def resect_focals(points3d_by_camera: list[np.ndarray | None], pixels: list[np.ndarray | None],
                  size: np.ndarray, start_px: np.ndarray, threshold_px: float) -> np.ndarray:
    """(C,) focal lengths (pixels): each camera's own where it fits clearly better than its start.

    points3d_by_camera: per camera c, (N_c, 3) joints triangulated *without* camera c (any
        world frame and scale), or None. pixels: per camera, (N_c, 2) its detections of them.
    size: (C, 2) image width, height. start_px: (C,) the focal lengths so far (pixels).
    threshold_px: the RANSAC inlier threshold (pixels).
    """
    out = np.asarray(start_px, dtype=np.float64).copy()
    for c, (X, uv) in enumerate(zip(points3d_by_camera, pixels)):
        if X is None or len(X) < _MIN_POINTS:
            continue
        X, uv = np.asarray(X, np.float64), np.asarray(uv, np.float64)
        focal, error = _resect(X, uv, size[c], out[c], threshold_px, free_focal=True)
        if not abs(np.log(focal / out[c])) <= np.log(MAX_FACTOR):  # nan: failed
            continue
        if error < MIN_GAIN * _resect(X, uv, size[c], out[c], threshold_px, False)[1]:
            out[c] = focal
    return out
