"""The knobs of `calibrate` (`CalibrationOptions`) and the methods it offers."""
from __future__ import annotations

from dataclasses import dataclass

from epicap.errors import InputError
from epicap.geometry.bundle_adjustment import ROBUST_LOSSES

__all__ = ["CalibrationOptions", "METHODS"]

METHODS = ("epicap", "pooled", "epipolarpose")


@dataclass(frozen=True)
class CalibrationOptions:
    """Knobs of `calibrate` (defaults suit detector keypoints at 30-60 fps).

    method: "epicap" (full), "pooled" (pooled pairs only) or "epipolarpose" (per-frame baseline).
    shared_focal: with unknown intrinsics, one focal length for every camera.
    subject_height_m: the subject's height, sets the metric scale.
    subject: with several people, the id of the person `subject_height_m` is the height of
        ("" = p0, the main subject: the most prominent, `epicap.people.order_people`).
    min_confidence: joints below this detector confidence are ignored.
    threshold_px: robust thresholds (MAGSAC, PnP) in pixels.
    max_frames: at most this many frames (evenly spread over the useful ones) are adjusted.
    min_points: a camera needs this many joints shared with the others to be calibrated.
    joint_weights: "data" (each camera's each joint weighed by how well it agrees with the other
        views, estimated), "prior" (COCO's keypoint sigmas) or "none".
    offsets: also estimate a per-camera-and-joint 2D offset (detector bias) in the adjustment
        (off by default: measured, it helps on the real demo but trades against the camera
        poses on synthetic data without bias).
    focal_prior: unknown per-camera focal lengths: the standard deviation (relative) of a prior
        pulling each toward the shared one found first (detector bias trades against them:
        without it the Pose2Sim demo's came out 1-10% off, with 0.3 within 1.6%).
    weight_rounds: how many times the data weights are re-estimated from the last adjustment's
        residuals and the rig adjusted again.
    occlusion: weigh down the trunk and face joints a camera sees on the far side of the body,
        from the current 3D (`visibility.occlusion_weights`). On by default because real
        detectors guess those joints: measured on the real Pose2Sim demo, 0.848 -> 0.805 deg with
        OpenPose, 2.15 -> 2.00 deg with MediaPipe; it costs 0.01-0.04 deg on synthetic clips,
        whose noise does not depend on the view (turn it off for such data).
    robust_loss, robust_scale: the robust loss of the adjustments after the first ("cauchy" or
        "geman_mcclure", `BundleAdjustmentOptions.loss`) and its scale in units of the round's
        robust residual scale (1.4826 * median absolute residual); the first adjustment keeps
        Cauchy at 2.5. Default Cauchy at 2.5: measured (intrinsics known, occlusion on), a
        tighter loss helps both real detectors of the Pose2Sim demo (Cauchy 1.5: OpenPose
        0.805 -> 0.773 deg, MediaPipe 2.00 -> 1.93 deg; Geman-McClure 1.5: 0.760, 1.88) but
        costs synthetic clips (4 cams, 2 px: walk 0.061 -> 0.082/0.125 deg, getup 0.108 ->
        0.116/0.137, walk with 5 px bias 0.83 -> 0.96/1.20): tighten it for real detections.
    principal_point: with unknown intrinsics, the last adjustment also estimates each camera's
        principal point, held by a Gaussian prior about the image centre whose standard
        deviation is `principal_point_prior` of the image width (cx) and height (cy).
    radial: with unknown intrinsics, how many radial distortion coefficients (0, 1: k1, 2: k1
        and k2) the last adjustment may estimate per camera, held by a Gaussian prior about 0
        with standard deviation `radial_prior`. With `intrinsics_check`, k2 is estimated only
        when held-out joints fit better with it than with k1 alone
        (`intrinsics.free_intrinsics`): on Human3.6M's published lenses (k1 about -0.2, k2
        +0.24) that took a synthetic lab of them from 0.42-0.63 to 0.10-0.21 deg; with k1
        alone in the truth, k2 was refused and nothing changed.
    intrinsics_prior_weight: how many observations' worth each of those priors weighs
        (`BundleAdjustmentOptions.intrinsics_prior_weight`; 1: a plain Gaussian prior).
    free_focal_prior: the focal prior (as `focal_prior`) of the adjustment that frees the
        principal points and distortion; 0 (default): none. A focal length held near the one
        found with the principal point centred and no distortion keeps them from moving to
        their truth: measured on a synthetic walk (4 cameras, principal points up to 3% off,
        k1 -0.35..0.1), 1.18 deg with `focal_prior`, 0.29 deg without.
    own_focal: with unknown intrinsics (not `shared_focal`), each camera's focal length is
        resected against the joints the others triangulate after the shared search, and kept
        where it fits clearly better (`focal_resection`: rigs that mix lenses).
    free_focal_spread: that adjustment's prior on the spread of the focal lengths about their
        mean (`BundleAdjustmentOptions.focal_spread_prior`, weighted like `focal_prior`).
        Per-camera focal lengths, principal points and turns trade against each other when the
        subject covers little of the image: measured on a lab-like rig (4 corner cameras,
        1000x1000 px, 1145 px focal, principal points 9-20 px off, 1 px noise), 1.01 deg
        without, 0.19 deg with 0.3 (0.12 with 0.1); with focal lengths 3-5% apart, 1.01, 0.68
        (1.09 with 0.1).
    intrinsics_check: keep the freed principal points and distortion only if they fit
        held-out joints better (`intrinsics.free_intrinsics`): a sign test over the held-out
        observations above `intrinsics_min_z` (a tie: see `intrinsics_tie`; on a centred rig
        both fit alike and the free one can wander, 0.02 -> 0.32 deg). The real Pose2Sim demo
        (OpenPose) needs the check: freed anyway, 1.06 -> 2.8 deg, its detector bias taken up
        by the principal points and k1. `intrinsics_min_z` 2 (one-sided 2.3%): measured over
        38 sweep rigs of 4+ cameras with centred principal points and k1 = 0, every sign_z but
        one (4.2) was below -0.3; with off-centre ones (3%, k1 -0.35..0.1), two rigs fell
        between 1.5 and 3 and both were better freed (rig 36, z 2.5: 1.94 -> 0.90 deg, MPJPE
        ratio 1.082 -> 1.014); the real videos gave -9.7 (one person OpenPose, two people
        MediaPipe) and 2.1 with a worse held-out median (one person MediaPipe: refused).
    intrinsics_tie: a tie of that check keeps the freed intrinsics: held-out medians within this
        share of each other (0.01: 1%) with the sign test not against them (z above
        -`intrinsics_min_z`). The held-out joints cannot tell the two models apart then, and
        the centred one carries the lens in its focal lengths and turns: random-rig sweep, 100
        rigs, unknown intrinsics, seed 90 (k1 -0.19 taken up by an 8% focal error; medians
        1.783 / 1.782 px, z 0.8), MPJPE ratio 1.164 -> 1.017, 2.0 -> 0.6 deg; rotation median
        of the 65 rigs of 4+ cameras 0.601 -> 0.590 deg, none worse. A detector's bias shows as
        a clear loss instead (the real recordings above: z -9.7, or a median 5% worse). With
        centred lenses (30 rigs, 16 of 4+ cameras) two rigs changed: a corner rig 0.09 -> 0.46
        deg (ratio 0.987 -> 0.997) and a line 2.33 -> 1.09 in ratio. 0: a tie keeps the centred
        model.
    bootstrap: with unknown intrinsics, how many bootstrap resamples of the frames measure the
        spread of each estimated intrinsic (`intrinsics.bootstrap_spread`; 0: none).
    repeat_scale: several people pooled: the reweighted adjustments weigh each person's joint
        by what it adds over that person's other frames (`repeats`): frames that put it within
        about this fraction of the person's 2D size of the same place count as one observation
        as far as their errors repeat (measured), and each person by the precision of their
        joints; a person standing still adds one pose's worth of detector bias, not a hundred
        frames' worth. The search for unknown focal lengths counts each joint by the distinct
        poses it adds alone (no adjustment has measured anything yet). 0 turns both off (every
        person-frame weighs alike).
    low_coverage: warn about a camera that sees the subject in fewer than this share of frames.
    refine_timing: the cameras whose time offsets `sync` estimated from the keypoints (and
        applied): once the rig is calibrated, their sub-frame timing is refined with the
        cameras and the rig calibrated again on keypoints shifted by it, while the shifts
        matter (`calibration_free.timing`; the others, the reference, cameras on timestamps or
        filmed in sync, are held). Measured on random synthetic rigs with 4 people walking and
        cameras started apart, intrinsics unknown (`benchmarks/people_unsync.py --random-rigs
        4`): sync offsets 0.12 frame off put one rig 1.06 deg off, 0.20 deg once refined (0.28
        with the true offsets); another 0.25 frame off, 1.46 -> 1.15 deg (1.15). () (default):
        none.
    """

    method: str = "epicap"
    shared_focal: bool = False
    subject_height_m: float = 1.70
    subject: str = ""
    min_confidence: float = 0.2
    threshold_px: float = 8.0
    max_frames: int = 400
    min_points: int = 30
    joint_weights: str = "data"
    offsets: bool = False
    focal_prior: float = 0.3
    weight_rounds: int = 1
    occlusion: bool = True
    robust_loss: str = "cauchy"
    robust_scale: float = 2.5
    low_coverage: float = 0.25
    repeat_scale: float = 0.05
    principal_point: bool = True
    radial: int = 2
    principal_point_prior: float = 0.025
    radial_prior: float = 0.25
    intrinsics_prior_weight: float = 1.0
    intrinsics_check: bool = True
    intrinsics_min_z: float = 2.0
    intrinsics_tie: float = 0.01
    free_focal_prior: float = 0.0
    free_focal_spread: float = 0.3
    own_focal: bool = True
    bootstrap: int = 8
    refine_timing: tuple = ()
    seed: int = 0

    def __post_init__(self):
        if self.method not in METHODS:
            raise InputError(f"unknown method {self.method!r}; valid: {', '.join(METHODS)}")
        if self.joint_weights not in ("data", "prior", "none"):
            raise InputError(f"unknown joint weighting {self.joint_weights!r}; "
                             "valid: data, prior, none")
        if self.robust_loss not in ROBUST_LOSSES:
            raise InputError(f"unknown robust loss {self.robust_loss!r}; "
                             f"valid: {', '.join(ROBUST_LOSSES)}")
        if not self.robust_scale > 0:
            raise InputError(f"robust loss scale {self.robust_scale} must be positive")
        if self.radial not in (0, 1, 2):
            raise InputError(f"radial coefficients to estimate {self.radial!r}; valid: 0, 1, 2")
        if not (self.principal_point_prior > 0 and self.radial_prior > 0):
            raise InputError("the principal point and radial priors must be positive, got "
                             f"{self.principal_point_prior} and {self.radial_prior}")
        if not self.intrinsics_min_z >= 0:
            raise InputError(f"intrinsics_min_z {self.intrinsics_min_z} must be 0 or more")
        if not self.intrinsics_tie >= 0:
            raise InputError(f"intrinsics_tie {self.intrinsics_tie} must be 0 or more")
        if not self.repeat_scale >= 0:
            raise InputError(f"repeat scale {self.repeat_scale} must be 0 or more")
        if self.bootstrap < 0:
            raise InputError(f"bootstrap resamples {self.bootstrap} must be 0 or more")
        if not (self.subject_height_m > 0.3 and self.subject_height_m < 3.0):
            raise InputError(f"subject height {self.subject_height_m} m is not a person's height "
                             "(give metres, e.g. 1.70)")
