"""Triangulate a session's 2D keypoints into 3D poses (writes poses3d.npz).

Reads SESSION/keypoints2d.npz and the calibration (SESSION/cameras.toml, or --cameras FILE with
rotation and translation for every camera of the keypoints, matched by name, in any format
`epicap compare` reads). Every joint of every frame is triangulated from the views that see it
(confidence at least 0.1), weighted by confidence; views whose reprojection error exceeds the outlier threshold (5x the median
residual of the keypoints, at most --threshold-px) are found and dropped as outliers (camera-pair
hypotheses up to 6 cameras, worst-view removal beyond). A joint without two agreeing views stays
NaN. A joint that is implausible - farther than --max-extent metres from the median of its
frame's joints, off its bones' lengths, or jumping away from where it is in the neighbouring
frames (two outlier views that agree by chance) - gets its views re-chosen among the camera-pair
hypotheses that are plausible, or stays NaN; --no-consistency decides each joint on its own
(only the --max-extent test then). --refine polishes each point by
minimizing its pixel error; --smooth low-passes the 3D trajectories (zero-phase Butterworth, gaps
are not bridged).

Before triangulating, the people are re-checked with the cameras: a camera's views whose left
and right are exchanged are exchanged back, views that belong to another person move to that
person, views that fit nobody are dropped. The keypoints as they were stay in
SESSION/keypoints2d_unmatched.npz and SESSION/keypoints2d.npz gets the corrected ones (only when
something changed; the table says what, per camera). Triangulating again re-checks the keypoints
as they were, with the cameras of now. --no-match skips this step and triangulates
keypoints2d.npz as it is.

Where `epicap sync` estimated cameras' time offsets from the keypoints (no timestamps), their
sub-frame timing is refined with the cameras, as `epicap calibrate` does, and the keypoints
are shifted by it before triangulating where it clearly matters (a row of the table gives the
shifts; keypoints2d.npz keeps sync's timeline). --keep-offsets triangulates on sync's offsets
as they are (use it where the rig was calibrated with `epicap calibrate --keep-offsets`).

Prints frames, the share of joints triangulated, reprojection error percentiles, mean views and
the share of each camera's detections kept; refuses to overwrite poses3d.npz without --force.

Example:
    epicap triangulate walk4 --cameras walk4/truth/cameras.toml --threshold-px 15 --smooth 8
"""
from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("session", metavar="SESSION", help="session folder")
    parser.add_argument("--cameras", metavar="FILE", default=None,
                        help="calibration to use instead of SESSION/cameras.toml: TOML, "
                             "Qualisys .qca.txt, OpenCV YAML/XML or COLMAP")
    parser.add_argument("--threshold-px", type=float, default=20.0, metavar="X",
                        help="a view reprojecting further than X pixels is an outlier "
                             "(default: 20; 0 keeps every view)")
    parser.add_argument("--min-views", type=int, default=2, metavar="N",
                        help="fewest agreeing views for a 3D joint (default: 2)")
    parser.add_argument("--min-confidence", type=float, default=0.1, metavar="C",
                        help="2D joints below this confidence count as unseen (default: 0.1)")
    parser.add_argument("--refine", action="store_true",
                        help="minimize each joint's reprojection error after the linear solve")
    parser.add_argument("--smooth", type=float, default=None, metavar="HZ",
                        help="low-pass the 3D trajectories at HZ (e.g. 6 for walking)")
    parser.add_argument("--max-extent", type=float, default=2.0, metavar="M",
                        help="drop joints farther than M metres from their frame's median joint "
                             "(default: 2; 0 keeps them)")
    parser.add_argument("--no-consistency", action="store_true",
                        help="no skeleton or time checks: each joint decided from its own views")
    parser.add_argument("--no-match", action="store_true",
                        help="triangulate keypoints2d.npz as it is, without re-checking the "
                             "people (left/right swaps, views of the wrong person) with the "
                             "cameras")
    parser.add_argument("--keep-offsets", action="store_true",
                        help="do not refine the sub-frame time offsets sync estimated from the "
                             "keypoints with the cameras (default: refined, and the keypoints "
                             "shifted by them where they matter)")
    parser.add_argument("--force", action="store_true", help="overwrite an existing poses3d.npz")


def run(args: argparse.Namespace) -> int:
    from epicap.console import format_table, warn
    from epicap.geometry.filtering import SmoothingOptions
    from epicap.geometry.pose_triangulation import ConsistencyOptions
    from epicap.geometry.triangulation import TriangulationOptions
    from epicap.pipeline.triangulate import triangulate_session

    options = TriangulationOptions(
        min_views=args.min_views, min_confidence=args.min_confidence,
        outlier_threshold_px=args.threshold_px if args.threshold_px > 0 else None,
        refine=args.refine)
    smoothing = SmoothingOptions(cutoff_hz=args.smooth) if args.smooth is not None else None
    _, summary = triangulate_session(args.session, args.cameras, options, smoothing, args.force,
                                     args.max_extent if args.max_extent > 0 else None,
                                     None if args.no_consistency else ConsistencyOptions(),
                                     match_people=not args.no_match,
                                     refine_timing=not args.keep_offsets)
    for message in summary.warnings:
        warn(message)
    print(format_table(summary.rows(), ["triangulation", "value"]))
    return 0
