"""Similarity alignment of point sets: Umeyama's closed form, single and batched, NaN-aware.

`umeyama` finds the similarity (s, R, t) with `target ~ s R source + t` minimizing the squared
distances (Umeyama, "Least-squares estimation of transformation parameters between two point
patterns", IEEE TPAMI 13(4), 1991). `procrustes_align` applies it per pose for PA-MPJPE.
"""
from __future__ import annotations

import numpy as np

from epicap.errors import GeometryError, check_shape

__all__ = ["umeyama", "umeyama_batched", "procrustes_align"]


def umeyama(source: np.ndarray, target: np.ndarray,
            with_scale: bool = True) -> tuple[float, np.ndarray, np.ndarray]:
    """The similarity that maps `source` onto `target` in the least-squares sense.

    source, target: (N, 3) corresponding points (any unit, the same frame convention for both);
        rows with a NaN in either are ignored.
    with_scale: False fixes s = 1 (a rigid motion).
    Returns (s, R (3, 3) proper rotation, t (3,)) with `target ~ s * R @ source + t`.
    Raises GeometryError for fewer than 3 usable points or points that are all on one line.

    Example:
        >>> src = np.array([[0.0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]])
        >>> Rz = np.array([[0.0, -1, 0], [1, 0, 0], [0, 0, 1]])
        >>> s, R, t = umeyama(src, 2 * src @ Rz.T + [1, 2, 3])
        >>> round(s, 9), np.allclose(R, Rz), np.round(t, 9) + 0.0
        (2.0, True, array([1., 2., 3.]))
    """
    dims = check_shape(source, "N, 3", "source")
    check_shape(target, "N, 3", "target", dims)
    s, R, t = umeyama_batched(np.asarray(source)[None], np.asarray(target)[None], with_scale)
    if not np.isfinite(s[0]):
        usable = int((np.isfinite(source).all(1) & np.isfinite(target).all(1)).sum())
        raise GeometryError(f"umeyama: the {usable} usable point pairs do not fix a similarity "
                            "(need at least 3 not on one line)")
    return float(s[0]), R[0], t[0]


def umeyama_batched(source: np.ndarray, target: np.ndarray,
                    with_scale: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`umeyama` for B point sets at once.

    source, target: (B, N, 3); rows with a NaN in either are ignored per set.
    Returns (s (B,), R (B, 3, 3), t (B, 3)); NaN for a set with fewer than 3 usable points or
    collinear points.
    """
    dims = check_shape(source, "B, N, 3", "source")
    check_shape(target, "B, N, 3", "target", dims)
    src = np.asarray(source, dtype=np.float64)
    dst = np.asarray(target, dtype=np.float64)
    ok = np.isfinite(src).all(-1) & np.isfinite(dst).all(-1)        # (B, N)
    n = ok.sum(-1)                                                     # (B,)
    m = ok[..., None].astype(np.float64)
    src, dst = np.where(ok[..., None], src, 0.0), np.where(ok[..., None], dst, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mu_src = (src * m).sum(1) / n[:, None]
        mu_dst = (dst * m).sum(1) / n[:, None]
        a = (src - mu_src[:, None]) * m
        b = (dst - mu_dst[:, None]) * m
        cov = np.einsum("bni,bnj->bij", b, a) / n[:, None, None]     # Sigma_xy of the paper
        var_src = (a * a).sum((1, 2)) / n
    cov = np.where(np.isfinite(cov), cov, 0.0)
    U, D, Vt = np.linalg.svd(cov)
    S = np.ones((len(src), 3))
    S[:, 2] = np.where(np.linalg.det(U) * np.linalg.det(Vt) < 0, -1.0, 1.0)
    R = np.einsum("bij,bj,bjk->bik", U, S, Vt)
    with np.errstate(invalid="ignore", divide="ignore"):
        s = (D * S).sum(-1) / var_src if with_scale else np.ones(len(src))
    # degenerate: too few points, or rank(cov) < 2 (collinear or coincident points)
    bad = (n < 3) | (D[:, 1] <= 1e-12 * np.maximum(D[:, 0], 1e-300)) | ~(var_src > 0)
    s = np.where(bad, np.nan, s)
    R[bad] = np.nan
    t = mu_dst - s[:, None] * np.einsum("bij,bj->bi", R, mu_src)
    return s, R, t


def procrustes_align(pred: np.ndarray, gt: np.ndarray, with_scale: bool = True) -> np.ndarray:
    """Each predicted pose moved by its best similarity onto its ground truth (for PA-MPJPE).

    pred, gt: (B, J, 3) metres; NaN joints are ignored when fitting and stay NaN.
    Returns (B, J, 3) aligned predictions; all NaN for a pose with fewer than 3 usable joints.
    """
    s, R, t = umeyama_batched(pred, gt, with_scale)
    pred = np.asarray(pred, dtype=np.float64)
    return s[:, None, None] * np.einsum("bij,bnj->bni", R, pred) + t[:, None]
