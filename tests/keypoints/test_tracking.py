"""The main-subject tracker: prominence, identity through reordering, gaps and crossings."""
import numpy as np
import pytest

from epicap.errors import InputError
from epicap.keypoints.tracking import (TrackingOptions, select_main_subject, select_main_subjects,
                                       track_main_subject, track_people)

# a coco17-like stick figure, unit height, origin at the hips' midpoint, y down
_TEMPLATE = np.array([
    [0, -0.85], [-0.03, -0.88], [0.03, -0.88], [-0.07, -0.86], [0.07, -0.86],
    [-0.18, -0.65], [0.18, -0.65], [-0.22, -0.35], [0.22, -0.35], [-0.24, -0.08], [0.24, -0.08],
    [-0.1, 0.0], [0.1, 0.0], [-0.1, 0.45], [0.1, 0.45], [-0.1, 0.9], [0.1, 0.9]])


def person(x, y, height, conf=0.9, rng=None):
    xy = _TEMPLATE * height + (x, y)
    if rng is not None:
        xy = xy + rng.normal(0, 1.0, xy.shape)
    return np.concatenate([xy, np.full((len(xy), 1), conf)], axis=1)


def test_main_subject_is_the_prominent_one_through_shuffled_order():
    rng = np.random.default_rng(0)
    T = 60
    frames, truth = [], []
    for t in range(T):
        main = person(300 + 3 * t, 400, 300, 0.8, rng)
        by = person(80, 300, 150, 0.5, rng)
        order = rng.permutation(2)
        ppl = np.stack([main, by])[order]
        frames.append(ppl)
        truth.append(int(np.flatnonzero(order == 0)[0]))
    res = track_main_subject(frames)
    np.testing.assert_array_equal(res.person_index, truth)
    assert res.num_tracks == 2 and res.coverage == 1.0
    np.testing.assert_allclose(res.keypoints[10, 11, 0], frames[10][truth[10], 11, 0])


def test_gap_resumes_the_same_track_and_leaves_missing_frames():
    rng = np.random.default_rng(1)
    frames = [person(200 + 2 * t, 300, 250, rng=rng)[None] for t in range(40)]
    for t in range(15, 22):  # seven frames with nobody
        frames[t] = None
    frames[25] = np.zeros((0, 17, 3))
    res = track_main_subject(frames)
    assert res.num_tracks == 1
    assert np.isnan(res.keypoints[15:22, :, :2]).all() and (res.keypoints[15:22, :, 2] == 0).all()
    assert res.person_index[16] == -1 and res.person_index[30] == 0
    assert res.coverage == pytest.approx(32 / 40)


def test_longer_gap_than_allowed_starts_a_new_track_and_the_subject_comes_back():
    frames = [person(200, 300, 250)[None] for _ in range(40)]
    for t in range(10, 30):
        frames[t] = None
    res = track_main_subject(frames, TrackingOptions(max_gap=5))
    assert res.num_tracks == 2
    assert res.coverage == pytest.approx(20 / 40)  # both tracks are the subject's
    assert len(track_people(frames, TrackingOptions(max_gap=5))) == 2


def test_the_subject_back_after_a_long_gap_with_a_bystander_in_view():
    """The subject walks out of view for 40 frames and comes back elsewhere; a smaller bystander
    stands in view throughout, and a passer-by much smaller than the subject crosses while the
    subject is away, as does a false detection of 3 frames: only the subject's tracks are kept."""
    rng = np.random.default_rng(5)
    T = 120
    frames, truth = [], []
    for t in range(T):
        here = [person(120, 300, 170, 0.6, rng)]                          # bystander
        subject = None
        if t < 40:
            subject = person(300 + 4 * t, 400, 320, 0.85, rng)
        elif t >= 80:
            subject = person(900 - 4 * (t - 80), 420, 330, 0.85, rng)
        elif 50 <= t < 70:
            here.append(person(400 + 6 * (t - 50), 250, 120, 0.8, rng))  # passer-by, far away
        elif t in (45, 46, 47):
            here.append(person(1100, 100, 300, 0.85, rng))              # a false detection
        if subject is not None:
            here.append(subject)
        order = rng.permutation(len(here))
        frames.append(np.stack(here)[order])
        truth.append(int(np.flatnonzero(order == len(here) - 1)[0]) if subject is not None
                     else -1)
    res = track_main_subject(frames)
    np.testing.assert_array_equal(res.person_index, truth)
    assert res.coverage == pytest.approx(80 / T)


