"""compare_calibrations: zero against its own exports, the known answer against perturbed rigs."""
from dataclasses import replace

import cv2
import numpy as np
import pytest

from epicap.errors import InputError
from epicap.session.calibration_compare import compare_calibrations
from epicap.session.calibration_formats import load_calibration
from epicap.synthetic import ring_rig


def _turn(axis, deg):
    return cv2.Rodrigues(np.radians(deg) * np.asarray(axis, float) / np.linalg.norm(axis))[0]


@pytest.fixture
def qualisys(demo_qca):
    """The real Qualisys calibration (tests/conftest.py)."""
    return demo_qca


def _write_opencv(path, cams):
    fs = cv2.FileStorage(str(path), cv2.FILE_STORAGE_WRITE)
    for c, name in enumerate(cams.names):
        fs.startWriteStruct(name, cv2.FileNode_MAP)
        fs.write("camera_matrix", cams.K[c])
        fs.write("distortion_coefficients", cams.dist[c])
        fs.write("image_width", int(cams.image_size[c, 0]))
        fs.write("image_height", int(cams.image_size[c, 1]))
        fs.write("R", cams.R[c])
        fs.write("T", cams.t[c])
        fs.endWriteStruct()
    fs.release()


def test_real_qualisys_against_its_own_exports(qualisys, tmp_path):
    from epicap.export.colmap import write_colmap

    a = load_calibration(qualisys)
    a.to_toml(tmp_path / "cameras.toml")
    write_colmap(tmp_path / "colmap", a, text=True)
    _write_opencv(tmp_path / "rig.yml", a)
    for other in (tmp_path / "cameras.toml", tmp_path / "colmap", tmp_path / "rig.yml"):
        cmp = compare_calibrations(a, load_calibration(other))
        assert cmp.cameras == ["cam01", "cam02", "cam03", "cam04"]
        assert cmp.relative_rotation_deg.shape == (6,)
        assert cmp.relative_rotation_deg.max() < 1e-6 and cmp.rotation_deg.max() < 1e-6
        assert cmp.centre_error_m.max() < 1e-9 and abs(cmp.scale - 1) < 1e-9
        assert cmp.up_deg < 1e-6
        assert np.abs(cmp.focal_px).max() < 1e-9 and np.abs(cmp.principal_px).max() < 1e-9


def test_real_qualisys_against_a_perturbed_rig(qualisys):
    a = load_calibration(qualisys)
    # the whole rig in another world frame: turned, shifted and in centimetres
    Q, s, p = _turn([0.3, -1, 0.2], 40), 100.0, np.array([1.0, -2.0, 0.5])
    R = a.R @ Q.T
    t = s * a.t - np.einsum("cij,j->ci", R, p)
    # camera cam03 turned 1.5 degrees about its own centre, cam02's focal 1% up, cam04's
    # principal point 5 px right
    R[2] = _turn([0, 1, 0.4], 1.5) @ R[2]
    t[2] = -R[2] @ (s * Q @ a.centers[2] + p)
    K = a.K.copy()
    K[1, :2, :2] *= 1.01
    K[3, 0, 2] += 5
    b = replace(a, K=K, R=R, t=t)
    cmp = compare_calibrations(a, b)
    expected = [1.5 if "cam03" in pair else 0.0 for pair in cmp.pairs]
    np.testing.assert_allclose(cmp.relative_rotation_deg, expected, atol=1e-9)
    assert abs(cmp.scale - 1 / s) < 1e-9 and cmp.centre_error_m.max() < 1e-9
    assert cmp.up_deg == pytest.approx(np.degrees(np.arccos(Q[2, 2])), abs=1e-6)  # Z vs Z
    np.testing.assert_allclose(cmp.focal_pct, [[0, 0], [1, 1], [0, 0], [0, 0]], atol=1e-9)
    np.testing.assert_allclose(cmp.focal_px[1], a.K[1, [0, 1], [0, 1]] * 0.01, atol=1e-9)
    np.testing.assert_allclose(cmp.principal_px, [[0, 0]] * 3 + [[5, 0]], atol=1e-9)
    assert abs(cmp.principal_pct[3, 0] - 100 * 5 / 1088) < 1e-9
    # one camera off by 1.5 deg: after the best common rotation it carries most of it
    assert cmp.rotation_deg.argmax() == 2 and 1.0 < cmp.rotation_deg[2] < 1.5
    text = cmp.table()
    assert "cam01-cam03 | 1.5" in text and "scale (b to a): 0.01" in text
    assert f"Z axes, angle between (deg): {cmp.up_deg:.2f}" in text and cmp.to_dict()["up_deg"]


def test_a_moved_centre_and_the_two_camera_case():
    a = ring_rig(4, radius_m=4.0)
    t = a.t.copy()
    t[0] -= a.R[0] @ np.array([0.0, 0, 0.1])  # cam01 10 cm up (world z), same orientation
    cmp = compare_calibrations(a, replace(a, t=t))
    assert cmp.relative_rotation_deg.max() < 1e-9
    # a square of centres with one corner lifted by h: the best similarity tilts and lifts the
    # square, leaving h/4 at every corner (the residual +-h/4 pattern is orthogonal to every
    # similarity of a square, to first order)
    np.testing.assert_allclose(cmp.centre_error_m, 0.025, atol=1e-4)
    # two cameras: no Umeyama, the scale from the camera rotations and the baseline
    two = a.select(["cam01", "cam03"])
    cmp = compare_calibrations(two, replace(two, t=3 * two.t))
    assert abs(cmp.scale - 1 / 3) < 1e-9 and cmp.centre_error_m.max() < 1e-9
    assert "two cameras" in cmp.alignment
    # cameras along one line: no refusal, the same fallback
    line = a.select(["cam01", "cam02", "cam03"])
    centres = np.array([[-2.0, -4, 1.5], [0, -4, 1.5], [2, -4, 1.5]])
    line = replace(line, t=-np.einsum("cij,cj->ci", line.R, centres))
    cmp = compare_calibrations(line, replace(line, t=2 * line.t))
    assert abs(cmp.scale - 0.5) < 1e-9 and cmp.centre_error_m.max() < 1e-9
    assert "one line" in cmp.alignment


def test_intrinsics_only_and_no_shared_camera():
    a = ring_rig(3)
    K = a.K.copy()
    K[:, :2, :2] *= 1.02
    b = replace(a, R=None, t=None, K=K)
    cmp = compare_calibrations(a, b)
    assert cmp.rotation_deg is None and "b holds intrinsics only" in cmp.notes[0]
    np.testing.assert_allclose(cmp.focal_pct, 2.0, atol=1e-9)
    assert not any("rotation" in k for k in cmp.summary()) and cmp.to_dict()["pairs"] == []
    with pytest.raises(InputError, match="share no camera"):
        compare_calibrations(a, replace(a, names=["x", "y", "z"]))
