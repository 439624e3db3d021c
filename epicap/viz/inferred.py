"""Look at `epicap infer`'s output: the student's 3D poses of one camera, beside its video.

infer writes root-relative poses in the camera's frame (OpenCV axes: x right, y down, z forward;
metres). To show them in the 3D scene they are turned upright into a Z-up display frame,
X = x, Y = z, Z = -y (the camera looks along +Y, as the "front" view does), and each frame is
lifted so that its lowest joint stands on the floor (z = 0). Several people (poses (P, T, J, 3))
stand side by side, `PERSON_SPACING_M` apart along X, left to right as they stood in the picture
(the median of `root_px`; id order without it): the poses are root-relative, so where each stood
in depth is unknown. Each has its colour and its id. When the poses came from a video
that is still there, each picture shows the video frame on the left and the 3D view on the right.

    render_inferred("clip_poses.npz", "clip_3d.mp4", view="front")
"""
from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from epicap.errors import InputError
from epicap.session import Poses3D
from epicap.viz.media import put_label, write_mp4, write_png

__all__ = ["InferredPoses", "load_inferred", "display_from_camera", "render_inferred"]

PERSON_SPACING_M = 1.0  # several people: each stands this far beside the one before


@dataclass
class InferredPoses:
    """infer's poses for display: poses (Z up, metres, feet on the floor), and the source video
    (None when it was keypoints or is gone)."""

    poses: Poses3D
    video: Path | None
    camera: str


def display_from_camera(poses_cam: np.ndarray) -> np.ndarray:
    """(..., T, J, 3) camera-frame poses (x right, y down, z forward) -> Z-up display frame
    (X = x, Y = z, Z = -y), each frame (of each person) lifted so its lowest joint is at Z = 0.
    NaN stays NaN."""
    P = np.asarray(poses_cam, dtype=np.float64)
    out = np.stack([P[..., 0], P[..., 2], -P[..., 1]], axis=-1)
    with warnings.catch_warnings():  # an empty frame's minimum is NaN: nothing to lift
        warnings.simplefilter("ignore", RuntimeWarning)
        low = np.nanmin(out[..., 2], axis=-1)
    return out - np.nan_to_num(low)[..., None, None] * np.array([0, 0, 1.0])


def load_inferred(path: str | os.PathLike) -> InferredPoses:
    """Read an `epicap infer` .npz; InputError naming the file for anything else."""
    from epicap.session.io import read_npz

    z = read_npz(path, {"poses": ("f",), "joint_set": ("U",), "fps": ("f", "i", "u")})
    if str(z.get("frame", np.array("camera"))) != "camera":
        raise InputError(f"{path}: not an `epicap infer` output (poses not in a camera frame)")
    poses = np.asarray(z["poses"])
    people = [str(p) for p in z["people"]] if "people" in z else None
    if poses.shape[-1:] != (3,) or poses.ndim != (3 if people is None else 4) or (
            people is not None and len(people) != len(poses)):
        raise InputError(f"{path}: poses must be (T, J, 3), or (P, T, J, 3) with P people, got "
                         f"{poses.shape}" + ("" if people is None else f" for {len(people)} people"))
    shown = display_from_camera(poses)
    if people is not None:  # side by side as in the picture, centred on the middle one
        order = np.arange(len(people))
        if "root_px" in z and np.shape(z["root_px"]) == poses.shape[:2] + (2,):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                x = np.nanmedian(np.asarray(z["root_px"], np.float64)[..., 0], axis=1)
            order = np.argsort(np.argsort(np.nan_to_num(x, nan=np.inf), kind="stable"))
        side = (order - (len(people) - 1) / 2) * PERSON_SPACING_M
        shown[..., 0] += side[:, None, None]
    shown = shown.astype(np.float32)
    ok = np.isfinite(shown).all(-1)
    p3 = Poses3D(shown, np.where(ok, 0.0, np.nan).astype(np.float32),
                 ok.astype(np.uint8), str(z["joint_set"]), float(z["fps"]), people=people)
    source = Path(str(z["source"])) if "source" in z else None
    video = source if source is not None and source.is_file() and source.suffix != ".npz" \
        else None
    return InferredPoses(p3, video, str(z.get("camera", np.array("camera"))))


def render_inferred(path: str | os.PathLike, out: str | os.PathLike, view: str = "front",
                    size: tuple[int, int] = (1280, 720), frame: int | None = None,
                    step: int = 1) -> int:
    """Render infer's poses in `path` to `out` (.png: one frame; .mp4: the sequence).

    view: "front", "top", "overview" or "subject" (there are no cameras to look through).
    size: (width, height) of the 3D view; with the source video beside it the picture is wider.
    frame: the PNG's frame (default: the one with the most joints). Returns the pictures written.
    """
    from epicap.viz.render import OffscreenScene, output_kind
    from epicap.viz.viewpoint import parse_view, view_camera

    kind = output_kind(out)
    if parse_view(view)[0] == "camera":
        raise InputError("--poses: the student's poses have no cameras to look through; use "
                         "front, top, overview or subject")
    data = load_inferred(path)
    poses = data.poses
    if not poses.valid.any():
        raise InputError(f"{path}: no frame with a pose to show")
    scene = OffscreenScene(None, poses, size)
    look = view_camera(view, None, poses, size)
    T = poses.poses.shape[-3]
    if kind == "png":
        t = scene.frame if frame is None else frame
        if not 0 <= t < T:
            raise InputError(f"--frame {t}: the poses have {T} frames")
        scene.set_frame(t)
        write_png(out, next(_pictures(scene, look, data, [t])))
        return 1
    if step < 1:
        raise InputError(f"--step must be at least 1, got {step}")
    frames = range(0, T, step)
    return write_mp4(out, _pictures(scene, look, data, frames), poses.fps / step)


def _pictures(scene, look, data: InferredPoses, frames) -> Iterator[np.ndarray]:
    """Each frame's 3D view, with the video frame on its left when there is a video."""
    import cv2

    cap = cv2.VideoCapture(str(data.video)) if data.video is not None else None
    try:
        for t in frames:
            scene.set_frame(t)
            rgb = scene.render(look)
            put_label(rgb, f"{data.camera}  frame {t}  (student, root-relative)", (8, 22))
            if cap is not None:
                cap.set(cv2.CAP_PROP_POS_FRAMES, int(t))
                ok, bgr = cap.read()
                h = rgb.shape[0]
                if ok:
                    w = int(round(bgr.shape[1] * h / bgr.shape[0]))
                    left = cv2.resize(bgr[..., ::-1], (w, h), interpolation=cv2.INTER_AREA)
                else:
                    left = np.full((h, int(h * 9 / 16), 3), 70, np.uint8)
                    put_label(left, "no video frame", (8, h / 2), (0, 0, 0), 0.8)
                rgb = np.concatenate([np.ascontiguousarray(left), rgb], axis=1)
            yield rgb
    finally:
        if cap is not None:
            cap.release()
