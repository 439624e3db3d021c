"""Matching without cameras against the truth of synthetic scenes (shuffled detection slots)."""
import numpy as np
import pytest

from epicap.people.assignment import gather
from epicap.people.uncalibrated import UncalibratedOptions, match_uncalibrated
from tests.people.scenes import identity_accuracy, make_people_scene


@pytest.mark.parametrize("P, C, extra", [
    (2, 4, {}),
    (3, 4, dict(bystander=True)),
    (4, 4, dict(lost={(0, 0): (40, 80), (1, 1): (60, 100)})),
])
def test_identities_match_the_truth(P, C, extra):
    s = make_people_scene(P, C, **extra)
    r = match_uncalibrated(s.detections, s.image_size)
    truth_people = int(s.truth.max()) + 1
    assert r.num_people == truth_people
    acc, mapping = identity_accuracy(r.assignment, s.truth)
    assert acc >= 0.99, (acc, mapping)
    assert len(mapping) == truth_people and (r.cameras_seen == C).all()
    # person 0 is the one seen in the most (camera, frame) pairs
    seen_true = [(s.truth == p).sum() for p in range(truth_people)]
    assert seen_true[mapping[0]] == max(seen_true)
    # gathered keypoints of a matched person are that person's detections
    kp = gather(s.detections, r.assignment, r.num_people)
    assert kp.shape == (C, s.detections.shape[1], r.num_people, 17, 3)


def test_people_who_enter_late_and_a_tracklet_cut_are_joined():
    s = make_people_scene(3, 4, present={2: (50, 150)}, lost={(2, 1): (70, 90)})
    r = match_uncalibrated(s.detections, s.image_size)
    acc, mapping = identity_accuracy(r.assignment, s.truth)
    assert r.num_people == 3 and acc >= 0.99
    late = [p for p, q in mapping.items() if q == 2][0]
    seen = (r.assignment == late).any(-1)  # (C, T)
    assert not seen[:, :50].any() and seen[:, 50:].all()
    cut = [p for p, q in mapping.items() if q == 1][0]
    lost_ids = np.unique(r.tracklets[2][s.truth[2] == 1])
    assert len(lost_ids) >= 2  # the occlusion cut the tracklet; both pieces are one person
    assert ((r.assignment[2] == cut) == (s.truth[2] == 1)).all()


def test_one_camera_people_are_dropped_unless_asked_for():
    s = make_people_scene(2, 3, num_frames=90, lost={(1, 1): (0, 90), (2, 1): (0, 90)})
    r = match_uncalibrated(s.detections, s.image_size)
    assert r.num_people == 1 and identity_accuracy(r.assignment, s.truth)[1] == {0: 0}
    assert (r.assignment[0][s.truth[0] == 1] == -1).all()
    r1 = match_uncalibrated(s.detections, s.image_size, UncalibratedOptions(min_cameras=1))
    assert r1.num_people == 2 and r1.cameras_seen.tolist() == [3, 1]


def test_nobody_anywhere_and_a_camera_that_sees_no_one():
    s = make_people_scene(2, 3, num_frames=60)
    d = s.detections.copy()
    d[1] = np.nan
    d[1, ..., 2] = 0
    r = match_uncalibrated(d, s.image_size)
    assert r.num_people == 2 and (r.assignment[1] == -1).all()
    d[:] = np.nan
    d[..., 2] = 0
    r = match_uncalibrated(d, s.image_size)
    assert r.num_people == 0 and (r.assignment == -1).all()


def _fundamentals(cams, thr):
    """(a, b) -> (F with x_b^T F x_a = 0, thr) of a calibrated rig (H&Z eq. 9.2)."""
    out = {}
    for a in range(len(cams)):
        for b in range(a + 1, len(cams)):
            R = cams.R[b] @ cams.R[a].T
            t = cams.t[b] - R @ cams.t[a]
            tx = np.array([[0, -t[2], t[1]], [t[2], 0, -t[0]], [-t[1], t[0], 0]])
            out[a, b] = (np.linalg.inv(cams.K[b]).T @ tx @ R @ np.linalg.inv(cams.K[a]), thr)
    return out


def test_merge_people_joins_a_person_split_between_cameras_and_nobody_else():
    from epicap.people.per_frame import merge_people

    s = make_people_scene(3, 4, num_frames=90)
    split = s.truth.copy()
    split[2:][split[2:] == 1] = 3  # person 1 as seen by cameras 2 and 3 becomes "person 3"
    merged, P = merge_people(s.detections, split, 4, _fundamentals(s.cameras, 13.0))
    assert P == 3
    acc, mapping = identity_accuracy(merged, s.truth)
    assert acc == 1.0 and sorted(mapping.values()) == [0, 1, 2]
    # two different people who never share a camera-frame stay two: one seen only by cameras
    # 0-1, the other only by cameras 2-3 (their views do not fit one F)
    apart = s.truth.copy()
    apart[:2][apart[:2] == 2] = -1
    apart[2:][apart[2:] == 1] = -1
    kept, P = merge_people(s.detections, apart, 3, _fundamentals(s.cameras, 13.0))
    assert P == 3 and identity_accuracy(kept, s.truth)[0] == identity_accuracy(apart, s.truth)[0]


