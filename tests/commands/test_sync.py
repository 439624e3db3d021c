"""`epicap sync` on a synthetic session; one camera says there is nothing to do."""
import tomllib

from epicap.cli import main
from epicap.session import Keypoints2D
from tests.capture.sync_scene import offset_keypoints


def _save(path, offsets):
    kp = offset_keypoints(offsets, frames=200)
    names = [f"cam{c + 1:02d}" for c in range(len(offsets))]
    Keypoints2D(kp, names, "coco17", [[1280, 720]] * len(offsets), 60.0).save(
        path / "keypoints2d.npz")


def test_sync_command(tmp_path, capsys):
    _save(tmp_path, [0.0, 4.0])
    assert main(["sync", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "cam02" in out and "keypoints" in out
    doc = tomllib.loads((tmp_path / "sync.toml").read_text())
    assert abs(doc["cameras"]["cam02"]["offset_frames"] - 4.0) < 0.5
    assert (tmp_path / "keypoints2d_raw.npz").is_file()


def test_sync_command_bad_input(tmp_path, capsys):
    _save(tmp_path, [0.0])
    assert main(["sync", str(tmp_path)]) == 0
    assert "nothing to synchronize" in capsys.readouterr().out
    assert main(["sync", str(tmp_path / "none")]) == 2
    two = tmp_path / "two"
    two.mkdir()
    _save(two, [0.0, 1.0])
    assert main(["sync", str(two), "--reference", "cam09"]) == 2
    assert "no camera 'cam09'" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["sync", str(tmp_path / "empty")]) == 2
    assert "keypoints2d.npz: no such file" in capsys.readouterr().err
