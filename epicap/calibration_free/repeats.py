"""Weigh a person's joints by what they add, not by how many frames repeat them.

Calibration pools every person-frame as one more frame (`people.pool_people`). A person who
stands still gives the same 3D joints frame after frame, so every frame repeats the same
view-dependent detector errors (a hip 20-50 px off in one view stays 20-50 px off): a hundred
frames of one still pose then weigh like a hundred independent poses, and the cameras tilt to
fit that one pose's bias. Measured on the Pose2Sim two-person trial's videos (MediaPipe,
intrinsics given, against Qualisys): the man, who moves, alone gives 1.26 deg mean relative
rotation, the woman, who stands nearly still, alone 5.82 deg, both pooled 2.63 deg; her
residuals are no larger than his, so residual-based weights do not single her out.

What a joint adds is counted instead (a kernel density estimate over the person's own frames):
joint j of frame f has n = 1 + sum over that person's other frames g of exp(-d^2 / 2 s^2), where
d is the distance between its 2D positions in f and g averaged over the cameras that see it in
both, in units of the person's 2D size in each camera (the median diagonal of the joints'
bounding box), and s is `scale` (5% of the size, about 9 cm on an adult: a few times the
detector's frame-to-frame jitter, about 1% at 60 fps on the Pose2Sim trial, so that jitter does
not make a still pose look new). How much those n observations are worth depends on whether
their errors repeat too: rho, the correlation of a joint's reprojection error with the mean
error of its repeats (same camera), measured per person on the first adjustment's residuals:
about 0 for independent noise (synthetic Gaussian noise: nothing changes), up to 1 for a bias
that comes back with the pose. The least-squares weight of n equicorrelated observations of
variance s2 is 1 / (s2 (1 + (n - 1) rho)) each (their mean has the variance s2 (1 + (n - 1)
rho) / n): a still, biased person adds about one pose's worth, a moving one keeps her frames'
worth. s2 is each person's own squared reprojection error (median), relative to the median
person's and held within `VARIANCE_RANGE`. The weights are scaled to mean 1 over the
observations, so the balance with the adjustment's priors stays.

Measured (intrinsics given, against the truth; mean relative rotation / centres):
- synthetic, 4 cameras, two people walking and a bystander standing still whose joints carry a
  constant 12 px offset per camera (the unit test): 0.50 deg without, 0.067 deg with (the two
  walkers alone: 0.061 deg); the same bystander without the offset: 0.029 / 0.031 deg.
- Pose2Sim two-person videos (MediaPipe): 2.63 deg / 8.1 cm without, 2.10 deg / 6.6 cm with
  (rho 0.35 and 0.31; the man alone 1.26 deg, but from Qualisys itself his joints adjust to
  1.71 deg).
- its OpenPose JSON: 1.21 deg / 4.4 cm without, 1.14 deg / 4.1 cm with (rho 0.99, 0.43, 0.85:
  one person's keypoints have confidence 1 and fit to 0.45 px, weighed up to 10 times).
"""
from __future__ import annotations

import numpy as np

from epicap.errors import InputError, check_shape

__all__ = ["repeat_counts", "repeat_correlation", "repeat_weights"]

# at most this many frames of a person are the reference the density is counted over (evenly
# spread, the count scaled up): the cost is frames x reference x joints x cameras
MAX_REFERENCE = 300
BLOCK = 64  # frames compared with the reference at once
# a person's precision weight (1 / its error variance, relative to the median person's) stays
# within this range
VARIANCE_RANGE = (0.1, 10.0)


def _person_sizes(points2d, ok):
    """(C,) the person's 2D size in each camera: median over frames of the diagonal of the
    bounding box of the joints seen; NaN where never seen."""
    lo = np.where(ok[..., None], points2d, np.inf).min(axis=2)
    hi = np.where(ok[..., None], points2d, -np.inf).max(axis=2)
    with np.errstate(invalid="ignore"):
        diag = np.where(ok.any(2), np.linalg.norm(hi - lo, axis=-1), 0.0)            # (C, T)
    return np.array([np.median(d[d > 0]) if (d > 0).any() else np.nan for d in diag])


def _kernel_sums(points2d, seen, scale, values=None):
    """Gaussian-kernel sums over one person's frames: counts (T, J) and, with values (C, T, J,
    K), the sums of the other frames' values (C, T, J, K) (each frame's own left out; only the
    values of cameras that see the joint in both frames)."""
    C, T, J = seen.shape
    ok = np.asarray(seen, bool) & np.isfinite(points2d).all(-1)
    x = np.where(ok[..., None], points2d, 0.0).astype(np.float64)
    size = _person_sizes(x, ok)
    usable = np.isfinite(size)
    ok &= usable[:, None, None]
    x = np.where(ok[..., None], x / np.where(usable, size, 1)[:, None, None, None], 0.0)
    ref = np.arange(T) if T <= MAX_REFERENCE else np.linspace(0, T - 1, MAX_REFERENCE).astype(int)
    xr, okr = x[:, ref], ok[:, ref]                                                  # (C, G, J...)
    counts = np.zeros((T, J))
    sums = None
    if values is not None:
        v = np.where(ok[..., None] & np.isfinite(values), values, 0.0)
        vr = v[:, ref]
        sums = np.zeros(v.shape)
    for a in range(0, T, BLOCK):
        b = min(T, a + BLOCK)
        both = ok[:, a:b, None] & okr[:, None]                                       # (C, B, G, J)
        d = np.linalg.norm(x[:, a:b, None] - xr[:, None], axis=-1)                   # (C, B, G, J)
        n = both.sum(0)
        mean = np.where(n > 0, (d * both).sum(0) / np.maximum(n, 1), np.inf)        # (B, G, J)
        kernel = np.exp(-0.5 * (mean / scale) ** 2)
        kernel[np.arange(a, b)[:, None] == ref[None, :]] = 0.0  # not itself
        counts[a:b] = kernel.sum(1)
        if sums is not None:
            sums[:, a:b] = np.einsum("bgj,cbgj,cgjk->cbjk", kernel, both, vr)
    factor = T / len(ref)
    anywhere = ok.any(0)
    counts = np.where(anywhere, 1.0 + factor * counts, 0.0)
    return counts, None if sums is None else factor * sums


