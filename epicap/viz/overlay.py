"""2D overlays: each camera's picture with its detected keypoints and the reprojected 3D joints,
drawn so that disagreement shows.

- detected keypoints: filled dots and thick bones in the side colours (left blue, right orange);
- reprojected 3D joints: white rings and thin white bones;
- the error of each joint: a magenta segment from the detection to the reprojection.

The picture is the session's video when `session.toml` names one, otherwise a grey canvas of the
camera's image size; a row of the timeline with no frame of that camera's video (the padding
`sync` adds at the ends) is a grey canvas that says "no video frame". Contact sheets pick their
columns among the frames where some camera saw the subject and every camera's video has a frame.
Outputs: one MP4 per camera and a
contact-sheet PNG (cameras in rows, a few frames in columns).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from epicap.console import progress, warn
from epicap.errors import InputError
from epicap.session import Cameras, Keypoints2D, Poses3D
from epicap.viz.media import put_label, write_mp4, write_png
from epicap.viz.scene import bone_colors, side_colors

__all__ = ["OverlaySource", "reprojection_residuals", "draw_overlay", "overlay_frames",
           "contact_sheet", "write_overlays", "ERROR_RGB", "CANVAS_GREY"]

ERROR_RGB = (255, 0, 255)
REPROJ_RGB = (255, 255, 255)
CANVAS_GREY = 70


def reprojection_residuals(cameras: Cameras, poses: Poses3D, keypoints: Keypoints2D) -> np.ndarray:
    """(C, T, J) pixel distance between each detection and its reprojected 3D joint ((C, T, P, J)
    for several people, each person against their own 3D).

    Cameras follow `keypoints.cameras`' order; NaN where either is missing. The frames are the
    first min(T_2d, T_3d) of both sequences. Lens distortion is applied (`Cameras.project`).
    """
    reproj = reproject(cameras, poses, keypoints)
    T = reproj.shape[1]
    return np.linalg.norm(keypoints.points[:, :T].astype(np.float64) - reproj, axis=-1)


def reproject(cameras: Cameras, poses: Poses3D, keypoints: Keypoints2D) -> np.ndarray:
    """(C, T, J, 2) pixels of the 3D joints in each camera of `keypoints`, in its order
    ((C, T, P, J, 2) for several people); NaN for a camera the calibration does not hold (one
    `calibrate` excluded)."""
    from epicap.viz.people import check_same_people

    if poses.joint_set != keypoints.joint_set:
        raise InputError(f"poses3d uses {poses.joint_set}, keypoints2d {keypoints.joint_set}: "
                         "cannot compare them joint by joint")
    check_same_people(keypoints, poses)
    held = [c for c, n in enumerate(keypoints.cameras) if n in cameras.names]
    if not held:
        raise InputError(f"none of the keypoints' cameras ({', '.join(keypoints.cameras)}) is in "
                         f"the calibration ({', '.join(cameras.names)})")
    cams = cameras.select([keypoints.cameras[c] for c in held])
    T = min(keypoints.num_frames, poses.poses.shape[-3])
    X = poses.poses[..., :T, :, :].astype(np.float64)  # (T, J, 3) or (P, T, J, 3)
    uv = np.full((len(keypoints.cameras), *X.shape[:-1], 2), np.nan)
    uv[held] = cams.project(X.reshape(-1, 3)).reshape(len(cams), *X.shape[:-1], 2)
    return uv if poses.people is None else np.moveaxis(uv, 1, 2)  # people after frames


@dataclass
class OverlaySource:
    """What overlays draw: 2D keypoints, and optionally the 3D poses with the cameras and the
    session folder (for videos)."""

    keypoints: Keypoints2D
    cameras: Cameras | None = None
    poses: Poses3D | None = None
    root: Path | None = None

    @classmethod
    def from_session(cls, session_dir: str | os.PathLike, verb: str = "view") -> "OverlaySource":
        """Load keypoints2d.npz (required) and cameras.toml + poses3d.npz when both exist."""
        from epicap.session import CAMERAS_FILE, POSES_FILE
        from epicap.viz.inputs import load_session

        data = load_session(session_dir, verb, keypoints=True, optional=(CAMERAS_FILE, POSES_FILE))
        cams = data.cameras if data.cameras is not None and data.cameras.has_extrinsics else None
        poses = data.poses if cams is not None else None
        if poses is not None and poses.people != data.keypoints.people:
            warn("overlay: keypoints2d.npz and poses3d.npz hold different people (triangulate "
                 "again); drawing the detections only")
            poses = None
        return cls(data.keypoints, cams, poses, data.root)

    def reprojected(self) -> np.ndarray | None:
        """(C, T, J, 2) reprojections, or None without 3D poses."""
        if self.poses is None or self.cameras is None:
            return None
        if not hasattr(self, "_reproj"):
            self._reproj = reproject(self.cameras, self.poses, self.keypoints)
        return self._reproj

    def video_frames(self, camera: str, frames) -> np.ndarray:
        """(len(frames),) the camera's video frame shown at each keypoint frame (-1: none).

        After `epicap sync` the keypoints lie on the common timeline: row t is common frame
        `first_frame + t`, and the camera's frame i was taken at common frame i + offset
        (`sync.toml`), so row t shows video frame round(first_frame + t - offset). Without a
        sync.toml for these very keypoints (checked by hash), row t is video frame t.
        """
        t = np.asarray(list(frames), dtype=np.float64)
        sync = self._sync()
        if sync is not None and camera in sync.get("cameras", {}):
            t = t + float(sync.get("first_frame", 0)) - float(
                sync["cameras"][camera].get("offset_frames", 0.0))
        return np.where(t > -0.5, np.rint(t), -1).astype(np.int64)

    def _sync(self) -> dict | None:
        """sync.toml when it describes the session's keypoints2d.npz, else None."""
        if not hasattr(self, "_sync_cache"):
            self._sync_cache = None
            if self.root is not None:
                from epicap.assets import sha256_of
                from epicap.capture.sync import SYNC_FILE, read_sync
                from epicap.session import KEYPOINTS_FILE

                sync = read_sync(self.root / SYNC_FILE)
                kp_file = self.root / KEYPOINTS_FILE
                if sync.get("synced_sha256") and kp_file.is_file() and \
                        sha256_of(kp_file) == sync["synced_sha256"]:
                    self._sync_cache = sync
        return self._sync_cache

    def video(self, camera: str) -> Path | None:
        """The camera's video when the session's manifest names one that exists."""
        if self.root is None or not (self.root / "session.toml").is_file():
            return None
        try:
            from epicap.session.manifest import SessionManifest

            path = SessionManifest.load(self.root).video_path(self.root, camera)
        except (ImportError, InputError) as e:
            warn(f"overlay: no video for {camera} ({e}); drawing on a blank canvas")
            return None
        return path if path is not None and path.is_file() else None


