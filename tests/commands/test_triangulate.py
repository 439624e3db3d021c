import numpy as np
import pytest

from epicap.cli import main
from epicap.geometry.camera import project_points
from epicap.session import Cameras, Keypoints2D, Poses3D
from epicap.synthetic import ring_rig


@pytest.fixture
def session(tmp_path):
    """A 4-camera session: 40 frames of 17 coco joints moving smoothly, 1 px noise, 10% outliers;
    calibration in SESSION/cameras.toml, truth returned."""
    rng = np.random.default_rng(0)
    C, T, J = 4, 40, 17
    cams = ring_rig(C, radius_m=4.0, height_m=1.5, focal_px=1000.0, image_size=(1280, 720),
                    distortion=[0.03, -0.01, 0.0, 0.0, 0.0])
    offsets = rng.normal([0, 0, 1], [0.2, 0.2, 0.4], (J, 3))
    drift = np.linspace(0, 0.5, T)[:, None, None] * np.array([1.0, 0, 0])
    truth = offsets[None] + drift                                   # (T, J, 3)
    # frame 5, joint 3: every camera agrees on a point 3 m above the body (a consistent mistake)
    seen_at = truth.copy()
    seen_at[5, 3] += [0.0, 0.0, 3.0]
    pixels, _ = project_points(seen_at.reshape(-1, 3), cams.K, cams.R, cams.t, cams.dist)
    pixels = pixels.reshape(C, T, J, 2) + rng.normal(0, 1.0, (C, T, J, 2))
    outlier = rng.random((C, T, J)) < 0.1
    pixels[outlier] += rng.uniform(60, 300, (outlier.sum(), 2))
    conf = rng.uniform(0.5, 1.0, (C, T, J))
    kp = np.concatenate([pixels, conf[..., None]], -1).astype(np.float32)
    Keypoints2D(kp, cams.names, "coco17", cams.image_size, 30.0).save(tmp_path / "keypoints2d.npz")
    cams.to_toml(tmp_path / "cameras.toml")
    return tmp_path, truth


def test_triangulate_writes_poses_close_to_truth(session, capsys):
    path, truth = session
    assert main(["triangulate", str(path), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "joints triangulated" in out and "reprojection error p90" in out
    dropped = int(out.split("joints dropped as off the body")[1].split("|")[1])
    assert 1 <= dropped <= 0.01 * 40 * 17                    # the joint 3 m up, a few chance ones
    poses = Poses3D.from_npz(path / "poses3d.npz")
    assert poses.poses.shape == (40, 17, 3) and poses.joint_set == "coco17" and poses.fps == 30.0
    error = np.linalg.norm(poses.poses - truth, axis=-1)
    assert poses.valid.mean() > 0.98
    assert np.nanmedian(error) < 0.01                       # 1 px at 4 m, f = 1000
    assert np.nanmax(poses.reprojection_error) < 20.0
    assert set(np.unique(poses.views[poses.valid])) <= {2, 3, 4}
    assert poses.views[5, 3] == 0 and np.isnan(poses.poses[5, 3]).all()
    assert main(["triangulate", str(path), "--force", "--max-extent", "0"]) == 0
    assert np.isnan(Poses3D.from_npz(path / "poses3d.npz").poses[5, 3]).all()  # time, bones
    assert main(["triangulate", str(path), "--force", "--max-extent", "0",
                 "--no-consistency"]) == 0
    kept = Poses3D.from_npz(path / "poses3d.npz")
    assert np.linalg.norm(kept.poses[5, 3] - truth[5, 3] - [0, 0, 3]) < 0.05


def test_refuses_overwrite_without_force_and_options(session, capsys):
    path, truth = session
    assert main(["triangulate", str(path)]) == 0
    before = (path / "poses3d.npz").read_bytes()
    raw = Poses3D.from_npz(path / "poses3d.npz").poses
    assert main(["triangulate", str(path), "--smooth", "5"]) == 2
    assert "--force" in capsys.readouterr().err
    assert (path / "poses3d.npz").read_bytes() == before
    assert main(["triangulate", str(path), "--force", "--smooth", "5", "--refine"]) == 0
    smoothed = Poses3D.from_npz(path / "poses3d.npz")
    jerk = lambda p: np.nanmean(np.abs(np.diff(p, 2, axis=0)))
    assert jerk(smoothed.poses) < 0.5 * jerk(raw)            # the low-pass removed the jitter
    error = np.linalg.norm(smoothed.poses - truth, axis=-1)
    assert np.nanmedian(error) < 0.01
    assert main(["triangulate", str(path), "--force", "--smooth", "20"]) == 2
    assert "half the frame rate" in capsys.readouterr().err


def test_bad_inputs_are_one_line_errors(session, tmp_path_factory, capsys):
    path, _ = session
    empty = tmp_path_factory.mktemp("empty")
    assert main(["triangulate", str(empty)]) == 2
    assert "keypoints2d.npz: no such file" in capsys.readouterr().err
    assert main(["triangulate", str(empty / "nope")]) == 2
    assert "no such session" in capsys.readouterr().err

    cams = Cameras.from_toml(path / "cameras.toml")
    intrinsics = tmp_path_factory.mktemp("calib") / "intrinsics.toml"
    Cameras(cams.names, cams.image_size, cams.K, cams.dist).to_toml(intrinsics)
    assert main(["triangulate", str(path), "--cameras", str(intrinsics)]) == 2
    err = capsys.readouterr().err
    assert "intrinsics only" in err and err.count("\n") == 1

    one = tmp_path_factory.mktemp("calib1") / "one.toml"
    cams.select(cams.names[:1]).to_toml(one)
    assert main(["triangulate", str(path), "--cameras", str(one)]) == 2
    err = capsys.readouterr().err
    assert "one.toml" in err and "needs two" in err and err.count("\n") == 1

    (path / "cameras.toml").unlink()
    assert main(["triangulate", str(path)]) == 2
    assert "--cameras" in capsys.readouterr().err
    assert not (path / "poses3d.npz").exists()


def test_a_camera_the_calibration_excluded_is_left_out_with_a_warning(session, capsys,
                                                                      tmp_path_factory):
    path, _ = session
    cams = Cameras.from_toml(path / "cameras.toml")
    three = tmp_path_factory.mktemp("calib3") / "three.toml"
    cams.select(cams.names[:3]).to_toml(three)
    assert main(["triangulate", str(path), "--cameras", str(three), "--force"]) == 0
    err = capsys.readouterr().err
    assert "cam04 is not in the calibration" in err
    poses = Poses3D.from_npz(path / "poses3d.npz")
    assert poses.views.max() == 3 and poses.valid.mean() > 0.9


def test_no_joint_with_two_views_is_an_error(session, capsys):
    path, _ = session
    kp = Keypoints2D.from_npz(path / "keypoints2d.npz")
    k = kp.keypoints.copy()
    k[1:] = (np.nan, np.nan, 0.0)                              # only cam01 sees anything
    Keypoints2D(k, kp.cameras, kp.joint_set, kp.image_size, kp.fps).save(path / "keypoints2d.npz")
    assert main(["triangulate", str(path)]) == 2
    assert "no joint could be triangulated" in capsys.readouterr().err
    assert not (path / "poses3d.npz").exists()