def test_no_identity_switch_when_a_smaller_person_crosses():
    rng = np.random.default_rng(2)
    T = 50
    frames, truth = [], []
    for t in range(T):
        main = person(100 + 8 * t, 400, 320, 0.8, rng)      # walks right
        other = person(500 - 8 * t, 380, 200, 0.8, rng)     # walks left, crosses at t = 25
        order = rng.permutation(2)
        frames.append(np.stack([main, other])[order])
        truth.append(int(np.flatnonzero(order == 0)[0]))
    res = track_main_subject(frames)
    np.testing.assert_array_equal(res.person_index, truth)


def test_low_confidence_and_sparse_candidates_are_ignored():
    p = person(200, 300, 250)
    sparse = np.full_like(p, np.nan)
    sparse[:2] = p[:2]  # only two joints seen
    faint = person(200, 300, 250, conf=0.01)
    res = track_main_subject([sparse[None], faint[None]])
    assert res.num_tracks == 0
    assert np.isnan(res.keypoints[..., :2]).all()


def test_nobody_ever_and_empty_input():
    res = track_main_subject([None, None])
    assert res.keypoints.shape[0] == 2 and res.num_tracks == 0 and res.coverage == 0
    assert select_main_subject([]).shape[0] == 0


def test_bad_shapes_raise_input_error():
    with pytest.raises(InputError, match="frame 1"):
        track_main_subject([person(0, 0, 100)[None], np.zeros((1, 5, 3))])
    with pytest.raises(InputError, match="frame 0"):
        track_main_subject([np.zeros((17, 3))])


def test_select_main_subjects_stacks_and_pads_cameras():
    a = [person(200 + t, 300, 250)[None] for t in range(10)]
    b = [person(400, 300, 200)[None] for _ in range(6)]
    kp, res = select_main_subjects([a, b, [None] * 3], 17, camera_names=["a", "b", "c"])
    assert kp.shape == (3, 10, 17, 3) and kp.dtype == np.float32
    assert np.isnan(kp[1, 6:, :, :2]).all() and np.isfinite(kp[1, :6, :, :2]).all()
    assert np.isnan(kp[2, ..., :2]).all() and res[2].num_tracks == 0
    with pytest.raises(InputError, match="^b: 5 joints, expected 17"):
        select_main_subjects([a, [np.zeros((1, 5, 3))]], 17, camera_names=["a", "b"])
    with pytest.raises(InputError, match="^b: frame 1"):
        select_main_subjects([a, [a[0], np.zeros((1, 5, 3))]], 17, camera_names=["a", "b"])


def test_a_person_split_in_two_detections_is_merged():
    """OpenPose sometimes reports the upper and the lower body as two people (the Pose2Sim demo's
    cam01, frame 37): both halves are merged into the tracked subject."""
    frames = [person(300 + t, 400, 300)[None] for t in range(10)]
    whole = person(310, 400, 300)
    upper, lower = whole.copy(), whole.copy()
    upper[11:] = np.nan
    lower[:11] = np.nan
    frames.append(np.stack([person(60, 300, 120, 0.5), lower, upper]))
    frames += [person(311 + t, 400, 300)[None] for t in range(5)]
    res = track_main_subject(frames)
    np.testing.assert_allclose(res.keypoints[10], whole)
    assert res.num_tracks == 2  # the subject and the bystander, no track for the fragment


def test_track_people_follows_everyone_main_subject_first():
    rng = np.random.default_rng(3)
    T = 40
    frames = []
    for t in range(T):
        ppl = [person(300 + 3 * t, 400, 300, 0.8, rng),                    # the main subject
               person(700 - 2 * t, 380, 200, 0.7, rng)]                    # another, smaller
        if 10 <= t < 16:
            ppl.append(person(60, 300, 120, 0.5, rng))                     # a passer-by
        frames.append(np.stack(ppl)[rng.permutation(len(ppl))])
    people = track_people(frames)
    assert people.shape == (3, T, 17, 3)
    np.testing.assert_array_equal(people[0], track_main_subject(frames).keypoints)
    # each row is one person throughout: the hips' x follows that person's own path
    hips = people[..., 11:13, 0].mean(-1)                                   # (3, T)
    np.testing.assert_allclose(hips[0], 300 + 3 * np.arange(T), atol=3)
    np.testing.assert_allclose(hips[1], 700 - 2 * np.arange(T), atol=3)
    seen = people[..., 2].max(-1) > 0
    assert seen[:2].all() and seen[2].tolist() == [10 <= t < 16 for t in range(T)]
    assert np.isnan(people[2, :10, :, :2]).all() and (people[2, :10, :, 2] == 0).all()
    # nobody at all: no rows
    assert track_people([None, np.zeros((0, 17, 3))]).shape == (0, 2, 0, 3)
