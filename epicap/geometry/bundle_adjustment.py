"""Bundle adjustment of a rig's extrinsics (and intrinsics) with the 3D points it sees.

Minimises the weighted pixel reprojection error over every camera's pose, optionally each
camera's focal length (or one shared by all), principal point and radial distortion (k1, k2),
every 3D point, and optionally a constant 2D offset per camera and point group (a detector's
view-dependent bias for one joint, held by a Gaussian prior). Principal points and radial
coefficients carry Gaussian priors about their start (the image centre, zero), so that what the
data cannot fix stays put. Triggs et al., "Bundle Adjustment - A Modern Synthesis" (1999);
H&Z sec. 18.1.

The robust loss is an iteratively reweighted least-squares loop (Cauchy or Geman-McClure
weights from the residuals of the current estimate at a scale from their median absolute value,
a hard cut for gross outliers, re-decided every round; Zhang, "Parameter estimation techniques:
a tutorial with application to conic fitting", 1997, table 1) around
`scipy.optimize.least_squares(method='trf', loss='linear')` with an analytic sparse Jacobian
(checked against finite differences in the tests): scipy's own robust losses with the sparse
`lsmr` solver were measured to stall silently.

Gauge: one camera is held fixed (its pose defines the frame) and the mean distance of the other
camera centres from it is held at its initial value (the scale). Offsets that move all of one
camera's joints alike (shift, turn, scale about their mean image position) would mimic that
camera's pose and are held at zero.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from epicap.errors import InputError, check_shape
from epicap.geometry.camera import distort_normalized, pad_distortion, rotation_from_rodrigues
from epicap.geometry.schur_solver import levenberg_marquardt

__all__ = ["AdjustmentSpread", "BundleAdjustmentOptions", "BundleAdjustmentResult", "ROBUST_LOSSES",
           "adjustment_spread", "bundle_adjust", "robust_sigma"]

FOCAL_MODES = ("fixed", "per_camera", "shared")
ROBUST_LOSSES = ("cauchy", "geman_mcclure")
SOLVERS = ("schur", "lsmr")


@dataclass(frozen=True)
class BundleAdjustmentOptions:
    """Knobs of `bundle_adjust`.

    focal: "fixed" (intrinsics known), "per_camera" (one focal length each, fx = fy scaled
        together) or "shared" (one scale factor for every camera's focal length).
    offsets: estimate a constant 2D offset per camera and point group (detector bias).
    offset_prior_px: standard deviation of the Gaussian prior on those offsets, pixels.
    rounds: reweighting rounds. max_nfev: function evaluations per round's least squares.
    loss: the robust weight of a residual r (pixels) at u = r / (cauchy_scale * sigma):
        "cauchy" w = 1 / (1 + u^2), "geman_mcclure" w = 1 / (1 + u^2)^2 (redescends faster).
    cauchy_scale: the loss's scale in units of sigma, the robust residual scale of the round
        (1.4826 * median absolute residual).
    outlier_sigmas: observations with a residual above outlier_sigmas * sigma get weight 0 for
        the next round (they may come back later).
    fixed_camera: index of the camera whose pose is held fixed.
    focal_prior: with free focal lengths, the standard deviation of a Gaussian prior on each
        log focal length about its start (0.02: 2%), weighted as heavily as all of that camera's
        observations at the robust residual scale; 0 (default) for none. Detector bias trades
        against per-camera focal lengths on real data; the prior keeps them near a shared start.
    focal_spread_prior: with per-camera focal lengths, the standard deviation of a Gaussian
        prior on each log focal length about the mean of all cameras' (cameras alike: their
        focal lengths differ little), weighted like `focal_prior`; 0 (default) for none. Per-
        camera focal lengths, principal points and turns trade against each other when the
        subject covers a small part of the image.
    principal_point: also estimate each camera's principal point (cx, cy), pixels.
    principal_point_prior: the standard deviation of its Gaussian prior about the start (the
        image centre in `calibrate`), as a share of the image width (cx) and height (cy).
    radial: how many radial distortion coefficients each camera estimates: 0 (distortion kept
        as given), 1 (k1) or 2 (k1, k2); the others stay as given.
    radial_prior: the standard deviation of the Gaussian prior on each free coefficient about
        its start. Both priors are rows sigma * sqrt(prior_weight) * (value - start) /
        prior_sigma beside pixel rows of weight about 1 at the round's robust residual scale
        sigma: `intrinsics_prior_weight` observations' worth (1: a plain Gaussian prior if the
        observations' errors were independent).
    solver: each round's least squares: "schur" (default; Levenberg-Marquardt whose normal
        equations eliminate the points' 3x3 blocks, the Schur complement, and solve the small
        dense camera system exactly: Triggs et al. sec. 6.1, H&Z A6.3) or "lsmr" (scipy's
        `least_squares` trust region with the iterative sparse solver; measured 2-4 times
        slower, as it needs many LSMR iterations on these poorly scaled problems).
    """

    focal: str = "fixed"
    loss: str = "cauchy"
    offsets: bool = False
    offset_prior_px: float = 8.0
    rounds: int = 4
    max_nfev: int = 30
    cauchy_scale: float = 2.5
    outlier_sigmas: float = 5.0
    fixed_camera: int = 0
    focal_prior: float = 0.0
    focal_spread_prior: float = 0.0
    solver: str = "schur"
    principal_point: bool = False
    principal_point_prior: float = 0.025
    radial: int = 0
    radial_prior: float = 0.25
    intrinsics_prior_weight: float = 1.0

    def __post_init__(self):
        if self.radial not in (0, 1, 2):
            raise InputError(f"radial coefficients to estimate {self.radial!r}; valid: 0, 1, 2")
        if not (self.principal_point_prior > 0 and self.radial_prior > 0
                and self.intrinsics_prior_weight > 0):
            raise InputError("the principal point and radial priors must be positive, got "
                             f"{self.principal_point_prior}, {self.radial_prior} and weight "
                             f"{self.intrinsics_prior_weight}")
        if self.focal not in FOCAL_MODES:
            raise InputError(f"focal mode {self.focal!r}; valid: {', '.join(FOCAL_MODES)}")
        if self.loss not in ROBUST_LOSSES:
            raise InputError(f"robust loss {self.loss!r}; valid: {', '.join(ROBUST_LOSSES)}")
        if not self.cauchy_scale > 0:
            raise InputError(f"robust loss scale {self.cauchy_scale} must be positive")
        if self.solver not in SOLVERS:
            raise InputError(f"solver {self.solver!r}; valid: {', '.join(SOLVERS)}")


@dataclass
class BundleAdjustmentResult:
    """Refined rig and points.

    R: (C, 3, 3), t: (C, 3) `cam_from_world`. K: (C, 3, 3). dist: (C, 5) k1 k2 p1 p2 k3 (as
    given unless radial coefficients were estimated). points3d: (N, 3). offsets: (C, G, 2)
    pixels (zeros when not estimated). residuals_px: (C, N) reprojection error norm with the
    offsets applied, NaN where unobserved. inliers: (C, N) bool, observations kept by the last
    round. rms_px: RMS over the inliers. sigma_px: robust residual scale of the last round.
    moved: largest camera-centre displacement over the mean baseline (to check it did move).
    """

    R: np.ndarray
    t: np.ndarray
    K: np.ndarray
    points3d: np.ndarray
    offsets: np.ndarray
    residuals_px: np.ndarray
    inliers: np.ndarray
    rms_px: float
    sigma_px: float
    moved: float
    success: bool = True
    history: list = field(default_factory=list)
    message: str = ""
    dist: np.ndarray | None = None


def robust_sigma(residuals: np.ndarray) -> float:
    """1.4826 * median absolute value of the finite residuals (a Gaussian's sigma), or NaN."""
    r = np.abs(np.asarray(residuals, dtype=np.float64))
    r = r[np.isfinite(r)]
    return float(1.4826 * np.median(r)) if len(r) else float("nan")


class _Problem:
    """Parameter packing, residuals and the Jacobian's sparsity pattern of one adjustment."""

    def __init__(self, obs_xy, obs_c, obs_n, obs_g, K, dist, R0, t0, X0, G, options,
                 image_size=None):
        self.obs_xy, self.obs_c, self.obs_n, self.obs_g = obs_xy, obs_c, obs_n, obs_g
        self.K, self.dist, self.R0, self.t0 = K, dist, R0, t0
        self.C, self.N, self.G = len(K), len(X0), G
        self.options = options
        self.free = np.array([c for c in range(self.C) if c != options.fixed_camera])
        self.n_cam = 6 * len(self.free)
        self.n_focal = {"fixed": 0, "shared": 1, "per_camera": self.C}[options.focal]
        self.n_off = 2 * self.C * G if options.offsets else 0
        # per camera: (cx, cy) when free, then the free radial coefficients
        self.n_pp = 2 if options.principal_point else 0
        self.n_per = self.n_pp + options.radial
        self.intr_start = self.n_cam + self.n_focal
        self.point_start = self.intr_start + self.C * self.n_per
        self.has_distortion = bool(np.any(dist)) or options.radial > 0
        size = (2 * K[:, :2, 2] + 1 if image_size is None
                else np.asarray(image_size, np.float64).reshape(self.C, 2))
        sig = np.concatenate([np.broadcast_to(options.principal_point_prior * size,
                                              (self.C, 2))[:, :self.n_pp],
                              np.full((self.C, options.radial), options.radial_prior)], axis=1)
        self.intr_sigma = sig.ravel()  # (C * n_per,) prior standard deviations
        self.intr_rows = np.zeros(self.C * self.n_per)  # weights of the prior rows
        self.dist_now = dist.copy()  # the distortion of the last `unpack`
        C0 = -np.einsum("cji,cj->ci", R0, t0)
        self.ref_center = C0[options.fixed_camera]
        self.d0 = max(float(np.linalg.norm(C0[self.free] - self.ref_center, axis=1).mean()), 1e-12)
        self.x0 = np.concatenate([np.zeros(self.point_start), X0.ravel(),
                                  np.zeros(self.n_off)])
        self.sqrt_w = np.ones(len(obs_c))
        self.prior_scale = 1.0
        self.focal_rows = np.zeros(self.n_focal)  # weights of the focal prior rows
        self.spread_rows = np.zeros(self.C if self.n_focal == self.C else 0)  # and spread's
        self.log_f0 = np.log(K[:, 0, 0])
        if self.n_off:
            self.gauge_rows = self._offset_gauge(obs_xy, obs_c, obs_g)

    def _offset_gauge(self, obs_xy, obs_c, obs_g):
        """(C, 4, G, 2) rows holding each camera's offsets free of image similarity motions.

        Offsets of one camera that shift, turn or scale its joints' image positions together
        would mimic a turn of the camera (pan, tilt, roll) or a change of its distance: the
        component of the offset field along those four motions (about the joints' mean image
        positions) is held at 0, by rows as heavy as 100 times the camera's observations.
        """
        C, G = self.C, self.G
        A = np.zeros((C, 4, G, 2))
        for c in range(C):
            mine = obs_c == c
            if not mine.any():
                continue
            counts = np.bincount(obs_g[mine], minlength=G)
            seen = counts > 0
            mean = np.zeros((G, 2))
            for d in range(2):
                mean[:, d] = np.bincount(obs_g[mine], obs_xy[mine, d], G) / np.maximum(counts, 1)
            q = mean - mean[seen].mean(axis=0)
            q /= max(np.sqrt((q[seen] ** 2).sum(1).mean()), 1e-9)
            q[~seen] = 0
            A[c, 0, seen, 0] = A[c, 1, seen, 1] = 1
            A[c, 2, :, 0], A[c, 2, :, 1] = -q[:, 1], q[:, 0]
            A[c, 3] = q
            A[c] *= 10 * np.sqrt(mine.sum()) / max(seen.sum(), 1)
        return A

    def unpack(self, p):
        cam = p[:self.n_cam].reshape(-1, 6)
        R, t = self.R0.copy(), self.t0.copy()
        if len(self.free):
            R[self.free] = self.R0[self.free] @ rotation_from_rodrigues(cam[:, :3])
            t[self.free] = self.t0[self.free] + cam[:, 3:]
        f = p[self.n_cam:self.n_cam + self.n_focal]
        scale = np.ones(self.C) if self.n_focal == 0 else np.exp(f) * np.ones(self.C)
        K = self.K.copy()
        K[:, 0, 0] *= scale
        K[:, 1, 1] *= scale
        intr = p[self.intr_start:self.point_start].reshape(self.C, self.n_per)
        if self.n_pp:
            K[:, :2, 2] += intr[:, :2]
        self.dist_now = self.dist.copy()
        self.dist_now[:, :self.options.radial] += intr[:, self.n_pp:]
        start = self.point_start
        X = p[start:start + 3 * self.N].reshape(self.N, 3)
        off = (p[start + 3 * self.N:].reshape(self.C, self.G, 2) if self.n_off
               else np.zeros((self.C, self.G, 2)))
        return R, t, K, X, off

    def project(self, R, t, K, X, off):
        """Pixels (M, 2) and depths (M,) of every observation; distortion of the last unpack."""
        c, n = self.obs_c, self.obs_n
        xc = np.einsum("mij,mj->mi", R[c], X[n]) + t[c]
        z = xc[:, 2:]
        xy = xc[:, :2] / np.where(np.abs(z) > 1e-12, z, 1e-12)
        if self.has_distortion:
            xy = distort_normalized(xy[:, None, :], self.dist_now[c])[:, 0]
        uv = np.einsum("mij,mj->mi", K[c, :2, :2], xy) + K[c, :2, 2]
        return uv + off[c, self.obs_g], z[:, 0]

    def residuals(self, p):
        R, t, K, X, off = self.unpack(p)
        uv, z = self.project(R, t, K, X, off)
        r = (uv - self.obs_xy) * self.sqrt_w[:, None]
        parts = [r.ravel()]
        if self.n_off:
            parts.append(off.ravel() * self.prior_scale)
            parts.append(np.einsum("ckgd,cgd->ck", self.gauge_rows, off).ravel())
        parts.append(self.focal_rows * p[self.n_cam:self.n_cam + self.n_focal])
        if len(self.spread_rows):
            log_f = self.log_f0 + p[self.n_cam:self.n_cam + self.C]
            parts.append(self.spread_rows * (log_f - log_f.mean()))
        parts.append(self.intr_rows * p[self.intr_start:self.point_start])
        parts.append([self._gauge(p) if self.n_cam else 0.0])
        return np.concatenate(parts)

    def jacobian(self, p):
        """The analytic sparse Jacobian of `residuals`."""
        from scipy.sparse import coo_matrix

        R, t, K, X, off = self.unpack(p)
        c, n = self.obs_c, self.obs_n
        M = len(c)
        Xn = X[n]
        Rc = R[c]
        xc = np.einsum("mij,mj->mi", Rc, Xn) + t[c]
        z = np.where(np.abs(xc[:, 2]) > 1e-12, xc[:, 2], 1e-12)
        xy = xc[:, :2] / z[:, None]
        Jp = np.zeros((M, 2, 3))  # d normalized / d camera point
        Jp[:, 0, 0] = Jp[:, 1, 1] = 1 / z
        Jp[:, :, 2] = -xy / z[:, None]
        K2 = K[c, :2, :2]
        if self.has_distortion:
            eps = 1e-7
            d = self.dist_now[c]
            base = distort_normalized(xy[:, None, :], d)[:, 0]
            Jd = np.stack([(distort_normalized((xy + [eps, 0])[:, None, :], d)[:, 0] - base) / eps,
                           (distort_normalized((xy + [0, eps])[:, None, :], d)[:, 0] - base) / eps],
                          axis=-1)
            A = K2 @ Jd
        else:
            base = xy
            A = K2
        A = (A @ Jp) * self.sqrt_w[:, None, None]  # (M, 2, 3): d residual / d camera point
        blocks = []
        slot = np.full(self.C, -1)
        slot[self.free] = np.arange(len(self.free))
        s = slot[c]
        free = s >= 0
        if self.n_cam:
            cam = p[:self.n_cam].reshape(-1, 6)
            Jr = _right_jacobian(cam[:, :3])  # (F, 3, 3)
            Xx = _skew(Xn)
            dR = -np.einsum("mij,mjk->mik", Rc, Xx)
            dR[free] = dR[free] @ Jr[s[free]]
            Jcam = np.concatenate([A @ dR, A], axis=2)[free]  # (Mf, 2, 6)
            blocks.append((np.flatnonzero(free), Jcam, 6 * s[free, None] + np.arange(6)))
        if self.n_focal:
            Jf = (np.einsum("mij,mj->mi", K2, base) * self.sqrt_w[:, None])[:, :, None]
            cols = (np.full((M, 1), self.n_cam) if self.n_focal == 1
                    else self.n_cam + c[:, None])
            blocks.append((np.arange(M), Jf, cols))
        if self.n_per:
            r2 = (xy ** 2).sum(axis=1)
            Ji = [np.broadcast_to(np.eye(2), (M, 2, 2))[:, :, :self.n_pp]]
            for k in range(self.options.radial):  # d uv / d k_(k+1) = K2 @ xy r^(2k+2)
                Ji.append(np.einsum("mij,mj->mi", K2, xy * r2[:, None] ** (k + 1))[:, :, None])
            Ji = np.concatenate(Ji, axis=2) * self.sqrt_w[:, None, None]
            blocks.append((np.arange(M), Ji,
                           self.intr_start + self.n_per * c[:, None] + np.arange(self.n_per)))
        start = self.point_start
        self.point_jac = A @ Rc  # (M, 2, 3), kept for the Schur solver
        blocks.append((np.arange(M), self.point_jac, start + 3 * n[:, None] + np.arange(3)))
        if self.n_off:
            off_start = start + 3 * self.N
            Jo = np.broadcast_to(np.eye(2), (M, 2, 2)) * self.sqrt_w[:, None, None]
            blocks.append((np.arange(M), Jo,
                           off_start + 2 * (c * self.G + self.obs_g)[:, None] + np.arange(2)))
        rows, cols, vals = [], [], []
        for obs, J, col in blocks:
            k = J.shape[2]
            rows.append(np.repeat(2 * obs[:, None] + np.arange(2), k, axis=1).ravel())
            cols.append(np.tile(col, (1, 2)).ravel())
            vals.append(J.reshape(len(obs), 2 * k).ravel())
        n_rows = 2 * M
        if self.n_off:
            rows.append(n_rows + np.arange(self.n_off))
            cols.append(off_start + np.arange(self.n_off))
            vals.append(np.full(self.n_off, self.prior_scale))
            n_rows += self.n_off
            cc, kk, gg, dd = np.meshgrid(np.arange(self.C), np.arange(4), np.arange(self.G),
                                         np.arange(2), indexing="ij")
            rows.append((n_rows + 4 * cc + kk).ravel())
            cols.append((off_start + 2 * (cc * self.G + gg) + dd).ravel())
            vals.append(self.gauge_rows.ravel())
            n_rows += 4 * self.C
        if self.n_focal:
            rows.append(n_rows + np.arange(self.n_focal))
            cols.append(self.n_cam + np.arange(self.n_focal))
            vals.append(self.focal_rows)
            n_rows += self.n_focal
        if len(self.spread_rows):
            C = self.C
            rows.append(n_rows + np.repeat(np.arange(C), C))
            cols.append(self.n_cam + np.tile(np.arange(C), C))
            vals.append((self.spread_rows[:, None] * (np.eye(C) - 1.0 / C)).ravel())
            n_rows += C
        if self.n_per:
            rows.append(n_rows + np.arange(len(self.intr_rows)))
            cols.append(self.intr_start + np.arange(len(self.intr_rows)))
            vals.append(self.intr_rows)
            n_rows += len(self.intr_rows)
        if self.n_cam:  # gauge row: d mean distance of the free centres from the fixed one
            rows.append(np.full(self.n_cam, n_rows))
            cols.append(np.arange(self.n_cam))
            vals.append(self._gauge_jacobian(p))
        n_rows += 1
        return coo_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                          shape=(n_rows, len(p))).tocsr()

    def _gauge_jacobian(self, p):
        """(n_cam,) d `_gauge` / d camera parameters, analytic.

        A centre c = -R^T t with R = R0 exp(w), t = t0 + dt: dc/dt = -R^T, and, to first order
        in the right-perturbed rotation, dc/dw = [c]x Jr(w).
        """
        cam = p[:self.n_cam].reshape(-1, 6)
        R = self.R0[self.free] @ rotation_from_rodrigues(cam[:, :3])
        t = self.t0[self.free] + cam[:, 3:]
        centers = -np.einsum("cji,cj->ci", R, t)
        u = centers - self.ref_center
        u /= np.maximum(np.linalg.norm(u, axis=1, keepdims=True), 1e-12)
        k = 1e3 / (self.d0 * len(self.free))
        d_w = np.einsum("ci,cij,cjk->ck", u, _skew(centers), _right_jacobian(cam[:, :3]))
        d_t = -np.einsum("ci,cji->cj", u, R)
        return (k * np.concatenate([d_w, d_t], axis=1)).ravel()

    def _gauge(self, p):
        cam = p[:self.n_cam].reshape(-1, 6)
        R = self.R0[self.free] @ rotation_from_rodrigues(cam[:, :3])
        t = self.t0[self.free] + cam[:, 3:]
        centers = -np.einsum("cji,cj->ci", R, t)
        d = np.linalg.norm(centers - self.ref_center, axis=1).mean()
        return 1e3 * (d / self.d0 - 1.0)


