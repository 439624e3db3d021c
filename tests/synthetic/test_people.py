"""Synthetic multi-person scenes: truth consistent with the detections, occlusions, swaps."""
import numpy as np
import pytest

from epicap.errors import InputError
from epicap.geometry.camera import project_points
from epicap.session import Keypoints2D, Poses3D
from epicap.synthetic import ring_rig
from epicap.synthetic.people import PeopleOptions, make_people_scene


@pytest.fixture(scope="module")
def scene():
    cams = ring_rig(4, 6.0, 2.0, 1000.0, (1280, 720))
    return make_people_scene(cams, 120, PeopleOptions(num_people=4, noise_px=0.0,
                                                      swap_fraction=0.05, seed=3))


def test_shapes_and_slots_map_back_to_the_people(scene):
    C, T, P, J = 4, 120, 4, 17
    assert scene.poses3d.shape == (P, T, J, 3) and scene.detections.shape == (C, T, P, J, 3)
    assert scene.keypoints.keypoints.shape == (C, T, P, J, 3)
    assert scene.keypoints.people == ["p0", "p1", "p2", "p3"]
    sp = scene.slot_person
    # every detected person sits in exactly one slot; empty slots come last and are empty
    for p in range(P):
        count = (sp == p).sum(-1)
        assert set(np.unique(count)) <= {0, 1}
        np.testing.assert_array_equal(count == 1, scene.visible[:, :, p].any(-1))
    empty = sp < 0
    assert np.isnan(scene.detections[empty][..., :2]).all()
    assert (np.diff(empty.astype(int), axis=-1) >= 0).all()
    c, t, s = np.nonzero(sp >= 0)
    np.testing.assert_array_equal(scene.detections[c, t, s],
                                  scene.keypoints.keypoints[c, t, sp[c, t, s]])
    # shuffled: the slot order is not the person order everywhere
    assert (sp[sp >= 0] != np.nonzero(sp >= 0)[2]).any()


def test_unswapped_detections_are_the_projections_of_the_truth(scene):
    cams = scene.cameras
    clean, _ = project_points(scene.poses3d.transpose(1, 0, 2, 3).reshape(1, -1, 3)[0], cams.K,
                              cams.R, cams.t, cams.dist)
    clean = clean.reshape(4, 120, 4, 17, 2)
    kp = scene.keypoints.keypoints
    keep = scene.visible & ~scene.swapped[..., None]
    np.testing.assert_allclose(kp[..., :2][keep], clean[keep], atol=1e-3)
    flip = scene.keypoints.skeleton.flip_index
    c, t, p = np.nonzero(scene.swapped)
    assert len(c) > 0
    swapped_back = kp[c, t, p][:, flip, :2]
    ok = np.isfinite(swapped_back[..., 0])
    np.testing.assert_allclose(swapped_back[ok], clean[c, t, p][ok], atol=1e-3)


def test_occluded_joints_lie_behind_a_nearer_body(scene):
    occ = scene.occluded
    assert 0.01 < occ.mean() < 0.3
    assert not (scene.visible & occ).any()
    # in the camera that hides a joint, some other person is nearer
    cams = scene.cameras
    c, t, p, j = [a[:50] for a in np.nonzero(occ)]
    for ci, ti, pi, ji in zip(c, t, p, j):
        depth = (cams.R[ci] @ scene.poses3d[:, ti].reshape(-1, 3).T).T[:, 2] + cams.t[ci, 2]
        depth = depth.reshape(4, 17)
        others = np.delete(np.nanmin(np.where(np.isnan(depth), np.inf, depth), axis=1), pi)
        assert (others < depth[pi, ji]).any()


def test_bystander_stands_and_a_person_enters_and_leaves(scene):
    still = scene.poses3d[3]
    assert np.nanmax(np.abs(still - still[0])) < 1e-9
    present = scene.present[2]
    assert present[60] and not present[0] and not present[-1]
    assert np.isnan(scene.poses3d[2, 0]).all()
    assert not scene.visible[:, 0, 2].any()
    assert scene.heights_m[0] == 1.70
    head = np.nanmax(scene.poses3d[0, :, :, 2])
    assert 1.45 < head < 1.75


def test_time_offsets_shift_what_each_camera_sees():
    cams = ring_rig(2, 6.0, 2.0, 1000.0, (1280, 720))
    a = make_people_scene(cams, 40, PeopleOptions(num_people=2, noise_px=0.0, swap_fraction=0))
    b = make_people_scene(cams, 40, PeopleOptions(num_people=2, noise_px=0.0, swap_fraction=0,
                                                  offsets_frames=[0.0, 5.0]))
    np.testing.assert_allclose(b.points2d_clean[1, :30], a.points2d_clean[1, 5:35], atol=1e-6)
    np.testing.assert_allclose(b.points2d_clean[0], a.points2d_clean[0])


def test_truth_poses_and_files(tmp_path, scene):
    from epicap.synthetic import write_session

    poses = scene.truth_poses()
    assert isinstance(poses, Poses3D) and poses.people == scene.people
    write_session(scene, tmp_path / "s")
    back = Keypoints2D.from_npz(tmp_path / "s" / "keypoints2d.npz")
    assert back.people == scene.people
    with np.load(tmp_path / "s" / "detections2d.npz") as z:
        assert z["keypoints"].shape == (4, 120, 4, 17, 3) and int(z["format_version"]) == 1
    assert Poses3D.from_npz(tmp_path / "s" / "truth" / "poses3d.npz").poses.shape[0] == 4


@pytest.mark.parametrize("kwargs, message", [
    (dict(num_people=0), "1 to 6 people"), (dict(num_people=7), "1 to 6 people"),
    (dict(swap_fraction=2.0), "swap_fraction"), (dict(offsets_frames=[0.0]), "time offsets"),
])
def test_bad_options(kwargs, message):
    with pytest.raises(InputError, match=message):
        make_people_scene(ring_rig(2), 10, PeopleOptions(**kwargs))


def test_synth_people_command(tmp_path, capsys):
    from epicap.cli import main

    out = tmp_path / "s"
    assert main(["synth", "--out", str(out), "--people", "3", "--cameras", "4", "--frames", "30",
                 "--radius", "6", "--quiet"]) == 0
    assert "3 people" in capsys.readouterr().out
    assert Keypoints2D.from_npz(out / "keypoints2d.npz").keypoints.shape == (4, 30, 3, 17, 3)
    assert (out / "detections2d.npz").is_file() and (out / "truth" / "people.npz").is_file()
    assert main(["synth", "--out", str(tmp_path / "t"), "--people", "0"]) == 2
    assert "--people: between 1 and 6" in capsys.readouterr().err
