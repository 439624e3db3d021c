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


def _step_period(poses, skel):
    """(P,) frames per gait cycle of each person: the first peak of the autocorrelation of the
    distance between the ankles (twice a cycle: once per step)."""
    a, b = skel.index("left_ankle"), skel.index("right_ankle")
    out = []
    for x in poses:
        d = np.linalg.norm(x[:, a] - x[:, b], axis=-1)
        d = d - d.mean()
        ac = np.correlate(d, d, "full")[len(d) - 1:]
        ac /= ac[0]
        lag = 10 + int(np.argmax(ac[10:len(d) // 2]))   # one step: half a cycle, 15-25 frames
        out.append(2 * lag if ac[lag] > 0.5 and lag < 30 else lag)
    return np.array(out, float)


def test_walkers_step_at_their_own_cadence_and_phase():
    """Walkers drawn with their own cadence and phase step at that cadence; in lockstep (the
    scenes before) they stepped at one cadence in nearly one phase."""
    from epicap.joint_sets import get_joint_set
    from epicap.synthetic.mocap import _dense_clip
    from epicap.synthetic.people import WALK_CYCLE_S

    assert WALK_CYCLE_S == pytest.approx(_dense_clip("walk").duration, abs=1e-6)
    cams = ring_rig(4, 6.0, 2.0, 1000.0, (1280, 720))
    skel = get_joint_set("coco17")
    opts = PeopleOptions(num_people=3, bystander=False, enter_leave=False, noise_px=0.0, seed=3)
    drawn = make_people_scene(cams, 300, opts)
    locked = make_people_scene(cams, 300, PeopleOptions(**{**opts.__dict__, "lockstep": True}))
    cadence = drawn.cadences
    assert cadence[0] == 1.0 and np.all(np.abs(cadence - 1) <= 0.1)
    assert np.abs(np.diff(cadence)).min() > 0.005          # three different cadences (seed 3)
    np.testing.assert_allclose(locked.cadences, 1.0)
    # person 0 walks as before; the others at their own cadence: cycle = 1.27 s * 30 fps / c
    np.testing.assert_allclose(drawn.poses3d[0], locked.poses3d[0])
    expected = WALK_CYCLE_S * 30 / cadence
    for scene, want in ((drawn, expected), (locked, np.full(3, WALK_CYCLE_S * 30))):
        np.testing.assert_allclose(_step_period(scene.poses3d, skel), want, atol=1.5)

    # lockstep: person 1 strides as person 0 does (one cycle, 0.03 s apart); drawn: not
    a, b = skel.index("left_ankle"), skel.index("right_ankle")

    def stride_match(scene):  # (3, 3) correlations of the walkers' ankle distances over time
        d = np.linalg.norm(scene.poses3d[:, :, a] - scene.poses3d[:, :, b], axis=-1)
        return np.corrcoef(d)[np.triu_indices(3, 1)]

    assert np.all(stride_match(locked) > 0.7) and np.median(np.abs(stride_match(drawn))) < 0.3
