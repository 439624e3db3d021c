"""Write one self-contained HTML page with the plots and pictures of a session.

The page shows the camera layout from above, the calibration table, the reprojection error per
camera (histograms and over time), view counts, 3D snapshots rendered offscreen, 2D overlays,
the sync offsets and, with --run RUN, the training curves of RUN/metrics.csv (every numeric
column against `step`). Pictures are embedded in the page: it opens anywhere, offline, and can
be mailed as one file. Several people add a table per person (frames triangulated, views, median
reprojection error, height) and a timeline of who is seen by which camera.

Needs cameras.toml (`epicap calibrate`) and poses3d.npz (`epicap triangulate`); keypoints2d.npz
(`epicap detect`) adds per-camera errors and overlays. Writes SESSION/report.html unless --out is
given (an existing --out file is kept unless --force).

Example:
    epicap report runs/lab1
    epicap report runs/lab1 --run runs/student1 --out lab1_report.html
"""
from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("session", help="session folder")
    parser.add_argument("--run", metavar="RUN", help="a training run folder (holds metrics.csv)")
    parser.add_argument("--out", metavar="FILE.html", help="where to write (default "
                        "SESSION/report.html)")
    parser.add_argument("--no-snapshots", action="store_true",
                        help="skip the 3D pictures (the offscreen renderer needs Vulkan)")
    parser.add_argument("--force", action="store_true", help="overwrite an existing --out file")


def run(args: argparse.Namespace) -> int:
    from epicap.session.io import refuse_overwrite
    from epicap.viz.report import read_metrics, write_report

    out = Path(args.out) if args.out else Path(args.session) / "report.html"
    if args.out:
        refuse_overwrite(out, args.force, "output")
    if args.run:
        read_metrics(args.run)  # a missing metrics.csv is reported before any work
    print(write_report(args.session, out, args.run, snapshots=not args.no_snapshots))
    return 0
