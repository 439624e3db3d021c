import numpy as np
import pytest

from epicap.errors import InputError
from epicap.geometry.epipolar import (RansacOptions, essential_from_pose, estimate_relative_pose,
                                      pair_conditioning, relative_pose_per_frame, rotation_y,
                                      sampson_error, signed_sampson)


def _two_views(n=400, noise=0.0, outliers=0.0, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, (n, 3)) * [1.0, 1.0, 0.5] + [0, 0, 5]
    R, t = rotation_y(0.5), np.array([-2.0, 0.1, 0.5])
    Y = X @ R.T + t
    x1 = X[:, :2] / X[:, 2:] + rng.normal(0, noise, (n, 2))
    x2 = Y[:, :2] / Y[:, 2:] + rng.normal(0, noise, (n, 2))
    bad = rng.random(n) < outliers
    x2[bad] += rng.uniform(-0.05, 0.05, (bad.sum(), 2))
    return x1, x2, R, t / np.linalg.norm(t), bad


def _angle(Ra, Rb):
    return np.degrees(np.arccos(np.clip((np.trace(Ra.T @ Rb) - 1) / 2, -1, 1)))


def test_exact_pose_is_recovered():
    x1, x2, R, t, _ = _two_views()
    pose = estimate_relative_pose(x1, x2)
    assert pose.success and pose.num_inliers == len(x1)
    assert _angle(pose.R, R) < 1e-3
    np.testing.assert_allclose(pose.t, t, atol=1e-5)
    assert sampson_error(pose.E, x1, x2).max() < 1e-9


def test_noise_and_outliers():
    # 1 px noise at f = 1000 and 20% outliers; a 25 deg field of view fixes the rotation to about
    # 0.5 deg at this noise (refining from the truth on the clean points gives 0.1-0.6 deg)
    x1, x2, R, t, bad = _two_views(noise=1e-3, outliers=0.2, seed=1)
    pose = estimate_relative_pose(x1, x2, RansacOptions(threshold=3e-3))
    assert pose.success
    assert _angle(pose.R, R) < 1.0
    assert np.degrees(np.arccos(np.clip(pose.t @ t, -1, 1))) < 5.0
    assert (pose.inliers & bad).sum() < 0.2 * bad.sum()  # some land near their epipolar line
    assert pose.inliers[~bad].mean() > 0.9


def test_sampson_matches_truth_essential():
    x1, x2, R, t, _ = _two_views(noise=1e-3, seed=2)
    err = sampson_error(essential_from_pose(R, t), x1, x2)
    assert 2e-4 < np.median(err) < 2e-3  # of the order of the noise


def test_too_few_points_fail_with_message():
    x1, x2, *_ = _two_views(n=10)
    pose = estimate_relative_pose(x1, x2)
    assert not pose.success and "10 joints" in pose.message
    x1[:] = np.nan
    assert not estimate_relative_pose(x1, x2).success


def test_bad_shape():
    with pytest.raises(InputError):
        estimate_relative_pose(np.zeros((10, 3)), np.zeros((10, 3)))


def test_per_frame_baseline():
    x1, x2, R, *_ = _two_views(n=17 * 6)
    a, b = x1.reshape(6, 17, 2).copy(), x2.reshape(6, 17, 2).copy()
    a[5, 3:] = np.nan  # frame 5: too few joints
    Rs, ts, n = relative_pose_per_frame(a, b)
    assert np.isnan(Rs[5]).all() and n[5] == 0
    assert all(_angle(Rs[f], R) < 1e-3 for f in range(5))


def test_conditioning_prefers_parallax():
    x1, x2, R, t, _ = _two_views()
    score, parallax, spread = pair_conditioning(R, t * 2.0, x1, x2)
    assert 10 < parallax < 40 and 0.1 < spread < 1 and score > 0


def test_sampson_in_pixels_against_a_point_moved_off_its_epipolar_line():
    import cv2

    rng = np.random.default_rng(0)
    K = np.array([[800.0, 0, 320], [0, 800, 240], [0, 0, 1]])
    R, _ = cv2.Rodrigues(np.array([0.0, 0.3, 0.0]))
    t = np.array([-1.0, 0.0, 0.1])
    X = rng.uniform([-1, -1, 4], [1, 1, 6], (20, 3))
    x1 = (X @ K.T)[:, :2] / X[:, 2:]
    Xc = X @ R.T + t
    x2 = (Xc @ K.T)[:, :2] / Xc[:, 2:]
    tx = np.array([[0, -t[2], t[1]], [t[2], 0, -t[0]], [-t[1], t[0], 0]])
    Kinv = np.linalg.inv(K)
    F = Kinv.T @ tx @ R @ Kinv
    assert np.abs(sampson_error(F, x1, x2)).max() < 1e-6
    # moving x2 by 3 px along the normal of its epipolar line moves the distance by ~3 px / sqrt 2
    # (Sampson splits the error between both images when they are alike)
    line = np.c_[x1, np.ones(20)] @ F.T
    normal = line[:, :2] / np.linalg.norm(line[:, :2], axis=1, keepdims=True)
    d = sampson_error(F, x1, x2 + 3 * normal)
    assert 1.0 < d.min() and d.max() < 3.01



def test_signed_sampson_broadcasts_and_matches_opencv():
    import cv2

    rng = np.random.default_rng(1)
    F = rng.normal(size=(3, 3))
    x1, x2 = rng.uniform(0, 640, (2, 5, 7, 2))
    d = signed_sampson(F, x1[:, None], x2[None])                    # (5, 5, 7): every pairing
    assert d.shape == (5, 5, 7)
    for i, j, k in [(0, 0, 0), (1, 3, 2), (4, 2, 6)]:
        h1, h2 = np.append(x1[i, k], 1.0), np.append(x2[j, k], 1.0)
        assert d[i, j, k] ** 2 == pytest.approx(cv2.sampsonDistance(h1, h2, F), rel=1e-9)
    assert np.array_equal(sampson_error(F, x1, x2), np.abs(signed_sampson(F, x1, x2)))
    assert np.isnan(signed_sampson(F, np.full(2, np.nan), x2[0, 0]))
