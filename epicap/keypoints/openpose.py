"""Import OpenPose JSON: one folder per camera, one file per frame, several people per file.

OpenPose (`--write_json DIR`) writes `<video>_000000000012_keypoints.json` per frame; Pose2Sim's
tools write `cam01.0012.json`. Each file holds

    {"version": 1.3, "people": [{"pose_keypoints_2d": [x0, y0, c0, x1, y1, c1, ...], ...}, ...]}

with 0, 0, 0 for an undetected keypoint. The frame number is the last number in the file name; a
missing file is a frame with nobody found. Image size and fps are not in the files: the caller
gives them. The layout follows from the number of keypoints per person (25: BODY_25B by default,
or BODY_25; 18: COCO; see `epicap.keypoints.layouts`), and the main subject is chosen and
followed per camera by `epicap.keypoints.tracking`.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Sequence

import numpy as np

from epicap.errors import InputError
from epicap.keypoints.layouts import check_camera_inputs, keypoints_from_frames, load_json
from epicap.keypoints.tracking import TrackingOptions

__all__ = ["read_openpose", "read_openpose_folder", "openpose_frame_files", "parse_openpose_json",
           "camera_name_from_folder"]

_NUMBER = re.compile(r"(\d+)(?:_keypoints)?\.json$", re.IGNORECASE)


def camera_name_from_folder(folder: str | os.PathLike) -> str:
    """A camera name from an OpenPose output folder: `cam01_json` -> `cam01`."""
    name = Path(folder).resolve().name
    for suffix in ("_json", "-json", "_keypoints", "_pose", "_openpose"):
        if name.lower().endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def openpose_frame_files(folder: str | os.PathLike) -> list[tuple[int, Path]]:
    """(frame number, path) of every `*.json` in `folder`, sorted by frame number.

    The frame number is the number that ends the file name, before an optional `_keypoints`
    (`..._000000000012_keypoints.json`, `cam01.0012.json`); when some file name has none, or
    two files share a number, files are numbered in name order.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: no such folder (expected one folder of OpenPose JSON files "
                         "per camera)")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() == ".json" and p.is_file())
    if not files:
        raise InputError(f"{folder}: no .json files")
    numbers = [_NUMBER.search(p.name) for p in files]
    if all(numbers):
        pairs = sorted((int(m.group(1)), p) for m, p in zip(numbers, files))
        dup = [a for (a, _), (b, _) in zip(pairs, pairs[1:]) if a == b]
        if not dup:
            return pairs
    return list(enumerate(files))


def parse_openpose_json(path: str | os.PathLike, text: str | bytes | None = None) -> np.ndarray:
    """The people of one OpenPose JSON file as (P, K, 3) float64 (x, y pixels, confidence).

    path: the file (read unless `text` is given; always used in messages).
    Raises InputError naming the file for invalid JSON, a missing `people` or
    `pose_keypoints_2d` key, or a keypoint list whose length is not a multiple of 3 or differs
    between the people of the file.
    """
    doc = load_json(path, "an OpenPose JSON file", text)
    if not isinstance(doc, dict) or not isinstance(doc.get("people"), list):
        raise InputError(f"{path}: no \"people\" list (not an OpenPose JSON file)")
    people = []
    for i, person in enumerate(doc["people"]):
        flat = person.get("pose_keypoints_2d") if isinstance(person, dict) else None
        if not isinstance(flat, list):
            raise InputError(f"{path}: person {i} has no \"pose_keypoints_2d\" list")
        if not flat:
            continue  # OpenPose writes empty lists for parts it did not run
        if len(flat) % 3:
            raise InputError(f"{path}: person {i}: {len(flat)} numbers in pose_keypoints_2d, "
                             "not a multiple of 3 (x, y, confidence per keypoint)")
        try:
            arr = np.asarray(flat, dtype=np.float64).reshape(-1, 3)
        except (TypeError, ValueError):
            raise InputError(f"{path}: person {i}: pose_keypoints_2d holds non-numbers") from None
        if people and arr.shape != people[0].shape:
            raise InputError(f"{path}: person {i} has {arr.shape[0]} keypoints, person 0 has "
                             f"{people[0].shape[0]}")
        people.append(arr)
    if not people:
        return np.zeros((0, 0, 3))
    return np.stack(people)


def read_openpose_folder(folder: str | os.PathLike) -> tuple[list[int], list[np.ndarray]]:
    """(frame numbers, people per frame (P, K, 3)) of one camera's OpenPose folder."""
    pairs = openpose_frame_files(folder)
    return [n for n, _ in pairs], [parse_openpose_json(p) for _, p in pairs]


def read_openpose(folders: Sequence[str | os.PathLike], camera_names: Sequence[str] | None = None,
                  image_size=None, fps: float = 30.0, layout: str = "auto",
                  body25: str = "body25b", tracking: TrackingOptions | None = None,
                  summaries: list | None = None, raw: list | None = None):
    """Keypoints2D of the main subject from OpenPose JSON folders, one folder per camera.

    folders: C folders of per-frame JSON files.
    camera_names: C names; default from the folder names (`cam01_json` -> `cam01`).
    image_size: (C, 2) or (2,) width, height in pixels of each camera's images (not in the JSON).
    fps: frames per second of the recordings.
    layout: "auto" (from the keypoint count) or a name in `epicap.keypoints.layouts.LAYOUTS`.
    body25: with layout "auto", which 25-keypoint layout to assume: "body25b" (default,
        Pose2Sim's demo) or "body25" (OpenPose's default model, imported as coco17).
    tracking: options of the main-subject tracker.
    summaries: if a list is given, one CameraSummary per camera is appended to it.
    raw: if a list, the Detections2D of every person found is appended (`detections2d.npz`).

    The common timeline starts at the smallest frame number over all folders; a camera lacking a
    frame has all joints missing there. Raises InputError naming the folder or file at fault.
    """
    if not folders:
        raise InputError("no OpenPose folders given")
    default = [camera_name_from_folder(f) for f in folders]
    names, size = check_camera_inputs(default if camera_names is None else camera_names,
                                      image_size, len(folders), "OpenPose JSON")
    frames = [dict(zip(*read_openpose_folder(f))) for f in folders]
    return keypoints_from_frames(frames, names, [str(f) for f in folders], size, fps, layout,
                                 body25, tracking, summaries, raw)
