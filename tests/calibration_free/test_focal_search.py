import numpy as np
import pytest

from epicap.calibration_free.focal_search import search_focal
from epicap.calibration_free.focal_choice import quick_solve_cost
from epicap.calibration_free.pipeline import CalibrationOptions, _data_weights
from tests.calibration_free.scene import camera_ring, observe, person_motion


def test_search_finds_the_minimum_of_a_cost_in_log_focal():
    calls = []

    def cost(f):
        calls.append(f)
        return np.log(f / 1234.0) ** 2 if f < 5000 else np.inf

    res = search_focal(cost, 2203.0, extra=(900.0,))
    assert res.success and res.focal_px == pytest.approx(1234.0, rel=0.005)
    assert min(abs(c - 900.0) for c in res.candidates) < 1e-6 and np.isinf(max(res.costs))
    assert len(calls) == len(set(calls)) < 40  # no candidate is evaluated twice


def test_search_fails_cleanly_when_nothing_fits():
    res = search_focal(lambda f: np.inf, 2000.0)
    assert not res.success and "focal length" in res.message and np.isnan(res.focal_px)


def test_fixed_focal_cost_is_lowest_near_the_true_focal():
    cams = camera_ring(4, seed=2)  # focal 1400 px
    kp = observe(cams, person_motion(60, 1), noise_px=2.0, outliers=0.05, seed=3)
    px = kp.points.astype(np.float64)
    w = np.where(np.isfinite(px).all(-1), kp.confidence, 0.0)
    size = kp.image_size.astype(np.float64)
    costs = {s: quick_solve_cost(px, w, size, 1400.0 * s, CalibrationOptions())
             for s in (0.75, 1.0, 1.33)}
    assert costs[1.0] < 3.0  # about the noise: 2 px per axis -> 2.4 px median norm
    assert costs[0.75] > 1.5 * costs[1.0] and costs[1.33] > 1.5 * costs[1.0]


def test_data_weights_downweigh_one_camera_s_biased_joint():
    rng = np.random.default_rng(0)
    C, F, J = 4, 200, 5
    groups = np.tile(np.arange(J), F)
    residuals = np.abs(rng.normal(0, 2.0, (C, F * J)))
    residuals[1, groups == 3] += 15.0  # camera 1 places joint 3 15 px off in every frame
    residuals[:, groups == 4] *= 3  # joint 4 is loose in every camera
    inliers = np.ones_like(residuals, bool)
    w = _data_weights(residuals, inliers, groups, J, np.ones((C, F * J)))
    per = np.array([[w[c, groups == j].mean() for j in range(J)] for c in range(C)])
    assert per[1, 3] < 0.2 * per[0, 3]  # the biased camera-joint
    np.testing.assert_allclose(per[[0, 2, 3], 3], per[0, 0], rtol=0.35)  # others barely touched
    assert per[0, 4] < 0.25 * per[0, 0]  # a joint loose everywhere weighs less everywhere


def test_a_coarse_cost_only_brackets_the_minimum():
    full, cheap = [], []

    def cost(f):
        full.append(f)
        return np.log(f / 1234.0) ** 2

    def coarse(f):  # a cheaper cost whose minimum sits 8% off, as with fewer frames
        cheap.append(f)
        return np.log(f / 1333.0) ** 2

    res = search_focal(cost, 2203.0, extra=(900.0,), coarse=coarse)
    assert res.success and res.focal_px == pytest.approx(1234.0, rel=0.005)
    assert len(cheap) == 12 and len(full) < 15  # the grid ran on the coarse cost only
