"""The starting pair: the best-conditioned pair whose rotation the other pairs confirm."""
from itertools import combinations

import numpy as np
import pytest

from epicap.calibration_free.pairs import PairGeometry, best_pair, cycle_errors_deg
from epicap.geometry.camera import rotation_from_rodrigues
from epicap.geometry.epipolar import RelativePose


def rig_pairs(C, noise_deg=0.5, seed=0):
    """Pairs {(i, j): PairGeometry} of C cameras with random true rotations, each pair's
    rotation off by noise_deg about a random axis, scores rising with i + j."""
    rng = np.random.default_rng(seed)
    R = rotation_from_rodrigues(rng.normal(size=(C, 3)))
    pairs = {}
    for i, j in combinations(range(C), 2):
        axis = rng.normal(size=3)
        turn = rotation_from_rodrigues(np.radians(noise_deg) * axis / np.linalg.norm(axis))
        pose = RelativePose(True, R=turn @ R[j] @ R[i].T, t=np.array([1.0, 0, 0]))
        pairs[(i, j)] = PairGeometry(i, j, pose, 100, score=float(i + j))
    return R, pairs


def twisted(pair, deg=150.0):
    """The pair with its rotation turned by `deg` (a wrong twin solution)."""
    wrong = rotation_from_rodrigues(np.radians(deg) * np.array([0.0, 0.6, 0.8])) @ pair.pose.R
    return PairGeometry(pair.i, pair.j, RelativePose(True, R=wrong, t=pair.pose.t),
                        pair.num_common, score=pair.score)


def test_cycle_errors_match_the_rotation_noise():
    _, pairs = rig_pairs(5, noise_deg=0.5)
    err = cycle_errors_deg(pairs, 0, 1)
    assert len(err) == 3 and (err < 1.6).all()  # three rotations of 0.5 deg each compose
    pairs[(0, 1)] = twisted(pairs[(0, 1)])
    assert (cycle_errors_deg(pairs, 0, 1) > 100).all()
    # a right pair's cycles through camera 1 use the wrong (0, 1); through 3 and 4 they agree
    assert np.sum(cycle_errors_deg(pairs, 0, 2) < 5) == 2


@pytest.mark.parametrize("C", [4, 5, 11])
def test_a_wrong_best_scored_pair_is_passed_over(C):
    _, pairs = rig_pairs(C)
    top = (C - 2, C - 1)  # the highest score
    assert (best_pair(pairs).i, best_pair(pairs).j) == top
    pairs[top] = twisted(pairs[top])
    chosen = best_pair(pairs)
    assert (chosen.i, chosen.j) != top
    assert chosen.score == max(p.score for k, p in pairs.items() if k != top)


def test_without_a_third_camera_the_score_decides():
    _, pairs = rig_pairs(2)
    pairs[(0, 1)] = twisted(pairs[(0, 1)])
    assert (best_pair(pairs).i, best_pair(pairs).j) == (0, 1)
    _, pairs = rig_pairs(4)
    for key in list(pairs):
        if key != (2, 3):
            pairs[key] = PairGeometry(*key, RelativePose(False, message="too few"), 3)
    assert (best_pair(pairs).i, best_pair(pairs).j) == (2, 3)  # nothing to check it against
    for key in list(pairs):
        pairs[key] = PairGeometry(*key, RelativePose(False, message="too few"), 3)
    assert best_pair(pairs) is None
