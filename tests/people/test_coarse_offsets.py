"""Offsets of cameras started seconds apart, found before anyone is matched, against synthetic
truth (people from the walk mocap clip, 2 px noise, left/right swaps, a bystander)."""
import numpy as np
import pytest

from epicap.joint_sets import get_joint_set
from epicap.people.coarse_offsets import _solve, camera_pairs, coarse_offsets
from epicap.people.timeline import match_started_apart
from epicap.people.uncalibrated import match_uncalibrated
from epicap.synthetic import ring_rig
from epicap.synthetic.people import PeopleOptions, make_people_scene
from tests.people.scenes import identity_accuracy

APART = [0.0, 27.4, -21.2, 29.7]  # frames at 30 fps: cameras up to 1.7 s apart


@pytest.fixture(scope="module")
def apart():
    cams = ring_rig(4, 6.0, 2.0, 1000.0, (1280, 720), seed=2)
    scene = make_people_scene(cams, 240, PeopleOptions(num_people=3, noise_px=2.0, seed=2,
                                                       swap_fraction=0.02, offsets_frames=APART))
    return cams, scene


def test_offsets_of_cameras_started_seconds_apart_are_found_within_a_step(apart):
    cams, scene = apart
    found = coarse_offsets(scene.detections, cams.image_size, 30.0)
    assert found.applied and found.gain > 1.4
    step = found.lags[1] - found.lags[0]
    assert step == 3  # 0.1 s at 30 fps
    np.testing.assert_allclose(found.offsets_frames, APART, atol=step / 2 + 0.5)
    # each pair's support peaks at its own lag (o_a - o_b) where the truth is in range
    for a, b in camera_pairs(4, 4):
        lag = APART[a] - APART[b]
        if abs(lag) <= found.lags[-1]:
            peak = found.lags[np.nanargmax(found.support[a, b])]
            assert abs(peak - lag) <= step, (a, b, peak, lag)
    np.testing.assert_array_equal(found.support[1, 0], found.support[0, 1, ::-1])


def test_people_of_cameras_started_apart_are_matched_at_those_offsets(apart):
    cams, scene = apart
    flip = get_joint_set("coco17").flip_index
    m, found = match_started_apart(scene.detections, cams.image_size, 30.0, flip_index=flip)
    assert found.applied and m.assignment.shape == scene.slot_person.shape
    acc, _ = identity_accuracy(m.assignment, scene.slot_person)
    assert m.num_people == 3 and acc >= 0.99, acc
    # on each camera's own frames, a second apart, the people come out mixed
    plain = match_uncalibrated(scene.detections, cams.image_size, flip_index=flip)
    assert identity_accuracy(plain.assignment, scene.slot_person)[0] < 0.9


def test_cameras_started_together_keep_their_own_frames():
    cams = ring_rig(4, 6.0, 2.0, 1000.0, (1280, 720), seed=5)
    scene = make_people_scene(cams, 150, PeopleOptions(num_people=3, noise_px=2.0, seed=5,
                                                       offsets_frames=[0.0, 1.4, -0.8, 0.6]))
    found = coarse_offsets(scene.detections, cams.image_size, 30.0)
    assert not found.applied and not found.offsets_frames.any()
    assert found.gain < 1.4


def test_a_pair_with_a_wrong_peak_is_outvoted_by_the_cycles_through_it():
    lags = 3 * np.arange(-20, 21)
    truth = np.array([0, 30, -18, 24, -9])
    C = len(truth)
    support = np.full((C, C, len(lags)), 100.0)
    for a in range(C):
        for b in range(C):
            if a != b:
                support[a, b] += 500 * np.exp(-0.5 * ((lags - (truth[a] - truth[b])) / 4) ** 2)
    # cameras 1 and 2 agree best on a wrong lag (a detector mixing two people, say)
    support[1, 2] += 900 * np.exp(-0.5 * ((lags - 12) / 4) ** 2)
    support[2, 1] = support[1, 2, ::-1]
    assert lags[np.argmax(support[1, 2])] == 12
    np.testing.assert_array_equal(_solve(support, lags), truth)


def test_many_cameras_are_searched_against_their_neighbours_round_the_rig():
    assert camera_pairs(4, 4) == [(a, b) for a in range(4) for b in range(a + 1, 4)]
    pairs = camera_pairs(12, 4)
    assert len(pairs) == 48 and all(a < b for a, b in pairs)
    for c in range(12):
        assert sum(c in p for p in pairs) == 8


def test_too_short_a_recording_or_one_camera_is_left_alone():
    d = np.zeros((1, 40, 2, 17, 3), np.float32)
    d[..., :2] = np.nan
    found = coarse_offsets(d, np.array([[1280, 720]]), 30.0)
    assert not found.applied and found.offsets_frames.tolist() == [0]
    short = coarse_offsets(np.repeat(d, 3, 0)[:, :10], np.full((3, 2), 640), 30.0)
    assert not short.applied and short.offsets_frames.tolist() == [0, 0, 0]


def test_detect_matches_people_at_the_offsets_found_and_says_so(apart, tmp_path):
    from epicap.keypoints.everyone import PeopleChoice, match_people, record_matched_offsets
    from epicap.session.detections2d import Detections2D

    cams, scene = apart
    det = Detections2D(scene.detections, cams.names, "coco17", cams.image_size, 30.0)
    people = match_people(det, PeopleChoice())
    assert people.people == ["p0", "p1", "p2"]
    np.testing.assert_allclose(people.offsets_frames, APART, atol=2.0)
    assert any("cameras started apart" in n and "cam02 +27 (+0.90 s)" in n for n in people.notes)
    det.save(tmp_path / "detections2d.npz")
    record_matched_offsets(tmp_path / "detections2d.npz", det, people)
    back = Detections2D.from_npz(tmp_path / "detections2d.npz")
    assert back.matched_offsets.tolist() == people.offsets_frames.tolist()