def _skew(v):
    """Cross-product matrices (..., 3, 3) of vectors (..., 3)."""
    S = np.zeros(v.shape[:-1] + (3, 3))
    S[..., 0, 1], S[..., 0, 2], S[..., 1, 2] = -v[..., 2], v[..., 1], -v[..., 0]
    S[..., 1, 0], S[..., 2, 0], S[..., 2, 1] = v[..., 2], -v[..., 1], v[..., 0]
    return S


def _right_jacobian(w):
    """SO(3) right Jacobians (..., 3, 3): exp(w + dw) = exp(w) exp(Jr(w) dw) to first order."""
    theta = np.linalg.norm(w, axis=-1)[..., None, None]
    W = _skew(w)
    small = theta < 1e-6
    th = np.where(small, 1.0, theta)
    a = np.where(small, 0.5, (1 - np.cos(th)) / th ** 2)
    b = np.where(small, 1.0 / 6, (th - np.sin(th)) / th ** 3)
    return np.eye(3) - a * W + b * (W @ W)


def bundle_adjust(points2d: np.ndarray, weights: np.ndarray, K: np.ndarray,
                  dist: np.ndarray | None, R: np.ndarray, t: np.ndarray, points3d: np.ndarray,
                  groups: np.ndarray | None = None,
                  options: BundleAdjustmentOptions = BundleAdjustmentOptions(),
                  image_size: np.ndarray | None = None) -> BundleAdjustmentResult:
    """Refine the rig (R, t, optionally intrinsics) and the points, robustly.

    points2d: (C, N, 2) pixels of the original images, NaN where unseen.
    weights: (C, N) >= 0 per-observation weights (confidence times a per-joint weight); 0 drops
        an observation. The robust weights multiply these.
    K: (C, 3, 3); dist: (C, 4 or 5) or None (no distortion): the start of the free intrinsics
        and the centre of their priors, the value of the others. R: (C, 3, 3), t: (C, 3) initial
        `cam_from_world`, metres or any unit. points3d: (N, 3) initial points, world frame; NaN
        points are left out (and stay NaN).
    groups: (N,) int in [0, G), the joint each point is (for per-joint offsets); None: one group.
    image_size: (C, 2) width, height pixels, the scale of the principal point prior; None: twice
        the starting principal point + 1 (a start at the image centre).
    Returns a BundleAdjustmentResult (`success=False` with a message if nothing could be adjusted).
    The first robust weights come from the residuals of the initial estimate.
    """
    from scipy.optimize import least_squares

    built = _build(points2d, weights, K, dist, R, t, points3d, groups, options, image_size)
    if isinstance(built, BundleAdjustmentResult):
        return built
    prob, base_w, keep, C, N = built
    obs_c, obs_n, R0, t0 = prob.obs_c, keep[prob.obs_n], prob.R0, prob.t0
    p = prob.x0.copy()
    history = []
    inlier = np.ones(len(obs_c), bool)
    sigma = np.nan
    for _ in range(max(1, options.rounds)):
        sigma, inlier = _robust_round(prob, p, base_w, options)
        if options.solver == "schur":
            p, fun, nfev = levenberg_marquardt(prob, p, options.max_nfev)
        else:
            sol = least_squares(prob.residuals, p, jac=prob.jacobian, method="trf",
                                loss="linear", tr_solver="lsmr", x_scale="jac",
                                max_nfev=options.max_nfev, xtol=1e-10, ftol=1e-8)
            p, fun, nfev = sol.x, sol.fun, sol.nfev
        history.append((float(sigma), float(np.sqrt(np.mean(fun[:2 * len(obs_c)] ** 2))),
                        int(nfev)))
    Rn, tn, Kn, Xk, off = prob.unpack(p)
    uv, z = prob.project(Rn, tn, Kn, Xk, off)
    err = np.linalg.norm(uv - prob.obs_xy, axis=1)
    err[~(z > 0)] = np.inf
    residuals = np.full((C, N), np.nan)
    residuals[obs_c, obs_n] = err
    inl = np.zeros((C, N), bool)
    inl[obs_c, obs_n] = inlier & (z > 0)
    X = np.full((N, 3), np.nan)
    X[keep] = Xk
    centers0 = -np.einsum("cji,cj->ci", R0, t0)
    centers = -np.einsum("cji,cj->ci", Rn, tn)
    moved = float(np.linalg.norm(centers - centers0, axis=1).max() / prob.d0)
    rms = float(np.sqrt(np.mean(err[inlier & np.isfinite(err)] ** 2))) if inlier.any() else np.nan
    return BundleAdjustmentResult(Rn, tn, Kn, X, off, residuals, inl, rms, float(sigma), moved,
                                  True, history, dist=prob.dist_now.copy())


