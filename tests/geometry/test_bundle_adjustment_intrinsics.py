"""Bundle adjustment with free principal points and radial distortion (issue 12, item 2)."""
import cv2
import numpy as np
import pytest

from epicap.errors import InputError
from epicap.geometry.bundle_adjustment import BundleAdjustmentOptions, _Problem, bundle_adjust
from epicap.geometry.camera import rotation_from_rodrigues
from epicap.geometry.rig_metrics import compare_rigs
from tests.calibration_free.scene import camera_ring, person_motion

# the truth: principal points off the centre (up to 1.6% of the image) and k1 of a wide-angle lens
PP_OFFSET = np.array([[30.0, -20.0], [-25.0, 15.0], [10.0, 28.0], [-30.0, -10.0]])
K1 = np.array([-0.3, 0.08, -0.15, -0.05])


def _scene(seed=0, T=60, noise=1.0, focal_ratios=(1.0, 1.0, 1.0, 1.0)):
    """Cameras with centred intrinsics (the start), the true K (the offsets, focal lengths 1000 px
    times `focal_ratios`; k1 is K1), the joints' pixels by cv2.projectPoints, a perturbed start
    (camera 0 exact) and perturbed 3D joints."""
    rng = np.random.default_rng(seed)
    cams = camera_ring(4, seed=seed, focal=1000.0)
    X = person_motion(T, seed).reshape(-1, 3)
    K = cams.K.copy()
    K[:, :2, 2] += PP_OFFSET
    K[:, [0, 1], [0, 1]] *= np.asarray(focal_ratios)[:, None]
    uv = np.stack([cv2.projectPoints(X, cv2.Rodrigues(cams.R[c])[0], cams.t[c], K[c],
                                     np.array([K1[c], 0, 0, 0.0]))[0][:, 0] for c in range(4)])
    uv += rng.normal(0, noise, uv.shape)
    R0 = rotation_from_rodrigues(rng.normal(0, 0.01, (4, 3))) @ cams.R
    t0 = cams.t + rng.normal(0, 0.05, (4, 3))
    R0[0], t0[0] = cams.R[0], cams.t[0]
    X0 = X + rng.normal(0, 0.03, X.shape)
    return cams, K, uv, R0, t0, X0


def _rel_rot(cams, R):
    return float(compare_rigs(cams.R, cams.t, R, cams.t).relative_rotation_deg.mean())


def test_principal_points_and_k1_are_recovered_from_the_centre():
    cams, K, uv, R0, t0, X0 = _scene()
    w = np.ones(uv.shape[:2])
    opts, size = dict(focal="per_camera"), cams.image_size
    fixed = bundle_adjust(uv, w, cams.K, None, R0, t0, X0,
                          options=BundleAdjustmentOptions(**opts), image_size=size)
    free = bundle_adjust(uv, w, cams.K, None, R0, t0, X0, image_size=size,
                         options=BundleAdjustmentOptions(principal_point=True, radial=1, **opts))
    assert free.success and free.moved > 1e-3
    pp_err = np.abs(free.K[:, :2, 2] - K[:, :2, 2]).mean()
    # measured 4.8 px from 21 px at the start (the principal point trades against the camera's
    # turn: the subject spans a quarter of the image); k1 0.009 from 0.145
    assert pp_err < 8.0 < 20.0 < np.abs(PP_OFFSET).mean()
    np.testing.assert_allclose(free.dist[:, 0], K1, atol=0.03)
    assert np.all(free.dist[:, 1:] == 0)  # k2 and the tangential terms stay as given
    np.testing.assert_allclose(free.K[:, 0, 0], 1000.0, rtol=0.01)
    # measured 2.0 -> 0.7 deg mean relative rotation error
    assert _rel_rot(cams, free.R) < 0.5 * _rel_rot(cams, fixed.R)
    assert free.rms_px < fixed.rms_px


def test_the_priors_hold_what_the_data_cannot_fix():
    # three frames, 2 px noise, the truth at the centre without distortion: without priors the
    # principal points wander (measured 68 px) and k1 (0.165); the default priors hold them
    # nearer their start (measured 6.1 px, 0.083)
    rng = np.random.default_rng(0)
    cams = camera_ring(4, seed=0)
    X = person_motion(3, 0).reshape(-1, 3)
    uv = cams.project(X) + rng.normal(0, 2.0, (4, len(X), 2))
    w = np.ones(uv.shape[:2])
    out = {}
    for name, pp_prior, k_prior in (("default", 0.025, 0.25), ("none", 1e6, 1e6)):
        opts = BundleAdjustmentOptions(principal_point=True, radial=1,
                                       principal_point_prior=pp_prior, radial_prior=k_prior)
        res = bundle_adjust(uv, w, cams.K, None, cams.R, cams.t, X, options=opts)
        out[name] = (np.abs(res.K[:, :2, 2] - cams.K[:, :2, 2]).mean(),
                     np.abs(res.dist[:, 0]).mean())
    assert out["none"][0] > 30.0 and out["default"][0] < 15.0
    assert out["default"][1] < 0.65 * out["none"][1]


