import json

import numpy as np

from epicap.export.jsonfmt import read_json, write_json
from tests.viz.session_factory import four_cameras, stick_figure


def test_round_trip_with_nulls(tmp_path):
    cams, poses = four_cameras(), stick_figure(T=4)
    poses.poses[1, 2] = np.nan
    poses.reprojection_error[1, 2] = np.nan
    path = write_json(tmp_path / "p.json", poses, cams)
    doc = json.loads(path.read_text())  # strict JSON: no NaN tokens
    assert "NaN" not in path.read_text()
    assert doc["frames"][1]["joints"][2] is None and doc["units"] == "m"
    assert doc["bones"][0] == [0, 1] and doc["cameras"][1]["center"] == cams.centers[1].tolist()
    back, back_cams = read_json(path)
    assert np.allclose(back.poses, poses.poses, atol=1e-6, equal_nan=True)
    assert np.allclose(back.reprojection_error, poses.reprojection_error, atol=1e-3, equal_nan=True)
    assert (back.views == poses.views).all() and back.fps == poses.fps
    assert np.allclose(back_cams.R, cams.R) and np.allclose(back_cams.K, cams.K)
