"""3D tracking: frame links, re-joining after a gap by proximity and body size, ordering."""
import numpy as np

from epicap.joint_sets import get_joint_set
from epicap.people import TrackOptions, track_clusters
from epicap.people.track3d import step_costs

SKEL = get_joint_set("coco17")


def _body(scale, rng):
    return rng.normal(scale=0.25 * scale, size=(17, 3)) + [0, 0, 1.0 * scale]


def _walk(start, velocity, T, body):
    return body[None] + (np.asarray(start) + np.arange(T)[:, None] * velocity)[:, None, :]


def test_step_costs_are_mean_joint_distances():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(2, 2, 17, 3))
    X[1, 1, :3] = np.nan
    c = step_costs(X)
    assert c.shape == (1, 2, 2)
    ok = np.isfinite(X[1, 1]).all(-1)
    assert np.isclose(c[0, 0, 1], np.linalg.norm(X[0, 0, ok] - X[1, 1, ok], axis=-1).mean())


def test_two_people_crossing_and_one_rejoined_after_occlusion():
    rng = np.random.default_rng(1)
    T = 120
    a = _walk([-1.5, 0, 0], [0.025, 0, 0], T, _body(1.0, rng))      # walks +x
    b = _walk([1.5, 0.4, 0], [-0.025, 0, 0], T, _body(1.1, rng))    # walks -x, passes a
    X = np.full((T, 5, 17, 3), np.nan)
    size = np.zeros((T, 5), int)
    # shuffle cluster slots per frame; b hidden for frames 50-69
    order = np.stack([rng.permutation(5) for _ in range(T)])
    for t in range(T):
        X[t, order[t, 0]], size[t, order[t, 0]] = a[t], 4
        if not 50 <= t < 70:
            X[t, order[t, 1]], size[t, order[t, 1]] = b[t], 2
    person, P = track_clusters(X, size, SKEL.bone_index, TrackOptions(min_person_frames=5))
    assert P == 2
    pa = person[np.arange(T), order[:, 0]]
    pb = person[np.arange(T), order[:, 1]]
    assert (pa == 0).all()                      # a: more camera-frames -> person 0
    seen_b = np.r_[0:50, 70:T]
    assert (pb[seen_b] == 1).all()
    assert (person[np.arange(T)[:, None], order[:, 2:]] == -1).all()


def test_a_different_body_far_away_is_not_rejoined():
    rng = np.random.default_rng(2)
    T = 60
    a = _walk([0, 0, 0], [0.0, 0, 0], 30, _body(1.0, rng))
    c = _walk([0.2, 0, 0], [0.0, 0, 0], 30, _body(1.3, rng))        # another, taller person
    X = np.full((T, 2, 17, 3), np.nan)
    X[:30, 0], X[30:, 0] = a, c
    size = np.where(np.isfinite(X[..., 0, 0]), 3, 0)
    person, P = track_clusters(X, size, SKEL.bone_index, TrackOptions(min_person_frames=5))
    assert P == 2 and person[0, 0] != person[40, 0]
    person, P = track_clusters(X, size, None, TrackOptions(min_person_frames=5))
    assert P == 1  # without the body-size check they would be one


def test_short_spurious_tracks_are_dropped_and_empty_input():
    X = np.full((20, 3, 17, 3), np.nan)
    X[5:8, 0] = 0.0
    person, P = track_clusters(X, np.full((20, 3), 2), None, TrackOptions(min_person_frames=10))
    assert P == 0 and (person == -1).all()
    person, P = track_clusters(np.full((0, 2, 17, 3), np.nan), np.zeros((0, 2)), None)
    assert P == 0 and person.shape == (0, 2)


def test_one_frame_ghosts_start_no_person():
    rng = np.random.default_rng(3)
    T = 40
    X = np.full((T, 3, 17, 3), np.nan)
    X[:, 0] = _walk([0, 0, 0], [0.01, 0, 0], T, _body(1.0, rng))
    for t in (5, 17, 30):  # chance intersections of two people's rays, far from anyone
        X[t, 1] = _body(1.0, rng) + rng.uniform(-0.2, 0.2, 3) * [1, 1, 0] + [5, 0, 0]
    size = np.where(np.isfinite(X[..., 0, 0]), 2, 0)
    person, P = track_clusters(X, size, SKEL.bone_index, TrackOptions(min_person_frames=2))
    assert P == 1 and (person[:, 1] == -1).all() and (person[:, 0] == 0).all()
    person, P = track_clusters(X, size, None, TrackOptions(min_person_frames=2,
                                                           min_new_frames=1))
    assert P >= 2  # without the rule the ghosts make a person
