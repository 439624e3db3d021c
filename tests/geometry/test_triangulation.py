import cv2
import numpy as np
import pytest

from epicap.errors import InputError
from epicap.geometry.camera import project_points, projection_matrices
from epicap.geometry.triangulation import TriangulationOptions, triangulate, triangulate_dlt
from tests.geometry.rigs import ring_krt


def body_points(N, seed=0):
    return np.random.default_rng(seed).normal([0, 0, 1], [0.3, 0.3, 0.5], (N, 3))


def test_dlt_exact_and_matches_opencv_two_views():
    K, R, t = ring_krt(4)
    P = projection_matrices(K, R, t)
    X = body_points(500)
    pixels, _ = project_points(X, K, R, t)
    np.testing.assert_allclose(triangulate_dlt(P, pixels), X, atol=1e-9)
    noisy = pixels + np.random.default_rng(1).normal(0, 1.0, pixels.shape)
    h = cv2.triangulatePoints(P[0], P[1], noisy[0].T, noisy[1].T)
    ref = (h[:3] / h[3]).T
    ours = triangulate_dlt(P[:2], noisy[:2])
    # different row scalings give different least-squares optima under noise: within 2 mm at 1 px
    # (the errors themselves are ~6 mm)
    assert np.abs(ours - ref).max() < 2e-3
    mean_error = lambda Y: np.linalg.norm(Y - X, axis=1).mean()
    assert abs(mean_error(ours) - mean_error(ref)) < 2e-4


def test_dlt_normalized_coordinates_and_weights():
    K, R, t = ring_krt(3)
    X = body_points(50)
    pixels, depth = project_points(X, K, R, t)
    normalized = np.einsum("cij,cnj->cni", R, np.broadcast_to(X, (3, 50, 3))) + t[:, None]
    normalized = normalized[..., :2] / normalized[..., 2:]
    Rt = np.concatenate([R, t[:, :, None]], axis=2)
    np.testing.assert_allclose(triangulate_dlt(Rt, normalized), X, atol=1e-9)
    # a wrong view with weight 0 is ignored; a NaN weight too
    bad = normalized.copy()
    bad[2] += 0.3
    w = np.ones((3, 50))
    w[2, :25], w[2, 25:] = 0.0, np.nan
    np.testing.assert_allclose(triangulate_dlt(Rt, bad, w), X, atol=1e-9)
    # weights scale each view's share: a heavier wrong view pulls the point further
    w_small, w_large = np.ones((3, 50)), np.ones((3, 50))
    w_small[2], w_large[2] = 0.1, 10.0
    e_small = np.linalg.norm(triangulate_dlt(Rt, bad, w_small) - X, axis=1)
    e_large = np.linalg.norm(triangulate_dlt(Rt, bad, w_large) - X, axis=1)
    assert (e_small < e_large).all()


def test_dlt_degenerate_inputs_give_nan():
    K, R, t = ring_krt(3)
    P = projection_matrices(K, R, t)
    X = body_points(4)
    pixels, _ = project_points(X, K, R, t)
    pixels[1:, 0] = np.nan              # point 0: one view only
    pixels[:, 1] = np.nan               # point 1: no view
    out = triangulate_dlt(P, pixels)
    assert np.isnan(out[:2]).all() and np.isfinite(out[2:]).all()
    # two cameras at the same centre: the rays coincide, no depth
    P_same = projection_matrices(K[:2], R[[0, 0]], t[[0, 0]])
    px, _ = project_points(X, K[:2], R[[0, 0]], t[[0, 0]])
    assert np.isnan(triangulate_dlt(P_same, px)).all()


def test_dlt_bad_input():
    with pytest.raises(InputError, match="points2d"):
        triangulate_dlt(np.zeros((2, 3, 4)), np.zeros((3, 5, 2)))
    with pytest.raises(InputError, match="weights"):
        triangulate_dlt(np.zeros((2, 3, 4)), np.zeros((2, 5, 2)), np.ones((2, 4)))


def _scene(C=4, T=200, J=17, noise_px=1.0, outlier_rate=0.1, dist=True, seed=0):
    rng = np.random.default_rng(seed)
    K, R, t = ring_krt(C)
    d = np.tile([0.05, -0.02, 0.001, -0.001, 0.0], (C, 1)) if dist else None
    X = body_points(T * J, seed)
    pixels, _ = project_points(X, K, R, t, d)
    noisy = pixels + rng.normal(0, noise_px, pixels.shape)
    outlier = rng.random(pixels.shape[:2]) < outlier_rate
    noisy[outlier] = rng.uniform([0, 0], [1920, 1080], (outlier.sum(), 2))
    return K, R, t, d, X.reshape(T, J, 3), noisy.reshape(C, T, J, 2), outlier.reshape(C, T, J)


