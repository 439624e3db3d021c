"""Two-view geometry from body joints: essential matrices, relative pose, conditioning.

Two estimators live here:

- `estimate_relative_pose`: one essential matrix from every frame's joints pooled together, on
  undistorted normalized coordinates, with OpenCV's USAC MAGSAC++ (Barath et al., CVPR 2020) and
  the five-point solver (Nister, PAMI 2004), then the cheirality check of `cv2.recoverPose`
  (Hartley & Zisserman, 2nd ed., sec. 9.6.2), then a robust refinement of the pose on every
  inlier (Sampson error, Cauchy loss). Pooling thousands of joints over time gives the
  estimator a 3D spread no single frame has.
- `relative_pose_per_frame`: EpipolarPose's estimate (Kocabas et al., CVPR 2019), one essential
  matrix per frame from that frame's joints only: the baseline the pooled estimate is compared to.

Conventions as in `epicap.geometry`: a relative pose is `cam2_from_cam1` (x2 = R @ x1 + t) with a
unit-norm `t` (two views fix no scale).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from epicap.errors import check_shape

__all__ = ["RansacOptions", "RelativePose", "estimate_relative_pose", "refine_relative_pose",
           "relative_pose_per_frame",
           "sampson_error", "signed_sampson", "essential_from_pose", "triangulate_two_view", "pair_conditioning"]


@dataclass(frozen=True)
class RansacOptions:
    """Knobs of the robust essential-matrix estimator.

    threshold: inlier threshold on the Sampson distance, in normalized image units (pixels divided
        by the focal length): tie it to the keypoint noise, e.g. 3 px / 1500 px.
    confidence: RANSAC's stopping confidence. max_iterations: its iteration cap.
    max_points: at most this many correspondences go to the estimator (evenly strided over the
        input, which is ordered by time); inliers are then counted on all of them.
    min_points: fewer correspondences than this is a failure, not an estimate.
    """

    threshold: float = 2e-3
    confidence: float = 0.9999
    max_iterations: int = 10000
    max_points: int = 4000
    min_points: int = 15


@dataclass
class RelativePose:
    """A robust relative-pose estimate (`success=False` says why in `message`).

    E: (3, 3) essential matrix, x2^T E x1 = 0 on normalized coordinates. R: (3, 3) and t: (3,) unit
    norm, `cam2_from_cam1`. inliers: (N,) bool over the input correspondences (epipolar inliers in
    front of both cameras). num_inliers, num_points: counts.
    """

    success: bool
    E: np.ndarray = field(default_factory=lambda: np.full((3, 3), np.nan))
    R: np.ndarray = field(default_factory=lambda: np.full((3, 3), np.nan))
    t: np.ndarray = field(default_factory=lambda: np.full(3, np.nan))
    inliers: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    num_inliers: int = 0
    num_points: int = 0
    message: str = ""


def essential_from_pose(R: np.ndarray, t: np.ndarray) -> np.ndarray:
    """E = [t]x R (3, 3) for the relative pose `cam2_from_cam1` (H&Z eq. 9.12)."""
    t = np.asarray(t, dtype=np.float64)
    tx = np.array([[0, -t[2], t[1]], [t[2], 0, -t[0]], [-t[1], t[0], 0]])
    return tx @ np.asarray(R, dtype=np.float64)


def signed_sampson(F: np.ndarray, x1: np.ndarray, x2: np.ndarray) -> np.ndarray:
    """(...) signed first-order geometric (Sampson) distances of x1 <-> x2 (H&Z eq. 11.9).

    F: (3, 3) fundamental (or essential) matrix with x2^T F x1 = 0. x1, x2: (..., 2) points of
    views 1 and 2, broadcast against each other (e.g. (T, P, 1, J, 2) against (T, 1, P, J, 2)).
    Units: those of x (pixels for F, pixels / focal for E on normalized coordinates). NaN where an
    input is NaN.
    """
    F = np.asarray(F, dtype=np.float64)
    u1, v1, u2, v2 = x1[..., 0], x1[..., 1], x2[..., 0], x2[..., 1]
    l2 = [F[k, 0] * u1 + F[k, 1] * v1 + F[k, 2] for k in range(3)]  # F x1: line in view 2
    l1 = [F[0, k] * u2 + F[1, k] * v2 + F[2, k] for k in range(2)]  # F^T x2, first two terms
    num = u2 * l2[0] + v2 * l2[1] + l2[2]
    den = np.sqrt(l2[0] ** 2 + l2[1] ** 2 + l1[0] ** 2 + l1[1] ** 2)
    return num / np.maximum(den, 1e-300)


def sampson_error(E: np.ndarray, x1: np.ndarray, x2: np.ndarray) -> np.ndarray:
    """(...) Sampson distances |signed_sampson| of x1 <-> x2 under E or F (H&Z eq. 11.9).

    E: (3, 3). x1, x2: (..., 2) points (normalized coordinates for E, pixels for F), broadcast.
    """
    return np.abs(signed_sampson(E, x1, x2))


def estimate_relative_pose(x1: np.ndarray, x2: np.ndarray,
                           options: RansacOptions = RansacOptions()) -> RelativePose:
    """The relative pose `cam2_from_cam1` from pooled correspondences, robustly.

    x1, x2: (N, 2) undistorted normalized coordinates of the same joints (any frames, pooled) in
        views 1 and 2; rows with NaN are ignored (reported as outliers).
    Returns a RelativePose; `success=False` with a message when there are too few points or the
    estimator finds no model.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> X = rng.uniform(-1, 1, (200, 3)) + [0, 0, 5]
        >>> R, t = rotation_y(0.3), np.array([-1.0, 0, 0.2])
        >>> x1 = X[:, :2] / X[:, 2:]
        >>> Y = X @ R.T + t
        >>> pose = estimate_relative_pose(x1, Y[:, :2] / Y[:, 2:])
        >>> bool(pose.success), round(float(np.abs(pose.R - R).max()), 6)
        (True, 0.0)
    """
    import cv2

    N = check_shape(x1, "N, 2", "x1")["N"]
    check_shape(x2, "N, 2", "x2", {"N": N})
    x1 = np.asarray(x1, dtype=np.float64)
    x2 = np.asarray(x2, dtype=np.float64)
    ok = np.isfinite(x1).all(axis=1) & np.isfinite(x2).all(axis=1)
    idx = np.flatnonzero(ok)
    if len(idx) < options.min_points:
        return RelativePose(False, inliers=np.zeros(N, bool), num_points=len(idx),
                            message=f"only {len(idx)} joints seen by both cameras "
                                    f"(at least {options.min_points} needed)")
    sample = idx[np.linspace(0, len(idx) - 1, min(len(idx), options.max_points)).astype(int)]
    E, mask = cv2.findEssentialMat(x1[sample], x2[sample], np.eye(3), method=cv2.USAC_MAGSAC,
                                   prob=options.confidence, threshold=options.threshold,
                                   maxIters=options.max_iterations)
    if E is None or E.shape[0] < 3 or mask is None or int(mask.sum()) < 5:
        return RelativePose(False, inliers=np.zeros(N, bool), num_points=len(idx),
                            message="no essential matrix fits the joints (too little motion "
                                    "or too much noise)")
    E = E[:3]
    err = np.full(N, np.inf)
    err[idx] = sampson_error(E, x1[idx], x2[idx])
    epipolar = err < options.threshold
    _, R, t, cheiral = cv2.recoverPose(E, x1[epipolar], x2[epipolar], np.eye(3))
    R, t = refine_relative_pose(R, t.ravel(), x1[epipolar][cheiral.ravel() > 0],
                                x2[epipolar][cheiral.ravel() > 0], options.threshold)
    E = essential_from_pose(R, t)
    err[idx] = sampson_error(E, x1[idx], x2[idx])
    epipolar = err < options.threshold
    _, R, t, cheiral = cv2.recoverPose(E, x1[epipolar], x2[epipolar], np.eye(3))
    inliers = np.zeros(N, bool)
    inliers[np.flatnonzero(epipolar)[cheiral.ravel() > 0]] = True
    n = int(inliers.sum())
    if n < options.min_points:
        return RelativePose(False, E, R, t.ravel(), inliers, n, len(idx),
                            f"only {n} joints agree with one relative pose")
    return RelativePose(True, E, R, t.ravel() / np.linalg.norm(t), inliers, n, len(idx))


def refine_relative_pose(R: np.ndarray, t: np.ndarray, x1: np.ndarray, x2: np.ndarray,
                         scale: float) -> tuple[np.ndarray, np.ndarray]:
    """The relative pose minimising the robust (Cauchy, `scale`) Sampson error of all inliers.

    R (3, 3), t (3,): initial `cam2_from_cam1` (t of any norm). x1, x2: (N, 2) normalized inlier
    correspondences. Returns (R, t unit norm). Five degrees of freedom: a rotation increment and
    t on the unit sphere (H&Z sec. 11.4.3, with Sampson's error as the cost).
    """
    from scipy.optimize import least_squares

    from epicap.geometry.camera import rotation_from_rodrigues

    t = np.asarray(t, np.float64) / np.linalg.norm(t)
    B = np.linalg.svd(t[None])[2][1:].T  # (3, 2) basis orthogonal to t
    h1 = np.concatenate([x1, np.ones((len(x1), 1))], axis=1)
    h2 = np.concatenate([x2, np.ones((len(x2), 1))], axis=1)

    def pose(p):
        tt = t + B @ p[3:]
        return R @ rotation_from_rodrigues(p[:3]), tt / np.linalg.norm(tt)

    def residuals(p):
        E = essential_from_pose(*pose(p))
        Ex1, Etx2 = h1 @ E.T, h2 @ E
        num = np.einsum("ni,ni->n", h2, Ex1)
        den = Ex1[:, 0] ** 2 + Ex1[:, 1] ** 2 + Etx2[:, 0] ** 2 + Etx2[:, 1] ** 2
        return num / np.sqrt(np.maximum(den, 1e-300))

    if len(x1) < 6:
        return R, t
    sol = least_squares(residuals, np.zeros(5), loss="cauchy", f_scale=scale, method="trf",
                        x_scale=1.0, max_nfev=100)
    return pose(sol.x)


def relative_pose_per_frame(x1: np.ndarray, x2: np.ndarray, threshold: float = 2e-3,
                            min_points: int = 8) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """EpipolarPose's baseline: one relative pose per frame from that frame's joints alone.

    x1, x2: (T, J, 2) undistorted normalized coordinates in views 1 and 2, NaN where unseen.
    threshold: RANSAC threshold in normalized units. min_points: frames with fewer joints seen
        by both views get no estimate.
    Returns (R (T, 3, 3), t (T, 3) unit norm, num_inliers (T,)) with NaN rotations/translations
    (and 0 inliers) for frames without an estimate. As in Kocabas et al. (CVPR 2019): OpenCV's
    RANSAC essential matrix and `recoverPose` on the frame's joints.
    """
    import cv2

    T = check_shape(x1, "T, J, 2", "x1")["T"]
    check_shape(x2, "T, J, 2", "x2", {"T": T})
    R_out = np.full((T, 3, 3), np.nan)
    t_out = np.full((T, 3), np.nan)
    count = np.zeros(T, dtype=np.int64)
    for f in range(T):
        ok = np.isfinite(x1[f]).all(axis=1) & np.isfinite(x2[f]).all(axis=1)
        if ok.sum() < min_points:
            continue
        a, b = x1[f][ok].astype(np.float64), x2[f][ok].astype(np.float64)
        E, mask = cv2.findEssentialMat(a, b, np.eye(3), method=cv2.RANSAC, prob=0.999,
                                       threshold=threshold)
        if E is None or E.shape[0] < 3:
            continue
        n, R, t, _ = cv2.recoverPose(E[:3], a, b, np.eye(3), mask=mask)
        R_out[f], t_out[f], count[f] = R, t.ravel(), n
    return R_out, t_out, count


def triangulate_two_view(R: np.ndarray, t: np.ndarray, x1: np.ndarray,
                         x2: np.ndarray) -> np.ndarray:
    """Points (N, 3) in camera 1's frame from normalized x1, x2 (N, 2) and `cam2_from_cam1` R, t.

    Linear (DLT) triangulation, H&Z sec. 12.2, batched.
    """
    P1 = np.hstack([np.eye(3), np.zeros((3, 1))])
    P2 = np.hstack([R, np.reshape(t, (3, 1))])
    A = np.stack([x1[:, :1] * P1[2] - P1[0], x1[:, 1:] * P1[2] - P1[1],
                  x2[:, :1] * P2[2] - P2[0], x2[:, 1:] * P2[2] - P2[1]], axis=1)
    _, _, Vt = np.linalg.svd(A)
    X = Vt[:, -1]
    with np.errstate(divide="ignore", invalid="ignore"):
        return X[:, :3] / X[:, 3:]


def pair_conditioning(R: np.ndarray, t: np.ndarray, x1: np.ndarray,
                      x2: np.ndarray) -> tuple[float, float, float]:
    """How well a pair's joints fix its geometry: (score, median parallax deg, 3D spread).

    R, t: `cam2_from_cam1`. x1, x2: (N, 2) normalized coordinates of inlier correspondences.
    parallax: the median angle between the two viewing rays of a joint. spread: sqrt of the
    smallest over the largest eigenvalue of the triangulated joints' covariance (0 for joints on
    a line or a plane, ~0.3 for a person moving about). score = sin(parallax) * sqrt(spread) *
    sqrt(N), larger is better: parallax fixes depth, spread fixes rotation, N averages noise.
    """
    if len(x1) < 5:
        return 0.0, 0.0, 0.0
    X = triangulate_two_view(R, t, x1, x2)
    ok = np.isfinite(X).all(axis=1)
    X = X[ok]
    if len(X) < 5:
        return 0.0, 0.0, 0.0
    C2 = -R.T @ np.reshape(t, 3)
    ray1 = X / np.linalg.norm(X, axis=1, keepdims=True)
    ray2 = X - C2
    ray2 /= np.linalg.norm(ray2, axis=1, keepdims=True)
    parallax = float(np.median(np.arccos(np.clip(np.einsum("ni,ni->n", ray1, ray2), -1, 1))))
    eig = np.linalg.eigvalsh(np.cov(X.T))
    spread = float(np.sqrt(max(eig[0], 0.0) / max(eig[-1], 1e-300)))
    score = float(np.sin(parallax) * np.sqrt(spread) * np.sqrt(len(X)))
    return score, float(np.degrees(parallax)), spread


def rotation_y(angle: float) -> np.ndarray:
    """Rotation (3, 3) by `angle` radians about the y axis (for examples and tests)."""
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])
