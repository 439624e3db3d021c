"""Pictures a user looks at: a portrait camera at its own aspect, camera labels that never overlap,
a trained student's poses in 3D."""
import numpy as np
import pytest

from epicap.session import Cameras
from epicap.viz.media import label_size
from epicap.viz.render import label_places, render_session_png
from epicap.viz.scene import LEFT_RGB, RIGHT_RGB, best_frame
from epicap.viz.viewpoint import picture_size, view_camera
from tests.viz.session_factory import four_cameras, stick_figure
from tests.viz.test_render import _near


def _portrait_rig() -> Cameras:
    """four_cameras with cam02 turned into a 480x640 portrait camera (same pose and focal)."""
    cams = four_cameras()
    size = cams.image_size.copy()
    size[1] = (480, 640)
    K = cams.K.copy()
    K[1, :2, 2] = (239.5, 319.5)
    dist = np.zeros_like(cams.dist)
    return Cameras(cams.names, size, K, dist, cams.R, cams.t, error_px=0.8)


def test_a_portrait_camera_is_pictured_upright_at_its_own_aspect(tmp_path):
    cams, poses = _portrait_rig(), stick_figure()
    assert picture_size("camera:cam02", cams, (1280, 720)) == (960, 1280)
    assert picture_size("camera:cam01", cams, (1280, 720)) == (1280, 960)
    assert picture_size("front", cams, (1280, 720)) == (1280, 720)
    img = render_session_png((cams, poses), tmp_path / "p.png", view="camera:cam02",
                             size=(320, 240))
    assert img.shape == (320, 240, 3)  # portrait, not squeezed into 320x240
    view = view_camera("camera:cam02", cams, poses, (240, 320))
    t = best_frame(poses)
    # one scale on both axes: the camera's own picture shrunk, so its horizon keeps its angle
    assert np.allclose(view.project(poses.poses[t]), cams.project(poses.poses[t])[1] * 0.5,
                       atol=1e-6, equal_nan=True)
    assert np.isclose(view.K[0, 0], view.K[1, 1])
    skel = poses.skeleton
    for joint, rgb in (("left_wrist", LEFT_RGB), ("right_ankle", RIGHT_RGB)):
        uv = view.project(poses.poses[t, skel.index(joint)][None])[0]
        assert _near(img, uv, rgb), f"{joint} colour missing at {uv}"


def test_camera_labels_are_staggered_and_never_overlap():
    names = ["cam01", "cam02", "cam03", "cam04", "cam05"]
    uvs = np.array([[100, 100], [102, 101], [104, 99], [300, 50], [np.nan, np.nan]])
    xy = label_places(names, uvs)
    assert np.isnan(xy[4]).all()
    boxes = []
    for (x, y), name in zip(xy[:4], names):
        w, h = label_size(name)
        boxes.append((x, y - h, x + w, y))
    for i in range(4):
        for j in range(i + 1, 4):
            a, b = boxes[i], boxes[j]
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], (i, j)
    # a lone label sits just above-right of its point, as before
    assert np.allclose(xy[0], (106, 94)) and np.allclose(xy[3], (306, 44))
    # every label stays beside its point (within a few label heights)
    assert (np.abs(xy[:4] - uvs[:4]).max(axis=1) < 6 * label_size("cam01")[1]).all()


def _inferred_file(tmp_path, video=None):
    """An `epicap infer`-style .npz: stick-figure poses, root-relative in cam01's frame."""
    from epicap.training.infer import Inference

    cams, poses = four_cameras(), stick_figure(T=5)
    X = poses.poses.astype(np.float64) @ cams.R[0].T + cams.t[0]
    X -= X[:, poses.skeleton.root_index].reshape(5, -1, 3).mean(axis=1, keepdims=True)
    path = tmp_path / "inferred.npz"
    Inference(X.astype(np.float32), "h36m17", 30.0, "cam01", str(video or "kp.npz")).save(path)
    return path, X


