import numpy as np
import pytest

from epicap.errors import InputError
from epicap.geometry.camera import project_points, projection_matrices
from epicap.geometry.pose_triangulation import (ConsistencyOptions, implausible_joints,
                                                triangulate_poses)
from epicap.geometry.triangulation import TriangulationOptions, triangulate, triangulate_dlt
from epicap.joint_sets import get_joint_set
from epicap.synthetic import SceneOptions, load_clip, make_scene, ring_rig
from tests.geometry.rigs import ring_krt

BONES = get_joint_set("coco17").bone_index


@pytest.fixture(scope="module")
def kick():
    """4 cameras, 150 frames of a real kick (coco17, 30 fps), 2 px noise, 10% low-confidence
    outliers 20-200 px off, 5% missing: the scene, keypoints and the oracle's MPJPE."""
    cams = ring_rig(num_cameras=4, radius_m=4.0, height_m=1.6, focal_px=1000.0)
    clip = load_clip("kick", "coco17", fps=30.0, num_frames=150)
    scene = make_scene(clip, cams, SceneOptions(noise_px=2.0, outlier_fraction=0.1,
                                                missing_fraction=0.05, seed=3))
    kp = scene.keypoints.keypoints.astype(np.float64)
    oracle = kp[..., :2].copy()
    oracle[scene.outlier] = np.nan
    P = projection_matrices(cams.K, cams.R, cams.t)
    X = triangulate_dlt(P, oracle.reshape(4, -1, 2)).reshape(scene.poses3d.shape)
    return cams, scene, kp, np.nanmean(np.linalg.norm(X - scene.poses3d, axis=-1))


def test_skeleton_and_time_close_the_gap_to_the_oracle(kick):
    cams, scene, kp, oracle_mpjpe = kick
    args = (kp[..., :2], cams.K, cams.R, cams.t, cams.dist, kp[..., 2])
    single = triangulate(*args)
    res = triangulate_poses(*args, bones=BONES, fps=30.0)
    mpjpe = lambda r: np.nanmean(np.linalg.norm(r.points3d - scene.poses3d, axis=-1))
    assert res.points3d.shape == (150, 17, 3) and res.inliers.shape == (4, 150, 17)
    # measured: per point 1.14x the oracle, with the skeleton and time 1.03x
    assert mpjpe(res) < 1.07 * oracle_mpjpe < mpjpe(single)
    assert res.valid.mean() > 0.97
    assert res.rejected.sum() + res.reselected.sum() > 0
    assert not (res.rejected & res.valid).any()
    np.testing.assert_array_equal(res.views, res.inliers.sum(0))
    # the reported error of re-chosen points is the mean pixel distance over the views used
    f, j = np.nonzero(res.reselected)
    proj, _ = project_points(res.points3d[f, j], cams.K, cams.R, cams.t, cams.dist)
    d = np.linalg.norm(proj - kp[:, f, j, :2], axis=-1)
    used = res.inliers[:, f, j]
    np.testing.assert_allclose(res.reprojection_error[f, j],
                               np.where(used, d, 0).sum(0) / used.sum(0), rtol=1e-9)
    # no implausible joint is left
    assert not implausible_joints(res.points3d, ConsistencyOptions(), BONES, 30.0).any()


def _walker(T=30, J=5):
    """A chain of J joints 0.3 m apart walking along x at 1 m/s (30 fps): (T, J, 3), bones."""
    base = np.stack([np.zeros(J), np.zeros(J), 0.3 + 0.3 * np.arange(J)], -1)
    X = base[None] + (np.arange(T) / 30.0)[:, None, None] * np.array([1.0, 0, 0])
    return X, np.array([[k, k + 1] for k in range(J - 1)])


def test_chance_agreement_of_two_outliers_is_resolved():
    # frame 10, joint 2: cams 0, 1 see the truth (with noise), cams 2, 3 see the same wrong
    # point 0.8 m away, exactly: per point the wrong pair fits better and wins; the skeleton and
    # time pick the true pair.
    K, R, t = ring_krt(4)
    X, bones = _walker()
    pixels, _ = project_points(X.reshape(-1, 3), K, R, t)
    pixels = pixels.reshape(4, 30, 5, 2) + np.random.default_rng(0).normal(0, 0.5, (4, 30, 5, 2))
    wrong, _ = project_points(X[10, 2] + np.array([[0.0, 0.8, 0.0]]), K, R, t)
    pixels[2:, 10, 2] = wrong[2:, 0]
    single = triangulate(pixels, K, R, t)
    assert np.linalg.norm(single.points3d[10, 2] - X[10, 2]) > 0.5
    res = triangulate_poses(pixels, K, R, t, bones=bones, fps=30.0)
    assert np.linalg.norm(res.points3d[10, 2] - X[10, 2]) < 0.01
    assert res.inliers[:, 10, 2].tolist() == [True, True, False, False]
    assert res.reselected[10, 2] and res.reselected.sum() == 1 and not res.rejected.any()
    # each test alone is enough here: time only, bones only (extent cannot see 0.8 m)
    for kwargs in (dict(fps=30.0), dict(bones=bones)):
        alone = triangulate_poses(pixels, K, R, t, **kwargs)
        assert np.linalg.norm(alone.points3d[10, 2] - X[10, 2]) < 0.01
    assert np.linalg.norm(triangulate_poses(pixels, K, R, t).points3d[10, 2] - X[10, 2]) > 0.5


