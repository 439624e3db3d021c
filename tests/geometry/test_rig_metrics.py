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
    # the estimated world's Z is Q's third row in the true frame: its angle from the true Z
    assert cmp.up_deg == pytest.approx(np.degrees(np.arccos(Q[2, 2])), abs=1e-6)


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


def _observed(cams, seed=0, noise_px=1.0, N=600):
    """(C, N, 2) pixels of N points around the rig's middle, through cv2.projectPoints (the
    independent reference), with Gaussian noise; confidence 0.9."""
    import cv2

    rng = np.random.default_rng(seed)
    X = rng.uniform([-1, -1, 0], [1, 1, 1.8], (N, 3))
    px = np.stack([cv2.projectPoints(X, cv2.Rodrigues(cams.R[c])[0], cams.t[c], cams.K[c],
                                     cams.dist[c])[0][:, 0] for c in range(len(cams))])
    return px + rng.normal(0, noise_px, px.shape), np.full(px.shape[:2], 0.9)


def test_held_out_fit_names_the_camera_whose_image_is_shifted():
    from epicap.geometry.rig_metrics import held_out_fit
    from epicap.synthetic import ring_rig

    cams = ring_rig(5, radius_m=4.0, focal_px=1100.0, distortion=[-0.1, 0.02, 0, 0], seed=1,
                    jitter_deg=3.0)
    px, conf = _observed(cams)
    fit = held_out_fit(px, conf, cams.K, cams.R, cams.t, cams.dist)
    assert (fit.count == 600).all() and (fit.median_px < 3).all(), fit.median_px
    assert np.abs(fit.offset_px).max() < 0.5, fit.offset_px   # a right rig: no offset
    px[2] += (20.0, -10.0)        # camera 2's video shifted against its calibration
    conf[3, :100] = 0.1           # and a hundred of camera 3's joints too unsure to count
    fit = held_out_fit(px, conf, cams.K, cams.R, cams.t, cams.dist)
    np.testing.assert_allclose(fit.offset_px[2], (20, -10), atol=0.5)
    assert fit.median_px[2] > 20 and fit.count[3] == 500
    # the others move less (the shifted camera joins their triangulation, so not to 0): its
    # offset stands out, about twice the next (measured 22.4 px against 11.2)
    size = np.linalg.norm(fit.offset_px, axis=1)
    assert size.argmax() == 2 and size[2] > 1.8 * np.delete(size, 2).max(), size
    with pytest.raises(InputError, match="3 cameras"):
        held_out_fit(px[:2], conf[:2], cams.K[:2], cams.R[:2], cams.t[:2])
