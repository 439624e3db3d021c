import tomllib

import numpy as np
import pytest

from epicap.errors import InputError
from epicap.export.calibration import read_calibration, write_calibration
from tests.viz.session_factory import four_cameras


def _same(a, b, tol=1e-9):
    assert a.names == b.names
    for k in ("image_size", "K", "dist", "R", "t"):
        assert np.allclose(getattr(a, k), getattr(b, k), atol=tol), k


def test_pose2sim_round_trip(tmp_path):
    cams = four_cameras()
    path = write_calibration(tmp_path / "Calib.toml", cams, "pose2sim")
    doc = tomllib.loads(path.read_text())
    assert doc["cam01"]["size"] == [640.0, 480.0] and doc["metadata"]["error"] == 0.8
    _same(read_calibration(path), cams)


def test_anipose_round_trip_in_millimetres(tmp_path):
    cams = four_cameras()
    path = write_calibration(tmp_path / "calibration.toml", cams, "anipose", units_per_metre=1000)
    doc = tomllib.loads(path.read_text())
    assert list(doc)[:4] == ["cam_0", "cam_1", "cam_2", "cam_3"]
    assert doc["cam_1"]["name"] == "cam02"
    assert np.allclose(doc["cam_0"]["translation"], 1000 * cams.t[0])
    _same(read_calibration(path, units_per_metre=1000), cams)


def test_bad_flavour_and_scale_are_refused(tmp_path):
    cams = four_cameras()
    with pytest.raises(InputError, match="flavour"):
        write_calibration(tmp_path / "c.toml", cams, "opencv")
    with pytest.raises(InputError, match="units_per_metre"):
        write_calibration(tmp_path / "c.toml", cams, "anipose", units_per_metre=0)
    assert not (tmp_path / "c.toml").exists()


def test_pose2sim_demo_calibration_converts_and_round_trips(tmp_path):
    """The real Qualisys calibration of Pose2Sim's demo, read by epicap.session.qualisys."""
    qualisys = pytest.importorskip("epicap.session.qualisys",
                                   reason="epicap/session/qualisys.py not written yet")
    from epicap.assets import fetch_wheel, read_member

    wheel = fetch_wheel("pose2sim-0.10.49")
    qca = tmp_path / "Calib.qca.txt"
    qca.write_bytes(read_member(wheel, "Pose2Sim/Demo_SinglePerson/calibration/Calib.qca.txt"))
    cams = qualisys.read_qualisys(qca)
    assert len(cams) == 4 and cams.has_extrinsics
    path = write_calibration(tmp_path / "Calib_qualisys.toml", cams, "pose2sim")
    _same(read_calibration(path), cams, tol=1e-9)
