import numpy as np
import pytest

from epicap.calibration_free.pipeline import CalibrationOptions, calibrate
from epicap.calibration_free.visibility import body_frames, facing_cosines, occlusion_weights
from epicap.joint_sets import get_joint_set
from epicap.session import Cameras, Keypoints2D
from tests.calibration_free.scene import _TEMPLATE, camera_ring, observe, person_motion
from tests.calibration_free.test_pipeline import _rel_rot

COCO = get_joint_set("coco17")
J = {n: j for j, n in enumerate(COCO.joints)}
# the template stands facing +x with its left towards +y; cameras 10 m ahead, behind, left, right
CENTERS = np.array([[10.0, 0, 1.2], [-10.0, 0, 1.2], [0, 10.0, 1.2], [0, -10.0, 1.2]])


def test_body_frame_of_the_template():
    left, forward = body_frames(_TEMPLATE[None], COCO)
    np.testing.assert_allclose(left[0], [0, 1, 0], atol=1e-12)
    np.testing.assert_allclose(forward[0], [1, 0, 0], atol=1e-12)
    missing = _TEMPLATE[None].copy()
    missing[0, J["left_hip"]] = np.nan
    assert np.isnan(body_frames(missing, COCO)[0]).all()


def test_facing_cosines_front_back_and_sides():
    cos = facing_cosines(_TEMPLATE[None], CENTERS, COCO)[:, 0]  # (C, J)
    assert cos[0, J["nose"]] > 0.95 and cos[1, J["nose"]] < -0.95  # face: front vs behind
    assert cos[2, J["left_hip"]] > 0.95 and cos[2, J["right_hip"]] < -0.95
    assert cos[3, J["right_shoulder"]] > 0.95 and cos[3, J["left_shoulder"]] < -0.95
    assert cos[0, J["left_hip"]] == pytest.approx(0.0, abs=0.05)  # side joints seen from ahead
    assert np.isnan(cos[:, J["left_knee"]]).all()  # limbs: no far side from the trunk


def test_occlusion_weights_floor_and_defaults():
    X = np.stack([_TEMPLATE, _TEMPLATE])
    X[1, J["right_hip"]] = np.nan  # frame 1: no body frame
    w = occlusion_weights(X, CENTERS, COCO, floor=0.05)
    assert w.shape == (4, 2, 17)
    assert w[2, 0, J["right_hip"]] == pytest.approx(0.05, abs=0.01)  # far side
    assert w[2, 0, J["left_hip"]] == pytest.approx(1.0, abs=0.01)  # near side
    assert w[1, 0, J["nose"]] == pytest.approx(0.05, abs=0.01)  # face from behind
    np.testing.assert_allclose(w[:, 0, J["left_wrist"]], 1.0)  # limbs untouched
    np.testing.assert_allclose(w[:, 1], 1.0)  # unknown frame: untouched
    assert ((w >= 0.05) & (w <= 1.0)).all()


def test_occlusion_helps_with_far_side_bias():
    """Trunk and face joints seen from their far side are biased 8 px (the detector guesses)."""
    cams = camera_ring(4, seed=2)
    X = person_motion(120, 1)
    kp = observe(cams, X, noise_px=2.0, outliers=0.05, missing=0.05, seed=3)
    far = occlusion_weights(X, cams.centers, COCO) < 0.5  # (C, T, J)
    k = kp.keypoints.copy()
    k[..., 1] += np.where(far, 8.0, 0.0)  # detectors drop hidden joints a little low
    kp = Keypoints2D(k, kp.cameras, kp.joint_set, kp.image_size, kp.fps)
    intr = Cameras(cams.names, cams.image_size, cams.K, cams.dist)
    off = _rel_rot(cams, calibrate(kp, intr, CalibrationOptions(occlusion=False)).cameras)
    on = _rel_rot(cams, calibrate(kp, intr).cameras)                  # on by default
    assert on < 0.8 * off  # measured 0.086 -> 0.053 deg (at 25 px both 0.062: the robust cut)
