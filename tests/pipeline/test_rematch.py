"""Re-checking matched people with the cameras (pipeline/rematch.py) against synthetic truth."""
import numpy as np
import pytest

from epicap.joint_sets import get_joint_set
from epicap.people.calibrated import unswap
from epicap.pipeline.rematch import rematch_keypoints
from epicap.session import Keypoints2D
from epicap.synthetic import ring_rig
from epicap.synthetic.people import PeopleOptions, make_people_scene


@pytest.fixture(scope="module")
def scene():
    cams = ring_rig(4, 6.0, 2.0, 1000.0, (1280, 720), seed=3)
    return make_people_scene(cams, 60, PeopleOptions(num_people=3, swap_fraction=0.05,
                                                     bystander=False, enter_leave=False,
                                                     seed=3))


def _clean(scene) -> np.ndarray:
    """(C, T, P, J, 3) the scene's keypoints with the planted swaps undone."""
    flip = get_joint_set("coco17").flip_index
    return unswap(scene.keypoints.keypoints, scene.swapped, flip)


def _same(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(...,) bool: two (..., J, 3) views hold the same joints (NaN where both missing)."""
    return np.all((a == b) | (np.isnan(a) & np.isnan(b)), axis=(-1, -2))


def test_planted_swaps_are_undone_per_camera(scene):
    fixed, summary = rematch_keypoints(scene.keypoints, scene.cameras)
    assert fixed.people == scene.keypoints.people and fixed.keypoints.shape == \
        scene.keypoints.keypoints.shape
    planted = scene.swapped & scene.visible.any(-1)                           # (C, T, P)
    assert planted.sum() >= 10
    right = _same(fixed.keypoints, _clean(scene))                              # (C, T, P)
    assert right[planted].mean() >= 0.9
    # views that were right stay right
    assert right[~planted & scene.visible.any(-1)].mean() >= 0.99
    for c, name in enumerate(scene.cameras.names):
        assert abs(summary.swaps[name] - planted[c].sum()) <= max(2, 0.1 * planted[c].sum())


def test_two_people_exchanged_in_one_camera_are_given_back(scene):
    kp = scene.keypoints.keypoints.copy()
    frames = slice(20, 32)
    kp[2, frames, [0, 1]] = kp[2, frames, [1, 0]]  # camera 2 gives p0's views to p1, and back
    wrong = Keypoints2D(kp, scene.cameras.names, "coco17", scene.cameras.image_size, 30.0,
                        None, scene.keypoints.people)
    fixed, summary = rematch_keypoints(wrong, scene.cameras)
    both = scene.visible[2, frames, :2].any(-1).all(-1)                       # frames both seen
    right = _same(fixed.keypoints[2, frames, :2], _clean(scene)[2, frames, :2])
    assert both.sum() >= 8 and right[both].all()
    assert summary.reassigned[scene.cameras.names[2]] >= 2 * both.sum() - 2


def test_one_person_keeps_single_shapes_and_its_swaps_are_fixed(scene):
    one = scene.keypoints.person(0)
    fixed, summary = rematch_keypoints(one, scene.cameras)
    assert fixed.people is None and fixed.keypoints.shape == one.keypoints.shape
    planted = scene.swapped[:, :, 0] & scene.visible[:, :, 0].any(-1)
    right = _same(fixed.keypoints, _clean(scene)[:, :, 0])
    assert right[planted].mean() >= 0.9 and sum(summary.reassigned.values()) == 0


def test_cameras_missing_from_the_calibration_are_left_alone(scene):
    rig = scene.cameras.select(scene.cameras.names[:3])
    fixed, summary = rematch_keypoints(scene.keypoints, rig)
    last = scene.cameras.names[3]
    np.testing.assert_array_equal(np.isnan(fixed.keypoints[3]),
                                  np.isnan(scene.keypoints.keypoints[3]))
    assert summary.swaps[last] == summary.reassigned[last] == summary.dropped[last] == 0
    assert sum(summary.swaps.values()) > 0


def test_a_view_of_someone_else_in_a_one_person_file_is_dropped(scene):
    kp = scene.keypoints.keypoints[:, :, 0].copy()
    frames = np.arange(10, 16)
    kp[0, frames] = scene.keypoints.keypoints[0, frames, 1]  # camera 0 followed person 1 there
    wrong = Keypoints2D(kp, scene.cameras.names, "coco17", scene.cameras.image_size, 30.0)
    fixed, summary = rematch_keypoints(wrong, scene.cameras)
    other = scene.visible[0, frames, 1].sum(-1) >= 4
    gone = (fixed.keypoints[0, frames, :, 2] == 0).all(-1)
    assert other.sum() >= 4 and gone[other].all()
    assert summary.dropped[scene.cameras.names[0]] == other.sum()
    kept = _same(fixed.keypoints[1:], wrong.keypoints[1:]) | (scene.swapped[1:, :, 0])
    assert kept.mean() >= 0.99  # the other cameras lose nothing


def test_someone_else_s_view_is_dropped_where_the_person_has_3d_a_frame_away(scene):
    # frame 10: camera 0 gives person 1's view (1.7 m away) to person 0, whom only camera 1
    # sees there (no 3D at that frame, 3D at the frames around it); person 1 is seen by camera
    # 0 alone from frame 4 to 16, so no 3D of theirs claims the view
    f = 10
    kp = scene.keypoints.keypoints.copy()
    apart = np.linalg.norm(np.nanmean(scene.poses3d[0, f] - scene.poses3d[1, f], axis=0))
    assert (apart > 1.5 and scene.visible[0, f, 1].sum() >= 4
            and scene.visible[1, f, 0].sum() >= 4
            and scene.visible[:, [f - 1, f + 1], 0].any(-1).sum(0).min() >= 2)
    kp[1:, f - 6:f + 7, 1] = (np.nan, np.nan, 0.0)
    kp[2:, f, 0] = (np.nan, np.nan, 0.0)
    kp[0, f, 0], kp[0, f, 1] = kp[0, f, 1], (np.nan, np.nan, 0.0)
    wrong = Keypoints2D(kp, scene.cameras.names, "coco17", scene.cameras.image_size, 30.0,
                        None, scene.keypoints.people)
    fixed, summary = rematch_keypoints(wrong, scene.cameras)
    assert (fixed.keypoints[0, f, :2, :, 2] == 0).all()
    assert summary.dropped[scene.cameras.names[0]] == 1


def test_a_person_seen_by_one_camera_for_a_while_keeps_their_id(scene):
    # only camera 0 sees person 0 in frames 14-27 (no 3D for 14 frames: views further than 5
    # frames from it are attached to nobody), and the matching without cameras gave camera 0's
    # views of frames 20-31 to a new id (slot 3)
    kp = scene.keypoints.keypoints
    C, T, P = kp.shape[:3]
    four = np.concatenate([kp, np.full((C, T, 1) + kp.shape[3:], np.nan)], axis=2)
    four[..., 3, :, 2] = 0.0
    frames = np.arange(20, 32)
    assert scene.visible[0, frames, 0].sum(-1).min() >= 4
    four[1:, 14:28, 0] = (np.nan, np.nan, 0.0)
    four[0, frames, 3], four[0, frames, 0] = four[0, frames, 0], (np.nan, np.nan, 0.0)
    wrong = Keypoints2D(four, scene.cameras.names, "coco17", scene.cameras.image_size, 30.0,
                        None, list(scene.keypoints.people) + ["p3"])
    fixed, _ = rematch_keypoints(wrong, scene.cameras)
    assert (fixed.keypoints[0, frames, 3, :, 2] == 0).all()
    right = _same(fixed.keypoints[0, frames, 0], _clean(scene)[0, frames, 0])
    assert right.all()


def test_a_person_the_cameras_merge_into_another_is_left_empty(scene, tmp_path):
    """The matching without cameras split person 1 (slot 3 holds them in frames 20-39) and gave
    slot 3 two views of 3 joints besides: the cameras give the split views back to p1, and the
    shell of 3-joint views goes too, said in one warning (not as someone seen by one camera)."""
    from epicap.pipeline.triangulate import triangulate_keypoints

    kp = scene.keypoints.keypoints
    C, T, P = kp.shape[:3]
    four = np.concatenate([kp, np.full((C, T, 1) + kp.shape[3:], np.nan)], axis=2)
    four[..., 3, :, 2] = 0.0
    split = np.arange(20, 40)
    four[:, split, 3], four[:, split, 1] = four[:, split, 1], (np.nan, np.nan, 0.0)
    seen = scene.visible[:2, 45, 1]                                              # (2, J)
    assert seen.sum(-1).min() >= 3
    for c in range(2):                                    # cameras 0, 1: 3 joints of p1 each
        joints = np.flatnonzero(seen[c])[:3]
        four[c, 45, 3, joints] = four[c, 45, 1, joints]
    wrong = Keypoints2D(four, scene.cameras.names, "coco17", scene.cameras.image_size, 30.0,
                        None, list(scene.keypoints.people) + ["p3"])
    fixed, summary = rematch_keypoints(wrong, scene.cameras)
    assert (fixed.keypoints[..., 3, :, 2] == 0).all()
    back = scene.visible[:, split, 1].sum(-1) >= 4                               # (C, 20)
    right = _same(fixed.keypoints[:, split, 1], _clean(scene)[:, split, 1])
    assert back.sum() >= 40 and right[back].mean() >= 0.95
    assert summary.merged == {"p3": "p1"}
    assert any(w.startswith("person p3: the cameras gave every view of it to p1")
               for w in summary.warnings())
    _, tri = triangulate_keypoints(fixed, scene.cameras)
    assert tri.untriangulated == [] and tri.empty == ["p3"]
    assert [w for w in tri.warnings if "p3" in w] == ["person p3 has no views: left empty"]


def test_an_id_whose_whole_views_all_go_is_emptied_and_named():
    from epicap.pipeline.rematch import RematchSummary, _without_emptied

    full = np.zeros((2, 3, 3), bool)
    full[:, :, 0] = full[0, :2, 1] = full[1, 0, 2] = True
    new = np.broadcast_to(np.arange(3), (2, 3, 3)).copy()     # each view stays in its slot
    new[0, :2, 1] = 0                                          # p1's whole views go to p0
    new[1, 0, 2] = -1                                          # p2's one whole view is dropped
    new[1, 2, 0] = 1                                           # p0's view given to p1: kept
    summary = RematchSummary([], {}, {}, {}, {}, 3)
    out = _without_emptied(new, full, ["p0", "p1", "p2"], summary)
    assert summary.merged == {"p2": ""}                       # p1 holds p0's whole view
    assert (out[..., 2] == -1).all() and (out[new != 2] == new[new != 2]).all()
    new[1, 2, 0] = 0
    summary = RematchSummary([], {}, {}, {}, {}, 3)
    out = _without_emptied(new, full, ["p0", "p1", "p2"], summary)
    assert summary.merged == {"p1": "p0", "p2": ""}
    assert not np.isin(out, [1, 2]).any()
    assert summary.warnings() == [
        "person p1: the cameras gave every view of it to p0 (the matching without cameras had "
        "split one person in two); p1 is left empty",
        "person p2: none of its views fits the cameras' 3D of anyone; p2 is left empty"]
