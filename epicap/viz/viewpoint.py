"""Where a picture of the scene is taken from: a pinhole camera in the epicap convention.

A `ViewCamera` is an OpenCV pinhole (K, cam_from_world) of a given size in pixels, so a picture's
pixel of any world point is known exactly (`ViewCamera.project`): that is how the tests find the
skeleton and the frusta in a rendered image, and how camera names are written next to their frusta.

Views (world Z up):
- "front": from -Y looking along +Y, 15 degrees above the horizon (Blender's front view).
- "top": from +Z straight down, image up = +Y.
- "overview": from above and aside (35 degrees up, between the -X and -Y axes): cameras and floor.
- "subject": "overview"'s direction, framing the skeleton of the shown frame only (a close-up).
- "camera NAME" (`view="camera:NAME"` in Python): through that camera's own K and pose, at the
  camera's own aspect ratio (`picture_size`: a portrait camera gives a portrait picture) and its
  own rotation (no roll added, so its horizon is where the camera saw it).
- "turntable": "front" rotated about the vertical axis through the scene centre (videos).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from epicap.errors import InputError
from epicap.session import Cameras, Poses3D
from epicap.viz.scene import scene_bounds

__all__ = ["ViewCamera", "look_at", "view_camera", "parse_view", "picture_size", "VIEWS"]

VIEWS = ("front", "top", "overview", "subject", "camera NAME")
_FOV_DEG = 40.0
_ELEVATION_DEG = 15.0
_OVERVIEW_ELEVATION_DEG = 35.0


@dataclass
class ViewCamera:
    """A picture's camera. K: (3, 3) pixels. cam_from_world: (4, 4). size: (width, height) px."""

    K: np.ndarray
    cam_from_world: np.ndarray
    size: tuple[int, int]

    def project(self, points_world: np.ndarray) -> np.ndarray:
        """(N, 2) pixels of (N, 3) world points in this picture; NaN behind the camera."""
        X = np.asarray(points_world, dtype=np.float64).reshape(-1, 3)
        x_cam = X @ self.cam_from_world[:3, :3].T + self.cam_from_world[:3, 3]
        with np.errstate(divide="ignore", invalid="ignore"):
            uv = (x_cam @ self.K.T)[:, :2] / x_cam[:, 2:3]
        uv[~(x_cam[:, 2] > 0)] = np.nan
        return uv

    @property
    def eye(self) -> np.ndarray:
        """(3,) the picture camera's centre in world metres."""
        R, t = self.cam_from_world[:3, :3], self.cam_from_world[:3, 3]
        return -R.T @ t


def look_at(eye: np.ndarray, target: np.ndarray, up: np.ndarray) -> np.ndarray:
    """(4, 4) cam_from_world of a camera at `eye` looking at `target` (world metres), with the
    world direction `up` pointing up in the image (OpenCV axes: x right, y down, z forward)."""
    eye, target, up = (np.asarray(v, dtype=np.float64) for v in (eye, target, up))
    z = target - eye
    z /= np.linalg.norm(z)
    x = np.cross(z, up)
    if np.linalg.norm(x) < 1e-9:
        raise ValueError("look_at: viewing direction parallel to up")
    x /= np.linalg.norm(x)
    y = np.cross(z, x)
    M = np.eye(4)
    M[:3, :3] = np.stack([x, y, z])
    M[:3, 3] = -M[:3, :3] @ eye
    return M


def parse_view(view: str) -> tuple[str, str | None]:
    """(kind, camera name or None) from "front", "top", "overview", "subject", "camera:NAME" or
    "camera NAME"; InputError listing the valid views otherwise."""
    v = str(view).strip()
    if v in ("front", "top", "overview", "subject"):
        return v, None
    for sep in (":", " "):
        if v.startswith("camera" + sep) and v[len("camera") + 1:].strip():
            return "camera", v[len("camera") + 1:].strip()
    raise InputError(f"unknown view {view!r}; valid: {', '.join(VIEWS)}")


