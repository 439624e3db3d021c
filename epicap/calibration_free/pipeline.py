"""`calibrate`: every camera's pose (and focal length), metric scale and the floor, from 2D joints.

The stages, each in its own module:
1. observations: confident joints, a spread-out subset of frames, per-camera coverage checks;
2. intrinsics: given (`Cameras` with distortion) or focal lengths from the joints (`focal`);
3. pairs: pooled essential matrix of every camera pair, conditioning score (`pairs`);
4. registration: best pair, then PnP camera by camera (`register`);
5. bundle adjustment of every extrinsic (and focal length) with every joint, robust, with joint
   weights estimated from the data and a per-camera-and-joint detector offset
   (`epicap.geometry.bundle_adjustment`);
6. world frame: Z up from the floor the feet touch, metres from the subject's height (`world`).

`method="pooled"` stops after the pairs (each camera from its pooled pair with a reference
camera), `method="epipolarpose"` uses EpipolarPose's per-frame estimates instead: baselines.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from epicap.calibration_free.focal import estimate_focal
from epicap.calibration_free.pairs import best_pair, estimate_pairs, per_frame_pairs
from epicap.calibration_free.register import (Registration, register_cameras,
                                              triangulate_joints)
from epicap.calibration_free.report import CalibrationResult, CameraReport
from epicap.calibration_free.world import apply_world_frame, estimate_world_frame
from epicap.errors import GeometryError, InputError
from epicap.geometry.bundle_adjustment import BundleAdjustmentOptions, bundle_adjust, robust_sigma
from epicap.geometry.camera import undistort_points
from epicap.session import Cameras, Keypoints2D

__all__ = ["CalibrationOptions", "calibrate", "METHODS"]

METHODS = ("epicap", "pooled", "epipolarpose")


@dataclass(frozen=True)
class CalibrationOptions:
    """Knobs of `calibrate` (defaults suit detector keypoints at 30-60 fps).

    method: "epicap" (full), "pooled" (pooled pairs only) or "epipolarpose" (per-frame baseline).
    shared_focal: with unknown intrinsics, one focal length for every camera.
    subject_height_m: the subject's height, sets the metric scale.
    min_confidence: joints below this detector confidence are ignored.
    threshold_px: robust thresholds (MAGSAC, PnP) in pixels.
    max_frames: at most this many frames (evenly spread over the useful ones) are adjusted.
    min_points: a camera needs this many joints shared with the others to be calibrated.
    joint_weights: "data" (per-joint consistency across views, estimated), "prior" (COCO's
        keypoint sigmas) or "none".
    offsets: also estimate a per-camera-and-joint 2D offset (detector bias) in the adjustment
        (off by default: measured, it helps on the real demo but trades against the camera
        poses on synthetic data without bias).
    low_coverage: warn about a camera that sees the subject in fewer than this share of frames.
    """

    method: str = "epicap"
    shared_focal: bool = False
    subject_height_m: float = 1.70
    min_confidence: float = 0.2
    threshold_px: float = 8.0
    max_frames: int = 400
    min_points: int = 30
    joint_weights: str = "data"
    offsets: bool = False
    low_coverage: float = 0.25
    seed: int = 0

    def __post_init__(self):
        if self.method not in METHODS:
            raise InputError(f"unknown method {self.method!r}; valid: {', '.join(METHODS)}")
        if self.joint_weights not in ("data", "prior", "none"):
            raise InputError(f"unknown joint weighting {self.joint_weights!r}; "
                             "valid: data, prior, none")
        if not (self.subject_height_m > 0.3 and self.subject_height_m < 3.0):
            raise InputError(f"subject height {self.subject_height_m} m is not a person's height "
                             "(give metres, e.g. 1.70)")


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
              options: CalibrationOptions = CalibrationOptions()) -> CalibrationResult:
    """Calibrate the cameras of `keypoints` from the people they see.

    keypoints: 2D joints of C >= 2 synchronized cameras. intrinsics: known intrinsics (and
        distortion) for those cameras (by name), or None to estimate focal lengths (principal
        point at the image centre, no distortion).
    Returns a CalibrationResult: the calibrated cameras in the world frame (Z up, floor z = 0,
    metres), per-camera reports, excluded cameras with reasons, warnings.
    Raises InputError / GeometryError when the data cannot fix the geometry.
    """
    names = keypoints.cameras
    C, T, J = keypoints.keypoints.shape[:3]
    if C < 2:
        raise InputError(f"calibration needs at least 2 cameras, the keypoints have {C}")
    skeleton = keypoints.skeleton
    pixels = keypoints.points.astype(np.float64)
    conf = keypoints.confidence.astype(np.float64)
    seen = (conf >= options.min_confidence) & np.isfinite(pixels).all(-1)
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
    if intrinsics is not None:
        cams = _intrinsics_for(keypoints, intrinsics)
        K, dist = cams.K.copy(), cams.dist.copy()
    else:
        size = keypoints.image_size.astype(np.float64)
        focal = estimate_focal(px, w, size, per_camera=not options.shared_focal,
                               threshold_px=options.threshold_px)
        if not focal.success:
            raise GeometryError(focal.message)
        K = np.zeros((C, 3, 3))
        K[:, 0, 0] = K[:, 1, 1] = focal.focal_px
        K[:, :2, 2] = (size - 1) / 2
        K[:, 2, 2] = 1
        dist = np.zeros((C, 5))
    xy = _normalize(px, K, dist)
    f = K[:, [0, 1], [0, 1]].mean(axis=1)
    pairs = estimate_pairs(xy, w, f, options.threshold_px, min_points=options.min_points // 2)
    first = best_pair(pairs)
    if first is None:
        raise GeometryError("no camera pair's joints fix a relative pose: the subject moves "
                            "too little, or the cameras share too few joints ("
                            + "; ".join(f"{names[p.i]}-{names[p.j]}: {p.pose.message}"
                                        for p in pairs.values()) + ")")
    if options.method == "epicap":
        reg = register_cameras(xy, w, f, first, options.threshold_px, options.min_points)
    else:
        reg = _rig_from_pairs(xy, w, f, first, pairs, options)
    for c, reason in reg.excluded.items():
        excluded.setdefault(c, reason)
    used = [c for c in range(C) if c not in excluded and np.isfinite(reg.R[c]).all()]
    R, t, X = reg.R, reg.t, reg.points3d
    rms = np.full(C, np.nan)
    inliers = np.zeros(C, dtype=np.int64)
    if options.method == "epicap":
        R, t, K, X, rms, inliers = _adjust(px, w, confidence, K, dist, R, t, X, used, options,
                                                   intrinsics)
        f = K[:, [0, 1], [0, 1]].mean(axis=1)
        xy = _normalize(px, K, dist)
    else:
        X = triangulate_joints(R, t, xy, w, used, f, 2 * options.threshold_px)
        rms, inliers = _plain_errors(R, t, f, X, xy, w, used, options.threshold_px)
    world = estimate_world_frame(X, skeleton, R[used], t[used], options.subject_height_m,
                                 options.seed)
    Rw, tw, Xw = apply_world_frame(world, R[used], t[used], X)
    cameras = Cameras([names[c] for c in used], keypoints.image_size[used], K[used], dist[used],
                      Rw, tw, float(np.sqrt(np.nanmean(rms[used] ** 2))))
    reports = []
    for c in range(C):
        vis = w[c] > 0
        reports.append(CameraReport(
            names[c], int(vis.any(axis=1).sum()), int(vis.sum()), int(inliers[c]),
            float(rms[c]), float(K[c, 0, 0]), float(coverage[c]), excluded.get(c)))
    for c, reason in excluded.items():
        warnings.append(f"{names[c]} was not calibrated: it {reason}")
    return CalibrationResult(cameras, reports, {names[c]: r for c, r in excluded.items()},
                             warnings, cameras.error_px, world, Xw, frames, options.method,
                             {(names[p.i], names[p.j]): p for p in pairs.values()})


def _normalize(px, K, dist):
    C = px.shape[0]
    return undistort_points(px.reshape(C, -1, 2), K, dist).reshape(px.shape)


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


def _adjust(px, w, confidence, K, dist, R, t, X, used, options, intrinsics):
    """Two bundle adjustments: prior joint weights, then data weights (+ detector offsets)."""
    C, F, J, _ = px.shape
    focal_mode = "fixed" if intrinsics is not None else (
        "shared" if options.shared_focal else "per_camera")
    points2d = px[used].reshape(len(used), -1, 2)
    weights = w[used].reshape(len(used), -1)
    groups = np.tile(np.arange(J), F)
    Ku, du = K[used], dist[used]
    Ru, tu = R[used], t[used]
    Xf = X.reshape(-1, 3)
    # unknown focal lengths: settle one shared by all first, each camera's own afterwards (from
    # a poor start, per-camera focal lengths trade against depth and were seen to run away)
    first_mode = "shared" if focal_mode == "per_camera" else focal_mode
    ba = bundle_adjust(points2d, weights, Ku, du, Ru, tu, Xf, groups,
                       BundleAdjustmentOptions(focal=first_mode, offsets=False, rounds=3))
    if not ba.success:
        raise GeometryError(f"bundle adjustment failed: {ba.message}")
    if options.joint_weights == "data" or options.offsets or first_mode != focal_mode:
        if options.joint_weights == "data":
            weights = _data_weights(ba.residuals_px, ba.inliers, groups, J,
                                    confidence[used].reshape(len(used), -1))
        ba = bundle_adjust(points2d, weights, ba.K, du, ba.R, ba.t, ba.points3d, groups,
                           BundleAdjustmentOptions(focal=focal_mode, offsets=options.offsets,
                                                   rounds=3))
    R, t, K = R.copy(), t.copy(), K.copy()
    R[used], t[used], K[used] = ba.R, ba.t, ba.K
    rms = np.full(C, np.nan)
    inl = np.zeros(C, dtype=np.int64)
    for k, c in enumerate(used):
        e = ba.residuals_px[k][ba.inliers[k]]
        rms[c] = float(np.sqrt(np.mean(e ** 2))) if len(e) else np.nan
        inl[c] = int(ba.inliers[k].sum())
    return R, t, K, ba.points3d.reshape(F, J, 3), rms, inl


def _data_weights(residuals, inliers, groups, J, confidence):
    """Observation weights: confidence / (the joint's residual scale)^2, normalised.

    The scale of a joint is the robust spread of its reprojection errors over every camera and
    frame: joints the detector places consistently across views weigh more.
    """
    sig = np.full(J, np.nan)
    for j in range(J):
        e = residuals[:, groups == j][inliers[:, groups == j]]
        if len(e) >= 10:
            sig[j] = robust_sigma(e)
    ref = np.nanmedian(sig)
    sig = np.where(np.isfinite(sig), sig, ref)
    jw = np.clip((ref / np.maximum(sig, 1e-6)) ** 2, 0.05, 20.0)
    return confidence * jw[groups]


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
