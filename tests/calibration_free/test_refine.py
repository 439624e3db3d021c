"""`calibrate(initial=...)`: refining a nudged calibration, the intrinsics rule, the solve from
nothing kept beside it, and the similarity that keeps the start's world frame."""
import numpy as np
import pytest

from epicap.calibration_free.pipeline import CalibrationOptions, calibrate
from epicap.calibration_free.refine import _similarity_onto, starting_rig
from epicap.calibration_free.report import CalibrationResult
from epicap.calibration_free.rival import FROM_NOTHING, align_onto, keep_better, robust_cost
from epicap.errors import InputError
from epicap.geometry.camera import rotation_from_rodrigues
from epicap.geometry.rig_metrics import compare_rigs, rotation_angle_deg
from epicap.session import Cameras
from tests.calibration_free.scene import camera_ring, observe, perturbed, person_motion


@pytest.fixture(scope="module")
def scene():
    cams = camera_ring(4, seed=2)
    kp = observe(cams, person_motion(100, 1), noise_px=1.5, outliers=0.05, missing=0.1, seed=3)
    return cams, kp


def _identity_gap(est: Cameras, start: Cameras):
    """(|scale - 1|, turn deg, offset m) of the similarity taking est's frame onto start's."""
    s, Q, offset = _similarity_onto(est.R, est.t, start.R, start.t)
    return abs(s - 1), float(rotation_angle_deg(Q)), float(np.linalg.norm(offset))


@pytest.mark.slow
def test_refine_recovers_the_rig_from_every_camera_4_degrees_and_10_cm_off(scene):
    cams, kp = scene
    start = perturbed(cams, 4.0, 0.10, seed=11)
    assert compare_rigs(cams.R, cams.t, start.R, start.t).relative_rotation_deg.mean() > 3
    res = calibrate(kp, None, CalibrationOptions(occlusion=False), initial=start)
    est = res.cameras
    assert est.names == cams.names and res.method in ("refine", FROM_NOTHING)
    cmp = compare_rigs(cams.R, cams.t, est.R, est.t)
    assert cmp.relative_rotation_deg.mean() < 0.1  # measured 0.03-0.04 deg
    assert cmp.centre_error_m.max() < 0.02
    np.testing.assert_allclose(est.K, cams.K)
    # kept in the start's frame and unit: no similarity is needed to put it onto the start
    ds, turn, offset = _identity_gap(est, start)
    assert ds < 0.01 and turn < 0.05 and offset < 0.01


@pytest.mark.slow
def test_refine_of_one_bumped_camera_keeps_the_frame_of_the_others(scene):
    cams, kp = scene
    start = perturbed(cams, 4.0, 0.10, seed=5, which=[2])
    res = calibrate(kp, None, CalibrationOptions(occlusion=False), initial=start)
    est = res.cameras
    # the world frame is the start's, fixed by the three cameras that did not move: the bumped
    # camera comes back to its true pose with no alignment at all
    assert np.abs(est.centers - cams.centers).max() < 0.03
    assert rotation_angle_deg(est.R[2] @ cams.R[2].T) < 0.2
    assert rotation_angle_deg(start.R[2] @ cams.R[2].T) > 3.9


def test_intrinsics_win_over_the_calibration_to_refine(scene):
    cams, kp = scene
    wrong_K = cams.K.copy()
    wrong_K[:, :2, :2] *= 1.2
    start = perturbed(cams, 1.0, 0.05, seed=1)
    old = Cameras(cams.names[::-1], cams.image_size, wrong_K[::-1], np.full((4, 5), 0.1),
                  start.R[::-1], start.t[::-1])
    intr = Cameras(cams.names, cams.image_size, cams.K, cams.dist)
    rig = starting_rig(kp, old, intr)
    assert rig.names == cams.names
    np.testing.assert_array_equal(rig.K, cams.K)
    np.testing.assert_array_equal(rig.dist, cams.dist)
    np.testing.assert_array_equal(rig.R, start.R)  # extrinsics matched by name, not position
    np.testing.assert_array_equal(rig.t, start.t)
    own = starting_rig(kp, old, None)  # no intrinsics given: the file's own
    np.testing.assert_array_equal(own.K, wrong_K)


