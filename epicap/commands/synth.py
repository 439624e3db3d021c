"""Make a synthetic session with known truth: real mocap seen by a simulated camera ring.

The motion is a real motion-capture clip (DeepMimic's, from the pybullet wheel; walk, dance_a and
crawl ship with epicap), projected into a ring of cameras around the subject and corrupted like a
detector's output: Gaussian noise, a constant per-camera-and-joint bias, outliers, missing joints,
per-camera time offsets. The session holds `keypoints2d.npz` and `session.toml` (and one MP4 per
camera with --video); the truth lies beside it in `SESSION/truth/` (`cameras.toml`,
`poses3d.npz`, `synthetic.npz` with the offsets, clean 2D and masks), for checking every later
stage against it.

Example:
    epicap synth --out walk4 --cameras 4 --noise-px 2 --outliers 0.05 --frames 300 --turn 40
    epicap synth --out sync8 --cameras 8 --offsets-frames 0,2.5,-1,4,0,0,-3,1.5 --video
"""
from __future__ import annotations

import argparse

from epicap.errors import InputError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from epicap.synthetic.mocap import CLIP_NAMES

    parser.add_argument("--out", required=True, metavar="SESSION",
                        help="session folder to create")
    parser.add_argument("--clip", default="walk", choices=CLIP_NAMES,
                        help="mocap clip (default: walk)")
    parser.add_argument("--cameras", type=int, default=4, metavar="N",
                        help="number of cameras on the ring, 1-64 (default: 4)")
    parser.add_argument("--frames", type=int, default=None, metavar="T",
                        help="number of frames (default: one play of the clip; longer clips loop)")
    parser.add_argument("--fps", type=float, default=30.0, help="frame rate (default: 30)")
    parser.add_argument("--joint-set", default="coco17",
                        choices=("coco17", "body25b", "h36m17", "mediapipe33"),
                        help="joint set of the 2D and 3D (default: coco17)")
    parser.add_argument("--noise-px", type=float, default=1.0, metavar="S",
                        help="Gaussian noise per coordinate, pixels (default: 1)")
    parser.add_argument("--outliers", type=float, default=0.0, metavar="P",
                        help="fraction of joints that are outliers, 0-1 (default: 0)")
    parser.add_argument("--missing", type=float, default=0.0, metavar="P",
                        help="fraction of joints dropped, 0-1 (default: 0)")
    parser.add_argument("--bias-px", type=float, default=0.0, metavar="B",
                        help="constant offset per camera and joint, pixels (default: 0)")
    parser.add_argument("--offsets-frames", default=None, metavar="O1,O2,...",
                        help="per-camera time offsets in frames, comma-separated (fractions "
                             "allowed): camera c's frame k shows the motion at time k + O_c")
    parser.add_argument("--radius", type=float, default=5.0, metavar="M",
                        help="ring radius, metres (default: 5)")
    parser.add_argument("--height", type=float, default=1.6, metavar="M",
                        help="camera height, metres (default: 1.6)")
    parser.add_argument("--focal-px", type=float, default=1000.0, metavar="F",
                        help="focal length, pixels (default: 1000)")
    parser.add_argument("--image-size", default="1280x720", metavar="WxH",
                        help="image size (default: 1280x720)")
    parser.add_argument("--subject-height", type=float, default=None, metavar="M",
                        help="scale the motion to a subject this tall, metres (default: 1.62)")
    parser.add_argument("--turn", type=float, default=None, metavar="DEG_PER_S",
                        help="turn the motion's heading at this rate, so a long walk circles "
                             "inside the ring (40 gives a 1.4 m circle; default: 30 for walk and "
                             "run, which would otherwise leave the ring, 0 for the other clips)")
    parser.add_argument("--people", type=int, default=None, metavar="N",
                        help="several people (1-6) walking round each other, with occlusions, a "
                             "bystander and someone entering and leaving; writes the raw "
                             "detections2d.npz beside keypoints2d.npz (default: one person "
                             "doing --clip)")
    parser.add_argument("--video", action="store_true",
                        help="also render one MP4 per camera (a stick figure on a textured floor)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument("--force", action="store_true", help="overwrite an existing session")


def _image_size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise InputError(f"--image-size: expected WIDTHxHEIGHT such as 1280x720, got {text!r}") \
            from None
    if w <= 0 or h <= 0:
        raise InputError(f"--image-size: must be positive, got {text!r}")
    return w, h


def _offsets(text: str | None, num_cameras: int) -> list[float] | None:
    if text is None:
        return None
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        raise InputError(f"--offsets-frames: expected numbers separated by commas, got {text!r}") \
            from None
    if len(values) != num_cameras:
        raise InputError(f"--offsets-frames: {len(values)} offsets for {num_cameras} cameras")
    return values


def run(args: argparse.Namespace) -> int:
    from epicap.synthetic import SceneOptions, load_clip, make_scene, ring_rig, write_session

    if not 1 <= args.cameras <= 64:
        raise InputError(f"--cameras: between 1 and 64, got {args.cameras}")
    if args.people is not None:
        return _run_people(args)
    clip = load_clip(args.clip, args.joint_set, args.fps, args.subject_height, args.frames,
                     turn_deg_per_s=_turn(args))
    cameras = ring_rig(args.cameras, args.radius, args.height, args.focal_px,
                       _image_size(args.image_size), seed=args.seed)
    options = SceneOptions(noise_px=args.noise_px, outlier_fraction=args.outliers,
                           missing_fraction=args.missing, bias_px=args.bias_px,
                           offsets_frames=_offsets(args.offsets_frames, args.cameras),
                           seed=args.seed)
    scene = make_scene(clip, cameras, options)
    out = write_session(scene, args.out, video=args.video, force=args.force)
    print(summary(scene, out, args.video))
    return 0


def summary(scene, out, video: bool) -> str:
    """One paragraph saying what was written."""
    kp, o = scene.keypoints, scene.options
    C, T, J = kp.keypoints.shape[:3]
    reported = ~scene.missing
    text = (f"Wrote {out}: {C} cameras x {T} frames ({T / kp.fps:.1f} s at {kp.fps:g} fps) of "
            f"the '{scene.clip.name}' clip, {kp.joint_set} ({J} joints), subject "
            f"{scene.clip.subject_height_m:.2f} m. {100 * reported.mean():.1f}% of the joints "
            f"reported, {100 * scene.outlier.sum() / max(reported.sum(), 1):.1f}% of them "
            f"outliers; noise {o.noise_px:g} px, bias {o.bias_px:g} px")
    if o.offsets_frames is not None:
        text += f", time offsets {', '.join(f'{v:g}' for v in scene.offsets_frames)} frames"
    text += (". Videos in videos/." if video else ".")
    return text + " Truth (cameras, 3D, offsets) in truth/."


def _turn(args) -> float:
    """--turn, or by default 30 deg/s for the locomotion clips so they stay inside the ring."""
    if args.turn is not None:
        return float(args.turn)
    return 30.0 if args.clip in ("walk", "run") else 0.0


def _run_people(args: argparse.Namespace) -> int:
    """`--people N`: a several-person scene (epicap.synthetic.people)."""
    from epicap.synthetic import ring_rig, write_session
    from epicap.synthetic.people import PeopleOptions, make_people_scene

    if not 1 <= args.people <= 6:
        raise InputError(f"--people: between 1 and 6, got {args.people}")
    cameras = ring_rig(args.cameras, args.radius, args.height, args.focal_px,
                       _image_size(args.image_size), seed=args.seed)
    options = PeopleOptions(num_people=args.people, fps=args.fps, joint_set=args.joint_set,
                            main_height_m=args.subject_height or 1.70, noise_px=args.noise_px,
                            offsets_frames=_offsets(args.offsets_frames, args.cameras),
                            seed=args.seed)
    scene = make_people_scene(cameras, args.frames or 300, options)
    out = write_session(scene, args.out, video=args.video, force=args.force)
    C, T, S = scene.slot_person.shape
    who = "1 person" if args.people == 1 else f"{args.people} people"
    print(f"Wrote {out}: {C} cameras x {T} frames of {who} "
          f"(heights {', '.join(f'{h:.2f}' for h in scene.heights_m)} m), "
          f"{100 * scene.occluded.mean():.1f}% of the joints occluded, "
          f"{int(scene.swapped.sum())} planted left/right swaps; raw detections in "
          "detections2d.npz, matched in keypoints2d.npz. Truth in truth/.")
    return 0
