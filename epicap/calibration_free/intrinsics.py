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

__all__ = ["INTRINSIC_NAMES", "IntrinsicsCheck", "IntrinsicsEstimate", "bootstrap_spread",
           "estimated_intrinsics", "free_intrinsics"]

# the columns of a spread: fx (pixels), cx, cy (pixels), k1, k2
INTRINSIC_NAMES = ("focal", "cx", "cy", "k1", "k2")


def estimated_intrinsics(options) -> tuple[str, ...]:
    """The intrinsics `calibrate` estimates without given intrinsics under `options`
    (a CalibrationOptions): "focal", then "principal point", "k1", "k2" as asked."""
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
    decided whether the free principal points and distortion were kept, or None.
    turn_deg: (C,) how well each camera's turn relative to the others is fixed (degrees, root
    mean square over the others; `AdjustmentSpread.turn_deg`), NaN where not calibrated;
    pair_turn_deg: the same over every pair of cameras; None / NaN when not measured.
    """

    estimated: tuple = ()
    spread: np.ndarray | None = None
    check: IntrinsicsCheck | None = None
    turn_deg: np.ndarray | None = None
    pair_turn_deg: float = float("nan")


def free_intrinsics(points2d: np.ndarray, weights: np.ndarray, groups: np.ndarray,
                    solution: BundleAdjustmentResult, fixed: BundleAdjustmentOptions,
                    free: BundleAdjustmentOptions, image_size: np.ndarray | None,
                    check: bool = True, min_z: float = 2.0, check_rounds: int = 2,
                    max_nfev: int = 100, tie: float = 0.0
                    ) -> tuple[BundleAdjustmentResult, IntrinsicsCheck | None]:
    """(result, check): the adjustment from `solution` with free intrinsics, if it pays off.

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
    Returns `solution` itself when the check refuses or the adjustment fails.
    """
    check_result = None
    if check:
        errors = {"fixed": [], "free": []}
        for half in (0, 1):
            fit = (groups % 2 == half)[None, :]
            for name, opts in (("fixed", fixed), ("free", free)):
                ba = bundle_adjust(points2d, weights * fit, solution.K, solution.dist,
                                   solution.R, solution.t, solution.points3d, groups,
                                   dataclasses.replace(opts, rounds=check_rounds), image_size)
                errors[name].append(_held_out_errors(points2d, weights * ~fit, ba)
                                    if ba.success else np.full(1, np.inf))
        fixed_e, free_e = (np.concatenate(errors[k]) for k in ("fixed", "free"))
        fixed_px, free_px = float(np.median(fixed_e)), float(np.median(free_e))
        both = np.isfinite(fixed_e) & np.isfinite(free_e)
        better = int((free_e[both] < fixed_e[both]).sum())
        worse = int((free_e[both] > fixed_e[both]).sum())
        z = (better - worse) / np.sqrt(max(better + worse, 1))
        better_fit = z > min_z and free_px < fixed_px
        tied = z > -min_z and free_px < (1 + tie) * fixed_px
        check_result = IntrinsicsCheck(fixed_px, free_px, bool(better_fit or (tie > 0 and tied)),
                                       float(z))
        if not check_result.kept:
            return solution, check_result
    result = bundle_adjust(points2d, weights, solution.K, solution.dist, solution.R, solution.t,
                           solution.points3d, groups,
                           dataclasses.replace(free, max_nfev=max(free.max_nfev, max_nfev)),
                           image_size)
    if not result.success:
        return solution, check_result
    why = _implausible(result.K, image_size)
    if why:
        if check_result is None:
            check_result = IntrinsicsCheck(float("nan"), float("nan"), False)
        return solution, dataclasses.replace(check_result, kept=False, implausible=why)
    return result, check_result


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
