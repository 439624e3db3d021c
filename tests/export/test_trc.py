import numpy as np
import pytest

from epicap.errors import InputError
from epicap.export.trc import read_trc, write_trc, yup_from_zup, zup_from_yup
from tests.viz.session_factory import stick_figure


def test_axes_are_a_proper_rotation_to_y_up():
    X = np.array([[0.1, 0.2, 1.7]])  # a head 1.7 m above the floor, Z up
    Y = yup_from_zup(X)
    assert np.allclose(Y, [[0.2, 1.7, 0.1]])  # Pose2Sim's zup2yup: height becomes Y
    P = yup_from_zup(np.eye(3))  # rows: images of the basis vectors
    assert np.isclose(np.linalg.det(P), 1.0)
    assert np.allclose(zup_from_yup(Y), X)


@pytest.mark.parametrize("units,scale", [("m", 1.0), ("mm", 1000.0)])
def test_round_trip(tmp_path, units, scale):
    poses = stick_figure(T=5)
    X = poses.poses.astype(np.float64)
    X[2, 4] = np.nan
    path = write_trc(tmp_path / "a.trc", X, poses.joints, poses.fps, units)
    lines = path.read_text().splitlines()
    assert lines[0].split("\t")[:3] == ["PathFileType", "4", "(X/Y/Z)"]
    assert lines[2].split("\t") == ["30", "30", "5", "17", units, "30", "1", "5"]
    back = read_trc(path)
    assert back.names == poses.joints and back.units == units and back.rate_hz == 30
    assert np.isnan(back.markers[2, 4]).all()
    assert np.allclose(zup_from_yup(back.markers) / scale, X, atol=1e-6 * (1 + 1 / scale) + 1e-6,
                       equal_nan=True)
    # the time column is frame / fps
    assert lines[5 + 3].split("\t")[:2] == ["4", f"{3 / 30:.6f}"]


def test_bad_input(tmp_path):
    with pytest.raises(InputError, match="units"):
        write_trc(tmp_path / "a.trc", np.zeros((1, 2, 3)), ["a", "b"], 30, "cm")
    with pytest.raises(InputError, match="names"):
        write_trc(tmp_path / "a.trc", np.zeros((1, 2, 3)), ["a"], 30)
    with pytest.raises(InputError, match="fps"):
        write_trc(tmp_path / "a.trc", np.zeros((1, 2, 3)), ["a", "b"], 0)
    with pytest.raises(InputError, match="poses_world"):
        write_trc(tmp_path / "a.trc", np.zeros((2, 3)), ["a", "b"], 30)
    assert not (tmp_path / "a.trc").exists()
    (tmp_path / "b.trc").write_text("hello\n")
    with pytest.raises(InputError, match="not a TRC file"):
        read_trc(tmp_path / "b.trc")
