"""3D poses from one camera with a trained student: from a video or a keypoints2d.npz.

INPUT is a video (MediaPipe finds the 2D keypoints first; the integral student reads the person
crops) or a keypoints2d.npz (pick its camera with --camera and, with several people, the person
with --person; lifter students only). FILE is an
.npz with `poses` float32 (T, J, 3): metres in that camera's frame (x right, y down, z forward),
root-relative (the root joint at the origin), NaN where the person was not seen well enough;
plus `joints`, `joint_set`, `fps`, `camera` and `source`. The student is RUN's best.pt (the
lowest validation error) unless --checkpoint last; the output line names the file used. Look at
the result with `epicap view --poses FILE --offscreen FILE.mp4` (over the video when INPUT was one).

Example:
    epicap infer run1 session/keypoints2d.npz --camera cam02 --out cam02_poses.npz
    epicap infer run1 session/keypoints2d.npz --camera cam02 --person p1 --out p1.npz
    epicap infer run1 clip.mp4 --out clip_poses.npz
"""
from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run", metavar="RUN", help="run folder (or checkpoint.pt) from `epicap train`")
    parser.add_argument("input", metavar="INPUT", help="a video, or a keypoints2d.npz")
    parser.add_argument("--out", required=True, metavar="FILE", help="the .npz to write")
    parser.add_argument("--camera", help="camera of a keypoints2d.npz (default: the first)")
    parser.add_argument("--person", metavar="ID",
                        help="person of a keypoints2d.npz of several people, e.g. p1 "
                             "(default: p0, the main subject)")
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
                   args.person)
    result.save(args.out)
    import numpy as np

    found = int(np.isfinite(result.poses).all(-1).any(-1).sum())
    print(f"{found} of {len(result.poses)} frames of camera {result.camera} -> {args.out} "
          f"({result.joint_set}, root-relative, metres, camera frame; student "
          f"{result.checkpoint})")
    return 0
