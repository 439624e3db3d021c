"""The whole job on the embedded default: cameras from the people, 3D, a student, a picture.

A synthetic four-camera session is made from real motion capture shipped with epicap (DeepMimic's
walk), with detector-like noise, outliers and missing joints. epicap then calibrates the cameras
from the walking person alone (no board, no extrinsics), compares them with the truth,
triangulates, trains the lifting student on the pseudo-labels, evaluates it on a held-out clip,
and renders a picture. It needs no download and takes about 15 s on an idle two-core machine
(most of it training the student; longer while other work keeps the cores busy).

With --real, the same on real videos: the Pose2Sim demo's four cameras (downloaded once from PyPI
as a pinned wheel), MediaPipe detection, cameras calibrated from the person with only the
intrinsics taken from the lab's Qualisys calibration, and the recovered rig compared with
Qualisys's.

Examples:
    epicap demo --out epicap-demo
    xdg-open epicap-demo/demo.png
    epicap demo --real --out epicap-demo-real
"""
from __future__ import annotations

import argparse


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", default=None, help="folder for everything the demo makes "
                   "(default: ./epicap-demo)")
    p.add_argument("--force", action="store_true",
                   help="replace an earlier demo's folder (never a folder the demo did not make)")
    p.add_argument("--frames", type=int, default=450, help="frames of the walk at 30 fps")
    p.add_argument("--epochs", type=int, default=20,
                   help="training epochs of the student (default 20)")
    p.add_argument("--seed", type=int, default=0, help="random seed of the synthetic scene")
    p.add_argument("--real", action="store_true",
                   help="run on the Pose2Sim demo's real videos instead (default --out "
                        "epicap-demo-real)")
    p.add_argument("--subject-height", type=float, default=1.70, metavar="M",
                   help="--real: the subject's height in metres (default 1.70)")


def run(args) -> int:
    from epicap.console import format_table
    from epicap.errors import InputError
    from epicap.pipeline.demo import DemoOptions, run_demo

    if args.frames < 60 or args.epochs < 1:
        raise InputError("--frames must be at least 60 and --epochs at least 1")
    if args.real:
        from epicap.pipeline.demo_real import run_real_demo

        res = run_real_demo(args.out or "epicap-demo-real", force=args.force,
                            subject_height_m=args.subject_height)
        units = "cm"
    else:
        res = run_demo(args.out or "epicap-demo",
                       DemoOptions(frames=args.frames, epochs=args.epochs, seed=args.seed),
                       force=args.force)
        units = "mm"
    print(format_table(res.camera_rows, ["camera", "rotation error (deg)",
                                         f"centre error ({units})", "focal (px)"],
                       floatfmt=".3f"))
    print()
    print(format_table(res.rows, ["epicap demo", "result"]))
    print()
    print(f"picture: {res.picture}")
    session = res.out / "session"
    held = [p.name + ("/" if p.is_dir() else "") for p in sorted(session.iterdir())
            if not p.name.startswith(".")]
    print(f"session: {session} ({', '.join(held)})")
    print(f"done in {res.seconds:.0f} s")
    return 0
