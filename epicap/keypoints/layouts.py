"""Keypoint layouts of other tools, and how each maps onto one of epicap's joint sets.

A layout is the list of keypoints another tool writes per person, in its order. Converting keeps
the joints our joint set has and drops the rest; a joint of ours the layout lacks is missing.

| layout | keypoints | tool | our joint set |
|---|---|---|---|
| `body25b` | 25 | OpenPose BODY_25B (Pose2Sim's demo) | `body25b` (same order) |
| `body25` | 25 | OpenPose BODY_25 (OpenPose's default) | `coco17` |
| `coco18` | 18 | OpenPose COCO | `coco17` |
| `coco17` | 17 | COCO keypoints (MMPose, RTMPose, Detectron2, ...) | `coco17` |
| `halpe26` | 26 | Halpe (RTMPose body8-halpe26, AlphaPose; Pose2Sim >= 0.9) | `body25b` |
| `wholebody133` | 133 | COCO-WholeBody (RTMW, DWPose): its body and feet | `body25b` |

Halpe's `neck` lies at the base of the neck where BODY_25B's `neck` (OpenPose's "UpperNeck") lies
higher; both become `neck`. Halpe's `head` is the top of the head, as BODY_25B's.

The importers (`openpose`, `coco_json`) share the rest here: `load_json`, `check_camera_inputs`
(names and image size) and `keypoints_from_frames` (layout, timeline, main subject, summaries).
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Sequence

import numpy as np

from epicap.errors import InputError, check_shape
from epicap.joint_sets import get_joint_set

__all__ = ["Layout", "LAYOUTS", "get_layout", "layout_for_count", "convert_people",
           "check_timeline", "assemble_keypoints", "CameraSummary", "check_camera_inputs",
           "keypoints_from_frames", "load_json"]

_COCO17 = ("nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder",
           "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip",
           "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle")
_FEET = ("left_big_toe", "left_small_toe", "left_heel", "right_big_toe", "right_small_toe",
         "right_heel")


@dataclass(frozen=True)
class Layout:
    """A tool's keypoint order. keypoints: names in the tool's order, ours where they coincide
    (None for a keypoint we do not keep). joint_set: the epicap joint set it converts to."""

    name: str
    keypoints: tuple[str | None, ...]
    joint_set: str
    description: str = ""

    def __len__(self) -> int:
        return len(self.keypoints)

    @cached_property
    def source_index(self) -> np.ndarray:
        """(J,) int: for each joint of our joint set, its index in this layout; -1 if absent."""
        where = {n: i for i, n in enumerate(self.keypoints) if n is not None}
        return np.array([where.get(j, -1) for j in get_joint_set(self.joint_set).joints],
                        dtype=np.int64)


_BODY25 = ("nose", None, "right_shoulder", "right_elbow", "right_wrist", "left_shoulder",
           "left_elbow", "left_wrist", None, "right_hip", "right_knee", "right_ankle", "left_hip",
           "left_knee", "left_ankle", "right_eye", "left_eye", "right_ear", "left_ear",
           "left_big_toe", "left_small_toe", "left_heel", "right_big_toe", "right_small_toe",
           "right_heel")  # 1 = neck (between the shoulders), 8 = mid hip: not in coco17
_COCO18 = ("nose", None, "right_shoulder", "right_elbow", "right_wrist", "left_shoulder",
           "left_elbow", "left_wrist", "right_hip", "right_knee", "right_ankle", "left_hip",
           "left_knee", "left_ankle", "right_eye", "left_eye", "right_ear", "left_ear")
_HALPE26 = _COCO17 + ("head", "neck", None, "left_big_toe", "right_big_toe", "left_small_toe",
                      "right_small_toe", "left_heel", "right_heel")
_WHOLEBODY133 = _COCO17 + ("left_big_toe", "left_small_toe", "left_heel", "right_big_toe",
                           "right_small_toe", "right_heel") + (None,) * 110

LAYOUTS: dict[str, Layout] = {lay.name: lay for lay in (
    Layout("body25b", _COCO17 + ("neck", "head") + _FEET, "body25b", "OpenPose BODY_25B"),
    Layout("body25", _BODY25, "coco17", "OpenPose BODY_25"),
    Layout("coco18", _COCO18, "coco17", "OpenPose COCO (18 keypoints)"),
    Layout("coco17", _COCO17, "coco17", "COCO keypoints"),
    Layout("halpe26", _HALPE26, "body25b", "Halpe 26 keypoints"),
    Layout("wholebody133", _WHOLEBODY133, "body25b", "COCO-WholeBody 133 keypoints"),
)}


def get_layout(name: str) -> Layout:
    """The layout called `name`; InputError listing the valid names if unknown."""
    try:
        return LAYOUTS[name]
    except KeyError:
        raise InputError(f"unknown keypoint layout {name!r}; valid: {', '.join(LAYOUTS)}") from None


def layout_for_count(count: int, body25: str = "body25b") -> Layout:
    """The layout of a tool that writes `count` keypoints per person.

    body25: which 25-keypoint layout to assume, "body25b" (default: Pose2Sim's demo and most
        biomechanics set-ups) or "body25" (OpenPose's default model).
    """
    if count == 25:
        if body25 not in ("body25b", "body25"):
            raise InputError(f"unknown 25-keypoint layout {body25!r}; valid: body25b, body25")
        return LAYOUTS[body25]
    for lay in LAYOUTS.values():
        if len(lay) == count and lay.name not in ("body25", "body25b"):
            return lay
    known = ", ".join(f"{len(lay)} ({lay.name})" for lay in LAYOUTS.values())
    raise InputError(f"{count} keypoints per person is no known layout; known: {known}")


def convert_people(people: np.ndarray, layout: Layout) -> np.ndarray:
    """People in a tool's layout -> people in our joint set, missing joints as (NaN, NaN, 0).

    people: (P, K, 3) x, y in pixels and a score, K = len(layout). A keypoint with a score <= 0 or
        a non-finite coordinate is missing (OpenPose writes 0, 0, 0 for those). Scores above 1
        (RTMPose's SimCC can give them) are clipped to 1.
    Returns (P, J, 3) float32 in the order of `layout.joint_set`.
    """
    people = np.asarray(people, dtype=np.float64)
    check_shape(people, f"P, {len(layout)}, 3", f"{layout.name} keypoints")
    idx = layout.source_index
    out = np.full((people.shape[0], idx.size, 3), np.nan)
    out[..., 2] = 0.0
    have = idx >= 0
    out[:, have] = people[:, idx[have]]
    score = out[..., 2]
    missing = ~np.isfinite(out[..., :2]).all(-1) | ~(score > 0)
    out[..., 2] = np.clip(np.nan_to_num(score, nan=0.0), 0.0, 1.0)
    out[missing] = (np.nan, np.nan, 0.0)
    return out.astype(np.float32)


MAX_GAP_FACTOR = 20  # a timeline this many times longer than the frames read is not a recording


def check_timeline(frame_numbers: list[int], sources: str) -> tuple[int, int]:
    """(first frame, T) of the common timeline spanned by the frame numbers read from files.

    frame_numbers: every camera's frame numbers (from file names or ids). sources: the files or
    folders, for the message. A span far longer than the frames read (more than 100,000 frames
    and MAX_GAP_FACTOR times the count) means the numbers are not frame numbers (an id such as
    a date or a hash): InputError, before a vast array is allocated.
    """
    if not frame_numbers:
        raise InputError(f"no frames in {sources}")
    start, end = min(frame_numbers), max(frame_numbers)
    T = end - start + 1
    if T > 100_000 and T > MAX_GAP_FACTOR * len(frame_numbers):
        raise InputError(f"{sources}: frame numbers run from {start} to {end} ({T} frames) "
                         f"for {len(frame_numbers)} frames read; are the numbers in the file "
                         "names (or image ids) frame numbers?")
    return start, T


@dataclass
class CameraSummary:
    """What an importer found for one camera (for the command's table and warnings).

    name: camera name. source: the folder or file read. frames: frames with a file or entry.
    max_people: the most people found in one frame. tracks: distinct people tracked.
    coverage: fraction of the T frames in which the main subject is seen.
    outside: fraction of the main subject's seen joints outside the image (a wrong image size).
    """

    name: str
    source: str
    frames: int
    max_people: int
    tracks: int
    coverage: float
    outside: float = 0.0


def assemble_keypoints(people: list[list[np.ndarray | None]], layout: Layout, names: list[str],
                       sources: list[str], image_size, fps: float, tracking=None):
    """Choose each camera's main subject and build one Keypoints2D.

    people: C lists of T_c entries: the (P, K, 3) people of a frame in `layout`, or None when a
        frame has no entry. Shorter cameras are padded with missing frames.
    layout: their keypoint layout. names: C camera names. sources: C folders/files (messages).
    image_size: (C, 2) width, height in pixels. fps: frames per second of the common timeline.
    tracking: TrackingOptions or None.
    Returns (Keypoints2D, list of C CameraSummary). InputError when nobody is found anywhere;
    a camera where nobody is found is kept with all joints missing and a warning naming it.
    """
    from epicap.console import warn
    from epicap.keypoints.tracking import select_main_subjects
    from epicap.session import Keypoints2D

    J = len(get_joint_set(layout.joint_set))
    converted = [[None if p is None or len(p) == 0 else convert_people(p, layout) for p in cam]
                 for cam in people]
    kp, tracks = select_main_subjects(converted, J, tracking, names)
    if all(tr.num_tracks == 0 for tr in tracks):
        raise InputError(f"no person found in any camera ({', '.join(sources)})")
    image_size = np.asarray(image_size, dtype=np.int64).reshape(len(names), 2)
    summaries = []
    for c, (name, src, tr) in enumerate(zip(names, sources, tracks)):
        xy = kp[c, ..., :2]
        seen = np.isfinite(xy).all(-1)
        w, h = image_size[c]
        inside = (xy[..., 0] >= -0.5) & (xy[..., 0] <= w - 0.5) & (xy[..., 1] >= -0.5) & \
            (xy[..., 1] <= h - 0.5)
        outside = float((seen & ~inside).sum() / max(seen.sum(), 1))
        summaries.append(CameraSummary(
            name, src, sum(p is not None for p in people[c]),
            max((0 if p is None else len(p) for p in people[c]), default=0),
            tr.num_tracks, float(seen.any(-1).sum() / max(kp.shape[1], 1)), outside))
        if tr.num_tracks == 0:
            warn(f"camera {name}: no person found in {src}; kept with every joint missing")
        elif outside > 0.05:
            warn(f"camera {name}: {outside:.0%} of the joints lie outside the {w}x{h} image: "
                 "is the image size right (portrait vs landscape)?")
    if all(tr.num_tracks == 0 for tr in tracks):
        raise InputError(f"no person found in any camera ({', '.join(sources)})")
    return Keypoints2D(kp, names, layout.joint_set, image_size, fps), summaries



def load_json(path: str | os.PathLike, kind: str, text: str | bytes | None = None):
    """The parsed JSON document of a tool's keypoints file.

    path: the file (read unless `text` is given; always used in messages). kind: what the file
    should be, for the message when it nests too deeply (e.g. "an OpenPose JSON file").
    InputError naming the file when it cannot be read or is not valid JSON.
    """
    try:
        return json.loads(Path(path).read_bytes() if text is None else text)
    except OSError as e:
        raise InputError(f"{path}: cannot read ({e.strerror or e})") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: not valid JSON (truncated?): {e}") from None
    except RecursionError:
        raise InputError(f"{path}: not {kind} (nested too deeply)") from None

def check_camera_inputs(names: Sequence[str], image_size, num_cameras: int,
                        file_kind: str) -> tuple[list[str], np.ndarray]:
    """(names, image size (C, 2) int64) of an import's C cameras, checked before any file is read.

    names: C camera names, distinct. image_size: (2,) shared or (C, 2) width, height in pixels;
    None is an InputError saying that `file_kind` (e.g. "OpenPose JSON") does not hold it.
    """
    C = int(num_cameras)
    names = [str(n) for n in names]
    if len(names) != C:
        raise InputError(f"{len(names)} camera names for {C} inputs")
    if len(set(names)) != C:
        raise InputError(f"camera names are not unique: {names} (pass names explicitly)")
    if image_size is None:
        raise InputError(f"the image size is not in {file_kind}: give it (width, height)")
    size = np.asarray(image_size, dtype=np.int64)
    size = np.broadcast_to(size, (C, 2)) if size.shape == (2,) else size
    if size.shape != (C, 2):
        raise InputError(f"image_size: expected (2,) or ({C}, 2), got {np.shape(image_size)}")
    return names, size


def keypoints_from_frames(frames: Sequence[dict[int, np.ndarray]], names: list[str],
                          sources: Sequence[str], image_size, fps: float, layout: str = "auto",
                          body25: str = "body25b", tracking=None, summaries: list | None = None,
                          raw: list | None = None):
    """Keypoints2D of the main subject from what an importer read: people per frame per camera.

    frames: C dicts, frame number -> (P, K, 3) people (x, y pixels, score) in the tool's layout;
        a frame a camera lacks has all joints missing there. The common timeline starts at the
        smallest frame number over all cameras.
    names: C camera names. sources: C files or folders read (for messages and summaries).
    image_size: (C, 2) width, height in pixels. fps: frames per second.
    layout: "auto" (from the keypoint count, see `layout_for_count`) or a name in `LAYOUTS`.
    body25: the 25-keypoint layout assumed with "auto". tracking: TrackingOptions or None.
    summaries: if a list, one CameraSummary per camera is appended.
    raw: if a list, the Detections2D of every person found (`detections2d.npz`) is appended.
    InputError when nobody is found, the cameras mix keypoint counts, or the count does not fit
    the layout asked for.
    """
    sources = [str(s) for s in sources]
    counts: dict[int, str] = {}
    for src, cam in zip(sources, frames):
        for people in cam.values():
            if people.shape[0]:
                counts.setdefault(people.shape[1], src)
    if not counts:
        raise InputError(f"no person found in {', '.join(sources)}")
    if len(counts) > 1:
        detail = ", ".join(f"{k} in {f}" for k, f in counts.items())
        raise InputError(f"the inputs mix keypoint layouts ({detail} keypoints per person)")
    count = next(iter(counts))
    lay = layout_for_count(count, body25) if layout == "auto" else get_layout(layout)
    if len(lay) != count:
        raise InputError(f"layout {lay.name} has {len(lay)} keypoints, the files have {count}")
    start, T = check_timeline([n for cam in frames for n in cam], ", ".join(sources))
    people = [[cam.get(start + t) for t in range(T)] for cam in frames]
    kp, found = assemble_keypoints(people, lay, names, sources, image_size, fps, tracking)
    if summaries is not None:
        summaries.extend(found)
    if raw is not None:
        from epicap.session.detections2d import Detections2D, stack_detections

        J = len(get_joint_set(lay.joint_set))
        converted = [[None if p is None or len(p) == 0 else convert_people(p, lay) for p in cam]
                     for cam in people]
        raw.append(Detections2D(stack_detections(converted, J), names, lay.joint_set,
                                kp.image_size, fps))
    return kp
