"""Synthetic scenes: the clean 2D is OpenCV's projection of the truth; noise, bias, outliers,
missing joints, lost frames and time offsets come out as asked."""
import numpy as np
import pytest

from epicap.errors import InputError
from epicap.synthetic import SceneOptions, load_clip, look_at_rotation, make_scene, ring_rig


def test_clean_2d_is_opencv_projection_of_truth():
    import cv2

    cams = ring_rig(3, distortion=[-0.15, 0.03, 0.0, 0.001], jitter_deg=1.0, seed=1)
    scene = make_scene(load_clip("walk", num_frames=20), cams, SceneOptions(noise_px=0))
    T, J = 20, 17
    for c in range(3):
        rvec, _ = cv2.Rodrigues(cams.R[c])
        ref, _ = cv2.projectPoints(scene.poses3d.reshape(-1, 3), rvec, cams.t[c], cams.K[c],
                                   cams.dist[c])
        np.testing.assert_allclose(scene.points2d_clean[c], ref.reshape(T, J, 2), atol=1e-6)
    # noise 0: what is reported is the clean 2D (float32)
    kp = scene.keypoints.points
    ok = ~scene.missing
    np.testing.assert_allclose(kp[ok], scene.points2d_clean[ok], atol=1e-3)


def test_fixture_scene(synthetic_scene):
    s = synthetic_scene
    assert s.keypoints.keypoints.shape == (4, 60, 17, 3)
    assert s.poses3d.shape == (60, 17, 3) and s.keypoints.fps == 30.0
    assert s.in_view.all() and not s.missing.any()  # everyone in view of a 4 m ring
    conf = s.keypoints.confidence
    assert (conf >= 0.75).all() and (conf <= 1).all()


def test_noise_statistics(make_synthetic_scene):
    scene = make_synthetic_scene(noise_px=2.0, seed=5)
    err = scene.keypoints.points.astype(np.float64) - scene.points2d_clean
    assert err.std() == pytest.approx(2.0, rel=0.03)  # 8160 values: sd of the sd ~ 0.8%
    assert abs(err.mean()) < 0.05
    assert scene.keypoints.keypoints.dtype == np.float32


def test_bias_is_constant_per_camera_and_joint(make_synthetic_scene):
    scene = make_synthetic_scene(noise_px=1.0, bias_px=8.0, seed=2)
    err = scene.keypoints.points.astype(np.float64) - scene.points2d_clean
    mean = err.mean(axis=1)  # (C, J, 2): the noise averages out over 60 frames
    np.testing.assert_allclose(np.linalg.norm(mean, axis=-1), 8.0, atol=0.5)
    np.testing.assert_allclose(mean, scene.bias, atol=0.5)
    angles = np.arctan2(scene.bias[..., 1], scene.bias[..., 0])
    assert angles.std() > 1.0  # directions spread, not one shared shift


def test_outlier_and_missing_fractions(make_synthetic_scene):
    scene = make_synthetic_scene(num_cameras=8, noise_px=1.0, outlier_fraction=0.2,
                                 missing_fraction=0.1, outlier_px=(30.0, 150.0), seed=4)
    assert scene.in_view.all()
    assert scene.missing.mean() == pytest.approx(0.1, abs=0.01)
    reported = ~scene.missing
    assert scene.outlier.sum() / reported.sum() == pytest.approx(0.2, abs=0.015)
    kp = scene.keypoints
    dist = np.linalg.norm(kp.points.astype(np.float64) - scene.points2d_clean, axis=-1)
    assert dist[scene.outlier].min() >= 30 - 1e-3 and dist[scene.outlier].max() <= 150 + 1e-3
    inlier = reported & ~scene.outlier
    assert dist[inlier].max() < 6.0  # 1 px noise: within ~4.3 sigma for 8000 points
    conf = kp.confidence
    assert conf[scene.outlier].mean() < 0.4 < 0.8 < conf[inlier].mean()
    assert np.isnan(kp.points[scene.missing]).all() and (conf[scene.missing] == 0).all()


