"""3D poses from one camera with a trained student: from 2D keypoints, or from a video.

The output is root-relative: (T, J, 3) metres in the camera's frame (OpenCV axes) with the root
joint at the origin, NaN in frames where the person is not seen well enough (fewer than half of
the joints in 2D). Metric size comes from the training data's typical pose scale (`scale_m`).

Everyone in view: a video's people are found by the detector (with its re-detection passes) and
followed over time in that one camera (`keypoints.tracking.track_people`); by the colours of their
clothes (`people.appearance`), a track that someone else continued after a short gap is cut, and a
person who comes back after a gap longer than the tracker's is joined to their earlier track; a
keypoints2d.npz of several people has them already. With several people the poses are
(P, T, J, 3) and `people` names them (p0 the main subject), as in `poses3d.npz`; one person keeps
the shapes above.
"""
from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from epicap.errors import InputError
from epicap.joint_sets import get_joint_set
from epicap.training.checkpoint import load_student
from epicap.training.crops import crop_boxes, read_crops
from epicap.training.poses import normalize_keypoints

__all__ = ["Inference", "convert_joints", "predict_keypoints", "infer"]

_MIN_SEEN = 0.5
_MIN_SHARE = 0.25  # by default, a video's people followed in this share of its frames


@dataclass
class Inference:
    """Poses of one camera: (T, J, 3) float32 metres, camera frame, root at the origin; with
    several people (P, T, J, 3) and `people` their P ids (p0 the main subject)."""

    poses: np.ndarray
    joint_set: str
    fps: float
    camera: str
    source: str
    checkpoint: str = ""  # the student's file (a RUN folder's best.pt by default)
    people: list[str] | None = None
    root_px: np.ndarray | None = None  # (T, 2) or (P, T, 2): the root's pixels in the input

    def save(self, path: str | os.PathLike) -> None:
        """Write an .npz: poses, joints, joint_set, fps, camera, frame="camera", root_relative,
        source (the video or keypoints file read), checkpoint (the student's file), `root_px`
        (the root joint's pixels in the input, NaN where unseen) and `people` when there are
        several."""
        from epicap.session.io import write_npz

        extra = {} if self.people is None else {"people": np.array(self.people)}
        if self.root_px is not None:
            extra["root_px"] = np.asarray(self.root_px, np.float32)
        write_npz(path, {"poses": self.poses.astype(np.float32),
                         "joints": np.array(get_joint_set(self.joint_set).joints),
                         "joint_set": np.array(self.joint_set), "fps": np.array(float(self.fps)),
                         "camera": np.array(self.camera), "frame": np.array("camera"),
                         "root_relative": np.array(True), "source": np.array(self.source),
                         "checkpoint": np.array(self.checkpoint), **extra})

    def frames_seen(self) -> np.ndarray:
        """(P,) frames with a pose, per person (P = 1 for a single-person result)."""
        poses = self.poses if self.people is not None else self.poses[None]
        return np.isfinite(poses).all(-1).any(-1).sum(-1)


def convert_joints(keypoints: np.ndarray, source: str, target: str) -> np.ndarray:
    """Keypoints (..., J_source, 3) of joint set `source` as joint set `target`, joints by name.

    InputError when `target` has joints that `source` lacks (e.g. coco17 from body25b works,
    h36m17 from coco17 does not).
    """
    if source == target:
        return keypoints
    src, dst = get_joint_set(source), get_joint_set(target)
    missing = [j for j in dst.joints if j not in src.joints]
    if missing:
        raise InputError(f"the student predicts {target} but the input is {source}, which lacks "
                         f"{', '.join(missing[:4])}{'...' if len(missing) > 4 else ''}")
    return keypoints[..., [src.index(j) for j in dst.joints], :]


