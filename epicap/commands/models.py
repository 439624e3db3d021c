"""Install or show the MediaPipe pose model epicap builds offline from PyPI.

`epicap detect` needs a MediaPipe pose landmarker `.task` file. Google publishes them on its own
storage; where only PyPI is reachable, epicap builds an equivalent one from the models inside the
`mediapipe==0.10.21` wheel (BlazePose full, Apache-2.0): it downloads the pinned, checksummed
wheel, adds the input normalization metadata and bundles the detector and landmark models. The
result is cached (under $EPICAP_CACHE or ~/.cache/epicap/models) with its sha256, which is
checked on every use. `epicap detect` does this automatically on first use.

Example:
    epicap models install          # build it now (e.g. before going offline)
    epicap models install --force  # rebuild it
    epicap models info             # where it is, its sha256 and input normalization
"""
from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=("install", "info"),
                        help="install: build and cache the model; info: show it")
    parser.add_argument("--force", action="store_true", help="rebuild even if cached")


def run(args: argparse.Namespace) -> int:
    from epicap.assets import sha256_of
    from epicap.keypoints.models import install_pose_model, pose_model_path, read_normalization

    if args.action == "install":
        path = install_pose_model(force=args.force)
    else:
        path = pose_model_path(auto_install=False)
    print(f"model: {path}")
    print(f"sha256: {sha256_of(path)}")
    for member, (mean, std) in read_normalization(path).items():
        print(f"{member}: input normalized as (x - {mean:g}) / {std:g}")
    return 0
