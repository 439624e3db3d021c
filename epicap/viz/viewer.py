"""The interactive 3D viewer: an Open3D window with the skeleton sequence, camera frusta with their
names, the floor grid and the world axes.

Controls: Play/Pause button or Space; Left/Right arrows step one frame; Home/End jump to the ends;
the slider picks any frame; Q or Escape closes the window; the mouse turns (left drag), pans
(Ctrl/middle drag) and zooms (wheel).

The playing logic (`Player`, `KEY_ACTIONS`) holds no window, so it is tested without a display;
`ViewerWindow` builds the window (`open3d.visualization.gui`) and needs an X display. Open3D's GUI
talks to X11 through GLFW (Wayland only through XWayland) and renders with Filament's Vulkan
backend; Xvfb plus Mesa's llvmpipe suffice (`tests/viz/test_viewer.py` runs it that way). Where X
cannot be opened Open3D falls back to a headless mode whose event loop never ends, so
`require_display` opens the display first and says what is wrong instead.
"""
from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass

import numpy as np

from epicap.errors import InputError
from epicap.session import Cameras, Poses3D

__all__ = ["KEY_ACTIONS", "Player", "ViewerWindow", "has_display", "require_display",
           "show_session"]

# Open3D key name (`gui.KeyName.<NAME>`) -> what it does (`Player.apply`, or "close").
KEY_ACTIONS = {"SPACE": "toggle", "RIGHT": "next", "LEFT": "previous", "HOME": "first",
               "END": "last", "Q": "close", "ESCAPE": "close"}

_REDRAW_AFTER_CHANGE_S = 0.5
_OFFSCREEN_HINT = "render to a file instead with --offscreen FILE.png or --offscreen FILE.mp4"


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

    def apply(self, action: str) -> int:
        """Do one of "toggle", "next", "previous", "first", "last"; returns the frame to show."""
        moves = {"next": 1, "previous": -1, "first": -self.num_frames, "last": self.num_frames}
        if action == "toggle":
            self.toggle()
        elif action in moves:
            self.step(moves[action])
        else:
            raise ValueError(f"unknown player action {action!r}: expected toggle or one of "
                             f"{sorted(moves)}")
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
    """True where a window can open: on Linux an X display (DISPLAY) that accepts a connection
    (checked with libX11's XOpenDisplay when libX11 loads); always elsewhere."""
    return _display_problem() is None


def require_display() -> None:
    """InputError in one line when no window can open (no DISPLAY, or one that does not answer),
    suggesting --offscreen."""
    problem = _display_problem()
    if problem is not None:
        raise InputError(f"{problem}: {_OFFSCREEN_HINT}")


def _display_problem() -> str | None:
    """Why no window can open here, or None."""
    if not sys.platform.startswith("linux"):
        return None
    display = os.environ.get("DISPLAY")
    if not display:
        if os.environ.get("WAYLAND_DISPLAY"):
            return "no X display (DISPLAY is not set; Open3D's window needs X11 or XWayland)"
        return "no display available (DISPLAY is not set)"
    if not _x_display_opens(display):
        return f"cannot open the X display {display!r} (DISPLAY)"
    return None


def _x_display_opens(name: str) -> bool:
    """True when libX11's XOpenDisplay(name) succeeds (closing it again); True when libX11 cannot
    be loaded (then Open3D is left to try)."""
    import ctypes

    try:
        x11 = ctypes.CDLL("libX11.so.6")
    except OSError:
        return True
    x11.XOpenDisplay.restype = ctypes.c_void_p
    x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
    x11.XCloseDisplay.argtypes = [ctypes.c_void_p]
    handle = x11.XOpenDisplay(name.encode())
    if not handle:
        return False
    x11.XCloseDisplay(handle)
    return True


