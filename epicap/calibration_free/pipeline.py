"""`calibrate`: every camera's pose (and focal length), metric scale and the floor, from 2D joints.

The stages, each in its own module:
1. observations: confident joints, a spread-out subset of frames, per-camera coverage checks;
2. intrinsics: given (`Cameras` with distortion) or every camera's focal length, from a
   shared value searched by how well a quick solve fits the joints (`focal_search`) or from
   the fundamental matrices' closed form (`focal`), each camera then resected on its own; the
   start whose quick solve fits better is kept (`focal_choice`);
3. pairs: pooled essential matrix of every camera pair, conditioning score (`pairs`);
4. registration: best pair, then PnP camera by camera (`register`);
5. bundle adjustment of every extrinsic (and per-camera focal length, pulled toward the shared
   one) with every joint, robust; the second adjustment weighs each camera's each joint by how
   well it agreed with the other views in the first (view-dependent detector bias), optionally
   with a per-camera-and-joint detector offset (`epicap.geometry.bundle_adjustment`) and
   optionally weighing down the joints each camera sees on the far side of the body
   (`visibility`); intrinsics unknown, a last adjustment frees each camera's principal point
   and k1 (priors: image centre, zero), kept only if it fits held-out joints better, and
   bootstrap resamples of the frames measure how well each intrinsic is fixed (`intrinsics`);
6. world frame: Z up from the floor the feet touch (feet unseen: from upright trunks, the path
   and the standing heights of the lowest joints seen), metres from the subject's height
   (`world`, `upright`).

`initial=` refines a given calibration instead (stages 5 only, in its frame: `refine`).
`method="pooled"` stops after the pairs (each camera from its pooled pair with a reference
camera), `method="epipolarpose"` uses EpipolarPose's per-frame estimates instead: baselines.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from epicap.calibration_free.focal_choice import ALIKE, centred_K, choose_focals, normalize
from epicap.calibration_free.intrinsics import (IntrinsicsEstimate, bootstrap_spread,
                                                estimated_intrinsics, free_intrinsics)
from epicap.calibration_free.pairs import best_pair, estimate_pairs, per_frame_pairs
from epicap.calibration_free.options import METHODS, CalibrationOptions
from epicap.calibration_free.register import (Registration, register_cameras,
                                              triangulate_joints)
from epicap.calibration_free.report import CalibrationResult, CameraReport, few_inliers_warning
from epicap.calibration_free.visibility import occlusion_weights
from epicap.calibration_free.world import apply_world_frame, estimate_world_frame
from epicap.errors import GeometryError, InputError
from epicap.geometry.bundle_adjustment import (BundleAdjustmentOptions, adjustment_spread,
                                               bundle_adjust, robust_sigma)
from epicap.geometry.camera import undistort_points
from epicap.session import Cameras, Keypoints2D

__all__ = ["CalibrationOptions", "calibrate", "METHODS"]




def _intrinsics_for(keypoints: Keypoints2D, intrinsics: Cameras) -> Cameras:
    missing = [n for n in keypoints.cameras if n not in intrinsics.names]
    if missing:
        raise InputError(f"the intrinsics have no camera {', '.join(missing)} "
                         f"(they have {', '.join(intrinsics.names)})")
    cams = intrinsics.select(keypoints.cameras)
    for c, name in enumerate(cams.names):
        if not np.array_equal(cams.image_size[c], keypoints.image_size[c]):
            raise InputError(f"camera {name}: the intrinsics are for a "
                             f"{cams.image_size[c][0]}x{cams.image_size[c][1]} image, the "
                             f"keypoints for {keypoints.image_size[c][0]}x"
                             f"{keypoints.image_size[c][1]}")
    return cams


def _select_frames(seen: np.ndarray, max_frames: int) -> np.ndarray:
    """Indices of up to max_frames frames with joints in 2+ views, evenly spread in time."""
    views = (seen.sum(axis=0) >= 2).sum(axis=1)  # (T,) joints seen twice or more
    useful = np.flatnonzero(views >= 4)
    if len(useful) > max_frames:
        useful = useful[np.linspace(0, len(useful) - 1, max_frames).astype(int)]
    return useful


def calibrate(keypoints: Keypoints2D, intrinsics: Cameras | None = None,
              options: CalibrationOptions = CalibrationOptions(),
              initial: Cameras | None = None,
              repeat_track: np.ndarray | None = None) -> CalibrationResult:
    """Calibrate the cameras of `keypoints` from the people they see.

    keypoints: 2D joints of C >= 2 synchronized cameras. intrinsics: known intrinsics (and
        distortion) for those cameras (by name), or None to estimate focal lengths (principal
        point at the image centre, no distortion).
    initial: refine this calibration instead (intrinsics and `cam_from_world` of every camera,
        by name; e.g. a board calibration after a camera was nudged): its intrinsics are kept,
        the pairs and registration are skipped, the adjustment starts from its poses, and the
        result stays in its world frame and unit (a similarity fit of the adjusted cameras onto
        its cameras). With `intrinsics` too, those win: `initial` gives only the starting poses.
        A solve from nothing runs alongside and is kept (method "refine: from nothing") when it
        explains the joints better (`refine`, `rival`).
    repeat_track: (T,) the person each frame shows (pooled people: `people.pool_people`): the
        reweighted adjustments weigh each joint by what it adds over that person's other frames,
        as much as the errors of repeated joints agree (`repeats`); None: every frame alike.
    Returns a CalibrationResult: the calibrated cameras in the world frame (Z up, floor z = 0,
    metres; `initial`'s frame when refining), per-camera reports, excluded cameras with
    reasons, warnings.
    Raises InputError / GeometryError when the data cannot fix the geometry.
    Several people (keypoints with `people`): all of them are pooled as extra frames, the world
    frame and scale come from person 0 or `options.subject` (`epicap.calibration_free.people`).
    """
    import cv2

    cv2.setRNGSeed(options.seed)  # OpenCV's RANSACs: the same keypoints give the same rig
    if keypoints.people is None and options.subject not in ("", "p0"):
        raise InputError(f"--subject {options.subject}: the keypoints hold one person")
    if options.refine_timing and initial is None:
        from epicap.calibration_free.timing import calibrate_timed

        return calibrate_timed(keypoints, intrinsics, options, repeat_track, calibrate)
    if keypoints.people is not None:
        from epicap.calibration_free.people import calibrate_people

        return calibrate_people(keypoints, intrinsics, options, initial, calibrate)
    names = keypoints.cameras
    C, T, J = keypoints.keypoints.shape[:3]
    if C < 2:
        raise InputError(f"calibration needs at least 2 cameras, the keypoints have {C}")
    skeleton = keypoints.skeleton
    pixels = keypoints.points.astype(np.float64)
    conf = keypoints.confidence.astype(np.float64)
    # a joint a detector placed outside the image is a guess from the rest of the body (a
    # person cut by the image's edge): biased, measured, so it does not fix the cameras
    size = np.asarray(keypoints.image_size, dtype=np.float64)[:, None, None, :]
    inside = ((pixels >= -0.5) & (pixels <= size - 0.5)).all(-1)
    seen = (conf >= options.min_confidence) & np.isfinite(pixels).all(-1) & inside
    warnings: list[str] = []
    coverage = (seen.sum(axis=2) >= 4).mean(axis=1)
    for c in range(C):
        if coverage[c] < options.low_coverage:
            warnings.append(f"{names[c]} sees the subject in only {100 * coverage[c]:.0f}% of "
                            "frames: check its framing (the subject should stay in view)")
    frames = _select_frames(seen, options.max_frames)
    if len(frames) < 5:
        raise GeometryError(f"only {len(frames)} frames show the subject's joints in two or more "
                            "cameras (at least 5 needed; check the keypoints and their sync)")
    px = np.where(seen[:, frames, :, None], pixels[:, frames], np.nan)
    jw = {"data": skeleton.weights, "prior": skeleton.weights, "none": np.ones(J)}[
        options.joint_weights]
    confidence = np.where(seen[:, frames], conf[:, frames], 0.0)
    track_all = None if repeat_track is None else np.asarray(repeat_track)
    if track_all is not None:
        if track_all.shape != (T,):
            raise InputError(f"repeat_track must have shape ({T},), got {track_all.shape}")
        repeat_track = track_all[frames]
    w = confidence * jw
    excluded: dict[int, str] = {}
    shared_obs = ((w > 0) & ((w > 0).sum(axis=0, keepdims=True) >= 2)).sum(axis=(1, 2))
    for c in range(C):
        if shared_obs[c] < options.min_points:
            excluded[c] = (f"sees only {shared_obs[c]} joints that another camera also sees "
                           f"(at least {options.min_points} needed)")
            w[c] = confidence[c] = 0
            px[c] = np.nan
    if C - len(excluded) < 2:
        raise GeometryError("fewer than two cameras see enough of the subject: "
                            + "; ".join(f"{names[c]} {r}" for c, r in excluded.items()))
    if initial is not None:
        from epicap.calibration_free.refine import refine

        return refine(keypoints, initial, intrinsics, options, px, w, confidence, coverage,
                      excluded, frames, warnings, track_all)
    with _Progress(intrinsics is None, options) as bar:
        return _solve(keypoints, intrinsics, options, px, w, confidence, coverage, excluded,
                      frames, warnings, skeleton, bar, repeat_track)


class _Progress:
    """The calibration's progress bar (a terminal only, not with --quiet): one step per phase
    (focal search candidates, pairs, registration, adjustment rounds, world frame)."""

    def __init__(self, focal_unknown: bool, options: CalibrationOptions):
        from epicap.console import progress

        # about 11 grid points, the closed form and 10 bounded-Brent steps when the focal is unknown
        total = (22 if focal_unknown else 0) + 3 + 1 + options.weight_rounds
        self.bar = progress(total=total, desc="calibrate", unit="step")

    def phase(self, name: str, steps: int = 1) -> None:
        self.bar.set_description_str(f"calibrate: {name}", refresh=False)
        self.bar.update(steps)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.bar.close()


def _solve(keypoints, intrinsics, options, px, w, confidence, coverage, excluded, frames,
           warnings, skeleton, bar, repeat_track=None) -> CalibrationResult:
    """Stages 2-6 of `calibrate` on the selected observations (see the module docstring)."""
    names = keypoints.cameras
    C = len(names)
    if intrinsics is not None:
        cams = _intrinsics_for(keypoints, intrinsics)
        K, dist = cams.K.copy(), cams.dist.copy()
    else:
        size = keypoints.image_size.astype(np.float64)
        choice = choose_focals(px, w * _distinct_poses(px, w, repeat_track, options), size,
                               options, bar.phase)
        focal = choice.focal_px
        if focal.max() > ALIKE * focal.min():  # lenses differ: no prior holding them alike
            options = dataclasses.replace(options, free_focal_spread=0.0)
        K = centred_K(size, focal)
        dist = np.zeros((C, 5))
    xy = normalize(px, K, dist)
    f = K[:, [0, 1], [0, 1]].mean(axis=1)
    bar.phase("pairs", 0)
    pairs = estimate_pairs(xy, w, f, options.threshold_px, min_points=options.min_points // 2)
    first = best_pair(pairs)
    if first is None:
        raise GeometryError("no camera pair's joints fix a relative pose: the subject moves "
                            "too little, or the cameras share too few joints ("
                            + "; ".join(f"{names[p.i]}-{names[p.j]}: {p.pose.message}"
                                        for p in pairs.values()) + ")")
    bar.phase("registration")
    if options.method == "epicap":
        reg = register_cameras(xy, w, f, first, options.threshold_px, options.min_points)
    else:
        reg = _rig_from_pairs(xy, w, f, first, pairs, options)
    for c, reason in reg.excluded.items():
        excluded.setdefault(c, reason)
    used = [c for c in range(C) if c not in excluded and np.isfinite(reg.R[c]).all()]
    if intrinsics is None and len(used) == 2:
        warnings.append(
            f"only two cameras ({names[used[0]]}, {names[used[1]]}) and unknown intrinsics: one "
            "epipolar geometry cannot separate two focal lengths when the optical axes nearly "
            "meet, as they do for cameras filming one person (random two-camera rigs: median "
            "10 deg off); give the intrinsics (--intrinsics) or add a third camera")
    R, t, X = reg.R, reg.t, reg.points3d
    rms = np.full(C, np.nan)
    inliers = np.zeros(C, dtype=np.int64)
    bar.phase("adjustment")
    if options.method == "epicap":
        R, t, K, dist, X, rms, inliers, checked, estimate = _adjust(
            px, w, confidence, K, dist, R, t, X, used, options, intrinsics, skeleton, bar,
            keypoints.image_size, repeat_track)
        f = K[:, [0, 1], [0, 1]].mean(axis=1)
        xy = normalize(px, K, dist)
    else:
        X = triangulate_joints(R, t, xy, w, used, f, 2 * options.threshold_px)
        rms, inliers = _plain_errors(R, t, f, X, xy, w, used, options.threshold_px)
        checked = None
    bar.phase("world frame")
    world = estimate_world_frame(X, skeleton, R[used], t[used], options.subject_height_m,
                                 options.seed)
    bar.phase("done")
    if options.method != "epicap":
        estimate = IntrinsicsEstimate(() if intrinsics is not None else ("focal",))
    return _result(keypoints, world, R, t, K, dist, X, rms, inliers, used, w, coverage, excluded,
                   frames, warnings, options.method, pairs, estimate, checked)


def _result(keypoints, world, R, t, K, dist, X, rms, inliers, used, w, coverage, excluded,
            frames, warnings, method, pairs, estimate=None, checked=None) -> CalibrationResult:
    """The CalibrationResult of a solve: rig and joints moved into `world`, reports, warnings.

    estimate: what was estimated of the intrinsics, how well (an IntrinsicsEstimate; None: all
    given). checked: (C, 2) per camera, its observations of joints seen by three cameras or
    more and the inliers among them (-1: not counted), for `CameraReport.inlier_share`.
    """
    estimate = IntrinsicsEstimate(()) if estimate is None else estimate
    spread = estimate.spread
    names = keypoints.cameras
    C = len(names)
    Rw, tw, Xw = apply_world_frame(world, R[used], t[used], X)
    cameras = Cameras([names[c] for c in used], keypoints.image_size[used], K[used], dist[used],
                      Rw, tw, float(np.sqrt(np.nanmean(rms[used] ** 2))))
    reports = []
    checked = np.full((C, 2), -1) if checked is None else checked
    for c in range(C):
        vis = w[c] > 0
        reports.append(CameraReport(
            names[c], int(vis.any(axis=1).sum()), int(vis.sum()), int(inliers[c]),
            float(rms[c]), float(K[c, 0, 0]), float(coverage[c]), excluded.get(c),
            estimate.estimated, K[c, :2, 2].copy(), dist[c].copy(),
            None if spread is None else spread[c],
            float("nan") if estimate.turn_deg is None else float(estimate.turn_deg[c]),
            *(int(v) for v in checked[c])))
    for c, reason in excluded.items():
        warnings.append(f"{names[c]} was not calibrated: it {reason}")
    few = few_inliers_warning(reports)
    if few:
        warnings.append(few)
    warnings += _spread_warnings(names, used, K, estimate)
    return CalibrationResult(cameras, reports, {names[c]: r for c, r in excluded.items()},
                             warnings, cameras.error_px, world, Xw, frames, method,
                             {(names[p.i], names[p.j]): p for p in pairs.values()},
                             intrinsics_check=estimate.check,
                             turn_spread_deg=estimate.pair_turn_deg, k2_check=estimate.k2_check)


# warn when the data fix an estimated focal length worse than this (relative standard deviation)
# or the cameras' relative turns worse than this (degrees, root mean square over pairs)
LOOSE_FOCAL, LOOSE_TURN_DEG = 0.03, 1.0


def _spread_warnings(names, used, K, estimate) -> list[str]:
    """Warnings naming the estimates the data fix poorly (`IntrinsicsEstimate` spreads)."""
    out = []
    if estimate.spread is not None and "focal" in estimate.estimated:
        rel = estimate.spread[used, 0] / K[used, 0, 0]
        loose = [(names[c], r) for c, r in zip(used, rel) if r > LOOSE_FOCAL]
        if loose:
            out.append("the focal lengths are poorly fixed by this layout ("
                       + ", ".join(f"{n} ± {100 * r:.0f}%" for n, r in loose)
                       + "): cameras whose optical axes nearly share a plane (in a line at one "
                       "height, all level) cannot fix them from the people alone; give the "
                       "intrinsics (--intrinsics) or raise or lower a camera")
    if estimate.pair_turn_deg > LOOSE_TURN_DEG:
        why = ("an estimated principal point and a turn of its camera move the image almost "
               "alike; give the intrinsics (--intrinsics) to fix them better"
               if "principal point" in estimate.estimated else
               "the people cover little of the images or the cameras share few joints")
        out.append(f"the cameras' relative turns are fixed to ± {estimate.pair_turn_deg:.1f} deg "
                   f"only (root mean square over pairs, from the adjustment's covariance): {why}")
    return out


def _plain_errors(R, t, f, X, xy, w, used, threshold_px):
    from epicap.calibration_free.register import reprojection_px

    C = len(f)
    rms = np.full(C, np.nan)
    inl = np.zeros(C, dtype=np.int64)
    err = reprojection_px(np.nan_to_num(R), np.nan_to_num(t), f, X, np.where(
        (w > 0)[..., None], xy, np.nan))
    for c in used:
        e = err[c][np.isfinite(err[c])]
        keep = e < 2 * threshold_px
        inl[c] = int(keep.sum())
        rms[c] = float(np.sqrt(np.mean(e[keep] ** 2))) if keep.any() else np.nan
    return rms, inl


def _occlusion(X, R, t, skeleton, options):
    """(C, F*J) far-side weight factors (ones when off): X (F, J, 3), R (C, 3, 3), t (C, 3)."""
    F, J = X.shape[:2]
    if not options.occlusion:
        return np.ones((len(R), F * J))
    centers = -np.einsum("cji,cj->ci", R, t)
    return occlusion_weights(X, centers, skeleton).reshape(len(R), F * J)


def _adjust(px, w, confidence, K, dist, R, t, X, used, options, intrinsics, skeleton,
            bar=None, image_size=None, repeat_track=None):
    """Two bundle adjustments: prior joint weights, then data weights (+ detector offsets).

    With `options.occlusion`, every adjustment's weights also carry the far-side factors of the
    3D it starts from (the registration's, then the last adjustment's). Unknown intrinsics: the
    last adjustment also frees the principal points and radial coefficients the options ask for
    (priors about the image centre and zero; image_size (C, 2) pixels), and bootstrap resamples
    of the frames say how well each intrinsic is determined (`intrinsics.bootstrap_spread`).
    repeat_track: (F,) the person of each frame: the reweighted adjustments also weigh each
    joint by what it adds over that person's other frames (`_repeat_factors`).
    Returns R, t, K, dist, X (F, J, 3), rms (C,), inliers (C,), checked (C, 2) (per camera,
    its observations of joints three cameras or more see and the inliers among them; -1
    for cameras not used) and an IntrinsicsEstimate.
    """
    C, F, J, _ = px.shape
    focal_mode = "fixed" if intrinsics is not None else (
        "shared" if options.shared_focal else "per_camera")
    points2d = px[used].reshape(len(used), -1, 2)
    weights = w[used].reshape(len(used), -1)
    groups = np.tile(np.arange(J), F)
    Ku, du = K[used], dist[used]
    Ru, tu = R[used], t[used]
    Xf = X.reshape(-1, 3)
    # unknown focal lengths: the shared one comes from `search_focal` and is kept (freed in the
    # adjustment, detector bias trades against it: measured +6% on the Pose2Sim demo against
    # -1% from the search); per-camera ones start from it once the poses have settled
    focal_mode = "fixed" if focal_mode == "shared" else focal_mode
    first_mode = "fixed"
    weights = weights * _occlusion(X, Ru, tu, skeleton, options)
    ba = bundle_adjust(points2d, weights, Ku, du, Ru, tu, Xf, groups,
                       BundleAdjustmentOptions(focal=first_mode, offsets=False, rounds=3))
    if not ba.success:
        raise GeometryError(f"bundle adjustment failed: {ba.message}")
    free_pp = intrinsics is None and options.principal_point
    radial = options.radial if intrinsics is None else 0
    again = (options.joint_weights == "data" or options.offsets or options.occlusion
             or first_mode != focal_mode or free_pp or radial)
    rounds = max(options.weight_rounds, int(free_pp or radial > 0)) if again else 0
    final = None
    size = None if image_size is None else np.asarray(image_size, np.float64)[used]
    repeats = (_repeat_factors(px[used], w[used], ba, repeat_track, options.repeat_scale)
               if repeat_track is not None and options.repeat_scale > 0 and again else 1.0)
    for k in range(rounds):
        if bar is not None:
            bar.phase(f"adjustment, reweighted {k + 1}/{rounds}")
        occ = _occlusion(ba.points3d.reshape(F, J, 3), ba.R, ba.t, skeleton, options)
        if options.joint_weights == "data":
            weights = _data_weights(ba.residuals_px, ba.inliers, groups, J,
                                    confidence[used].reshape(len(used), -1) * occ,
                                    repeats=repeats)
        else:
            weights = w[used].reshape(len(used), -1) * occ
        weights = weights * repeats
        final = BundleAdjustmentOptions(
            focal=focal_mode, offsets=options.offsets, rounds=3, focal_prior=options.focal_prior,
            loss=options.robust_loss, cauchy_scale=options.robust_scale)
        ba = bundle_adjust(points2d, weights, ba.K, du, ba.R, ba.t, ba.points3d, groups, final)
    check, k2_check, kept, radial_kept = None, None, False, 0
    if free_pp or radial:
        # a shared focal length (kept from the search so far) is freed with them, still shared;
        # with the check, k2 is tested against k1 alone on the same held-out joints
        staged = options.intrinsics_check and radial > 1
        free = dataclasses.replace(
            final, focal="shared" if options.shared_focal else focal_mode,
            principal_point=free_pp, radial=1 if staged else radial,
            focal_prior=options.free_focal_prior, focal_spread_prior=options.free_focal_spread,
            principal_point_prior=options.principal_point_prior,
            radial_prior=options.radial_prior,
            intrinsics_prior_weight=options.intrinsics_prior_weight)
        more = dataclasses.replace(free, radial=radial) if staged else None
        held = ba
        ba, check, k2_check = free_intrinsics(points2d, weights, groups, held, final, free, size,
                                              options.intrinsics_check, options.intrinsics_min_z,
                                              tie=options.intrinsics_tie, more=more)
        kept = ba is not held
        if kept:
            final = more if k2_check is not None and k2_check.kept else free
            radial_kept = final.radial
        du = ba.dist
    spread = None
    if intrinsics is None and options.bootstrap > 0 and again:
        spread = np.full((C, 5), np.nan)
        spread[used] = bootstrap_spread(points2d, weights, groups, ba, F, final, size,
                                        options.bootstrap, options.seed)
    # the covariance sees the flat directions (principal point against turn, focal lengths of
    # cameras whose axes share a plane) that short bootstrap adjustments do not explore
    laplace = adjustment_spread(points2d, weights, ba.K, ba.dist, ba.R, ba.t, ba.points3d, groups,
                                final or BundleAdjustmentOptions(focal=first_mode), size)
    turn = np.full(C, np.nan)
    if laplace is not None:
        turn[used] = laplace.turn_deg
        if intrinsics is None:
            spread = np.full((C, 5), np.nan) if spread is None else spread
            spread[used] = np.fmax(spread[used], laplace.intrinsics)
    R, t, K, dist = R.copy(), t.copy(), K.copy(), dist.copy()
    R[used], t[used], K[used], dist[used] = ba.R, ba.t, ba.K, du
    rms = np.full(C, np.nan)
    inl = np.zeros(C, dtype=np.int64)
    # the inlier check (`CameraReport.inlier_share`): among a camera's observations of joints
    # that three cameras or more see (where its view is tested against the others'), those the
    # last adjustment kept; a joint left out of the adjustment (no consistent 3D) counts against
    seen = w[used].reshape(len(used), -1) > 0
    multi = seen & (seen.sum(axis=0) >= 3)
    checked = np.full((C, 2), -1, dtype=np.int64)
    for k, c in enumerate(used):
        e = ba.residuals_px[k][ba.inliers[k]]
        rms[c] = float(np.sqrt(np.mean(e ** 2))) if len(e) else np.nan
        inl[c] = int(ba.inliers[k].sum())
        checked[c] = int(multi[k].sum()), int((ba.inliers[k] & multi[k]).sum())
    estimated = () if intrinsics is not None else ("focal",) + (
        estimated_intrinsics(dataclasses.replace(options, radial=radial_kept))[1:]
        if kept else ())
    return (R, t, K, dist, ba.points3d.reshape(F, J, 3), rms, inl, checked,
            IntrinsicsEstimate(estimated, spread, check, turn,
                               laplace.pair_turn_deg if laplace is not None else float("nan"),
                               k2_check))


def _distinct_poses(px, w, track, options):
    """(1, F, J) weight factors for the focal search with several people pooled: each joint
    counted by the distinct poses it adds (`repeats`, errors taken as fully repeated, rho = 1),
    1 with one person. The search has no adjustment yet to measure how much a person's repeated
    errors agree, and the quick solves' fits are where a still person's repeated detector bias
    does most harm: on the Pose2Sim two-person videos (MediaPipe), the woman standing nearly
    still pulled the shared focal length to 1747 px (Qualisys: 1674-1682) and the rig to 3.5 deg;
    counted by distinct poses, the search found 1663 px and the rig came to 1.8 deg."""
    if track is None or options.repeat_scale <= 0:
        return 1.0
    from epicap.calibration_free.repeats import repeat_weights

    return repeat_weights(px, w > 0, track, options.repeat_scale, 1.0)[None]


def _repeat_factors(px, w, ba, track, scale):
    """(1, F*J) weight factors of the joints a person repeats (`repeats`): px (C, F, J, 2) pixels
    and w (C, F, J) weights of the adjusted cameras, ba their first adjustment, track (F,) the
    person of each frame. How much repeated joints' errors agree, and each person's error
    variance (median squared error), are measured on ba's signed residuals (inliers only)."""
    from epicap.calibration_free.repeats import repeat_correlation, repeat_weights
    from epicap.geometry.camera import project_points

    C, F, J, _ = px.shape
    uv = project_points(ba.points3d, ba.K, ba.R, ba.t, ba.dist)[0]               # (C, F*J, 2)
    e = (uv - px.reshape(C, -1, 2)).reshape(C, F, J, 2)
    e[~(ba.inliers.reshape(C, F, J) & (w > 0))] = np.nan
    seen = w > 0
    rho = repeat_correlation(px, seen, track, e, scale)
    e2 = (e ** 2).sum(-1)                                                         # (C, F, J)
    variance = {}
    for p in np.unique(track):
        mine = e2[:, track == p]
        if np.isfinite(mine).any():
            variance[p.item()] = float(np.median(mine[np.isfinite(mine)]))
    return repeat_weights(px, seen, track, scale, rho, variance).reshape(1, F * J)


def _data_weights(residuals, inliers, groups, J, confidence, shrink=5.0, repeats=1.0):
    """Observation weights: confidence / (the camera-and-joint's residual scale)^2, normalised.

    A detector's bias depends on the view: a hip seen from the side, an occluded shoulder, a face
    guessed from behind land 20-50 px off in one camera and 2-5 px in the others (measured on the
    Pose2Sim demo under its Qualisys calibration). The scale of each (camera, joint) is its root
    mean square reprojection error over the frames (systematic offset and noise alike, each
    error capped at 3 times the joint's robust spread over all cameras), shrunk toward that
    spread with `shrink` pseudo-observations, so a camera-joint seen a few times keeps the
    joint's weight. Bias and spread that the camera poses cannot explain weigh less.
    residuals, inliers: (C, N) from a bundle adjustment; groups: (N,) joint of each point;
    confidence: (C, N). repeats: (1 or C, N) how much each observation counts in those means
    (`_repeat_factors`: a joint a person repeats counts once, not once per frame), or 1.
    Returns (C, N) weights.
    """
    sig = np.full(J, np.nan)
    for j in range(J):
        e = residuals[:, groups == j][inliers[:, groups == j]]
        if len(e) >= 10:
            sig[j] = robust_sigma(e)
    ref = np.nanmedian(sig)
    sig = np.where(np.isfinite(sig), sig, ref)
    out = np.zeros_like(confidence)
    count = np.broadcast_to(np.asarray(repeats, np.float64), confidence.shape)
    for j in range(J):
        m = groups == j
        e = np.where(inliers[:, m], np.minimum(np.nan_to_num(residuals[:, m]), 3 * sig[j]), 0.0)
        e = e * np.sqrt(count[:, m])
        n = (inliers[:, m] * count[:, m]).sum(axis=1)
        # residual norms of 2D errors: E|e|^2 = 2 sigma^2 for a per-axis sigma
        ms = ((e ** 2).sum(axis=1) / 2 + shrink * sig[j] ** 2) / (n + shrink)
        jw = np.clip(ref ** 2 / np.maximum(ms, 1e-12), 0.05, 20.0)
        out[:, m] = confidence[:, m] * jw[:, None]
    return out


def _rig_from_pairs(xy, w, f, first, pairs, options) -> Registration:
    """Baselines: each camera's pose from its own pair with the reference camera, no adjustment.

    Rotation from the pooled pair (or, for "epipolarpose", the per-frame estimate with the most
    inliers); translation direction likewise, its length from the depths of the joints the
    camera shares with the best pair.
    """
    C = xy.shape[0]
    ref, partner = first.i, first.j
    R = np.full((C, 3, 3), np.nan)
    t = np.full((C, 3), np.nan)
    R[ref], t[ref] = np.eye(3), np.zeros(3)
    excluded = {}
    per_frame = (per_frame_pairs(xy, w, f, ref, options.threshold_px)
                 if options.method == "epipolarpose" else None)
    for c in range(C):
        if c == ref:
            continue
        if per_frame is not None:
            Rs, ts, n = per_frame[c]
            if n.max() < 5:
                excluded[c] = "shares no frame with enough joints with the reference camera"
                continue
            k = int(np.argmax(n))
            R[c], t[c] = Rs[k], ts[k]
        else:
            p = pairs[(min(ref, c), max(ref, c))]
            if not p.pose.success:
                excluded[c] = f"has no relative pose with the reference camera ({p.pose.message})"
                continue
            Rp, tp = p.pose.R, p.pose.t
            R[c], t[c] = (Rp, tp) if ref < c else (Rp.T, -Rp.T @ tp)
    base = triangulate_joints(R, t, xy, w, [ref, partner], f) if np.isfinite(R[partner]).all() \
        else None
    for c in range(C):
        if c in (ref, partner) or c in excluded or base is None:
            continue
        Xc = triangulate_joints(R, t, xy, w, [ref, c], f)
        ratio = base[..., 2] / Xc[..., 2]
        ratio = ratio[np.isfinite(ratio) & (ratio > 0)]
        if len(ratio) < 5:
            excluded[c] = "shares too few joints with the reference pair to fix its distance"
            continue
        t[c] = t[c] * np.median(ratio)
    used = [c for c in range(C) if c not in excluded]
    X = triangulate_joints(R, t, xy, w, used, f)
    return Registration(R, t, X, used, excluded)