def test_triangulate_exact_with_distortion_and_shapes():
    K, R, t, d, X, pixels, _ = _scene(noise_px=0.0, outlier_rate=0.0)
    res = triangulate(pixels, K, R, t, d)
    assert res.points3d.shape == (200, 17, 3) and res.views.shape == (200, 17)
    assert res.inliers.shape == (4, 200, 17) and res.reprojection_error.shape == (200, 17)
    np.testing.assert_allclose(res.points3d, X, atol=1e-7)
    assert (res.views == 4).all() and np.nanmax(res.reprojection_error) < 1e-5
    # results do not depend on the chunking
    small = triangulate(pixels, K, R, t, d, options=TriangulationOptions(chunk_size=97))
    np.testing.assert_allclose(small.points3d, res.points3d, atol=1e-12)


@pytest.mark.parametrize("method", ["pairs", "drop_worst"])
def test_triangulate_rejects_outlier_views(method):
    K, R, t, d, X, pixels, outlier = _scene(C=5, noise_px=1.0, outlier_rate=0.1)
    opts = TriangulationOptions(method=method)
    res = triangulate(pixels, K, R, t, d, options=opts)
    plain = triangulate(pixels, K, R, t, d, options=TriangulationOptions(outlier_threshold_px=None))
    error = np.linalg.norm(res.points3d - X, axis=-1)
    plain_error = np.linalg.norm(plain.points3d - X, axis=-1)
    assert np.nanmean(plain_error) > 0.1                 # outliers ruin the plain DLT
    assert np.nanmedian(error) < 0.006                   # ~1 px noise at 4 m, f = 1000
    assert np.mean(res.valid) > 0.99
    # the inliers found are the views that were not corrupted, for nearly every point
    agree = (res.inliers == ~outlier).all(axis=0)[res.valid]
    assert agree.mean() > 0.97
    used = res.inliers.sum(axis=0)
    np.testing.assert_array_equal(used, res.views)
    # reported error: mean pixel distance over the views used, checked against project_points
    proj, _ = project_points(res.points3d.reshape(-1, 3), K, R, t, d)
    dist_px = np.linalg.norm(proj - pixels.reshape(5, -1, 2), axis=-1)
    used = res.inliers.reshape(5, -1)
    valid = used.any(axis=0)
    ref = np.where(used, dist_px, 0.0).sum(0)[valid] / used.sum(0)[valid]
    np.testing.assert_allclose(res.reprojection_error.reshape(-1)[valid], ref, rtol=1e-9)
    assert np.isnan(res.reprojection_error.reshape(-1)[~valid]).all()


def test_triangulate_confidence_and_min_views():
    K, R, t, d, X, pixels, _ = _scene(C=3, T=10, noise_px=0.0, outlier_rate=0.0)
    conf = np.ones((3, 10, 17))
    conf[0, 0, :] = 0.05                                  # below min_confidence: unseen
    conf[1, 1, :] = 0.0
    conf[:2, 2, :] = 0.0                                  # only one view left
    res = triangulate(pixels, K, R, t, d, conf)
    assert (res.views[0] == 2).all() and not res.inliers[0, 0].any()
    assert (res.views[2] == 0).all() and np.isnan(res.points3d[2]).all()
    assert np.isnan(res.reprojection_error[2]).all()
    three = triangulate(pixels, K, R, t, d, conf, TriangulationOptions(min_views=3))
    assert (three.views[:3] == 0).all() and (three.views[3:] == 3).all()


