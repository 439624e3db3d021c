"""3D pose metrics of a student's predictions: MPJPE, N-MPJPE, PA-MPJPE, PCK3D, AUC, PSS.

All take root-relative poses (N, J, 3) in metres with NaN where a joint is unknown (in either
pose); a joint counts only where both are finite. Errors are returned in metres. The first five
are `epicap.geometry.metrics` applied to root-relative poses; PSS is computed here.

- MPJPE: mean Euclidean joint error (Ionescu et al., Human3.6M, TPAMI 2014).
- N-MPJPE: after scaling the prediction by its least-squares factor (Rhodin et al., CVPR 2018).
- PA-MPJPE: after a similarity (Procrustes) alignment (Umeyama, TPAMI 1991).
- PCK3D and AUC: fraction of joints within 150 mm, and its mean over thresholds 0..150 mm
  (Mehta et al., MPI-INF-3DHP, 3DV 2017).
- PSS: Pose Structure Score (Ronchi et al., "It's all Relative", BMVC 2018): k-means clusters of
  scale-normalized ground-truth poses; a prediction scores 1 when its nearest centre is its
  ground truth's.
"""
from __future__ import annotations

import numpy as np

from epicap.geometry import metrics as _metrics

__all__ = ["mpjpe", "n_mpjpe", "pa_mpjpe", "pck3d", "auc", "pss",
           "normalize_pose"]


def mpjpe(pred: np.ndarray, truth: np.ndarray) -> float:
    """Mean per-joint position error (metres) of root-relative poses (N, J, 3)."""
    return _metrics.mpjpe(pred, truth, root=None)


def n_mpjpe(pred: np.ndarray, truth: np.ndarray) -> float:
    """MPJPE (metres) after scaling each prediction by s = <p, g> / <p, p> (Rhodin et al. 2018)."""
    return _metrics.n_mpjpe(pred, truth, root=None)


def pa_mpjpe(pred: np.ndarray, truth: np.ndarray) -> float:
    """MPJPE (metres) after the best similarity transform of each prediction onto its truth."""
    return _metrics.pa_mpjpe(pred, truth)


def pck3d(pred: np.ndarray, truth: np.ndarray, threshold_m: float = 0.150) -> float:
    """Fraction of known joints whose error is within `threshold_m` metres."""
    return _metrics.pck3d(pred, truth, threshold_m)


def auc(pred: np.ndarray, truth: np.ndarray, max_threshold_m: float = 0.150,
        steps: int = 31) -> float:
    """Area under the PCK3D curve, thresholds 0 .. `max_threshold_m` in `steps` (MPI-INF-3DHP)."""
    return _metrics.auc(pred, truth, np.linspace(0.0, max_threshold_m, steps))


def normalize_pose(poses: np.ndarray) -> np.ndarray:
    """Root-relative poses (N, J, 3) scaled to unit Frobenius norm; unknown joints set to 0."""
    p = np.nan_to_num(np.asarray(poses, np.float64))
    return p / np.maximum(np.linalg.norm(p.reshape(len(p), -1), axis=-1), 1e-12)[:, None, None]


def pss(pred: np.ndarray, truth: np.ndarray, k: int, seed: int = 0,
        reference: np.ndarray | None = None) -> float:
    """Pose Structure Score with k clusters: fraction of predictions clustered with their truth.

    pred, truth: (N, J, 3) root-relative poses. reference: poses (M, J, 3) to cluster (the
    ground truth itself when None). Poses are scale-normalized (`normalize_pose`) before k-means
    (k-means++ start, fixed seed); k is capped at the number of distinct reference poses.
    Ronchi et al. 2018 report PSS@50 and PSS@100.
    """
    from scipy.cluster.vq import kmeans2

    ref = normalize_pose(truth if reference is None else reference).reshape(
        len(truth if reference is None else reference), -1)
    k = int(min(k, len(np.unique(ref.round(6), axis=0))))
    if k < 2:
        return 1.0
    rng = np.random.default_rng(seed)
    centres, _ = kmeans2(ref, k, minit="++", seed=rng)
    g = normalize_pose(truth).reshape(len(truth), -1)
    p = normalize_pose(np.where(np.isfinite(truth), pred, np.nan)).reshape(len(pred), -1)

    def nearest(x):
        return np.argmin(((x[:, None] - centres[None]) ** 2).sum(-1), axis=1)

    return float((nearest(p) == nearest(g)).mean())
