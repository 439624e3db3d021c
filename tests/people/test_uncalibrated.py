"""Matching without cameras against the truth of synthetic scenes (shuffled detection slots)."""
import numpy as np
import pytest

from epicap.people.assignment import gather
from epicap.people.uncalibrated import UncalibratedOptions, match_uncalibrated, sampson_distance
from tests.people.scenes import identity_accuracy, make_people_scene


def test_sampson_distance_against_a_point_moved_off_its_epipolar_line():
    import cv2

    rng = np.random.default_rng(0)
    K = np.array([[800.0, 0, 320], [0, 800, 240], [0, 0, 1]])
    R, _ = cv2.Rodrigues(np.array([0.0, 0.3, 0.0]))
    t = np.array([-1.0, 0.0, 0.1])
    X = rng.uniform([-1, -1, 4], [1, 1, 6], (20, 3))
    x1 = (X @ K.T)[:, :2] / X[:, 2:]
    Xc = X @ R.T + t
    x2 = (Xc @ K.T)[:, :2] / Xc[:, 2:]
    tx = np.array([[0, -t[2], t[1]], [t[2], 0, -t[0]], [-t[1], t[0], 0]])
    Kinv = np.linalg.inv(K)
    F = Kinv.T @ tx @ R @ Kinv
    assert np.abs(sampson_distance(F, x1, x2)).max() < 1e-6
    # moving x2 by 3 px along the normal of its epipolar line moves the distance by ~3 px / sqrt 2
    # (Sampson splits the error between both images when they are alike)
    line = np.c_[x1, np.ones(20)] @ F.T
    normal = line[:, :2] / np.linalg.norm(line[:, :2], axis=1, keepdims=True)
    d = sampson_distance(F, x1, x2 + 3 * normal)
    assert 1.0 < d.min() and d.max() < 3.01


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
