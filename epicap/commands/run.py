"""Every stage of a session that is not yet done: detect, sync, calibrate, triangulate, report.

Stages, in order: detect (videos -> keypoints2d.npz), sync, calibrate (cameras.toml),
triangulate (poses3d.npz), and with --train label (SESSION/dataset), train (SESSION/run) and
evaluate (SESSION/run/evaluation.json, on the held-out last 10% of the frames), then report
(SESSION/report.html). SESSION/run.toml records what each stage read (fingerprints of the files),
its options and what it wrote: a stage whose inputs and options are unchanged is done and is not
run again; change an input (a new video, --subject-height) and exactly the stages that depend on
it run. Kill it at any point and run it again: it goes on where it stopped (training from its last
checkpoint) and ends with what an uninterrupted run gives.

Stages a session cannot do are skipped with the reason: detect without videos (imported or
synthetic keypoints), sync with one camera or --no-sync. Files that `run` did not make (an
imported keypoints2d.npz, a cameras.toml from a lab calibration) are used as they are, never
replaced, unless --force. --from STAGE reruns STAGE and everything after it; --until STAGE stops
after it. Videos are fingerprinted by size, modification time and their first and last MiB,
other files by their full SHA-256.

Every option is checked before any stage starts (a mistake: one line, exit 2, run.toml as it
was); a stage that fails or is interrupted keeps the record of its last success. On a terminal
each stage says when it starts and how it ended; calibrate's per-camera table and every stage's
warnings are printed as their own verbs print them. Ends with a table: stage, status (done /
ran / skipped: why), seconds and a key figure.

Example:
    epicap run trial1 --subject-height 1.78
    epicap run trial1 --train --epochs 20        # also pseudo-labels, a student, its scores
    epicap run trial1 --from calibrate --shared-focal
"""
from __future__ import annotations

import argparse
import sys

from epicap.errors import InputError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from epicap.pipeline.run import STAGES

    parser.add_argument("session", metavar="SESSION", help="the session folder")
    parser.add_argument("--train", action="store_true",
                        help="also label, train and evaluate a monocular student")
    parser.add_argument("--until", choices=STAGES, metavar="STAGE",
                        help=f"stop after this stage ({', '.join(STAGES)})")
    parser.add_argument("--from", dest="start", choices=STAGES, metavar="STAGE",
                        help="rerun this stage and every later one, even when done")
    parser.add_argument("--force", action="store_true",
                        help="replace files that run did not make (e.g. detect again over an "
                             "imported keypoints2d.npz)")
    parser.add_argument("--no-sync", action="store_true",
                        help="the cameras are synchronized already: keep the timeline")
    parser.add_argument("--max-offset", type=float, default=2.0, metavar="S",
                        help="sync: the largest offset between cameras searched, seconds "
                             "(default 2), as `epicap sync --max-offset`")
    parser.add_argument("--model", metavar="FILE.task", help="detect: a MediaPipe pose "
                        "landmarker bundle (default: the built one)")
    parser.add_argument("--people", metavar="N|all",
                        help="detect: who to keep, as `epicap detect --people`: N people, or "
                             "all; default everyone seen in at least two cameras; 1: the main "
                             "subject only")
    parser.add_argument("--max-people", type=int, default=None, metavar="N",
                        help="detect: people MediaPipe detects per frame (default: 2 with "
                             "--people 1, else 4 or the --people count)")
    parser.add_argument("--subject-height", type=float, default=1.70, metavar="M",
                        help="calibrate: the subject's height in metres, sets the scale (1.70)")
    parser.add_argument("--subject", metavar="ID", default="",
                        help="calibrate, with several people: whose height --subject-height is "
                             "(an id the report shows; default p0, the most prominent person)")
    parser.add_argument("--intrinsics", metavar="FILE",
                        help="calibrate: cameras.toml with each camera's intrinsics")
    parser.add_argument("--shared-focal", action="store_true",
                        help="calibrate: one focal length for all cameras")
    parser.add_argument("--student", choices=("lifter", "integral"), default="lifter",
                        help="train: the student (lifter, default; integral needs videos)")
    parser.add_argument("--epochs", type=int, default=30, help="train: passes over the pseudo-labels (default 30); a run takes at least 500 "
                             "steps all the same (--set min_steps=N changes that)")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu",
                        help="train, evaluate: the device (default cpu)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="train: any training option, e.g. --set checkpoint_every=50")
    parser.add_argument("--no-snapshots", action="store_true",
                        help="report: no 3D pictures (the offscreen renderer needs Vulkan)")


def run(args: argparse.Namespace) -> int:
    from epicap.console import format_table
    from epicap.pipeline.run import RunOptions, run_session

    settings = []
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep:
            raise InputError(f"--set {item!r}: expected KEY=VALUE")
        settings.append((key.strip(), value.strip()))
    options = RunOptions(
        train=args.train, until=args.until, start=args.start, force=args.force,
        sync=not args.no_sync, max_offset_s=args.max_offset, model=args.model,
        people=args.people,
        max_people=args.max_people,
        subject_height_m=args.subject_height, subject=args.subject, intrinsics=args.intrinsics,
        shared_focal=args.shared_focal, student=args.student, epochs=args.epochs,
        device=args.device, train_settings=tuple(settings), snapshots=not args.no_snapshots)
    rows = []
    on_terminal = not args.quiet and sys.stderr.isatty()

    def started(stage: str) -> None:
        if on_terminal:
            print(f"{stage}: running ...", file=sys.stderr, flush=True)

    def show(result) -> None:
        rows.append(result.row())
        if on_terminal:
            print(f"{result.stage}: {result.status}", file=sys.stderr, flush=True)

    def text(block: str) -> None:
        if not args.quiet:
            print(block, flush=True)

    try:
        run_session(args.session, options, show, started, text)
    finally:
        if rows:
            print(format_table(rows, ["stage", "status", "seconds", "figure"]))
    return 0
