"""Pictures and videos of a session's 3D scene with no display, through Open3D's
`rendering.OffscreenRenderer` (Filament; a software Vulkan driver such as llvmpipe suffices).

    render_session_png("SESSION", "scene.png", view="front", size=(640, 480))
    render_session_video("SESSION", "turn.mp4", mode="turntable")

Post-processing (tone mapping) is switched off and every material is unlit, so a pixel holds the
exact colour of what it shows: the tests read the skeleton's colours at projected joints.
"""
from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Iterator

import numpy as np

from epicap.errors import InputError
from epicap.session import Cameras, Poses3D
from epicap.viz.media import label_size, put_label, write_mp4, write_png
from epicap.viz.people import draw_person_ids, make_skeleton
from epicap.viz.scene import FRUSTUM_RGB, Geometry, static_geometries
from epicap.viz.viewpoint import ViewCamera, picture_size, view_camera

__all__ = ["OffscreenScene", "render_session_png", "render_session_video", "session_scene",
           "label_places"]



def session_scene(session, verb: str = "view") -> tuple[Cameras, Poses3D]:
    """(cameras, poses) from a session folder (both files required) or a (Cameras, Poses3D) pair."""
    if isinstance(session, tuple):
        cameras, poses = session
        return cameras, poses
    from epicap.viz.inputs import load_session

    data = load_session(session, verb, cameras=True, poses=True)
    return data.cameras, data.poses


class OffscreenScene:
    """A session's scene in an OffscreenRenderer: static geometry once, the skeleton per frame.

    cameras, poses: what to show (cameras None: no rig, e.g. a student's poses). size: (width,
    height) of every picture in pixels.
    """

    def __init__(self, cameras: Cameras | None, poses: Poses3D, size: tuple[int, int] = (640, 480)):
        from open3d.visualization import rendering

        self.cameras, self.poses = cameras, poses
        self.size = (int(size[0]), int(size[1]))
        if min(self.size) < 16:
            raise InputError(f"picture size {self.size} too small (at least 16x16 pixels)")
        with _native_output_silenced():  # Filament prints its start-up to stdout/stderr
            self.renderer = rendering.OffscreenRenderer(*self.size)
        scene = self.renderer.scene
        scene.set_background([1.0, 1.0, 1.0, 1.0])
        scene.view.set_post_processing(False)
        for g in static_geometries(cameras, poses):
            self._add(g)
        self.skeleton = make_skeleton(poses)  # several people: a PeopleSkeleton, one per person
        self._show_skeleton()

    @property
    def frame(self) -> int:
        return self.skeleton.frame

    def set_frame(self, t: int) -> None:
        """Show frame t of the sequence."""
        self.skeleton.set_frame(t)
        self._show_skeleton()

    def render(self, view: ViewCamera, labels: bool = True) -> np.ndarray:
        """(H, W, 3) uint8 RGB picture through `view`, camera names written beside their frusta
        (a camera's own frustum is hidden when the picture is taken through it)."""
        scene = self.renderer.scene
        own = self._own_camera(view)
        rig = self.cameras is not None and self.cameras.has_extrinsics
        for c in range(len(self.cameras.names) if rig else 0):
            scene.show_geometry(f"frustum_{c}", c != own)
        self.renderer.setup_camera(view.K, view.cam_from_world, *view.size)
        rgb = np.array(self.renderer.render_to_image(), dtype=np.uint8, copy=True)[..., :3]
        if labels and rig:
            rgb = np.ascontiguousarray(rgb)
            colour = tuple(int(255 * c) for c in FRUSTUM_RGB)
            uvs = view.project(self.cameras.centers)
            for name, xy in zip(self.cameras.names, label_places(self.cameras.names, uvs)):
                put_label(rgb, name, xy, colour)
        if labels:  # several people: ids above their heads
            rgb = np.ascontiguousarray(rgb)
            draw_person_ids(rgb, view, self.skeleton)
        return rgb

    def _own_camera(self, view: ViewCamera) -> int:
        """Index of the rig camera the view looks through, or -1."""
        if self.cameras is None or not self.cameras.has_extrinsics:
            return -1
        d = np.linalg.norm(self.cameras.centers - view.eye, axis=1)
        return int(np.argmin(d)) if d.min() < 1e-6 else -1

    def _show_skeleton(self) -> None:
        for g in self.skeleton.geometries():
            if self.renderer.scene.has_geometry(g.name):
                self.renderer.scene.remove_geometry(g.name)
            if g.kind == "line" and len(g.geometry.lines) == 0:
                continue  # a frame with no bone: Filament crashes on a LineSet without lines
            self._add(g)

    def _add(self, g: Geometry) -> None:
        from open3d.visualization import rendering

        mat = rendering.MaterialRecord()
        if g.kind == "line":
            mat.shader, mat.line_width = "unlitLine", g.size
        else:
            mat.shader, mat.point_size = "defaultUnlit", g.size
        self.renderer.scene.add_geometry(g.name, g.geometry, mat)


