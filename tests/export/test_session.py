"""`epicap export`: every format from a session, missing files and overwrites."""
import numpy as np
import pytest

from epicap.cli import main
from epicap.export.c3d import read_c3d
from epicap.export.trc import read_trc, zup_from_yup
from epicap.session import Poses3D
from tests.viz.session_factory import make_session


@pytest.mark.parametrize("fmt", ["trc", "c3d", "json", "colmap", "pose2sim", "anipose"])
def test_every_format(tmp_path, fmt):
    session = make_session(tmp_path / "s", with_keypoints=False)
    out = tmp_path / f"out.{fmt}"
    assert main(["export", str(session), "--format", fmt, "--out", str(out)]) == 0
    assert out.exists()
    poses = Poses3D.from_npz(session / "poses3d.npz")
    if fmt == "trc":
        assert np.allclose(zup_from_yup(read_trc(out).markers), poses.poses, atol=2e-6)
    if fmt == "c3d":
        assert np.allclose(read_c3d(out).points / 1000, poses.poses, atol=1e-6)


def test_missing_file_and_overwrite(tmp_path, capsys):
    session = make_session(tmp_path / "s", with_keypoints=False)
    (session / "poses3d.npz").unlink()
    assert main(["export", str(session), "--format", "trc", "--out", str(tmp_path / "a.trc")]) == 2
    err = capsys.readouterr().err
    assert "poses3d.npz: not found" in err and "epicap triangulate" in err
    assert not (tmp_path / "a.trc").exists()
    out = tmp_path / "cal.toml"
    out.write_text("mine")
    assert main(["export", str(session), "--format", "pose2sim", "--out", str(out)]) == 2
    assert out.read_text() == "mine"
    assert main(["export", str(session), "--format", "pose2sim", "--out", str(out),
                 "--force"]) == 0
    # colmap without poses3d.npz still exports the rig
    assert main(["export", str(session), "--format", "colmap", "--out", str(tmp_path / "m")]) == 0
