"""Compare two calibrations of the same cameras: rotations, centres, focals, principal points.

A and B are calibration files of any format epicap reads (Qualisys .qca.txt, Pose2Sim/Anipose
TOML such as a session's cameras.toml, OpenCV FileStorage YAML/XML, a COLMAP model folder or its
cameras.txt/images.txt); cameras are matched by name. A is the reference (a board or mocap
calibration), B the one checked (e.g. epicap's). Printed per camera: the rotation after the best
common rotation of B's world onto A's, the centre after a similarity alignment of B's centres onto
A's (cm of A), the focal length and principal point differences B - A (pixels, and % of A's focal
length and image width/height); per camera pair: the relative rotation error (degrees, needs no
alignment); the similarity's scale (1 when both are metric) and the angle between the two
worlds' Z axes under it (how far B's vertical is from A's when both are Z up). A calibration
with intrinsics only is compared on its intrinsics. --json prints one JSON object instead.

--keypoints FILE (a keypoints2d.npz of a recording by these cameras) also checks both against
the images: per camera, the median distance between its joints and their reprojection from the
other cameras' triangulation ("held-out", pixels), and the median signed offset. An offset that
points one way by much more than the rest says that camera turned or moved since it was
calibrated, or that its video is shifted against its calibration. A calibration found from
these same joints was fitted to them: to judge it fairly, use another recording. Both need
extrinsics, 3 cameras named as the keypoints' and the keypoints' image sizes (codec padding
under 16 px in one dimension is accepted with a warning).

Example:
  epicap compare lab/Calib.qca.txt trial1/cameras.toml
  epicap compare board.yml trial1/cameras.toml --json
  epicap compare lab/Calib.qca.txt trial1/cameras.toml --keypoints trial2/keypoints2d.npz
"""
from __future__ import annotations

import argparse
import json


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("a", metavar="A", help="the reference calibration (file or COLMAP folder)")
    parser.add_argument("b", metavar="B", help="the calibration to check against it")
    parser.add_argument("--keypoints", metavar="FILE",
                        help="a keypoints2d.npz of these cameras: check both calibrations "
                             "against its joints (held-out reprojection per camera)")
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")


def run(args: argparse.Namespace) -> int:
    from epicap.session.calibration_compare import compare_calibrations
    from epicap.session.calibration_formats import load_calibration

    keypoints = None
    a, b = load_calibration(args.a), load_calibration(args.b)
    if args.keypoints:
        from epicap.console import warn
        from epicap.session import Keypoints2D
        from epicap.session.calibration_formats import fit_to_session

        keypoints = Keypoints2D.from_npz(args.keypoints)
        fitted = []  # the keypoints' image sizes where they differ by codec padding, else refused
        for path, cams in ((args.a, a), (args.b, b)):
            cams, messages = fit_to_session(cams, keypoints.cameras, keypoints.image_size, path)
            fitted.append(cams)
            for message in messages:
                warn(message)
        a, b = fitted
    result = compare_calibrations(a, b, keypoints)
    if args.json:
        print(json.dumps({"a": args.a, "b": args.b, **result.to_dict()}))
    else:
        print(f"A: {args.a}\nB: {args.b}\n")
        print(result.table())
    return 0
