import numpy as np
import pytest

from epicap.errors import InputError
from epicap.viz.viewpoint import look_at, parse_view, view_camera
from tests.viz.session_factory import four_cameras, stick_figure


def test_look_at_matches_opencv_axes():
    M = look_at([0, -5, 1], [0, 0, 1], [0, 0, 1])
    R, t = M[:3, :3], M[:3, 3]
    assert np.allclose(R @ R.T, np.eye(3)) and np.isclose(np.linalg.det(R), 1)
    assert np.allclose(R @ [0, 0, 1] + t, [0, 0, 5])       # target straight ahead
    assert np.allclose(R @ [1, 0, 1] + t, [1, 0, 5])       # world +X is image right
    assert np.allclose(R @ [0, 0, 2] + t, [0, -1, 5])      # world +Z is image up (y down)


def test_views_frame_the_scene_and_orient_it():
    cams, poses = four_cameras(), stick_figure()
    front = view_camera("front", cams, poses, (320, 240))
    top = view_camera("top", cams, poses, (320, 240))
    pts = np.concatenate([poses.poses.reshape(-1, 3), cams.centers])
    for v in (front, top):
        uv = v.project(pts)
        assert np.isfinite(uv).all()
        assert (uv >= 0).all() and (uv[:, 0] < 320).all() and (uv[:, 1] < 240).all()
    a, b = front.project(np.array([[0, 0, 1.0], [1, 0, 1.0]]))
    assert b[0] > a[0]  # +X to the right in the front view
    a, b = top.project(np.array([[0, 0, 0.0], [0, 1, 0.0]]))
    assert b[1] < a[1]  # +Y up in the top view


def test_camera_view_scales_intrinsics():
    cams = four_cameras()
    v = view_camera("camera:cam03", cams, None, (320, 240))
    assert np.allclose(v.K, np.diag([0.5, 0.5, 1]) @ cams.K[2])
    assert np.allclose(v.eye, cams.centers[2])


def test_parse_view():
    assert parse_view("front") == ("front", None)
    assert parse_view("camera cam 1") == ("camera", "cam 1")
    assert parse_view("camera:cam01") == ("camera", "cam01")
    assert parse_view("subject") == ("subject", None)
    for bad in ("camera", "side", ""):
        with pytest.raises(InputError, match="valid: front, top, overview, subject, camera NAME"):
            parse_view(bad)
    with pytest.raises(InputError, match="no camera 'x'"):
        view_camera("camera:x", four_cameras(), None)


def test_overview_holds_everything_and_subject_fills_the_picture_with_the_skeleton():
    cams, poses = four_cameras(), stick_figure()
    overview = view_camera("overview", cams, poses, (320, 240))
    subject = view_camera("subject", cams, poses, (320, 240), frame=0)
    uv = overview.project(np.concatenate([poses.poses.reshape(-1, 3), cams.centers]))
    assert np.isfinite(uv).all() and (uv >= 0).all() and (uv[:, 0] < 320).all()
    skeleton = subject.project(poses.poses[0])
    assert (skeleton >= 0).all() and (skeleton[:, 0] < 320).all() and (skeleton[:, 1] < 240).all()
    extent = lambda v: np.ptp(v.project(poses.poses[0])[:, 1])
    assert extent(subject) > 2 * extent(overview)          # a close-up
    a, b = overview.project(np.array([[0, 0, 0.0], [0, 0, 1.0]]))
    assert b[1] < a[1]                                      # Z up in the picture