def _build(points2d, weights, K, dist, R, t, points3d, groups, options, image_size):
    """The `_Problem` of `bundle_adjust`'s arguments (checked): (problem, base weights (M,),
    indices of the finite points, C, N), or a failed BundleAdjustmentResult."""
    C = check_shape(points2d, "C, N, 2", "points2d")["C"]
    N = points2d.shape[1]
    check_shape(weights, "C, N", "weights", {"C": C, "N": N})
    check_shape(points3d, "N, 3", "points3d", {"N": N})
    if C < 2:
        raise InputError("bundle adjustment needs at least 2 cameras")
    dist = np.zeros((C, 5)) if dist is None else pad_distortion(np.asarray(dist, np.float64))
    check_shape(dist, "C, 5", "dist", {"C": C})
    if image_size is not None:
        check_shape(np.asarray(image_size), "C, 2", "image_size", {"C": C})
        if not (np.asarray(image_size) > 0).all():
            raise InputError(f"image sizes must be positive, got {np.asarray(image_size).tolist()}")
    groups = np.zeros(N, dtype=np.int64) if groups is None else np.asarray(groups, np.int64)
    G = int(groups.max()) + 1 if N else 1
    X0 = np.asarray(points3d, dtype=np.float64)
    pts_ok = np.isfinite(X0).all(axis=1)
    xy = np.asarray(points2d, dtype=np.float64)
    w = np.where(np.isfinite(xy).all(axis=-1) & pts_ok[None], np.asarray(weights, np.float64), 0)
    keep = np.flatnonzero(pts_ok)
    remap = np.full(N, -1)
    remap[keep] = np.arange(len(keep))
    obs_c, obs_n = np.nonzero(w > 0)
    R0 = np.asarray(R, np.float64)
    t0 = np.asarray(t, np.float64)
    K = np.asarray(K, np.float64)
    if len(obs_c) < 6 * C:
        return _failed(R0, t0, K, X0, C, G, N, "too few observations to adjust", dist)
    prob = _Problem(xy[obs_c, obs_n], obs_c, remap[obs_n], groups[obs_n], K, dist, R0, t0,
                    X0[keep], G, options, image_size)
    base_w = w[obs_c, obs_n]
    return prob, base_w, keep, C, N


