"""The interactive 3D viewer: an Open3D window with the skeleton sequence, camera frusta with their
names, the floor grid and the world axes.

Controls: Play/Pause button or Space; Left/Right arrows step one frame; Home/End jump to the ends;
the slider picks any frame; the mouse turns (left drag), pans (Ctrl/middle drag) and zooms (wheel).

The playing logic (`Player`) holds no window, so it is tested without a display; `show_session`
opens the window (`open3d.visualization.gui`) and needs one.
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass

import numpy as np

from epicap.errors import InputError
from epicap.session import Cameras, Poses3D

__all__ = ["Player", "has_display", "require_display", "show_session"]


@dataclass
class Player:
    """Which frame is shown and whether it plays.

    num_frames: T. fps: playback rate (frames per second of the sequence). frame: current index.
    """

    num_frames: int
    fps: float
    frame: int = 0
    playing: bool = False
    _clock: float = 0.0

    def toggle(self) -> None:
        """Play or pause (playing from the last frame starts over)."""
        self.playing = not self.playing
        if self.playing and self.frame >= self.num_frames - 1:
            self.frame = 0
        self._clock = 0.0

    def step(self, delta: int) -> int:
        """Move `delta` frames (clamped to the sequence) and pause; returns the new frame."""
        self.playing = False
        return self.seek(self.frame + delta)

    def seek(self, frame: int) -> int:
        """Show `frame` (clamped to 0..T-1); returns it."""
        self.frame = int(np.clip(frame, 0, self.num_frames - 1))
        return self.frame

    def tick(self, dt_s: float) -> bool:
        """Advance the clock by dt_s seconds while playing; True when the frame changed.
        Playback stops at the last frame."""
        if not self.playing:
            return False
        self._clock += dt_s
        advance = int(self._clock * self.fps)
        if advance == 0:
            return False
        self._clock -= advance / self.fps
        before = self.frame
        self.seek(self.frame + advance)
        if self.frame == self.num_frames - 1:
            self.playing = False
        return self.frame != before


def has_display() -> bool:
    """True where a window can open: a DISPLAY or WAYLAND_DISPLAY on Linux, always elsewhere."""
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


def require_display() -> None:
    """InputError saying there is no display and how to render to a file instead."""
    if not has_display():
        raise InputError("no display available (DISPLAY is not set): render to a file instead "
                         "with --offscreen FILE.png or --offscreen FILE.mp4")


def show_session(cameras: Cameras, poses: Poses3D, title: str = "epicap view") -> None:
    """Open the viewer window and return when it is closed.

    cameras: the rig (frusta and names). poses: the sequence to play.
    """
    require_display()
    import open3d.visualization.gui as gui
    from open3d.visualization import rendering

    from epicap.viz.scene import Skeleton, scene_bounds, static_geometries

    app = gui.Application.instance
    app.initialize()
    window = app.create_window(title, 1280, 800)
    widget = gui.SceneWidget()
    widget.scene = rendering.Open3DScene(window.renderer)
    widget.scene.set_background([1.0, 1.0, 1.0, 1.0])
    skeleton = Skeleton(poses)
    player = Player(skeleton.num_frames, poses.fps, skeleton.frame)

    def add(g) -> None:
        mat = rendering.MaterialRecord()
        if g.kind == "line":
            mat.shader, mat.line_width = "unlitLine", g.size
        else:
            mat.shader, mat.point_size = "defaultUnlit", g.size
        if widget.scene.has_geometry(g.name):
            widget.scene.remove_geometry(g.name)
        if g.kind == "line" and len(g.geometry.lines) == 0:
            return  # a frame with no bone: Filament crashes on a LineSet without lines
        widget.scene.add_geometry(g.name, g.geometry, mat)

    for g in static_geometries(cameras, poses):
        add(g)
    for name, centre in zip(cameras.names, cameras.centers):
        widget.add_3d_label(centre.astype(np.float32), name)
    centre, radius = scene_bounds(cameras, poses)
    eye = centre + radius * np.array([0.0, -2.2, 0.8])
    widget.setup_camera(40.0, widget.scene.bounding_box, centre.astype(np.float32))
    widget.look_at(centre.astype(np.float32), eye.astype(np.float32), np.float32([0, 0, 1]))

    em = window.theme.font_size
    bar = gui.Horiz(0.5 * em, gui.Margins(0.5 * em, 0.25 * em, 0.5 * em, 0.25 * em))
    play = gui.Button("Play")
    slider = gui.Slider(gui.Slider.INT)
    slider.set_limits(0, max(player.num_frames - 1, 0))
    label = gui.Label("")
    bar.add_child(play)
    bar.add_child(slider)
    bar.add_child(label)

    def show(frame: int) -> None:
        skeleton.set_frame(frame)  # the LineSet and PointCloud are updated in place
        for g in skeleton.geometries():
            add(g)
        slider.int_value = frame
        label.text = f"frame {frame + 1}/{player.num_frames}  t = {frame / poses.fps:6.2f} s"
        play.text = "Pause" if player.playing else "Play"
        window.post_redraw()

    def on_play() -> None:
        player.toggle()
        show(player.frame)

    def on_key(event) -> object:
        if event.type != gui.KeyEvent.Type.DOWN:
            return gui.Widget.EventCallbackResult.IGNORED
        actions = {gui.KeyName.SPACE: lambda: player.toggle(),
                   gui.KeyName.RIGHT: lambda: player.step(+1),
                   gui.KeyName.LEFT: lambda: player.step(-1),
                   gui.KeyName.HOME: lambda: player.step(-player.num_frames),
                   gui.KeyName.END: lambda: player.step(player.num_frames)}
        if event.key not in actions:
            return gui.Widget.EventCallbackResult.IGNORED
        actions[event.key]()
        show(player.frame)
        return gui.Widget.EventCallbackResult.HANDLED

    clock = {"last": None}

    def on_tick() -> bool:
        import time

        now = time.monotonic()
        dt = 0.0 if clock["last"] is None else now - clock["last"]
        clock["last"] = now
        if player.tick(dt) or (not player.playing and play.text == "Pause"):
            show(player.frame)
            return True
        return False

    def on_layout(ctx) -> None:
        r = window.content_rect
        h = bar.calc_preferred_size(ctx, gui.Widget.Constraints()).height
        widget.frame = gui.Rect(r.x, r.y, r.width, r.height - h)
        bar.frame = gui.Rect(r.x, r.get_bottom() - h, r.width, h)

    play.set_on_clicked(on_play)
    slider.set_on_value_changed(lambda v: show(player.step(int(v) - player.frame)))
    widget.set_on_key(on_key)
    window.set_on_key(on_key)
    window.set_on_tick_event(on_tick)
    window.set_on_layout(on_layout)
    window.add_child(widget)
    window.add_child(bar)
    show(player.frame)
    app.run()