def picture_size(view: str, cameras: Cameras | None, size: tuple[int, int]) -> tuple[int, int]:
    """(width, height) of the picture of `view` asked at `size`: `size` itself, except through a
    camera ("camera:NAME"), whose picture keeps the camera's aspect ratio with its longer side the
    longer side of `size` (a 1080x1920 camera asked at 1280x720 gives 720x1280)."""
    kind, name = parse_view(view)
    if kind != "camera" or cameras is None or name not in cameras.names:
        return int(size[0]), int(size[1])
    W, H = (float(v) for v in cameras.image_size[cameras.names.index(name)])
    s = max(size) / max(W, H)
    return max(16, int(round(W * s))), max(16, int(round(H * s)))


def view_camera(view: str, cameras: Cameras | None, poses: Poses3D | None,
                size: tuple[int, int] = (640, 480), azimuth_deg: float = 0.0,
                frame: int | None = None) -> ViewCamera:
    """The picture camera for `view` framing every camera and joint of the session.

    view: "front", "top", "overview", "subject" or "camera:NAME". size: (width, height) of the
    picture in pixels. azimuth_deg: rotation of the "front"/"overview" view about the vertical
    axis (a turntable's angle). frame: the frame "subject" frames (default: every frame).
    For "camera:NAME" the camera's K is scaled to `size` (lens distortion is not rendered); pass
    `picture_size(...)` as `size` to keep its aspect ratio (anything else stretches the picture).
    """
    kind, name = parse_view(view)
    w, h = int(size[0]), int(size[1])
    if kind == "camera":
        if cameras is None or not cameras.has_extrinsics:
            raise InputError("view camera NAME needs calibrated cameras (cameras.toml with poses)")
        c = cameras.select([name]) if name in cameras.names else None
        if c is None:
            raise InputError(f"view: no camera {name!r}; have {', '.join(cameras.names)}")
        W, H = c.image_size[0]
        K = np.diag([w / W, h / H, 1.0]) @ c.K[0]
        M = np.eye(4)
        M[:3, :3], M[:3, 3] = c.R[0], c.t[0]
        return ViewCamera(K, M, (w, h))
    if kind == "subject":
        centre, radius = _subject_bounds(poses, frame)
    else:
        centre, radius = scene_bounds(cameras, poses)
    f = (h / 2) / np.tan(np.radians(_FOV_DEG) / 2)
    K = np.array([[f, 0, (w - 1) / 2], [0, f, (h - 1) / 2], [0, 0, 1.0]])
    # distance at which the bounding sphere fits the narrower field of view, with a margin
    half_fov = np.arctan(min(w, h) / 2 / f)
    dist = 1.1 * radius / np.sin(half_fov)
    if kind == "top":
        return ViewCamera(K, look_at(centre + [0, 0, dist], centre, [0, 1, 0]), (w, h))
    if kind in ("overview", "subject"):
        azimuth_deg, elevation = azimuth_deg - 45.0, _OVERVIEW_ELEVATION_DEG
    else:
        elevation = _ELEVATION_DEG
    az, el = np.radians(azimuth_deg), np.radians(elevation)
    direction = np.array([np.sin(az) * np.cos(el), -np.cos(az) * np.cos(el), np.sin(el)])
    return ViewCamera(K, look_at(centre + dist * direction, centre, [0, 0, 1]), (w, h))


def _subject_bounds(poses: Poses3D | None, frame: int | None) -> tuple[np.ndarray, float]:
    """Centre and radius (metres) of the skeleton in `frame` (or all frames); at least 0.6 m."""
    if poses is None:
        raise InputError("view subject needs triangulated poses (poses3d.npz)")
    pts = poses.poses[..., frame, :, :] if frame is not None else poses.poses  # every person
    pts = pts.reshape(-1, 3)
    pts = pts[np.isfinite(pts).all(axis=-1)].astype(np.float64)
    if len(pts) == 0:
        raise InputError("view subject: no triangulated joint to frame")
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    return (lo + hi) / 2, max(float(np.linalg.norm(hi - lo) / 2), 0.6)
