import numpy as np
import pytest

from epicap.errors import InputError
from epicap.geometry.bundle_adjustment import (BundleAdjustmentOptions, _Problem, bundle_adjust,
                                               robust_sigma)
from epicap.geometry.camera import rotation_from_rodrigues
from tests.calibration_free.scene import camera_ring, person_motion


def _setup(seed=0, noise=1.0, outliers=0.0, C=4, T=40):
    rng = np.random.default_rng(seed)
    cams = camera_ring(C, seed=seed)
    X = person_motion(T, seed).reshape(-1, 3)
    uv = cams.project(X) + rng.normal(0, noise, (C, len(X), 2))
    bad = rng.random(uv.shape[:2]) < outliers
    uv[bad] += rng.uniform(-80, 80, (bad.sum(), 2))
    R0 = rotation_from_rodrigues(rng.normal(0, 0.01, (C, 3))) @ cams.R
    R0[0] = cams.R[0]
    t0 = cams.t + rng.normal(0, 0.05, (C, 3))
    t0[0] = cams.t[0]
    X0 = X + rng.normal(0, 0.03, X.shape)
    return cams, X, uv, R0, t0, X0


def _rot_err(Ra, Rb):
    return max(np.degrees(np.arccos(np.clip((np.trace(a.T @ b) - 1) / 2, -1, 1)))
               for a, b in zip(Ra, Rb))


@pytest.mark.parametrize("outliers", [0.0, 0.1])
def test_adjustment_moves_cameras_to_truth(outliers):
    cams, X, uv, R0, t0, X0 = _setup(outliers=outliers)
    w = np.ones(uv.shape[:2])
    before = _rot_err(R0, cams.R)
    res = bundle_adjust(uv, w, cams.K, None, R0, t0, X0, options=BundleAdjustmentOptions())
    assert res.success and res.moved > 1e-3  # the optimizer did move the cameras
    assert before > 0.5 and _rot_err(res.R, cams.R) < 0.1
    assert res.rms_px < 1.6 and abs(res.sigma_px - 1.18) < 0.3  # 1 px per axis -> 1.18 norm


def test_per_camera_focal_is_recovered():
    cams, X, uv, R0, t0, X0 = _setup(seed=1)
    K0 = cams.K.copy()
    K0[:, 0, 0] *= [1.0, 1.04, 0.97, 1.05]
    K0[:, 1, 1] = K0[:, 0, 0]
    res = bundle_adjust(uv, np.ones(uv.shape[:2]), K0, None, R0, t0, X0,
                        options=BundleAdjustmentOptions(focal="per_camera"))
    np.testing.assert_allclose(res.K[:, 0, 0], cams.K[:, 0, 0], rtol=0.01)


def test_focal_prior_holds_focal_lengths_near_their_start():
    cams, X, uv, R0, t0, X0 = _setup(seed=1)
    K0 = cams.K.copy()
    K0[:, 0, 0] *= 1.05
    K0[:, 1, 1] = K0[:, 0, 0]
    free = bundle_adjust(uv, np.ones(uv.shape[:2]), K0, None, R0, t0, X0,
                         options=BundleAdjustmentOptions(focal="per_camera"))
    held = bundle_adjust(uv, np.ones(uv.shape[:2]), K0, None, R0, t0, X0,
                         options=BundleAdjustmentOptions(focal="per_camera", focal_prior=1e-4))
    np.testing.assert_allclose(free.K[:, 0, 0], cams.K[:, 0, 0], rtol=0.01)  # data win
    np.testing.assert_allclose(held.K[:, 0, 0], K0[:, 0, 0], rtol=0.002)  # the prior wins


def test_analytic_jacobian_matches_finite_differences():
    rng = np.random.default_rng(3)
    cams, X, uv, R0, t0, X0 = _setup(C=3, T=3)
    c, n = np.nonzero(np.isfinite(uv).all(-1))
    dist = np.tile([0.05, -0.02, 0.001, 0.002, 0.0], (3, 1))
    prob = _Problem(uv[c, n], c, n, n % 17, cams.K, dist, R0, t0, X0, 17,
                    BundleAdjustmentOptions(focal="per_camera", offsets=True))
    prob.focal_rows = np.array([3.0, 5.0, 7.0])  # the focal prior's rows are in it too
    prob.spread_rows = np.array([2.0, 4.0, 6.0])
    p = prob.x0 + rng.normal(0, 0.02, len(prob.x0))
    J = prob.jacobian(p).toarray()
    Jn = np.zeros_like(J)
    for k in range(len(p)):
        d = np.zeros(len(p))
        d[k] = 1e-6
        Jn[:, k] = (prob.residuals(p + d) - prob.residuals(p - d)) / 2e-6
    assert np.abs(J - Jn).max() < 1e-3 * np.abs(Jn).max()


