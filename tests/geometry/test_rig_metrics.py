import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from epicap.errors import InputError
from epicap.geometry.camera import camera_centers
from epicap.geometry.rig_metrics import compare_rigs


def _rig(C=4, seed=0):
    rng = np.random.default_rng(seed)
    R = Rotation.random(C, random_state=seed).as_matrix()
    t = rng.normal(size=(C, 3)) + [0, 0, 5]
    return R, t


def test_a_rig_in_another_similar_world_frame_has_zero_error():
    R, t = _rig()
    Q = Rotation.from_rotvec([0.3, -1.0, 0.4]).as_matrix()  # world_est = s Q world_true + p
    s, p = 0.37, np.array([1.0, -2.0, 0.5])
    # x_cam = R X = R Q^T (X' - p) / s  ->  R' = R Q^T, t' = (t - R Q^T p)... scaled by s
    R_est = R @ Q.T
    t_est = s * t - np.einsum("cij,j->ci", R_est, p)
    cmp = compare_rigs(R, t, R_est, t_est)
    np.testing.assert_allclose(cmp.rotation_deg, 0, atol=1e-6)
    np.testing.assert_allclose(cmp.relative_rotation_deg, 0, atol=1e-6)
    np.testing.assert_allclose(cmp.centre_error_m, 0, atol=1e-9)
    np.testing.assert_allclose(cmp.scale, 1 / s)


def test_a_known_perturbation_is_measured():
    R, t = _rig(seed=1)
    R_est = R.copy()
    R_est[2] = Rotation.from_rotvec([0, np.radians(2.0), 0]).as_matrix() @ R[2]
    cmp = compare_rigs(R, t, R_est, t)
    # pairs with camera 2 are off by exactly 2 degrees, the others not at all
    for (a, b), err in zip(cmp.pairs, cmp.relative_rotation_deg):
        assert np.isclose(err, 2.0 if 2 in (a, b) else 0.0, atol=1e-9)
    assert cmp.rotation_deg[2] > 1.0
    centres = camera_centers(R, t)
    assert cmp.centre_error_m[2] > 0.01 * np.linalg.norm(centres[2])  # centre moved with R


def test_a_single_camera_is_refused():
    R, t = _rig(C=1)
    with pytest.raises(InputError, match="at least 2 cameras"):
        compare_rigs(R, t, R, t)