@torch.no_grad()
def predict_keypoints(model: torch.nn.Module, state: dict, keypoints: np.ndarray,
                      crops: np.ndarray | None = None, batch_size: int = 256,
                      device: str = "cpu") -> np.ndarray:
    """Root-relative poses (T, J, 3) metres from one camera's keypoints (T, J, 3) over time.

    keypoints: pixels and confidence in the student's joint set (NaN where missing); the lifter
    reads them (with its temporal window, frames clamped at the ends). crops: (T, S, S, 3) uint8
    RGB person crops for the integral student.
    """
    skel = get_joint_set(state["joint_set"])
    T = len(keypoints)
    student = state["model_config"]["student"]
    seen = (np.isfinite(keypoints[..., :2]).all(-1) & (keypoints[..., 2] > 0)).sum(-1)
    out = np.full((T, len(skel), 3), np.nan, dtype=np.float32)
    ok = np.nonzero(seen >= _MIN_SEEN * len(skel))[0]
    window = int(state["model_config"].get("window", 1))
    root = torch.as_tensor(skel.root_index)
    for i in range(0, len(ok), batch_size):
        idx = ok[i:i + batch_size]
        if student == "lifter":
            nb = np.clip(idx[:, None] + np.arange(window) - window // 2, 0, T - 1)
            x = normalize_keypoints(torch.from_numpy(keypoints[nb].astype(np.float32)), root)
        else:
            if crops is None:
                raise InputError("the integral student reads images: give it a video")
            x = torch.from_numpy(crops[idx]).permute(0, 3, 1, 2).float() / 255
        pred = model(x.to(device)).float().cpu().numpy() * float(state["scale_m"])
        out[idx] = pred - pred[:, skel.root_index].mean(axis=1, keepdims=True)
    return out


def infer(run: str | os.PathLike, source: str | os.PathLike, camera: str | None = None,
          detector_model: str | os.PathLike | None = None, device: str = "cpu",
          checkpoint: str = "best", person: str | None = None,
          people: str | None = None) -> Inference:
    """Poses from RUN's student for one camera: `source` is a keypoints2d.npz or a video.

    camera: which camera of a keypoints2d.npz (default: its only or first camera).
    person: one person's poses only (an id such as "p1"; single-person shapes).
    people: who, when `person` is not given (`--people`, `keypoints.everyone.parse_people`):
        None everyone (in a video: everyone followed in a quarter of the frames or more), "all"
        every person found, N the N seen most (1: the main subject alone, as a single person).
    detector_model: a MediaPipe pose `.task` for videos (default: the one epicap installs).
    checkpoint: for a RUN folder, "best" (best.pt, the lowest validation error) or "last".
    InputError for a missing file, an unknown camera or person, or a student that cannot read
    this input.
    """
    from epicap.keypoints.everyone import parse_people

    choice = parse_people(people)
    model, state = load_student(run, device, checkpoint)
    source = Path(source)
    if not source.is_file():
        raise InputError(f"{source}: no such file")
    target = state["joint_set"]
    integral = state["model_config"]["student"] == "integral"
    if source.suffix == ".npz":
        if integral:
            raise InputError(f"{run}: the integral student reads images; give it a video, "
                             "not keypoints")
        keypoints, joint_set, ids, fps, name, frames = _file_people(source, camera)
    else:
        keypoints, joint_set, ids, fps, name, frames = _video_people(
            source, camera, detector_model, choice, picked=person is not None)
    keypoints = convert_joints(keypoints, joint_set, target)
    keep = _chosen(keypoints, ids, person, choice, source, from_video=source.suffix != ".npz")
    poses = []
    root = get_joint_set(target).root_index
    with warnings.catch_warnings():  # unseen roots: NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        xy = np.where((keypoints[..., 2:] > 0), keypoints[..., :2], np.nan)
        root_px = np.nanmean(xy[:, :, np.atleast_1d(root)], axis=2)[keep]          # (P, T, 2)
    for p in keep:
        crops = None
        if integral:
            size = int(state["config"].get("input_size", 256))
            boxes = crop_boxes(keypoints[p], get_joint_set(target).root_index)
            crops, _ = read_crops(source, frames, np.nan_to_num(boxes, nan=1.0), size)
        poses.append(predict_keypoints(model, state, keypoints[p].astype(np.float32), crops,
                                       device=device))
    several = len(keep) > 1
    return Inference(np.stack(poses) if several else poses[0], target, fps, name, str(source),
                     state["path"], [ids[p] for p in keep] if several else None,
                     root_px if several else root_px[0])


def _file_people(source: Path, camera: str | None):
    """(keypoints (P, T, J, 3), joint set, ids, fps, camera name, None) of one camera of a
    keypoints2d.npz."""
    from epicap.session import Keypoints2D

    kp2d = Keypoints2D.from_npz(source)
    name = camera or kp2d.cameras[0]
    kp = kp2d.keypoints[kp2d.camera_index(name)]
    if kp2d.people is None:
        return kp[None], kp2d.joint_set, ["p0"], kp2d.fps, name, None
    return kp.swapaxes(0, 1), kp2d.joint_set, list(kp2d.people), kp2d.fps, name, None


def _video_people(source: Path, camera: str | None, model, choice, picked: bool):
    """(keypoints (P, T, 33, 3), joint set, ids, fps, camera name, video frames (T,)) of everyone
    the detector follows in a video; the main subject alone for `--people 1` (unless a person
    was `picked` by id)."""
    from epicap.keypoints.everyone import detector_slots, redetect_passes
    from epicap.keypoints.mediapipe_detector import DetectorOptions, detect_video
    from epicap.keypoints.models import pose_model_path
    from epicap.keypoints.tracking import track_people
    from epicap.people.appearance import join_returning, split_changed_clothes

    alone = choice.main_subject_only and not picked
    options = DetectorOptions(num_poses=detector_slots(choice),
                              redetect_passes=redetect_passes(choice))
    det = detect_video(source, model or pose_model_path(), options,
                       progress_desc=f"detect {source.name}")
    if alone:
        keypoints = det.keypoints[None]
    else:
        slots = det.detections
        found = [s[s[..., 2].max(-1) > 0] for s in slots]
        keypoints = track_people(found)
        if len(keypoints) == 0:
            keypoints = det.keypoints[None]
        else:  # someone else who continued a track, and who came back: their clothes
            keypoints, hist = split_changed_clothes(source, keypoints, "mediapipe33", det.frames)
            if len(keypoints) > 1:
                keypoints, _ = join_returning(keypoints, hist, "mediapipe33")
    return (keypoints, "mediapipe33", [f"p{p}" for p in range(len(keypoints))], det.fps,
            camera or source.stem, det.frames)


def _chosen(keypoints: np.ndarray, ids: list[str], person: str | None, choice, source,
            from_video: bool) -> list[int]:
    """The person slots to infer: `person`'s, else those `choice` keeps (module doc)."""
    if person is not None:
        if person not in ids:
            raise InputError(f"--person {person}: {source} has {', '.join(ids)}")
        return [ids.index(person)]
    seen = (np.isfinite(keypoints[..., :2]).all(-1) & (keypoints[..., 2] > 0)).any(-1).sum(-1)
    keep = [0] + [p for p in range(1, len(ids)) if seen[p] > 0]
    if from_video and choice.count is None and choice.min_cameras > 1:
        keep = [0] + [p for p in keep[1:] if seen[p] >= _MIN_SHARE * keypoints.shape[1]]
    return keep[:choice.count] if choice.count else keep
