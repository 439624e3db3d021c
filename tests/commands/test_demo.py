"""epicap demo: the whole job on the embedded default (small and fast here), and --real (slow)."""
import numpy as np
import pytest

from epicap.cli import main
from epicap.session import Cameras, Keypoints2D, Poses3D


def _table(out: str) -> dict[str, str]:
    rows = {}
    for line in out.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 2:
            rows[cells[0]] = cells[1]
    return rows


def test_demo_recovers_the_rig_and_writes_a_session_and_a_picture(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--frames", "120", "--epochs", "1", "--quiet"]) == 0
    rows = _table(capsys.readouterr().out)
    assert rows["cameras recovered"].startswith("4 of 4")
    assert float(rows["rotation error, mean"].split()[0]) < 0.2          # degrees
    assert float(rows["MPJPE ratio (recovered / true)"]) < 1.1
    session = out / "session"
    cams = Cameras.from_toml(session / "cameras.toml", require_extrinsics=True)
    kp = Keypoints2D.from_npz(session / "keypoints2d.npz")
    poses = Poses3D.from_npz(session / "poses3d.npz")
    assert cams.names == kp.cameras and poses.poses.shape == (120, 17, 3)
    # the calibrated world: Z up with the floor at z = 0 (ankles near it, head above)
    ankles = poses.poses[:, [15, 16], 2]
    assert abs(np.nanpercentile(ankles, 5)) < 0.1 and np.nanmedian(poses.poses[:, 0, 2]) > 1.3
    import cv2

    picture = cv2.imread(str(out / "demo.png"))
    # three 640x480 panels (true rig, recovered rig, close-up) over a 36-pixel legend
    assert picture.shape[:2] == (480 + 36, 3 * 640) and picture.std() > 10


def test_demo_refuses_a_folder_it_did_not_make(tmp_path, capsys):
    (tmp_path / "mine.txt").write_text("keep me")
    assert main(["demo", "--out", str(tmp_path), "--force", "--quiet"]) == 2
    assert "refusing" in capsys.readouterr().err
    assert (tmp_path / "mine.txt").read_text() == "keep me"


@pytest.mark.slow
def test_real_demo_matches_the_qualisys_calibration(tmp_path, capsys):
    assert main(["demo", "--real", "--out", str(tmp_path / "real"), "--quiet"]) == 0
    rows = _table(capsys.readouterr().out)
    assert rows["cameras recovered"].startswith("4 of 4")
    assert float(rows["rotation error vs Qualisys, mean"].split()[0]) < 2.0
    assert float(rows["camera centre error, mean"].split()[0]) < 5.0      # cm
