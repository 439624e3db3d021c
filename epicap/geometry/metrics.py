"""3D pose accuracy metrics, batched and NaN-aware. Metres in, metres out.

Every function takes predictions and ground truth as (B, J, 3) in metres (B poses of J joints, the
same joint order) and ignores joints that are NaN in either. Errors come back in metres (multiply
by 1000 for the millimetres papers print); PCK and AUC are fractions in [0, 1].

- MPJPE: mean per-joint position error (Ionescu et al., Human3.6M, TPAMI 2014).
- N-MPJPE: MPJPE after the scale that best fits each prediction to its ground truth (Rhodin et
  al., "Learning monocular 3D human pose estimation from multi-view images", CVPR 2018).
- PA-MPJPE: MPJPE after the best similarity per pose (Procrustes; `alignment.procrustes_align`).
- PCK3D and AUC: fraction of joints within 150 mm, and the mean of PCK over thresholds 0..150 mm
  (Mehta et al., MPI-INF-3DHP, 3DV 2017).

`root`: index of a joint (e.g. the pelvis, 0 in `h36m17`) subtracted from every pose of both
before comparing (root-relative protocol); None compares the poses as they are.
"""
from __future__ import annotations

import numpy as np

from epicap.errors import check_shape
from epicap.geometry.alignment import procrustes_align

__all__ = ["joint_errors", "mpjpe", "n_mpjpe", "pa_mpjpe", "pck3d", "auc"]

PCK_THRESHOLD_M = 0.150
AUC_THRESHOLDS_M = np.linspace(0.0, 0.150, 31)  # 0, 5, ..., 150 mm as in MPI-INF-3DHP


def joint_errors(pred: np.ndarray, gt: np.ndarray, root: int | None = None) -> np.ndarray:
    """(B, J) Euclidean distance in metres between predicted and true joints; NaN where either is
    missing. pred, gt: (B, J, 3) metres, world or camera frame (the same for both)."""
    pred, gt = _pair(pred, gt, root)
    return np.linalg.norm(pred - gt, axis=-1)


def mpjpe(pred: np.ndarray, gt: np.ndarray, root: int | None = None,
          per_pose: bool = False) -> float | np.ndarray:
    """Mean per-joint position error in metres over all valid joints (per_pose: (B,) per pose).

    Example:
        >>> gt = np.zeros((1, 2, 3)); pred = gt + [[[0.003, 0.004, 0.0]]]
        >>> round(mpjpe(pred, gt), 9)
        0.005
    """
    return _mean(joint_errors(pred, gt, root), per_pose)


def n_mpjpe(pred: np.ndarray, gt: np.ndarray, root: int | None = 0,
            per_pose: bool = False) -> float | np.ndarray:
    """MPJPE in metres after scaling each prediction by s = <pred, gt> / <pred, pred>, the
    least-squares scale (Rhodin et al. 2018), computed on root-relative poses by default."""
    pred, gt = _pair(pred, gt, root)
    ok = np.isfinite(pred).all(-1, keepdims=True) & np.isfinite(gt).all(-1, keepdims=True)
    p, g = np.where(ok, pred, 0.0), np.where(ok, gt, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = (p * g).sum((1, 2)) / (p * p).sum((1, 2))
    return _mean(np.linalg.norm(scale[:, None, None] * pred - gt, axis=-1), per_pose)


def pa_mpjpe(pred: np.ndarray, gt: np.ndarray, per_pose: bool = False) -> float | np.ndarray:
    """MPJPE in metres after the best similarity (scale, rotation, translation) per pose."""
    pred, gt = _pair(pred, gt, None)
    return _mean(joint_errors(procrustes_align(pred, gt), gt), per_pose)


def pck3d(pred: np.ndarray, gt: np.ndarray, threshold_m: float = PCK_THRESHOLD_M,
          root: int | None = None) -> float:
    """Fraction of valid joints whose error is at most `threshold_m` metres (default 0.150)."""
    err = joint_errors(pred, gt, root)
    err = err[np.isfinite(err)]
    return float(np.mean(err <= threshold_m)) if err.size else float("nan")


def auc(pred: np.ndarray, gt: np.ndarray, thresholds_m: np.ndarray = AUC_THRESHOLDS_M,
        root: int | None = None) -> float:
    """Area under the PCK curve: the mean PCK over `thresholds_m` (default 0 to 0.150 m in 31
    steps of 5 mm), a fraction in [0, 1]."""
    err = joint_errors(pred, gt, root)
    err = err[np.isfinite(err)]
    if not err.size:
        return float("nan")
    return float(np.mean(err[None, :] <= np.asarray(thresholds_m, dtype=np.float64)[:, None]))


def _pair(pred, gt, root):
    dims = check_shape(pred, "B, J, 3", "pred")
    check_shape(gt, "B, J, 3", "gt", dims)
    pred, gt = np.asarray(pred, dtype=np.float64), np.asarray(gt, dtype=np.float64)
    if root is not None:
        pred = pred - pred[:, root:root + 1]
        gt = gt - gt[:, root:root + 1]
    return pred, gt


def _mean(err: np.ndarray, per_pose: bool):
    ok = np.isfinite(err)
    total = np.where(ok, err, 0.0)
    if per_pose:
        with np.errstate(invalid="ignore", divide="ignore"):
            return total.sum(-1) / ok.sum(-1)
    return float(total.sum() / ok.sum()) if ok.any() else float("nan")
