"""Import COCO-style keypoint results as MMPose, RTMPose and Detectron2 write them.

Three shapes of file are read, one file (or folder) per camera:

1. COCO results (`--format-only` of MMPose's test tool, Detectron2's evaluator, `cocoapi`):
   `[{"image_id": 12, "category_id": 1, "keypoints": [x0, y0, s0, ...], "score": 0.93}, ...]`;
   the frame number is `image_id` (or the last number in it when it is a string).
2. MMPose's demo predictions (`--save-predictions`): `{"meta_info": {...}, "instance_info":
   [{"frame_id": 1, "instances": [{"keypoints": [[x, y], ...], "keypoint_scores": [...]}]}]}`,
   or for one image `"instance_info": [{"keypoints": ..., "keypoint_scores": ...}, ...]`.
3. A folder of per-frame files from `MMPoseInferencer(pred_out_dir=...)`: each a list of
   instances as in 2; the frame number is the last number in the file name.

The layout follows from the keypoint count (17 COCO, 26 Halpe, 133 COCO-WholeBody; see
`epicap.keypoints.layouts`); the main subject is chosen and followed per camera.
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

__all__ = ["read_coco_json", "read_coco_file"]

_LAST_NUMBER = re.compile(r"(\d+)(?!.*\d)")


def _frame_number(value, where: str) -> int:
    if isinstance(value, bool):
        raise InputError(f"{where}: frame id {value!r} is not a number")
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    m = _LAST_NUMBER.search(str(value))
    if m is None:
        raise InputError(f"{where}: frame id {value!r} holds no number")
    return int(m.group(1))


def _coco_person(entry, where: str) -> np.ndarray:
    """One COCO result's keypoints -> (K, 3)."""
    if not isinstance(entry, dict) or "keypoints" not in entry:
        raise InputError(f"{where}: no \"keypoints\"")
    flat = entry["keypoints"]
    if not isinstance(flat, list) or not flat or len(flat) % 3:
        got = len(flat) if isinstance(flat, list) else type(flat).__name__
        raise InputError(f"{where}: \"keypoints\" must be a flat list x, y, score per keypoint "
                         f"(a multiple of 3 numbers), got {got}")
    return _numbers(flat, where).reshape(-1, 3)


def _mmpose_person(inst, where: str) -> np.ndarray:
    """One MMPose instance ({"keypoints": [[x, y], ...], "keypoint_scores": [...]}) -> (K, 3)."""
    if not isinstance(inst, dict) or "keypoints" not in inst:
        raise InputError(f"{where}: no \"keypoints\"")
    xy = _numbers(inst["keypoints"], where)
    if xy.ndim == 3 and xy.shape[0] == 1:  # some versions nest one more level
        xy = xy[0]
    if xy.ndim != 2 or xy.shape[1] not in (2, 3):
        raise InputError(f"{where}: \"keypoints\" must be a list of [x, y], got shape {xy.shape}")
    if xy.shape[1] == 3:
        return xy
    scores = inst.get("keypoint_scores")
    if scores is None:
        raise InputError(f"{where}: no \"keypoint_scores\"")
    s = _numbers(scores, where).reshape(-1)
    if s.size != xy.shape[0]:
        raise InputError(f"{where}: {s.size} keypoint_scores for {xy.shape[0]} keypoints")
    return np.concatenate([xy, s[:, None]], axis=1)


def _numbers(value, where: str) -> np.ndarray:
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"{where}: keypoints hold non-numbers or ragged lists") from None


def _stack(people: list[np.ndarray], where: str) -> np.ndarray:
    if people and any(p.shape != people[0].shape for p in people):
        raise InputError(f"{where}: people with different keypoint counts "
                         f"{sorted({p.shape[0] for p in people})}")
    return np.stack(people) if people else np.zeros((0, 0, 3))


