"""Calibration from every person in view: pooling, scale from person 0, the others' heights."""
import numpy as np
import pytest

from epicap.calibration_free.people import pool_people
from epicap.calibration_free.pipeline import CalibrationOptions, calibrate
from epicap.errors import GeometryError, InputError
from epicap.geometry.rig_metrics import compare_rigs
from epicap.session import Cameras, Keypoints2D
from epicap.synthetic import ring_rig
from epicap.synthetic.people import PeopleOptions, make_people_scene


@pytest.fixture(scope="module")
def scene():
    cams = ring_rig(4, 6.0, 2.0, 1000.0, (1280, 720))
    return make_people_scene(cams, 60, PeopleOptions(num_people=3, swap_fraction=0.0, seed=2))


def test_pool_stacks_person_frames_seen_by_two_cameras(scene):
    pooled, person, frame = pool_people(scene.keypoints)
    kp = scene.keypoints.keypoints
    assert pooled.people is None and pooled.keypoints.shape[0] == 4
    np.testing.assert_array_equal(pooled.keypoints, kp[:, frame, person])
    seen2 = ((scene.keypoints.confidence > 0).sum(-1) >= 4).sum(0) >= 2    # (T, P)
    assert len(person) == seen2.sum()
    assert (np.diff(person) >= 0).all()  # person 0 first
    assert not (person == 1).all() and (person == 0).sum() == seen2[:, 0].sum()


def test_the_main_subject_must_be_seen(scene):
    kp = scene.keypoints.keypoints.copy()
    kp[1:, :, 0] = (np.nan, np.nan, 0.0)
    k = Keypoints2D(kp, scene.cameras.names, "coco17", scene.cameras.image_size, 30.0, None,
                    scene.people)
    with pytest.raises(GeometryError, match="p0 .whose height sets the scale"):
        calibrate(k, Cameras(scene.cameras.names, scene.cameras.image_size, scene.cameras.K,
                             scene.cameras.dist))


@pytest.mark.slow
def test_calibration_from_everyone_scales_from_person_0(scene):
    cams = scene.cameras
    intrinsics = Cameras(cams.names, cams.image_size, cams.K, cams.dist)
    result = calibrate(scene.keypoints, intrinsics, CalibrationOptions(subject_height_m=1.70))
    cmp = compare_rigs(cams.R, cams.t, result.cameras.R, result.cameras.t)
    assert cmp.relative_rotation_deg.max() < 0.5 and cmp.centre_error_m.max() < 0.03
    assert abs(cmp.scale - 1) < 0.05          # metres from person 0's 1.70 m
    heights = result.people_heights_m
    assert list(heights) == ["p0", "p1", "p2"]
    ratio = heights["p0"] / 1.70
    for p in (1, 2):                          # measured like person 0, same bias
        assert heights[f"p{p}"] / scene.heights_m[p] == pytest.approx(ratio, rel=0.04)
    assert "heights (standing, else from the limbs) p0" in result.summary()
    assert len(result.frames) == len(result.points3d)


def test_subject_names_whose_height_sets_the_scale(scene):
    cams = scene.cameras
    intrinsics = Cameras(cams.names, cams.image_size, cams.K, cams.dist)
    h1 = float(scene.heights_m[1])
    assert abs(h1 / scene.heights_m[0] - 1) > 0.05    # another height than person 0's
    result = calibrate(scene.keypoints, intrinsics,
                       CalibrationOptions(subject_height_m=h1, subject="p1"))
    cmp = compare_rigs(cams.R, cams.t, result.cameras.R, result.cameras.t)
    assert abs(cmp.scale - 1) < 0.05          # metres from p1's height
    assert list(result.people_heights_m)[0] == "p1"
    assert f"p1 {result.people_heights_m['p1']:.2f} m (the" in result.summary()
    # the rig is the one p0's height gives, moved and scaled: only the world frame differs
    p0 = calibrate(scene.keypoints, intrinsics, CalibrationOptions(subject_height_m=1.70))
    same = compare_rigs(p0.cameras.R, p0.cameras.t, result.cameras.R, result.cameras.t)
    assert same.relative_rotation_deg.max() < 1e-6 and same.centre_error_m.max() < 1e-6


def test_subject_must_be_someone_in_the_keypoints(scene):
    with pytest.raises(InputError, match="--subject p7: no such person .*p0, p1, p2"):
        calibrate(scene.keypoints, None, CalibrationOptions(subject="p7"))
    one = Keypoints2D(scene.keypoints.keypoints[:, :, 0], scene.cameras.names, "coco17",
                      scene.cameras.image_size, 30.0)
    with pytest.raises(InputError, match="--subject p1: the keypoints hold one person"):
        calibrate(one, None, CalibrationOptions(subject="p1"))


def test_someone_taller_than_anyone_says_the_height_is_not_p0s(scene):
    cams = scene.cameras
    intrinsics = Cameras(cams.names, cams.image_size, cams.K, cams.dist)
    fine = calibrate(scene.keypoints, intrinsics, CalibrationOptions(subject_height_m=1.70))
    assert not any("--subject" in w for w in fine.warnings)
    # a 2.5 m height given for p0 (1.70 m): the others measure 2.3-2.4 m
    wrong = calibrate(scene.keypoints, intrinsics, CalibrationOptions(subject_height_m=2.5))
    said = [w for w in wrong.warnings if "--subject names another" in w]
    assert len(said) == 1 and "p1 measures 2." in said[0] and "p0's 2.50 m" in said[0]