def repeat_counts(points2d: np.ndarray, seen: np.ndarray, scale: float) -> np.ndarray:
    """(T, J) how many of one person's frames put each joint at about the same place.

    points2d: (C, T, J, 2) one person's joints in pixels of each camera's image; seen: (C, T, J)
        bool, the observations to use (NaN points count as unseen). scale: the kernel's width, a
        fraction of the person's 2D size in each camera (median over frames of the diagonal
        of the bounding box of the joints seen).
    Returns the Gaussian-kernel count: 1 (the frame itself) plus the kernel over the other
    frames where the joint is seen by a camera, 0 where it is seen by none. With more than
    `MAX_REFERENCE` frames the other frames are that many evenly spread ones, scaled up.
    """
    dims = check_shape(points2d, "C, T, J, 2", "points2d")
    check_shape(seen, "C, T, J", "seen", dims)
    if not scale > 0:
        raise InputError(f"the repeat scale {scale} must be positive")
    return _kernel_sums(points2d, seen, scale)[0]


def repeat_correlation(points2d: np.ndarray, seen: np.ndarray, track: np.ndarray,
                       residuals: np.ndarray, scale: float) -> dict:
    """{person: the correlation (0 to 1) of that person's repeated joints' reprojection errors}.

    points2d, seen: (C, F, J, 2) pixels and (C, F, J) bool of pooled frames; track: (F,) the
    person of each frame (repeats are looked for within a person); residuals: (C, F, J, 2)
    signed reprojection errors in pixels (NaN where not used); scale: as in `repeat_counts`.
    Each residual is compared with the kernel-weighted mean residual of the same camera and
    joint over the person's other frames (its repeats): the correlation is sum(e . m) /
    sum(|e|^2) over the observations with repeats (the kernel's sum above 1), clipped to
    [0, 1]. Independent detector noise gives about 0, a detector error that comes back with
    the pose (view-dependent bias) up to 1; 0 for a person without repeats.
    """
    out = {}
    for p in np.unique(track):
        m = track == p
        e = residuals[:, m]
        use = seen[:, m] & np.isfinite(e).all(-1)
        ones = np.ones(e.shape[:3] + (1,))
        sums = _kernel_sums(points2d[:, m], use, scale, np.concatenate([e, ones], -1))[1]
        # the kernel-weighted mean of the other frames' residuals of the same camera and joint
        mean = sums[..., :2] / np.maximum(sums[..., 2:], 1e-12)
        ok = use & (sums[..., 2] > 1.0)
        num = float((e * mean).sum(-1)[ok].sum())
        den = float((e ** 2).sum(-1)[ok].sum())
        out[p.item()] = float(np.clip(num / den, 0.0, 1.0)) if den > 0 else 0.0
    return out


def repeat_weights(points2d: np.ndarray, seen: np.ndarray, track: np.ndarray,
                   scale: float, correlation: float | dict = 1.0,
                   variance: dict | None = None) -> np.ndarray:
    """(F, J) weights of pooled frames' joints: 1 / (s2 (1 + (n - 1) rho)), n the repeat count.

    points2d: (C, F, J, 2) pixels of the pooled frames (`people.pool_people`); seen: (C, F, J)
        bool; track: (F,) the person of each pooled frame (counts are taken over that person's
        own frames); scale: as in `repeat_counts`; correlation: rho, how much the errors of
        repeated joints agree, one for all or {person: rho} (`repeat_correlation`): 1 counts n
        repeats as one observation, 0 as n independent ones (the least-squares weight of an
        equicorrelated group); variance: {person: s2, the person's squared reprojection error
        (pixels^2)} or None (alike): each person also weighs 1 / s2 (how precisely that
        person's joints are placed), relative to the median over people and clipped to
        `VARIANCE_RANGE`, so that one person cannot take nearly all the weight.
    Returns weights of mean 1 over the observations seen; 0 where unseen.
    """
    F = check_shape(points2d, "C, F, J, 2", "points2d")["F"]
    track = np.asarray(track)
    if track.shape != (F,):
        raise InputError(f"track must have shape ({F},), got {track.shape}")
    rho = {p.item(): correlation.get(p.item(), 0.0) if isinstance(correlation, dict)
           else correlation for p in np.unique(track)}
    if not all(0 <= r <= 1 for r in rho.values()):
        raise InputError(f"correlations must be between 0 and 1, got {correlation}")
    w = np.zeros(points2d.shape[1:3])
    for p, r in rho.items():
        m = track == p
        counts = repeat_counts(points2d[:, m], seen[:, m], scale)
        w[m] = np.where(counts > 0, 1.0 / (1.0 + np.maximum(counts - 1, 0) * r), 0.0)
    if variance:
        ref = np.median(list(variance.values()))
        for p, v in variance.items():
            w[track == p] *= np.clip(ref / max(v, 1e-12), *VARIANCE_RANGE)
    obs = np.asarray(seen, bool).sum(0)                                              # (F, J)
    mean = (w * obs).sum() / max(obs.sum(), 1)
    return w / mean if mean > 0 else w
