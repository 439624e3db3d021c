import struct

import numpy as np
import pytest

from epicap.errors import InputError
from epicap.export.c3d import read_c3d, write_c3d
from tests.viz.session_factory import stick_figure


def test_round_trip_and_layout(tmp_path):
    poses = stick_figure(T=9)
    X = poses.poses.astype(np.float64)
    X[3, [0, 5]] = np.nan
    path = write_c3d(tmp_path / "a.c3d", X, poses.joints, poses.fps)
    raw = path.read_bytes()
    assert len(raw) % 512 == 0
    # header: parameter block 2, key 0x50, 17 points, frames 1..9, float scale, 30 Hz
    assert raw[0] == 2 and raw[1] == 0x50
    assert struct.unpack_from("<hhhh", raw, 2) == (17, 0, 1, 9)
    scale, = struct.unpack_from("<f", raw, 12)
    rate, = struct.unpack_from("<f", raw, 20)
    assert scale < 0 and rate == 30.0
    assert raw[512 + 3] == 84  # Intel processor
    back = read_c3d(path)
    assert back.labels == poses.joints and back.units == "mm" and back.rate_hz == 30.0
    assert back.parameters["POINT"]["Y_SCREEN"] == "+Z"
    assert np.isnan(back.points[3, [0, 5]]).all() and np.isfinite(back.points[4]).all()
    assert np.allclose(back.points / 1000, X, atol=1e-6, equal_nan=True)  # float32 in mm


def test_metres_and_bad_input(tmp_path):
    X = np.ones((2, 1, 3))
    back = read_c3d(write_c3d(tmp_path / "m.c3d", X, ["p"], 100.0, units="m"))
    assert back.units == "m" and np.allclose(back.points, 1)
    with pytest.raises(InputError, match="labels"):
        write_c3d(tmp_path / "x.c3d", X, ["a", "b"], 30)
    with pytest.raises(InputError, match="fps"):
        write_c3d(tmp_path / "x.c3d", X, ["p"], float("nan"))
    with pytest.raises(InputError, match="poses_world"):
        write_c3d(tmp_path / "x.c3d", X[0], ["p"], 30)
    assert not (tmp_path / "x.c3d").exists()
    (tmp_path / "bad.c3d").write_bytes(b"\0" * 1024)
    with pytest.raises(InputError, match="not a C3D file"):
        read_c3d(tmp_path / "bad.c3d")
