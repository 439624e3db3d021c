import tomllib

import numpy as np
import pytest

from epicap.errors import InputError
from epicap.geometry.camera import rotation_from_rodrigues
from epicap.session import Cameras


def _cams(C=3, seed=0):
    rng = np.random.default_rng(seed)
    K = np.tile(np.array([[1500.0, 0, 544], [0, 1510.0, 960], [0, 0, 1]]), (C, 1, 1))
    return Cameras([f"cam{i + 1:02d}" for i in range(C)], [[1088, 1920]] * C, K,
                   rng.normal(scale=0.01, size=(C, 4)), rotation_from_rodrigues(rng.normal(size=(C, 3))),
                   rng.normal(size=(C, 3)), error_px=0.41)


def test_toml_has_the_pose2sim_layout_and_round_trips(tmp_path):
    cams = _cams()
    cams.to_toml(tmp_path / "cameras.toml")
    doc = tomllib.loads((tmp_path / "cameras.toml").read_text())
    assert list(doc) == ["cam01", "cam02", "cam03", "metadata"]
    c = doc["cam01"]
    assert set(c) == {"name", "size", "matrix", "distortions", "rotation", "translation", "fisheye"}
    assert c["size"] == [1088.0, 1920.0] and c["fisheye"] is False and len(c["distortions"]) == 4
    assert doc["metadata"] == {"adjusted": False, "error": 0.41}
    back = Cameras.from_toml(tmp_path / "cameras.toml")
    np.testing.assert_allclose(back.R, cams.R, atol=1e-12)
    np.testing.assert_allclose(back.t, cams.t)
    np.testing.assert_allclose(back.K, cams.K)
    np.testing.assert_allclose(back.dist, cams.dist)
    assert back.names == cams.names and back.error_px == 0.41


def test_intrinsics_only_files_are_accepted_where_allowed(tmp_path):
    path = tmp_path / "intrinsics.toml"
    path.write_text('[a]\nname = "a"\nsize = [640.0, 480.0]\n'
                    'matrix = [[500.0, 0.0, 320.0], [0.0, 500.0, 240.0], [0.0, 0.0, 1.0]]\n'
                    'distortions = [0.1, 0.0, 0.0, 0.0, 0.02]\n')
    cams = Cameras.from_toml(path)
    assert not cams.has_extrinsics and cams.dist[0, 4] == 0.02
    with pytest.raises(InputError, match="intrinsics only"):
        Cameras.from_toml(path, require_extrinsics=True)
    with pytest.raises(InputError, match="calibrate"):
        cams.project(np.zeros((1, 3)))


@pytest.mark.parametrize("text,message", [
    ("[a]\nname = 'a'\nsize = [640.0, 480.0]\n", "missing key 'matrix'"),
    ("[a]\nsize = [640.0]\nmatrix = [[1.0,0,0],[0,1.0,0],[0,0,1.0]]\n", "size must have 2"),
    ("[a]\nsize = [640.0, 480.0]\nmatrix = [[1.0,0,0],[0,1.0,0]]\n", "3x3"),
    ("[a]\nsize = [640.0, 480.0]\nmatrix = [[-1.0,0,0],[0,1.0,0],[0,0,1.0]]\n", "not a camera"),
    ("[a]\nsize = [640.0, 480.0]\nmatrix = [[1.0,0,0],[0,1.0,0],[0,0,1.0]]\nfisheye = true\n", "fisheye"),
    ("[a]\nsize = [640.0, 480.0]\nmatrix = [[1.0,0,0],[0,1.0,0],[0,0,1.0]]\nrotation = [0.0,0,0]\n",
     "together"),
    ("[a\nsize = 1", "not a readable TOML"),
    ("[metadata]\nerror = 1.0\n", "no camera sections"),
])
def test_bad_toml_names_file_camera_and_key(tmp_path, text, message):
    path = tmp_path / "cameras.toml"
    path.write_text(text)
    with pytest.raises(InputError, match=message) as e:
        Cameras.from_toml(path)
    assert str(path) in str(e.value)


def test_select_and_project():
    cams = _cams()
    sub = cams.select(["cam03", "cam01"])
    assert sub.names == ["cam03", "cam01"]
    np.testing.assert_allclose(sub.R[1], cams.R[0])
    with pytest.raises(InputError, match="cam09"):
        cams.select(["cam09"])
