import cv2
import numpy as np
import pytest

from epicap.errors import InputError
from epicap.geometry.camera import (camera_centers, project_points, projection_matrices,
                                    rodrigues_from_rotation, rotation_from_rodrigues,
                                    undistort_points)


def _rig(seed=0, C=3):
    rng = np.random.default_rng(seed)
    rvec = rng.normal(scale=0.3, size=(C, 3))
    R = rotation_from_rodrigues(rvec)
    t = rng.normal(scale=0.2, size=(C, 3)) + [0, 0, 4.0]
    K = np.tile(np.array([[900.0, 0, 640], [0, 910.0, 360], [0, 0, 1]]), (C, 1, 1))
    dist = np.array([[-0.2, 0.05, 0.001, -0.002, 0.01]] * C) * rng.uniform(0.5, 1.5, (C, 1))
    return rvec, R, t, K, dist


def test_rodrigues_matches_opencv_and_round_trips():
    rng = np.random.default_rng(1)
    rvec = rng.normal(size=(20, 3))
    rvec[0] = 0.0
    rvec[1] = [np.pi - 1e-9, 0, 0]
    R = rotation_from_rodrigues(rvec)
    ref = np.stack([cv2.Rodrigues(r)[0] for r in rvec])
    np.testing.assert_allclose(R, ref, atol=1e-12)
    np.testing.assert_allclose(rotation_from_rodrigues(rodrigues_from_rotation(R)), R, atol=1e-9)


def test_projection_matches_cv2_project_points():
    rvec, R, t, K, dist = _rig()
    rng = np.random.default_rng(2)
    X = rng.uniform(-0.8, 0.8, size=(50, 3))
    pixels, depth = project_points(X, K, R, t, dist)
    assert pixels.shape == (3, 50, 2) and depth.shape == (3, 50)
    for c in range(3):
        ref, _ = cv2.projectPoints(X, rvec[c], t[c], K[c], dist[c])
        np.testing.assert_allclose(pixels[c], ref.reshape(-1, 2), atol=1e-8)


def test_points_behind_the_camera_and_nan_project_to_nan():
    _, R, t, K, dist = _rig(C=1)
    X = np.array([[0, 0, -10.0], [np.nan, 0, 0], [0, 0, 0]])
    pixels, _ = project_points(X, K, R, t, dist)
    assert np.isnan(pixels[0, :2]).all() and np.isfinite(pixels[0, 2]).all()


def test_undistort_inverts_projection_and_matches_opencv():
    rvec, R, t, K, dist = _rig(3)
    rng = np.random.default_rng(4)
    X = rng.uniform(-0.8, 0.8, size=(40, 3))
    pixels, _ = project_points(X, K, R, t, dist)
    pixels[1, 5] = np.nan
    xy = undistort_points(pixels, K, dist)
    x_cam = np.einsum("cij,nj->cni", R, X) + t[:, None]
    expected = x_cam[..., :2] / x_cam[..., 2:]
    ok = np.isfinite(pixels).all(-1)
    np.testing.assert_allclose(xy[ok], expected[ok], atol=1e-7)
    assert np.isnan(xy[1, 5]).all()
    for c in range(3):
        ref = cv2.undistortPoints(pixels[c][ok[c]].reshape(-1, 1, 2), K[c], dist[c]).reshape(-1, 2)
        np.testing.assert_allclose(xy[c][ok[c]], ref, atol=1e-4)  # cv2's default: 5 iterations


def test_undistort_without_distortion_is_inverse_K():
    _, _, _, K, _ = _rig()
    pix = np.random.default_rng(5).uniform(0, 1000, size=(3, 7, 2))
    xy = undistort_points(pix, K)
    np.testing.assert_allclose(xy[..., 0], (pix[..., 0] - 640) / 900)


def test_centers_and_projection_matrices():
    _, R, t, K, _ = _rig()
    C = camera_centers(R, t)
    np.testing.assert_allclose(np.einsum("cij,cj->ci", R, C) + t, 0, atol=1e-12)
    P = projection_matrices(K, R, t)
    X = np.array([0.1, -0.2, 0.3])
    h = P @ np.append(X, 1)
    pixels, _ = project_points(X[None], K, R, t)
    np.testing.assert_allclose(h[:, :2] / h[:, 2:], pixels[:, 0], atol=1e-9)


def test_bad_shapes_raise_input_error():
    _, R, t, K, _ = _rig()
    with pytest.raises(InputError, match="points_world"):
        project_points(np.zeros((5, 2)), K, R, t)
    with pytest.raises(InputError, match="t"):
        project_points(np.zeros((5, 3)), K, R, t[:2])
