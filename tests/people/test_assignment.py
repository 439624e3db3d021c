import numpy as np
import pytest

from epicap.errors import InputError
from epicap.people.assignment import (assign_small, check_assignment, gather, order_people,
                                      person_frames, prominence)


def _dets(C=2, T=3, S=3, J=4, seed=0):
    rng = np.random.default_rng(seed)
    return np.concatenate([rng.uniform(0, 500, (C, T, S, J, 2)),
                           rng.uniform(0.1, 1, (C, T, S, J, 1))], -1).astype(np.float32)


def test_gather_puts_each_slot_at_its_person_against_a_loop():
    d = _dets()
    rng = np.random.default_rng(1)
    a = np.stack([[rng.permutation([-1, 0, 1]) for _ in range(3)] for _ in range(2)])
    out = gather(d, a, 2)
    assert out.shape == (2, 3, 2, 4, 3) and out.dtype == np.float32
    for c in range(2):
        for t in range(3):
            for s in range(3):
                if a[c, t, s] >= 0:
                    np.testing.assert_array_equal(out[c, t, a[c, t, s]], d[c, t, s])


def test_gather_merges_fragments_by_confidence_and_leaves_unseen_missing():
    d = np.full((1, 1, 3, 2, 3), np.nan, np.float32)
    d[..., 2] = 0
    d[0, 0, 0] = [[1, 1, 0.9], [2, 2, 0.2]]
    d[0, 0, 1] = [[5, 5, 0.3], [6, 6, 0.8]]
    out = gather(d, np.array([[[0, 0, -1]]]), 2)
    np.testing.assert_allclose(out[0, 0, 0], [[1, 1, 0.9], [6, 6, 0.8]], rtol=1e-6)
    assert np.isnan(out[0, 0, 1, :, :2]).all() and (out[0, 0, 1, :, 2] == 0).all()


def test_order_people_puts_the_most_seen_first_and_drops_unseen():
    a = np.array([[[0, 2, -1], [2, -1, -1]], [[2, -1, -1], [2, 0, -1]]], dtype=np.int32)
    new, P = order_people(a, 4)
    assert P == 2
    assert (new[a == 2] == 0).all() and (new[a == 0] == 1).all() and (new[a == -1] == -1).all()
    assert person_frames(new, P).sum((0, 1)).tolist() == [4, 2]


def test_prominence_is_body_size_times_mean_confidence_times_share_seen():
    d = _dets(C=2, T=2, S=3, J=4, seed=4)
    d[0, 0, 1, 2:] = (np.nan, np.nan, 0)        # two joints unseen
    d[1, 1, 2] = (np.nan, np.nan, 0)            # an empty slot
    size = np.array([[640, 480], [1920, 1080]])
    w = prominence(d, size)
    assert w.shape == (2, 2, 3) and w[1, 1, 2] == 0
    for c, t, s in np.ndindex(2, 2, 3):        # against the definition, one detection at a time
        seen = d[c, t, s, :, 2] > 0
        if not seen.any():
            continue
        xy = d[c, t, s, seen, :2]
        box = np.hypot(*(xy.max(0) - xy.min(0))) / np.hypot(*size[c])
        expected = box * d[c, t, s, seen, 2].mean() * seen.mean()
        assert w[c, t, s] == pytest.approx(expected, rel=1e-6)


def test_the_main_subject_is_the_most_prominent_not_the_most_seen():
    """A still figure seen from the waist up in every frame of both cameras (small box, half
    the joints, confidence 1: the Pose2Sim two-person trial's OpenPose JSON has one) against a
    participant walking out of one camera for a few frames, seen whole and large."""
    C, T, J = 2, 20, 8
    d = np.full((C, T, 2, J, 3), np.nan, np.float32)
    d[..., 2] = 0
    d[:, :, 0, :4] = np.stack([np.full(4, 300.0), np.linspace(200, 300, 4), np.ones(4)], -1)
    walker = np.stack([np.full(J, 600.0), np.linspace(100, 700, J), np.full(J, 0.6)], -1)
    d[:, :, 1] = walker
    d[1, 15:, 1] = (np.nan, np.nan, 0)          # out of camera 2's view at the end
    a = np.where(d[..., 2].max(-1) > 0, np.array([0, 1])[None, None], -1).astype(np.int32)
    size = np.array([[1280, 720], [1280, 720]])
    # counted by camera-frames, the figure (40) comes before the participant (35)
    assert (order_people(a, 2)[0][a >= 0] == a[a >= 0]).all()
    new, P = order_people(a, 2, prominence(d, size))
    assert P == 2 and (new[:, :, 1][a[:, :, 1] >= 0] == 0).all() and (new[:, :, 0] == 1).all()


@pytest.mark.parametrize("a, message", [
    (np.zeros((2, 3, 3), np.float32), "integers"),
    (np.zeros((2, 3), np.int32), "assignment"),
    (np.full((2, 3, 3), 5, np.int32), "-1..1"),
    (np.full((2, 3, 3), -2, np.int32), "-1..1"),
])
def test_bad_assignments_fail_in_one_line(a, message):
    with pytest.raises(InputError, match=message) as e:
        check_assignment(a, (2, 3, 3), 2)
    assert "\n" not in str(e.value)
    with pytest.raises(InputError):
        gather(_dets(), a, 2)


@pytest.mark.parametrize("R, P", [(3, 3), (2, 5), (5, 2)])
def test_assign_small_matches_the_hungarian_algorithm_problem_by_problem(R, P):
    from scipy.optimize import linear_sum_assignment

    rng = np.random.default_rng(R * 10 + P)
    cost = rng.uniform(0, 3, (400, R, P))
    cost[rng.random(cost.shape) < 0.2] = np.nan  # forbidden entries
    limit = 2.0
    out = assign_small(cost, limit)
    assert out.shape == (400, R) and out.dtype == np.int32
    clashes = 0
    for b in range(400):
        ok = np.isfinite(cost[b]) & (cost[b] <= limit)
        r, p = linear_sum_assignment(np.where(ok, cost[b], 1e6))
        good = ok[r, p]
        want_n, want_cost = good.sum(), cost[b][r[good], p[good]].sum()
        mine = out[b] >= 0
        rows = np.flatnonzero(mine)
        assert ok[rows, out[b][mine]].all()  # only allowed pairs
        assert len(set(out[b][mine].tolist())) == mine.sum()  # one row per column
        assert mine.sum() == want_n
        assert cost[b][rows, out[b][mine]].sum() == pytest.approx(want_cost)
        ok_rows = ok.any(1)
        best = np.where(ok, cost[b], np.inf).argmin(1)
        clashes += len(set(best[ok_rows].tolist())) < ok_rows.sum()
    assert clashes > 20  # the Hungarian fallback was exercised, not only the greedy path


def test_assign_small_with_nothing_to_assign():
    assert assign_small(np.zeros((0, 3, 3)), 1.0).shape == (0, 3)
    assert (assign_small(np.full((2, 3, 2), np.inf), 1.0) == -1).all()