def label_places(names: list[str], uvs: np.ndarray, scale: float = 0.45) -> np.ndarray:
    """(N, 2) lower-left corners for labels `names` beside points uvs (N, 2) pixels (NaN: not in
    view), staggered so that no two labels overlap: each takes the first free place beside its
    point, trying above-right, below-right, then further up and down, then to the left."""
    sizes = [label_size(n, scale) for n in names]
    placed: list[tuple[float, float, float, float]] = []  # x0, y0, x1, y1 boxes
    out = np.full((len(names), 2), np.nan)
    for i, (uv, (w, h)) in enumerate(zip(np.asarray(uvs, float), sizes)):
        if not np.isfinite(uv).all():
            continue
        steps = [k * (h + 3) for k in (0, 1, -1, 2, -2, 3, -3, 4, -4)]
        tries = [(6, -6 + d) for d in steps] + [(-6 - w, -6 + d) for d in steps]
        for dx, dy in tries:
            x0, y1 = uv[0] + dx, uv[1] + dy
            box = (x0, y1 - h, x0 + w, y1)
            if all(box[2] <= b[0] or b[2] <= box[0] or box[3] <= b[1] or b[3] <= box[1]
                   for b in placed):
                break
        placed.append(box)
        out[i] = (x0, y1)
    return out


def render_session_png(session, path: str | os.PathLike, view: str = "front",
                       size: tuple[int, int] = (640, 480), frame: int | None = None) -> np.ndarray:
    """Render one picture of a session's scene to a PNG and return it ((H, W, 3) uint8 RGB).

    session: a session folder (needs cameras.toml and poses3d.npz) or a (Cameras, Poses3D) pair.
    path: the .png to write (atomically). view: "front", "top", "overview", "subject" or
        "camera:NAME".
    size: (width, height) in pixels; a "camera:NAME" picture keeps that camera's aspect ratio
    (`picture_size`). frame: which frame's skeleton (default: the first frame with the most
    triangulated joints).
    """
    cameras, poses = session_scene(session)
    size = picture_size(view, cameras, size)
    scene = OffscreenScene(cameras, poses, size)
    if frame is not None:
        _check_frame(frame, poses)
        scene.set_frame(frame)
    rgb = scene.render(view_camera(view, cameras, poses, size, frame=scene.frame))
    write_png(path, rgb)
    return rgb


def render_session_video(session, path: str | os.PathLike, view: str = "front",
                         size: tuple[int, int] = (640, 480), mode: str = "sequence",
                         fps: float | None = None, step: int = 1,
                         turntable_frames: int = 72) -> int:
    """Render the sequence (or a turntable of one frame) to an MP4; returns the frame count.

    mode: "sequence" plays every `step`-th frame from `view` at the poses' fps / step (or `fps`);
    "turntable" turns the "front" view once around the scene in `turntable_frames` pictures
    (at 24 fps unless `fps`), showing the frame with the most triangulated joints.
    """
    cameras, poses = session_scene(session)
    if mode not in ("sequence", "turntable"):
        raise InputError(f"unknown video mode {mode!r}; valid: sequence, turntable")
    if step < 1:
        raise InputError(f"step must be at least 1, got {step}")
    size = picture_size(view, cameras, size) if mode == "sequence" else size
    scene = OffscreenScene(cameras, poses, size)
    if mode == "turntable":
        views = (view_camera("front", cameras, poses, size,
                             azimuth_deg=360.0 * i / turntable_frames)
                 for i in range(turntable_frames))
        frames = (scene.render(v) for v in views)
        return write_mp4(path, frames, fps or 24.0)
    fixed = view_camera(view, cameras, poses, size)
    return write_mp4(path, _sequence(scene, fixed, range(0, scene.skeleton.num_frames, step)),
                     fps or poses.fps / step)


def _sequence(scene: OffscreenScene, view: ViewCamera, frames) -> Iterator[np.ndarray]:
    from epicap.console import progress

    for t in progress(frames, desc="render"):
        scene.set_frame(t)
        yield scene.render(view)


@contextlib.contextmanager
def _native_output_silenced():
    """Open3D at error verbosity, and its native (Filament) output sent to /dev/null."""
    import open3d as o3d

    from epicap.console import native_output_silenced

    o3d.utility.set_verbosity_level(o3d.utility.VerbosityLevel.Error)
    with native_output_silenced():
        yield


def _check_frame(frame: int, poses: Poses3D) -> None:
    T = poses.poses.shape[-3]  # (T, J, 3) or, several people, (P, T, J, 3)
    if not 0 <= frame < T:
        raise InputError(f"frame {frame} out of range: the sequence has {T} frames "
                         f"(0..{T - 1})")


def output_kind(path: str | os.PathLike) -> str:
    """"png" or "mp4" from a file name; InputError for another extension."""
    ext = Path(path).suffix.lower()
    if ext not in (".png", ".mp4"):
        raise InputError(f"{path}: --offscreen writes .png or .mp4 files, "
                         f"not {ext or 'no extension'}")
    return ext[1:]
