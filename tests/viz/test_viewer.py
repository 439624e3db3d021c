"""The interactive viewer: playback logic and display checks here (fast); the real window under a
virtual X display (Xvfb, slow): what it draws, where, and what its keys and slider do."""
import shutil
import subprocess
import sys

import numpy as np
import pytest

from epicap.cli import main
from epicap.errors import InputError
from epicap.session import CAMERAS_FILE, POSES_FILE, Cameras, Poses3D
from epicap.viz.scene import CENTRE_RGB, FRUSTUM_RGB, LEFT_RGB, RIGHT_RGB, scene_bounds
from epicap.viz.viewer import KEY_ACTIONS, Player, require_display
from tests.viz import xvfb
from tests.viz.session_factory import four_cameras, make_session, stick_figure


def test_player_plays_steps_and_stops():
    p = Player(num_frames=10, fps=10.0)
    assert not p.tick(1.0)  # paused: nothing moves
    p.toggle()
    assert p.tick(0.05) is False and p.frame == 0   # half a frame
    assert p.tick(0.05) and p.frame == 1
    assert p.tick(0.35) and p.frame == 4
    assert p.step(-10) == 0 and not p.playing
    assert p.step(+3) == 3
    p.seek(9)
    p.toggle()  # playing from the end starts over
    assert p.frame == 0 and p.playing
    p.tick(5.0)
    assert p.frame == 9 and not p.playing


def test_key_actions_drive_the_player():
    import open3d.visualization.gui as gui

    assert all(hasattr(gui.KeyName, k) for k in KEY_ACTIONS)  # names Open3D knows
    p = Player(num_frames=5, fps=30.0, frame=2)
    assert [p.apply(KEY_ACTIONS[k]) for k in ("RIGHT", "RIGHT", "RIGHT", "LEFT", "HOME", "END")] \
        == [3, 4, 4, 3, 0, 4]
    p.apply(KEY_ACTIONS["SPACE"])
    assert p.playing and p.frame == 0  # from the last frame, play starts over
    p.apply("next")
    assert not p.playing and p.frame == 1
    with pytest.raises(ValueError, match="unknown player action"):
        p.apply("close")  # the window's business, not the player's


def test_no_display_says_so_and_suggests_offscreen(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    with pytest.raises(InputError, match="--offscreen"):
        require_display()
    session = make_session(tmp_path / "s", with_keypoints=False)
    assert main(["view", str(session)]) == 2
    err = capsys.readouterr().err.strip()
    assert "no display" in err and "--offscreen" in err and len(err.splitlines()) == 1
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")  # Open3D's window needs X (XWayland)
    assert main(["view", str(session)]) == 2
    err = capsys.readouterr().err.strip()
    assert "no X display" in err and "XWayland" in err and len(err.splitlines()) == 1


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="X11 check is Linux-only")
def test_unreachable_display_says_so_instead_of_hanging(tmp_path, monkeypatch, capsys):
    # Open3D falls back to a headless mode whose event loop never returns: refuse first
    monkeypatch.setenv("DISPLAY", ":31987")  # no server there
    session = make_session(tmp_path / "s", with_keypoints=False)
    assert main(["view", str(session)]) == 2
    err = capsys.readouterr().err.strip()
    assert "cannot open the X display ':31987'" in err and "--offscreen" in err
    assert len(err.splitlines()) == 1


def test_missing_files_name_the_verb_that_makes_them(tmp_path, capsys):
    (tmp_path / "s").mkdir()
    assert main(["view", str(tmp_path / "s")]) == 2
    err = capsys.readouterr().err
    assert "cameras.toml: not found" in err and "epicap calibrate" in err
    assert main(["view", str(tmp_path / "nope")]) == 2


# ---- the real window under Xvfb ----------------------------------------------------------------

needs_xvfb = pytest.mark.skipif(xvfb.tools_missing(), reason=xvfb.MISSING_REASON)
EPICAP = [sys.executable, "-c", "import sys; from epicap.cli import main; sys.exit(main())"]
TITLE = "epicap view"
WINDOW_SIZE = (1280, 800)  # ViewerWindow's default
FOV_DEG = 40.0  # vertical, as ViewerWindow.setup_camera


def colour_mask(rgb: np.ndarray, colour, tol: int = 3) -> np.ndarray:
    """(H, W) bool: pixels within `tol` levels of an RGB colour in [0, 1]."""
    ref = np.round(255 * np.asarray(colour))
    return np.abs(rgb.astype(int) - ref).max(axis=-1) <= tol


