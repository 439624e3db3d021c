"""How well the data determine the intrinsics a calibration estimated (issue 12, item 2).

With unknown intrinsics `calibrate` estimates each camera's focal length and, in its last
adjustment, its principal point and radial distortion (Gaussian priors about the image centre and
zero: `epicap.geometry.bundle_adjustment`). How well each was fixed is measured by the bootstrap
(Efron & Tibshirani, "An Introduction to the Bootstrap", 1993, ch. 6): the adjusted frames are
resampled with replacement, a short adjustment starts from the solution on each resample, and
the spread (standard deviation) of each intrinsic over the resamples is reported beside it.
Resampling whole frames keeps the joints of one instant together (their errors are correlated
through the pose), so the spread is not that of independent pixels.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from epicap.geometry.bundle_adjustment import (BundleAdjustmentOptions, BundleAdjustmentResult,
                                               bundle_adjust)
from epicap.geometry.camera import radial_fold

__all__ = ["INTRINSIC_NAMES", "IntrinsicsCheck", "IntrinsicsEstimate", "bootstrap_spread",
           "estimated_intrinsics", "free_intrinsics", "lens_fold"]

# the columns of a spread: fx (pixels), cx, cy (pixels), k1, k2
INTRINSIC_NAMES = ("focal", "cx", "cy", "k1", "k2")


def estimated_intrinsics(options) -> tuple[str, ...]:
    """The intrinsics `calibrate` may estimate without given intrinsics under `options`
    (a CalibrationOptions): "focal", then "principal point", "k1", "k2" as asked (the held-out
    checks keep fewer where the joints do not support them)."""
    out = ["focal"]
    if options.principal_point:
        out.append("principal point")
    out += ["k1", "k2"][:options.radial]
    return tuple(out)


@dataclass
class IntrinsicsCheck:
    """Whether freeing the principal points and radial distortion paid off on held-out joints.

    fixed_px, free_px: median reprojection error (pixels) of the held-out joints, triangulated by
    the rig adjusted on the other joints with the intrinsics held (centred principal point, no
    distortion) and freed. sign_z: the sign test's statistic over the held-out observations,
    (better - worse) / sqrt(better + worse), where "better" counts those the free intrinsics
    reproject closer. kept: the free intrinsics were kept. implausible: why they were refused
    although they fitted better (a principal point moved off the image centre by more than
    `MAX_CENTRE_SHIFT`), "" otherwise.
    """

    fixed_px: float
    free_px: float
    kept: bool
    sign_z: float = float("nan")
    implausible: str = ""


# a freed principal point further than this share of the image width (x) or height (y) from the
# centre is refused: four times the prior's spread (`CalibrationOptions.principal_point_prior`),
# twice what lenses and sensors are built to (within 1-3%, up to 5% on phones). The Pose2Sim
# two-person trial's OpenPose JSON, intrinsics unknown, moved every camera's by 15-23% of the
# height (one person there has confidence 1 and fits to 0.45 px, outweighing the priors); its
# held-out joints fitted 1.26 px against 1.37 with them centred, and the rig was 22 deg off
# (1.6 deg with them centred).
MAX_CENTRE_SHIFT = 0.1


@dataclass
class IntrinsicsEstimate:
    """What a calibration estimated of the intrinsics and how well.

    estimated: the intrinsics estimated ("focal", "principal point", "k1", "k2"); empty when
    they were given. spread: (C, 5) standard deviations of fx, cx, cy (pixels), k1, k2: per
    value the larger of the adjustment's covariance (`adjustment_spread`) and the bootstrap's
    spread; NaN where not estimated; None when not measured. check: the held-out test that
    decided whether the free principal points and distortion were kept, or None. k2_check: the
    one that then decided whether k2 was estimated beside k1 (`free_intrinsics`), or None.
    turn_deg: (C,) how well each camera's turn relative to the others is fixed (degrees, root
    mean square over the others; `AdjustmentSpread.turn_deg`), NaN where not calibrated;
    pair_turn_deg: the same over every pair of cameras; None / NaN when not measured.
    """

    estimated: tuple = ()
    spread: np.ndarray | None = None
    check: IntrinsicsCheck | None = None
    turn_deg: np.ndarray | None = None
    pair_turn_deg: float = float("nan")
    k2_check: IntrinsicsCheck | None = None


def free_intrinsics(points2d: np.ndarray, weights: np.ndarray, groups: np.ndarray,
                    solution: BundleAdjustmentResult, fixed: BundleAdjustmentOptions,
                    free: BundleAdjustmentOptions, image_size: np.ndarray | None,
                    check: bool = True, min_z: float = 2.0, check_rounds: int = 2,
                    max_nfev: int = 100, tie: float = 0.0,
                    more: BundleAdjustmentOptions | None = None
                    ) -> tuple[BundleAdjustmentResult, IntrinsicsCheck | None,
                               IntrinsicsCheck | None]:
    """(result, check, k2_check): the adjustment from `solution` with free intrinsics, if it
    pays off.

    points2d (C, N, 2) pixels, weights (C, N), groups (N,) joint of each point: the last
    adjustment's input; solution: its result (intrinsics held, options `fixed`); free: the same
    options freeing principal points and/or radial coefficients; image_size (C, 2) or None.
    A detector's view-dependent bias (a hip 20 px off in one view, constant over the frames) is
    fitted too by a principal point or k1, which then tilt the cameras: measured on the real
    Pose2Sim demo (OpenPose), the mean relative rotation error went 1.06 -> 2.8-3.0 deg with both
    free. With `check`, the joints are split in two (even and odd joint indices); each half
    adjusts the rig with the intrinsics held and freed, and the other half, triangulated by
    each, says which generalises: the free intrinsics are kept when they reproject the held-out
    observations closer, by the sign test (paired, robust to outliers: `IntrinsicsCheck.sign_z`
    above `min_z`) and by the median. Bias belongs to one joint and does not carry over to the
    others; true intrinsics do. A tie (medians within `tie` of each other, z above -min_z)
    keeps the free model when `tie` > 0 (`CalibrationOptions.intrinsics_tie` says what it
    measured), the centred one when 0: on centred synthetic rigs the free one fitted the
    held-out joints as well (medians within 0.4%, sign_z -5.8..0.2) and could wander along the
    principal point / turn valley (dance_a 0.13 -> 0.78 deg); rigs with off-centre principal
    points gave sign_z 4.9-98 but also ties (sweep rig 90, a k1 of -0.19: z 0.8); the real demo
    (OpenPose) -9.4. The half adjustments run `check_rounds` robust rounds; the adjustment with
    free intrinsics on every joint runs only when the check keeps them, with up to `max_nfev`
    residual evaluations per robust round (the check's halves keep `free`'s): the focal
    lengths of cameras whose optical axes nearly share a plane (a line at one height) move
    slowly along their weak direction, and an adjustment stopped at 30 left them near where the
    centred principal points had put them (random-rig sweep, unknown intrinsics, seed 17, a
    level line of 6 cameras: focal 16.8% off and MPJPE ratio 1.39 at 30; 3.2% and 1.006 with
    room to converge).
    more: `free` with k2 freed as well (or None). Real lenses bend the image's edges by more
    than k1 r^2: the published Human3.6M cameras have k1 -0.19..-0.21 and k2 +0.22..+0.26,
    where a k1-only model, its own k1 pulled to -0.15, turned a synthetic 4-camera lab of them
    by 0.42-0.63 deg (MPJPE ratio 1.07-1.10) against 0.10-0.21 deg (1.003-1.006) with k2. k2 is
    one more curve a detector's bias can bend, so once the free intrinsics are kept, the same
    halves adjust with `more` too, and k2 is kept only when it reprojects the held-out joints
    closer than `free` by the sign test (z above `min_z`) and the median (a tie keeps k1
    alone); k2_check says how that went (fixed_px, free_px: without and with k2), None when
    not tested. A k2 that bends the model back inside the image (`lens_fold`) is refused too
    (k2_check.implausible says so) and k1 alone adjusted. Without `check`, `more` is adjusted
    directly when given.
    Returns `solution` itself when the check refuses or the adjustment fails.
    """
    check_result = k2_check = None
    chosen = more if (more is not None and not check) else free
    if check:
        models = [fixed, free] + ([more] if more is not None else [])
        errors = _held_out_errors_of(points2d, weights, groups, solution, models, image_size,
                                     check_rounds)
        fixed_px, free_px, z = _sign_test(errors[0], errors[1])
        better_fit = z > min_z and free_px < fixed_px
        tied = z > -min_z and free_px < (1 + tie) * fixed_px
        check_result = IntrinsicsCheck(fixed_px, free_px, bool(better_fit or (tie > 0 and tied)),
                                       float(z))
        if not check_result.kept:
            return solution, check_result, None
        if more is not None:
            k1_px, k2_px, z2 = _sign_test(errors[1], errors[2])
            k2_check = IntrinsicsCheck(k1_px, k2_px, bool(z2 > min_z and k2_px < k1_px),
                                       float(z2))
            chosen = more if k2_check.kept else free
    result = _adjusted(points2d, weights, groups, solution, chosen, max_nfev, image_size)
    fold = ("" if not (result.success and chosen is more and image_size is not None)
            else lens_fold(result.K, result.dist, image_size))
    if fold:
        # k2 bent the model into a fold inside the image, where a lens has none: k1 alone
        k2_check = dataclasses.replace(
            k2_check or IntrinsicsCheck(float("nan"), float("nan"), False), kept=False,
            implausible=fold)
        result = _adjusted(points2d, weights, groups, solution, free, max_nfev, image_size)
    if not result.success:
        return solution, check_result, k2_check
    why = _implausible(result.K, image_size)
    if why:
        if check_result is None:
            check_result = IntrinsicsCheck(float("nan"), float("nan"), False)
        return solution, dataclasses.replace(check_result, kept=False, implausible=why), None
    return result, check_result, k2_check


def _held_out_errors_of(points2d, weights, groups, start: BundleAdjustmentResult, models,
                        image_size, rounds: int) -> list[np.ndarray]:
    """Per lens model (BundleAdjustmentOptions in `models`), the held-out reprojection errors
    (pixels, inf where a point could not be triangulated): the joints split in two (even and odd
    joint indices), each half adjusting the rig from `start` (`rounds` robust rounds) and the
    other half, triangulated by it, reprojected; both halves' errors in one array, the same
    observations in the same order for every model."""
    errors = [[] for _ in models]
    for half in (0, 1):
        fit = (groups % 2 == half)[None, :]
        for k, opts in enumerate(models):
            ba = bundle_adjust(points2d, weights * fit, start.K, start.dist, start.R, start.t,
                               start.points3d, groups, dataclasses.replace(opts, rounds=rounds),
                               image_size)
            errors[k].append(_held_out_errors(points2d, weights * ~fit, ba) if ba.success
                             else np.full(int((weights * ~fit > 0).sum()), np.inf))
    return [np.concatenate(e) for e in errors]


def _sign_test(a_e: np.ndarray, b_e: np.ndarray) -> tuple[float, float, float]:
    """(a_px, b_px, z): the median held-out errors of two models and the paired sign test,
    (better - worse) / sqrt(better + worse), "better" counting the observations b fits closer."""
    both = np.isfinite(a_e) & np.isfinite(b_e)
    better = int((b_e[both] < a_e[both]).sum())
    worse = int((b_e[both] > a_e[both]).sum())
    z = (better - worse) / np.sqrt(max(better + worse, 1))
    return float(np.median(a_e)), float(np.median(b_e)), float(z)


def _adjusted(points2d, weights, groups, start: BundleAdjustmentResult,
              options: BundleAdjustmentOptions, max_nfev: int, image_size
              ) -> BundleAdjustmentResult:
    """The adjustment on every joint from `start` under `options`, with up to `max_nfev`
    residual evaluations per robust round."""
    return bundle_adjust(points2d, weights, start.K, start.dist, start.R, start.t,
                         start.points3d, groups,
                         dataclasses.replace(options, max_nfev=max(options.max_nfev, max_nfev)),
                         image_size)


def _implausible(K: np.ndarray, image_size: np.ndarray | None) -> str:
    """Why the principal points of K (C, 3, 3) cannot be a lens's (the one furthest off the
    centre, when more than `MAX_CENTRE_SHIFT` of its image size), "" when they can."""
    if image_size is None:
        return ""
    size = np.asarray(image_size, np.float64)
    shift = np.abs(K[:, :2, 2] - (size - 1) / 2) / size                     # (C, 2)
    worst = int(np.argmax(shift.max(axis=1)))
    if not shift[worst].max() > MAX_CENTRE_SHIFT:
        return ""
    axis = int(np.argmax(shift[worst]))
    return (f"a principal point moved {100 * shift[worst, axis]:.0f}% of the image "
            f"{'width' if axis == 0 else 'height'} off its centre (more than "
            f"{100 * MAX_CENTRE_SHIFT:.0f}%: the joints' bias, not a lens)")


def lens_fold(K: np.ndarray, dist: np.ndarray | None, image_size: np.ndarray) -> str:
    """Why a camera's radial distortion folds back inside its image, "" when none does.

    K: (C, 3, 3), dist: (C, 5) k1 k2 p1 p2 k3 (OpenCV's order) or None, image_size: (C, 2)
    width, height pixels. A real lens maps rays farther out all the way to its image corners;
    a fitted k1 or k2 < 0 can turn that back (`geometry.camera.radial_fold`), beyond which two
    rays land on one pixel and undistortion has no answer. The farthest distorted radius the
    model reaches must lie beyond the farthest image corner (both in focal lengths from the
    principal point); the first camera where it does not is named."""
    if dist is None:
        return ""
    size = np.asarray(image_size, np.float64)
    reach = radial_fold(dist)[1]                                               # (C,)
    corners = np.stack([np.zeros_like(size), size * [1, 0], size * [0, 1], size], axis=1)
    focal = np.stack([K[:, 0, 0], K[:, 1, 1]], axis=1)[:, None]                # (C, 1, 2)
    corner = np.linalg.norm((corners - K[:, None, :2, 2]) / focal, axis=2).max(axis=1)
    folded = np.flatnonzero(reach <= corner)
    if not len(folded):
        return ""
    c = int(folded[0])
    return (f"camera {c + 1}'s distortion (k1 {dist[c, 0]:+.3f}, k2 {dist[c, 1]:+.3f}) folds "
            f"back at {reach[c]:.2f} focal lengths from the centre, inside its image (corners at "
            f"{corner[c]:.2f}): not a lens")


def _held_out_errors(points2d, weights, ba) -> np.ndarray:
    """Reprojection errors (pixels) of the observations with weight > 0, their points
    triangulated (robustly) by the rig of `ba`; inf where a point could not be."""
    from epicap.geometry.camera import project_points
    from epicap.geometry.triangulation import triangulate

    seen = weights > 0
    px = np.where(seen[..., None], points2d, np.nan)
    X = triangulate(px, ba.K, ba.R, ba.t, ba.dist, np.minimum(weights, 1.0)).points3d
    uv = project_points(X, ba.K, ba.R, ba.t, ba.dist)[0]
    err = np.linalg.norm(uv - points2d, axis=-1)[seen]
    return np.where(np.isfinite(err), err, np.inf)


def bootstrap_spread(points2d: np.ndarray, weights: np.ndarray, groups: np.ndarray,
                     solution: BundleAdjustmentResult, frames: int,
                     options: BundleAdjustmentOptions, image_size: np.ndarray | None,
                     resamples: int = 8, seed: int = 0, max_nfev: int = 10) -> np.ndarray:
    """(C, 5) standard deviations of fx, cx, cy (pixels), k1, k2 over bootstrap resamples.

    points2d: (C, F * J, 2) pixels and weights: (C, F * J) of the adjustment that gave
    `solution` (its points3d (F * J, 3) in the same order, frame-major), groups: (F * J,) joint
    of each point, frames: F. options: that adjustment's options: what it froze stays frozen
    (NaN columns), what it freed is freed again. Each resample draws F frames with replacement
    (`seed`), starts from `solution` (cameras, intrinsics, points) and runs one robust round of
    at most `max_nfev` evaluations. image_size: (C, 2) pixels or None, as for `bundle_adjust`.
    NaN everywhere with fewer than 2 resamples that adjusted.
    """
    C, M = weights.shape
    J = M // frames
    rng = np.random.default_rng(seed)
    short = dataclasses.replace(options, rounds=1, max_nfev=max_nfev)
    values = []
    for _ in range(resamples):
        pick = rng.integers(0, frames, frames)
        idx = (pick[:, None] * J + np.arange(J)).ravel()
        ba = bundle_adjust(points2d[:, idx], weights[:, idx], solution.K, solution.dist,
                           solution.R, solution.t, solution.points3d[idx], groups[idx], short,
                           image_size)
        if ba.success:
            values.append(np.concatenate([ba.K[:, 0, 0, None], ba.K[:, :2, 2], ba.dist[:, :2]],
                                         axis=1))
    spread = np.full((C, 5), np.nan)
    if len(values) >= 2:
        spread = np.std(values, axis=0, ddof=1)
    free = [options.focal != "fixed", options.principal_point, options.principal_point,
            options.radial >= 1, options.radial >= 2]
    spread[:, ~np.array(free)] = np.nan
    return spread