def _robust_round(prob, p, base_w, options) -> tuple[float, np.ndarray]:
    """(sigma, inlier): set `prob`'s row weights for a round from the residuals at p.

    sigma: the robust scale (pixels) of the error norms; inlier: (M,) observations under
    `outlier_sigmas` sigma. Pixel rows weigh base_w times the robust loss's weight (0 for
    outliers); the offset, focal, spread and intrinsics prior rows are scaled by sigma."""
    obs_c = prob.obs_c
    prob.sqrt_w[:] = 1.0
    err = np.linalg.norm(prob.residuals(p)[:2 * len(obs_c)].reshape(-1, 2), axis=1)
    sigma = max(robust_sigma(err[base_w > 0]), 1e-6)
    inlier = err < options.outlier_sigmas * sigma
    robust = 1.0 / (1.0 + (err / (options.cauchy_scale * sigma)) ** 2)
    if options.loss == "geman_mcclure":
        robust = robust ** 2
    prob.sqrt_w[:] = np.sqrt(base_w * robust * inlier)
    _scale_priors(prob, options, sigma, inlier)
    return sigma, inlier


def _scale_priors(prob, options, sigma: float, inlier: np.ndarray) -> None:
    """Weigh `prob`'s offset, focal, spread and intrinsics prior rows for a pixel scale sigma;
    the focal and spread rows as heavy as each camera's `inlier` (M,) observations."""
    C, obs_c = prob.C, prob.obs_c
    prob.prior_scale = sigma / options.offset_prior_px
    if prob.n_focal and options.focal_prior > 0:
        per = (np.bincount(obs_c, inlier, C) if prob.n_focal == C
               else np.array([inlier.sum()]))
        prob.focal_rows = sigma * np.sqrt(per) / options.focal_prior
    if len(prob.spread_rows) and options.focal_spread_prior > 0:
        prob.spread_rows = (sigma * np.sqrt(np.bincount(obs_c, inlier, C))
                            / options.focal_spread_prior)
    prob.intr_rows = sigma * np.sqrt(options.intrinsics_prior_weight) / prob.intr_sigma