def viewer_pixels(points: np.ndarray, cameras: Cameras, poses: Poses3D, height: int) -> np.ndarray:
    """(N, 2) window pixels of world points (N, 3) in the viewer's start view (an independent
    pinhole model of its look_at and 40-degree vertical field of view), the scene `height` px
    high."""
    centre, radius = scene_bounds(cameras, poses)
    eye = centre + radius * np.array([0.0, -2.2, 0.8])
    forward = (centre - eye) / np.linalg.norm(centre - eye)
    right = np.cross(forward, [0, 0, 1.0])
    right /= np.linalg.norm(right)
    up = np.cross(right, forward)
    f = (height / 2) / np.tan(np.radians(FOV_DEG / 2))
    d = points - eye
    z = d @ forward
    return np.c_[f * (d @ right) / z + WINDOW_SIZE[0] / 2, -f * (d @ up) / z + height / 2]


def scene_height(rgb: np.ndarray) -> int:
    """Rows of the 3D scene: the window down to its (dark grey) control bar."""
    bar = colour_mask(rgb[:, 2], [45 / 255] * 3).nonzero()[0]
    return int(bar[0])


def near(mask: np.ndarray, uv, radius: int = 4) -> bool:
    """True when `mask` holds a pixel within `radius` of pixel uv."""
    u, v = int(round(uv[0])), int(round(uv[1]))
    return bool(mask[max(v - radius, 0):v + radius + 1, max(u - radius, 0):u + radius + 1].any())


def skeleton_x(rgb: np.ndarray) -> float:
    """Mean column of the skeleton's left (blue) and right (orange) pixels; NaN when none."""
    cols = (colour_mask(rgb, LEFT_RGB) | colour_mask(rgb, RIGHT_RGB)).nonzero()[1]
    return float(cols.mean()) if len(cols) > 30 else float("nan")


