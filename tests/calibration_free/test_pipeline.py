import numpy as np
import pytest

from epicap.calibration_free.pipeline import CalibrationOptions, calibrate
from epicap.errors import GeometryError, InputError
from epicap.session import Cameras, Keypoints2D
from tests.calibration_free.scene import camera_ring, observe, person_motion


def _rel_rot(truth: Cameras, est: Cameras) -> float:
    t = truth.select(est.names)
    out = []
    for a in range(len(est)):
        for b in range(a + 1, len(est)):
            D = (t.R[b] @ t.R[a].T).T @ (est.R[b] @ est.R[a].T)
            out.append(np.degrees(np.arccos(np.clip((np.trace(D) - 1) / 2, -1, 1))))
    return float(np.mean(out))


@pytest.fixture(scope="module")
def scene():
    cams = camera_ring(4, seed=2)
    X = person_motion(120, 1)
    kp = observe(cams, X, noise_px=2.0, outliers=0.1, missing=0.1, seed=3)
    return cams, X, kp


def test_known_intrinsics_recovers_rig_and_world(scene):
    cams, X, kp = scene
    intr = Cameras(cams.names, cams.image_size, cams.K, cams.dist)
    res = calibrate(kp, intr)
    est = res.cameras
    assert est.names == cams.names and not res.excluded
    assert _rel_rot(cams, est) < 0.15  # pooled pairs alone: ~0.3 deg
    # world frame: Z up (cameras differ from the truth by a turn about Z only), metres, floor 0
    Q = sum(cams.R[c].T @ est.R[c] for c in range(4))
    U, _, Vt = np.linalg.svd(Q)
    Q = U @ Vt
    assert np.degrees(np.arccos(np.clip((Q @ [0, 0, 1.0])[2], -1, 1))) < 2.0
    assert np.nanmedian(res.points3d[..., 15:, 2]) == pytest.approx(0.08, abs=0.06)  # ankles
    base_true = np.linalg.norm(cams.centers[0] - cams.centers[1])
    base_est = np.linalg.norm(est.centers[0] - est.centers[1])
    assert base_est / base_true == pytest.approx(1.0, abs=0.12)  # scale from limb lengths
    assert 1.5 < res.rms_px < 3.5
    assert "cam1" in res.table() and "calibrated" in res.summary()


def test_methods_rank_as_expected(scene):
    cams, X, kp = scene
    intr = Cameras(cams.names, cams.image_size, cams.K, cams.dist)
    errors = {m: _rel_rot(cams, calibrate(kp, intr, CalibrationOptions(method=m)).cameras)
              for m in ("epipolarpose", "pooled")}
    assert errors["pooled"] < 1.0 < errors["epipolarpose"]


def test_unknown_focal(scene):
    cams, X, kp = scene
    for shared in (False, True):
        res = calibrate(kp, None, CalibrationOptions(shared_focal=shared))
        np.testing.assert_allclose(res.cameras.K[:, 0, 0], cams.K[:, 0, 0], rtol=0.02)
        assert _rel_rot(cams, res.cameras) < 0.3


def test_robust_loss_option(scene):
    cams, X, kp = scene
    intr = Cameras(cams.names, cams.image_size, cams.K, cams.dist)
    base = calibrate(kp, intr).cameras
    gm = calibrate(kp, intr, CalibrationOptions(robust_loss="geman_mcclure",
                                                robust_scale=1.5)).cameras
    assert _rel_rot(cams, gm) < 0.3
    assert np.abs(gm.R - base.R).max() > 1e-9  # the option reaches the adjustment
    with pytest.raises(InputError, match="robust loss"):
        CalibrationOptions(robust_loss="huber")
    with pytest.raises(InputError, match="scale"):
        CalibrationOptions(robust_scale=-1.0)


def test_camera_that_sees_too_little_is_named(scene):
    cams, X, kp = scene
    k = kp.keypoints.copy()
    k[2, 3:] = (np.nan, np.nan, 0)  # cam3 sees the subject in 3 frames only
    kp2 = Keypoints2D(k, kp.cameras, kp.joint_set, kp.image_size, kp.fps)
    res = calibrate(kp2, Cameras(cams.names, cams.image_size, cams.K, cams.dist))
    assert "cam3" in res.excluded and "cam3" not in res.cameras.names
    assert any("cam3" in w and "%" in w for w in res.warnings)
    assert _rel_rot(cams, res.cameras) < 0.2


