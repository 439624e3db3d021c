"""3D poses from one camera with a trained student: from a video or a keypoints2d.npz.

INPUT is a video (MediaPipe finds everyone's 2D keypoints and follows each person over time; the
integral student reads the person crops) or a keypoints2d.npz (pick its camera with --camera;
lifter students only). FILE is an .npz with `poses` float32 (T, J, 3): metres in that camera's
frame (x right, y down, z forward), root-relative (the root joint at the origin), NaN where the
person was not seen well enough; plus `joints`, `joint_set`, `fps`, `camera` and `source`.

Several people: poses are (P, T, J, 3) and `people` names them (p0 the main subject, as in
poses3d.npz). From a video, everyone followed in a quarter of the frames or more is kept;
--people all keeps everyone found, --people 1 the main subject alone, --person p1 that person
alone (single-person shapes). A person who leaves the view, or stays hidden behind someone, for
longer than the tracker bridges (15 frames) and comes back keeps their id when the colours of
their clothes (torso and thighs) match their earlier track and nobody else in view matches as
well; otherwise they get a new id.

The student is RUN's best.pt (the lowest validation error) unless --checkpoint last; the output
line names the file used. Look at the result with `epicap view --poses FILE --offscreen
FILE.mp4` (over the video when INPUT was one).

Example:
    epicap infer run1 session/keypoints2d.npz --camera cam02 --out cam02_poses.npz
    epicap infer run1 session/keypoints2d.npz --camera cam02 --person p1 --out p1.npz
    epicap infer run1 clip.mp4 --out clip_poses.npz
    epicap infer run1 clip.mp4 --people 1 --out subject_poses.npz
"""
from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run", metavar="RUN", help="run folder (or checkpoint.pt) from `epicap train`")
    parser.add_argument("input", metavar="INPUT", help="a video, or a keypoints2d.npz")
    parser.add_argument("--out", required=True, metavar="FILE", help="the .npz to write")
    parser.add_argument("--camera", help="camera of a keypoints2d.npz (default: the first)")
    parser.add_argument("--person", metavar="ID",
                        help="one person only, e.g. p1 (p0 is the main subject); the output "
                             "then has the single-person shapes")
    parser.add_argument("--people", metavar="N|all",
                        help="who: N people (1: the main subject alone) or all (default: "
                             "everyone; in a video, everyone followed in a quarter of the frames)")
    parser.add_argument("--model", metavar="FILE.task", help="MediaPipe pose model for videos")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--checkpoint", choices=("best", "last"), default="best",
                        help="RUN's best.pt (lowest validation error, default) or its last "
                             "checkpoint.pt")
    parser.add_argument("--force", action="store_true", help="overwrite FILE if it exists")


def run(args: argparse.Namespace) -> int:
    from epicap.errors import InputError
    from epicap.session.io import refuse_overwrite
    from epicap.training.infer import infer

    if not args.out.endswith(".npz"):
        raise InputError(f"--out {args.out}: the output is an .npz file")
    refuse_overwrite(args.out, args.force)
    result = infer(args.run, args.input, args.camera, args.model, args.device, args.checkpoint,
                   args.person, args.people)
    result.save(args.out)
    seen = result.frames_seen().tolist()
    T = result.poses.shape[-3]
    who = ("" if result.people is None else
           f"{len(seen)} people ({', '.join(f'{p} {n}' for p, n in zip(result.people, seen))} "
           "frames), ")
    print(f"{who}{max(seen)} of {T} frames of camera {result.camera} -> {args.out} "
          f"({result.joint_set}, root-relative, metres, camera frame; student "
          f"{result.checkpoint})")
    return 0
