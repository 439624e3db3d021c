"""Each camera's own focal length (rigs that mix lenses), against the known synthetic truth."""
import numpy as np
import pytest

from epicap.calibration_free.focal_resection import resect_focals
from epicap.calibration_free.pipeline import CalibrationOptions, calibrate
from epicap.geometry.camera import project_points
from epicap.geometry.rig_metrics import compare_rigs
from epicap.session import Cameras, Keypoints2D
from tests.calibration_free.scene import camera_ring, observe, person_motion


def _mixed_rig():
    """Five cameras of 1400 px, one of them with a lens twice as long (2800 px)."""
    cams = camera_ring(5, seed=4)
    K = cams.K.copy()
    K[2, 0, 0] = K[2, 1, 1] = 2800.0
    return Cameras(cams.names, cams.image_size, K, cams.dist, cams.R, cams.t)


def test_resection_finds_a_longer_lens_and_keeps_the_others():
    cams = _mixed_rig()
    X = person_motion(60, 2).reshape(-1, 3)
    uv = project_points(X, cams.K, cams.R, cams.t, cams.dist)[0]            # (C, N, 2)
    uv = uv + np.random.default_rng(0).normal(0, 1.0, uv.shape)
    # the 3D points as other cameras would triangulate them: any similarity of the truth
    s, Q = 0.7, np.linalg.qr(np.random.default_rng(1).normal(size=(3, 3)))[0]
    Y = s * X @ Q.T + 0.3
    f = resect_focals([Y] * 5, list(uv), cams.image_size, np.full(5, 1400.0), 4.0)
    assert f[2] == pytest.approx(2800.0, rel=0.02)
    np.testing.assert_array_equal(f[[0, 1, 3, 4]], 1400.0)  # no clear gain: kept
    assert resect_focals([None, Y[:10], Y, Y, Y], list(uv), cams.image_size,
                         np.full(5, 1400.0), 4.0)[:2].tolist() == [1400.0, 1400.0]  # too few


def test_calibration_of_a_rig_that_mixes_lenses():
    cams = _mixed_rig()
    kp = observe(cams, person_motion(120, 1), noise_px=2.0, outliers=0.05, missing=0.05, seed=3)
    own = calibrate(kp, None, CalibrationOptions())
    shared = calibrate(kp, None, CalibrationOptions(shared_focal=True))
    t = cams.select(own.cameras.names)
    rot = {k: compare_rigs(t.R, t.t, r.cameras.R, r.cameras.t).relative_rotation_deg.mean()
           for k, r in (("own", own), ("shared", shared))}
    assert own.cameras.K[2, 0, 0] == pytest.approx(2800.0, rel=0.02)
    assert rot["own"] < 0.3 and rot["own"] < rot["shared"], rot