def test_refine_reduces_reprojection_error():
    K, R, t, d, X, pixels, _ = _scene(C=4, T=50, noise_px=3.0, outlier_rate=0.0)
    conf = np.random.default_rng(3).uniform(0.3, 1.0, (4, 50, 17))
    lin = triangulate(pixels, K, R, t, d, conf, TriangulationOptions(outlier_threshold_px=None))
    ref = triangulate(pixels, K, R, t, d, conf, TriangulationOptions(outlier_threshold_px=None,
                                                                      refine=True))
    # the refinement minimizes the weighted squared pixel error: it must not go up anywhere
    def cost(res):
        proj, _ = project_points(res.points3d.reshape(-1, 3), K, R, t, d)
        e2 = ((proj - pixels.reshape(4, -1, 2)) ** 2).sum(-1)
        return (conf.reshape(4, -1) * e2).sum(0)
    assert (cost(ref) <= cost(lin) * (1 + 1e-9)).all()
    assert cost(ref).sum() < 0.99 * cost(lin).sum()
    # with the outlier test on, refining never loses a point the linear solve kept
    robust = triangulate(pixels, K, R, t, d, conf, TriangulationOptions(outlier_threshold_px=8.0))
    polished = triangulate(pixels, K, R, t, d, conf, TriangulationOptions(outlier_threshold_px=8.0,
                                                                          refine=True))
    np.testing.assert_array_equal(polished.valid, robust.valid)
    # against scipy's optimizer on a few points
    from scipy.optimize import least_squares
    for n in range(5):
        j, k = divmod(n, 17)
        def resid(Y):
            p, _ = project_points(Y[None], K, R, t, d)
            return (np.sqrt(conf[:, j, k])[:, None] * (p[:, 0] - pixels[:, j, k])).ravel()
        best = least_squares(resid, lin.points3d[j, k], xtol=1e-14, ftol=1e-14).x
        np.testing.assert_allclose(ref.points3d[j, k], best, atol=2e-4)


def test_triangulate_bad_input_and_options():
    K, R, t = ring_krt(3)
    with pytest.raises(InputError, match="points2d"):
        triangulate(np.zeros((2, 5, 2)), K, R, t)
    with pytest.raises(InputError, match="confidence"):
        triangulate(np.zeros((3, 5, 2)), K, R, t, confidence=np.ones((3, 4)))
    with pytest.raises(InputError, match="infinite"):
        triangulate(np.full((3, 5, 2), np.inf), K, R, t)
    with pytest.raises(InputError, match="min_views"):
        TriangulationOptions(min_views=1)
    with pytest.raises(InputError, match="pairs"):
        TriangulationOptions(method="ransac")


def test_confidence_breaks_the_tie_between_two_agreeing_pairs():
    # three views: cam 2's point is wrong but lies exactly on cam 0's epipolar line, so the pair
    # (0, 2) agrees perfectly while the true pair (0, 1) carries noise. Unweighted, the better fit
    # wins (the wrong one); weighted by confidence, rejecting the doubtful view is cheaper.
    K, R, t = ring_krt(3)
    X = np.array([[0.1, 0.2, 1.1]])
    wrong = X + 0.4 * (X - (-R[0].T @ t[0])) / np.linalg.norm(X - (-R[0].T @ t[0]))  # on ray 0
    px_true, _ = project_points(X, K, R, t)
    px_wrong, _ = project_points(wrong, K, R, t)
    pixels = px_true.copy()
    pixels[1] += [1.5, -1.0]                                   # the true pair is noisy
    pixels[2] = px_wrong[2]                                   # cam 2: the agreeing outlier
    conf = np.array([[0.9], [0.9], [0.2]])
    opts = TriangulationOptions(noise_factor=None)
    plain = triangulate(pixels, K, R, t, options=opts)
    weighted = triangulate(pixels, K, R, t, confidence=conf, options=opts)
    assert plain.inliers[:, 0].tolist() == [True, False, True]
    assert weighted.inliers[:, 0].tolist() == [True, True, False]
    assert np.linalg.norm(weighted.points3d - X) < 0.01 < np.linalg.norm(plain.points3d - X)


def test_threshold_follows_the_noise():
    thresholds = {}
    for noise in (1.0, 2.0, 4.0):
        K, R, t, d, X, pixels, _ = _scene(C=4, T=100, noise_px=noise, outlier_rate=0.1)
        thresholds[noise] = triangulate(pixels, K, R, t, d).threshold_px
        fixed = triangulate(pixels, K, R, t, d, options=TriangulationOptions(noise_factor=None))
        assert fixed.threshold_px == 20.0
    # 5 x the median residual, about 0.93 sigma with 4 views: ~4.6 sigma, capped at 20 px
    assert 3.5 < thresholds[1.0] < 5.5
    assert 1.8 < thresholds[2.0] / thresholds[1.0] < 2.2
    assert thresholds[4.0] == 20.0 or 3.6 < thresholds[4.0] / thresholds[1.0] < 4.4
    # too few points to estimate the noise: the fixed threshold
    K, R, t, d, X, pixels, _ = _scene(C=4, T=2, noise_px=1.0, outlier_rate=0.0)
    assert triangulate(pixels, K, R, t, d).threshold_px == 20.0
    assert triangulate(pixels, K, R, t, d,
                       options=TriangulationOptions(outlier_threshold_px=None)).threshold_px is None
    with pytest.raises(InputError, match="noise_factor"):
        TriangulationOptions(noise_factor=0.0)