class ViewerWindow:
    """The viewer's window: a 3D scene widget over a bar with Play, a frame slider and a label.

    cameras: the rig (frusta and names). poses: the sequence to play. title: window title.
    size: (width, height) of the window in pixels. Needs `gui.Application.instance.initialize()`
    first. The callbacks (`on_key`, `on_play`, `on_slider`, `on_tick`) are the ones the window
    registers, so a test can call them directly.
    """

    def __init__(self, cameras: Cameras, poses: Poses3D, title: str = "epicap view",
                 size: tuple[int, int] = (1280, 800)):
        import open3d.visualization.gui as gui
        from open3d.visualization import rendering

        from epicap.viz.people import make_skeleton
        from epicap.viz.scene import scene_bounds, static_geometries

        self._gui, self._rendering = gui, rendering
        self.poses = poses
        self.window = gui.Application.instance.create_window(title, int(size[0]), int(size[1]))
        self.widget = gui.SceneWidget()
        self.widget.scene = rendering.Open3DScene(self.window.renderer)
        self.widget.scene.set_background([1.0, 1.0, 1.0, 1.0])
        # no tone mapping: what is drawn keeps the exact colours of epicap.viz.scene
        self.widget.scene.view.set_post_processing(False)
        self.skeleton = make_skeleton(poses)  # several people: one colour each, ids above them
        self.player = Player(self.skeleton.num_frames, poses.fps, self.skeleton.frame)

        for g in static_geometries(cameras, poses):
            self._add(g)
        self.id_labels = [self.widget.add_3d_label(np.zeros(3, np.float32), pid)
                          for pid in getattr(self.skeleton, "people", [])]
        centre, radius = scene_bounds(cameras, poses)
        if cameras.has_extrinsics:  # above each camera, at staggered heights: none overlaps
            for i, (name, c) in enumerate(zip(cameras.names, cameras.centers)):
                lift = np.array([0.0, 0.0, (0.04 + 0.05 * (i % 3)) * radius])
                self.widget.add_3d_label((c + lift).astype(np.float32), name)
        eye = centre + radius * np.array([0.0, -2.2, 0.8])
        self.widget.setup_camera(40.0, self.widget.scene.bounding_box, centre.astype(np.float32))
        self.widget.look_at(centre.astype(np.float32), eye.astype(np.float32),
                            np.float32([0, 0, 1]))

        em = self.window.theme.font_size
        self.bar = gui.Horiz(0.5 * em, gui.Margins(0.5 * em, 0.25 * em, 0.5 * em, 0.25 * em))
        self.play = gui.Button("Pause")  # the wider text sizes the button
        self.slider = gui.Slider(gui.Slider.INT)
        self.slider.set_limits(0, max(self.player.num_frames - 1, 0))
        self.label = gui.Label(self._label_text(self.player.num_frames - 1, widest=True))
        for w in (self.play, self.slider, self.label):
            self.bar.add_child(w)

        self._last_tick: float | None = None
        self._redraw_until = 0.0
        self.play.set_on_clicked(self.on_play)
        self.slider.set_on_value_changed(self.on_slider)
        self.window.set_on_key(self.on_key)
        self.window.set_on_tick_event(self.on_tick)
        self.window.set_on_layout(self._on_layout)
        self.window.add_child(self.widget)
        self.window.add_child(self.bar)
        self.show(self.player.frame)

    def show(self, frame: int) -> None:
        """Show `frame`: the skeleton, the slider, the label and the Play/Pause text."""
        self.skeleton.set_frame(frame)  # the LineSet and PointCloud are updated in place
        for g in self.skeleton.geometries():
            self._add(g)
        for label, pid, anchor in zip(self.id_labels, getattr(self.skeleton, "people", []),
                                      getattr(self.skeleton, "anchors", list)()):
            there = np.isfinite(anchor).all()  # a person out of view: the label blank
            label.text = pid if there else ""
            label.position = np.nan_to_num(anchor).astype(np.float32)
        self.slider.int_value = frame
        self.label.text = self._label_text(frame)
        self.play.text = "Pause" if self.player.playing else "Play"
        self.window.post_redraw()
        # Filament may skip a frame when the renderer is behind (a software one often is): keep
        # redrawing a moment so the last change reaches the screen
        self._redraw_until = time.monotonic() + _REDRAW_AFTER_CHANGE_S

    def on_play(self) -> None:
        """The Play/Pause button."""
        self.player.toggle()
        self.show(self.player.frame)

    def on_slider(self, value: float) -> None:
        """The slider moved to `value` (a frame index): pause there."""
        self.show(self.player.step(int(value) - self.player.frame))

    def on_key(self, event) -> bool:
        """A key event (`gui.KeyEvent`: .type, .key): True when handled (see KEY_ACTIONS), False to
        pass it on to the scene widget."""
        gui = self._gui
        if event.type != gui.KeyEvent.Type.DOWN:
            return False
        action = next((a for k, a in KEY_ACTIONS.items() if event.key == getattr(gui.KeyName, k)),
                      None)
        if action is None:
            return False
        if action == "close":  # after this event is done with: GLFW still uses the window
            gui.Application.instance.post_to_main_thread(self.window, self.window.close)
            return True
        self.show(self.player.apply(action))
        return True

    def on_tick(self) -> bool:
        """Called by the event loop about every frame: advances playback; True to redraw."""
        now = time.monotonic()
        dt = 0.0 if self._last_tick is None else now - self._last_tick
        self._last_tick = now
        if self.player.tick(dt) or (not self.player.playing and self.play.text == "Pause"):
            self.show(self.player.frame)
            return True
        return now < self._redraw_until

    def _label_text(self, frame: int, widest: bool = False) -> str:
        T, fps = self.player.num_frames, self.poses.fps
        seconds = 9999.99 if widest else frame / fps
        return f"frame {frame + 1:>{len(str(T))}}/{T}  t = {seconds:7.2f} s"

    def _add(self, g) -> None:
        rendering, scene = self._rendering, self.widget.scene
        mat = rendering.MaterialRecord()
        if g.kind == "line":
            mat.shader, mat.line_width = "unlitLine", g.size
        else:
            mat.shader, mat.point_size = "defaultUnlit", g.size
        if scene.has_geometry(g.name):
            scene.remove_geometry(g.name)
        if g.kind == "line" and len(g.geometry.lines) == 0:
            return  # a frame with no bone: Filament crashes on a LineSet without lines
        scene.add_geometry(g.name, g.geometry, mat)

    def _on_layout(self, ctx) -> None:
        gui = self._gui
        r = self.window.content_rect
        h = self.bar.calc_preferred_size(ctx, gui.Widget.Constraints()).height
        self.widget.frame = gui.Rect(r.x, r.y, r.width, r.height - h)
        self.bar.frame = gui.Rect(r.x, r.get_bottom() - h, r.width, h)


def show_session(cameras: Cameras, poses: Poses3D, title: str = "epicap view") -> None:
    """Open the viewer window and return when it is closed.

    cameras: the rig (frusta and names). poses: the sequence to play. InputError when no display
    can be opened.
    """
    require_display()
    import open3d as o3d
    import open3d.visualization.gui as gui

    from epicap.console import native_output_silenced

    o3d.utility.set_verbosity_level(o3d.utility.VerbosityLevel.Error)
    app = gui.Application.instance
    with native_output_silenced(stdout=True, stderr=False):  # Filament's start-up lines
        app.initialize()
        ViewerWindow(cameras, poses, title)
    # and its swapchain line at the first draw
    with native_output_silenced(stdout=True, stderr=False):
        app.run()
