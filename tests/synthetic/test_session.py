"""Writing a synthetic session: the files load back with the session readers, the truth
reprojects onto the clean 2D, and a user's session is never overwritten without force."""
import numpy as np
import pytest

from epicap.errors import InputError
from epicap.session import CAMERAS_FILE, KEYPOINTS_FILE, POSES_FILE, Cameras, Keypoints2D, Poses3D
from epicap.session.manifest import SessionManifest
from epicap.synthetic import read_truth, write_session


def test_session_loads_back_and_truth_reprojects(synthetic_session, synthetic_scene):
    kp = Keypoints2D.from_npz(synthetic_session / KEYPOINTS_FILE)
    np.testing.assert_array_equal(kp.keypoints, synthetic_scene.keypoints.keypoints)
    assert kp.cameras == ["cam01", "cam02", "cam03", "cam04"] and kp.joint_set == "coco17"
    cams = Cameras.from_toml(synthetic_session / "truth" / CAMERAS_FILE, require_extrinsics=True)
    np.testing.assert_allclose(cams.R, synthetic_scene.cameras.R, atol=1e-12)
    np.testing.assert_allclose(cams.t, synthetic_scene.cameras.t, atol=1e-12)
    np.testing.assert_allclose(cams.K, synthetic_scene.cameras.K)
    poses = Poses3D.from_npz(synthetic_session / "truth" / POSES_FILE)
    assert (poses.views == 4).all() and (poses.reprojection_error == 0).all()
    reproj = cams.project(poses.poses.reshape(-1, 3).astype(np.float64)).reshape(4, 60, 17, 2)
    np.testing.assert_allclose(reproj, synthetic_scene.points2d_clean, atol=1e-3)  # float32 3D
    # and onto the reported 2D within the noise (1 px)
    assert np.nanstd(reproj - kp.points) == pytest.approx(1.0, rel=0.05)
    manifest = SessionManifest.load(synthetic_session)
    assert manifest.source == "synth" and manifest.names == kp.cameras
    assert manifest.cameras[0].frame_count == 60 and manifest.cameras[0].width == 1280
    assert manifest.video_path(synthetic_session, "cam01") is None


def test_truth_file_round_trip(tmp_path, make_synthetic_scene):
    scene = make_synthetic_scene(bias_px=5.0, outlier_fraction=0.1, missing_fraction=0.05,
                                 offsets_frames=[0.0, 1.5, -2.0, 3.0], seed=3)
    truth = read_truth(write_session(scene, tmp_path / "s"))
    np.testing.assert_array_equal(truth.offsets_frames, [0.0, 1.5, -2.0, 3.0])
    np.testing.assert_array_equal(truth.outlier, scene.outlier)
    np.testing.assert_array_equal(truth.missing, scene.missing)
    np.testing.assert_allclose(truth.bias, scene.bias, atol=1e-5)
    np.testing.assert_allclose(truth.points2d_clean, scene.points2d_clean, atol=1e-3)
    assert truth.clip == "walk" and truth.options["bias_px"] == 5.0
    assert truth.subject_height_m == pytest.approx(scene.clip.subject_height_m)


def test_refuses_to_overwrite_without_force(tmp_path, synthetic_scene, make_synthetic_scene):
    out = write_session(synthetic_scene, tmp_path / "s")
    before = (out / KEYPOINTS_FILE).read_bytes()
    other = make_synthetic_scene(num_cameras=3, seed=1)
    with pytest.raises(InputError, match="exists.*--force"):
        write_session(other, out)
    assert (out / KEYPOINTS_FILE).read_bytes() == before
    write_session(other, out, force=True)
    assert Keypoints2D.from_npz(out / KEYPOINTS_FILE).keypoints.shape[0] == 3
    assert read_truth(out).cameras.names == ["cam01", "cam02", "cam03"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s"]  # no temporary folder left


def test_a_failure_leaves_nothing_behind(tmp_path, synthetic_scene, monkeypatch):
    import epicap.synthetic.session as session

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(session.SessionManifest, "save", broken)
    with pytest.raises(RuntimeError):
        write_session(synthetic_scene, tmp_path / "s")
    assert list(tmp_path.iterdir()) == []


def test_empty_folder_is_fine_and_non_synthetic_has_no_truth(tmp_path, synthetic_scene):
    (tmp_path / "s").mkdir()
    write_session(synthetic_scene, tmp_path / "s")
    (tmp_path / "plain").mkdir()
    with pytest.raises(InputError, match="not a synthetic session"):
        read_truth(tmp_path / "plain")
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError, match="not a folder"):
        write_session(synthetic_scene, tmp_path / "file")
