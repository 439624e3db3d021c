"""Make a pseudo-label dataset for training a monocular 3D student from triangulated sessions.

One sample per (camera, frame), as EpipolarPose: the triangulated pose expressed in that
camera's frame (metres), the camera's 2D keypoints, per-joint weights from triangulation quality
(views used, reprojection error) and, when the session has videos, the person crop read from the
video. A camera's 2D joint farther from the label's projection than a tenth of the person's size
in that view (a detector's gross mistake that triangulation outvoted: another person's joint,
left for right) is given to the student as unseen, and counted. Samples whose root is missing,
that lie behind the camera or have too few good joints are dropped, and the counts are
reported. Sessions without videos give a dataset without crops: it
trains the `lifter` student only.

Each SESSION needs cameras.toml (with extrinsics, from `epicap calibrate`) and poses3d.npz (from
`epicap triangulate`); keypoints2d.npz, videos (session.toml) and truth/ (synthetic sessions)
are used when present. DATASET is a folder of memory-mapped .npy shards and manifest.json, which
says where every sample came from. Several people: every person gives samples (around their own
keypoints); the manifest names each sample's person (sources with "person").

Example:
    epicap label day1 day2 --out pseudo --max-error-px 15 --crop-size 128
    epicap train pseudo --student lifter --out run1
"""
from __future__ import annotations

import argparse

from epicap.errors import InputError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("sessions", nargs="+", metavar="SESSION", help="triangulated sessions")
    parser.add_argument("--out", required=True, metavar="DATASET", help="dataset folder to write")
    parser.add_argument("--min-views", type=int, default=2,
                        help="a joint seen by fewer views gets weight 0 (default 2)")
    parser.add_argument("--max-error-px", type=float, default=20.0,
                        help="a joint with a larger reprojection error gets weight 0 (default 20)")
    parser.add_argument("--min-joint-fraction", type=float, default=0.5,
                        help="keep a sample when at least this fraction of its joints is labelled "
                             "and seen in 2D (default 0.5)")
    parser.add_argument("--crop-size", type=int, default=256,
                        help="side of the stored person crops in pixels (default 256)")
    parser.add_argument("--no-crops", action="store_true",
                        help="do not read videos (a lifter-only dataset, made fast)")
    parser.add_argument("--shard-size", type=int, default=4096, help="samples per shard file")
    parser.add_argument("--force", action="store_true", help="overwrite an existing dataset")


def run(args: argparse.Namespace) -> int:
    from epicap.console import format_table, warn
    from epicap.session import CAMERAS_FILE, POSES_FILE
    from epicap.training.labels import DROP_REASONS, LabelOptions, label_sessions
    from epicap.pipeline.inputs import require_session_file

    if args.min_views < 1 or args.max_error_px <= 0 or not 0 <= args.min_joint_fraction <= 1:
        raise InputError("--min-views must be >= 1, --max-error-px > 0, --min-joint-fraction "
                         "in [0, 1]")
    if args.crop_size < 16 or args.shard_size < 1:
        raise InputError("--crop-size must be >= 16 and --shard-size >= 1")
    for session in args.sessions:
        for name in (CAMERAS_FILE, POSES_FILE):
            require_session_file(session, name)
    options = LabelOptions(min_views=args.min_views, max_error_px=args.max_error_px,
                           min_joint_fraction=args.min_joint_fraction, crops=not args.no_crops,
                           crop_size=args.crop_size, shard_size=args.shard_size)
    report = label_sessions(args.sessions, args.out, options, force=args.force)
    for note in report.notes:
        warn(note)
    rows = [[s["session"], len(s["cameras"]), s["frames"], s["samples"]]
            + [s["dropped"][r] for r in DROP_REASONS] for s in report.sessions]
    rows.append(["total", "", "", report.samples] + [report.dropped[r] for r in DROP_REASONS])
    print(format_table(rows, ["session", "cameras", "frames", "samples"] + list(DROP_REASONS)))
    print(f"{report.samples} samples of {report.candidates} (camera, frame) pairs into {args.out}; "
          f"crops: {'yes' if report.has_crops else 'no (lifter only)'}; "
          f"true 3D: {'yes' if report.has_truth else 'no'}")
    if report.stray_2d:
        print(f"{report.stray_2d} 2D joints lay farther than a tenth of the person's size from "
              "their label's projection (a detector's mistake that triangulation outvoted): "
              "given to the student as unseen")
    return 0