def test_a_split_person_holding_a_stray_detection_is_still_merged():
    """Person 1 split as above, and in one camera-frame "person 3" (person 1 in cameras 2-3)
    also took person 0's detection in camera 0, where person 1 is seen: the two share that
    camera-frame. They are still one (1 shared in 180 camera-frames), and the stray detection
    is left unassigned, not given to person 1."""
    from epicap.people.per_frame import merge_people

    s = make_people_scene(3, 4, num_frames=90)
    split = s.truth.copy()
    split[2:][split[2:] == 1] = 3
    k = np.flatnonzero(split[0, 40] == 0)[0]
    split[0, 40, k] = 3  # person 0's detection in camera 0, frame 40
    merged, P = merge_people(s.detections, split, 4, _fundamentals(s.cameras, 13.0))
    assert P == 3
    assert merged[0, 40, k] == -1
    rest = np.ones(merged.shape, bool)
    rest[0, 40, k] = False
    acc, mapping = identity_accuracy(np.where(rest, merged, -1), np.where(rest, s.truth, -1))
    assert acc == 1.0 and sorted(mapping.values()) == [0, 1, 2]


@pytest.mark.parametrize("C, P, seed", [(4, 6, 3), pytest.param(8, 6, 0, marks=pytest.mark.slow)])
def test_no_identity_switch_on_crowded_scenes_with_a_bystander_and_a_visitor(C, P, seed):
    from epicap.synthetic import ring_rig
    from epicap.synthetic.people import PeopleOptions
    from epicap.synthetic.people import make_people_scene as make_scene

    cams = ring_rig(C, 6.0, 2.0, 1000.0, (1280, 720), seed=seed)
    s = make_scene(cams, 300, PeopleOptions(num_people=P, noise_px=2.0, swap_fraction=0.02,
                                            seed=seed))
    r = match_uncalibrated(s.detections, cams.image_size)
    assert r.num_people == P
    acc, mapping = identity_accuracy(r.assignment, s.slot_person)
    assert acc >= 0.995 and len(mapping) == P
    # per true person and frame, the id most cameras give it never changes
    for p in range(P):
        ids = np.where(s.slot_person == p, r.assignment, -1)
        per_frame = [np.bincount(v[v >= 0]).argmax() for v in ids.transpose(1, 0, 2)
                     if (v >= 0).any()]
        assert len(set(per_frame)) == 1, p


@pytest.mark.parametrize("seed", range(6))
def test_two_people_with_detector_bias_are_both_matched(seed):
    """Two people and a bystander, 60 frames, each camera's detector off by a constant 8 px per
    person and joint (view-dependent bias). One person's pairing alone fits an F that rejects
    the other person's right pairing; seeds of two pairings fit together do not. Measured:
    accuracy 1.0 on all six seeds, against 0.67-0.83 on three of them with single seeds only."""
    s = make_people_scene(2, 4, num_frames=60, bystander=True, seed=seed)
    rng = np.random.default_rng(seed)
    bias = rng.normal(scale=8.0, size=(4, 4, 17, 2))  # (camera, person, joint, xy)
    d = s.detections.copy()
    c, t, k = np.nonzero(s.truth >= 0)
    d[c, t, k, :, :2] += bias[c, s.truth[c, t, k]]
    r = match_uncalibrated(d, s.image_size)
    acc, mapping = identity_accuracy(r.assignment, s.truth)
    assert r.num_people == 3 and acc >= 0.99, (acc, mapping)


def test_seed_sets_pair_only_disjoint_tracklets_seen_together():
    from types import SimpleNamespace

    from epicap.people.uncalibrated import _seed_sets

    occ = np.ones((10, 3), dtype=bool)
    occ_late = occ.copy()
    occ_late[:, 2] = False  # tracklet 2 of camera b is never seen
    scorer = SimpleNamespace(pairs=np.array([[0, 0], [1, 1], [0, 1], [2, 2]]), occ_a=occ,
                             occ_b=occ_late)
    starts = _seed_sets(scorer, [0, 1, 2, 3], seeds=2)
    assert starts[:2] == [(0,), (1,)]
    # (0, 1) pairs a0-b0 with a1-b1; (0, 2) and (1, 2) share a tracklet; (0, 3) never together
    assert sorted(starts[2:]) == [(0, 1)]
