"""How far a recovered camera rig is from the truth, in a frame-independent way.

A calibration-free rig lives in its own world frame (and, before metric scaling, its own scale), so
the comparison first finds the best similarity between the two worlds:
- rotation error of each camera after the best common rotation (the chordal mean of
  R_true_c^T R_est_c, Hartley et al., "Rotation averaging", IJCV 2013),
- relative-rotation error of every camera pair (needs no alignment at all),
- camera-centre error after a similarity alignment of the centres (Umeyama), in metres and as a
  percentage of the mean distance between true camera centres.

Without a true rig, `held_out_fit` says how well a rig explains a recording's 2D joints: each
camera's joints against their reprojection from the other cameras.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from epicap.errors import InputError, check_shape
from epicap.geometry.alignment import umeyama
from epicap.geometry.camera import camera_centers

__all__ = ["RigComparison", "compare_rigs", "rotation_angle_deg", "z_angle_deg", "HeldOutFit",
           "held_out_fit"]


def rotation_angle_deg(R: np.ndarray) -> np.ndarray:
    """Angle (...,) in degrees of rotation matrices (..., 3, 3), accurate near 0 (atan2 of the
    skew and symmetric parts rather than arccos of the trace)."""
    R = np.asarray(R, np.float64)
    cos = (np.trace(R, axis1=-2, axis2=-1) - 1) / 2
    axis = np.stack([R[..., 2, 1] - R[..., 1, 2], R[..., 0, 2] - R[..., 2, 0],
                     R[..., 1, 0] - R[..., 0, 1]], axis=-1)
    sin = np.linalg.norm(axis, axis=-1) / 2
    return np.degrees(np.arctan2(sin, cos))


def z_angle_deg(a_from_b: np.ndarray) -> float:
    """The angle (degrees) between the Z axes of two world frames, given the rotation (3, 3)
    that maps b's coordinates into a's: how far apart their "up" is when both are Z up (a
    calibration-free world against a lab's)."""
    return float(np.degrees(np.arccos(np.clip(np.asarray(a_from_b)[2, 2], -1.0, 1.0))))


@dataclass
class RigComparison:
    """rotation_deg: (C,) per camera after the best common rotation. relative_rotation_deg: (P,)
    over the camera pairs (a, b), a < b, in `pairs` order. centre_error_m: (C,) after a similarity
    alignment of the estimated centres onto the true ones. baseline_m: mean distance between true
    centres. scale: the similarity's scale (1 for a correctly metric rig in metres). up_deg: the
    angle between the two worlds' Z axes under that alignment (`z_angle_deg`)."""

    rotation_deg: np.ndarray
    relative_rotation_deg: np.ndarray
    pairs: list[tuple[int, int]]
    centre_error_m: np.ndarray
    baseline_m: float
    scale: float
    up_deg: float = float("nan")

    @property
    def centre_error_pct(self) -> np.ndarray:
        """(C,) centre errors as a percentage of the mean baseline."""
        return 100.0 * self.centre_error_m / self.baseline_m


def compare_rigs(R_true: np.ndarray, t_true: np.ndarray, R_est: np.ndarray,
                 t_est: np.ndarray) -> RigComparison:
    """Compare an estimated rig with the truth (same cameras, same order).

    R_true, R_est: (C, 3, 3) and t_true, t_est: (C, 3), `cam_from_world` of each rig in its own
    world frame (metres for the truth; any scale for the estimate). C >= 2; with 2 cameras the
    centres are aligned by the common rotation and their mean only (no scale). Raises
    InputError for fewer than 2 cameras, GeometryError when 3 or more centres are collinear.

    Example:
        >>> R = np.stack([np.eye(3)] * 3); t = np.array([[0, 0, 4.0], [1, 0, 4], [0, 1, 4]])
        >>> cmp = compare_rigs(R, t, R, 2 * t)      # same rig, twice the scale
        >>> float(cmp.rotation_deg.max()), round(cmp.scale, 6), float(cmp.centre_error_m.max()) < 1e-9
        (0.0, 0.5, True)
    """
    C = check_shape(R_true, "C, 3, 3", "R_true")["C"]
    for x, spec, name in ((t_true, "C, 3", "t_true"), (R_est, "C, 3, 3", "R_est"),
                          (t_est, "C, 3", "t_est")):
        check_shape(x, spec, name, {"C": C})
    if C < 2:
        raise InputError(f"compare_rigs: needs at least 2 cameras, got {C}")
    R_true, R_est = np.asarray(R_true, np.float64), np.asarray(R_est, np.float64)
    # world_true <- world_est rotation: the projection of sum_c R_true^T R_est onto SO(3)
    U, _, Vt = np.linalg.svd(np.einsum("cji,cjk->ik", R_true, R_est))
    Q = U @ np.diag([1.0, 1.0, np.sign(np.linalg.det(U @ Vt))]) @ Vt
    rotation = rotation_angle_deg(np.einsum("cji,cjk,lk->cil", R_true, R_est, Q))
    pairs = [(a, b) for a in range(C) for b in range(a + 1, C)]
    rel_true = np.stack([R_true[b] @ R_true[a].T for a, b in pairs])
    rel_est = np.stack([R_est[b] @ R_est[a].T for a, b in pairs])
    relative = rotation_angle_deg(np.einsum("pji,pjk->pik", rel_true, rel_est))
    c_true, c_est = camera_centers(R_true, t_true), camera_centers(R_est, t_est)
    if C >= 3:
        s, Qc, p = umeyama(c_est, c_true)
    else:
        s, Qc = 1.0, Q
        p = c_true.mean(0) - Q @ c_est.mean(0)
    aligned = s * c_est @ Qc.T + p
    baseline = float(np.mean([np.linalg.norm(c_true[a] - c_true[b]) for a, b in pairs]))
    return RigComparison(rotation, relative, pairs, np.linalg.norm(aligned - c_true, axis=1),
                         baseline, float(s), z_angle_deg(Qc))


@dataclass
class HeldOutFit:
    """How well a rig explains 2D joints no camera was fitted to alone: each camera's joints
    against their reprojection from the other cameras' triangulation.

    median_px: (C,) median distance, pixels (NaN where too few joints). offset_px: (C, 2) the
    median of the signed differences (observed - reprojected, x and y pixels): near 0 for a
    camera that agrees with the others, a shift in one direction for one turned or moved since
    it was calibrated (or whose image is offset from its calibration). count: (C,) joints used.
    """

    median_px: np.ndarray
    offset_px: np.ndarray
    count: np.ndarray


def held_out_fit(points2d: np.ndarray, confidence: np.ndarray, K: np.ndarray, R: np.ndarray,
                 t: np.ndarray, dist: np.ndarray | None = None, min_confidence: float = 0.3,
                 min_count: int = 20) -> HeldOutFit:
    """Leave-one-camera-out reprojection of 2D joints through a calibrated rig (`HeldOutFit`).

    points2d: (C, N, 2) pixels of the original images, NaN where unseen; confidence: (C, N).
    K: (C, 3, 3), R: (C, 3, 3), t: (C, 3) `cam_from_world`, dist: (C, 4 or 5) or None.
    For each camera c, the joints are triangulated from the other cameras (robustly, those seen
    by 2 or more of them with confidence `min_confidence` or more) and projected into c. Needs 3 cameras or more (InputError otherwise).
    A camera with fewer than `min_count` such joints gets NaN.
    """
    from epicap.geometry.camera import project_points
    from epicap.geometry.triangulation import TriangulationOptions, triangulate

    C = check_shape(points2d, "C, N, 2", "points2d")["C"]
    check_shape(confidence, "C, N", "confidence", {"C": C})
    if C < 3:
        raise InputError(f"a held-out check needs 3 cameras or more, got {C}")
    px = np.asarray(points2d, np.float64)
    conf = np.asarray(confidence, np.float64)
    dist = np.zeros((C, 5)) if dist is None else np.asarray(dist, np.float64)
    median, offset, count = np.full(C, np.nan), np.full((C, 2), np.nan), np.zeros(C, np.int64)
    for c in range(C):
        rest = np.array([i for i in range(C) if i != c])
        tri = triangulate(px[rest], K[rest], R[rest], t[rest], dist[rest], conf[rest],
                          TriangulationOptions(min_confidence=min_confidence))
        uv = project_points(tri.points3d, K[c:c + 1], R[c:c + 1], t[c:c + 1], dist[c:c + 1])[0][0]
        d = px[c] - uv
        ok = (tri.views >= 2) & (conf[c] >= min_confidence) & np.isfinite(d).all(-1)
        count[c] = int(ok.sum())
        if count[c] >= min_count:
            median[c] = float(np.median(np.linalg.norm(d[ok], axis=-1)))
            offset[c] = np.median(d[ok], axis=0)
    return HeldOutFit(median, offset, count)