@pytest.mark.parametrize("loss, scale", [("cauchy", 1.0), ("geman_mcclure", 2.5),
                                         ("geman_mcclure", 1.5)])
def test_robust_losses_reject_outliers(loss, scale):
    cams, X, uv, R0, t0, X0 = _setup(seed=4, outliers=0.2)
    w = np.ones(uv.shape[:2])
    base = bundle_adjust(uv, w, cams.K, None, R0, t0, X0, options=BundleAdjustmentOptions())
    res = bundle_adjust(uv, w, cams.K, None, R0, t0, X0,
                        options=BundleAdjustmentOptions(loss=loss, cauchy_scale=scale))
    assert res.success and _rot_err(res.R, cams.R) < 0.1
    # the option reaches the weights: a different loss lands on (slightly) different cameras
    assert np.abs(res.R - base.R).max() > 1e-9


def test_bad_input():
    with pytest.raises(InputError):
        bundle_adjust(np.zeros((1, 5, 2)), np.ones((1, 5)), np.eye(3)[None], None,
                      np.eye(3)[None], np.zeros((1, 3)), np.zeros((5, 3)))
    with pytest.raises(InputError):
        BundleAdjustmentOptions(focal="both")
    with pytest.raises(InputError, match="robust loss"):
        BundleAdjustmentOptions(loss="huber")
    with pytest.raises(InputError, match="scale"):
        BundleAdjustmentOptions(cauchy_scale=0.0)


def test_robust_sigma():
    r = np.random.default_rng(0).normal(0, 2.0, 100000)
    assert abs(robust_sigma(np.abs(r)) - 2.0) < 0.05


def test_gauge_row_is_analytic_and_exact():
    # its entries are ~1e3 smaller than the pixel rows: checked on their own scale
    rng = np.random.default_rng(4)
    cams, X, uv, R0, t0, X0 = _setup(C=4, T=2)
    c, n = np.nonzero(np.isfinite(uv).all(-1))
    prob = _Problem(uv[c, n], c, n, n % 17, cams.K, np.zeros((4, 5)), R0, t0, X0, 17,
                    BundleAdjustmentOptions())
    p = prob.x0 + rng.normal(0, 0.05, len(prob.x0))
    row = prob.jacobian(p).toarray()[-1, :prob.n_cam]
    num = np.array([(prob._gauge(p + d) - prob._gauge(p - d)) / 2e-6
                    for d in np.eye(len(p))[:prob.n_cam] * 1e-6])
    assert np.abs(num).max() > 1.0
    np.testing.assert_allclose(row, num, atol=1e-6 * np.abs(num).max())


@pytest.mark.parametrize("focal, offsets", [("fixed", False), ("per_camera", False),
                                            ("shared", True)])
def test_schur_solver_reaches_the_lsmr_solution(focal, offsets):
    cams, X, uv, R0, t0, X0 = _setup(seed=2, outliers=0.1, C=4, T=30)
    K0 = cams.K.copy()
    K0[:, [0, 1], [0, 1]] *= 1.03
    w = np.ones(uv.shape[:2])
    groups = np.tile(np.arange(17), 30)
    out = {s: bundle_adjust(uv, w, K0, None, R0, t0, X0, groups, BundleAdjustmentOptions(
        solver=s, focal=focal, offsets=offsets, max_nfev=60)) for s in ("lsmr", "schur")}
    a, b = out["lsmr"], out["schur"]
    assert b.success and b.moved > 1e-3
    assert _rot_err(a.R, b.R) < 0.01  # deg
    np.testing.assert_allclose(b.K, a.K, rtol=1e-4)
    assert b.rms_px <= a.rms_px * 1.001
    with pytest.raises(InputError, match="valid: schur, lsmr"):
        BundleAdjustmentOptions(solver="cg")
