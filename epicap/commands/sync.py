"""Estimate and apply the time offsets between cameras (keypoints2d.npz to one timeline).

Uses the per-frame timestamps recorded with the videos when every camera has them; otherwise
estimates the offsets from the 2D keypoints: coarse lags by cross-correlating the subject's
motion, refined below a frame per camera pair by the offset that best satisfies the epipolar
constraint (detector bias, which changes slowly, is filtered out), then solved over all pairs at
once so that one bad pair is outvoted. The subject must move: a still subject has no timing.
A recording longer than 30 s is searched on its busiest 30 s (the frames where the cameras
see the most joints, every camera cut at the same frames): the offsets are the same, and a
long recording takes as long as 30 s of it.
The confidence column is the probability that the offset is within half a frame (1 for
timestamps); below about 0.9, check the result. An estimate within two of its standard
deviations of 0 is not told apart from no shift: 0 is kept, with a warning giving the estimate.

Writes SESSION/sync.toml (per camera: offset_frames, offset_s, confidence, method, std_frames,
and estimated_frames where 0 was kept instead) and rewrites SESSION/keypoints2d.npz on one common timeline; the keypoints as they were are kept in
SESSION/keypoints2d_raw.npz, so sync can be rerun. Gaps are never interpolated.

With several people, when the offsets found are a frame or more, the people are matched again
from SESSION/detections2d.npz on the common timeline (matching pairs the views of one instant;
cameras started at different times split people and swap identities); --people says who to keep,
as it did for detect or import. Detect matched them at offsets it searched up to 2 s each way; for
cameras started further apart (by hand, one after the other), --max-offset beyond 2 s matches
them again at offsets searched that far, then measures those to a fraction of a frame.

Example:
    epicap sync my_session
    epicap sync my_session --method keypoints --reference cam02 --max-offset 5
"""
from __future__ import annotations

import argparse
from pathlib import Path

from epicap.errors import InputError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("session", help="session folder with keypoints2d.npz")
    parser.add_argument("--method", choices=("auto", "timestamps", "keypoints"), default="auto",
                        help="auto: timestamps when recorded, else keypoints (default)")
    parser.add_argument("--reference", metavar="CAM", help="camera with offset 0 (default: first)")
    parser.add_argument("--max-offset", type=float, default=2.0, metavar="S",
                        help="largest offset searched, seconds (default 2; with several "
                             "people, beyond 2 s also matches them again at offsets searched "
                             "that far)")
    parser.add_argument("--people", metavar="N|all", default=None,
                        help="who to keep when the people are matched again on the common "
                             "timeline, as for detect: N people, 'all', or by default everyone "
                             "seen by two cameras; 1 keeps the keypoints' people as they are")


def run(args: argparse.Namespace) -> int:
    from epicap.capture.sync import SYNC_FILE, SyncOptions, sync_session
    from epicap.session import KEYPOINTS_FILE
    from epicap.pipeline.inputs import require_session_file

    session = Path(args.session)
    if not session.is_dir():
        raise InputError(f"{session}: no such session folder")
    if not args.max_offset > 0:
        raise InputError(f"--max-offset must be positive, got {args.max_offset}")
    from epicap.keypoints.everyone import parse_people

    choice = parse_people(args.people)
    require_session_file(session, KEYPOINTS_FILE)
    result = sync_session(session, args.method, args.reference,
                          SyncOptions(max_offset_s=args.max_offset),
                          rematch=not choice.main_subject_only, min_cameras=choice.min_cameras,
                          max_people=choice.count)
    if result is None:
        print(f"{session}: one camera, nothing to synchronize")
        return 0
    if not args.quiet:
        from epicap.console import format_table

        rows = [(c.name, round(c.offset_frames, 2), round(c.offset_s, 4), round(c.confidence, 2),
                 c.method) for c in result.cameras]
        print(format_table(rows, ["camera", "offset (frames)", "offset (s)", "confidence",
                                  "method"]))
        if result.searched_apart is not None:
            print(f"people matched again at the offsets found up to {args.max_offset:g} s "
                  f"apart: {result.searched_apart}")
        if result.people_rematched is not None:
            print(f"{result.people_rematched} people matched again on the common timeline")
        print(f"wrote {session / SYNC_FILE}")
    from epicap.console import warn

    for message in result.warnings():
        warn(message)
    return 0