def read_coco_file(path: str | os.PathLike) -> dict[int, np.ndarray]:
    """Frame number -> people (P, K, 3) (x, y pixels, score) of one camera's file or folder.

    path: a COCO results list, an MMPose predictions file, or a folder of per-frame files.
    Raises InputError naming the file and entry at fault.
    """
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() == ".json")
        if not files:
            raise InputError(f"{path}: no .json files")
        numbers = [_LAST_NUMBER.search(f.stem) for f in files]
        if any(numbers) and not all(numbers):
            odd = files[[m is None for m in numbers].index(True)]
            raise InputError(f"{odd}: no frame number in its name, unlike the other files in "
                             f"{path} (move it out: each file is one frame)")
        out = {}
        for i, (f, m) in enumerate(zip(files, numbers)):
            doc = load_json(f, "a keypoints JSON file")
            n = int(m.group(1)) if m else i
            if n in out:
                raise InputError(f"{f}: frame {n} appears twice in {path}")
            insts = doc.get("instance_info", doc) if isinstance(doc, dict) else doc
            if not isinstance(insts, list):
                raise InputError(f"{f}: expected a list of instances")
            out[n] = _stack([_mmpose_person(p, f"{f}: instance {j}")
                             for j, p in enumerate(insts)], str(f))
        return out
    if not path.is_file():
        raise InputError(f"{path}: no such file or folder")
    doc = load_json(path, "a keypoints JSON file")
    frames: dict[int, list[np.ndarray]] = {}
    if isinstance(doc, list):  # COCO results
        for i, entry in enumerate(doc):
            where = f"{path}: entry {i}"
            if not isinstance(entry, dict) or "image_id" not in entry:
                raise InputError(f"{where}: no \"image_id\" (not a COCO results file)")
            if entry.get("category_id", 1) != 1:
                continue  # keypoints belong to people only
            frames.setdefault(_frame_number(entry["image_id"], where), []).append(
                _coco_person(entry, where))
    elif isinstance(doc, dict) and isinstance(doc.get("instance_info"), list):
        info = doc["instance_info"]
        if info and all(isinstance(e, dict) and "instances" in e for e in info):
            for i, e in enumerate(info):
                where = f"{path}: instance_info[{i}]"
                n = _frame_number(e.get("frame_id", i), where)
                frames.setdefault(n, []).extend(
                    _mmpose_person(p, f"{where}: instance {j}")
                    for j, p in enumerate(e["instances"] or []))
        else:
            frames[0] = [_mmpose_person(p, f"{path}: instance {j}") for j, p in enumerate(info)]
    else:
        raise InputError(f"{path}: neither a COCO results list nor MMPose predictions "
                         "(a dict with \"instance_info\")")
    return {n: _stack(p, f"{path}: frame {n}") for n, p in frames.items()}


def read_coco_json(paths: Sequence[str | os.PathLike], camera_names: Sequence[str] | None = None,
                   image_size=None, fps: float = 30.0, layout: str = "auto",
                   body25: str = "body25b", tracking: TrackingOptions | None = None,
                   summaries: list | None = None, raw: list | None = None):
    """Keypoints2D of the main subject from COCO-style results, one file or folder per camera.

    paths: C files or folders (see the module docstring for what they may hold).
    camera_names: C names; default the file or folder names without extension.
    image_size: (C, 2) or (2,) width, height in pixels. fps: frames per second.
    layout: "auto" (from the keypoint count) or a name in `epicap.keypoints.layouts.LAYOUTS`.
    body25: the 25-keypoint layout assumed with "auto". tracking: tracker options.
    summaries: if a list, one CameraSummary per camera is appended.
    raw: if a list, the Detections2D of every person found is appended (`detections2d.npz`).

    Frame numbers are the ids in the files; the timeline starts at the smallest over all cameras.
    """
    if not paths:
        raise InputError("no COCO-style result files given")
    default = [Path(p).stem for p in paths]
    names, size = check_camera_inputs(default if camera_names is None else camera_names,
                                      image_size, len(paths), "COCO-style results")
    frames = [read_coco_file(p) for p in paths]
    return keypoints_from_frames(frames, names, [str(p) for p in paths], size, fps, layout,
                                 body25, tracking, summaries, raw)
