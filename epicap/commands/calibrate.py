"""Calibrate the cameras from the people in view: writes SESSION/cameras.toml.

Reads SESSION/keypoints2d.npz and recovers every camera's pose (and its focal length when no
intrinsics are given) from the body joints alone: no board, no extrinsics. Once triangulate has
re-checked the people with the cameras, it reads the keypoints as they were before that
(SESSION/keypoints2d_unmatched.npz), as `epicap run` does: calibrating again gives the same rig
and never depends on the calibration it replaces. All frames' joints are pooled per camera pair
(robust essential matrices), the cameras are registered one by one
from the best-conditioned pair, then one robust bundle adjustment refines every camera and joint
together (each camera's each joint weighted by how consistently the detector places it with
the other views: a detector's bias depends on the view). With several people matched in
keypoints2d.npz, every person's joints count; the main subject (person 0, the most prominent:
seen longest by most cameras, large and complete) sets the scale, or the person --subject names
(the ids `epicap report` and `epicap view` show); the summary gives everyone's height.
The world frame is Z up with the floor the feet touch at z = 0, the origin under the subject,
and metres from --subject-height. Where the feet stay in a small patch (someone standing or
walking in place), up across it comes from upright trunks and thighs. When no feet are seen
(cropped views, upper body only), up comes from upright trunks and thighs and the subject's
path, the floor from the lowest joints seen and standard body proportions; the summary says
which was used.

Prints a table per camera (frames and joints used, inliers, RMS reprojection error, how well
its turn is fixed, focal length, share of frames with the subject in view) and warnings to act
on. A camera that sees too little is left out of cameras.toml and named with the reason. A
camera most of whose joints (those three cameras or more see) do not fit the rig has the status
"few inliers (N%)" and a warning: the rig is probably off, most often because the cameras do
not all follow the same people. The table and summary are kept in SESSION/calibration.toml,
which `epicap report` shows.

Intrinsics: --intrinsics FILE holds each camera's intrinsics and distortion (honoured), in any
format `epicap compare` reads: cameras.toml, Qualisys .qca.txt, OpenCV YAML/XML, COLMAP; a size
that differs from the video's by codec padding (under 16 px in one dimension) is accepted.
Without it, focal lengths are estimated with the principal point at the image centre and no
distortion: one focal length for all cameras is searched first (the one at which a whole solve
fits the joints best), then each camera's own is refined from it; --shared-focal keeps the
shared one (steadier when the cameras are alike). A last adjustment then frees each camera's
principal point and radial distortion k1 (priors toward the image centre and zero) and keeps
them only if they fit held-out joints better than the centred, undistorted model (a detector's
bias can pull them off); then k2 beside k1, kept only if held-out joints fit better again (a
real lens bends the image's edges more than k1 alone says; --radial 1: never k2, --radial 0:
no distortion estimated). The table says per camera what was estimated and what assumed, each
estimate ± its standard deviation (the larger of the last adjustment's covariance and the
spread over bootstrap resamples of the frames), and cameras.toml carries the estimated matrix
and distortions. --centred keeps the principal point at the image centre and no distortion.

Refining: --refine FILE starts from an existing calibration (any of those formats, with
intrinsics and extrinsics, e.g. from a board, after a camera was nudged) and adjusts every
camera's pose to the people in view; its intrinsics, world frame and unit are kept. With
--intrinsics as well, that file wins for each camera's matrix and distortion and --refine gives
only the starting poses (cameras matched by name). A solve from nothing runs alongside; when it
explains the joints better (a start degrees off) it is kept, moved into the given world frame,
and a warning says so.

Timing: where `epicap sync` estimated a camera's time offset from the keypoints (cameras
started apart, no timestamps), the offset is a tenth of a frame or so off, and people moving
turn that into a 2D error the cameras would take up. Once the rig is calibrated, its cameras
say how far each such camera's keypoints run ahead; where that clearly matters, the keypoints
are shifted by it and the rig calibrated again (up to three times), and the summary gives the
shifts (`epicap triangulate` applies the same). The reference camera, cameras on timestamps and
cameras sync kept at 0 (filmed in sync) are never moved. --keep-offsets turns this off.

Methods: epicap (default, the full pipeline), pooled (pooled pair estimates only, no
adjustment) and epipolarpose (EpipolarPose's per-frame estimate, the published baseline).

Example:
  epicap calibrate trial1 --intrinsics intrinsics.toml --subject-height 1.78
  epicap calibrate trial1 --shared-focal --force
  epicap calibrate trial1 --subject p1 --subject-height 1.64 --force   # p1's height is known
  epicap calibrate trial2 --refine board_cameras.toml --out trial2/refined.toml
  epicap calibrate trial3 --refine rough_guess.toml --intrinsics board_intrinsics.toml
"""
from __future__ import annotations

from pathlib import Path

from epicap.errors import InputError


