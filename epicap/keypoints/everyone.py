"""Everyone in view: from raw detections to the people of `keypoints2d.npz` (`--people`).

`detect` and `import` keep every person a detector reports in `detections2d.npz`
(`epicap.session.detections2d`), then decide who goes into `keypoints2d.npz`:

| `--people` | keypoints2d.npz holds |
|---|---|
| (default) | everyone matched in at least two cameras (`epicap.people.uncalibrated`) |
| `all` | everyone matched, people seen by one camera too (kept in 2D, reported) |
| N > 1 | the N most prominent people (`epicap.people.order_people`), person 0 the main subject |
| 1 | the main subject: the most prominent person matched, the same person in every camera |

With one person the file keeps the single-person shapes; with several it has the person axis and
the `people` key of PRODUCT.md "Several people". When matching finds nobody in two cameras (one
camera, or people too briefly seen) the main subject of each camera is kept
(`keypoints.tracking`), with a warning. Each camera's own main subject is not enough for `--people
1` where several people are in view: the tracker follows whoever is most prominent in that view,
the woman in one camera and the man in the others on the Pose2Sim two-person videos, and sync and
calibration then fail on views of different people.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from epicap.errors import InputError

__all__ = ["PeopleChoice", "parse_people", "detector_slots", "redetect_passes", "PeopleKeypoints", "match_people",
           "keep_people", "save_people_keypoints", "write_detected", "people_table",
           "slots_warning", "who_was_kept", "record_matched_offsets"]


@dataclass(frozen=True)
class PeopleChoice:
    """Who to keep. count: at most this many people (None: no limit). min_cameras: a person must
    be matched in this many cameras. main_subject_only: `--people 1`, one person (detected with
    fewer slots and no re-detection, not matched again after sync)."""

    count: int | None = None
    min_cameras: int = 2

    @property
    def main_subject_only(self) -> bool:
        return self.count == 1


def parse_people(text: str | None) -> PeopleChoice:
    """`--people` N | all -> PeopleChoice; None (not given) is everyone seen by two cameras.

    InputError (one line) for 0, a negative number or anything that is not a number or `all`.
    """
    if text is None:
        return PeopleChoice()
    value = str(text).strip().lower()
    if value == "all":
        return PeopleChoice(None, 1)
    try:
        n = int(value)
    except ValueError:
        raise InputError(f"--people: expected a number of people (1, 2, ...) or 'all', got "
                         f"{text!r}") from None
    if n < 1:
        raise InputError(f"--people must be at least 1 (1 keeps only the main subject), got {n}")
    return PeopleChoice(n, 2)


def detector_slots(choice: PeopleChoice, max_people: int | None = None) -> int:
    """People a detector looks for per frame: `max_people` when given, else 2 for the main
    subject alone (a second slot lets the tracker tell the subject from a passer-by), else 4 or
    the asked count, whichever is more."""
    if max_people is not None:
        return int(max_people)
    return 2 if choice.main_subject_only else max(4, choice.count or 0)


def redetect_passes(choice: PeopleChoice) -> int:
    """Landmarkers run again on each frame with the people found painted over
    (`epicap.keypoints.redetect`): 2 to find everyone, 0 for the main subject alone (`--people
    1`: tracking finds the subject, the extra slot only has to show a passer-by now and then)."""
    return 0 if choice.main_subject_only else 2


@dataclass
class PeopleKeypoints:
    """People matched across cameras.

    keypoints: (C, T, P, J, 3) float32 (P >= 1). people: P ids p0, p1, ...
    cameras_seen: (P,) cameras that see each person. assignment: (C, T, S) person per slot.
    fallback: why the main subject of each camera was kept instead (None when matched).
    offsets_frames: (C,) int the offsets the people were matched at, where the cameras started
    apart (`epicap.people.coarse_offsets`); None: on the cameras' own frames.
    """

    keypoints: np.ndarray
    people: list[str]
    cameras_seen: np.ndarray
    assignment: np.ndarray
    fallback: str | None = None
    notes: list[str] = field(default_factory=list)
    offsets_frames: np.ndarray | None = None


def match_people(detections, choice: PeopleChoice) -> PeopleKeypoints | None:
    """Match the people of `detections` (a Detections2D) across cameras and keep `choice`.

    Returns None when nobody is matched in `choice.min_cameras` cameras (the caller keeps each
    camera's main subject). Cameras started apart are matched on one timeline at the offsets
    found without identities (`epicap.people.coarse_offsets`), each camera's keypoints kept on
    its own frames. People seen by one camera only, cameras with over 5% of their views' left
    and right exchanged back, and offsets found are named in `notes`.
    """
    from epicap.people.assignment import gather
    from epicap.people.per_frame import exchanged_back
    from epicap.people.timeline import match_started_apart
    from epicap.people.uncalibrated import UncalibratedOptions

    if len(detections.cameras) < 2 and choice.min_cameras > 1:
        return None
    flip = detections.skeleton.flip_index
    result, coarse = match_started_apart(detections.keypoints, detections.image_size,
                                         detections.fps,
                                         UncalibratedOptions(min_cameras=choice.min_cameras),
                                         flip_index=flip)
    notes = []
    if coarse.applied:
        notes.append("the cameras started apart: people matched at offsets of "
                     + coarse.describe(detections.cameras, detections.fps)
                     + "; `epicap sync` measures them")
    P = result.num_people if choice.count is None else min(result.num_people, choice.count)
    if P == 0:
        return None
    assignment = np.where(result.assignment < P, result.assignment, -1).astype(np.int32)
    swapped = result.swapped & (assignment >= 0)
    kp = gather(exchanged_back(detections.keypoints, swapped, flip), assignment, P)
    names = [f"p{p}" for p in range(P)]
    seen = result.cameras_seen[:P]
    notes += [f"person {names[p]} is seen by one camera only "
             f"({detections.cameras[int(np.flatnonzero((assignment == p).any((1, 2)))[0])]}): "
             "kept in 2D, it cannot be triangulated" for p in range(P) if seen[p] == 1]
    views = (assignment >= 0).sum((1, 2))
    notes += [f"camera {name}: {n} of {views[c]} views had left and right exchanged by the "
              "detector; exchanged back, at a quarter of their confidence" for c, (name, n) in
              enumerate(zip(detections.cameras, swapped.sum((1, 2)).tolist())) if n > 0.05 * views[c]]
    return PeopleKeypoints(kp, names, seen, assignment, None, notes,
                           coarse.offsets_frames if coarse.applied else None)


def record_matched_offsets(path: str | os.PathLike, detections, people) -> None:
    """Rewrite `detections2d.npz` at `path` with the offsets the people were matched at
    (`Detections2D.matched_offsets`: sync refines each offset from there) when the cameras
    started apart; nothing otherwise."""
    if people is not None and people.offsets_frames is not None:
        detections.matched_offsets = np.asarray(people.offsets_frames, dtype=np.int64)
        detections.save(path)


def save_people_keypoints(path: str | os.PathLike, detections, people: PeopleKeypoints) -> None:
    """Write `keypoints2d.npz` of the matched people exactly as PRODUCT.md lays it out.

    One person: the single-person file (no `people` key). Several: keypoints (C, T, P, J, 3) and
    `people` (P,), through `Keypoints2D.stack` (each person passes the single-person checks).
    """
    from epicap.session import Keypoints2D

    d = detections
    singles = [Keypoints2D(people.keypoints[:, :, p], d.cameras, d.joint_set, d.image_size, d.fps,
                           d.joints) for p in range(len(people.people))]
    Keypoints2D.stack(singles, people.people).save(path)


def write_detected(session: str | os.PathLike, detections, main_subject, choice: PeopleChoice
                   ) -> PeopleKeypoints | None:
    """Write a detection's files into `session`: every detection into `detections2d.npz`, and
    `keypoints2d.npz` of the people `choice` keeps (`keep_people`), or `main_subject` (a
    single-person Keypoints2D, each camera's main subject) when none are matched or `--people 1`.
    Both atomically, detections first. Returns the people written (None: the main subject).
    """
    from pathlib import Path

    from epicap.session import KEYPOINTS_FILE
    from epicap.session.detections2d import DETECTIONS_FILE

    session = Path(session)
    detections.save(session / DETECTIONS_FILE)
    people = keep_people(detections, choice, session)
    record_matched_offsets(session / DETECTIONS_FILE, detections, people)
    if people is None:
        main_subject.save(session / KEYPOINTS_FILE)
    else:
        save_people_keypoints(session / KEYPOINTS_FILE, detections, people)
    return people


def slots_warning(counts: np.ndarray, slots: int, camera: str, option: str) -> str | None:
    """A warning when a detector with `slots` people per frame was full in many frames.

    counts: (T,) people found per frame. A detector that reports its maximum in more than 20%
    of the frames may have missed people: "more people than the detector's slots".
    """
    full = float(np.mean(np.asarray(counts) >= slots)) if len(counts) else 0.0
    if slots >= 2 and full > 0.2:  # one slot: the user asked for one person
        return (f"{camera}: more people than the detector's slots? {slots} people (its maximum) "
                f"found in {full:.0%} of the frames; raise {option} to see everyone")
    return None


def keep_people(detections, choice: PeopleChoice, out: str | os.PathLike):
    """The people to write (PeopleKeypoints), or None for each camera's main subject.

    Warns, naming them, about cameras where nobody was ever detected and people seen by one
    camera only; and when matching across cameras finds nobody.
    """
    from epicap.console import warn

    for c, name in enumerate(detections.cameras):
        if not detections.occupied[c].any():
            warn(f"camera {name}: nobody was ever detected; it has no keypoints")
    people = match_people(detections, choice)
    if people is None:
        if (detections.people_per_frame() > 1).any():  # with one person at a time, no news
            warn(f"{out}: nobody is matched across two cameras; keeping each camera's main "
                 "subject (all detections are in detections2d.npz)")
        return None
    for note in people.notes:
        warn(note)
    return people


def who_was_kept(people: PeopleKeypoints | None) -> str:
    """"the main subject of each camera" (nobody matched), "1 person" or "N people"."""
    if people is None:
        return "the main subject of each camera"
    n = len(people.people)
    return "1 person, matched across cameras" if n == 1 else f"{n} people"


def people_table(people, cameras: list[str]) -> str:
    """A table of the matched people: cameras that see each and frames seen per camera."""
    from epicap.console import format_table

    seen = people.keypoints[..., 2].max(-1) > 0  # (C, T, P)
    rows = [(name, int(people.cameras_seen[p]),
             *[f"{100 * seen[c, :, p].mean():.0f}%" for c in range(len(cameras))])
            for p, name in enumerate(people.people)]
    return format_table(rows, ["person", "cameras", *cameras])