def test_a_camera_that_follows_another_person_is_flagged(scene):
    """A wrong matching across cameras (cam4 follows someone else than the other three: the
    people told apart wrongly, e.g. with the legs cut off) gives a rig tens of degrees off whose
    RMS error over the inliers looks normal. The share of inliers gives it away: the table and
    a warning name cam4. The sound scene (10% outliers) is not flagged."""
    cams, X, kp = scene
    intr = Cameras(cams.names, cams.image_size, cams.K, cams.dist)
    sound = calibrate(kp, intr)
    assert all(r.status() == "ok" and r.inlier_share > 0.85 for r in sound.reports)
    assert not any("fit the calibrated rig" in w for w in sound.warnings)

    other = observe(cams, person_motion(120, 5) + np.array([0.8, -0.5, 0.0]), noise_px=2.0,
                    outliers=0.1, missing=0.1, seed=4)
    k = kp.keypoints.copy()
    k[3] = other.keypoints[3]
    for intrinsics in (intr, None):
        res = calibrate(Keypoints2D(k, kp.cameras, kp.joint_set, kp.image_size, kp.fps),
                        intrinsics)
        assert _rel_rot(cams, res.cameras) > 20  # what the flag is for: a rig far off
        assert [r.name for r in res.reports if r.few_inliers] == ["cam4"]
        assert res.reports[3].inlier_share < 0.3 and res.reports[3].status().startswith(
            "few inliers (")
        assert res.table_rows()[1][3][-1] == res.reports[3].status()
        warning = [w for w in res.warnings if "fit the calibrated rig" in w]
        assert len(warning) == 1 and "cam4" in warning[0] and "cam1" not in warning[0]
        assert "the rig is probably off" in warning[0]
    # cam3 and cam4 follow the other person: half and half, the rig far off again
    k[2] = other.keypoints[2]
    res = calibrate(Keypoints2D(k, kp.cameras, kp.joint_set, kp.image_size, kp.fps), intr)
    assert _rel_rot(cams, res.cameras) > 20
    assert len([r for r in res.reports if r.few_inliers]) >= 2


def test_joints_outside_the_image_are_not_used(scene):
    """A detector guesses the joints of a body cut by the image's edge (OpenPose writes them
    outside the image): they must weigh nothing, exactly as if they were missing."""
    cams, X, kp = scene
    intr = Cameras(cams.names, cams.image_size, cams.K, cams.dist)
    outside, missing = kp.keypoints.copy(), kp.keypoints.copy()
    w, h = kp.image_size[1]
    outside[1, :60, :5] = (-40.0, 0.5 * h, 0.9)   # left of the image
    outside[1, 60:, :5] = (0.5 * w, h + 25.0, 0.9)  # below it
    missing[1, :, :5] = (np.nan, np.nan, 0.0)
    a = calibrate(Keypoints2D(outside, kp.cameras, kp.joint_set, kp.image_size, kp.fps), intr)
    b = calibrate(Keypoints2D(missing, kp.cameras, kp.joint_set, kp.image_size, kp.fps), intr)
    np.testing.assert_allclose(a.cameras.R, b.cameras.R, atol=1e-9)
    assert _rel_rot(cams, a.cameras) < 0.2


def test_too_little_data_is_refused(scene):
    cams, X, kp = scene
    k = kp.keypoints.copy()
    k[:, 3:] = (np.nan, np.nan, 0)
    with pytest.raises(GeometryError):
        calibrate(Keypoints2D(k, kp.cameras, kp.joint_set, kp.image_size, kp.fps))
    with pytest.raises(InputError, match="at least 2 cameras"):
        calibrate(kp.select_cameras(["cam1"]))


def test_intrinsics_must_match(scene):
    cams, X, kp = scene
    with pytest.raises(InputError, match="no camera cam4"):
        calibrate(kp, Cameras(cams.names[:3], cams.image_size[:3], cams.K[:3], cams.dist[:3]))
    with pytest.raises(InputError, match="method"):
        CalibrationOptions(method="magic")


def test_similarity_onto_recovers_a_known_similarity():
    from epicap.calibration_free.refine import _similarity_onto
    from epicap.geometry.camera import camera_centers, rotation_from_rodrigues

    cams = camera_ring(4, seed=7)
    Q = rotation_from_rodrigues(np.array([0.3, -0.2, 0.5]))
    scale, offset = 2.5, np.array([1.0, -2.0, 0.5])
    # the same cameras in a frame where X' = (Q^T (X - offset)) / scale
    R2 = cams.R @ Q
    t2 = (cams.t + np.einsum("cij,j->ci", cams.R, offset)) / scale
    s, Qe, oe = _similarity_onto(R2, t2, cams.R, cams.t)
    assert s == pytest.approx(scale, rel=1e-9)
    np.testing.assert_allclose(Qe, Q, atol=1e-9)
    np.testing.assert_allclose(oe, offset, atol=1e-9)
    np.testing.assert_allclose(s * camera_centers(R2, t2) @ Qe.T + oe, cams.centers, atol=1e-9)