def start_viewer(xd, session):
    proc = subprocess.Popen(EPICAP + ["view", str(session)], env=xd.env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        return proc, xd.find_window(TITLE, timeout_s=60)
    except Exception:
        proc.kill()
        raise


def close_viewer(xd, proc, wid) -> tuple[int, str]:
    """Press Q (when the viewer still runs); its exit status and stderr."""
    if proc.poll() is None:
        xd.key(wid, "q", check=False)
    out, err = proc.communicate(timeout=60)
    return proc.returncode, err.decode()


def synth_session(root):
    """`epicap synth` + its true cameras + `epicap triangulate`: a real pipeline session."""
    assert main(["synth", "--out", str(root), "--frames", "12", "--quiet"]) == 0
    shutil.copy(root / "truth" / CAMERAS_FILE, root / CAMERAS_FILE)
    assert main(["triangulate", str(root), "--quiet"]) == 0
    return root


@pytest.mark.slow
@needs_xvfb
def test_window_shows_skeleton_sides_and_frusta_where_they_are(tmp_path):
    session = synth_session(tmp_path / "walk")
    cameras = Cameras.from_toml(session / CAMERAS_FILE)
    poses = Poses3D.from_npz(session / POSES_FILE)
    with xvfb.VirtualDisplay() as xd:
        proc, wid = start_viewer(xd, session)
        try:
            rgb = xd.wait_for(wid, lambda a: colour_mask(a, LEFT_RGB).sum() > 30, timeout_s=60)
        finally:
            code, err = close_viewer(xd, proc, wid)
    assert code == 0 and "Error" not in err, err
    assert rgb.shape[:2] == WINDOW_SIZE[::-1]
    assert colour_mask(rgb, (1, 1, 1), 0).mean() > 0.5  # white background: no tone mapping
    h = scene_height(rgb)
    # every frustum's apex (the camera centre) is drawn purple where the view puts it
    purple = colour_mask(rgb, FRUSTUM_RGB)
    apexes = viewer_pixels(cameras.centers, cameras, poses, h)
    assert all(near(purple, uv, 4) for uv in apexes), apexes
    # each joint of the first frame is drawn in a skeleton colour where the view puts it (which
    # side shows depends on who hides whom: this walk is seen from the side)
    uv = viewer_pixels(poses.poses[0].astype(np.float64), cameras, poses, h)
    body = colour_mask(rgb, LEFT_RGB) | colour_mask(rgb, RIGHT_RGB) | colour_mask(rgb, CENTRE_RGB)
    hits = [near(body, p, 3) for p in uv]
    assert np.mean(hits) >= 0.9, hits  # a frustum or an axis may hide a joint
    assert colour_mask(rgb, RIGHT_RGB).sum() > 30


def assert_sides_coloured(rgb: np.ndarray, cameras: Cameras, poses: Poses3D, frame: int) -> None:
    """Left joints blue and right ones orange (not the other way round) where the view puts them,
    for a figure facing the viewer (nothing hides a joint of the other side)."""
    uv = viewer_pixels(poses.poses[frame].astype(np.float64), cameras, poses, scene_height(rgb))
    side_rgb = {-1: LEFT_RGB, 1: RIGHT_RGB, 0: CENTRE_RGB}
    wrong = {-1: RIGHT_RGB, 1: LEFT_RGB, 0: None}
    for name, s, p in zip(poses.skeleton.joints, poses.skeleton.side, uv):
        assert near(colour_mask(rgb, side_rgb[int(s)]), p, 2), (name, p)
        if wrong[int(s)] is not None:
            assert not near(colour_mask(rgb, wrong[int(s)]), p, 1), (name, p)


def walking_session(root, T: int = 5, step_m: float = 0.3):
    """The factory's figure, moved `step_m` along +X each frame, before the four cameras."""
    root.mkdir()
    base = stick_figure(T)
    poses = base.poses.copy()
    poses[..., 0] += step_m * np.arange(T)[:, None]
    four_cameras().to_toml(root / CAMERAS_FILE)
    Poses3D(poses, base.reprojection_error, base.views, base.joint_set, base.fps).save(
        root / POSES_FILE)
    return root


def slider_span(rgb: np.ndarray) -> tuple[int, int, int]:
    """First and last column of the frame slider and its row: the longest run of pixels unlike
    the bar's background across the middle of the bar (the Play button and the label are
    shorter)."""
    y = (scene_height(rgb) + rgb.shape[0]) // 2
    drawn = ~colour_mask(rgb[y][None], [45 / 255] * 3, 5)[0]
    edges = np.flatnonzero(np.diff(np.r_[0, drawn.astype(int), 0]))
    starts, ends = edges[::2], edges[1::2]
    k = int(np.argmax(ends - starts))
    return int(starts[k]), int(ends[k] - 1), y


@pytest.mark.slow
@needs_xvfb
def test_keys_and_slider_move_through_the_sequence(tmp_path):
    session = walking_session(tmp_path / "s")  # 5 frames, 0.3 m apart along +X (screen right)
    cameras = Cameras.from_toml(session / CAMERAS_FILE)
    poses = Poses3D.from_npz(session / POSES_FILE)

    with xvfb.VirtualDisplay() as xd:
        proc, wid = start_viewer(xd, session)
        try:
            def settle(condition):
                """The skeleton's column once a screenshot meets `condition` and the next agrees."""
                while True:
                    x = skeleton_x(xd.wait_for(wid, lambda a: condition(skeleton_x(a))))
                    if abs(skeleton_x(xd.capture(wid)) - x) < 0.5:
                        return x

            x0 = settle(np.isfinite)                     # frame 0 (the first full frame)
            assert_sides_coloured(xd.capture(wid), cameras, poses, 0)
            xd.key(wid, "End")
            x4 = settle(lambda x: x - x0 > 40)           # frame 4, to the right
            xd.key(wid, "Home")
            settle(lambda x: abs(x - x0) < 1)
            xd.key(wid, "Right")
            x1 = settle(lambda x: x - x0 > 3)
            xd.key(wid, "Right")
            x2 = settle(lambda x: x - x1 > 3)
            xd.key(wid, "Left")
            settle(lambda x: abs(x - x1) < 1)
            xd.key(wid, "space")                         # plays to the end and stops there
            settle(lambda x: abs(x - x4) < 1)
            a, b, y = slider_span(xd.capture(wid))
            assert b - a > WINDOW_SIZE[0] / 2, (a, b)    # the slider takes most of the bar
            xd.click(wid, (a + b) // 2, y)
            settle(lambda x: abs(x - x2) < 1)            # the slider's middle: frame 2 of 0..4
        finally:
            code, err = close_viewer(xd, proc, wid)
    assert code == 0 and "Error" not in err, err
    # one key press is one frame (not two: the window and the scene both hearing it)
    step = (x4 - x0) / 4
    assert x1 - x0 == pytest.approx(step, rel=0.3) and x2 - x1 == pytest.approx(step, rel=0.3)


@pytest.mark.slow
@needs_xvfb
def test_mouse_drag_orbits_the_view(tmp_path):
    """Dragging across the scene turns the view about it: the camera frusta move on screen while
    the frame shown stays the same."""
    session = walking_session(tmp_path / "s")
    with xvfb.VirtualDisplay() as xd:
        proc, wid = start_viewer(xd, session)
        try:
            def frusta_x(rgb):
                cols = colour_mask(rgb, FRUSTUM_RGB).nonzero()[1]
                return float(cols.mean()) if len(cols) > 30 else float("nan")

            before = xd.wait_for(wid, lambda a: np.isfinite(frusta_x(a))
                                 and np.isfinite(skeleton_x(a)))
            h = scene_height(before)
            xd.drag(wid, (WINDOW_SIZE[0] // 2 - 150, h // 2), (WINDOW_SIZE[0] // 2 + 150, h // 2))
            after = xd.wait_for(wid, lambda a: abs(frusta_x(a) - frusta_x(before)) > 20)
            # an orbit, not a step through time: the control bar still shows frame 0
            np.testing.assert_array_equal(after[h:], before[h:])
        finally:
            code, err = close_viewer(xd, proc, wid)
    assert code == 0 and "Error" not in err, err