def add_arguments(parser) -> None:
    parser.add_argument("session", metavar="SESSION", help="the session folder")
    parser.add_argument("--intrinsics", metavar="FILE",
                        help="calibration with each camera's intrinsics (and distortion): TOML, "
                             "Qualisys .qca.txt, OpenCV YAML/XML or COLMAP")
    parser.add_argument("--refine", metavar="FILE",
                        help="calibration (any format of --intrinsics) with intrinsics and "
                             "extrinsics to start from and refine (keeps its world frame; its "
                             "intrinsics unless --intrinsics is given too)")
    parser.add_argument("--subject-height", type=float, default=1.70, metavar="M",
                        help="the subject's height in metres, sets the scale (default 1.70)")
    parser.add_argument("--subject", metavar="ID", default="",
                        help="with several people: whose height --subject-height is, by the id "
                             "the report and `epicap view` show (default p0, the most "
                             "prominent person)")
    parser.add_argument("--shared-focal", action="store_true",
                        help="without --intrinsics: one focal length shared by all cameras")
    parser.add_argument("--centred", action="store_true",
                        help="without --intrinsics: assume each principal point at the image "
                             "centre and no distortion (default: estimate them where the "
                             "joints fix them)")
    parser.add_argument("--radial", type=int, default=2, metavar="N",
                        help="without --intrinsics: radial distortion coefficients to estimate "
                             "at most (0; 1: k1; 2 (default): k1, and k2 where held-out joints "
                             "fit better with it)")
    parser.add_argument("--method", choices=("epicap", "pooled", "epipolarpose"),
                        default="epicap", help="the estimator (default epicap; the others are "
                                               "baselines)")
    parser.add_argument("--max-frames", type=int, default=400, metavar="N",
                        help="adjust at most N frames, spread over the recording (default 400)")
    parser.add_argument("--keep-offsets", action="store_true",
                        help="do not refine the sub-frame time offsets sync estimated from the "
                             "keypoints with the cameras found (default: refined, and the rig "
                             "calibrated again on keypoints shifted by them where they matter)")
    parser.add_argument("--out", metavar="FILE",
                        help="where to write the calibration (default SESSION/cameras.toml)")
    parser.add_argument("--no-occlusion", action="store_true",
                        help="do not weigh down trunk and face joints seen from the far side of "
                             "the body (real detectors guess them; on synthetic 2D without such "
                             "bias this is slightly more accurate)")
    parser.add_argument("--robust-loss", choices=("cauchy", "geman_mcclure"), default="cauchy",
                        help="robust loss of the final adjustment (default cauchy)")
    parser.add_argument("--robust-scale", type=float, default=2.5, metavar="S",
                        help="its scale in robust residual sigmas (default 2.5; 1.0-2.0 was "
                             "measured slightly better on real detectors, worse on clean 2D)")
    parser.add_argument("--force", action="store_true", help="overwrite an existing cameras.toml")


def run(args) -> int:
    from epicap.calibration_free.pipeline import CalibrationOptions, calibrate
    from epicap.capture.sync import estimated_offsets
    from epicap.console import warn
    from epicap.pipeline.advice import recording_advice
    from epicap.pipeline.inputs import detected_keypoints
    from epicap.session import CAMERAS_FILE, KEYPOINTS_FILE, Keypoints2D
    from epicap.session.io import refuse_overwrite

    session = Path(args.session)
    if not session.is_dir():
        raise InputError(f"{session}: no such session folder")
    out = Path(args.out) if args.out else session / CAMERAS_FILE
    refuse_overwrite(out, args.force, "calibration")
    if args.max_frames < 5:
        raise InputError(f"--max-frames must be at least 5, got {args.max_frames}")
    source = detected_keypoints(session)
    if source.name != KEYPOINTS_FILE:  # the calibration must not depend on the one it replaces
        print(f"reading {source.name}: the keypoints as they were before triangulate re-checked "
              "the people with the cameras (as `epicap run` calibrates)")
    keypoints = Keypoints2D.from_npz(source)
    intrinsics = _load(args.intrinsics, keypoints) if args.intrinsics else None
    initial = _load(args.refine, keypoints, require_extrinsics=True) if args.refine else None
    options = CalibrationOptions(method=args.method, shared_focal=args.shared_focal,
                                 subject_height_m=args.subject_height, subject=args.subject,
                                 max_frames=args.max_frames, occlusion=not args.no_occlusion,
                                 robust_loss=args.robust_loss, robust_scale=args.robust_scale,
                                 principal_point=not args.centred,
                                 radial=0 if args.centred else args.radial,
                                 refine_timing=() if args.keep_offsets or initial is not None
                                 else estimated_offsets(session))
    result = calibrate(keypoints, intrinsics, options, initial=initial)
    advice = recording_advice(keypoints)
    result.cameras.to_toml(out)
    if out.resolve() == (session / CAMERAS_FILE).resolve():  # for `epicap report`
        result.save_record(session, out, advice)
    print(result.table())
    print(result.summary())
    print(f"wrote {out}")
    for message in [*result.warnings, *advice]:
        warn(message)
    return 0


def _load(path: str, keypoints, require_extrinsics: bool = False):
    """A calibration file of any format read (Qualisys, TOML, OpenCV, COLMAP), fitted to the
    keypoints' cameras and image sizes (codec padding accepted with a warning)."""
    from epicap.console import warn
    from epicap.session.calibration_formats import load_for_session

    cameras, warnings = load_for_session(path, keypoints.cameras, keypoints.image_size,
                                         require_extrinsics)
    for message in warnings:
        warn(message)
    return cameras
