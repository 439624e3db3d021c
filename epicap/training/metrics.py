"""Pose Structure Score (PSS) of a student's predictions, and the pose normalization it uses.

The other metrics the evaluation reports (MPJPE, N-MPJPE, PA-MPJPE, PCK3D, AUC) are
`epicap.geometry.metrics`; on root-relative poses call them with `root=None`.

- PSS: Pose Structure Score (Ronchi et al., "It's all Relative", BMVC 2018): k-means clusters of
  scale-normalized ground-truth poses; a prediction scores 1 when its nearest centre is its
  ground truth's.
"""
from __future__ import annotations

import numpy as np

__all__ = ["pss", "normalize_pose"]


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

    clustered = truth if reference is None else reference
    ref = normalize_pose(clustered).reshape(len(clustered), -1)
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
