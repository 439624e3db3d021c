"""The whole job on the embedded default: cameras from the people, 3D, a student, a picture.

A synthetic four-camera session is made from real motion capture shipped with epicap (DeepMimic's
walk), with detector-like noise, outliers and missing joints. epicap then calibrates the cameras
from the walking person alone (no board, no extrinsics), compares them with the truth,
triangulates, trains the lifting student on the pseudo-labels, evaluates it on a held-out clip,
and renders a picture. It needs no download and takes a few minutes on two cores.

Example:
    epicap demo --out epicap-demo
    xdg-open epicap-demo/demo.png
"""
from __future__ import annotations

import argparse


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", default="epicap-demo", help="folder for everything the demo makes "
                   "(default: ./epicap-demo)")
    p.add_argument("--force", action="store_true",
                   help="replace an earlier demo's folder (never a folder the demo did not make)")
    p.add_argument("--frames", type=int, default=450, help="frames of the walk at 30 fps")
    p.add_argument("--epochs", type=int, default=8, help="training epochs of the student")
    p.add_argument("--seed", type=int, default=0, help="random seed of the synthetic scene")


def run(args) -> int:
    from epicap.console import format_table
    from epicap.errors import InputError
    from epicap.pipeline.demo import DemoOptions, run_demo

    if args.frames < 60 or args.epochs < 1:
        raise InputError("--frames must be at least 60 and --epochs at least 1")
    res = run_demo(args.out, DemoOptions(frames=args.frames, epochs=args.epochs, seed=args.seed),
                   force=args.force)
    print(format_table(res.camera_rows, ["camera", "rotation error (deg)",
                                         "centre error (mm)", "focal (px)"], floatfmt=".3f"))
    print()
    print(format_table(res.rows, ["epicap demo", "result"]))
    print()
    print(f"picture: {res.picture}")
    print(f"session: {res.out / 'session'} (keypoints2d.npz, cameras.toml, poses3d.npz, truth/)")
    print(f"done in {res.seconds:.0f} s")
    return 0
