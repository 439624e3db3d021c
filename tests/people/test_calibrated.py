"""Matching with known cameras: ray distances, clustering, swaps, the whole match on a scene."""
import numpy as np
import pytest

from epicap.errors import InputError
from epicap.joint_sets import get_joint_set
from epicap.people import MatchOptions, match_calibrated, unswap
from epicap.people.calibrated import cluster_views, pair_distances
from epicap.synthetic import ring_rig
from epicap.synthetic.people import PeopleOptions, make_people_scene

SKEL = get_joint_set("coco17")


def _identity_confusion(truth, found, P_true, P_found):
    """(P_true, P_found + 1) counts of detections: true person x found person (last: -1)."""
    det = truth >= 0
    conf = np.zeros((P_true, P_found + 1), int)
    np.add.at(conf, (truth[det], np.where(found[det] >= 0, found[det], P_found)), 1)
    return conf


def test_pair_distance_is_the_distance_of_the_two_rays():
    rng = np.random.default_rng(0)
    origins = rng.normal(size=(2, 3)) * 3
    J = 17
    d = rng.normal(size=(1, 2, J, 3))
    d /= np.linalg.norm(d, axis=-1, keepdims=True)
    D = pair_distances(origins, d, np.arange(J), num_slots=1, min_shared=4)
    # reference: closest points of the two lines by least squares on the line parameters
    ref = []
    for j in range(J):
        A = np.stack([d[0, 0, j], -d[0, 1, j]], axis=1)
        st = np.linalg.lstsq(A, origins[1] - origins[0], rcond=None)[0]
        closest = origins[0] + st[0] * d[0, 0, j], origins[1] + st[1] * d[0, 1, j]
        ref.append(np.linalg.norm(closest[0] - closest[1]))
    assert D[0, 0, 1] == pytest.approx(np.mean(ref), rel=1e-4)
    assert D[0, 1, 0] == D[0, 0, 1] and np.isinf(D[0, 0, 0])


def test_pair_distance_sees_through_a_left_right_swap_and_needs_shared_joints():
    cams = ring_rig(2, 5.0, 1.6, 1000.0)
    X = np.random.default_rng(1).normal(scale=0.3, size=(17, 3)) + [0, 0, 1]
    d = (X[None] - cams.centers[:, None])
    d /= np.linalg.norm(d, axis=-1, keepdims=True)
    d = d[None]                                                   # (T=1, N=2, J, 3)
    assert pair_distances(cams.centers, d, SKEL.flip_index, 1)[0, 0, 1] < 1e-6
    swapped = d.copy()
    swapped[0, 1] = d[0, 1, SKEL.flip_index]
    assert pair_distances(cams.centers, swapped, SKEL.flip_index, 1)[0, 0, 1] < 1e-6
    assert pair_distances(cams.centers, swapped, np.arange(17), 1)[0, 0, 1] > 0.05
    sparse = d.copy()
    sparse[0, 1, 3:] = np.nan
    assert np.isnan(pair_distances(cams.centers, sparse, SKEL.flip_index, 1)[0, 0, 1])


def test_clusters_hold_one_detection_per_camera():
    inf = np.inf
    # nodes 0, 1 camera A; 2 camera B; 3 camera C. 0-2-3 close, 1 close to 2 but farther.
    D = np.array([[inf, inf, .01, .02], [inf, inf, .03, np.nan], [.01, .03, inf, .01],
                  [.02, np.nan, .01, inf]])[None]
    label = cluster_views(D, 0.1)[0]
    assert label[0] == label[2] == label[3] and label[1] != label[0]
    assert (cluster_views(D, 0.005)[0] == np.arange(4)).all()


@pytest.fixture(scope="module")
def scene():
    cams = ring_rig(4, 6.0, 2.0, 1000.0, (1280, 720))
    return make_people_scene(cams, 200, PeopleOptions(num_people=4, swap_fraction=0.03, seed=5))


def test_match_recovers_every_identity_and_the_swaps(scene):
    m = match_calibrated(scene.detections, scene.cameras, SKEL.flip_index, SKEL.bone_index)
    assert m.num_people == 4 and m.assignment.shape == scene.slot_person.shape
    conf = _identity_confusion(scene.slot_person, m.assignment, 4, m.num_people)
    mapping = conf[:, :-1].argmax(1)
    assert len(set(mapping)) == 4  # one found person per true person
    right = conf[np.arange(4), mapping].sum()
    assert right / conf.sum() > 0.99
    wrong = conf[:, :-1].sum() - right
    assert wrong <= 2
    # swaps: most planted ones found, nearly no false alarms
    truth_swapped = np.take_along_axis(
        np.concatenate([scene.swapped, np.zeros_like(scene.swapped[..., :1])], -1),
        np.where(scene.slot_person >= 0, scene.slot_person, 4), 2)
    found = m.swapped
    assert (found & truth_swapped).sum() >= 0.8 * truth_swapped.sum()
    assert (found & ~truth_swapped).sum() <= 0.1 * truth_swapped.sum() + 1
    assert m.swaps_per_camera.sum() == found.sum()
    # the people's 3D from the matched rays is close to the truth
    for p in range(4):
        err = np.linalg.norm(m.points3d[mapping[p]] - scene.poses3d[p], axis=-1)
        assert np.nanmedian(err) < 0.03


def test_unswap_exchanges_back():
    det = np.arange(2 * 1 * 1 * 17 * 3, dtype=float).reshape(2, 1, 1, 17, 3)
    sw = np.array([True, False]).reshape(2, 1, 1)
    out = unswap(det, sw, SKEL.flip_index)
    np.testing.assert_array_equal(out[0, 0, 0], det[0, 0, 0, SKEL.flip_index])
    np.testing.assert_array_equal(out[1], det[1])


def test_threads_give_the_same_answer(scene):
    one = match_calibrated(scene.detections[:, :130], scene.cameras, SKEL.flip_index,
                           SKEL.bone_index, MatchOptions(workers=1))
    two = match_calibrated(scene.detections[:, :130], scene.cameras, SKEL.flip_index,
                           SKEL.bone_index, MatchOptions(workers=2))
    np.testing.assert_array_equal(one.assignment, two.assignment)


def test_empty_frames_and_bad_input(scene):
    det = scene.detections[:, :30].copy()
    det[:, 10:20] = (np.nan, np.nan, 0.0)  # nobody in view
    m = match_calibrated(det, scene.cameras, SKEL.flip_index, SKEL.bone_index)
    assert (m.assignment[:, 10:20] == -1).all()
    blind = scene.detections[:, :60].copy()
    blind[3] = (np.nan, np.nan, 0.0)  # a camera where no one is ever detected
    m = match_calibrated(blind, scene.cameras, SKEL.flip_index, SKEL.bone_index)
    assert (m.assignment[3] == -1).all() and m.num_people >= 3
    m = match_calibrated(det[:, :0], scene.cameras, SKEL.flip_index)
    assert m.num_people == 0 and m.assignment.shape == (4, 0, 4)
    with pytest.raises(InputError, match="detections"):
        match_calibrated(det[0], scene.cameras, SKEL.flip_index)
    with pytest.raises(InputError, match="3 cameras for detections of 4"):
        match_calibrated(det, _three(scene.cameras), SKEL.flip_index)


def _three(cams):
    from epicap.session.cameras import Cameras

    return Cameras(cams.names[:3], cams.image_size[:3], cams.K[:3], cams.dist[:3], cams.R[:3],
                   cams.t[:3])
