"""Rendered videos of a synthetic scene: a stick figure on a textured background, one per camera.

Enough for the video path (ingest, detect, overlays) to run on something with known truth; not a
photorealistic person. The background is a checkered floor (z = 0) seen through the camera, with
a noisy wall texture above the horizon; limbs are thick lines whose width follows their depth, the
torso a filled polygon and the head a disc, drawn far to near.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from epicap.console import progress
from epicap.errors import InputError
from epicap.geometry.camera import project_points, undistort_points

__all__ = ["render_background", "render_frame", "write_videos"]

_LEFT, _RIGHT, _CENTRE = (235, 140, 40), (40, 80, 235), (60, 200, 60)  # BGR
_LIMB_M, _HEAD_M = 0.07, 0.11  # limb thickness and head radius, metres


def render_background(K: np.ndarray, R: np.ndarray, t: np.ndarray, dist: np.ndarray,
                      image_size: tuple[int, int], seed: int = 0, tile_m: float = 0.5) -> np.ndarray:
    """A (H, W, 3) uint8 BGR image: the floor z = 0 as a checkerboard of `tile_m` tiles seen by the
    camera (K (3, 3), R (3, 3), t (3,) `cam_from_world`, dist (5,)), and a textured wall above."""
    import cv2

    w, h = (int(v) for v in image_size)
    rng = np.random.default_rng(seed)
    u, v = np.meshgrid(np.arange(w, dtype=np.float64), np.arange(h, dtype=np.float64))
    pixels = np.stack([u.ravel(), v.ravel()], axis=-1)[None]
    xy = undistort_points(pixels, K[None], dist[None] if np.any(dist) else None)[0]
    rays = np.concatenate([xy, np.ones((len(xy), 1))], axis=1) @ R  # world directions
    center = -R.T @ t
    with np.errstate(divide="ignore", invalid="ignore"):
        s = -center[2] / rays[:, 2]
    floor = s > 0
    s = np.where(floor, s, 0.0)
    X = center + s[:, None] * rays
    checker = ((np.floor(X[:, 0] / tile_m) + np.floor(X[:, 1] / tile_m)) % 2 == 0)
    dist_m = np.where(floor, s * np.linalg.norm(rays, axis=1), np.inf)
    fade = np.exp(-np.nan_to_num(dist_m, posinf=1e3) / 25.0)  # far floor fades to grey
    floor_grey = np.where(checker, 190.0, 90.0) * fade + 140.0 * (1 - fade)
    noise = cv2.resize(rng.uniform(0, 1, (max(2, h // 16), max(2, w // 16), 3)), (w, h),
                       interpolation=cv2.INTER_CUBIC)
    fine = rng.normal(0, 6, (h, w, 1))
    wall = np.array([150.0, 170.0, 185.0]) + 50 * (noise - 0.5)
    img = np.where(floor.reshape(h, w, 1), floor_grey.reshape(h, w, 1) * np.array([0.9, 1.0, 1.05])
                   + 20 * (noise - 0.5), wall) + fine
    return np.clip(img, 0, 255).astype(np.uint8)


def render_frame(background: np.ndarray, points2d: np.ndarray, depth: np.ndarray, focal_px: float,
                 bones: np.ndarray, sides: np.ndarray, torso: np.ndarray,
                 head: np.ndarray) -> np.ndarray:
    """One frame: the background (H, W, 3) with the figure drawn on a copy.

    points2d: (J, 2) pixels (NaN: not drawn). depth: (J,) metres along the camera axis.
    bones: (B, 2) joint indices. sides: (J,) -1 left, +1 right, 0 centre. torso: indices of the
    torso polygon's corners (may be empty). head: indices whose mean is the head's centre.
    """
    import cv2

    img = background.copy()
    ok = np.isfinite(points2d).all(-1) & (depth > 0)
    scale = 16  # sub-pixel drawing: coordinates in 1/16 px
    pts = np.round(np.nan_to_num(points2d) * scale).astype(np.int32)
    if len(torso) and ok[torso].all():
        cv2.fillConvexPoly(img, pts[torso], _CENTRE, cv2.LINE_AA, 4)
    order = np.argsort([-depth[list(b)].mean() for b in bones]) if len(bones) else []
    for b in order:
        i, j = bones[b]
        if not (ok[i] and ok[j]):
            continue
        side = sides[i] if sides[i] != 0 else sides[j]
        color = _LEFT if side < 0 else _RIGHT if side > 0 else _CENTRE
        width = max(2, int(round(focal_px * _LIMB_M / depth[[i, j]].mean())))
        cv2.line(img, tuple(pts[i]), tuple(pts[j]), color, width, cv2.LINE_AA, 4)
    if len(head) and ok[head].all():
        centre = np.round(points2d[head].mean(0) * scale).astype(np.int32)
        radius = int(round(scale * focal_px * _HEAD_M / depth[head].mean()))
        cv2.circle(img, tuple(centre), max(radius, 2 * scale), (120, 170, 220), -1, cv2.LINE_AA, 4)
    return img


def write_videos(scene, folder: str | os.PathLike, seed: int = 0) -> list[Path]:
    """Write one MP4 ('mp4v') per camera of `scene` (a SyntheticScene) into `folder`, named
    `<camera>.mp4`, at the scene's fps and image size. Returns the paths."""
    import cv2

    from epicap.session.io import native_path

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    cams, skel = scene.cameras, scene.keypoints.skeleton
    T = scene.keypoints.num_frames
    frames = np.arange(T)
    torso = np.array([skel.index(j) for j in ("left_shoulder", "right_shoulder", "right_hip",
                                              "left_hip") if j in skel.joints])
    torso = torso if len(torso) == 4 else np.array([], dtype=np.int64)
    head = np.array([skel.index(j) for j in ("nose", "left_ear", "right_ear", "head")
                     if j in skel.joints])
    paths = []
    for c, name in enumerate(cams.names):
        w, h = (int(v) for v in cams.image_size[c])
        seen = scene.clip.at(frames + scene.offsets_frames[c])  # (T, J, 3)
        _, depth = project_points(seen.reshape(1, -1, 3), cams.K[c:c + 1], cams.R[c:c + 1],
                                  cams.t[c:c + 1], cams.dist[c:c + 1])
        depth = depth.reshape(T, -1)
        bg = render_background(cams.K[c], cams.R[c], cams.t[c], cams.dist[c], (w, h), seed + c)
        path = folder / f"{name}.mp4"
        tmp = folder / f".{name}.tmp.mp4"
        writer = cv2.VideoWriter(native_path(tmp, "video"), cv2.VideoWriter_fourcc(*"mp4v"), float(scene.fps),
                                 (w, h))
        if not writer.isOpened():
            raise InputError(f"{path}: OpenCV cannot write MP4 video here")
        try:
            for k in progress(range(T), total=T, desc=f"render {name}", unit="frame"):
                writer.write(render_frame(bg, scene.points2d_clean[c, k], depth[k], cams.K[c, 0, 0],
                                          skel.bone_index, skel.side, torso, head))
        finally:
            writer.release()
        os.replace(tmp, path)
        paths.append(path)
    return paths