def test_adding_outliers_leaves_other_noise_unchanged(make_synthetic_scene):
    a = make_synthetic_scene(noise_px=1.0, seed=9)
    b = make_synthetic_scene(noise_px=1.0, outlier_fraction=0.3, seed=9)
    same = ~b.outlier
    np.testing.assert_array_equal(a.keypoints.points[same], b.keypoints.points[same])
    c = make_synthetic_scene(noise_px=1.0, seed=9)
    np.testing.assert_array_equal(a.keypoints.keypoints, c.keypoints.keypoints)


def test_lost_subject_and_out_of_image():
    clip = load_clip("walk", num_frames=30)
    cams = ring_rig(3, radius_m=2.0, focal_px=1500.0, image_size=(320, 240))  # crops the body
    scene = make_scene(clip, cams, SceneOptions(lose_subject={"cam02": (5, 12)},
                                                lose_fraction=0.2, seed=0))
    assert scene.lost[1, 5:12].all()
    assert scene.lost.sum(axis=1).min() >= 6  # 20% of 30 frames per camera, at least
    assert scene.missing[scene.lost].all()
    outside = ~scene.in_view
    assert 0 < outside.mean() < 1
    clean = scene.points2d_clean[outside]
    assert ((clean < -0.5) | (clean > np.array([319.5, 239.5]))).any(axis=-1).all()
    assert scene.missing[outside].all()


def test_cameras_looking_away_see_nothing():
    away = ring_rig(2, radius_m=3.0)
    centers = away.centers
    away.R = look_at_rotation(centers, 2 * centers)  # looking outwards
    away.t = -np.einsum("cij,cj->ci", away.R, centers)
    scene = make_scene(load_clip("walk", num_frames=5), away, SceneOptions())
    assert scene.missing.all() and np.isnan(scene.points2d_clean).all()


def test_time_offsets_show_the_motion_later():
    clip = load_clip("walk", num_frames=30)
    cams = ring_rig(3)
    scene = make_scene(clip, cams, SceneOptions(noise_px=0, offsets_frames=[0.0, 2.0, -1.5]))
    truth = cams.project(scene.poses3d.reshape(-1, 3)).reshape(3, 30, 17, 2)
    np.testing.assert_allclose(scene.points2d_clean[0], truth[0], atol=1e-9)
    np.testing.assert_allclose(scene.points2d_clean[1, :-2], truth[1, 2:], atol=1e-9)
    # half-way between frames k - 2 and k - 1 (within the curvature of the motion)
    between = (truth[2, :-2] + truth[2, 1:-1]) / 2
    assert np.abs(scene.points2d_clean[2, 2:] - between).max() < 3.0
    # beyond the clip's ends the motion goes on (not frozen)
    assert np.abs(scene.points2d_clean[1, -1] - scene.points2d_clean[1, -2]).max() > 0.5
    np.testing.assert_array_equal(scene.offsets_frames, [0.0, 2.0, -1.5])


def test_truth_poses_and_bad_options(synthetic_scene):
    p = synthetic_scene.truth_poses()
    assert p.poses.shape == (60, 17, 3) and (p.views == 4).all() and p.joint_set == "coco17"
    clip, cams = synthetic_scene.clip, synthetic_scene.cameras
    bad = [dict(noise_px=-1), dict(outlier_fraction=1.5), dict(outlier_px=(50, 10)),
           dict(offsets_frames=[0, 1]), dict(lose_subject={"nope": (0, 3)}),
           dict(offsets_frames=[0, 1, np.nan, 2])]
    for kw in bad:
        with pytest.raises(InputError):
            make_scene(clip, cams, SceneOptions(**kw))
    no_extrinsics = ring_rig(2)
    no_extrinsics.R = no_extrinsics.t = None
    with pytest.raises(InputError, match="rotation"):
        make_scene(clip, no_extrinsics)
