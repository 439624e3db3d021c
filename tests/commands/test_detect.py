"""`epicap detect` on a few real frames; bad input gives exit status 2 and one line."""
import numpy as np

from epicap.cli import main
from epicap.session import Keypoints2D
from tests.keypoints.pose2sim_demo import make_session


def test_detect_writes_keypoints_and_refuses_to_overwrite(tmp_path, capsys):
    session = make_session(tmp_path / "s", ["cam01"])
    assert main(["detect", str(session), "--frames", "40:44", "--max-people", "1",
                 "--quiet"]) == 0
    kp = Keypoints2D.from_npz(session / "keypoints2d.npz")
    assert kp.joint_set == "mediapipe33" and kp.keypoints.shape == (1, 4, 33, 3)
    assert kp.fps == 60.0 and kp.image_size.tolist() == [[1080, 1920]]
    assert np.isfinite(kp.points).all()
    assert main(["detect", str(session), "--frames", "40:44", "--quiet"]) == 2
    assert "--force" in capsys.readouterr().err


def test_detect_bad_input(tmp_path, capsys):
    session = make_session(tmp_path / "s", ["cam01"])
    junk = tmp_path / "model.tflite"
    junk.write_bytes(b"TFL3")
    assert main(["detect", str(session), "--model", str(junk)]) == 2
    assert "not a .task" in capsys.readouterr().err
    assert main(["detect", str(session), "--frames", "9"]) == 2
    assert main(["detect", str(tmp_path / "nowhere")]) == 2
    (tmp_path / "empty").mkdir()
    assert main(["detect", str(tmp_path / "empty")]) == 2
    err = capsys.readouterr().err
    assert "session.toml: no such file" in err and "Traceback" not in err