def draw_overlay(image: np.ndarray, detected: np.ndarray | None, reprojected: np.ndarray | None,
                 skeleton, joint_rgb: np.ndarray | None = None,
                 bone_rgb: np.ndarray | None = None) -> np.ndarray:
    """Draw one frame's detections and reprojections on a copy of `image`.

    image: (H, W, 3) uint8 RGB. detected: (J, 2 or 3) pixels (NaN where missing) or None.
    reprojected: (J, 2) pixels of the 3D joints or None. skeleton: the JointSet.
    joint_rgb (J, 3), bone_rgb (B, 3): RGB in [0, 1] of the detections (default: the side
    colours; `epicap.viz.people` gives each person their own).
    Returns the new (H, W, 3) uint8 RGB image.
    """
    import cv2

    out = np.ascontiguousarray(image, dtype=np.uint8).copy()
    scale = max(1.0, max(out.shape[:2]) / 640)
    r, thick = int(round(3 * scale)), max(1, int(round(2 * scale)))
    bones = skeleton.bone_index
    joint_rgb = side_colors(skeleton) if joint_rgb is None else np.asarray(joint_rgb)
    bone_rgb = bone_colors(skeleton) if bone_rgb is None else np.asarray(bone_rgb)
    joint_rgb, bone_rgb = (255 * joint_rgb).astype(int), (255 * bone_rgb).astype(int)
    det = None if detected is None else np.asarray(detected, np.float64)[:, :2]
    rep = None if reprojected is None else np.asarray(reprojected, np.float64)

    def pt(p):
        return int(round(p[0])), int(round(p[1]))

    def ok(p):
        return np.isfinite(p).all() and abs(p).max() < 1e6

    if det is not None and rep is not None:
        for a, b in zip(det, rep):
            if ok(a) and ok(b):
                cv2.line(out, pt(a), pt(b), ERROR_RGB, thick, cv2.LINE_AA)
    if det is not None:
        for (i, j), c in zip(bones, bone_rgb):
            if ok(det[i]) and ok(det[j]):
                cv2.line(out, pt(det[i]), pt(det[j]), tuple(int(v) for v in c), thick + 1,
                         cv2.LINE_AA)
        for p, c in zip(det, joint_rgb):
            if ok(p):
                cv2.circle(out, pt(p), r, tuple(int(v) for v in c), -1, cv2.LINE_AA)
    if rep is not None:
        for i, j in bones:
            if ok(rep[i]) and ok(rep[j]):
                cv2.line(out, pt(rep[i]), pt(rep[j]), REPROJ_RGB, 1, cv2.LINE_AA)
        for p in rep:
            if ok(p):
                cv2.circle(out, pt(p), r + 2, REPROJ_RGB, max(1, thick // 2), cv2.LINE_AA)
    return out


def overlay_frames(source: OverlaySource, camera: str,
                   frames: range | list[int] | None = None) -> Iterator[np.ndarray]:
    """The overlay pictures of one camera, frame by frame ((H, W, 3) uint8 RGB each).

    frames: indices on the keypoints' timeline (default: all). The video, if any, is read in step,
    shifted by the camera's sync offset (`OverlaySource.video_frames`).
    """
    import cv2

    from epicap.session.io import native_path
    from epicap.viz.people import draw_people_overlay

    kp = source.keypoints
    c = kp.camera_index(camera)
    w, h = (int(v) for v in kp.image_size[c])
    reproj = source.reprojected()
    frames = range(kp.num_frames) if frames is None else frames
    video = source.video(camera)
    cap = cv2.VideoCapture(native_path(video, "video")) if video is not None else None
    shown = source.video_frames(camera, frames) if cap is not None else None
    next_index = 0
    try:
        for k, t in enumerate(frames):
            image = None
            if cap is not None and shown[k] >= 0:
                if shown[k] != next_index:
                    cap.set(cv2.CAP_PROP_POS_FRAMES, int(shown[k]))
                ok, bgr = cap.read()
                next_index = int(shown[k]) + 1
                if ok and bgr.shape[:2] == (h, w):
                    image = bgr[..., ::-1]
            no_frame = image is None and cap is not None
            if image is None:
                image = np.full((h, w, 3), CANVAS_GREY, np.uint8)
            rep = reproj[c, t] if reproj is not None and t < reproj.shape[1] else None
            img = draw_people_overlay(image, kp.points[c, t], rep, kp.skeleton, kp.people)
            err = np.nanmedian(np.linalg.norm(kp.points[c, t] - rep, axis=-1)) \
                if rep is not None and np.isfinite(kp.points[c, t] - rep).any() else np.nan
            text = f"{camera}  frame {t}" + (f"  median error {err:.1f} px" if np.isfinite(err)
                                              else "")
            size = max(1.0, h / 640)
            put_label(img, text, (8, 22 * size), (0, 0, 0), 0.55 * size)
            if no_frame:
                put_label(img, "no video frame", (w * 0.1, h / 2), (0, 0, 0), 1.0 * size)
            yield img
    finally:
        if cap is not None:
            cap.release()


def contact_sheet(source: OverlaySource, columns: int = 4, tile_width: int = 320) -> np.ndarray:
    """(H, W, 3) uint8 RGB: one row per camera, `columns` frames spread over the sequence."""
    import cv2

    kp = source.keypoints
    seen = np.nonzero((np.nan_to_num(kp.keypoints[..., 2]) > 0).any(axis=(0, 2)))[0]
    seen = seen if len(seen) else np.arange(kp.num_frames)  # nothing seen: every row
    inside = _with_every_video(source, seen)
    seen = seen[inside] if inside.any() else seen  # not the padding sync adds at the ends
    pick = np.linspace(0, len(seen) - 1, min(columns, len(seen))).round().astype(int)
    frames = sorted(set(seen[pick].tolist()))
    rows = []
    for name in source.keypoints.cameras:
        tiles = []
        for img in overlay_frames(source, name, frames):
            th = int(round(img.shape[0] * tile_width / img.shape[1]))
            tiles.append(cv2.resize(img, (tile_width, th), interpolation=cv2.INTER_AREA))
        height = max(t.shape[0] for t in tiles)
        tiles = [np.pad(t, ((0, height - t.shape[0]), (0, 0), (0, 0)), constant_values=255)
                 for t in tiles]
        tiles += [np.full_like(tiles[0], 255)] * (len(frames) - len(tiles))
        rows.append(np.concatenate([np.pad(t, ((2, 2), (2, 2), (0, 0)), constant_values=255)
                                    for t in tiles], axis=1))
    return np.concatenate(rows, axis=0)


def _with_every_video(source: OverlaySource, rows: np.ndarray) -> np.ndarray:
    """(len(rows),) bool: the keypoint rows that every camera with a video has a frame for."""
    import cv2

    from epicap.session.io import native_path

    ok = np.ones(len(rows), dtype=bool)
    for name in source.keypoints.cameras:
        video = source.video(name)
        if video is None:
            continue
        cap = cv2.VideoCapture(native_path(video, "video"))
        length = int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) if cap.isOpened() else 0
        cap.release()
        shown = source.video_frames(name, rows.tolist())
        ok &= (shown >= 0) & ((shown < length) if length > 0 else True)
    return ok


def write_overlays(source: OverlaySource, out_dir: str | os.PathLike, step: int = 1,
                   cameras: list[str] | None = None, force: bool = False) -> list[Path]:
    """Write `overlay_<camera>.mp4` for each camera and `overlay_contact_sheet.png` into out_dir.

    step: keep every step-th frame. cameras: names to draw (default: all). force: replace files
    of those names already in out_dir (without it: InputError naming the first, nothing
    written). Returns the paths.
    """
    from epicap.session.io import refuse_overwrite

    out_dir = Path(out_dir)
    names = cameras or source.keypoints.cameras
    frames = range(0, source.keypoints.num_frames, max(1, int(step)))
    targets = [out_dir / f"overlay_{name}.mp4" for name in names]
    for path in [*targets, out_dir / "overlay_contact_sheet.png"]:
        refuse_overwrite(path, force, "overlay")
    written = []
    for name, path in zip(progress(names, desc="overlays"), targets):
        write_mp4(path, overlay_frames(source, name, frames), source.keypoints.fps / max(1, step))
        written.append(path)
    sheet = out_dir / "overlay_contact_sheet.png"
    write_png(sheet, contact_sheet(source))
    written.append(sheet)
    return written
