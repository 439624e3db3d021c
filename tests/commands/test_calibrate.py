import numpy as np

from epicap.cli import main
from epicap.session import Cameras
from tests.calibration_free.scene import camera_ring, observe, person_motion


def _session(tmp_path):
    cams = camera_ring(3, seed=4)
    kp = observe(cams, person_motion(80, 2), noise_px=1.0, seed=5)
    kp.save(tmp_path / "keypoints2d.npz")
    Cameras(cams.names, cams.image_size, cams.K, cams.dist).to_toml(tmp_path / "intr.toml")
    return cams


def test_calibrate_writes_cameras_and_refuses_overwrite(tmp_path, capsys):
    cams = _session(tmp_path)
    assert main(["calibrate", str(tmp_path), "--intrinsics", str(tmp_path / "intr.toml"),
                 "--subject-height", "1.8"]) == 0
    out = capsys.readouterr().out
    assert "| cam1" in out and "wrote" in out
    est = Cameras.from_toml(tmp_path / "cameras.toml", require_extrinsics=True)
    assert est.names == cams.names and est.error_px < 3
    np.testing.assert_allclose(est.K, cams.K)
    before = (tmp_path / "cameras.toml").read_bytes()
    assert main(["calibrate", str(tmp_path)]) == 2
    assert "--force" in capsys.readouterr().err
    assert (tmp_path / "cameras.toml").read_bytes() == before
    assert main(["calibrate", str(tmp_path), "--force", "--shared-focal", "--method",
                 "pooled"]) == 0


def test_calibrate_bad_input(tmp_path, capsys):
    assert main(["calibrate", str(tmp_path / "nowhere")]) == 2
    assert main(["calibrate", str(tmp_path)]) == 2  # no keypoints2d.npz
    assert "keypoints2d.npz" in capsys.readouterr().err
    _session(tmp_path)
    assert main(["calibrate", str(tmp_path), "--subject-height", "170"]) == 2
    assert main(["calibrate", str(tmp_path), "--robust-scale", "0"]) == 2
    assert "robust loss scale" in capsys.readouterr().err
    assert not (tmp_path / "cameras.toml").exists()