def test_consistent_mistake_is_dropped_not_returned():
    K, R, t = ring_krt(4)
    X, bones = _walker()
    seen_at = X.copy()
    seen_at[7, 4] += [0.0, 0.0, 3.0]                 # every camera agrees on a point 3 m up
    pixels, _ = project_points(seen_at.reshape(-1, 3), K, R, t)
    res = triangulate_poses(pixels.reshape(4, 30, 5, 2), K, R, t, bones=bones, fps=30.0)
    assert res.rejected[7, 4] and res.rejected.sum() == 1
    assert np.isnan(res.points3d[7, 4]).all() and res.views[7, 4] == 0
    assert np.isnan(res.reprojection_error[7, 4])
    np.testing.assert_allclose(np.delete(res.points3d.reshape(-1, 3), 7 * 5 + 4, 0),
                               np.delete(X.reshape(-1, 3), 7 * 5 + 4, 0), atol=1e-9)
    # with drop_worst, implausible points are dropped as well
    dw = triangulate_poses(pixels.reshape(4, 30, 5, 2), K, R, t, bones=bones, fps=30.0,
                           options=TriangulationOptions(method="drop_worst"))
    assert dw.rejected[7, 4] and dw.rejected.sum() == 1


def test_implausible_joints_each_test():
    X, bones = _walker(T=30, J=5)
    assert not implausible_joints(X, ConsistencyOptions(), bones, 30.0).any()
    jumped = X.copy()
    jumped[12, 1] += [0.0, 1.0, 0.0]                 # 1 m away from frames 10, 11, 13, 14
    flags = implausible_joints(jumped, ConsistencyOptions(), None, 30.0)
    assert flags[12, 1] and flags.sum() == 1
    # at 20 m/s the frames 2 away allow 1.43 m: half the terms pass, which is enough
    assert not implausible_joints(jumped, ConsistencyOptions(max_speed_m_s=20.0), None, 30.0).any()
    assert not implausible_joints(jumped).any()      # no fps, no bones: extent only, 1 m is fine
    flags = implausible_joints(jumped, ConsistencyOptions(), bones)  # bones 0-1, 1-2: 1.04 m
    # joint 0's only bone goes to the jumped joint: without time, it cannot be told apart
    assert flags[12, 1] and flags[12, 0] and flags.sum() == 2
    flags = implausible_joints(jumped, ConsistencyOptions(), bones, 30.0)  # time and bones
    assert flags[12, 1] and flags.sum() == 1
    far = X.copy()
    far[3, 0] += [2.5, 0.0, 0.0]
    flags = implausible_joints(far)
    assert flags[3, 0] and flags.sum() == 1
    assert not implausible_joints(far, ConsistencyOptions(max_extent_m=None)).any()
    gappy = X.copy()
    gappy[5] = np.nan                                # NaN is never flagged, and no reference
    assert not implausible_joints(gappy, ConsistencyOptions(), bones, 30.0).any()


def test_bad_input():
    K, R, t = ring_krt(3)
    with pytest.raises(InputError, match="points2d"):
        triangulate_poses(np.zeros((3, 5, 2)), K, R, t)
    with pytest.raises(InputError, match="fps"):
        triangulate_poses(np.zeros((3, 4, 5, 2)), K, R, t, fps=0.0)
    with pytest.raises(InputError, match="bones"):
        triangulate_poses(np.zeros((3, 4, 5, 2)), K, R, t, bones=np.array([[0, 5]]))
    with pytest.raises(InputError, match="poses"):
        implausible_joints(np.zeros((4, 5)))
    with pytest.raises(InputError, match="max_speed_m_s"):
        ConsistencyOptions(max_speed_m_s=0.0)
    with pytest.raises(InputError, match="window"):
        ConsistencyOptions(window=0)

