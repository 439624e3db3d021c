"""Every camera pair's relative pose from all frames' joints pooled, with a conditioning score.

The joints two cameras both see, over every frame, are one big set of correspondences: the
person's motion spreads them through 3D, which a single frame (EpipolarPose's estimate) never
does. See `epicap.geometry.epipolar` for the estimators.
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np

from epicap.errors import check_shape
from epicap.geometry.epipolar import (RansacOptions, RelativePose, estimate_relative_pose,
                                      pair_conditioning, relative_pose_per_frame)

__all__ = ["PairGeometry", "estimate_pairs", "best_pair", "cycle_errors_deg", "per_frame_pairs"]

# a starting pair's rotation must agree with those through (half the) third cameras within this
# (degrees); right pairs agree within about a degree
CYCLE_TOLERANCE_DEG = 5.0


@dataclass
class PairGeometry:
    """The pooled relative pose of cameras i < j (`cam_j_from_cam_i`) and how well it is fixed.

    pose: the RelativePose. num_common: observations (frame, joint) both cameras see.
    score, parallax_deg, spread: see `epicap.geometry.epipolar.pair_conditioning`.
    """

    i: int
    j: int
    pose: RelativePose
    num_common: int
    score: float = 0.0
    parallax_deg: float = 0.0
    spread: float = 0.0


def _flatten_pair(xy: np.ndarray, w: np.ndarray, i: int, j: int):
    both = (w[i] > 0) & (w[j] > 0)  # (T, J)
    return xy[i][both], xy[j][both], both


def estimate_pairs(xy: np.ndarray, weights: np.ndarray, focal_px: np.ndarray,
                   threshold_px: float = 6.0, min_points: int = 15) -> dict[tuple[int, int],
                                                                               PairGeometry]:
    """Pooled relative poses of every camera pair.

    xy: (C, T, J, 2) undistorted normalized coordinates, NaN where unseen.
    weights: (C, T, J) observation weights, 0 where unused. focal_px: (C,) focal lengths, to turn
        `threshold_px` (the MAGSAC threshold, pixels) into normalized units for each pair.
    Returns {(i, j): PairGeometry} for i < j (failed pairs included, `pose.success` False).
    """
    C = check_shape(xy, "C, T, J, 2", "xy")["C"]
    out = {}
    for i, j in combinations(range(C), 2):
        a, b, _ = _flatten_pair(xy, weights, i, j)
        thr = threshold_px / np.sqrt(focal_px[i] * focal_px[j])
        pose = estimate_relative_pose(a, b, RansacOptions(threshold=thr, min_points=min_points))
        geo = PairGeometry(i, j, pose, len(a))
        if pose.success:
            geo.score, geo.parallax_deg, geo.spread = pair_conditioning(
                pose.R, pose.t, a[pose.inliers], b[pose.inliers])
        out[(i, j)] = geo
    return out


def best_pair(pairs: dict[tuple[int, int], PairGeometry],
              tolerance_deg: float = CYCLE_TOLERANCE_DEG) -> PairGeometry | None:
    """The successful pair with the highest conditioning score whose rotation the other pairs
    confirm, or None if none succeeded.

    A pair's pooled essential matrix can be wrong yet fit most joints: a near-planar motion
    (crawling, the joints within half a metre of the floor) leaves the twin solution of a
    planar scene, which explained 85% of 2,081 joints with a 152-degree error in a random
    11-camera rig, more than most right pairs did, and the whole rig was built on it. Every
    registration starts from this pair, so it must agree with the rest: its rotation and the
    composition through a third camera k (`cycle_errors_deg`) must agree within `tolerance_deg`
    for at least half of the k (one wrong pair spoils the cycles of the right pairs through it,
    never most of them, with 4 or more cameras). When no pair qualifies (2 cameras, or 3 with
    one wrong pair: nothing tells which; or detector noise beyond the tolerance everywhere) the
    best score wins, as before. The Pose2Sim demo's OpenPose pairs (4 cameras, Qualisys
    intrinsics) agree within 3.7-11 deg, and the same pair as before is chosen.
    """
    good = sorted((p for p in pairs.values() if p.pose.success and p.score > 0),
                  key=lambda p: -p.score)
    for p in good:
        errors = cycle_errors_deg(pairs, p.i, p.j)
        if len(errors) and np.mean(errors <= tolerance_deg) >= 0.5:
            return p
    return good[0] if good else None


def cycle_errors_deg(pairs: dict[tuple[int, int], PairGeometry], i: int, j: int) -> np.ndarray:
    """Angles (degrees) between the pair (i, j)'s rotation and the composition of (i, k) and
    (k, j), one per third camera k where all three pairs succeeded (empty when none). Right
    pairs agree within the noise of their estimates (about a degree)."""
    def rel(a, b):  # rotation cam_b_from_cam_a, or None
        p = pairs.get((min(a, b), max(a, b)))
        if p is None or not p.pose.success:
            return None
        return p.pose.R if a < b else p.pose.R.T

    R_ij = rel(i, j)
    errors = []
    for k in sorted({c for key in pairs for c in key} - {i, j}):
        R_ik, R_kj = rel(i, k), rel(k, j)
        if R_ij is not None and R_ik is not None and R_kj is not None:
            D = R_ij.T @ R_kj @ R_ik
            errors.append(np.degrees(np.arccos(np.clip((np.trace(D) - 1) / 2, -1.0, 1.0))))
    return np.array(errors)


def per_frame_pairs(xy: np.ndarray, weights: np.ndarray, focal_px: np.ndarray, ref: int,
                    threshold_px: float = 6.0) -> dict[int, tuple[np.ndarray, np.ndarray,
                                                                  np.ndarray]]:
    """EpipolarPose's per-frame relative poses of every camera with camera `ref`.

    xy, weights, focal_px: as in `estimate_pairs`. Returns {c: (R (T, 3, 3), t (T, 3),
    num_inliers (T,))} with `cam_c_from_cam_ref` per frame, NaN where a frame had no estimate.
    """
    C = xy.shape[0]
    out = {}
    for c in range(C):
        if c == ref:
            continue
        both = (weights[ref] > 0) & (weights[c] > 0)
        a = np.where(both[..., None], xy[ref], np.nan)
        b = np.where(both[..., None], xy[c], np.nan)
        thr = threshold_px / np.sqrt(focal_px[ref] * focal_px[c])
        out[c] = relative_pose_per_frame(a, b, threshold=thr)
    return out
