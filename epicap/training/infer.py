"""3D poses from one camera with a trained student: from 2D keypoints, or from a video.

The output is root-relative: (T, J, 3) metres in the camera's frame (OpenCV axes) with the root
joint at the origin, NaN in frames where the person is not seen well enough (fewer than half of
the joints in 2D). Metric size comes from the training data's typical pose scale (`scale_m`).
"""
from __future__ import annotations

import os
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


@dataclass
class Inference:
    """Poses of one camera. poses: (T, J, 3) float32 metres, camera frame, root at the origin."""

    poses: np.ndarray
    joint_set: str
    fps: float
    camera: str
    source: str
    checkpoint: str = ""  # the student's file (a RUN folder's best.pt by default)

    def save(self, path: str | os.PathLike) -> None:
        """Write an .npz: poses, joints, joint_set, fps, camera, frame="camera", root_relative,
        source (the video or keypoints file read), checkpoint (the student's file)."""
        from epicap.session.io import write_npz

        write_npz(path, {"poses": self.poses.astype(np.float32),
                         "joints": np.array(get_joint_set(self.joint_set).joints),
                         "joint_set": np.array(self.joint_set), "fps": np.array(float(self.fps)),
                         "camera": np.array(self.camera), "frame": np.array("camera"),
                         "root_relative": np.array(True), "source": np.array(self.source),
                         "checkpoint": np.array(self.checkpoint)})


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
          checkpoint: str = "best", person: str | None = None) -> Inference:
    """Poses from RUN's student for one camera: `source` is a keypoints2d.npz or a video.

    camera: which camera of a keypoints2d.npz (default: its only or first camera).
    person: of a keypoints2d.npz of several people, whose keypoints (an id of its `people`, e.g.
        "p1"); default the main subject, p0. A video is read for its main subject.
    detector_model: a MediaPipe pose `.task` for videos (default: the one epicap installs).
    checkpoint: for a RUN folder, "best" (best.pt, the lowest validation error) or "last".
    """
    model, state = load_student(run, device, checkpoint)
    source = Path(source)
    if not source.is_file():
        raise InputError(f"{source}: no such file")
    target = state["joint_set"]
    crops = None
    if source.suffix == ".npz":
        from epicap.session import Keypoints2D

        kp2d = Keypoints2D.from_npz(source)
        kp2d = kp2d.person(_person_index(kp2d, person, source))
        name = camera or kp2d.cameras[0]
        kp = kp2d.keypoints[kp2d.camera_index(name)]
        keypoints = convert_joints(kp, kp2d.joint_set, target)
        fps = kp2d.fps
        if state["model_config"]["student"] == "integral":
            raise InputError(f"{run}: the integral student reads images; give it a video, "
                             "not keypoints")
    else:
        if person is not None:
            raise InputError(f"--person {person}: a video is read for its main subject; give "
                             "a keypoints2d.npz of several people to choose one")
        from epicap.keypoints.mediapipe_detector import detect_video
        from epicap.keypoints.models import pose_model_path

        task = detector_model or pose_model_path()
        det = detect_video(source, task, progress_desc=f"detect {source.name}")
        keypoints = convert_joints(det.keypoints, "mediapipe33", target)
        fps, name = det.fps, camera or source.stem
        if state["model_config"]["student"] == "integral":
            size = int(state["config"].get("input_size", 256))
            boxes = crop_boxes(keypoints, get_joint_set(target).root_index)
            crops, _ = read_crops(source, det.frames, np.nan_to_num(boxes, nan=1.0), size)
    poses = predict_keypoints(model, state, keypoints.astype(np.float32), crops, device=device)
    return Inference(poses, target, fps, name, str(source), state["path"])


def _person_index(keypoints, person: str | None, source) -> int:
    """The slot of `person` (an id of the file's `people`) in `keypoints`; 0 when None."""
    if person is None:
        return 0
    ids = keypoints.people or ["p0"]
    if person not in ids:
        raise InputError(f"--person {person}: {source} has {', '.join(ids)}")
    return ids.index(person)
