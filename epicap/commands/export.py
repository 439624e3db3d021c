"""Export a session to biomechanics, COLMAP, calibration and plain formats.

Formats (--format):
  trc       OpenSim markers from poses3d.npz: Y up (X = our y, Y = our z, Z = our x, as Pose2Sim
            writes them), metres unless --units mm; missing joints are empty cells.
  c3d       C3D points from poses3d.npz: Z up, millimetres unless --units m; missing joints have
            residual -1.
            Both: marker names as Pose2Sim's OpenSim models expect them (Nose, LShoulder, RBigToe;
            coco17 gains Neck, the shoulders' midpoint) unless --marker-names epicap; only real
            frames (none of the empty ones sync pads at the start or end), numbered as the
            reference camera's video frames from 1; axes and units stated in the header.
  colmap    a COLMAP model folder (cameras, rigs, frames, images, points3D .bin; --text for .txt)
            from cameras.toml, with the triangulated joints as points when poses3d.npz exists.
  json      poses3d.npz (and cameras.toml when present) as one plain JSON file.
  pose2sim  cameras.toml as a Pose2Sim calibration TOML (Calib_*.toml).
  anipose   cameras.toml as an Anipose calibration.toml (sections cam_0..; translation times
            --units-per-metre, e.g. 1000 for a board measured in mm).

Several people (poses3d.npz with people): trc and c3d write one file per person beside --out
(walk.trc -> walk_p0.trc, walk_p1.trc, ...); json holds every person in the one file.

The session's world frame is Z up, metres; every axis or unit change is written in the file's
header where the format has one. An existing --out is kept unless --force.

Example:
    epicap export runs/lab1 --format trc --out lab1.trc
    epicap export runs/lab1 --format colmap --out lab1_colmap
    epicap export runs/lab1 --format anipose --units-per-metre 1000 --out calibration.toml
"""
from __future__ import annotations

import argparse

from epicap.export.session import FORMATS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("session", help="session folder")
    parser.add_argument("--format", required=True, choices=FORMATS, help="what to write")
    parser.add_argument("--out", required=True, metavar="PATH", help="file (folder for colmap)")
    parser.add_argument("--units", choices=("m", "mm"), help="trc: m (default) or mm; "
                        "c3d: mm (default) or m")
    parser.add_argument("--units-per-metre", type=float, default=1.0,
                        help="anipose: translation unit per metre (default 1)")
    parser.add_argument("--marker-names", choices=("pose2sim", "epicap"), default="pose2sim",
                        help="trc, c3d: Pose2Sim's OpenSim marker names (default) or epicap's "
                             "joint names")
    parser.add_argument("--text", action="store_true", help="colmap: text files, not binary")
    parser.add_argument("--force", action="store_true", help="overwrite an existing --out")


def run(args: argparse.Namespace) -> int:
    from epicap.export.session import export_session

    written = export_session(args.session, args.format, args.out, units=args.units,
                             units_per_metre=args.units_per_metre, text=args.text,
                             force=args.force, marker_names=args.marker_names)
    for path in written if isinstance(written, list) else [written]:  # one per person: trc, c3d
        print(path)
    return 0
