"""2D keypoints of everyone in view of every camera (MediaPipe) into keypoints2d.npz.

Runs MediaPipe's PoseLandmarker (33 landmarks, joint set `mediapipe33`) in VIDEO mode over every
camera's video named in SESSION/session.toml and writes SESSION/keypoints2d.npz. MediaPipe often
finds only one of two people close together: with more than one person per frame asked for, the
people found are painted over and two more landmarkers look again (about 2x the time; not with
--people 1). Confidence is the landmark's visibility x presence; a joint not found is
(NaN, NaN, 0). Every person found is kept in SESSION/detections2d.npz; keypoints2d.npz holds the
people matched across cameras (--people: default everyone seen in at least two cameras, `all`
also those seen by one, N at most N, 1 only the main subject, the same person in every camera;
each camera's own main subject where nobody is matched across cameras).
Cameras started apart (by hand, up to 2 s) are put on one timeline first: every camera pair's
offset is searched without knowing who is who, by how many joints of everyone fit one epipolar
geometry, and the people are matched there (a warning gives the offsets; `epicap sync` refines
them).

The model is FILE.task when given (e.g. Google's pose_landmarker_full.task), otherwise the one
epicap builds from the mediapipe==0.10.21 wheel on PyPI (see `epicap models install`), cached and
checked by sha256. A camera where nobody is ever found is reported and left out.

Example:
    epicap detect my_session
    epicap detect my_session --model pose_landmarker_heavy.task --force
    epicap detect my_session --frames 0:300      # a quick look at the first 300 frames
    epicap detect my_session --people 1          # only the main subject
"""
from __future__ import annotations

import argparse
from pathlib import Path

from epicap.errors import InputError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("session", help="session folder (with session.toml)")
    parser.add_argument("--model", metavar="FILE.task",
                        help="a MediaPipe pose landmarker bundle (default: the built one)")
    parser.add_argument("--max-people", type=int, default=None, metavar="N",
                        help="people MediaPipe detects per frame (default: 2 with --people 1, "
                             "else 4 or the --people count; 1 is fastest)")
    parser.add_argument("--people", metavar="N|all",
                        help="who to keep: N people, or all (also those seen by one camera); "
                             "default everyone seen in at least two cameras; 1: the main "
                             "subject only")
    parser.add_argument("--frames", metavar="START:STOP",
                        help="only these frames of every video (Python slice, e.g. 40:53)")
    parser.add_argument("--force", action="store_true",
                        help="overwrite an existing keypoints2d.npz")


def parse_frames(text: str | None) -> range | None:
    """'START:STOP' -> range(START, STOP); None stays None. InputError when malformed."""
    if text is None:
        return None
    try:
        start, stop = (int(v) for v in text.split(":"))
    except ValueError:
        raise InputError(f"--frames: expected START:STOP (e.g. 40:53), got {text!r}") from None
    if not 0 <= start < stop:
        raise InputError(f"--frames: need 0 <= START < STOP, got {text!r}")
    return range(start, stop)


def run(args: argparse.Namespace) -> int:
    from epicap.keypoints.everyone import (detector_slots, parse_people, people_table,
                                           redetect_passes, who_was_kept, write_detected)
    from epicap.keypoints.mediapipe_detector import DetectorOptions, detect_session
    from epicap.keypoints.models import check_task_file, pose_model_path
    from epicap.session import KEYPOINTS_FILE
    from epicap.session.detections2d import DETECTIONS_FILE
    from epicap.session.io import refuse_overwrite

    session = Path(args.session)
    if not session.is_dir():
        raise InputError(f"{session}: no such session folder")
    out = session / KEYPOINTS_FILE
    refuse_overwrite(out, args.force, "keypoints file")
    choice = parse_people(args.people)
    slots = detector_slots(choice, args.max_people)
    frames = parse_frames(args.frames)
    model = check_task_file(args.model) if args.model else pose_model_path()
    options = DetectorOptions(num_poses=slots, redetect_passes=redetect_passes(choice))
    result = detect_session(session, model, options, frames)
    people = write_detected(session, result.detections, result.keypoints, choice)
    if not args.quiet:
        from epicap.console import format_table

        rows = [(n, len(r.frames), f"{100 * r.coverage:.0f}%", r.num_people)
                for n, r in result.cameras.items() if n not in result.dropped]
        print(format_table(rows, ["camera", "frames", "subject found", "people seen"]))
        if people is not None and len(people.people) > 1:
            print(people_table(people, result.detections.cameras))
        who = who_was_kept(people)
        print(f"wrote {out} ({who}) and {session / DETECTIONS_FILE}")
    return 0