def test_a_tight_prior_keeps_the_start():
    cams, K, uv, R0, t0, X0 = _scene(seed=1, T=20)
    res = bundle_adjust(uv, np.ones(uv.shape[:2]), cams.K, None, R0, t0, X0,
                        options=BundleAdjustmentOptions(principal_point=True, radial=2,
                                                        principal_point_prior=1e-7,
                                                        radial_prior=1e-7))
    np.testing.assert_allclose(res.K[:, :2, 2], cams.K[:, :2, 2], atol=0.05)
    np.testing.assert_allclose(res.dist, 0, atol=1e-4)


@pytest.mark.parametrize("pp, radial", [(True, 0), (False, 1), (True, 2)])
def test_jacobian_with_free_intrinsics_matches_finite_differences(pp, radial):
    rng = np.random.default_rng(3)
    cams, K, uv, R0, t0, X0 = _scene(T=3)
    c, n = np.nonzero(np.isfinite(uv).all(-1))
    dist = np.tile([0.05, -0.02, 0.001, 0.002, 0.0], (4, 1))
    prob = _Problem(uv[c, n], c, n, n % 17, cams.K, dist, R0, t0, X0, 17,
                    BundleAdjustmentOptions(focal="per_camera", principal_point=pp,
                                            radial=radial), cams.image_size)
    prob.intr_rows = 1.0 / prob.intr_sigma  # the priors' rows are in it too
    assert prob.point_start - prob.intr_start == 4 * (2 * pp + radial)
    p = prob.x0 + rng.normal(0, 0.02, len(prob.x0))
    J = prob.jacobian(p).toarray()
    Jn = np.zeros_like(J)
    for k in range(len(p)):
        d = np.zeros(len(p))
        d[k] = 1e-6
        Jn[:, k] = (prob.residuals(p + d) - prob.residuals(p - d)) / 2e-6
    assert np.abs(J - Jn).max() < 1e-3 * np.abs(Jn).max()


def test_bad_intrinsics_input():
    with pytest.raises(InputError, match="valid: 0, 1, 2"):
        BundleAdjustmentOptions(radial=3)
    with pytest.raises(InputError, match="positive"):
        BundleAdjustmentOptions(principal_point_prior=0.0)
    cams, K, uv, R0, t0, X0 = _scene(T=3)
    w = np.ones(uv.shape[:2])
    with pytest.raises(InputError, match="image_size"):
        bundle_adjust(uv, w, cams.K, None, R0, t0, X0, image_size=np.ones((3, 2)))
    with pytest.raises(InputError, match="positive"):
        bundle_adjust(uv, w, cams.K, None, R0, t0, X0, image_size=np.zeros((4, 2)))
    with pytest.raises(InputError, match="dist"):
        bundle_adjust(uv, w, cams.K, np.zeros((3, 5)), R0, t0, X0)


def test_focal_spread_prior_holds_the_focal_lengths_together_not_their_scale():
    ratios = np.array([1.0, 1.04, 0.97, 1.05])
    cams, K, uv, R0, t0, X0 = _scene(seed=2, T=30, focal_ratios=ratios)
    start = K.copy()
    start[:, [0, 1], [0, 1]] = 1.06 * 1000.0  # all alike, 4% above the truth's mean
    dist = np.zeros((4, 5))
    dist[:, 0] = K1
    out = {}
    for spread in (0.0, 1e-4):
        res = bundle_adjust(uv, np.ones(uv.shape[:2]), start, dist, R0, t0, X0,
                            options=BundleAdjustmentOptions(focal="per_camera",
                                                            focal_spread_prior=spread))
        out[spread] = res.K[:, 0, 0]
    np.testing.assert_allclose(out[0.0], 1000.0 * ratios, rtol=0.01)  # the data decide
    f = out[1e-4]
    assert np.ptp(f) / f.mean() < 0.002  # held together
    assert abs(f.mean() / (1000.0 * ratios.mean()) - 1) < 0.02  # their common scale is free

