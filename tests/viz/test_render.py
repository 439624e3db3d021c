"""Offscreen pictures: the skeleton's colours where its joints project, the frusta where the
cameras are (two small renders; the video test renders six tiny frames)."""
import numpy as np
import pytest

from epicap.cli import main
from epicap.errors import InputError
from epicap.viz.render import render_session_png, render_session_video
from epicap.viz.scene import FRUSTUM_RGB, LEFT_RGB, RIGHT_RGB, best_frame
from epicap.viz.viewpoint import view_camera
from tests.videos import read_video
from tests.viz.session_factory import four_cameras, make_session, stick_figure

SIZE = (320, 240)


def _near(img, uv, rgb, radius=3, tol=12):
    """True when a pixel within `radius` of uv has colour rgb (0-1 floats) to within tol/255."""
    x, y = int(round(uv[0])), int(round(uv[1]))
    patch = img[max(y - radius, 0):y + radius + 1, max(x - radius, 0):x + radius + 1].astype(int)
    return (np.abs(patch - 255 * np.asarray(rgb)).max(axis=-1) <= tol).any()


def test_camera_view_shows_left_and_right_joints_where_they_project(tmp_path):
    cams, poses = four_cameras(), stick_figure()
    img = render_session_png((cams, poses), tmp_path / "cam.png", view="camera:cam01", size=SIZE)
    assert img.shape == (240, 320, 3) and img.std() > 5  # not a blank picture
    view = view_camera("camera:cam01", cams, poses, SIZE)
    t = best_frame(poses)
    skel = poses.skeleton
    for joint, rgb in (("left_wrist", LEFT_RGB), ("left_ankle", LEFT_RGB),
                       ("right_wrist", RIGHT_RGB), ("right_ankle", RIGHT_RGB)):
        uv = view.project(poses.poses[t, skel.index(joint)][None])[0]
        assert _near(img, uv, rgb), f"{joint} colour missing at {uv}"
    # the wrong side's colour is not where the left wrist is (left and right are told apart)
    uv = view.project(poses.poses[t, skel.index("left_wrist")][None])[0]
    assert not _near(img, uv, RIGHT_RGB, radius=1)
    # the view's pixels agree with the rig's own projection (cam01 has no distortion)
    assert np.allclose(view.project(poses.poses[t]), cams.project(poses.poses[t])[0] * 0.5,
                       atol=0.6, equal_nan=True)
    import cv2

    assert np.array_equal(cv2.imread(str(tmp_path / "cam.png"))[..., ::-1], img)


def test_top_view_shows_each_frustum_at_its_camera(tmp_path):
    session = make_session(tmp_path / "s", with_keypoints=False)
    img = render_session_png(session, tmp_path / "top.png", view="top", size=SIZE)
    cams, poses = four_cameras(), stick_figure()
    view = view_camera("top", cams, poses, SIZE)
    for name, uv in zip(cams.names, view.project(cams.centers)):
        assert 0 <= uv[0] < SIZE[0] and 0 <= uv[1] < SIZE[1]
        assert _near(img, uv, FRUSTUM_RGB, radius=4), f"no frustum at {name}"
    # nothing purple far from every camera (e.g. the picture's centre holds the figure)
    assert not _near(img, (SIZE[0] / 2, SIZE[1] / 2), FRUSTUM_RGB, radius=2)


def test_sequence_video_has_one_frame_per_pose(tmp_path):
    import cv2

    cams, poses = four_cameras(), stick_figure(T=6)
    n = render_session_video((cams, poses), tmp_path / "seq.mp4", size=(160, 120))
    cap = cv2.VideoCapture(str(tmp_path / "seq.mp4"))
    count = 0
    while cap.read()[0]:
        count += 1
    assert n == 6 and count == 6
    assert abs(cap.get(cv2.CAP_PROP_FPS) - poses.fps) < 1e-6


def test_bad_input(tmp_path):
    cams, poses = four_cameras(), stick_figure()
    with pytest.raises(InputError, match="frame 99 out of range"):
        render_session_png((cams, poses), tmp_path / "x.png", frame=99)
    cams.to_toml(tmp_path / "cameras.toml")
    with pytest.raises(InputError, match="poses3d.npz: not found.*epicap triangulate"):
        render_session_png(tmp_path, tmp_path / "x.png")
    with pytest.raises(InputError, match="unknown view"):
        render_session_png((cams, poses), tmp_path / "x.png", view="side")
    assert not (tmp_path / "x.png").exists()


def test_cli_offscreen_errors(tmp_path, capsys):
    session = make_session(tmp_path / "s", with_keypoints=False)
    assert main(["view", str(session), "--offscreen", str(tmp_path / "a.gif")]) == 2
    assert "writes .png or .mp4" in capsys.readouterr().err
    assert main(["view", str(session), "--offscreen", str(tmp_path / "a.png"),
                 "--size", "big"]) == 2
    (tmp_path / "b.png").write_bytes(b"mine")
    assert main(["view", str(session), "--offscreen", str(tmp_path / "b.png")]) == 2
    assert "--force" in capsys.readouterr().err and (tmp_path / "b.png").read_bytes() == b"mine"


@pytest.mark.slow
def test_cli_turntable_and_camera_view(tmp_path):
    session = make_session(tmp_path / "s")
    out = tmp_path / "turn.mp4"
    assert main(["view", str(session), "--offscreen", str(out), "--animate", "turntable",
                 "--size", "320x240"]) == 0
    frames, _ = read_video(out)
    assert len(frames) == 72
    assert np.abs(frames[0].astype(int) - frames[18].astype(int)).mean() > 1  # it turns
    assert main(["view", str(session), "--offscreen", str(tmp_path / "c.png"), "--view", "camera",
                 "cam03", "--size", "640x480"]) == 0