def test_display_frame_stands_the_camera_frame_pose_upright():
    from epicap.viz.inferred import display_from_camera

    head_above_foot = np.array([[[0.0, -1.6, 3.0], [0.1, 0.0, 3.0]]])  # y down in the camera
    D = display_from_camera(head_above_foot)
    assert np.allclose(D, [[[0.0, 3.0, 1.6], [0.1, 3.0, 0.0]]])  # Z up, the foot on the floor


def test_view_poses_renders_infer_output_beside_its_video(tmp_path):
    import cv2

    from epicap.cli import main
    from epicap.viz.inferred import load_inferred

    path, _ = _inferred_file(tmp_path)
    out = tmp_path / "p.png"
    assert main(["view", "--poses", str(path), "--offscreen", str(out), "--size", "320x240"]) == 0
    img = cv2.imread(str(out))[..., ::-1]
    assert img.shape == (240, 320, 3)
    data = load_inferred(path)
    assert data.video is None and (data.poses.poses[..., 2] >= -1e-6)[data.poses.valid].all()
    view = view_camera("front", None, data.poses, (320, 240))
    t = best_frame(data.poses)
    skel = data.poses.skeleton
    for joint, rgb in (("left_wrist", LEFT_RGB), ("right_ankle", RIGHT_RGB)):
        uv = view.project(data.poses.poses[t, skel.index(joint)][None])[0]
        assert _near(img, uv, rgb), f"{joint} colour missing at {uv}"
    # from a video: the video frame (a flat 200 grey here) on the left of the 3D view
    video = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 30.0, (120, 240))
    for _ in range(5):
        writer.write(np.full((240, 120, 3), 200, np.uint8))
    writer.release()
    path, _ = _inferred_file(tmp_path, video)
    n = 0
    assert main(["view", "--poses", str(path), "--offscreen", str(tmp_path / "v.mp4"), "--size",
                 "320x240"]) == 0
    cap = cv2.VideoCapture(str(tmp_path / "v.mp4"))
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        n += 1
        assert frame.shape == (240, 440, 3) and abs(np.median(frame[:, :110]) - 200) < 8
    assert n == 5
    # mistakes: one line, status 2
    assert main(["view", "--poses", str(path)]) == 2
    assert main(["view", "--poses", str(path), "--offscreen", str(tmp_path / "c.png"),
                 "--view", "camera", "cam01"]) == 2
    assert main(["view"]) == 2


def test_view_poses_stands_several_people_side_by_side_as_in_the_picture(tmp_path):
    from epicap.cli import main
    from epicap.training.infer import Inference
    from epicap.viz.inferred import PERSON_SPACING_M, load_inferred

    _, X = _inferred_file(tmp_path)
    root_px = np.stack([np.full((5, 2), 900.0), np.full((5, 2), 200.0)])  # p0 on the right
    path = tmp_path / "two.npz"
    Inference(np.stack([X, X]).astype(np.float32), "h36m17", 30.0, "cam01", "kp.npz",
              people=["p0", "p1"], root_px=root_px).save(path)
    data = load_inferred(path)
    assert data.poses.people == ["p0", "p1"] and data.poses.poses.shape[:2] == (2, 5)
    x = np.nanmean(data.poses.poses[..., 0], axis=(1, 2))
    assert x[1] < x[0] and x[0] - x[1] == pytest.approx(PERSON_SPACING_M, abs=1e-5)
    out = tmp_path / "two.png"
    assert main(["view", "--poses", str(path), "--offscreen", str(out), "--size", "320x240"]) == 0
    assert out.stat().st_size > 2_000
    # people and poses that disagree: one line, status 2
    z = dict(np.load(path))
    z["people"] = np.array(["p0", "p1", "p2"])
    np.savez(tmp_path / "bad.npz", **z)
    assert main(["view", "--poses", str(tmp_path / "bad.npz"), "--offscreen",
                 str(tmp_path / "bad.png")]) == 2