def _failed(R, t, K, X, C, G, N, message, dist):
    return BundleAdjustmentResult(R, t, K, X, np.zeros((C, G, 2)), np.full((C, N), np.nan),
                                  np.zeros((C, N), bool), np.nan, np.nan, 0.0, False, [], message,
                                  dist)


@dataclass
class AdjustmentSpread:
    """How well an adjustment's data (and priors) fix its cameras: the Laplace approximation of
    the posterior at a solution, or the Cramer-Rao bound when evaluated at the truth with the
    true noise (Triggs et al. sec. 10).

    intrinsics: (C, 5) standard deviations of fx, cx, cy (pixels), k1, k2; NaN where not free.
    turn_deg: (C,) each camera's turn relative to the others: the root mean square, over the
        other cameras, of the standard angle error (degrees) of its relative rotation with each.
    pair_turn_deg: the root mean square over camera pairs of that angle error (degrees): the
        spread of a mean relative rotation error (its expected value is about 0.92 of this).
    noise_px: the standard deviation of a weight-1 pixel residual row (pixels) it assumed.
    """

    intrinsics: np.ndarray
    turn_deg: np.ndarray
    pair_turn_deg: float
    noise_px: float


def adjustment_spread(points2d: np.ndarray, weights: np.ndarray, K: np.ndarray,
                      dist: np.ndarray | None, R: np.ndarray, t: np.ndarray,
                      points3d: np.ndarray, groups: np.ndarray | None = None,
                      options: BundleAdjustmentOptions = BundleAdjustmentOptions(),
                      image_size: np.ndarray | None = None,
                      noise_px: float | None = None) -> AdjustmentSpread | None:
    """How well the cameras of an adjustment are fixed, at the parameters given.

    Arguments as `bundle_adjust` (the same options: what they free is what the spread is of;
    K, dist, R, t (`cam_from_world`), points3d: the solution, e.g. a BundleAdjustmentResult's).
    The points are marginalised (Schur complement) and the covariance of the cameras and
    intrinsics is the noise variance times the inverse information, priors included.
    noise_px: the noise of a weight-1 residual row, pixels per axis, and the scale of the prior
    rows (the Cramer-Rao bound: weights 1 at the true parameters); None: measured at the
    solution, as the adjustment's last round weighs it (robust weights, outliers out), from the
    weighted residuals over their degrees of freedom.
    A principal point shift and a turn of the camera move the image nearly alike (they differ
    only by perspective across the field of view), and cameras whose optical axes nearly share
    a plane (a line at one height) hardly fix their focal lengths: both show here as large
    spreads, where a bootstrap of short adjustments from the solution does not explore them.
    Returns None when the adjustment could not be set up (too few observations).
    """
    from epicap.geometry.schur_solver import side_covariance

    built = _build(points2d, weights, K, dist, R, t, points3d, groups, options, image_size)
    if isinstance(built, BundleAdjustmentResult):
        return None
    prob, base_w, _, C, _ = built
    p = prob.x0.copy()
    if noise_px is None:
        _robust_round(prob, p, base_w, options)
        rows = prob.residuals(p)[:2 * len(prob.obs_c)]
        dof = max(int((prob.sqrt_w > 0).sum()) * 2 - prob.point_start - 3 * prob.N, 1)
        noise_var = float(rows @ rows) / dof
    else:
        prob.sqrt_w[:] = np.sqrt(base_w)
        _scale_priors(prob, options, float(noise_px), np.ones(len(prob.obs_c), bool))
        noise_var = float(noise_px) ** 2
    # the side parameters start with the cameras' (6 per free camera), focal and intrinsics'
    # columns in the problem's order: their indices are their places in the covariance
    cov = side_covariance(prob, p, noise_var)
    var = np.diag(cov)
    intr = np.full((C, 5), np.nan)
    if prob.n_focal:
        fcol = prob.n_cam + (np.arange(C) if prob.n_focal == C else np.zeros(C, int))
        intr[:, 0] = prob.K[:, 0, 0] * np.sqrt(var[fcol])
    if prob.n_per:
        per = np.sqrt(var[prob.intr_start:prob.point_start]).reshape(C, prob.n_per)
        if prob.n_pp:
            intr[:, 1:3] = per[:, :2]
        intr[:, 3:3 + options.radial] = per[:, prob.n_pp:]
    # relative turns: R = R0 exp(w) (right perturbations), the fixed camera's w = 0. The error of
    # R_i R_j^T is w_i - M w_j with M = R_i^T R_j, of variance tr S_ii + tr S_jj - 2 tr(M S_ji)
    S = np.zeros((C, 3, C, 3))
    rot = (6 * np.arange(len(prob.free))[:, None] + np.arange(3)).ravel()
    S[np.ix_(prob.free, range(3), prob.free, range(3))] = (
        cov[np.ix_(rot, rot)].reshape(len(prob.free), 3, len(prob.free), 3))
    M = np.einsum("iba,jbc->ijac", prob.R0, prob.R0)
    d = np.einsum("iaia->i", S)
    pair = np.maximum(d[:, None] + d[None, :] - 2 * np.einsum("ijac,jcia->ij", M, S), 0.0)
    np.fill_diagonal(pair, 0.0)
    seen = np.bincount(prob.obs_c, minlength=C) > 0
    iu = np.triu_indices(C, 1)
    both = seen[iu[0]] & seen[iu[1]]
    turn = np.degrees(np.sqrt(np.where(seen, (pair * seen[None]).sum(1) / max(seen.sum() - 1, 1),
                                       np.nan)))
    pair_rms = float(np.degrees(np.sqrt(pair[iu][both].mean()))) if both.any() else float("nan")
    return AdjustmentSpread(intr, turn, pair_rms, float(np.sqrt(noise_var)))