def test_starting_rig_bad_input(scene):
    cams, kp = scene
    intr = Cameras(cams.names, cams.image_size, cams.K, cams.dist)
    three = Cameras(cams.names[:3], cams.image_size[:3], cams.K[:3], cams.dist[:3], cams.R[:3],
                    cams.t[:3])
    with pytest.raises(InputError, match="calibration to refine has no camera cam4"):
        starting_rig(kp, three, intr)
    with pytest.raises(InputError, match="no camera cam4"):
        starting_rig(kp, cams, three)  # the intrinsics lack a camera
    with pytest.raises(InputError, match="no extrinsics"):
        starting_rig(kp, intr, intr)
    small = Cameras(cams.names, cams.image_size // 2, cams.K, cams.dist)
    with pytest.raises(InputError, match="cam1: the intrinsics are for a 960x540"):
        starting_rig(kp, cams, small)
    with pytest.raises(InputError, match="method"):
        calibrate(kp, None, CalibrationOptions(method="pooled"), initial=cams)


def test_robust_cost_prefers_the_true_rig(scene):
    cams, kp = scene
    px = kp.points.astype(np.float64)
    w = kp.confidence.astype(np.float64)
    true = robust_cost(cams, px, w, 8.0)
    off = robust_cost(perturbed(cams, 1.0, 0.05, seed=2), px, w, 8.0)
    assert 0 < true < off <= 1
    # independent of the world frame and unit: the same rig in a scaled, turned frame
    Q = rotation_from_rodrigues(np.array([0.2, -0.4, 0.1]))
    moved = Cameras(cams.names, cams.image_size, cams.K, cams.dist, cams.R @ Q.T, 3 * cams.t)
    assert robust_cost(moved, px, w, 8.0) == pytest.approx(true, rel=1e-6)
    nothing = np.where(np.isfinite(px), 1e4, np.nan)  # joints no rig explains cost the most
    assert robust_cost(cams, nothing, w, 8.0) > 0.99


def test_align_onto_ignores_a_bumped_camera():
    cams = camera_ring(5, seed=7)
    Q = rotation_from_rodrigues(np.array([0.3, -0.2, 0.5]))
    scale, offset = 2.5, np.array([1.0, -2.0, 0.5])
    R2, t2 = cams.R @ Q, (cams.t + np.einsum("cij,j->ci", cams.R, offset)) / scale
    start = perturbed(cams, 5.0, 0.3, seed=3, which=[1])
    s, Qe, oe, anchors = align_onto(R2, t2, start.R, start.t)
    assert anchors == [0, 2, 3, 4]
    assert s == pytest.approx(scale, rel=1e-9)
    np.testing.assert_allclose(Qe, Q, atol=1e-9)
    np.testing.assert_allclose(oe, offset, atol=1e-9)
    s, Qe, oe, anchors = align_onto(R2, t2, cams.R, cams.t)  # nobody moved: all kept
    assert anchors == [0, 1, 2, 3, 4] and s == pytest.approx(scale, rel=1e-9)


@pytest.mark.slow
def test_keep_better_takes_the_solve_from_nothing_over_a_stuck_refinement(scene):
    cams, kp = scene
    start = perturbed(cams, 3.0, 0.10, seed=4)
    px = kp.points.astype(np.float64)
    conf = np.where(np.isfinite(px).all(-1), kp.confidence.astype(np.float64), 0.0)
    frames = np.arange(px.shape[1])
    stuck = CalibrationResult(start, [], {}, [], float("nan"), None, np.zeros((0, 17, 3)),
                              frames, "refine")
    options = CalibrationOptions(occlusion=False)
    res = keep_better(stuck, kp, start, options, px, conf, conf)
    assert res.method == FROM_NOTHING
    assert any("solve from nothing" in m for m in res.warnings)
    assert compare_rigs(cams.R, cams.t, res.cameras.R,
                        res.cameras.t).relative_rotation_deg.mean() < 0.1
    ds, turn, offset = _identity_gap(res.cameras, start)  # moved into the start's frame
    assert ds < 0.01 and turn < 0.05 and offset < 0.01
    assert res.points3d.shape[1:] == (17, 3)
    # no solve from nothing to compare with (it fails: every camera sees too little for it):
    # the refinement is kept as it is
    strict = CalibrationOptions(occlusion=False, min_points=10 ** 6)
    assert keep_better(stuck, kp, start, strict, px, conf, conf) is stuck
